"""Shared fixtures: where the real datasets are (tests needing one are skipped when it is absent), a local
HTTP server so download tests never touch the internet, a quiet, repeatable torch, and kill -9."""
from __future__ import annotations

import http.server
import os
import threading
from functools import partial
from pathlib import Path
from typing import Iterator

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``$TRAINLAB_DATA`` if set, else ``../shared/data`` beside the checkout."""
    env = os.environ.get("TRAINLAB_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("real datasets not found: set TRAINLAB_DATA or put shared/data beside the checkout")
    return path


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """``$TRAINLAB_DATA``, else ``<repo>/../shared/data``; skip the test if absent."""
    root = Path(os.environ.get("TRAINLAB_DATA") or REPO.parent / "shared" / "data")
    if not root.is_dir():
        pytest.skip(f"real datasets not found at {root}; set TRAINLAB_DATA to run this test")
    return root


def _holding(root: Path, folder: str) -> Path:
    """``root`` if it holds ``folder``, else skip the test naming what is missing."""
    if not (root / folder).is_dir():
        pytest.skip(f"{folder}/ not found in {root}; set TRAINLAB_DATA to run this test")
    return root


@pytest.fixture
def mnist_root(real_data_dir: Path) -> Path:
    return _holding(real_data_dir, "mnist")


@pytest.fixture
def fashion_root(real_data_dir: Path) -> Path:
    return _holding(real_data_dir, "fashion-mnist")


@pytest.fixture
def cifar_subset_root(real_data_dir: Path) -> Path:
    return _holding(real_data_dir, "cifar-10-subset")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served on 127.0.0.1 and its base URL."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _repeatable_torch():
    torch.manual_seed(0)
    yield


@pytest.fixture
def kill_9_after():
    """``kill_9_after(argv, path)``: run ``trainlab argv`` in a subprocess and SIGKILL it as soon as
    ``path`` (a checkpoint) appears, as a crash or the OOM killer would."""
    import signal
    import subprocess
    import sys
    import time

    def run(argv: list[str], path: Path) -> None:
        victim = subprocess.Popen([sys.executable, "-m", "trainlab", *argv],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not path.exists() and time.time() < deadline and victim.poll() is None:
            time.sleep(0.005)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
    return run

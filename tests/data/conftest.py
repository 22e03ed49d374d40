"""Fixtures for the data tests: the real datasets (skipped when absent) and a
local HTTP server, so download tests never touch the internet."""
from __future__ import annotations

import http.server
import os
import threading
from functools import partial
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]


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

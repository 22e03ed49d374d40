"""Shared fixtures: where the real datasets are, and a quiet, repeatable torch."""
from __future__ import annotations

import os
from pathlib import Path

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

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

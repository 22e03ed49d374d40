"""Writing files so that a crash never leaves half of one, and reading torch files safely.

Every file trainlab writes for later (configurations, summaries, checkpoints,
reports) goes through a temporary file and ``os.replace``, so a reader sees the
old version or the new one, never a torn one. Torch files are read with
``weights_only=True``: tensors, numbers and containers, never arbitrary pickles.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from trainlab.errors import CheckpointError


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        torch.save(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_torch_file(path: Path, *, fix: str) -> Any:
    """``path``'s contents (``weights_only``); a damaged file is a :class:`CheckpointError` ending in ``fix``."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path} is corrupt or unreadable ({type(exc).__name__}); {fix}") from None

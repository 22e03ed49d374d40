"""Writing files so that a crash never leaves half of one, and reading torch files safely.

Every file trainlab writes for later (configurations, summaries, checkpoints,
reports) goes through a temporary file and ``os.replace``, so a reader sees the
old version or the new one, never a torn one. Torch files are read with
``weights_only=True``: tensors, numbers and containers, never arbitrary pickles.
Checkpoints also carry a SHA-256 of their contents (:func:`save_checked`), so
a byte changed on disk after writing is refused instead of silently trained on.
"""
from __future__ import annotations

import hashlib
import math
import os
import struct
from pathlib import Path
from typing import Any

import torch

from trainlab.errors import CheckpointError

DIGEST_KEY = "sha256"
"""The key under which :func:`save_checked` stores a state's digest beside its other keys."""


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


def state_digest(state: Any) -> str:
    """SHA-256 over ``state``'s structure, its plain values and every tensor's dtype, shape and bytes.

    Dictionaries are hashed in insertion order, which ``torch.save`` and
    ``torch.load`` preserve, so a saved state hashes the same once loaded.
    """
    h = hashlib.sha256()
    _feed(h, state)
    return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(value, dict):
        h.update(b"D%d" % len(value))
        for key, item in value.items():
            _feed(h, key)
            _feed(h, item)
    elif isinstance(value, (list, tuple)):
        h.update(b"L%d" % len(value) if isinstance(value, list) else b"U%d" % len(value))
        for item in value:
            _feed(h, item)
    elif isinstance(value, float):
        h.update(b"F" + struct.pack("<d", value))
    else:  # int, bool, str, None, and the few other types weights_only allows
        h.update(f"{type(value).__name__}:{value!r};".encode())


def save_checked(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` atomically with its :func:`state_digest` under :data:`DIGEST_KEY`."""
    atomic_torch_save({**state, DIGEST_KEY: state_digest(state)}, path)


def load_checked(path: Path, *, fix: str) -> Any:
    """Read a file :func:`save_checked` wrote and verify its digest (files written before digests load as they are)."""
    state = load_torch_file(path, fix=fix)
    if isinstance(state, dict) and DIGEST_KEY in state:
        state = dict(state)
        stored = state.pop(DIGEST_KEY)
        if stored != state_digest(state):
            raise CheckpointError(f"{path} fails its SHA-256 check: its contents changed after it was written "
                                  f"(a damaged disk or copy); {fix}")
    return state


def jsonable(value: Any) -> Any:
    """Numbers and containers as JSON allows: non-finite floats become ``None``, tuples lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy / torch scalars
        return jsonable(value.item())
    return value

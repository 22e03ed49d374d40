"""The user's own model and data on the command line: ``--model my_net.py:build``, ``--data arrays.npz``.

A model is a factory in a Python file, called with no arguments, that returns an ``nn.Module``
(the file is the user's own code and runs as such). Data are arrays ``x`` (inputs) and ``y``
(integer class labels), optionally ``x_val`` and ``y_val``, in an ``.npz`` file (read with
``allow_pickle=False``) or a ``.pt`` file of tensors (read with ``weights_only=True``): neither
can run code hidden in the data.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from trainlab.data.base import Split
from trainlab.errors import UserError

KEYS = ("x", "y", "x_val", "y_val")


def is_model_file(spec: str | None) -> bool:
    """``FILE.py:NAME`` rather than a built-in model's name."""
    return isinstance(spec, str) and ".py:" in spec


def load_model(spec: str) -> nn.Module:
    """Call the factory ``NAME`` of ``FILE.py`` (``spec`` is ``FILE.py:NAME``) and return its module."""
    path_text, _, name = spec.rpartition(":")
    path = Path(path_text)
    if not name.isidentifier():
        raise UserError(f"--model {spec}: after the colon give the name of a function in the file, e.g. "
                        f"{path_text}:build")
    if not path.is_file():
        raise UserError(f"--model {spec}: there is no file {path}")
    module_name = f"trainlab_user_model_{abs(hash(str(path.resolve())))}"
    loader = importlib.util.spec_from_file_location(module_name, path)
    if loader is None or loader.loader is None:
        raise UserError(f"--model {spec}: {path} cannot be imported as Python")
    module = importlib.util.module_from_spec(loader)
    sys.modules[module_name] = module
    try:
        loader.loader.exec_module(module)
    except Exception as exc:
        raise UserError(f"--model {spec}: importing {path} failed: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        found = sorted(k for k, v in vars(module).items() if callable(v) and not k.startswith("_"))
        raise UserError(f"--model {spec}: {path} has no function {name!r}"
                        + (f"; it defines {', '.join(found[:8])}" if found else ""))
    try:
        model = factory()
    except Exception as exc:
        raise UserError(f"--model {spec}: {name}() failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(model, nn.Module):
        raise UserError(f"--model {spec}: {name}() must return a torch.nn.Module, got {type(model).__name__}")
    return model


def load_arrays(path_text: str) -> tuple[Split, Split | None]:
    """The training split and, when the file has ``x_val``/``y_val``, the validation split."""
    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"--data {path}: no such file")
    arrays = _npz(path) if path.suffix == ".npz" else _pt(path) if path.suffix in (".pt", ".pth") else None
    if arrays is None:
        raise UserError(f"--data {path}: give an .npz file of arrays or a .pt file of tensors")
    missing = [k for k in ("x", "y") if k not in arrays]
    if missing:
        raise UserError(f"--data {path} has no {' or '.join(missing)}: it needs arrays x (inputs) and y (class "
                        f"labels), optionally x_val and y_val; it holds {', '.join(sorted(arrays)) or 'nothing'}")
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise UserError(f"--data {path}: give both x_val and y_val, or neither")
    train = _split(path, arrays["x"], arrays["y"], "x", "y")
    val = _split(path, arrays["x_val"], arrays["y_val"], "x_val", "y_val") if "x_val" in arrays else None
    return train, val


def _npz(path: Path) -> dict[str, Any]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files if k in KEYS}
    except ValueError as exc:  # object arrays need pickles, which are refused
        raise UserError(f"--data {path}: {exc}; save plain numeric arrays") from None
    except Exception as exc:
        raise UserError(f"--data {path} is not a readable .npz file ({type(exc).__name__})") from None


def _pt(path: Path) -> dict[str, Any]:
    from trainlab.files import load_torch_file

    try:
        data = load_torch_file(path, fix="save a dict of tensors with torch.save({'x': x, 'y': y}, path)")
    except Exception as exc:
        raise UserError(str(exc)) from None
    if not isinstance(data, dict):
        raise UserError(f"--data {path} holds a {type(data).__name__}; save a dict of tensors {{'x': ..., 'y': ...}}")
    return {k: v for k, v in data.items() if k in KEYS}


def _split(path: Path, x: Any, y: Any, x_name: str, y_name: str) -> Split:
    try:
        x_t, y_t = torch.as_tensor(x), torch.as_tensor(y)
    except Exception as exc:
        raise UserError(f"--data {path}: {x_name}/{y_name} are not numeric arrays ({exc})") from None
    if y_t.ndim != 1 or y_t.is_floating_point() or y_t.is_complex() or y_t.dtype == torch.bool:
        raise UserError(f"--data {path}: {y_name} must be a 1-D array of integer class labels, got {y_t.dtype} of "
                        f"shape {tuple(y_t.shape)}")
    if x_t.ndim < 2 or len(x_t) != len(y_t):
        raise UserError(f"--data {path}: {x_name} must hold one row per label: {x_name} has shape "
                        f"{tuple(x_t.shape)}, {y_name} has {len(y_t)} labels")
    if not (x_t.is_floating_point() or x_t.dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)):
        raise UserError(f"--data {path}: {x_name} must be numeric, got {x_t.dtype}")
    return Split(x_t.float(), y_t.long())

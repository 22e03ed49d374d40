"""Helpers shared by several test folders."""
from __future__ import annotations

from typing import Callable

import torch


def centered(f: Callable[[torch.Tensor], float], W: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    """The centered-difference gradient of ``f`` at ``W``, one coordinate at a time."""
    grad = torch.zeros_like(W)
    for idx in range(W.numel()):
        Wp, Wm = W.clone(), W.clone()
        Wp.view(-1)[idx] += h
        Wm.view(-1)[idx] -= h
        grad.view(-1)[idx] = (f(Wp) - f(Wm)) / (2 * h)
    return grad

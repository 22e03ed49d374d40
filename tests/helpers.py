"""Helpers shared by several test folders: small in-memory datasets, a reference numerical gradient,
a callback that presses Ctrl-C."""
from __future__ import annotations

import os
import signal
from typing import Callable

import torch

from trainlab.data.base import Dataset, Split
from trainlab.loop import Callback


def centered(f: Callable[[torch.Tensor], float], W: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    """The centered-difference gradient of ``f`` at ``W``, one coordinate at a time."""
    grad = torch.zeros_like(W)
    for idx in range(W.numel()):
        Wp, Wm = W.clone(), W.clone()
        Wp.view(-1)[idx] += h
        Wm.view(-1)[idx] -= h
        grad.view(-1)[idx] = (f(Wp) - f(Wm)) / (2 * h)
    return grad


def blobs(n_train: int = 1200, n_eval: int = 300, *, classes: int = 3, dim: int = 12, seed: int = 0) -> Dataset:
    """Gaussian blobs: class c is centred at 2.5 * e_c in ``dim`` dimensions."""
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> Split:
        y = torch.randint(0, classes, (n,), generator=g)
        x = torch.randn(n, dim, generator=g) + 2.5 * torch.nn.functional.one_hot(y, dim).float()
        return Split(x, y)

    return Dataset("blobs", split(n_train), split(n_eval), split(n_eval), classes, (dim,))



class InterruptAt(Callback):
    """Sends this process SIGINT at a given step, as Ctrl-C would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer, step, loss):
        if step == self.step:
            os.kill(os.getpid(), signal.SIGINT)

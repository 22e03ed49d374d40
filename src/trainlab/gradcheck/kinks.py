"""Kinks: points where the objective is not differentiable.

A finite difference straddling a kink (a ReLU input, a max-pool choice or an
SVM hinge changing inside ``x +- h``) measures a mix of two slopes, so its error
says nothing about the analytic gradient. :class:`KinkRecorder` records, on
every forward, the *pattern* of each kink-capable module's input (which side of
each kink every element is on); a coordinate whose perturbed forward gives a
different pattern from the unperturbed one crossed a kink.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from trainlab import losses
from trainlab.linear.losses import svm_margins, svm_scores_loss

Pattern = Callable[[nn.Module, torch.Tensor], torch.Tensor]


def _positive(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x > 0


def _clamped(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x > module.min_val, x < module.max_val])


def _pool(fn) -> Pattern:
    def pattern(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return fn(x, module.kernel_size, module.stride, module.padding, module.dilation,
                  ceil_mode=module.ceil_mode, return_indices=True)[1]
    return pattern


# Looked up along the module's class hierarchy (ReLU6 is a Hardtanh).
KINK_MODULES: dict[type[nn.Module], Pattern] = {
    nn.ReLU: _positive,
    nn.LeakyReLU: _positive,
    nn.PReLU: _positive,
    nn.Hardtanh: _clamped,
    nn.MaxPool1d: _pool(F.max_pool1d),
    nn.MaxPool2d: _pool(F.max_pool2d),
    nn.MaxPool3d: _pool(F.max_pool3d),
}


def _hinge(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return svm_margins(scores, y) > 0


# Losses with kinks, by function: the pattern of their hinge arguments.
KINK_LOSSES: dict[Callable, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    losses.svm_loss: _hinge,
    svm_scores_loss: _hinge,
}


def module_pattern(module: nn.Module) -> Pattern | None:
    for cls in type(module).__mro__:
        if cls in KINK_MODULES:
            return KINK_MODULES[cls]
    return None


class KinkRecorder:
    """Forward hooks that keep the kink patterns of the latest forward pass."""

    def __init__(self, model: nn.Module) -> None:
        self.sites = [(name, module, fn) for name, module in model.named_modules()
                      if (fn := module_pattern(module)) is not None]
        self.patterns: dict[str, list[torch.Tensor]] = {}

    def clear(self) -> None:
        self.patterns = {}

    def snapshot(self) -> dict[str, list[torch.Tensor]]:
        taken, self.patterns = self.patterns, {}
        return taken

    @contextmanager
    def recording(self) -> Iterator["KinkRecorder"]:
        def hook(name: str, fn: Pattern):
            def record(module: nn.Module, inputs: tuple) -> None:
                self.patterns.setdefault(name, []).append(fn(module, inputs[0].detach()))
            return record

        handles = [module.register_forward_pre_hook(hook(name, fn)) for name, module, fn in self.sites]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()


def crossed(a: dict[str, list[torch.Tensor]], b: dict[str, list[torch.Tensor]]) -> bool:
    """Whether two recorded pattern sets differ anywhere (a kink was crossed)."""
    if a.keys() != b.keys():
        return True
    return any(len(pa) != len(pb) or any(not torch.equal(x, z) for x, z in zip(pa, pb))
               for pa, pb in ((a[k], b[k]) for k in a))

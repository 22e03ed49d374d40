"""Optimizers and learning-rate schedules by name: the one registry every loop builds from.

``sgd`` and ``momentum`` are one update rule, ``torch.optim.SGD`` (dampening 0,
no Nesterov), differing only in the momentum used when none is given (0 and
0.9); ``adam`` is ``torch.optim.Adam`` with its default betas and eps (Kingma &
Ba 2015). Weight decay is not an optimizer setting here: it is the L2 term of
the loss (:func:`trainlab.losses.l2_term`). The population engine's stacked
optimizers (:mod:`trainlab.population.optim`) are registered under the same
names and use the same ``family``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import torch

from trainlab.errors import choose


@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer name: its update rule (``family``), default momentum and help text."""

    family: str
    default_momentum: float
    help: str

    def build(self, params: Iterable[torch.Tensor], *, lr: float, momentum: float) -> torch.optim.Optimizer:
        if self.family == "adam":
            return torch.optim.Adam(params, lr=lr)
        return torch.optim.SGD(params, lr=lr, momentum=momentum)


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "sgd": OptimizerEntry("sgd", 0.0, "plain SGD (momentum 0 unless --momentum)"),
    "momentum": OptimizerEntry("sgd", 0.9, "SGD with momentum 0.9 (or --momentum)"),
    "adam": OptimizerEntry("adam", 0.0, "Adam, torch's default betas and eps"),
}
"""Optimizer name -> its entry."""


def optimizer_entry(name: str) -> OptimizerEntry:
    return OPTIMIZERS[choose("optimizer", name, tuple(OPTIMIZERS))]


def effective_momentum(name: str, momentum: float | None) -> float:
    """The momentum ``name`` trains with: the given value, else the optimizer's default."""
    return optimizer_entry(name).default_momentum if momentum is None else momentum


def make_optimizer(name: str, params: Iterable[torch.Tensor], *, lr: float,
                   momentum: float | None = None) -> torch.optim.Optimizer:
    """The named optimizer over the parameters of ``params`` that require gradients."""
    trainable = [p for p in params if p.requires_grad]
    return optimizer_entry(name).build(trainable, lr=lr, momentum=effective_momentum(name, momentum))


def constant_lr(lr: float, step: int, *, every: int, gamma: float) -> float:
    """``lr`` at every step."""
    return lr


def step_lr(lr: float, step: int, *, every: int, gamma: float) -> float:
    """``lr * gamma ** floor(step / every)``: decay by ``gamma`` every ``every`` steps."""
    return lr * gamma ** (step // every)


SCHEDULES: dict[str, Callable[..., float]] = {"constant": constant_lr, "step": step_lr}
"""Learning-rate schedule name -> ``f(lr, step, every=, gamma=)``."""

"""Short training runs on copies of the model, for the checks that train.

Optimizers come from :mod:`trainlab.optimizers` and L2 regularization is
:func:`trainlab.losses.l2_term` over :func:`trainlab.losses.l2_weights`, as in
every training loop of trainlab.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn

from trainlab.doctor.patient import LossFn, Recipe
from trainlab.losses import l2_term, l2_weights, squared_norm
from trainlab.nn.modes import eval_mode
from trainlab.optimizers import make_optimizer as make_named_optimizer


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    return make_named_optimizer(recipe.optimizer, model.parameters(), lr=recipe.lr, momentum=recipe.momentum)


def weight_tensors(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The named tensors L2 regularization applies to (:func:`trainlab.losses.l2_weights`)."""
    ids = {id(w) for w in l2_weights(model)}
    return [(name, p) for name, p in model.named_parameters() if id(p) in ids]


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """``0.5 * sum ||W||^2`` over :func:`weight_tensors` (the L2 term at lambda = 1)."""
    return l2_term(squared_norm(l2_weights(model)), 1.0)


def regularization_off(model: nn.Module) -> nn.Module:
    """Train mode, except dropout layers, which are put in evaluation mode (no dropping)."""
    model.train()
    for m in model.modules():
        if isinstance(m, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
            m.eval()
    return model


@dataclass
class Fit:
    """The losses of a short run (objective including the L2 term), and whether it diverged."""

    losses: list[float] = field(default_factory=list)
    diverged: bool = False

    @property
    def steps(self) -> int:
        return len(self.losses)


StepHook = Callable[[int, nn.Module, torch.Tensor], bool | None]


def fit(model: nn.Module, loss_fn: LossFn, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], recipe: Recipe,
        *, before_step: Callable[[int, nn.Module], None] | None = None, after_step: StepHook | None = None,
        regularize: bool = True, optimizer: torch.optim.Optimizer | None = None) -> Fit:
    """Train ``model`` in place on ``batches``; ``after_step`` returning True stops early.

    A non-finite loss ends the run with ``diverged = True`` (an outcome, not an error).
    ``regularize=False`` also turns dropout off (see :func:`regularization_off`). ``optimizer``
    defaults to a fresh one made from ``recipe``.
    """
    if regularize:
        model.train()
    else:
        regularization_off(model)
    optimizer = optimizer or make_optimizer(model, recipe)
    out = Fit()
    for step, (x, y) in enumerate(batches):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        if recipe.weight_decay:
            loss = loss + l2_term(squared_norm(l2_weights(model)), recipe.weight_decay)
        value = float(loss.detach())
        out.losses.append(value)
        if not math.isfinite(value):
            out.diverged = True
            break
        loss.backward()
        if before_step is not None:
            before_step(step, model)
        optimizer.step()
        if after_step is not None and after_step(step, model, loss.detach()):
            break
    return out


@torch.no_grad()
def measure(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor,
            batch: int = 2048) -> tuple[float, float]:
    """Mean loss and accuracy in evaluation mode (each module's mode is restored, dropout-off included)."""
    total, correct = 0.0, 0
    with eval_mode(model):
        for start in range(0, len(y), batch):
            scores = model(x[start:start + batch])
            yb = y[start:start + batch]
            total += float(loss_fn(scores, yb)) * len(yb)
            correct += int((scores.argmax(1) == yb).sum())
    n = max(len(y), 1)
    return total / n, correct / n

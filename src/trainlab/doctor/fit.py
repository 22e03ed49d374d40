"""Short training runs on copies of the model, for the checks that train.

L2 regularization is the loss term ``0.5 * lambda * sum ||W||^2`` over the
weight tensors (parameters with two or more dimensions: weight matrices and
convolution kernels, not biases or normalization parameters), as in
:class:`trainlab.config.TrainConfig` and the CS231n notes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
from torch import nn

from trainlab.doctor.patient import LossFn, Recipe

OPTIMIZER_FACTORIES: dict[str, Callable[[list[nn.Parameter], Recipe], torch.optim.Optimizer]] = {
    "sgd": lambda params, r: torch.optim.SGD(params, lr=r.lr, momentum=r.momentum),
    "momentum": lambda params, r: torch.optim.SGD(params, lr=r.lr, momentum=r.momentum or 0.9),
    "adam": lambda params, r: torch.optim.Adam(params, lr=r.lr),
}


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    return OPTIMIZER_FACTORIES[recipe.optimizer](params, recipe)


def weight_tensors(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """Trainable parameters with two or more dimensions: the tensors L2 regularization applies to."""
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """``0.5 * sum ||W||^2`` over :func:`weight_tensors`."""
    weights = [p for _, p in weight_tensors(model)]
    if not weights:
        return torch.zeros(())
    return 0.5 * sum(w.pow(2).sum() for w in weights)


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
            loss = loss + recipe.weight_decay * l2_penalty(model)
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
def measure(model: nn.Module, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, batch: int = 2048) -> tuple[float, float]:
    """Mean loss and accuracy in evaluation mode (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    for start in range(0, len(y), batch):
        scores = model(x[start:start + batch])
        yb = y[start:start + batch]
        total += float(loss_fn(scores, yb)) * len(yb)
        correct += int((scores.argmax(1) == yb).sum())
    model.train(was_training)
    n = max(len(y), 1)
    return total / n, correct / n

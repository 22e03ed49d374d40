"""Optimizer updates vectorized over population members, with torch.optim's arithmetic.

Every hyperparameter is a ``[K]`` tensor, broadcast over each stacked parameter.

* SGD with momentum ``mu`` (``torch.optim.SGD``, dampening 0, no Nesterov):
  ``b <- mu * b + g``, ``w <- w - lr * b`` (``mu = 0`` is plain SGD: ``b = g``).
* Adam (Kingma & Ba 2015; ``torch.optim.Adam`` defaults, betas (0.9, 0.999),
  eps 1e-8): ``m <- m + (1 - b1)(g - m)``, ``v <- b2 v + (1 - b2) g^2``,
  ``w <- w - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.

Weight decay is not here: as in every loop it is an L2 term of the loss.
:data:`STACKED_OPTIMIZERS` registers them under the names of
:data:`trainlab.optimizers.OPTIMIZERS`, by the same update rule (``family``).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Protocol

import torch

from trainlab.errors import choose
from trainlab.optimizers import OPTIMIZERS


def per_member(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """View a ``[K]`` tensor so it broadcasts against ``like [K, ...]``."""
    return value.view(-1, *([1] * (like.dim() - 1)))


class StackedOptimizer(Protocol):
    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor], lr: torch.Tensor) -> None: ...
    def select(self, keep: torch.Tensor) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...
    def member_state(self, position: int) -> list[dict[str, torch.Tensor] | None]: ...


class StackedSGD:
    """SGD with a per-member momentum (0 for plain SGD)."""

    def __init__(self, params: list[torch.Tensor], momentum: torch.Tensor) -> None:
        self.momentum = momentum
        self.buffers = [torch.zeros_like(p) for p in params] if bool((momentum > 0).any()) else None

    @torch.no_grad()
    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor], lr: torch.Tensor) -> None:
        for i, (p, g) in enumerate(zip(params, grads)):
            if self.buffers is not None:
                b = self.buffers[i]
                b.mul_(per_member(self.momentum, b)).add_(g)
                g = b
            p.addcmul_(per_member(-lr, p), g)

    def select(self, keep: torch.Tensor) -> None:
        self.momentum = self.momentum[keep]
        if self.buffers is not None:
            self.buffers = [b[keep] for b in self.buffers]

    def state_dict(self) -> dict[str, Any]:
        return {"buffers": self.buffers}

    def member_state(self, position: int) -> list[dict[str, torch.Tensor] | None]:
        """``torch.optim.SGD``'s per-parameter state of one member (no buffer without momentum)."""
        if self.buffers is None or float(self.momentum[position]) == 0:
            return [None] * (len(self.buffers) if self.buffers is not None else 0)
        return [{"momentum_buffer": b[position].detach().clone().cpu()} for b in self.buffers]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffers = state["buffers"]


class StackedAdam:
    """Adam with per-member learning rates and torch's default betas and eps."""

    def __init__(self, params: list[torch.Tensor], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.betas, self.eps, self.t = betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor], lr: torch.Tensor) -> None:
        b1, b2 = self.betas
        self.t += 1
        correction1 = 1 - b1 ** self.t
        correction2_sqrt = math.sqrt(1 - b2 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / correction2_sqrt).add_(self.eps)
            p.addcmul_(per_member(-lr / correction1, p), m / denom)

    def select(self, keep: torch.Tensor) -> None:
        self.m = [m[keep] for m in self.m]
        self.v = [v[keep] for v in self.v]

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, "m": self.m, "v": self.v}

    def member_state(self, position: int) -> list[dict[str, torch.Tensor] | None]:
        """``torch.optim.Adam``'s per-parameter state of one member."""
        return [{"step": torch.tensor(float(self.t)), "exp_avg": m[position].detach().clone().cpu(),
                 "exp_avg_sq": v[position].detach().clone().cpu()} for m, v in zip(self.m, self.v)]

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t, self.m, self.v = state["t"], state["m"], state["v"]


STACKED_FAMILIES: dict[str, Callable[[list[torch.Tensor], torch.Tensor], StackedOptimizer]] = {
    "sgd": lambda params, momentum: StackedSGD(params, momentum),
    "adam": lambda params, momentum: StackedAdam(params),
}
"""Update rule (an optimizer's ``family``) -> ``build(params, momentum [K])``."""

STACKED_OPTIMIZERS = {name: STACKED_FAMILIES[entry.family] for name, entry in OPTIMIZERS.items()}
"""Optimizer name -> its stacked form, under the same names as the lone optimizers."""


def make_stacked_optimizer(name: str, params: list[torch.Tensor], momentum: torch.Tensor) -> StackedOptimizer:
    """The stacked form of the optimizer ``name``; ``momentum`` is each member's (ignored by Adam)."""
    return STACKED_OPTIMIZERS[choose("optimizer", name, tuple(STACKED_OPTIMIZERS))](params, momentum)

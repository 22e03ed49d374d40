"""Optimization strategies for a linear classifier (CS231n optimization notes).

From worst to best, as the notes build them up, all on ``scores = X W`` with the
bias trick (:func:`trainlab.linear.losses.append_bias`) and the hand-derived losses
of :mod:`trainlab.linear.losses`:

1. :func:`random_search`: try N random weight matrices, keep the best;
2. :func:`random_local_search`: perturb the current W, keep the step if the loss drops;
3. :func:`gradient_descent`: follow the analytic gradient; ``batch_size=0`` is full-batch
   gradient descent, a power of two mini-batch SGD, ``1`` single-example SGD.

:func:`lr_sweep` runs gradient descent at several step sizes: too small and the
loss stays flat, too large and it diverges (recorded as ``status="diverged"``,
never raised). Every function is seeded by ``seed`` alone.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from trainlab.errors import UserError
from trainlab.linear.losses import SCORE_LOSSES, get_grad_loss


@dataclass(frozen=True)
class LinearProblem:
    """Training data with the bias column, labels, the loss name and the L2 strength ``reg``."""

    X: torch.Tensor
    y: torch.Tensor
    num_classes: int
    loss: str = "svm"
    reg: float = 0.0

    def __post_init__(self) -> None:
        get_grad_loss(self.loss)
        if self.X.dim() != 2 or len(self.X) != len(self.y):
            raise UserError(f"expected X [N, D] and y [N], got {tuple(self.X.shape)} and {tuple(self.y.shape)}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.X.shape[1], self.num_classes

    def value(self, W: torch.Tensor) -> float:
        return float(SCORE_LOSSES[self.loss](self.X @ W, self.y) + 0.5 * self.reg * (W * W).sum())

    def values(self, Ws: torch.Tensor) -> torch.Tensor:
        """Losses of a stack of weight matrices ``[T, D, C]`` in one matrix product."""
        t, d, c = Ws.shape
        scores = (self.X @ Ws.permute(1, 0, 2).reshape(d, t * c)).reshape(-1, t, c).transpose(0, 1)
        return SCORE_LOSSES[self.loss](scores, self.y) + 0.5 * self.reg * Ws.pow(2).sum((1, 2))


def accuracy(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of examples whose highest score is the true class."""
    return float(((X @ W).argmax(1) == y).double().mean())


@dataclass
class Trace:
    """One optimization run: the loss after every iteration and the final weights."""

    strategy: str
    W: torch.Tensor
    losses: list[float]
    status: str = "completed"  # or "diverged"
    seconds: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        return len(self.losses)

    @property
    def final_loss(self) -> float:
        return self.losses[-1] if self.losses else math.nan


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def random_search(problem: LinearProblem, *, tries: int = 1000, scale: float = 1e-4, seed: int = 0,
                  chunk: int = 50) -> Trace:
    """Keep the best of ``tries`` matrices ``W_t = scale * randn(D, C)`` (drawn in order
    from one generator seeded by ``seed``); ``losses[t]`` is the best loss after try t."""
    if tries < 1:
        raise UserError(f"random search needs tries >= 1, got {tries}")
    started, g = time.perf_counter(), _generator(seed)
    d, c = problem.shape
    best_loss, best_W, losses = math.inf, None, []
    for start in range(0, tries, chunk):
        Ws = torch.stack([scale * torch.randn(d, c, generator=g, dtype=problem.X.dtype)
                          for _ in range(min(chunk, tries - start))])
        for W, value in zip(Ws, problem.values(Ws).tolist()):
            if value < best_loss:
                best_loss, best_W = value, W
            losses.append(best_loss)
    return Trace("random search", best_W, losses, seconds=time.perf_counter() - started,
                 settings={"tries": tries, "scale": scale, "seed": seed})


def random_local_search(problem: LinearProblem, *, iterations: int = 1000, init_scale: float = 1e-3,
                        step_scale: float = 1e-4, seed: int = 0) -> Trace:
    """From ``W0 = init_scale * randn``, try ``W + step_scale * randn`` and keep it if the loss drops."""
    started, g = time.perf_counter(), _generator(seed)
    d, c = problem.shape
    W = init_scale * torch.randn(d, c, generator=g, dtype=problem.X.dtype)
    current, losses = problem.value(W), []
    for _ in range(iterations):
        candidate = W + step_scale * torch.randn(d, c, generator=g, dtype=W.dtype)
        value = problem.value(candidate)
        if value < current:
            W, current = candidate, value
        losses.append(current)
    return Trace("random local search", W, losses, seconds=time.perf_counter() - started,
                 settings={"iterations": iterations, "init_scale": init_scale, "step_scale": step_scale, "seed": seed})


STRATEGY_NAMES = {0: "gradient descent (full batch)", 1: "SGD (single example)"}


def gradient_descent(problem: LinearProblem, *, lr: float, iterations: int, batch_size: int = 0,
                     init_scale: float = 1e-3, seed: int = 0, divergence_factor: float = 3.0,
                     W0: torch.Tensor | None = None) -> Trace:
    """``W <- W - lr * dW`` with the analytic gradient of a batch.

    ``batch_size`` 0 uses all examples (gradient descent); otherwise each step
    draws a batch without replacement within a seeded epoch permutation
    (mini-batch SGD; 1 is single-example SGD). ``losses`` are the batch losses.
    A non-finite loss, or a mean loss over the last ``window`` steps (1 for full
    batch, else 20: batch losses are noisy) above ``divergence_factor`` times
    the full-data loss at the start, ends the run with ``status = "diverged"``.
    """
    n = len(problem.y)
    if not lr > 0:
        raise UserError(f"the learning rate must be > 0, got {lr}")
    if batch_size < 0 or batch_size > n:
        raise UserError(f"batch size must be 0 (full batch) or 1..{n}, got {batch_size}")
    started, g = time.perf_counter(), _generator(seed)
    d, c = problem.shape
    W = W0.clone() if W0 is not None else init_scale * torch.randn(d, c, generator=g, dtype=problem.X.dtype)
    grad = get_grad_loss(problem.loss)
    size = batch_size or n
    order, pos = torch.arange(n), n
    losses: list[float] = []
    window = 1 if size == n else 20
    initial = max(problem.value(W), 1e-12)
    status = "completed"
    for _ in range(iterations):
        if size < n:
            if pos + size > n:
                order, pos = torch.randperm(n, generator=g), 0
            idx, pos = order[pos:pos + size], pos + size
            X, y = problem.X[idx], problem.y[idx]
        else:
            X, y = problem.X, problem.y
        loss, dW = grad(W, X, y, reg=problem.reg)
        value = float(loss)
        losses.append(value)
        recent = sum(losses[-window:]) / len(losses[-window:])
        if not math.isfinite(value) or recent > divergence_factor * initial:
            status = "diverged"
            break
        W = W - lr * dW
    name = STRATEGY_NAMES.get(batch_size, f"mini-batch SGD (batch {batch_size})")
    return Trace(name, W, losses, status=status, seconds=time.perf_counter() - started,
                 settings={"lr": lr, "iterations": iterations, "batch_size": batch_size, "seed": seed})


def lr_sweep(problem: LinearProblem, lrs: Sequence[float], *, iterations: int, batch_size: int = 0,
             seed: int = 0, init_scale: float = 1e-3) -> list[Trace]:
    """Gradient descent from the same seeded start at each learning rate."""
    return [gradient_descent(problem, lr=lr, iterations=iterations, batch_size=batch_size, seed=seed,
                             init_scale=init_scale) for lr in lrs]


def classify_sweep(trace: Trace, *, flat: float = 0.01) -> str:
    """``diverged`` (stopped), ``increasing`` (ended above its start), ``flat`` (fell by less
    than ``flat`` of its start) or ``decreasing``."""
    if trace.status == "diverged":
        return "diverged"
    first, last = trace.losses[0], trace.losses[-1]
    if last > first:
        return "increasing"
    return "flat" if first - last < flat * abs(first) else "decreasing"

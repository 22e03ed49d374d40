"""Numerical gradients by finite differences (CS231n optimization notes).

Centered differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` have error O(h^2);
forward differences ``(f(x + h e_i) - f(x)) / h`` have error O(h) and are what
the notes warn against. Both need double precision: in float32 the rounding
error of ``f`` (about 1e-7 relative) divided by ``h`` swamps the derivative.

Two ways to get there:

* :func:`loop_numerical_gradient` perturbs one coordinate at a time and calls
  ``f`` twice per coordinate: general, and the reference;
* an objective that implements :class:`BatchedObjective` (``losses_at``) is
  evaluated at many perturbed points per call. :class:`LinearObjective` does it
  for ``scores = X W``: perturbing ``W[i, j]`` by ``d`` only adds ``d * X[:, i]``
  to column ``j`` of the scores, so K perturbed losses cost ``[K, N]`` tensors
  after one ``X W`` instead of K matrix products.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

import torch

from trainlab.errors import UserError, choose
from trainlab.gradcheck.settings import METHODS, GradCheckConfig
from trainlab.linear.losses import SCORE_LOSSES, svm_margins


@runtime_checkable
class BatchedObjective(Protocol):
    """A scalar function of ``x`` that can also evaluate many one-coordinate perturbations."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...

    def losses_at(self, x: torch.Tensor, coords: torch.Tensor, delta: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Losses ``f(x + delta e_k)`` for flat indices ``coords`` ([K]) and whether each
        perturbation moved a kink (a hinge argument changed sign); both ``[K]``."""
        ...


def _svm_shifted(scores: torch.Tensor, y: torch.Tensor, cols: torch.Tensor, rows: torch.Tensor,
                 shift: torch.Tensor, row_shift: torch.Tensor,
                 inverse: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example SVM losses ``[K, N]`` with score column ``cols[k]`` moved by ``shift[k]``.

    If ``j != y_n`` only the margin ``m_nj`` moves (by ``+shift``); if ``j == y_n``
    every margin of example n moves by ``-shift``, which depends on the row of W
    only, so it is computed once per distinct row (``row_shift`` is ``[N, R]``).
    """
    margins = svm_margins(scores, y)  # [N, C], -inf at the correct class
    base = margins.clamp_min(0).sum(1)  # [N]
    m_j = margins[:, cols].T  # [K, N]
    other = base + (m_j + shift).clamp_min(0) - m_j.clamp_min(0)
    moved = margins[:, None, :] - row_shift[:, :, None]  # [N, R, C]
    own = moved.clamp_min(0).sum(-1)[:, inverse].T  # [K, N]
    is_own = y[None, :] == cols[:, None]
    crossed_other = (m_j + shift > 0) != (m_j > 0)
    crossed_own = ((moved > 0) != (margins[:, None, :] > 0)).any(-1)[:, inverse].T
    losses = torch.where(is_own, own, other)
    kinked = torch.where(is_own, crossed_own, crossed_other).any(1)
    return losses, kinked


def _softmax_shifted(scores: torch.Tensor, y: torch.Tensor, cols: torch.Tensor, rows: torch.Tensor,
                     shift: torch.Tensor, row_shift: torch.Tensor,
                     inverse: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example cross-entropy ``[K, N]`` with score column ``cols[k]`` moved by ``shift[k]``:
    ``L + log1p(p_j * expm1(shift)) - shift * [j == y]`` (smooth: no kinks)."""
    log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
    base = -log_probs.gather(1, y[:, None]).squeeze(1)
    p_j = log_probs[:, cols].T.exp()
    losses = base + torch.log1p(p_j * torch.expm1(shift)) - shift * (y[None, :] == cols[:, None])
    return losses, torch.zeros(len(cols), dtype=torch.bool)


SHIFTED_LOSSES = {"svm": _svm_shifted, "softmax": _softmax_shifted}


@dataclass(frozen=True)
class LinearObjective:
    """``loss(X W, y) + 0.5 * reg * ||W||^2`` for a linear classifier with the bias trick.

    ``losses_at`` never forms a perturbed W: nudging ``W[i, j]`` by ``d`` moves
    only score column ``j``, by ``d * X[:, i]``, so K perturbed losses cost
    ``O(K N)`` (plus ``O(N C)`` per distinct row for the SVM) after one ``X W``.
    """

    X: torch.Tensor
    y: torch.Tensor
    loss: str = "svm"
    reg: float = 0.0

    def __post_init__(self) -> None:
        choose("loss", self.loss, tuple(SCORE_LOSSES))

    def __call__(self, W: torch.Tensor) -> torch.Tensor:
        return SCORE_LOSSES[self.loss](self.X @ W, self.y) + 0.5 * self.reg * (W * W).sum()

    def losses_at(self, W: torch.Tensor, coords: torch.Tensor, delta: float) -> tuple[torch.Tensor, torch.Tensor]:
        rows, cols = coords // W.shape[1], coords % W.shape[1]
        distinct, inverse = torch.unique(rows, return_inverse=True)
        shift = delta * self.X[:, rows].T  # [K, N]
        per_example, kinked = SHIFTED_LOSSES[self.loss](self.X @ W, self.y, cols, rows, shift,
                                                        delta * self.X[:, distinct], inverse)
        w = W.reshape(-1)[coords]
        reg = 0.5 * self.reg * ((W * W).sum() + 2 * delta * w + delta * delta)
        return per_example.mean(1) + reg, kinked


def _check_settings(h: float, method: str) -> None:
    choose("finite-difference method", method, METHODS)
    if not h > 0:
        raise UserError(f"the finite-difference step h must be > 0, got {h}; 1e-5 is the usual choice")


def _coords(x: torch.Tensor, coords: torch.Tensor | None) -> torch.Tensor:
    if coords is None:
        return torch.arange(x.numel())
    coords = torch.as_tensor(coords, dtype=torch.long).reshape(-1)
    if len(coords) and (coords.min() < 0 or coords.max() >= x.numel()):
        raise UserError(f"coordinates must be flat indices in [0, {x.numel()}), got {coords.min()}..{coords.max()}")
    return coords


def _shape(x: torch.Tensor, values: torch.Tensor, coords: torch.Tensor | None) -> torch.Tensor:
    return values.reshape(x.shape) if coords is None else values


def loop_numerical_gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, h: float = 1e-5,
                            method: str = "centered", coords: torch.Tensor | None = None) -> torch.Tensor:
    """One coordinate at a time: ``f`` is called on a copy of ``x`` with ``x[i]`` nudged by ``h``.

    Returns the gradient shaped like ``x``, or its values at the flat ``coords``.
    """
    _check_settings(h, method)
    idx = _coords(x, coords)
    work = x.detach().clone()
    flat = work.view(-1)
    out = torch.empty(len(idx), dtype=x.dtype)
    with torch.no_grad():
        f0 = float(f(work)) if method == "forward" else 0.0
        for k, i in enumerate(idx.tolist()):
            old = float(flat[i])
            flat[i] = old + h
            plus = float(f(work))
            if method == "centered":
                flat[i] = old - h
                out[k] = (plus - float(f(work))) / (2 * h)
            else:
                out[k] = (plus - f0) / h
            flat[i] = old
    return _shape(x, out, coords)


def batched_numerical_gradient(f: BatchedObjective, x: torch.Tensor, *, h: float = 1e-5, method: str = "centered",
                               coords: torch.Tensor | None = None, chunk: int = 4096,
                               return_kinks: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The numerical gradient from ``f.losses_at``, ``chunk`` coordinates per call.

    With ``return_kinks`` also returns, per coordinate, whether the perturbation
    crossed a kink of ``f``.
    """
    _check_settings(h, method)
    idx = _coords(x, coords)
    x = x.detach()
    values, kinks = [], []
    with torch.no_grad():
        f0 = f(x) if method == "forward" else None
        for start in range(0, len(idx), chunk):
            part = idx[start:start + chunk]
            plus, kinked = f.losses_at(x, part, h)
            if method == "centered":
                minus, kinked_minus = f.losses_at(x, part, -h)
                values.append((plus - minus) / (2 * h))
                kinked = kinked | kinked_minus
            else:
                values.append((plus - f0) / h)
            kinks.append(kinked)
    out = _shape(x, torch.cat(values) if values else x.new_empty(0), coords)
    if return_kinks:
        return out, _shape(x, torch.cat(kinks) if kinks else torch.zeros(0, dtype=torch.bool), coords)
    return out


def numerical_gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *,
                       config: GradCheckConfig | None = None, coords: torch.Tensor | None = None,
                       chunk: int = 4096) -> torch.Tensor:
    """The numerical gradient of the scalar function ``f`` at ``x`` (``x`` is not modified),
    with ``config.h`` and ``config.method``; shaped like ``x``, or ``[K]`` at flat ``coords``.

    A :class:`BatchedObjective` (e.g. :class:`LinearObjective`) is evaluated ``chunk``
    perturbations at a time; any other callable one coordinate at a time.
    """
    config = config or GradCheckConfig()
    h, method = config.h, config.method
    if isinstance(f, BatchedObjective):
        return batched_numerical_gradient(f, x, h=h, method=method, coords=coords, chunk=chunk)
    return loop_numerical_gradient(f, x, h=h, method=method, coords=coords)

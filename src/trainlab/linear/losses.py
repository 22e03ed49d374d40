"""The losses of a linear classifier with hand-derived gradients (CS231n optimization notes).

A linear classifier with the bias trick computes ``scores = X W`` where ``X`` is
``[N, D+1]`` (a constant 1 appended to every example, :func:`append_bias`) and
``W`` is ``[D+1, C]``. Every loss here is the data loss averaged over the batch
plus the L2 term ``0.5 * reg * ||W||^2`` (whose gradient is ``reg * W``), and
returns ``(loss, dW)`` with ``dW`` derived by hand, vectorized, no autograd.

Score-level losses (:func:`svm_scores_loss`, :func:`softmax_scores_loss`) accept
any leading batch dimensions ``[..., N, C]`` and return ``[...]``: the gradient
checker and the search strategies evaluate many weight matrices in one call.
"""
from __future__ import annotations

from typing import Callable

import torch

from trainlab.errors import UserError, choose

GradLoss = Callable[..., "tuple[torch.Tensor, torch.Tensor]"]


def append_bias(x: torch.Tensor) -> torch.Tensor:
    """The bias trick: flatten examples to ``[N, D]`` and append a column of ones."""
    flat = x.reshape(x.shape[0], -1)
    return torch.cat([flat, flat.new_ones(flat.shape[0], 1)], dim=1)


def _check(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor) -> None:
    if X.dim() != 2 or W.dim() != 2 or X.shape[1] != W.shape[0]:
        raise UserError(f"expected X [N, D] and W [D, C] with matching D, got X {tuple(X.shape)} "
                        f"and W {tuple(W.shape)}; append the bias column with append_bias(x)")
    if y.shape != (X.shape[0],):
        raise UserError(f"expected one label per example: y {tuple(y.shape)} for X {tuple(X.shape)}")


def _correct(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``scores[..., n, y_n]`` as ``[..., N, 1]``."""
    index = y.expand(scores.shape[:-1]).unsqueeze(-1)
    return scores.gather(-1, index)


# -- score-level losses (forward only, batched) ---------------------------------

def svm_margins(scores: torch.Tensor, y: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Hinge arguments ``s_j - s_{y_i} + margin`` with the ``j = y_i`` entries set to
    ``-inf`` (never active). A kink is where one of them crosses zero."""
    margins = scores - _correct(scores, y) + margin
    own = torch.zeros_like(margins, dtype=torch.bool).scatter_(-1, y.expand(scores.shape[:-1]).unsqueeze(-1), True)
    return margins.masked_fill(own, float("-inf"))


def svm_scores_loss(scores: torch.Tensor, y: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Weston-Watkins multiclass SVM ``mean_i sum_{j != y_i} max(0, s_j - s_{y_i} + margin)``."""
    return svm_margins(scores, y, margin).clamp_min(0).sum(-1).mean(-1)


def softmax_scores_loss(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy ``mean_i -log softmax(s_i)_{y_i}``, shifted by the row max for stability."""
    log_probs = scores - torch.logsumexp(scores, dim=-1, keepdim=True)
    return -_correct(log_probs, y).squeeze(-1).mean(-1)


SCORE_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "svm": svm_scores_loss,
    "softmax": softmax_scores_loss,
}


# -- linear classifier losses with analytic gradients ---------------------------

def svm_loss_grad(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, reg: float = 0.0,
                  margin: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Multiclass SVM loss and gradient for ``scores = X W``.

    With ``m_ij = max(0, s_j - s_{y_i} + margin)`` for ``j != y_i``, the score gradient
    is ``dL/ds_ij = 1[m_ij > 0] / N`` and ``dL/ds_{i,y_i} = -sum_j 1[m_ij > 0] / N``;
    then ``dW = X^T dS + reg W``. At a kink (a margin exactly 0) this picks the
    subgradient 0.
    """
    _check(W, X, y)
    n = X.shape[0]
    scores = X @ W
    margins = svm_margins(scores, y, margin)
    active = (margins > 0).to(W.dtype)
    loss = margins.clamp_min(0).sum() / n + 0.5 * reg * (W * W).sum()
    dscores = active
    dscores[torch.arange(n), y] = -active.sum(dim=1)
    return loss, X.T @ dscores / n + reg * W


def softmax_loss_grad(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                      reg: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax cross-entropy loss and gradient for ``scores = X W``.

    With probabilities ``p = softmax(s)`` (computed on max-shifted scores), the
    score gradient is ``(p - onehot(y)) / N`` and ``dW = X^T dS + reg W``.
    """
    _check(W, X, y)
    n = X.shape[0]
    scores = X @ W
    log_probs = scores - torch.logsumexp(scores, dim=1, keepdim=True)
    loss = -log_probs[torch.arange(n), y].sum() / n + 0.5 * reg * (W * W).sum()
    dscores = log_probs.exp()
    dscores[torch.arange(n), y] -= 1.0
    return loss, X.T @ dscores / n + reg * W


GRAD_LOSSES: dict[str, GradLoss] = {"svm": svm_loss_grad, "softmax": softmax_loss_grad}


def get_grad_loss(name: str) -> GradLoss:
    return GRAD_LOSSES[choose("loss", name, tuple(GRAD_LOSSES))]

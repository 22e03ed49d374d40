"""Training losses by name (softmax cross-entropy, the multiclass SVM), and the L2 term.

The multiclass SVM is the Weston-Watkins hinge of the CS231n notes,
``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin)``, averaged over the batch.
(``torch.nn.functional.multi_margin_loss`` also divides by the number of classes,
so its value at small weights is (C-1)/C rather than the notes' C-1.)

L2 regularization is the loss term ``0.5 * lambda * sum ||W||^2`` over the weight
tensors (:func:`l2_weights`: trainable parameters of two or more dimensions, so
weight matrices and convolution kernels, not biases or normalization parameters),
as in the CS231n notes. Every loop adds it with :func:`l2_term`.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.errors import choose

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def softmax_loss(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean softmax cross-entropy ``-log(e^{s_y} / sum_j e^{s_j})``."""
    return F.cross_entropy(scores, y)


def svm_loss(scores: torch.Tensor, y: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Mean multiclass SVM hinge loss (Weston & Watkins 1999; CS231n notes)."""
    correct = scores.gather(1, y[:, None])
    margins = (scores - correct + margin).clamp_min(0)
    return (margins.sum(dim=1) - margin).mean()  # the j = y_i term contributes exactly `margin`


LOSSES: dict[str, LossFn] = {"softmax": softmax_loss, "svm": svm_loss}

PROBABILITY_TOLERANCE = 1e-4
"""How far outside [0, 1] a probability may stray by rounding."""
SUM_TOLERANCE = 1e-3
"""How far from 1 a float32 sum of probabilities may stray by rounding."""


def are_probabilities(s: torch.Tensor, dim: int) -> bool:
    """Whether ``s`` holds probabilities along ``dim``: every value in [0, 1] and each slice summing to 1.

    Scores that already passed through a softmax: a loss that applies softmax again (cross-entropy)
    then sees inputs spanning at most 1 and can barely move (TheDeepChecker's redundant softmax).
    """
    s = s.detach().float()
    inside = bool(((s >= -PROBABILITY_TOLERANCE) & (s <= 1 + PROBABILITY_TOLERANCE)).all())
    return inside and bool(((s.sum(dim) - 1).abs() <= SUM_TOLERANCE).all())


def get_loss(name: str) -> LossFn:
    return LOSSES[choose("loss", name, tuple(LOSSES))]


def _batched_softmax_loss(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each member's mean softmax cross-entropy: ``[K, B, C]``, ``[K, B]`` -> ``[K]``."""
    k, b, c = scores.shape
    return F.cross_entropy(scores.reshape(k * b, c), y.reshape(k * b), reduction="none").view(k, b).mean(1)


BATCHED_LOSSES: dict[str, LossFn] = {"softmax": _batched_softmax_loss}
"""Fast per-member forms of :data:`LOSSES` for stacked scores ``[K, B, C]``; the others are vmapped."""


def get_batched_loss(name: str) -> LossFn:
    """The named loss per member of a population: ``[K, B, C]``, ``[K, B]`` -> ``[K]``."""
    return BATCHED_LOSSES.get(name) or torch.func.vmap(get_loss(name))


def l2_weights(model: nn.Module) -> list[nn.Parameter]:
    """The tensors L2 regularization applies to: trainable parameters with two or more dimensions."""
    return [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]


def l2_term(squared_norms: torch.Tensor, weight_decay: float | torch.Tensor) -> torch.Tensor:
    """``0.5 * lambda * sum ||W||^2`` from ``sum ||W||^2`` (a scalar, or one per population member)."""
    return 0.5 * weight_decay * squared_norms


def squared_norm(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """``sum ||W||^2`` over ``weights`` (0 for none)."""
    return sum(w.pow(2).sum() for w in weights) if weights else torch.zeros(())


def expected_initial_loss(name: str, num_classes: int) -> float:
    """The loss at small random weights: ln C for softmax, C - 1 for the SVM with margin 1."""
    choose("loss", name, tuple(LOSSES))
    return math.log(num_classes) if name == "softmax" else float(num_classes - 1)

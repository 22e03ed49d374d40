"""Training losses by name: softmax cross-entropy and the multiclass SVM.

The multiclass SVM is the Weston-Watkins hinge of the CS231n notes,
``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin)``, averaged over the batch.
(``torch.nn.functional.multi_margin_loss`` also divides by the number of classes,
so its value at small weights is (C-1)/C rather than the notes' C-1.)
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

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


def get_loss(name: str) -> LossFn:
    return LOSSES[choose("loss", name, tuple(LOSSES))]


def expected_initial_loss(name: str, num_classes: int) -> float:
    """The loss at small random weights: ln C for softmax, C - 1 for the SVM with margin 1."""
    choose("loss", name, tuple(LOSSES))
    return math.log(num_classes) if name == "softmax" else float(num_classes - 1)

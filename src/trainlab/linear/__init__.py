"""A linear classifier by hand (CS231n notes): its losses with hand-derived gradients, a
hand-derived batch-norm layer, and the optimization strategies from random search to SGD."""
from __future__ import annotations

from trainlab.linear.batchnorm import batchnorm_backward, batchnorm_forward
from trainlab.linear.losses import (
    GRAD_LOSSES,
    SCORE_LOSSES,
    append_bias,
    get_grad_loss,
    softmax_loss_grad,
    softmax_scores_loss,
    svm_loss_grad,
    svm_margins,
    svm_scores_loss,
)
from trainlab.linear.strategies import (
    LinearProblem,
    Trace,
    accuracy,
    classify_sweep,
    gradient_descent,
    lr_sweep,
    random_local_search,
    random_search,
)

__all__ = [
    "GRAD_LOSSES",
    "SCORE_LOSSES",
    "LinearProblem",
    "Trace",
    "accuracy",
    "append_bias",
    "batchnorm_backward",
    "batchnorm_forward",
    "classify_sweep",
    "get_grad_loss",
    "gradient_descent",
    "lr_sweep",
    "random_local_search",
    "random_search",
    "softmax_loss_grad",
    "softmax_scores_loss",
    "svm_loss_grad",
    "svm_margins",
    "svm_scores_loss",
]

"""The linear classifier's hand-derived loss gradients against PyTorch autograd (float64) and finite differences."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from tests.helpers import centered
from trainlab.errors import UserError
from trainlab.linear.losses import (
    append_bias,
    get_grad_loss,
    softmax_loss_grad,
    softmax_scores_loss,
    svm_loss_grad,
    svm_scores_loss,
)
from trainlab.losses import softmax_loss, svm_loss


def _problem(n=20, d=7, c=5, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = append_bias(torch.randn(n, d, generator=g, dtype=torch.float64))
    W = scale * torch.randn(d + 1, c, generator=g, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=g)
    return W, X, y


@pytest.mark.parametrize("name,reference", [("svm", svm_loss), ("softmax", softmax_loss)])
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_linear_loss_matches_autograd(name, reference, reg):
    W, X, y = _problem()
    loss, dW = get_grad_loss(name)(W, X, y, reg=reg)
    Wa = W.clone().requires_grad_(True)
    ref = reference(X @ Wa, y) + 0.5 * reg * (Wa ** 2).sum()
    ref.backward()
    assert torch.allclose(loss, ref.detach(), rtol=1e-12, atol=1e-12)
    assert torch.allclose(dW, Wa.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn", [svm_loss_grad, softmax_loss_grad])
def test_linear_loss_matches_numerical_gradient(fn):
    W, X, y = _problem(seed=1)
    _, dW = fn(W, X, y, reg=0.1)
    num = centered(lambda V: float(fn(V, X, y, reg=0.1)[0]), W)
    rel = (dW - num).abs() / (dW.abs() + num.abs()).clamp_min(1e-12)
    assert rel.max() < 1e-6


def test_initial_losses_at_small_weights():
    W, X, y = _problem(n=500, c=10, scale=1e-4)
    assert abs(float(softmax_loss_grad(W, X, y)[0]) - math.log(10)) < 1e-2
    assert abs(float(svm_loss_grad(W, X, y)[0]) - 9.0) < 1e-2


def test_score_losses_batch_over_leading_dims():
    W, X, y = _problem()
    stacked = torch.stack([X @ W, X @ (2 * W), X @ (-W)])
    for batched, reference in [(svm_scores_loss, svm_loss), (softmax_scores_loss, softmax_loss)]:
        expected = torch.stack([reference(s, y) for s in stacked])
        assert torch.allclose(batched(stacked, y), expected, rtol=1e-12)


def test_softmax_is_stable_for_huge_scores():
    W, X, y = _problem(scale=1e4)
    loss, dW = softmax_loss_grad(W, X, y)
    assert torch.isfinite(loss) and torch.isfinite(dW).all()
    assert torch.allclose(loss, F.cross_entropy(X @ W, y))


def test_shape_mismatch_is_a_user_error():
    W, X, y = _problem()
    with pytest.raises(UserError, match="append_bias"):
        svm_loss_grad(W[:-1], X, y)

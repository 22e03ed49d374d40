"""Optimization strategies on a small linear problem, against by-hand references."""
from __future__ import annotations

import math

import pytest
import torch

from trainlab.errors import UserError
from trainlab.linear.losses import append_bias
from trainlab.linear.strategies import (
    LinearProblem,
    accuracy,
    classify_sweep,
    gradient_descent,
    lr_sweep,
    random_local_search,
    random_search,
)
from trainlab.losses import softmax_loss, svm_loss


def _problem(loss="svm", n=120, d=5, c=3, reg=0.0):
    g = torch.Generator().manual_seed(0)
    centers = 3 * torch.randn(c, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=g)
    x = centers[y] + torch.randn(n, d, generator=g, dtype=torch.float64)
    return LinearProblem(append_bias(x), y, c, loss=loss, reg=reg)


def test_values_match_one_at_a_time():
    p = _problem(reg=0.1)
    Ws = torch.randn(4, 6, 3, dtype=torch.float64)
    expected = [float(svm_loss(p.X @ W, p.y) + 0.05 * (W ** 2).sum()) for W in Ws]
    assert torch.allclose(p.values(Ws), torch.tensor(expected, dtype=torch.float64))


def test_random_search_keeps_the_best_try():
    p = _problem(loss="softmax")
    trace = random_search(p, tries=30, scale=0.5, seed=3, chunk=7)
    g = torch.Generator().manual_seed(3)
    tries = [0.5 * torch.randn(6, 3, generator=g, dtype=torch.float64) for _ in range(30)]
    values = [float(softmax_loss(p.X @ W, p.y)) for W in tries]
    assert trace.final_loss == pytest.approx(min(values))
    assert torch.equal(trace.W, tries[values.index(min(values))])
    assert trace.losses == sorted(trace.losses, reverse=True) and trace.iterations == 30


def test_random_local_search_only_keeps_improvements():
    p = _problem()
    trace = random_local_search(p, iterations=200, init_scale=0.01, step_scale=0.05, seed=1)
    assert all(b <= a for a, b in zip(trace.losses, trace.losses[1:]))
    assert trace.final_loss < trace.losses[0] and trace.final_loss == pytest.approx(p.value(trace.W))


def test_gradient_descent_step_is_w_minus_lr_grad():
    p = _problem(loss="softmax", reg=0.01)
    W0 = 0.01 * torch.randn(6, 3, dtype=torch.float64)
    one = gradient_descent(p, lr=0.1, iterations=1, W0=W0)
    Wa = W0.clone().requires_grad_(True)
    (softmax_loss(p.X @ Wa, p.y) + 0.005 * (Wa ** 2).sum()).backward()
    assert torch.allclose(one.W, W0 - 0.1 * Wa.grad)


@pytest.mark.parametrize("batch_size", [0, 1, 16])
def test_gradient_methods_learn_and_repeat(batch_size):
    p = _problem()
    a = gradient_descent(p, lr=0.01, iterations=150, batch_size=batch_size, seed=2)
    b = gradient_descent(p, lr=0.01, iterations=150, batch_size=batch_size, seed=2)
    assert torch.equal(a.W, b.W) and a.losses == b.losses
    assert a.status == "completed" and accuracy(a.W, p.X, p.y) > 0.8
    assert ("full batch" in a.strategy) == (batch_size == 0)


def test_lr_sweep_flat_and_diverged_are_recorded():
    p = _problem(loss="softmax", reg=0.1)  # with L2, lr * reg > 2 makes every step overshoot
    tiny, good, huge = lr_sweep(p, [1e-7, 1e-2, 100.0], iterations=40)
    assert classify_sweep(tiny) == "flat"
    assert classify_sweep(good) == "decreasing"
    assert classify_sweep(huge) == "diverged" and huge.iterations < 40


def test_full_batch_loss_is_the_mean_of_example_losses():
    p = _problem(loss="softmax", n=8)
    W = 0.1 * torch.randn(6, 3, dtype=torch.float64)
    singles = [softmax_loss(p.X[i:i + 1] @ W, p.y[i:i + 1]) for i in range(8)]
    assert p.value(W) == pytest.approx(float(sum(singles) / 8))
    assert math.isfinite(p.value(W))


def test_bad_batch_size_is_a_user_error():
    with pytest.raises(UserError, match="batch size"):
        gradient_descent(_problem(n=10), lr=0.1, iterations=1, batch_size=11)

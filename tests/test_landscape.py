"""Loss landscapes: filter normalization, grids against direct evaluation, restoring the model."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.landscape import LandscapeConfig, filter_normalized_direction, interpolation, linear_slice, random_slices
from trainlab.linear.losses import append_bias
from trainlab.losses import softmax_loss, svm_loss


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 3))


def test_directions_match_filter_norms_and_skip_1d_parameters():
    model = _model()
    directions = filter_normalized_direction(model, torch.Generator().manual_seed(1))
    for p, d in zip(model.parameters(), directions):
        if p.dim() == 1:
            assert torch.equal(d, torch.zeros_like(p))
        else:
            assert torch.allclose(d.flatten(1).norm(dim=1), p.detach().flatten(1).norm(dim=1), rtol=1e-5)


def test_grid_center_is_the_models_loss_and_model_is_restored():
    model = _model()
    x, y = torch.randn(50, 4), torch.randint(0, 3, (50,))
    before = [p.detach().clone() for p in model.parameters()]
    record = random_slices(model, x, y, softmax_loss, LandscapeConfig(dims=2, points=5, span=0.5))
    model.eval()
    with torch.no_grad():
        center = float(softmax_loss(model(x), y))
    assert record["loss"][2][2] == pytest.approx(center, rel=1e-6)
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))
    assert len(record["loss"]) == 5 and len(record["loss"][0]) == 5


def test_interpolation_ends_are_the_two_models():
    a, b = _model(), _model()
    with torch.no_grad():
        for p in b.parameters():
            p.add_(0.3)
    x, y = torch.randn(40, 4), torch.randint(0, 3, (40,))
    record = interpolation(a, [p.detach() for p in b.parameters()], x, y, softmax_loss,
                           LandscapeConfig(points=5, span=1.0))  # t = -0.5, 0, 0.5, 1, 1.5
    b.eval()
    with torch.no_grad():
        assert record["loss"][3] == pytest.approx(float(softmax_loss(b(x), y)), rel=1e-6)


def test_svm_slice_is_piecewise_linear_with_kinks():
    g = torch.Generator().manual_seed(0)
    X = append_bias(torch.randn(30, 5, generator=g, dtype=torch.float64))
    y = torch.randint(0, 4, (30,), generator=g)
    W, D = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(6, 4, generator=g, dtype=torch.float64)
    alphas = torch.linspace(-2, 2, 401, dtype=torch.float64)
    per_example = linear_slice(W, X, y, D, alphas)
    assert torch.allclose(per_example[100], torch.stack([svm_loss(X[i:i + 1] @ (W + alphas[100] * D), y[i:i + 1])
                                                        for i in range(30)]))
    second = per_example[:-2, 0] - 2 * per_example[1:-1, 0] + per_example[2:, 0]
    kinks = (second.abs() > 1e-9).sum()
    assert 0 < kinks < 20  # straight pieces between a few kinks


def test_config_rejects_bad_values():
    with pytest.raises(UserError, match="dims"):
        LandscapeConfig(dims=3)

"""The gradient checker: passes correct gradients, fails a planted wrong one, explains kinks."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.gradcheck import (
    GradCheckConfig,
    LinearObjective,
    LossPrecisionError,
    band,
    check_gradients,
    loop_numerical_gradient,
    numerical_gradient,
)
from trainlab.linear.losses import append_bias, get_grad_loss
from trainlab.losses import softmax_loss, svm_loss
from trainlab.nn import build_model

FAST = GradCheckConfig(max_coords=25)


def _batch(n=8, d=6, c=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, c, (n,), generator=g)


class WrongSquare(torch.autograd.Function):
    """x^2 with a planted bug: the backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class Square(nn.Module):
    def forward(self, x):
        return WrongSquare.apply(x)


@pytest.mark.parametrize("activation,batch_norm,loss", [
    ("tanh", "none", softmax_loss), ("sigmoid", "before", softmax_loss), ("relu", "after", svm_loss),
])
def test_trainlab_models_pass_in_float64(activation, batch_norm, loss):
    x, y = _batch()
    model = build_model("mlp", (6,), 4, depth=2, width=8, activation=activation, batch_norm=batch_norm)
    report = check_gradients(model, loss, x, y, config=FAST, weight_decay=0.05)
    assert report.verdict in ("good", "acceptable"), report.to_json()
    assert report.regularization_verdict == "good"
    assert {p.name for p in report.parameters} == {n for n, _ in model.named_parameters()}


def test_cnn_passes_in_float64():
    x = torch.randn(8, 1, 8, 8)
    y = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1])
    model = build_model("cnn", (1, 8, 8), 3, depth=1, width=2, activation="relu", batch_norm="before")
    assert check_gradients(model, softmax_loss, x, y, config=FAST).passed


def test_planted_wrong_backward_fails():
    x, y = _batch()
    model = nn.Sequential(nn.Linear(6, 5), Square(), nn.Linear(5, 4))
    report = check_gradients(model, softmax_loss, x, y, config=FAST)
    assert report.verdict == "wrong"
    by_name = {p.name: p for p in report.parameters}
    assert by_name["0.weight"].verdict == "wrong"   # below the bug
    assert by_name["2.weight"].verdict == "good"    # above the bug: untouched by it


def test_relu_kinks_are_reported_not_failed():
    x, y = _batch(n=4, d=3, c=2, seed=1)
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2)).double()
    with torch.no_grad():  # unit 0's input for example 0 sits 3e-6 from the kink: inside +-h
        model[0].bias[0] -= (model[0](x[:1].double())[0, 0] - 3e-6)
    report = check_gradients(model, softmax_loss, x, y, config=GradCheckConfig(h=1e-5))
    bias = {p.name: p for p in report.parameters}["0.bias"]
    assert bias.kinks >= 1
    assert bias.max_rel_error_at_kinks > 1e-2  # the kinked difference would have read as "wrong"
    assert report.kinked and report.verdict in ("good", "acceptable")


def test_svm_hinge_kinks_are_detected_on_a_linear_model():
    x, y = _batch(n=3, d=2, c=3, seed=2)
    model = nn.Linear(2, 3).double()
    with torch.no_grad():  # example 0: class 1 margin exactly 1e-6 from the hinge
        s = model(x[:1].double())[0]
        other = (y[0] + 1) % 3
        model.bias[other] -= s[other] - s[y[0]] + 1 - 1e-6
    report = check_gradients(model, svm_loss, x, y)
    assert sum(p.kinks for p in report.parameters) >= 1
    assert report.passed


def test_dropout_is_off_and_user_model_untouched():
    x, y = _batch()
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 4))
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = check_gradients(model, softmax_loss, x, y, config=FAST)
    assert report.passed
    assert not model.training and next(model.parameters()).dtype == torch.float32
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


class FunctionalDropout(nn.Module):
    """Dropout the way custom forwards write it, ``F.dropout(x, p, self.training)``: no nn.Dropout to switch off."""

    def forward(self, x):
        return nn.functional.dropout(x, 0.5, self.training)


@pytest.mark.parametrize("planted", [False, True])
def test_randomness_beyond_dropout_layers_draws_the_same_masks_at_every_evaluation(planted):
    x, y = _batch()
    torch.manual_seed(0)
    attention = nn.MultiheadAttention(6, 2, dropout=0.5, batch_first=True)  # attention dropout: no nn.Dropout

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention, self.drop, self.out = attention, FunctionalDropout(), nn.Linear(6, 4)
            self.square = Square() if planted else nn.Identity()

        def forward(self, v):
            seq = v.view(len(v), 2, 3).repeat(1, 1, 2)
            mixed, _ = self.attention(seq, seq, seq, need_weights=False)
            return self.out(self.square(self.drop(mixed.mean(1))))

    report = check_gradients(Net(), softmax_loss, x, y, config=FAST)
    by_name = {p.name: p for p in report.parameters}
    if planted:  # a wrong backward below the masks is still found
        assert report.verdict == "wrong" and by_name["attention.in_proj_weight"].verdict == "wrong"
        assert by_name["out.weight"].verdict == "good"
    else:
        assert report.passed, report.to_json()


def test_a_loss_that_builds_its_targets_in_the_default_dtype_is_checked_in_float64():
    x, y = _batch()
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4))

    def one_vs_rest(scores, labels):  # one-hot targets in the default dtype, as users write them
        targets = nn.functional.one_hot(labels, 4).to(torch.get_default_dtype())
        return nn.functional.binary_cross_entropy_with_logits(scores, targets)

    report = check_gradients(model, one_vs_rest, x, y, config=FAST)
    assert report.passed and max(p.max_rel_error for p in report.parameters) < 1e-6
    assert torch.get_default_dtype() == torch.float32  # restored

    def in_float32(scores, labels):
        return softmax_loss(scores.float(), labels)

    with pytest.raises(LossPrecisionError, match="float32 on float64 scores"):
        check_gradients(model, in_float32, x, y, config=FAST)


def test_float32_is_noise_next_to_float64():
    x, y = _batch()
    model = build_model("mlp", (6,), 4, depth=1, width=8, activation="tanh")
    f64 = check_gradients(model, softmax_loss, x, y, config=FAST)
    f32 = check_gradients(model, softmax_loss, x, y, config=GradCheckConfig(max_coords=25, dtype=torch.float32))
    assert f32.dtype == "float32" and f64.dtype == "float64"
    assert max(p.max_rel_error for p in f32.parameters) > 1e3 * max(p.max_rel_error for p in f64.parameters)


def test_forward_differences_are_less_accurate():
    x, y = _batch()
    model = build_model("mlp", (6,), 4, depth=1, width=8, activation="tanh")
    raw = GradCheckConfig(max_coords=25, richardson=False)
    centered = check_gradients(model, softmax_loss, x, y, config=raw)
    forward = check_gradients(model, softmax_loss, x, y, config=GradCheckConfig(max_coords=25, method="forward",
                                                                                richardson=False))
    assert max(p.max_rel_error for p in forward.parameters) > 10 * max(p.max_rel_error for p in centered.parameters)


class DeepTanh(nn.Module):
    """Eight tanh layers with N(0, 1) weights: a correct backward pass, and a strongly curved loss."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.layers = nn.ModuleList(nn.Linear(6 if k == 0 else 30, 30) for k in range(8))
        with torch.no_grad():
            for layer in self.layers:
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=g))
        self.out = nn.Linear(30, 4)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return self.out(x)


def test_richardson_extrapolation_removes_the_truncation_error_of_a_curved_loss():
    x, y = _batch()
    steps = {h: check_gradients(DeepTanh(), softmax_loss, x, y,
                                config=GradCheckConfig(max_coords=25, h=h, richardson=False)) for h in (1e-4, 1e-5)}
    worst = {h: max(p.max_rel_error for p in r.parameters) for h, r in steps.items()}
    assert steps[1e-5].verdict != "good"  # the raw check cries wolf ...
    assert worst[1e-4] / worst[1e-5] == pytest.approx(100, rel=0.5)  # ... because of truncation (error ~ h^2)
    refined = check_gradients(DeepTanh(), softmax_loss, x, y, config=GradCheckConfig(max_coords=25))
    assert refined.verdict == "good" and sum(p.refined for p in refined.parameters) > 0


def test_json_shape():
    x, y = _batch()
    report = check_gradients(nn.Linear(6, 4), softmax_loss, x, y, config=FAST, weight_decay=0.1)
    record = json.loads(json.dumps(report.to_json()))
    assert record["verdict"] in ("good", "acceptable", "suspicious", "wrong")
    assert set(record["parameters"][0]) >= {"name", "max_rel_error", "median_rel_error", "checked", "kinks", "verdict"}
    assert record["regularization"]["parameters"][0]["name"] == "weight"
    assert record["parameters"][0]["checked"] == 24  # all coordinates of a small tensor


@pytest.mark.parametrize("error,kinked,verdict", [
    (1e-9, False, "good"), (1e-5, True, "acceptable"), (1e-5, False, "suspicious"),
    (1e-3, True, "suspicious"), (0.5, True, "wrong"),
])
def test_bands(error, kinked, verdict):
    assert band(error, kinked=kinked) == verdict


@pytest.mark.parametrize("loss", ["svm", "softmax"])
@pytest.mark.parametrize("method", ["centered", "forward"])
def test_batched_numerical_gradient_equals_loop_and_analytic(loss, method):
    g = torch.Generator().manual_seed(4)
    X = append_bias(torch.randn(30, 12, generator=g, dtype=torch.float64))
    y = torch.randint(0, 5, (30,), generator=g)
    W = 0.1 * torch.randn(13, 5, generator=g, dtype=torch.float64)
    objective = LinearObjective(X, y, loss=loss, reg=0.2)
    cfg = GradCheckConfig(method=method)
    batched = numerical_gradient(objective, W, config=cfg, chunk=7)
    loop = loop_numerical_gradient(lambda v: objective(v), W, method=method)
    assert torch.allclose(batched, loop, atol=1e-8)
    analytic = get_grad_loss(loss)(W, X, y, reg=0.2)[1]
    assert torch.allclose(batched, analytic, atol=1e-3 if method == "forward" else 1e-7)
    coords = torch.tensor([0, 17, 64])
    assert torch.allclose(numerical_gradient(objective, W, config=cfg, coords=coords), batched.view(-1)[coords])


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="h must be > 0"):
        GradCheckConfig(h=0)
    with pytest.raises(UserError, match="method"):
        GradCheckConfig(method="backward")

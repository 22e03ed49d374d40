"""Planted faults: each must be caught (status fail) by the check that owns it.

Every test runs the whole doctor, so it also shows which other checks a fault trips; the healthy
model of the same problem fails none.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.doctor.doctor_cases import CLASSES, doctor, failed, mlp
from trainlab.data.base import Split
from trainlab.doctor import ORDER, Budget, examine
from trainlab.init import InitConfig


def test_a_healthy_model_fails_no_check_and_skips_none(problem):
    report = doctor(mlp(), *problem, lr=0.05)
    assert failed(report) == set()
    assert [r.status for r in report.results if r.status == "skipped"] == []
    assert [r.id for r in report.results] == list(ORDER)


def test_all_zeros_init_is_symmetric_and_does_not_learn(problem):
    report = doctor(mlp(init="zeros"), *problem, lr=0.05)
    assert report["init-health"].status == "fail"
    assert "symmetric" in report["init-health"].evidence
    assert "random" in report["init-health"].advice
    # "no learning": only the output bias can move, so 20 examples cannot be memorized
    assert report["overfit-tiny"].status == "fail"
    assert "1.weight" in report["overfit-tiny"].numbers["unchanged_parameters"]
    assert "data" not in failed(report)


def test_deep_tanh_with_standard_normal_weights_saturates(problem):
    model = mlp(depth=10, width=100, activation="tanh", init=InitConfig(scheme="normal", std=1.0))
    report = doctor(model, *problem, lr=0.05, checks=["data", "init-health", "batch-independence"])
    health = report["init-health"]
    assert health.status == "fail"
    assert "saturated" in health.evidence
    assert "glorot-uniform" in health.advice  # the initialization that fits tanh
    worst = max(r["saturated"] for r in health.numbers["layers"])
    assert worst > 0.5
    assert failed(report) == {"init-health"}


def test_a_learning_rate_of_10_is_one_diagnosis_from_the_range_test_and_the_recipe(problem):
    report = doctor(mlp(), *problem, lr=10.0)
    assert failed(report) == {"lr-range", "recipe"}
    top = report.diagnosis[0]
    assert top.cause == "lr-too-high" and set(top.evidence) == {"lr-range", "recipe", "update-ratio"}
    lr_range = report["lr-range"]
    assert lr_range.numbers["trial"]["diverged"]
    suggested = lr_range.numbers["sweep"]["suggested_lr"]
    assert suggested < 10.0 and f"--lr {suggested:.3g}" in lr_range.advice


def test_shuffled_labels_do_not_generalize(problem):
    train, val = problem
    shuffled = Split(train.x, train.y[torch.randperm(len(train.y), generator=torch.Generator().manual_seed(1))])
    report = doctor(mlp(), shuffled, val, lr=0.05)
    gap = report["generalization-gap"]
    assert gap.status == "fail"
    assert gap.numbers["val_lift"] < 0.05
    assert "labels" in gap.advice
    assert "data" not in failed(report) and "gradcheck" not in failed(report)


class _WrongSignTanh(torch.autograd.Function):
    """tanh whose backward returns the negated gradient: the bug gradcheck exists for."""

    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return -grad * (1 - y * y)


class WrongSignTanh(nn.Module):
    def forward(self, x):
        return _WrongSignTanh.apply(x)


def test_a_custom_layer_with_a_wrong_sign_gradient_fails_gradcheck(problem):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), WrongSignTanh(), nn.Linear(32, 5))
    report = doctor(model, *problem, lr=0.05, checks=["data", "gradcheck", "batch-independence"])
    check = report["gradcheck"]
    assert check.status == "fail"
    verdicts = {p["name"]: p["verdict"] for p in check.numbers["parameters"]}
    assert verdicts["0.weight"] == "wrong" and verdicts["0.bias"] == "wrong"  # below the faulty layer
    assert verdicts["2.weight"] != "wrong"  # above it the gradient is right
    assert failed(report) == {"gradcheck"}


def test_a_loss_computed_in_float32_is_not_read_as_a_wrong_gradient(problem):
    # A healthy model whose loss casts the scores to float32: finite differences of 1e-5 are below float32's
    # resolution, so gradcheck cannot judge it and says so; the same loss kept in the scores' dtype passes.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 5))
    in_float32 = lambda s, y: nn.functional.cross_entropy(s.float(), y)  # noqa: E731
    report = examine(model, in_float32, problem[0], problem[1], budget=Budget.tiny(), lr=0.05, checks=["gradcheck"])
    assert report["gradcheck"].status == "skipped" and "float32 on float64 scores" in report["gradcheck"].evidence
    kept = examine(model, nn.functional.cross_entropy, problem[0], problem[1], budget=Budget.tiny(), lr=0.05,
                   checks=["gradcheck"])
    assert kept["gradcheck"].status == "pass"


class BatchCentre(nn.Module):
    """Subtracts the batch mean in training AND evaluation mode: example i's output depends on example j."""

    def forward(self, x):
        return x - x.mean(0, keepdim=True)


def test_a_layer_mixing_examples_in_eval_mode_fails_batch_independence(problem):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), BatchCentre(), nn.Linear(32, 5))
    report = doctor(model, *problem, lr=0.05, checks=["data", "gradcheck", "batch-independence", "overfit-tiny"])
    check = report["batch-independence"]
    assert check.status == "fail"
    assert check.numbers["gradient_leak"] > 1e-3
    assert failed(report) == {"batch-independence"}


def test_a_mean_over_the_batch_that_is_detached_is_caught_by_the_forward_comparison(problem):
    class DetachedCentre(nn.Module):
        def forward(self, x):
            return x - x.mean(0, keepdim=True).detach()

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), DetachedCentre(), nn.Tanh(), nn.Linear(32, 5))
    check = doctor(model, *problem, checks=["batch-independence"])["batch-independence"]
    assert check.status == "fail"
    assert check.numbers["gradient_leak"] == 0 and check.numbers["forward_drift"] > 1e-3


class SignTokens(nn.Module):
    """The features' signs read as a sequence of 20 token ids, then one self-attention layer: the ids have no
    gradient path, so only the forward comparison can see mixing. ``batch_first=False`` on ``[batch, tokens,
    dim]`` attends over the batch (DeepLocalize's nn.MultiheadAttention / TransformerEncoderLayer default)."""

    def __init__(self, batch_first: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(2, 16)
        self.layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.0, batch_first=batch_first)
        self.head = nn.Linear(16, CLASSES)

    def forward(self, x):
        return self.head(self.layer(self.embed((x > 0).long()))[:, -1])


@pytest.mark.parametrize("batch_first", [False, True])
def test_attention_over_the_batch_of_token_ids_is_judged_by_the_forward_pass(problem, batch_first):
    torch.manual_seed(0)
    check = doctor(SignTokens(batch_first), *problem, checks=["batch-independence"])["batch-independence"]
    assert check.numbers["gradient_leak"] is None  # no gradient path to the ids
    if batch_first:
        assert check.status == "pass" and check.numbers["forward_drift"] < 1e-4, check.evidence
    else:
        assert check.status == "fail" and check.numbers["forward_drift"] > 1e-3, check.evidence


def test_inputs_scaled_by_1000_fail_the_data_check(problem):
    train, val = problem
    report = doctor(mlp(), Split(train.x * 1000, train.y), Split(val.x * 1000, val.y), lr=0.05,
                    checks=["data", "batch-independence", "gradcheck"])
    data = report["data"]
    assert data.status == "fail"
    assert abs(data.numbers["rms"] - 1000 * float(train.x.pow(2).mean().sqrt())) < 1.0
    assert "--preprocess mean,std" in data.advice
    assert failed(report) == {"data"}


def _dead_relu(conv: bool) -> nn.Module:
    torch.manual_seed(0)
    if conv:
        model = nn.Sequential(nn.Unflatten(1, (1, 4, 5)), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
                              nn.Linear(8 * 20, 5))
    else:
        model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    with torch.no_grad():
        model[1 if conv else 0].bias.fill_(-100.0)  # every pre-activation negative: every ReLU dead
    return model


@pytest.mark.parametrize("conv", [False, True])
def test_relus_killed_by_a_large_negative_bias_are_dead(problem, conv):
    check = doctor(_dead_relu(conv), *problem, checks=["init-health"])["init-health"]
    assert check.status == "fail"
    assert check.numbers["layers"][0]["dead"] == 1.0
    assert "he-normal" in check.advice


class FunctionalMLP(nn.Module):
    """Nonlinearities applied as functions, as many hand-written models do: no module to hook."""

    def __init__(self, fn, depth: int, width: int, std: float | None = None, bias: float = 0.0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        dims = [20, *[width] * depth]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))
        self.out = nn.Linear(width, 5)
        for layer in self.hidden:
            scale = std if std is not None else (2.0 / layer.in_features) ** 0.5
            with torch.no_grad():
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=g) * scale)
                layer.bias.fill_(bias)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = self.fn(layer(x))
        return self.out(x)


def test_functional_activations_are_read_at_the_next_layers_inputs(problem):
    x = problem[0].x[:300]
    saturating = doctor(FunctionalMLP(torch.tanh, depth=6, width=64, std=1.0), *problem, lr=0.05,
                        checks=["init-health"])["init-health"]
    assert saturating.status == "fail" and saturating.numbers["functional"]
    rows = saturating.numbers["layers"]
    assert [r["layer"] for r in rows] == [f"input of hidden.{k}" for k in range(1, 6)] + ["input of out"]
    assert {r["fn"] for r in rows} == {"tanh"} and "glorot-uniform" in saturating.advice
    model = FunctionalMLP(torch.tanh, depth=6, width=64, std=1.0)
    with torch.no_grad():  # the reference: the last hidden layer's output, saturated where |a| >= sqrt(0.95)
        h = x
        for layer in model.hidden:
            h = torch.tanh(layer(h))
    assert rows[-1]["saturated"] == pytest.approx(float((h.abs() >= 0.95 ** 0.5).double().mean()), abs=0.02)
    dead = doctor(FunctionalMLP(torch.relu, depth=3, width=64, bias=-3.0), *problem, lr=0.05,
                  checks=["init-health"])["init-health"]
    assert dead.status == "fail" and "dead" in dead.evidence and {r["fn"] for r in dead.numbers["layers"]} == {"relu"}
    healthy = doctor(FunctionalMLP(torch.relu, depth=3, width=64), *problem, lr=0.05,
                     checks=["init-health"])["init-health"]
    assert healthy.status == "pass" and "read as the inputs of the next layers" in healthy.evidence


def test_weight_decay_is_judged_only_on_a_run_that_fit_something(problem):
    train, val = problem
    learnable = doctor(mlp(), train, val, checks=["regularization"])["regularization"]
    assert learnable.status == "pass" and learnable.numbers["fitted"] and learnable.numbers["data_loss_rise"] > 0.01
    noise = Split(train.x, torch.randint(CLASSES, (len(train.y),), generator=torch.Generator().manual_seed(1)))
    random_labels = doctor(mlp(), noise, val, checks=["regularization"])["regularization"]
    # Nothing fitted in the budget, so a data loss that weight decay barely raises says nothing about the penalty.
    assert random_labels.status == "pass" and not random_labels.numbers["fitted"]
    assert "fit too little" in random_labels.evidence


def test_memorizing_a_tiny_training_set_is_overfitting_and_its_twin_on_enough_data_is_not(problem):
    """Planted: 40 training examples for a 2x512 network, whose validation loss turns up once it has memorized
    them. The twin is the same network on the 2,000 examples of ``problem``."""
    train, val = problem
    small = Split(train.x[:40], train.y[:40])
    checks = ["generalization-gap"]
    overfit = doctor(mlp(width=512), small, val, lr=0.05, checks=checks)["generalization-gap"]
    assert overfit.status == "warn" and "overfitting" in overfit.evidence
    n = overfit.numbers
    assert n["gap"] > 0.10 and n["val_loss"] > n["val_loss_at_midpoint"]
    twin = doctor(mlp(width=512), *problem, lr=0.05, checks=checks)["generalization-gap"]
    assert twin.status == "pass"
    assert twin.numbers["gap"] < 0.10

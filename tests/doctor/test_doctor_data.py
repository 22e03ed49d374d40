"""The data check on inputs with one planted problem each, and its statistics against torch's."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.doctor.doctor_cases import CLASSES, DIMS, teacher_problem
from trainlab.data.base import Split
from trainlab.doctor import Budget, examine
from trainlab.errors import UserError


def _data_check(x: torch.Tensor, y: torch.Tensor):
    model = nn.Sequential(nn.Linear(DIMS, CLASSES))
    return examine(model, "softmax", (x, y), (x[:50], y[:50]), checks=["data"], budget=Budget.tiny())["data"]


def _problem() -> Split:
    return teacher_problem(n_train=1_000, n_val=10)[0]


def test_clean_standardized_data_pass_and_the_statistics_match_torch():
    train = _problem()
    check = _data_check(train.x, train.y)
    assert check.status == "pass"
    assert check.numbers["rms"] == pytest.approx(float(train.x.double().pow(2).mean().sqrt()), rel=1e-9)
    assert check.numbers["std"] == pytest.approx(float(train.x.double().std(unbiased=False)), rel=1e-9)
    assert check.numbers["class_counts"] == torch.bincount(train.y, minlength=CLASSES).tolist()


def _shifted(x):
    return x + 10.0


def _features_on_different_scales(x):
    return torch.cat([x[:, :1], x[:, 1:] / 1000.0], 1)  # one feature in metres, the others in kilometres


@pytest.mark.parametrize("plant, status, advice", [
    (_shifted, "warn", "--preprocess mean"),
    (_features_on_different_scales, "warn", "--preprocess mean,std"),
])
def test_each_planted_input_problem_is_named_with_its_fix(plant, status, advice):
    train = _problem()
    check = _data_check(plant(train.x), train.y)
    assert check.status == status
    assert advice in check.advice or advice in check.evidence


def test_nan_or_inf_inputs_are_refused_before_any_check_runs():
    """A data-check "fail" beside a dozen verdicts about other causes misled; now one UserError names it."""
    train = _problem()
    x = train.x.clone()
    x[3, 4], x[8, 1] = float("nan"), float("inf")
    model = nn.Sequential(nn.Linear(DIMS, CLASSES))
    with pytest.raises(UserError, match=r"train_data holds 2 NaN/Inf input value\(s\) in 2 of 1000 examples"):
        examine(model, "softmax", (x, train.y), checks=["data"], budget=Budget.tiny())
    with pytest.raises(UserError, match="val_data holds 2 NaN/Inf"):
        examine(model, "softmax", train, (x[:50], train.y[:50]), checks=["data"], budget=Budget.tiny())


def test_a_single_class_fails_and_heavy_imbalance_warns():
    train = _problem()
    assert _data_check(train.x, torch.zeros_like(train.y)).status == "fail"
    y = torch.where(torch.arange(len(train.y)) < 950, torch.zeros_like(train.y), train.y)  # class 0 dominates
    check = _data_check(train.x, y)
    assert check.status == "warn" and "imbalanced" in check.evidence


class _Tokens(nn.Module):
    """Token ids through an embedding, mean-pooled: ids are indices, not measurements."""

    def __init__(self, vocab: int = 40, embed: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, 8) if embed else None
        self.head = nn.Linear(8 if embed else 6, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x.long()).mean(1) if self.embed is not None else x)


def test_token_ids_into_an_embedding_are_not_judged_by_their_scale_but_the_same_numbers_as_features_are():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(20, 40, (500, 6), generator=g).float()  # ids far from unit scale and far from zero
    y = torch.randint(CLASSES, (500,), generator=g)

    def check(model):
        return examine(model, "softmax", (x, y), (x[:50], y[:50]), checks=["data"], budget=Budget.tiny())["data"]

    ids = check(_Tokens())
    assert ids.status == "pass" and ids.numbers["token_ids"] == 40
    assert "input-scale-large" in ids.rules_out
    features = check(_Tokens(embed=False))
    assert features.status == "fail" and features.causes[0] == "input-scale-large"

"""The pre-training checks on the loss (loss-output, loss-reduction) and on tiny inputs: each planted fault
against its healthy twin."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.doctor.doctor_cases import CLASSES, mlp
from trainlab.data.base import Split
from trainlab.doctor import Budget, examine

CHECKS = ["data", "loss-output", "loss-reduction"]


def run(model: nn.Module, loss, problem, scale: float = 1.0):
    train, val = problem
    return examine(model, loss, Split(train.x * scale, train.y), Split(val.x * scale, val.y), budget=Budget.tiny(),
                   checks=CHECKS)


def one_hot(y: torch.Tensor) -> torch.Tensor:
    return F.one_hot(y, CLASSES).float()


def test_a_healthy_model_and_loss_pass_the_loss_checks(problem):
    for loss in ("softmax", "svm", nn.CrossEntropyLoss(), lambda s, y: F.nll_loss(s.log_softmax(1), y)):
        report = run(mlp(), loss, problem)
        assert [report[c].status for c in CHECKS] == ["pass"] * 3, loss


def test_softmax_in_the_model_and_in_the_loss_fails(problem):
    report = run(nn.Sequential(mlp(), nn.Softmax(dim=1)), "softmax", problem)
    check = report["loss-output"]
    assert check.status == "fail" and "already probabilities" in check.evidence
    assert "Remove the final softmax" in check.advice
    # probabilities with a log and NLL are the correct way to use them: no alarm
    healthy = run(nn.Sequential(mlp(), nn.Softmax(dim=1)), lambda p, y: F.nll_loss(p.log(), y), problem)
    assert healthy["loss-output"].status == "pass"


def test_softmax_over_the_batch_axis_fails(problem):
    report = run(nn.Sequential(mlp(), nn.Softmax(dim=0)), lambda p, y: F.nll_loss(p.log(), y), problem)
    assert report["loss-output"].status == "fail" and "wrong axis" in report["loss-output"].evidence


def test_a_loss_with_its_sign_flipped_fails(problem):
    report = run(mlp(), lambda s, y: -F.cross_entropy(s, y), problem)
    check = report["loss-output"]
    assert check.status == "fail" and check.numbers["mean_grad_right_class"] > 0
    assert "sign" in check.advice


def test_a_log_likelihood_of_raw_scores_is_unbounded_below_and_fails(problem):
    # TheDeepChecker's missing_softmax: F.nll_loss on the raw scores, -s_y, falls without limit.
    check = run(mlp(), lambda s, y: F.nll_loss(s, y), problem)["loss-output"]
    assert check.status == "fail" and "without bound" in check.evidence and "log_softmax" in check.advice
    shift = check.numbers["loss_at_shifted_right_scores"]
    assert shift < -500  # -T plus the scores' own mean, with T = 1000 x their scale
    # Its healthy twins are bounded below: cross-entropy with label smoothing, the hinge, MSE on one-hot labels.
    for loss in (lambda s, y: F.cross_entropy(s, y, label_smoothing=0.1), "svm",
                 lambda s, y: F.mse_loss(s, one_hot(y))):
        twin = run(mlp(), loss, problem)["loss-output"]
        assert twin.status in ("pass", "warn") and twin.numbers["loss_at_shifted_right_scores"] >= 0


@pytest.mark.parametrize("loss, name", [
    (lambda s, y: F.mse_loss(s.softmax(1), one_hot(y)), "MSE on softmax(scores)"),
    (lambda s, y: F.mse_loss(s, one_hot(y)), "MSE on the raw scores"),
    (lambda s, y: F.l1_loss(torch.sigmoid(s), one_hot(y)), "MAE on sigmoid(scores)"),
])
def test_a_regression_loss_on_class_labels_is_named(problem, loss, name):
    check = run(mlp(), loss, problem)["loss-output"]
    assert check.status == "warn" and check.numbers["loss_is"] == name
    assert "cross-entropy" in check.advice


def test_a_summed_loss_is_reported_with_the_batch_factor(problem):
    check = run(mlp(), lambda s, y: F.cross_entropy(s, y, reduction="sum"), problem)["loss-reduction"]
    assert check.status == "warn" and check.numbers["ratio"] == pytest.approx(2.0, rel=1e-5)
    assert "sum over the batch" in check.evidence and "reduction='mean'" in check.advice


def test_a_loss_that_grows_faster_than_the_batch_is_neither_mean_nor_sum(problem):
    # the square of a summed loss: repeating the batch multiplies it by 4
    check = run(mlp(), lambda s, y: (F.cross_entropy(s, y, reduction="none").sum() ** 2) / 1e3,
                problem)["loss-reduction"]
    assert check.status == "warn" and check.numbers["ratio"] == pytest.approx(4.0, rel=1e-5)
    assert "neither a mean" in check.evidence


@pytest.mark.parametrize("scale, status", [(1 / 255 / 255, "fail"), (0.02, "warn"), (1.0, "pass")])
def test_tiny_inputs_are_reported_by_the_data_check(problem, scale, status):
    check = run(mlp(), "softmax", problem, scale=scale)["data"]
    assert check.status == status
    if status != "pass":
        assert "tiny" in check.evidence and "normalized twice" in check.advice
        assert check.numbers["rms"] == pytest.approx(scale * float(problem[0].x.pow(2).mean().sqrt()), rel=1e-3)


def test_a_loss_that_is_not_finite_before_training_is_left_to_initial_loss(problem):
    train, val = problem
    report = examine(mlp(), lambda s, y: F.cross_entropy(s, y) + torch.log(torch.zeros(())), train, val,
                     budget=Budget.tiny(), checks=["loss-output", "loss-reduction"])
    assert report["loss-output"].status == "skipped" and "initial-loss" in report["loss-output"].evidence
    assert report["loss-reduction"].status == "skipped"

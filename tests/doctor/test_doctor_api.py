"""examine(): leaves the user's model exactly as it was, accepts every data form, rejects bad input,
and renders its report as JSON and a self-contained HTML page."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tests.doctor.doctor_cases import CLASSES, DIMS, doctor, teacher_problem
from trainlab.data.base import Dataset
from trainlab.doctor import ORDER, Budget, examine
from trainlab.errors import UserError


def _bn_dropout_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(DIMS, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, CLASSES))


def test_examine_leaves_parameters_buffers_mode_grads_and_rng_exactly_as_they_were(problem):
    model = _bn_dropout_model()
    model(problem[0].x[:64]).sum().backward()  # the user has gradients lying around, and BN running stats
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    rng = torch.get_rng_state()
    report = doctor(model, *problem, lr=0.05, weight_decay=1e-4, optimizer="momentum", momentum=0.9)
    assert len(report.results) == len(ORDER)
    after = model.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert torch.equal(value, after[key]), key  # bit-identical, buffers (running stats, counters) included
    for name, p in model.named_parameters():
        assert torch.equal(p.grad, grads[name]), name
    assert not model.training
    assert torch.equal(torch.get_rng_state(), rng)


def test_same_seed_same_numbers_whatever_the_global_rng(problem):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(DIMS, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, CLASSES))
    checks = ["initial-loss", "overfit-tiny", "lr-range", "generalization-gap"]
    first = doctor(model, *problem, lr=0.05, checks=checks)
    torch.manual_seed(123)  # the doctor seeds its own randomness from seed=
    second = doctor(model, *problem, lr=0.05, checks=checks)
    assert [r.numbers for r in first.results] == [r.numbers for r in second.results]
    other = doctor(model, *problem, lr=0.05, checks=checks, seed=1)
    assert other["lr-range"].numbers != first["lr-range"].numbers


def test_every_data_form_gives_the_same_data_statistics():
    train, val = teacher_problem(n_train=600, n_val=200)
    model = nn.Sequential(nn.Linear(DIMS, 8), nn.Tanh(), nn.Linear(8, CLASSES))
    forms = {
        "split": train,
        "tuple": (train.x, train.y),
        "dataset": TensorDataset(train.x, train.y),
        "loader": DataLoader(TensorDataset(train.x, train.y), batch_size=100),
    }
    numbers = {name: doctor(model, form, val, checks=["data"])["data"].numbers for name, form in forms.items()}
    reference = numbers.pop("split")
    assert reference["examples"] == 600 and sum(reference["class_counts"]) == 600
    for name, got in numbers.items():
        assert got == reference, name


def test_a_trainlab_dataset_supplies_its_validation_split_and_classes_and_no_val_means_a_holdout():
    train, val = teacher_problem(n_train=600, n_val=200)
    model = nn.Sequential(nn.Linear(DIMS, 8), nn.Tanh(), nn.Linear(8, CLASSES))
    dataset = Dataset("teacher", train, val, val, CLASSES, (DIMS,))
    report = examine(model, "softmax", dataset, checks=["data"], budget=Budget.tiny())
    assert report.meta["val_examples"] == 200 and report.meta["train_examples"] == 600
    report = examine(model, "softmax", train, checks=["data"], budget=Budget.tiny())
    assert report.meta["val_examples"] == 60 and report.meta["train_examples"] == 540
    assert "held out" in report.meta["notes"][0]


def test_more_classes_than_outputs_and_labels_out_of_range_fail_the_data_check():
    train, val = teacher_problem(n_train=300, n_val=100)
    model = nn.Sequential(nn.Linear(DIMS, 3))  # 3 outputs, labels 0..4
    data = examine(model, "softmax", train, val, num_classes=CLASSES, checks=["data"], budget=Budget.tiny())["data"]
    assert data.status == "fail"
    assert "3 outputs" in data.evidence
    data = examine(model, "softmax", train, val, checks=["data"], budget=Budget.tiny())["data"]
    assert data.status == "fail" and data.numbers["labels_outside"] == int((train.y >= 3).sum() + (val.y >= 3).sum())


def test_the_svm_initial_loss_is_checked_against_c_minus_1():
    train, val = teacher_problem(n_train=300, n_val=100)
    model = nn.Sequential(nn.Linear(DIMS, CLASSES))
    nn.init.zeros_(model[0].weight)
    nn.init.zeros_(model[0].bias)
    check = examine(model, "svm", train, val, checks=["initial-loss"], budget=Budget.tiny())["initial-loss"]
    assert check.numbers["expected"] == CLASSES - 1
    assert check.numbers["loss"] == pytest.approx(CLASSES - 1)  # all scores equal: every margin is exactly 1
    assert check.status == "pass"


@pytest.mark.parametrize("call, message", [
    (lambda m, t: examine("not a model", "softmax", t), "torch.nn.Module"),
    (lambda m, t: examine(m, "hinge", t), "unknown loss 'hinge'"),
    (lambda m, t: examine(m, "softmax", t, checks=["init-healht"]), "unknown doctor check 'init-healht'"),
    (lambda m, t: examine(m, "softmax", (t.x, t.y.float())), "integer class indices"),
    (lambda m, t: examine(m, "softmax", (t.x[:, :5], t.y)), "the model fails on a batch"),
    (lambda m, t: examine(m, "softmax", t, lr=-1.0), "lr must be > 0"),
])
def test_bad_input_raises_one_user_error_naming_the_value(call, message):
    train, _ = teacher_problem(n_train=100, n_val=10)
    with pytest.raises(UserError, match=message):
        call(nn.Sequential(nn.Linear(DIMS, CLASSES)), train)


def test_report_json_is_one_json_object_and_html_is_self_contained_and_escaped(problem, tmp_path):
    Named = type("Net<script>alert(1)</script>", (nn.Sequential,), {})
    torch.manual_seed(0)
    model = Named(nn.Linear(DIMS, 16), nn.Tanh(), nn.Linear(16, CLASSES))
    report = doctor(model, *problem, lr=0.05, checks=["data", "gradient-flow", "lr-range"])
    out = report.save(tmp_path / "doc")
    loaded = json.loads((out / "report.json").read_text())
    assert [c["id"] for c in loaded["checks"]] == ["data", "gradient-flow", "lr-range"]
    assert set(loaded["checks"][0]) >= {"id", "status", "evidence", "advice", "numbers"}
    assert loaded["ok"] == (not report.failed)
    html = (out / "report.html").read_text()
    assert "<script>" not in html and "Net&lt;script&gt;" in html
    assert html.count("data:image/png;base64,") == 2  # lr-range curve and gradient-flow profile, inline
    assert "src='http" not in html and 'src="http' not in html
    for check in ("data", "gradient-flow", "lr-range"):
        assert f"({check})" in html

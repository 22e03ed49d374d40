"""Treatments tested before they are advised: a planted fault whose fix must beat the untreated setup and a
random-change control, its healthy twin with nothing to treat, and the statistics against scipy."""
from __future__ import annotations

import json
import math

import pytest
import torch

from tests.doctor.doctor_cases import doctor, mlp
from trainlab.cli import main
from trainlab.doctor.causes import CAUSES
from trainlab.doctor.diagnosis import Hypothesis
from trainlab.doctor.treat import CATALOGUE, _difference, causes_to_treat


def test_every_fix_treats_known_causes_and_the_catalogue_covers_the_issues_list():
    assert all(set(f.treats) <= set(CAUSES) for f in CATALOGUE)
    ids = {f.id for f in CATALOGUE}
    assert ids >= {"lr-down", "lr-up", "matched-init", "standardize-inputs", "relu", "adam", "clip-gradients",
                   "cross-entropy", "weight-decay-down", "weight-decay-up"}


def _hypothesis(cause: str, status: str) -> Hypothesis:
    return Hypothesis(cause=cause, title=CAUSES[cause].title, score=1.0, status=status, evidence=("recipe",),
                      consequences=(), why="", advice="")


def test_the_causes_treated_are_the_leading_ones_the_catalogue_can_fix():
    fixable = {c for f in CATALOGUE for c in f.treats}
    assert "wrong-gradient" not in fixable and "batch-mixing" not in fixable  # the premise of the first case
    failed = [_hypothesis("wrong-gradient", "fail"), _hypothesis("lr-too-high", "fail"),
              _hypothesis("batch-mixing", "fail"), _hypothesis("dead-relu", "fail"), _hypothesis("overfitting", "fail"),
              _hypothesis("too-much-regularization", "warn")]
    assert causes_to_treat(failed) == ["lr-too-high", "dead-relu"]  # unfixable passed over, at most two
    # Failures that no fix addresses are not traded for a cause that rests on warnings only.
    assert causes_to_treat([_hypothesis("wrong-gradient", "fail"), _hypothesis("overfitting", "warn")]) == []
    # A diagnosis of warnings only is a suspicion: its leading fixable causes are tested.
    warned = [_hypothesis("too-much-regularization", "warn"), _hypothesis("batch-mixing", "warn"),
              _hypothesis("lr-too-low", "warn"), _hypothesis("overfitting", "warn")]
    assert causes_to_treat(warned) == ["too-much-regularization", "lr-too-low"]
    assert causes_to_treat([]) == []


def test_the_paired_difference_is_students_t_interval_of_the_differences():
    from scipy import stats

    a, b = [0.9, 0.8, 0.85], [0.5, 0.55, 0.4]
    d = [x - y for x, y in zip(a, b)]
    low, high = stats.t.interval(0.95, len(d) - 1, loc=sum(d) / 3, scale=stats.sem(d))
    found = _difference(a, b)
    assert found.mean == pytest.approx(sum(d) / 3) and (found.low, found.high) == pytest.approx((low, high))
    assert math.isnan(_difference([math.inf], [0.0]).mean)


def test_a_learning_rate_far_too_low_is_treated_and_the_fix_beats_untreated_and_control(problem):
    report = doctor(mlp(), *problem, lr=1e-6, optimizer="sgd", treat=True)
    assert report.diagnosis[0].cause == "lr-too-low"
    by_fix = {t.fix: t for t in report.treatments}
    assert "lr-up" in by_fix and len(by_fix) == len(report.treatments)  # each fix tested once
    up = by_fix["lr-up"]
    assert up.advised and up.accuracy_gain.low > 0 and up.accuracy_gain_over_control.low > 0
    assert up.control != "lr-up" and up.control in {f.id for f in CATALOGUE}
    assert len(up.accuracy) == len(up.untreated_accuracy) == len(up.control_accuracy) == 3
    assert report.advised[0].accuracy_gain.mean >= max(t.accuracy_gain.mean for t in report.advised)
    loaded = json.loads(json.dumps(report.to_json()))
    assert loaded["treatments"][0]["advised"] is True
    assert "Treatments tested" in report.to_text() and "Treatments, tested" in report.to_html()


def test_a_healthy_setup_gets_no_treatment_and_no_advice(problem):
    report = doctor(mlp(), *problem, lr=0.05, optimizer="momentum", treat=True)
    assert not report.failed
    assert report.treatments == [] and report.advised == []
    assert "Treatments: none tested (no finding names a cause the catalogue can treat)." in report.to_text()
    assert report.to_json()["treatments"] == []
    assert doctor(mlp(), *problem, lr=0.05, checks=["data"]).to_json()["treatments"] is None  # not asked for


def test_a_suspicion_resting_on_warnings_is_tested_too(problem):
    # Weight decay 0.1 under SGD+momentum 0.05: the regularization check warns and nothing fails (at 1.0 the
    # recipe check fails as well; at 0.01, the healthy twin, nothing is found and nothing tested).
    report = doctor(mlp(), *problem, lr=0.05, optimizer="momentum", weight_decay=0.1, treat=True)
    assert not report.failed and report.diagnosis[0].cause == "too-much-regularization"
    assert report.diagnosis[0].status == "warn"
    down = {t.fix: t for t in report.treatments}["weight-decay-down"]
    assert down.advised and down.accuracy_gain.low > 0 and down.accuracy_gain_over_control.low > 0
    assert doctor(mlp(), *problem, lr=0.05, optimizer="momentum", weight_decay=0.01, treat=True).treatments == []


def test_doctor_treat_on_the_command_line(tmp_path, capsys):
    code = main(["doctor", "--dataset", "synthetic-blobs", "--depth", "1", "--width", "16", "--lr", "1e-7",
                 "--optimizer", "sgd", "--checks", "recipe", "--treat", "--quiet", "--out", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert code == 1 and "Treatments tested" in out
    saved = json.loads((tmp_path / "d" / "report.json").read_text())
    assert saved["treatments"] and saved["diagnosis"][0]["cause"] in {"lr-too-low", "bad-optimizer-settings"}
    assert torch.is_grad_enabled()


def _patient(problem, model, recipe):
    from trainlab.doctor.patient import Budget, Patient, resolve_loss

    loss, name = resolve_loss("softmax")
    train, val = problem
    return Patient(model=model, loss_fn=loss, loss_name=name, train=train, val=val, num_classes=5, outputs=5,
                   recipe=recipe, batch_size=32, seed=0, budget=Budget.tiny(), device=torch.device("cpu"))


@pytest.mark.parametrize("clip", [None, 1.0])
def test_an_arms_seeds_batched_as_one_population_match_the_seeds_one_after_another(problem, clip):
    from trainlab.doctor.patient import Recipe
    from trainlab.doctor.treat import Setup, train_batched, train_seeds

    p = _patient(problem, mlp(), Recipe(optimizer="adam", lr=3e-3, weight_decay=1e-3))
    setup = Setup(model=mlp(), loss_fn=p.loss_fn, recipe=p.recipe, clip=clip)
    batched, one_by_one = train_batched(p, setup, range(3)), train_seeds(p, setup, range(3), batched=False)
    assert [a for a, _ in batched] == [a for a, _ in one_by_one]
    assert [v for _, v in batched] == pytest.approx([v for _, v in one_by_one], rel=1e-4)
    assert len({a for a, _ in batched}) > 1  # the seeds are different batch orders


def test_batch_norm_batched_or_not_gives_the_same_result(problem):
    from trainlab.doctor.patient import Recipe
    from trainlab.doctor.treat import Setup, train_seeds

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 5))
    p = _patient(problem, model, Recipe(optimizer="sgd", lr=0.1))
    setup = Setup(model=model, loss_fn=p.loss_fn, recipe=p.recipe)
    batched, one_by_one = train_seeds(p, setup, range(2), batched=True), train_seeds(p, setup, range(2), batched=False)
    assert [a for a, _ in batched] == [a for a, _ in one_by_one]
    assert [v for _, v in batched] == pytest.approx([v for _, v in one_by_one], rel=1e-4)


def test_a_fix_the_model_cannot_take_is_left_untested_not_fatal():
    from trainlab.doctor import Budget, examine

    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 4, generator=g)
    y = (x[:, 0] > 0).long()
    torch.manual_seed(0)
    one_score = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    # One score for two classes, squashed by a sigmoid into a binary cross-entropy: cross-entropy over one
    # output cannot be trained against labels 0/1, so that fix is not tested, and examine still returns.
    loss = lambda s, t: torch.nn.functional.binary_cross_entropy_with_logits(s[:, 0], t.float())  # noqa: E731
    report = examine(one_score, loss, (x, y), num_classes=2, lr=0.1, budget=Budget.tiny(), treat=True,
                     checks=["data"])
    assert report["data"].status == "fail"
    assert "cross-entropy" not in {t.fix for t in report.treatments}

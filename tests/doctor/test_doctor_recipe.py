"""The user's recipe as the patient: planted recipe faults beside the same model trained well."""
from __future__ import annotations

import pytest

from tests.doctor.doctor_cases import doctor, mlp
from trainlab.doctor.checks.recipe import progress


def judged(problem, **recipe):
    report = doctor(mlp(depth=2, width=64, activation="relu", init="he-normal"), *problem,
                    checks=["recipe"], **recipe)
    return report["recipe"]


def test_progress_is_one_minus_the_tails_median_over_the_first_losses():
    first, tail, gained = progress([4.0, 9.0, 4.0] + [3.0] * 10 + [1.0, 1.0, 1.0, 9.0, 1.0])
    assert (first, tail, gained) == (4.0, 1.0, 0.75)  # the median ignores the one bad batch in the tail


def test_a_sound_recipe_passes_and_none_is_skipped(problem):
    assert judged(problem, lr=0.05, optimizer="momentum").status == "pass"
    assert judged(problem).status == "skipped"


@pytest.mark.parametrize("lr, cause", [(1e-6, "lr-too-low"), (30.0, "lr-too-high")])
def test_a_learning_rate_far_off_fails_and_names_its_direction(problem, lr, cause):
    result = judged(problem, lr=lr, optimizer="sgd")
    assert result.status == "fail", result.evidence
    assert result.causes[0] == cause


def test_weight_decay_that_swamps_the_loss_is_named(problem):
    result = judged(problem, lr=0.05, optimizer="momentum", weight_decay=5.0)
    assert result.status in ("warn", "fail"), result.evidence
    assert result.causes[0] == "too-much-regularization"

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


def test_a_recipe_that_trains_rules_out_the_recipes_faults_and_one_that_does_not_rules_out_nothing(problem):
    sound = judged(problem, lr=0.05, optimizer="momentum")
    assert {"lr-too-high", "lr-too-low", "bad-optimizer-settings"} <= set(sound.rules_out)
    assert "too-little-capacity" in sound.rules_out  # it generalizes far above chance
    assert judged(problem, lr=1e-6, optimizer="sgd").rules_out == ()


def test_the_reference_recipe_is_trained_alone_and_rules_out_what_it_trains_past(problem):
    from trainlab.doctor.patient import DOCTOR_RECIPE

    result = judged(problem, lr=DOCTOR_RECIPE.lr, optimizer=DOCTOR_RECIPE.optimizer)
    assert result.status == "pass" and "nothing to compare" in result.evidence, result.evidence
    assert result.numbers["your_lift"] > 0.3 and "lr-too-high" in result.rules_out


def test_a_recipe_somewhat_slower_than_the_reference_rules_out_only_a_rate_too_high(problem):
    slower = judged(problem, lr=0.02, optimizer="sgd")
    assert slower.status == "pass" and 0.6 <= slower.numbers["progress_ratio"] < 0.9, slower.evidence
    assert "lr-too-high" in slower.rules_out and "lr-too-low" not in slower.rules_out


def test_heavy_momentum_is_named_from_099_on_and_never_for_adam():
    from trainlab.doctor.patient import Recipe, heavy_momentum

    assert "100x the learning rate" in heavy_momentum(Recipe(optimizer="momentum", lr=0.01, momentum=0.99))
    assert "1000x" in heavy_momentum(Recipe(optimizer="sgd", lr=0.01, momentum=0.999))
    assert heavy_momentum(Recipe(optimizer="momentum", lr=0.01, momentum=0.98)) is None
    assert heavy_momentum(Recipe(optimizer="momentum", lr=0.01)) is None  # its default, 0.9
    assert heavy_momentum(Recipe(optimizer="adam", lr=0.01, momentum=0.999)) is None
    assert heavy_momentum(None) is None


def test_an_unstable_run_under_heavy_momentum_names_the_setting_before_the_rate(problem):
    """Momentum 0.999 at a rate that trains this net at momentum 0.9 (DeepFD's optimizer-settings faults)."""
    heavy = judged(problem, lr=0.1, optimizer="momentum", momentum=0.999)
    assert heavy.status in ("warn", "fail"), heavy.evidence
    assert heavy.causes[0] == "bad-optimizer-settings" and "momentum 0.999" in heavy.advice
    assert judged(problem, lr=0.1, optimizer="momentum", momentum=0.9).status == "pass"


def test_lr_range_names_heavy_momentum_first_when_the_rate_is_above_its_explosion_point(problem):
    def lr_range(momentum: float):
        return doctor(mlp(depth=2, width=64, activation="relu", init="he-normal"), *problem, checks=["lr-range"],
                      lr=3.0, optimizer="momentum", momentum=momentum)["lr-range"]

    heavy = lr_range(0.999)
    assert heavy.status == "warn" and heavy.causes == ("bad-optimizer-settings", "lr-too-high"), heavy.evidence
    assert heavy.advice.startswith("Your momentum 0.999")
    assert lr_range(0.9).status == "pass"

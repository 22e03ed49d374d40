"""preprocessing-effects at the smoke budget: the pitfall's numbers against closed forms."""
from __future__ import annotations

import pytest

from trainlab.experiments import Context, run_experiment
from trainlab.experiments.cs231n.preprocessing import ORDER, claims


@pytest.fixture(scope="module")
def record(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("prep")
    return run_experiment("preprocessing-effects",
                          Context(out, profile="smoke", data_dir=str(data_dir), progress=False))


def test_every_preprocessing_is_trained_and_reported(record):
    assert [r["preprocess"] for r in record["tables"]["best"]] == list(ORDER)
    assert all(r["status"] == "completed" for r in record["tables"]["runs"])
    assert any("not centred" in note for note in record["notes"])  # the uncentred fit warned


def test_pitfall_numbers(record):
    pit = {r["measure"]: r["value"] for r in record["tables"]["pitfall"]}
    # Centred PCA whitening: zero-mean features; the first has variance lambda_1 / (lambda_1 + eps) ~ 1.
    assert abs(pit["pca-white:first_feature_mean"]) < 1e-4
    assert pit["pca-white:first_feature_var"] == pytest.approx(1.0, abs=0.01)
    # Uncentred: the first direction is the mean image and the first feature an offset.
    assert pit["pca-white-uncentred:cos_first_component_mean"] > 0.99
    claims = {c["id"]: c for c in record["claims"]}
    assert claims["uncentred-pca-first-component-is-the-mean"]["holds"] is True
    near = {r["whitening"]: r["mean_squared_distance"] for r in record["tables"]["distance_to_input"]}
    assert claims["zca-closest-to-input"]["holds"] == (near["zca"] < near["pca-white"])


def test_accuracy_claims_are_not_decided_on_runs_that_did_not_train():
    pit = {f"{name}:{measure}": value for name in ("pca-white", "pca-white-uncentred")
           for measure, value in (("cos_first_component_mean", 1.0), ("first_feature_mean", 1.0),
                                  ("first_feature_var", 0.1))}
    near = {"zca": 400.0, "pca-white": 750.0}

    def verdicts(**accuracy: float | None) -> dict:
        trained = {"none": 0.39, "mean": 0.41, "standardize": 0.42, "pca-white": 0.30, "zca": 0.30,
                   "pca-white-uncentred": 0.29}
        final = {name: {"val_accuracy": a} for name, a in {**trained, **accuracy}.items()}
        return {c.id: c for c in claims(final, pit, near, chance=0.11, budget="500 steps")}

    ok = verdicts()
    assert ok["centring-helps"].holds is True and ok["uncentred-pca-trains-no-better"].holds is True
    assert verdicts(mean=0.38)["centring-helps"].holds is False
    stuck = verdicts(none=0.12)["centring-helps"]  # raw pixels at chance: "centring helps" is not decided on it
    assert stuck.holds is None and "none 12.0% did not train" in stuck.evidence and "500 steps" in stuck.evidence
    both = verdicts(**{"pca-white": 0.11, "pca-white-uncentred": None})["uncentred-pca-trains-no-better"]
    assert both.holds is None and "pca-white-uncentred diverged" in both.evidence
    assert verdicts(none=0.12)["zca-closest-to-input"].holds is True  # no model in it

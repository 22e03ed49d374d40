"""preprocessing-effects at the smoke budget: the pitfall's numbers against closed forms."""
from __future__ import annotations

import pytest

from trainlab.experiments import Context, run_experiment
from trainlab.experiments.cs231n.preprocessing import ORDER


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

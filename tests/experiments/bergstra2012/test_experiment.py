"""bergstra2012: the synthetic objective and grids are what they claim; the smoke pipeline runs."""
from __future__ import annotations

import json

import numpy as np

from trainlab.experiments.base import Context, run_experiment
from trainlab.experiments.bergstra2012.experiment import (
    DIMS,
    grid_points,
    mnist_claim,
    objective,
    real_trials,
    synthetic,
    synthetic_problem,
)


def test_grids_cover_two_values_per_axis_and_only_two_axes_matter():
    full = grid_points(128)
    assert full.shape == (128, DIMS) and len({tuple(p) for p in full}) == 128
    assert all(set(full[:, i]) == {0.0, 1.0} for i in range(DIMS))
    assert all(set(grid_points(128, "grid-centered")[:, i]) == {0.25, 0.75} for i in range(DIMS))
    assert set(grid_points(4)[:, 5]) == {0.5}
    weights, optimum = synthetic_problem(np.random.default_rng(0))
    assert (weights > 0).sum() == 2
    x = np.random.default_rng(1).uniform(0, 1, (5, DIMS))
    moved = x.copy()
    moved[:, weights == 0] = 0.123  # the unimportant axes change nothing
    assert np.allclose(objective(x, weights, optimum), objective(moved, weights, optimum))
    assert objective(optimum, weights, optimum) == 0


def test_random_search_beats_the_128_grid_mostly():
    best = synthetic(300, seed=0)
    assert (best["random"][16] <= best["grid"][128]).mean() >= 0.8
    assert (best["random"][8] <= best["grid"][128]).mean() >= 0.8
    # the kindest grid is harder to beat than the range-spanning one
    assert (best["grid-centered"][128] <= best["grid"][128]).mean() > 0.5
    # the best of more random trials is never worse (prefix budgets of one draw)
    assert np.all(best["random"][128] <= best["random"][16])


def test_real_grid_is_the_product_of_two_values():
    trials = real_trials("grid", 16, (32, 64, 128, 256), np.random.default_rng(0))
    assert len(trials) == 16 and len({tuple(sorted(t.items())) for t in trials}) == 16
    assert {t["width"] for t in trials} == {64, 256}


def test_smoke_profile_writes_the_budgets_table(tmp_path, data_dir):
    record = run_experiment("bergstra2012", Context(out=tmp_path, profile="smoke", data_dir=str(data_dir),
                                                    progress=False))
    rows = record["tables"]["budgets"]
    assert {(r["problem"], r["method"]) for r in rows} == {("synthetic", "grid"), ("synthetic", "random"),
                                                          ("synthetic", "grid-centered"),
                                                          ("mnist-mlp", "grid"), ("mnist-mlp", "random")}
    assert all(set(r) == {"problem", "method", "trials", "best_mean", "best_std"} for r in rows)
    mnist = [r for r in rows if r["problem"] == "mnist-mlp"]
    assert all(0.0 <= r["best_mean"] <= 1.0 for r in mnist)
    assert {c["id"] for c in record["claims"]} >= {"random-8-16-vs-grid-128", "mnist-random-vs-grid"}
    assert json.loads((tmp_path / "results.json").read_text())["experiment"] == "bergstra2012"
    assert (tmp_path / "report.html").is_file()


def test_mnist_claim_is_not_decided_on_searches_whose_best_model_did_not_train():
    grid = np.array([0.913, 0.910, 0.916, 0.915])

    def claim(random: list[float]):
        best = {"grid": {16: grid}, "random": {4: np.array(random) - 0.03, 16: np.array(random)}}
        return mnist_claim(best, chance=0.1135, budget="300 steps of 64 per trial, 4 seeds")

    assert claim([0.915, 0.914, 0.918, 0.916]).holds is True
    assert claim([0.85, 0.86, 0.84, 0.85]).holds is False
    stuck = claim([0.915, 0.914, 0.12, 0.916])  # one seed's random trials all stalled at chance
    assert stuck.holds is None and "random 16's best (worst seed) 12.0% did not train" in stuck.evidence
    assert "4 seeds" in stuck.evidence

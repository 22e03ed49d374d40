"""bn-learning-rates at the smoke budget: a complete grid, divergence recorded, claims from the numbers."""
from __future__ import annotations

import pytest

from trainlab.experiments import Context, run_experiment
from trainlab.experiments.ioffe2015.learning_rates import BUDGETS, TRAINED


@pytest.fixture(scope="module")
def record(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("bnlr")
    return run_experiment("bn-learning-rates", Context(out, profile="smoke", data_dir=str(data_dir), progress=False))


def test_grid_is_complete_and_outcomes_are_consistent(record):
    grid = record["tables"]["grid"]
    budget = BUDGETS["smoke"]
    assert sorted((r["bn"], r["lr"], r["init_scale"]) for r in grid) == sorted(
        (bn, lr, s) for bn in (False, True) for lr in budget.lrs for s in budget.scales)
    for r in grid:
        if r["status"] == "diverged":
            assert r["outcome"] == "diverged" and r["val_accuracy"] is None and r["steps"] < budget.steps
        else:
            assert r["outcome"] == ("trained" if r["val_accuracy"] >= TRAINED else "stalled")


def test_divergence_is_an_outcome_and_the_claim_counts_it(record):
    grid = record["tables"]["grid"]
    # lr 3 on a plain ReLU net with He-normal weights times 4 blows up within the budget.
    plain = next(r for r in grid if not r["bn"] and r["lr"] == 3.0 and r["init_scale"] == 4.0)
    assert plain["outcome"] == "diverged"
    diverged = {bn: sum(r["outcome"] == "diverged" for r in grid if r["bn"] == bn) for bn in (False, True)}
    trained = {bn: sum(r["outcome"] == "trained" for r in grid if r["bn"] == bn) for bn in (False, True)}
    claim = next(c for c in record["claims"] if c["id"] == "bn-diverges-less")
    assert claim["holds"] == (diverged[True] < diverged[False] and trained[True] > trained[False])

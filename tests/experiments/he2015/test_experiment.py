"""he2015: the closed-form predictions, and every verdict recomputed from the tables it reports."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import torch

from trainlab.experiments.base import Context, run_experiment
from trainlab.experiments.he2015.experiment import (
    BUDGETS,
    LOG2_TOLERANCE,
    STALL_FRACTION,
    TRAINED_FRACTION,
    deep_claim,
    moderate_claim,
    predicted_backward_ratio,
    predicted_output_ratio,
)


def shared_data() -> str | None:
    """The shared MNIST folder if present; without it the experiment falls back to Shapeset-3x2."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return os.environ.get("TRAINLAB_DATA") or (str(path) if path.is_dir() else None)


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("he2015")
    ctx = Context(out=out, profile="smoke", progress=False, data_dir=shared_data())
    return run_experiment("he2015", ctx), out


def test_prediction_is_the_closed_form():
    # Xavier c=1 vs He c=2 over D hidden ReLU layers + the output layer: sqrt((1/2)^D / 2) = 2^-(D+1)/2.
    for depth in (1, 8, 30):
        assert predicted_output_ratio(depth) == pytest.approx(math.sqrt(0.5 ** depth / 2.0))
        assert predicted_backward_ratio("xavier", depth) == pytest.approx(math.sqrt(0.5 ** (depth - 1)))
        assert predicted_backward_ratio("he", depth) == 1.0


def test_prediction_matches_a_float64_monte_carlo():
    """Mean square of the output of wide ReLU nets in float64, averaged over networks, Xavier over He."""
    depth, width, nets = 6, 400, 12
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, width, dtype=torch.float64, generator=gen)
    mean_square = {}
    for c in (1.0, 2.0):
        total = 0.0
        for _ in range(nets):
            h = x
            for layer in range(depth + 1):
                w = torch.randn(width, width, dtype=torch.float64, generator=gen) * math.sqrt(c / width)
                h = h @ w.T
                if layer < depth:
                    h = torch.relu(h)
            total += float(h.pow(2).mean())
        mean_square[c] = total / nets
    measured = 0.5 * math.log2(mean_square[1.0] / mean_square[2.0])
    assert measured == pytest.approx(math.log2(predicted_output_ratio(depth)), abs=0.35)


def test_output_ratio_claim_is_computed_from_the_table(record):
    rec, _ = record
    depth = BUDGETS["smoke"].deep
    (row,) = rec["tables"]["output_ratio"]
    assert row["predicted_log2_ratio"] == pytest.approx(-(depth + 1) / 2)
    layers = rec["tables"]["init_layers"]
    out = {r["init"]: r["forward_rms"] for r in layers if r["kind"] == "output"}
    assert row["measured_log2_ratio"] == pytest.approx(math.log2(out["xavier"] / out["he"]), rel=1e-9)
    claim = next(c for c in rec["claims"] if c["id"] == "output-ratio")
    gap = abs(row["measured_log2_ratio"] - row["predicted_log2_ratio"])
    assert claim["holds"] == (gap <= max(LOG2_TOLERANCE, 3 * row["standard_error"]))


def test_backward_rows_come_from_the_per_layer_table(record):
    rec, _ = record
    depth = BUDGETS["smoke"].deep
    layers = rec["tables"]["init_layers"]
    for row in rec["tables"]["backward_ratio"]:
        rms = {r["layer"]: r["backprop_grad_rms"] for r in layers if r["init"] == row["init"]}
        assert row["measured_log2_ratio"] == pytest.approx(math.log2(rms[1] / rms[depth]), rel=1e-9)


def test_training_verdicts_follow_the_stated_rules(record):
    rec, _ = record
    budget = BUDGETS["smoke"]
    rows = {(r["hidden_layers"], r["init"]): r for r in rec["tables"]["training"]}
    assert len(rows) == 4
    for r in rows.values():
        assert r["final_over_initial"] == pytest.approx(r["final_train_loss"] / r["initial_loss"])
    claims = {c["id"]: c for c in rec["claims"]}
    he, xavier = rows[budget.deep, "he"], rows[budget.deep, "xavier"]
    expected = he["final_over_initial"] < TRAINED_FRACTION and xavier["final_over_initial"] > STALL_FRACTION
    neither = min(he["final_over_initial"], xavier["final_over_initial"]) >= TRAINED_FRACTION
    assert claims["deep-xavier-stalls"]["holds"] == (None if neither else expected)
    he, xavier = rows[budget.moderate, "he"], rows[budget.moderate, "xavier"]
    a, b = he["steps_to_60pct_loss"], xavier["steps_to_60pct_loss"]
    assert claims["moderate-both-train"]["holds"] == (None if a is None or b is None else a < b)


def _curve(final: float, *, status: str = "completed", reached: int | None = None, steps: int = 1000) -> dict:
    """What the training claims read from one run: a loss curve from 2.3 to ``final`` x 2.3, falling below
    60% of the initial loss at step ``reached`` (never if None)."""
    loss = [2.3 if reached is None or i + 1 < reached else final * 2.3 for i in range(steps)]
    return {"initial_loss": 2.3, "loss": loss, "final_loss": final * 2.3, "status": status}


def test_training_claims_are_not_decided_on_nets_that_did_not_train():
    budget = BUDGETS["quick"]
    deep, mid = budget.deep, budget.moderate

    def curves(**runs: dict) -> dict:
        default = {"he": _curve(0.3, reached=100), "xavier": _curve(0.99)}
        return {(depth, name): runs.get(f"{name}{depth}", default[name]) for depth in (deep, mid) for name in default}

    assert deep_claim(curves(), budget).holds is True  # He trained, Xavier stalled: measured
    assert deep_claim(curves(**{f"xavier{deep}": _curve(0.4, reached=500)}), budget).holds is False
    stuck = deep_claim(curves(**{f"he{deep}": _curve(0.99)}), budget)  # neither trained: the budget was too small
    assert stuck.holds is None and "not testable" in stuck.evidence and "He did not train" in stuck.evidence
    assert deep_claim(curves(**{f"he{deep}": _curve(0.99, status="diverged")}), budget).holds is False

    both = {f"xavier{mid}": _curve(0.5, reached=700)}
    assert moderate_claim(curves(**both), budget).holds is True
    assert moderate_claim(curves(**both, **{f"he{mid}": _curve(0.5, reached=800)}), budget).holds is False
    slow = moderate_claim(curves(), budget)  # Xavier never reached 60% of its initial loss in 1,000 steps
    assert slow.holds is None and "xavier did not train within 1000 steps" in slow.evidence
    diverged = moderate_claim(curves(**{f"xavier{mid}": _curve(9.0, status="diverged")}), budget)
    assert diverged.holds is False and "xavier diverged" in diverged.evidence


def test_report_and_figures_are_written(record):
    rec, out = record
    assert (out / "results.json").is_file() and (out / "report.html").is_file()
    assert len(rec["figures"]) == 3
    for path in rec["figures"].values():
        assert (out / path).stat().st_size > 1000

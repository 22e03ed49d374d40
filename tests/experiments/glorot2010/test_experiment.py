"""glorot2010 at the smoke budget: Table 1 and every verdict recomputed from the rows it reports."""
from __future__ import annotations

import math
import statistics
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import integrate, stats

from trainlab.experiments.base import Context, run_experiment
from trainlab.experiments.glorot2010 import claims
from trainlab.experiments.glorot2010.experiment import TABLE1_ORDER
from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, PAPER_JACOBIAN, PROFILES
from trainlab.experiments.glorot2010.table1 import TRAINED_MARGIN


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("glorot2010")
    return run_experiment("glorot2010", Context(out=out, profile="smoke", progress=False)), out


def test_paper_table_is_the_published_one(record):
    rec, _ = record
    paper = {(r["dataset"], r["activation"]): r["test_error"] for r in rec["paper"]["table1"]}
    assert [paper["Shapeset-3x2", k] for k in CONFIGURATIONS] == [16.27, 16.06, 27.15, 15.60, 82.61]
    assert [paper["MNIST", k] for k in CONFIGURATIONS] == [1.64, 1.72, 1.76, 1.64, 2.21]
    assert [paper["CIFAR-10", k] for k in CONFIGURATIONS] == [55.78, 53.8, 55.9, 52.92, 57.28]
    assert [paper["Small-ImageNet", k] for k in CONFIGURATIONS] == [69.14, 68.13, 70.58, 68.57, 70.66]
    assert any("Small-ImageNet" in note for note in rec["notes"])


def test_table1_is_the_best_validation_rate_with_a_t_interval(record):
    rec, _ = record
    profile = PROFILES["smoke"]
    members = rec["tables"]["members"]
    assert len(members) == len(CONFIGURATIONS) * len(profile.lrs) * profile.seeds
    for row in rec["tables"]["table1"]:
        mine = [m for m in members if m["activation"] == row["activation"] and m["dataset"] == row["dataset"]]
        val = {lr: np.mean([100.0 if m["val_error"] is None else m["val_error"] for m in mine if m["lr"] == lr])
               for lr in profile.lrs}
        stopped = {m["lr"] for m in mine if m["status"] == "pruned"}  # by a rung: not compared with the end
        assert val[row["lr"]] == min(v for lr, v in val.items() if lr not in stopped)
        tests = [m["test_error"] for m in mine if m["lr"] == row["lr"] and m["test_error"] is not None]
        assert row["test_error"] == pytest.approx(np.mean(tests))
        low, high = stats.t.interval(0.95, len(tests) - 1, loc=np.mean(tests), scale=stats.sem(tests)) \
            if np.std(tests) > 0 else (np.mean(tests), np.mean(tests))
        assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((low, high))


def _verdict(diffs: list[tuple[float, float]]) -> bool | None:
    if any(abs(d) <= claims.RESOLVED * se for d, se in diffs):
        return None
    return all(d > 0 for d, _ in diffs)


def test_table1_claims_follow_the_rows(record):
    rec, _ = record
    rows = {r["activation"]: r for r in rec["tables"]["table1"] if r["dataset"] == "Shapeset-3x2"}
    mean = {k: r["test_error"] for k, r in rows.items()}
    var = {k: (r["test_error_std"] or 0.0) ** 2 / r["seeds"] for k, r in rows.items()}
    verdicts = {c["id"]: c["holds"] for c in rec["claims"]}
    for row in rows.values():  # trained: the top of the interval at least TRAINED_MARGIN points below chance
        assert row["trained"] == (row["ci95_high"] <= row["chance_error"] - TRAINED_MARGIN)
    all_trained = all(r["trained"] for r in rows.values())
    four = ("Tanh", "Tanh N", "Softsign", "Softsign N")
    worst = max((k for k in mean if k != "Sigmoid"), key=mean.get)
    sigmoid = (mean["Sigmoid"] - mean[worst], math.sqrt(var["Sigmoid"] + var[worst]))
    assert verdicts["table1-sigmoid-worst"] == (_verdict([sigmoid]) if all_trained else None)
    gain = ((mean["Tanh"] - mean["Tanh N"]) - (mean["Softsign"] - mean["Softsign N"]),
            math.sqrt(sum(var[k] for k in four)))
    assert verdicts["table1-normalized-helps-tanh"] == (
        _verdict([gain]) if all(rows[k]["trained"] for k in four) else None)


def test_claims_on_table1_are_not_decided_on_rows_that_did_not_train():
    def row(activation: str, error: float, trained: bool) -> dict:
        return {"dataset": "MNIST", "activation": activation, "test_error": error, "ci95_low": error,
                "ci95_high": error, "seeds": 4, "seeds_trained": 4 if trained else 0, "test_error_std": 0.1,
                "trained": trained, "chance_error": 88.65, "budget": "25,000 updates"}

    trained = [row("Softsign", 3.3, True), row("Softsign N", 3.0, True), row("Tanh", 3.2, True),
               row("Tanh N", 2.7, True)]
    assert claims.sigmoid_worst(trained + [row("Sigmoid", 6.0, True)]).holds is True
    stuck = claims.sigmoid_worst(trained + [row("Sigmoid", 88.65, False)])
    assert stuck.holds is None and "did not train" in stuck.evidence and "0 of 4 seeds" in stuck.evidence
    assert claims.normalized_helps_tanh_most(trained[:3] + [row("Tanh N", 88.0, False)]).holds is None
    gave_up = {**row("Sigmoid", 0.0, False), "test_error": None, "ci95_low": None, "ci95_high": None,
               "stopped_at": 10_000, "val_error_when_stopped": 88.6}
    stopped = claims.sigmoid_worst(trained + [gave_up])
    assert stopped.holds is None and "stopped at 10,000 updates" in stopped.evidence and "88.6%" in stopped.evidence


def test_table1_jobs_cover_every_configuration():
    assert sorted(TABLE1_ORDER) == sorted(CONFIGURATIONS)


def test_the_paper_satisfies_its_own_orderings(record):
    rec, _ = record
    table = [{**r, "ci95_low": r["test_error"], "ci95_high": r["test_error"]} for r in rec["paper"]["table1"]]
    assert claims.sigmoid_worst(table).holds is True
    assert claims.normalized_helps_tanh_most(table).holds is True


def test_quarter_circle_prediction():
    # Mean of the quarter-circle law on [0, 2], and a random square matrix of uniform entries.
    mean, _ = integrate.quad(lambda s: s * math.sqrt(4 - s * s) / math.pi, 0, 2)
    assert claims.predicted_jacobian_mean("normalized") == pytest.approx(mean)
    assert claims.predicted_jacobian_mean("standard") == pytest.approx(mean / math.sqrt(3))
    n = 400
    w = np.random.default_rng(0).uniform(-1 / math.sqrt(n), 1 / math.sqrt(n), (n, n))  # the standard init
    assert np.linalg.svd(w, compute_uv=False).mean() == pytest.approx(claims.predicted_jacobian_mean("standard"),
                                                                      rel=0.02)


def test_init_claims_follow_the_rows(record):
    rec, _ = record
    verdicts = {c["id"]: c["holds"] for c in rec["claims"]}
    spread = {}
    for label in ("Tanh", "Tanh N"):
        var = [r["backprop_grad_var"] for r in rec["tables"]["init_layers"] if r["configuration"] == label]
        assert len(var) == PROFILES["smoke"].depth
        spread[label] = max(var) / min(var)
    assert verdicts["normalized-keeps-backprop-variance"] == (spread["Tanh N"] <= claims.FLAT_FACTOR < spread["Tanh"])
    means = {init: statistics.fmean(r["mean_singular_value"] for r in rec["tables"]["jacobian"]
                                    if r["configuration"] == label)
             for label, init in (("Tanh", "standard"), ("Tanh N", "normalized"))}
    expected = all(abs(means[i] - PAPER_JACOBIAN[i]) <= claims.JACOBIAN_TOLERANCE for i in means)
    assert verdicts["jacobian-singular-values"] == expected


def _fake_run(p98: list[list[float]], steps: list[int]) -> SimpleNamespace:
    """Just what the saturation claim reads: per-layer 98th/2nd percentiles over probed steps."""
    series = {"p98": p98, "p2": [[-v for v in layer] for layer in p98]}
    return SimpleNamespace(series=lambda quantity, field: (steps, series[field]),
                           records=[SimpleNamespace(step=steps[-1])])


def test_sequential_saturation_rule():
    steps = [0, 100, 200, 300]
    bottom_up = _fake_run([[0.5, 0.99, 0.99, 0.99], [0.3, 0.5, 0.98, 0.99], [0.2, 0.3, 0.4, 0.5]], steps)
    assert claims.tanh_sequential(bottom_up).holds is True
    top_first = _fake_run([[0.5, 0.6, 0.99, 0.99], [0.3, 0.98, 0.99, 0.99], [0.2, 0.3, 0.4, 0.5]], steps)
    assert claims.tanh_sequential(top_first).holds is False
    too_short = _fake_run([[0.5, 0.99, 0.99, 0.99], [0.3, 0.5, 0.6, 0.7]], steps)
    assert claims.tanh_sequential(too_short).holds is None


def test_sigmoid_rule_needs_the_top_layer_lowest_on_the_plateau():
    steps = [0, 100, 200]
    means = {"mean": [[0.5, 0.5, 0.5], [0.5, 0.3, 0.05]]}

    def run(errors: list[float]) -> SimpleNamespace:
        return SimpleNamespace(series=lambda quantity, field: (steps, means[field]),
                               test_error=list(zip(steps, errors)))

    assert claims.sigmoid_top_saturates(run([0.89, 0.88, 0.85])).holds is True
    assert claims.sigmoid_top_saturates(run([0.89, 0.60, 0.40])).holds is False  # learning had begun
    means["mean"] = [[0.5, 0.5, 0.5], [0.5, 0.3, 0.2]]
    assert claims.sigmoid_top_saturates(run([0.89, 0.88, 0.85])).holds is False  # never below 0.1


def test_every_figure_is_written(record):
    rec, out = record
    assert (out / "report.html").is_file()
    captions = " ".join(rec["figures"])
    for number in (2, 3, 4, 6, 7, 8, 9, 10, 11):
        assert f"Figure {number}:" in captions
    assert "Jacobian" in captions
    for path in rec["figures"].values():
        assert (out / path).stat().st_size > 1000
    assert len(rec["claims"]) == 7 and all(c["evidence"] for c in rec["claims"])


def test_confidence_interval_is_students_t_clipped_to_percent_bounds():
    from scipy import stats

    from trainlab.experiments.glorot2010.table1 import confidence_interval

    values = [50.0, 52.0, 55.0]
    expected = stats.t.interval(0.95, 2, loc=sum(values) / 3, scale=stats.sem(values))
    assert confidence_interval(values) == pytest.approx(expected)
    assert confidence_interval([3.0, 26.9]) == (0.0, 100.0)


def test_every_profile_name_of_glorot2010_is_a_known_one_and_only_it_has_standard():
    from trainlab.errors import UserError
    from trainlab.experiments.base import PROFILES as NAMES, get_experiment, require_profile

    glorot = get_experiment("glorot2010")
    assert set(glorot.profiles) == set(PROFILES) <= set(NAMES)
    require_profile(glorot, "standard")
    assert PROFILES["standard"].width == 1000 and [d.name for d in PROFILES["standard"].datasets] == ["mnist"]
    with pytest.raises(UserError, match="he2015 has no profile 'standard'"):
        require_profile(get_experiment("he2015"), "standard")

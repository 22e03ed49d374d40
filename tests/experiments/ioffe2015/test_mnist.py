"""ioffe2015-mnist at the smoke budget: tables are complete and the claims follow from them."""
from __future__ import annotations

import pytest

from trainlab.experiments import Context, run_experiment
from trainlab.experiments.ioffe2015.mnist import TRAINED_MARGIN, claims


@pytest.fixture(scope="module")
def record(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("ioffe")
    return run_experiment("ioffe2015-mnist", Context(out, profile="smoke", data_dir=str(data_dir), progress=False)), out


def rows(record, table, bn):
    return [r for r in record["tables"][table] if r["bn"] == bn]


def test_tables_and_figures(record):
    record, out = record
    for bn in (False, True):
        acc, pct = rows(record, "accuracy", bn), rows(record, "percentiles", bn)
        assert [r["step"] for r in acc] == [r["step"] for r in pct] and acc[0]["step"] == 0
        assert all(r["p15"] <= r["p50"] <= r["p85"] for r in pct)
    for path in record["figures"].values():
        assert (out / path).is_file()
    assert [r["bn"] for r in record["paper"]["final"]] == [r["bn"] for r in record["tables"]["final"]]
    assert all("read by eye" in r["note"] for r in record["paper"]["final"])
    assert "test_accuracy - paper" in (out / "report.html").read_text()  # the readings are matched with ours


def test_initial_state_matches_closed_forms(record):
    record, _ = record
    # Untrained, N(0, 0.01^2) weights: the output is near uniform, so accuracy is near chance.
    assert rows(record, "accuracy", False)[0]["test_accuracy"] == pytest.approx(0.1, abs=0.05)
    # With BN (gamma 1, beta 0) the sigmoid's input is standardized over the sample: for a roughly
    # Gaussian pre-activation the 15/85th percentiles sit at -+1.036 and the median at 0.
    first = rows(record, "percentiles", True)[0]
    assert first["p15"] == pytest.approx(-1.036, abs=0.2)
    assert first["p85"] == pytest.approx(1.036, abs=0.2)
    assert first["p50"] == pytest.approx(0.0, abs=0.2)


def test_claims_follow_from_the_tables(record):
    record, _ = record
    claims = {c["id"]: c for c in record["claims"]}
    total = record["budget"]["steps_per_network"]
    base, bn = rows(record, "accuracy", False), rows(record, "accuracy", True)
    level = 0.1135 + TRAINED_MARGIN  # chance on the first 500 test images is near MNIST's 11.35%
    if min(base[-1]["test_accuracy"], bn[-1]["test_accuracy"]) < level - 0.02:  # 60 steps: nothing trained
        assert all(c["holds"] is None and "did not train" in c["evidence"] for c in record["claims"])
        return
    later = [b["test_accuracy"] - n["test_accuracy"] for b, n in zip(bn, base) if b["step"] > total / 10
             and min(b["test_accuracy"], n["test_accuracy"]) >= level]
    assert claims["bn-accuracy-at-least-baseline"]["holds"] == (min(later) >= 0 if later else None)

    def drift(flag):
        pct = rows(record, "percentiles", flag)
        tv = sum(abs(b[f"p{q}"] - a[f"p{q}"]) for q in (15, 50, 85) for a, b in zip(pct, pct[1:])) / 3
        return tv / (sum(r["p85"] - r["p15"] for r in pct) / len(pct))

    assert claims["bn-percentiles-drift-less"]["holds"] == (drift(True) < drift(False))


def test_claims_are_not_decided_on_networks_that_did_not_train():
    def curve(accuracies: list[float]) -> list[dict]:
        return [{"step": 200 * k, "test_accuracy": a} for k, a in enumerate(accuracies)]

    bn = curve([0.10, 0.80, 0.88, 0.90, 0.93, 0.95])
    drifts = {True: {"relative_drift": 0.7, "tv_p50": 2.6}, False: {"relative_drift": 2.1, "tv_p50": 5.9}}
    kwargs = {"chance": 0.1135, "budget": "1,000 steps of 60 per network"}
    trained = {c.id: c for c in claims({True: bn, False: curve([0.10, 0.11, 0.30, 0.80, 0.88, 0.90])}, drifts,
                                       1000, **kwargs)}
    assert all(c.holds is True for c in trained.values())
    assert "4 evaluations" in trained["bn-accuracy-at-least-baseline"].evidence  # step 200: baseline at chance
    worse = claims({True: bn, False: curve([0.10, 0.11, 0.30, 0.80, 0.94, 0.96])}, drifts, 1000, **kwargs)
    assert worse[0].holds is False
    stuck = claims({True: bn, False: curve([0.10, 0.11, 0.11, 0.12, 0.11, 0.11])}, drifts, 1000, **kwargs)
    assert all(c.holds is None and "baseline 11.0% did not train" in c.evidence for c in stuck)
    diverged = claims({True: bn, False: curve([0.10, 0.50, 0.90, 0.90, 0.90, 0.90])}, drifts, 1000, **kwargs,
                      status={False: "diverged", True: "completed"})
    assert all(c.holds is None and "baseline diverged" in c.evidence for c in diverged)

"""ioffe2015-mnist at the smoke budget: tables are complete and the claims follow from them."""
from __future__ import annotations

import pytest

from trainlab.experiments import Context, run_experiment


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
    assert record["paper"]["approximate_readings"]["note"].startswith("read by eye")


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
    later = [b["test_accuracy"] - n["test_accuracy"] for b, n in zip(bn, base) if b["step"] > total / 10]
    assert claims["bn-accuracy-at-least-baseline"]["holds"] == (min(later) >= 0)

    def drift(flag):
        pct = rows(record, "percentiles", flag)
        tv = sum(abs(b[f"p{q}"] - a[f"p{q}"]) for q in (15, 50, 85) for a, b in zip(pct, pct[1:])) / 3
        return tv / (sum(r["p85"] - r["p15"] for r in pct) / len(pct))

    assert claims["bn-percentiles-drift-less"]["holds"] == (drift(True) < drift(False))
    assert all(isinstance(c["holds"], bool) for c in record["claims"])

"""cs231n-optimization at the smoke budget on the shared CIFAR-10 subset."""
from __future__ import annotations

import contextlib
import io
import json
import math

import pytest

from trainlab.cli import main


@pytest.fixture(scope="module")
def record(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("cs231n-opt") / "o"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["reproduce", "cs231n-optimization", "--profile", "smoke", "--out", str(out),
                     "--data-dir", str(data_dir), "--json", "--quiet"])
    assert code == 0
    printed = json.loads(stdout.getvalue())
    assert printed == json.loads((out / "results.json").read_text())
    return printed, out


def test_tables_have_the_issue_columns(record):
    record, _ = record
    rows = record["tables"]["strategies"]
    assert [r["strategy"] for r in rows][:2] == ["random search", "random local search"]
    for r in rows:
        assert {"strategy", "test_accuracy", "final_loss", "iterations"} <= set(r)
        assert 0.0 <= r["test_accuracy"] <= 1.0
    assert {r["loss"] for r in record["tables"]["initial_loss"]} == {"softmax", "svm"}


def test_initial_losses_are_ln10_and_9(record):
    record, _ = record
    values = {r["loss"]: r for r in record["tables"]["initial_loss"]}
    assert values["softmax"]["expected"] == pytest.approx(math.log(10))
    assert values["softmax"]["value"] == pytest.approx(math.log(10), rel=0.02)
    assert values["svm"]["value"] == pytest.approx(9.0, rel=0.02)


def test_claims_follow_the_numbers(record):
    record, _ = record
    claims = {c["id"]: c for c in record["claims"]}
    acc = {r["strategy"]: r["test_accuracy"] for r in record["tables"]["strategies"]}
    assert claims["local-search-beats-random-search"]["holds"] == (acc["random local search"] > acc["random search"])
    sweep = record["tables"]["lr_sweep"]
    assert claims["lr-too-large-diverges"]["holds"] == (sweep[-1]["status"] == "diverged")
    assert claims["analytic-gradient-matches"]["holds"] is True  # the analytic SVM gradient is right
    assert record["paper"]["random_search_test_accuracy"] == 0.155


def test_figures_exist(record):
    record, out = record
    assert len(record["figures"]) == 3
    for path in record["figures"].values():
        assert (out / path).stat().st_size > 0

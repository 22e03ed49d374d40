"""cs231n-optimization at the smoke budget on the shared CIFAR-10 subset."""
from __future__ import annotations

import contextlib
import io
import json
import math

import pytest

from trainlab.cli import main
from trainlab.data import load
from trainlab.experiments.base import chance_accuracy
from trainlab.experiments.cs231n.optimization import BUDGETS, TRAINED_MARGIN, claims


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


def test_claims_follow_the_numbers(record, data_dir):
    record, _ = record
    claims = {c["id"]: c for c in record["claims"]}
    acc = {r["strategy"]: r["test_accuracy"] for r in record["tables"]["strategies"]}
    chance = chance_accuracy(load("cifar10", data_dir=str(data_dir)).test.y[:BUDGETS["smoke"]["test"]])
    learned = min(acc["random local search"], acc["random search"]) >= chance + TRAINED_MARGIN
    expected = acc["random local search"] > acc["random search"] if learned else None
    assert claims["local-search-beats-random-search"]["holds"] == expected
    sweep = record["tables"]["lr_sweep"]
    assert claims["lr-too-large-diverges"]["holds"] == (sweep[-1]["status"] == "diverged")
    assert claims["analytic-gradient-matches"]["holds"] is True  # the analytic SVM gradient is right
    paper = {r["strategy"]: r["test_accuracy"] for r in record["paper"]["strategies"]}
    assert paper == {"random search": 0.155, "random local search": 0.214}


def test_published_numbers_are_matched_with_our_tables(record):
    """The report puts each published number beside ours with 'COLUMN - paper' (trainlab.report.html)."""
    record, out = record
    html = (out / "report.html").read_text()
    assert "test_accuracy - paper" in html and "value - paper" in html
    for table in ("strategies", "initial_loss"):
        keys = {k for r in record["paper"][table] for k, v in r.items() if isinstance(v, str)}
        ours = {tuple(r[k] for k in sorted(keys)) for r in record["tables"][table]}
        assert {tuple(r[k] for k in sorted(keys)) for r in record["paper"][table]} <= ours


def test_strategy_orderings_are_not_decided_on_classifiers_that_did_not_learn():
    def verdicts(**accuracy: float | None) -> dict:
        learned = {"random search": 0.166, "random local search": 0.238, "gradient descent (full batch)": 0.338,
                   "mini-batch SGD (batch 256)": 0.358, "SGD (single example)": 0.255}
        rows = [{"strategy": k.replace("_", " "), "test_accuracy": 0.1 if a is None else a,
                 "status": "diverged" if a is None else "completed"}
                for k, a in {**learned, **{k.replace("_", " "): v for k, v in accuracy.items()}}.items()]
        sweep = [{"lr": 1e-10, "first_loss": 10.9, "final_loss": 10.8, "behaviour": "flat"},
                 {"lr": 1e-4, "iterations": 2, "status": "diverged", "final_loss": 1e3, "behaviour": "diverged"}]
        check = {"checked": 10, "kinks": 0, "max_rel_error": 1e-8, "max_rel_error_at_kinks": 0.0}
        init = [{"loss": "svm", "value": 9.0, "expected": 9.0}]
        return {c.id: c for c in claims(rows, init, sweep, check, 0.85, chance=0.11, budget="1000 tries")}

    ok = verdicts()
    assert ok["local-search-beats-random-search"].holds is True and ok["gradient-beats-local-search"].holds is True
    assert verdicts(random_local_search=0.15)["local-search-beats-random-search"].holds is False
    stuck = verdicts(random_search=0.12)["local-search-beats-random-search"]  # at chance: decides nothing
    assert stuck.holds is None and "random search 12.0% did not train" in stuck.evidence
    flat = verdicts(**{"gradient descent (full batch)": 0.11, "mini-batch SGD (batch 256)": None,
                       "SGD (single example)": 0.12})["gradient-beats-local-search"]
    assert flat.holds is None and "best gradient method" in flat.evidence and "1000 tries" in flat.evidence


def test_figures_exist(record):
    record, out = record
    assert len(record["figures"]) == 3
    for path in record["figures"].values():
        assert (out / path).stat().st_size > 0

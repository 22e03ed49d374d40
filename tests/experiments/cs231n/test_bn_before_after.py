"""bn-before-after at the smoke budget: closed forms and claims from the numbers."""
from __future__ import annotations

import math

import pytest

from trainlab.experiments.base import Context, run_experiment


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("bn")
    return run_experiment("bn-before-after", Context(out=out, profile="smoke", progress=False))


def test_relu_input_matches_the_normal_cdf(record):
    before, after = record["tables"]["relu_input"]
    phi3 = 0.5 * (1 + math.erf(3 / math.sqrt(2)))
    n = record["budget"]["samples"]
    assert before["fraction_positive"] == pytest.approx(phi3, abs=4 * math.sqrt(phi3 * (1 - phi3) / n))
    assert after["fraction_positive"] == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / n))
    assert after["mean"] == pytest.approx(0, abs=1e-9) and after["std"] == pytest.approx(1, abs=1e-9)


def _std(record, activation, bn):
    return [r["std"] for r in record["tables"]["layers"] if (r["activation"], r["batch_norm"]) == (activation, bn)]


def test_relu_without_bn_loses_a_factor_sqrt2_per_layer(record):
    # Glorot weights on square layers: Var(W) = 1/n, and ReLU keeps half the second moment
    std = _std(record, "relu", "none")
    factor = (std[-1] / std[1]) ** (1 / (len(std) - 2))
    assert factor == pytest.approx(1 / math.sqrt(2), rel=0.1)


def test_claims_follow_the_table(record):
    claims = {c["id"]: c["holds"] for c in record["claims"]}
    relu = _std(record, "relu", "none")
    assert claims["relu-shrinks-without-bn"] == (relu[-1] / relu[0] < 0.5)
    level = [s[-1] / s[0] for s in (_std(record, "sigmoid", "before"), _std(record, "relu", "before"))]
    assert claims["bn-depth-invariant"] == all(0.9 <= v <= 1.1 for v in level)
    bn_rows = [r for r in record["tables"]["layers"] if r["batch_norm"] == "before"]
    assert claims["unit-gaussian"] == all(abs(r["bn_output_mean"]) < 0.05 and abs(r["bn_output_std"] - 1) < 0.05
                                          for r in bn_rows)
    assert all(c["holds"] is not None for c in record["claims"])

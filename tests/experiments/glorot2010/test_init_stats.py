"""glorot2010-init-stats at the smoke budget: the paper's linear-regime analysis and claims from the numbers."""
from __future__ import annotations

import pytest

from trainlab.experiments.base import Context, run_experiment


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("glorot")
    return run_experiment("glorot2010-init-stats", Context(out=out, profile="smoke", progress=False))


def _column(record, init, column):
    return [r[column] for r in record["tables"]["layers"] if r["init"] == init]


def test_standard_init_shrinks_activation_variance_by_a_third_per_layer(record):
    # Var(W) = 1/(3 n): while tanh is near-linear each layer multiplies the variance by n Var(W) = 1/3
    # (at the smoke width of 200 units one layer's gain fluctuates by some 10%, hence the tolerance)
    var = _column(record, "standard", "activation_var")
    for lower, upper in zip(var[1:], var[2:]):
        assert upper / lower == pytest.approx(1 / 3, rel=0.2)
    grads = _column(record, "standard", "backprop_grad_var")
    for lower, upper in zip(grads[1:], grads[2:]):  # and the gradients by 1/3 per layer going down
        assert lower / upper == pytest.approx(1 / 3, rel=0.2)


def test_claims_follow_the_table(record):
    claims = {c["id"]: c["holds"] for c in record["claims"]}
    act = _column(record, "standard", "activation_var")
    assert claims["standard-activations-shrink"] == (act[-1] / act[0] < 0.5)
    back = _column(record, "standard", "backprop_grad_var")
    assert claims["standard-backprop-vanishes"] == (back[0] / back[-1] < 0.5)
    weights = _column(record, "standard", "weight_grad_var")
    spread_w, spread_b = max(weights) / min(weights), max(back) / min(back)
    assert claims["standard-weight-gradients-level"] == (spread_w < spread_b and spread_w < 4)
    jac = {r["init"]: r["mean_singular_value"] for r in record["tables"]["jacobian_average"]}
    assert claims["jacobian-singular-values"] == (abs(jac["normalized"] - 0.8) <= 0.15
                                                  and abs(jac["standard"] - 0.5) <= 0.15)
    assert jac["standard"] < jac["normalized"] < 1
    assert record["paper"]["jacobian_average"][0]["mean_singular_value"] == 0.5
    assert len(record["tables"]["jacobian"]) == 2 * 4  # layers 2..5, both inits

"""A healthy MLP on (a subset of) MNIST passes every check: warnings allowed, no failure, nothing skipped."""
from __future__ import annotations

import pytest
import torch

from trainlab.data import load
from trainlab.doctor import Budget, examine
from trainlab.init import initialize_
from trainlab.nn import build_model


@pytest.fixture(scope="module")
def mnist(data_dir):
    data = load("mnist", data_dir=data_dir)
    return data.train.subset(5_000), data.val.subset(1_000)


@pytest.mark.parametrize("activation, init", [("tanh", "glorot-uniform"), ("relu", "he-normal")])
def test_a_healthy_3x100_mlp_on_mnist_fails_no_check(mnist, activation, init):
    model = build_model("mlp", (1, 28, 28), 10, depth=3, width=100, activation=activation)
    initialize_(model, init, generator=torch.Generator().manual_seed(0))
    report = examine(model, "softmax", *mnist, lr=0.01, budget=Budget.tiny())
    assert report.failed == [], report.to_text()
    assert [r.id for r in report.results if r.status == "skipped"] == []
    assert report["initial-loss"].numbers["ratio"] < 1.25
    assert report["generalization-gap"].numbers["val_accuracy"] > 0.8

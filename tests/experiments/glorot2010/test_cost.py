"""The full profile's cost: the measured slice scaled by parameter count, and the GPU assumption per population."""
from __future__ import annotations

import pytest
import torch

from trainlab.experiments.glorot2010 import cost
from trainlab.experiments.glorot2010.profiles import PROFILES


def test_cost_scales_the_slice_by_parameters_and_counts_one_gpu_population_per_activation(monkeypatch):
    monkeypatch.setattr(cost, "seconds_per_update", lambda steps: 0.01)
    full = PROFILES["full"]
    out = cost.full_profile_cost(5)
    # 5x1000 on MNIST: 784*1000 + 4*1000^2 + 1000*10 weights, 5*1000 + 10 biases; Shapeset: 1024 inputs, 9 classes.
    mnist, shapeset = 784_000 + 4_000_000 + 10_000 + 5_010, 1_024_000 + 4_000_000 + 9_000 + 5_009
    mnist_steps = next(d.steps for d in full.datasets if d.name == "mnist")
    hours = 0.01 * mnist / shapeset * mnist_steps / 3600
    assert out["per model"]["mnist"].startswith(f"{hours:.1f} h per model")
    # three activations (sigmoid, tanh, softsign): three populations per dataset and for the probed runs
    steps = sum(d.steps for d in full.datasets) + full.dynamics.steps
    assert out["one GPU (assumed)"].startswith(f"{3 * steps * cost.GPU_SECONDS_PER_POPULATION_STEP / 3600:.1f} h")
    assert out["models"].startswith(f"{5 * len(full.lrs) * full.seeds} per dataset")


@pytest.mark.parametrize("name", ["shapeset", "mnist", "cifar10"])
def test_parameters_counts_weights_and_biases(name):
    inputs, classes = cost.INPUTS[name]
    layers = [torch.nn.Linear(inputs, 1000)] + [torch.nn.Linear(1000, 1000) for _ in range(4)]
    layers.append(torch.nn.Linear(1000, classes))
    assert cost.parameters(inputs, classes, 5, 1000) == sum(p.numel() for m in layers for p in m.parameters())

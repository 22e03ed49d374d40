"""What the full profile costs: one short slice of the paper's network timed here, then extrapolated.

The time of an SGD update with minibatch 10 is measured on the 5 x 1,000 tanh
network for Shapeset's 1,024 inputs and scaled to the other datasets by their
parameter count (multiply-adds grow with it at a fixed batch).
"""
from __future__ import annotations

import time
from typing import Any

import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, PROFILES
from trainlab.train import Trainer

INPUTS = {"shapeset": (1024, 9), "mnist": (784, 10), "cifar10": (3072, 10)}
# Assumption, not a measurement (no GPU here): at minibatch 10 a GPU step is bound by kernel launches and
# Python, about 1.5 ms for a whole population trained as one batched computation.
GPU_SECONDS_PER_POPULATION_STEP = 1.5e-3


def parameters(inputs: int, classes: int, depth: int, width: int) -> int:
    return inputs * width + (depth - 1) * width * width + width * classes + depth * width + classes


def seconds_per_update(steps: int) -> float:
    """Median-free simple timing: ``steps`` updates of the full network on random 32x32 inputs."""
    full = PROFILES["full"]
    gen = torch.Generator().manual_seed(0)
    split = Split(torch.rand(200, 1, 32, 32, generator=gen), torch.randint(9, (200,), generator=gen))
    dataset = Dataset("slice", split, split, split, 9, (1, 32, 32))
    config = TrainConfig(dataset="slice", depth=full.depth, width=full.width, activation="tanh",
                         batch_size=full.batch_size, steps=steps, log_every=steps, checkpoint_every=steps)
    trainer = Trainer(config, progress=False, dataset=dataset)
    started = time.perf_counter()
    trainer.fit()
    return (time.perf_counter() - started) / steps


def full_profile_cost(steps: int) -> dict[str, Any]:
    """Measured seconds per update here and the full profile's extrapolated CPU and assumed GPU time."""
    full = PROFILES["full"]
    per_update = seconds_per_update(steps)
    base = parameters(*INPUTS["shapeset"], full.depth, full.width)
    members = len(CONFIGURATIONS) * len(full.lrs) * full.seeds
    activations = len({activation for activation, _ in CONFIGURATIONS.values()})  # one population each
    cpu = gpu = 0.0
    per_configuration = {}
    for data in full.datasets:
        scale = parameters(*INPUTS[data.name], full.depth, full.width) / base
        one_run = per_update * scale * data.steps
        per_configuration[data.name] = f"{one_run / 3600:.1f} h per model ({data.steps:,} updates)"
        cpu += one_run * members
        gpu += activations * data.steps * GPU_SECONDS_PER_POPULATION_STEP
    cpu += len(CONFIGURATIONS) * full.dynamics.steps * per_update
    gpu += activations * full.dynamics.steps * GPU_SECONDS_PER_POPULATION_STEP  # the probed runs too
    return {
        "measured here": f"{per_update * 1e3:.2f} ms per update of the 5x1000 network, minibatch 10 "
                         f"({steps} updates timed on {torch.get_num_threads()} CPU thread(s))",
        "per model": per_configuration,
        "models": f"{members} per dataset ({len(CONFIGURATIONS)} configurations x {len(full.lrs)} learning "
                  f"rates x {full.seeds} seeds) + {len(CONFIGURATIONS)} probed Shapeset runs",
        "CPU, one model after another": f"{cpu / 3600:.0f} h",
        "one GPU (assumed)": f"{gpu / 3600:.1f} h, assuming {GPU_SECONDS_PER_POPULATION_STEP * 1e3:.1f} ms per "
                             f"population step with each activation's models as one population",
    }

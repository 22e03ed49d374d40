"""trainlab's training loop against a plain hand-written PyTorch loop.

Both train the same model from the same initial weights on the same shuffled
batches of MNIST. trainlab runs with everything on (metrics file, progress,
checkpoints, divergence checks); its whole ``fit()`` is timed from outside.
Validation and test sets are cut to 256 examples so that evaluation, which the
plain loop does not do, does not dominate. Target: ratio >= 0.95.
"""
from __future__ import annotations

import contextlib
import copy
import io
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from trainlab.config import TrainConfig
from trainlab.data import load
from trainlab.data.base import Dataset
from trainlab.loop import epoch_permutation
from trainlab.runs import RunDir
from trainlab.train import Trainer

CASES = [
    ("5x1000 tanh MLP, batch 128", dict(depth=5, width=1000, activation="tanh", batch_size=128), 150),
    ("3x100 sigmoid MLP, batch 60", dict(depth=3, width=100, activation="sigmoid", batch_size=60), 3000),
]


def plain_loop(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, *, lr: float, batch: int, steps: int,
               seed: int) -> float:
    """The loop people write by hand: shuffle each epoch, slice batches, SGD."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    n = len(y)
    per_epoch = -(-n // batch)
    started = time.perf_counter()
    for step in range(steps):
        epoch, i = divmod(step, per_epoch)
        if i == 0:
            perm = epoch_permutation(seed, epoch, n)
            xs, ys = x[perm], y[perm]
        xb, yb = xs[i * batch:(i + 1) * batch], ys[i * batch:(i + 1) * batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - started


def trainlab_loop(config: TrainConfig, dataset: Dataset) -> tuple[float, torch.nn.Module]:
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(io.StringIO()):
        trainer = Trainer(config, dataset=dataset, progress=True)
        trainer.run = RunDir.create(Path(tmp) / "run", config, "cpu")
        started = time.perf_counter()
        trainer.fit()
        return time.perf_counter() - started, trainer.model


def run(quick: bool = False) -> list[dict]:
    full = load("mnist")
    dataset = Dataset("mnist", full.train, full.val.subset(256), full.test.subset(256), 10, full.input_shape)
    x, y = full.train.x, full.train.y
    rows = []
    repeats = 2 if quick else 5
    for name, arch, steps in CASES:
        steps = steps // 3 if quick else steps
        config = TrainConfig(dataset="mnist", lr=0.01, steps=steps, **arch)
        reference = Trainer(config, dataset=dataset, progress=False).model
        ours, base = [], []
        for _ in range(repeats):  # alternate so drifts in machine load hit both equally
            seconds, _ = trainlab_loop(config, dataset)
            ours.append(steps * arch["batch_size"] / seconds)
            model = copy.deepcopy(reference)
            base.append(steps * arch["batch_size"] / plain_loop(model, x, y, lr=0.01, batch=arch["batch_size"],
                                                                 steps=steps, seed=config.seed))
        o, b = statistics.median(ours), statistics.median(base)
        rows.append({"benchmark": "train loop", "case": name, "ours": o, "baseline": b, "unit": "samples/s",
                     "ratio": o / b, "target": 0.95, "passed": o / b >= 0.95})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

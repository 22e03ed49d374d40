"""Watching every layer while training (Figures 2-4, 9-11) and at initialization (Figures 6-8, Jacobians).

Each configuration of Table 1 is trained on Shapeset-3x2, at one learning rate
and the first seed, with a :class:`ProbeCallback` on 300 fixed test examples
(as in the paper) and the test error measured at every probe.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.experiments.glorot2010.data import load_budgeted
from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, GlorotProfile
from trainlab.experiments.glorot2010.table1 import base_config
from trainlab.losses import get_loss
from trainlab.probe import LayerStats, Probe, ProbeCallback, ProbeConfig, ProbeRecord
from trainlab.train import Callback, Trainer, evaluate, make_model


class TestError(Callback):
    """Test error of the model every ``every`` steps and at the end."""

    def __init__(self, split: Split, every: int) -> None:
        self.split, self.every = split, every
        self.points: list[tuple[int, float]] = []

    def _measure(self, trainer: Trainer, step: int) -> None:
        _, accuracy = evaluate(trainer.model, self.split, trainer.loss_fn, trainer.device)
        self.points.append((step, 1.0 - accuracy))

    def on_step_start(self, trainer: Trainer, step: int, x: torch.Tensor, y: torch.Tensor) -> None:
        if step % self.every == 0:
            self._measure(trainer, step)

    def on_train_end(self, trainer: Trainer, result: Any) -> None:
        if not self.points or self.points[-1][0] != trainer.step:
            self._measure(trainer, trainer.step)


@dataclass
class Dynamics:
    """One probed training run."""

    label: str
    config: TrainConfig
    records: list[ProbeRecord]
    test_error: list[tuple[int, float]]
    status: str
    seconds: float

    def hidden(self, record: ProbeRecord) -> list[LayerStats]:
        """The hidden nonlinearities, bottom to top."""
        return record.of_kind("activation")

    def series(self, quantity: str, field: str) -> tuple[list[int], list[list[float]]]:
        """Steps and, per hidden layer, one statistic over training, e.g. ``("activation", "std")``.

        ``field`` is a TensorStats attribute or ``p<k>`` for a percentile.
        """
        steps = [r.step for r in self.records]
        layers = []
        for k in range(len(self.hidden(self.records[0]))):
            layers.append([_field(getattr(self.hidden(r)[k], quantity), field) for r in self.records])
        return steps, layers

    def weight_grad_std(self) -> tuple[list[int], list[list[float]]]:
        """Std of each hidden layer's weight gradient over training (Figure 9)."""
        steps = [r.step for r in self.records]
        n = len(self.hidden(self.records[0]))
        return steps, [[r.of_kind("linear")[k].weight_grad.std for r in self.records] for k in range(n)]


def _field(stats: Any, field: str) -> float:
    if stats is None:
        return float("nan")
    if field.startswith("p") and field[1:].isdigit():
        return stats.percentiles[int(field[1:])]
    return getattr(stats, field)


def probe_split(dataset: Dataset, n: int) -> Split:
    return dataset.test.subset(min(n, len(dataset.test)))


def run_dynamics(label: str, config: TrainConfig, dataset: Dataset, *, every: int, batch: int,
                 saturation: float, progress: bool) -> Dynamics:
    """Train ``config`` with probes every ``every`` steps; ``saturation`` is the probe's threshold on |u|."""
    probe_config = ProbeConfig(every=every, batch=batch, saturation_threshold=saturation)
    probes = ProbeCallback(probe_config, probe_split(dataset, batch))
    errors = TestError(dataset.test, every)
    trainer = Trainer(config, callbacks=[probes, errors], progress=progress, dataset=dataset)
    result = trainer.fit()
    return Dynamics(label, config, probes.records, errors.points, result.status, result.seconds)


def at_initialization(config: TrainConfig, dataset: Dataset, *, batch: int, jacobian_examples: int) -> ProbeRecord:
    """Activations, back-propagated and weight gradients and Jacobians of a fresh network (Figures 6-8)."""
    model = make_model(config, dataset)
    split = probe_split(dataset, batch)
    probe_config = ProbeConfig(every=1, batch=batch, jacobian=True, jacobian_examples=jacobian_examples)
    with Probe(model, config=probe_config) as probe:
        return probe.measure(split.x, split.y, get_loss(config.loss))


def probe_configurations(profile: GlorotProfile, rates: list[tuple[str, float]], *, saturation: float,
                         data_dir: str | None, seed: int) -> list[tuple[ProbeRecord, Dynamics]]:
    """One job: load the profile's Shapeset-3x2 once (its generated epochs are then shared), and for each
    ``(label, lr)`` measure that configuration at initialization and train it with probes."""
    data = load_budgeted(profile.dynamics, data_dir=data_dir, seed=seed, cache_epochs=profile.cache_epochs)
    base = base_config(profile, "shapeset", data_dir=data_dir, steps=profile.dynamics.steps)
    out = []
    for label, lr in rates:
        activation, init = CONFIGURATIONS[label]
        config = base.replace(activation=activation, init=init, lr=lr, seed=seed)
        record = at_initialization(config, data.dataset, batch=profile.probe_batch,
                                   jacobian_examples=profile.jacobian_examples)
        run = run_dynamics(label, config, data.dataset, every=profile.probe_every, batch=profile.probe_batch,
                           saturation=saturation, progress=False)
        out.append((record, run))
    return out

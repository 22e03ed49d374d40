"""The probed runs trained as populations record what a lone run with a ProbeCallback records."""
from __future__ import annotations

import pytest

from tests.helpers import blobs
from trainlab.config import TrainConfig
from trainlab.experiments.glorot2010.dynamics import probe_split, run_dynamics
from trainlab.loop import evaluate
from trainlab.probe import ProbeCallback, ProbeConfig
from trainlab.train import Callback, Trainer

BASE = TrainConfig(dataset="blobs", depth=3, width=16, activation="tanh", batch_size=10, steps=90, log_every=10,
                   lr=0.1)


class LoneTestError(Callback):
    """The lone run's test error at every probe step and at the end (what the figures plot)."""

    def __init__(self, split, every):
        self.split, self.every, self.points = split, every, []

    def on_step_start(self, trainer, step, x, y):
        if step % self.every == 0:
            self.points.append((step, 1 - evaluate(trainer.model, self.split, trainer.loss_fn, trainer.device)[1]))

    def on_train_end(self, trainer, result):
        self.points.append((trainer.step, 1 - evaluate(trainer.model, self.split, trainer.loss_fn,
                                                       trainer.device)[1]))


@pytest.mark.parametrize("activation", ["tanh", "softsign", "sigmoid"])
def test_population_probes_match_a_lone_probed_run(activation):
    data = blobs(n_train=600, n_eval=120)
    runs = [(init, BASE.replace(activation=activation, init=init, seed=3)) for init in ("standard", "glorot-uniform")]
    together = run_dynamics(runs, data, every=30, batch=50, saturation=0.975)
    for (label, config), ours in zip(runs, together):
        probes = ProbeCallback(ProbeConfig(every=30, batch=50, saturation_threshold=0.975), probe_split(data, 50))
        errors = LoneTestError(data.test, 30)
        Trainer(config, dataset=data, progress=False, callbacks=[probes, errors]).fit()
        assert [r.step for r in ours.records] == [r.step for r in probes.records] == [0, 30, 60, 90]
        assert [s for s, _ in ours.test_error] == [s for s, _ in errors.points]
        assert [e for _, e in ours.test_error] == pytest.approx([e for _, e in errors.points], abs=1e-9)
        for mine, ref in zip(ours.records, probes.records):
            for a, b in zip(mine.layers, ref.layers):
                assert a.name == b.name
                for quantity in ("activation", "backprop_grad", "weight_grad"):
                    x, y = a.quantity(quantity), b.quantity(quantity)
                    if y is None:
                        assert x is None
                        continue
                    assert x.mean == pytest.approx(y.mean, rel=1e-3, abs=1e-7), (label, mine.step, a.name, quantity)
                    assert x.std == pytest.approx(y.std, rel=1e-3, abs=1e-7), (label, mine.step, a.name, quantity)
                    assert x.saturated_fraction == pytest.approx(y.saturated_fraction, abs=0.01)

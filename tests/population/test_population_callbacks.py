"""A population's callbacks see each evaluation, with every member's weights as a lone run has them then."""
from __future__ import annotations

import pytest
import torch

from tests.helpers import blobs
from trainlab.config import TrainConfig
from trainlab.loop import Callback, evaluate
from trainlab.population import train_population
from trainlab.train import Trainer

BASE = TrainConfig(dataset="blobs", depth=2, width=16, activation="tanh", batch_size=32, steps=60, log_every=10,
                   eval_every=20)


class Snapshots(Callback):
    """Each evaluation's records and the weights of the model(s) behind them."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, dict]] = []

    def on_eval(self, trainer, step, metrics):
        if hasattr(trainer, "member_now"):  # a population: one record per alive member
            models = {k: trainer.member_now(k) for k in metrics}
            self.seen.append((step, {k: (metrics[k], models[k].state_dict()) for k in metrics}))
        else:
            state = {name: t.detach().clone() for name, t in trainer.model.state_dict().items()}
            self.seen.append((step, {0: (metrics, state)}))


def test_on_eval_gets_every_member_and_member_now_is_the_lone_runs_model():
    data = blobs()
    configs = [BASE.replace(lr=0.05, seed=0), BASE.replace(lr=0.2, seed=1, init="glorot-uniform")]
    together = Snapshots()
    train_population(configs, dataset=data, progress=False, callbacks=[together])
    assert [step for step, _ in together.seen] == [20, 40, 60]
    for k, config in enumerate(configs):
        alone = Snapshots()
        Trainer(config, dataset=data, progress=False, callbacks=[alone]).fit()
        assert [step for step, _ in alone.seen] == [20, 40, 60]
        for (step, ours), (_, ref) in zip(together.seen, alone.seen):
            record, state = ours[k]
            ref_record, ref_state = ref[0]
            assert record["val_accuracy"] == pytest.approx(ref_record["val_accuracy"], abs=1e-9), step
            for name, value in ref_state.items():
                torch.testing.assert_close(state[name], value, rtol=1e-4, atol=1e-5)
            model = Trainer(config, dataset=data, progress=False).model
            model.load_state_dict(state)
            loss, accuracy = evaluate(model, data.val, torch.nn.functional.cross_entropy, torch.device("cpu"))
            assert accuracy == pytest.approx(record["val_accuracy"], abs=1e-9)
            assert loss == pytest.approx(record["val_loss"], rel=1e-5)


def test_member_now_leaves_the_global_random_state_alone():
    data = blobs()
    seen = []

    class Draw(Callback):
        def on_eval(self, trainer, step, metrics):
            before = torch.random.get_rng_state()
            trainer.member_now(0)
            seen.append(torch.equal(before, torch.random.get_rng_state()))

    train_population([BASE], dataset=data, progress=False, callbacks=[Draw()])
    assert seen and all(seen)

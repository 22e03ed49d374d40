"""The loop contract: the end of training always reaches the callbacks, so hooks never leak."""
from __future__ import annotations

import pytest
import torch

from tests.helpers import InterruptAt, blobs
from trainlab.config import TrainConfig
from trainlab.loop import Callback
from trainlab.probe import ProbeCallback, ProbeConfig
from trainlab.train import Trainer

CONFIG = TrainConfig(dataset="blobs", depth=2, width=16, batch_size=32, steps=40, log_every=5, lr=0.1)


def hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


class Crash(Callback):
    def on_step_end(self, trainer, step, loss):
        if step == 7:
            raise RuntimeError("a bug in the user's callback")


class Ends(Callback):
    """Records what ``on_train_end`` was given."""

    def __init__(self) -> None:
        self.ended: list[object] = []

    def on_train_end(self, trainer, result):
        self.ended.append(result)


def test_an_interrupted_probed_run_leaves_no_hook_on_the_model():
    ends = Ends()
    probe = ProbeCallback(ProbeConfig(every=5, batch=32))
    trainer = Trainer(CONFIG, callbacks=[probe, InterruptAt(12), ends], progress=False, dataset=blobs(256, 64, dim=8))
    assert hooks(trainer.model) == 0
    result = trainer.fit()
    assert result.status == "interrupted" and result.steps == 13
    assert hooks(trainer.model) == 0
    assert [r.status for r in ends.ended] == ["interrupted"]
    assert [r.step for r in probe.records] == [0, 5, 10]  # an interrupted run is not measured at its last step


def test_an_exception_in_training_still_removes_the_probe_hooks():
    ends = Ends()
    trainer = Trainer(CONFIG, callbacks=[ProbeCallback(ProbeConfig(every=5, batch=32)), Crash(), ends],
                      progress=False, dataset=blobs(256, 64, dim=8))
    with pytest.raises(RuntimeError, match="user's callback"):
        trainer.fit()
    assert hooks(trainer.model) == 0
    assert ends.ended == [None]


def test_a_completed_run_is_measured_at_its_last_step_and_unhooked():
    probe = ProbeCallback(ProbeConfig(every=15, batch=32))
    trainer = Trainer(CONFIG, callbacks=[probe], progress=False, dataset=blobs(256, 64, dim=8))
    assert trainer.fit().status == "completed"
    assert [r.step for r in probe.records] == [0, 15, 30, 40]
    assert hooks(trainer.model) == 0

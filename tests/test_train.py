"""The training loop: determinism, resume after interruption, divergence, bad input."""
from __future__ import annotations

import json

import pytest
import torch

from tests.helpers import InterruptAt, blobs
from trainlab.config import TrainConfig
from trainlab.errors import CheckpointError, UserError
from trainlab.runs import RunDir
from trainlab.train import Trainer, lr_at, resume

BASE = TrainConfig(dataset="blobs", depth=2, width=16, lr=0.05, batch_size=32, steps=120,
                   log_every=10, checkpoint_every=20, eval_every=40)


def fit(config: TrainConfig, out=None, callbacks=()):
    trainer = Trainer(config, dataset=blobs(), callbacks=callbacks, progress=False)
    if out is not None:
        trainer.run = RunDir.create(out, config, "cpu")
    return trainer.fit()


def comparable(records):
    """Metric records without wall-clock fields."""
    drop = {"time", "seconds", "samples_per_second", "run_dir"}
    return [{k: v for k, v in r.items() if k not in drop} for r in records]


def test_same_seed_same_numbers_bit_for_bit(tmp_path):
    a, b = fit(BASE, tmp_path / "a"), fit(BASE, tmp_path / "b")
    assert comparable(RunDir(tmp_path / "a").metrics()) == comparable(RunDir(tmp_path / "b").metrics())
    assert a.test_loss == b.test_loss and a.status == "completed"
    c = fit(BASE.replace(seed=1))
    assert c.train_loss != a.train_loss


def test_training_learns_the_blobs():
    result = fit(BASE.replace(steps=300))
    assert result.test_accuracy > 0.9  # blobs 2.5 sigma apart: a linear boundary gets ~97%


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_interrupt_then_resume_equals_uninterrupted(tmp_path, optimizer):
    config = BASE.replace(optimizer=optimizer, lr=0.01 if optimizer == "adam" else 0.05)
    full = fit(config, tmp_path / "full")
    cut = fit(config, tmp_path / "cut", callbacks=[InterruptAt(53)])
    assert cut.status == "interrupted" and cut.steps == 54
    done = resume(tmp_path / "cut", dataset=blobs(), progress=False)
    assert done.status == "completed"
    for key in ("steps", "train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy"):
        assert getattr(done, key) == getattr(full, key), key
    assert comparable(RunDir(tmp_path / "cut").metrics()) == comparable(RunDir(tmp_path / "full").metrics())


def test_huge_learning_rate_is_recorded_as_diverged(tmp_path):
    result = fit(BASE.replace(lr=1e4, init="normal", init_std=1.0), tmp_path / "run")
    assert result.status == "diverged"
    assert RunDir(tmp_path / "run").summary()["status"] == "diverged"
    assert result.steps < BASE.steps


def test_full_batch_and_single_example_sgd():
    full = Trainer(BASE.replace(batch_size=0, steps=None, epochs=5), dataset=blobs(), progress=False)
    assert full.batch_size == 1200 and full.total_steps == 5
    single = Trainer(BASE.replace(batch_size=1, steps=None, epochs=0.25), dataset=blobs(), progress=False)
    assert single.total_steps == 300
    x, y = single.batch(7)
    assert x.shape == (1, 12)


def test_every_example_is_seen_once_per_epoch():
    trainer = Trainer(BASE.replace(batch_size=100), dataset=blobs(), progress=False)
    seen = torch.cat([trainer.batch(i)[0] for i in range(trainer.steps_per_epoch)])
    data = blobs().train
    assert torch.equal(seen[seen[:, 0].argsort()], data.x[data.x[:, 0].argsort()])
    assert not torch.equal(trainer.batch(0)[0], trainer.batch(trainer.steps_per_epoch)[0])  # reshuffled


def test_step_schedule():
    config = BASE.replace(schedule="step", lr_step_every=100, lr_gamma=0.5, lr=0.2)
    assert [lr_at(config, s) for s in (0, 99, 100, 250)] == [0.2, 0.2, 0.1, 0.05]


def test_weight_decay_adds_half_lambda_squared_norm_of_weights_only():
    trainer = Trainer(BASE.replace(weight_decay=0.1), dataset=blobs(), progress=False)
    x, y = trainer.batch(0)
    scores = trainer.model(x)
    weights = [m.weight for m in trainer.model if isinstance(m, torch.nn.Linear)]
    expected = trainer.loss_fn(scores, y) + 0.05 * sum((w ** 2).sum() for w in weights)
    assert torch.allclose(trainer.loss(scores, y), expected)


def test_batch_larger_than_data_is_a_user_error():
    with pytest.raises(UserError, match="larger than the 1200 training examples"):
        Trainer(BASE.replace(batch_size=5000), dataset=blobs(), progress=False)


@pytest.mark.parametrize("changes, message", [
    ({"width": 0}, "width must be positive"),
    ({"lr": 0.0}, "lr must be positive"),
    ({"lr": -1.0}, "lr must be positive"),
    ({"activation": "swish"}, "choose one of"),
    ({"depth": -1}, "depth must be >= 0"),
    ({"schedule": "step"}, "--lr-step-every"),
])
def test_impossible_configurations_are_rejected(changes, message):
    with pytest.raises(UserError, match=message):
        BASE.replace(**changes)


def test_unknown_config_keys_are_named():
    with pytest.raises(UserError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


@pytest.mark.parametrize("values, message", [
    ({"lr": "fast"}, "lr must be a number, got 'fast'"),
    ({"steps": 1.5}, "steps must be a whole number, got 1.5"),
    ({"depth": True}, "depth must be a whole number, got True"),
    ({"activation": 3}, "activation must be a string, got 3"),
])
def test_values_of_the_wrong_type_in_a_file_are_named(values, message):
    with pytest.raises(UserError, match=message):
        TrainConfig.from_dict(values)
    assert TrainConfig.from_dict({"lr": 1, "epochs": 2, "momentum": None}).lr == 1  # ints are numbers


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    fit(BASE.replace(steps=20), tmp_path / "run")
    (tmp_path / "run" / "summary.json").unlink()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        resume(tmp_path / "run")


def test_run_directory_records_config_versions_and_summary(tmp_path):
    fit(BASE, tmp_path / "run")
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert TrainConfig.from_dict(record["config"]) == BASE
    assert record["versions"]["torch"] == torch.__version__
    assert {r["kind"] for r in RunDir(tmp_path / "run").metrics()} == {"train", "eval", "final"}
    assert RunDir(tmp_path / "run").summary()["status"] == "completed"

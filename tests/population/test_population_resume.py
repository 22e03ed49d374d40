"""An interrupted population loses nothing: resumed, it ends with the uninterrupted numbers."""
from __future__ import annotations

import json
import os
import signal

import pytest
import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.errors import CheckpointError
from trainlab.population import PopulationTrainer, train_population
from trainlab.population.engine import resume_population
from trainlab.runs import POPULATION_CHECKPOINT as CHECKPOINT, RunDir


def blobs() -> Dataset:
    """Three Gaussian blobs in 12 dimensions, 2.5 apart."""
    g = torch.Generator().manual_seed(0)

    def split(n: int) -> Split:
        y = torch.randint(0, 3, (n,), generator=g)
        return Split(torch.randn(n, 12, generator=g) + 2.5 * torch.nn.functional.one_hot(y, 12).float(), y)

    return Dataset("blobs", split(1200), split(300), split(300), 3, (12,))

BASE = TrainConfig(dataset="blobs", depth=2, width=16, batch_size=32, steps=120, log_every=10,
                   checkpoint_every=20, eval_every=30)
KEYS = ("status", "steps", "train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy")


def members(**shared) -> list[TrainConfig]:
    """Three members, the last with a learning rate that diverges early."""
    base = BASE.replace(**shared)
    lr = 0.01 if base.optimizer == "adam" else 0.05
    return [base.replace(lr=lr, seed=0), base.replace(lr=2 * lr, seed=1, weight_decay=1e-3),
            base.replace(lr=500.0, seed=2)]


def comparable(path):
    drop = {"time", "seconds", "samples_per_second", "run_dir"}
    return [{k: v for k, v in r.items() if k not in drop} for r in RunDir(path).metrics()]


def interrupt_at(step: int):
    """``on_eval`` that sends this process SIGINT (as Ctrl-C would) at ``step``, once."""
    sent = []

    def on_eval(at: int, member: int, record: dict) -> None:
        if at == step and not sent:
            sent.append(at)
            os.kill(os.getpid(), signal.SIGINT)
    return on_eval


@pytest.mark.parametrize("shared", [{}, {"optimizer": "momentum", "momentum": 0.9}, {"optimizer": "adam"},
                                    {"batch_norm": "before"}], ids=["sgd", "momentum", "adam", "batch-norm"])
def test_interrupt_then_resume_equals_uninterrupted(tmp_path, shared):
    configs = members(**shared)
    full = train_population(configs, dataset=blobs(), out=tmp_path / "full", progress=False)
    cut = PopulationTrainer(configs, dataset=blobs(), out=tmp_path / "cut", progress=False,
                            on_eval=interrupt_at(60)).fit()
    assert [r.status for r in cut] == ["interrupted", "interrupted", "diverged"]
    assert cut[0].steps == 60 and full[2].status == "diverged"
    done = resume_population(tmp_path / "cut", dataset=blobs(), progress=False)
    for a, b in zip(done, full):
        assert {k: getattr(a, k) for k in KEYS} == {k: getattr(b, k) for k in KEYS}
    for k in range(3):
        assert comparable(tmp_path / "cut" / f"member-{k:03d}") == comparable(tmp_path / "full" / f"member-{k:03d}")
    assert json.loads((tmp_path / "cut" / "population.json").read_text())["member_steps"] == full.member_steps


def test_a_finished_population_resumes_to_its_results_without_training(tmp_path):
    full = train_population(members(), dataset=blobs(), out=tmp_path / "p", progress=False)
    before = [comparable(tmp_path / "p" / f"member-{k:03d}") for k in range(3)]
    again = resume_population(tmp_path / "p", dataset=blobs(), progress=False)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in full]
    assert [comparable(tmp_path / "p" / f"member-{k:03d}") for k in range(3)] == before


def test_bad_population_folders_are_clear_errors(tmp_path, capsys):
    with pytest.raises(CheckpointError, match="not a population directory"):
        resume_population(tmp_path)
    train_population(members(), dataset=blobs(), out=tmp_path / "p", progress=False)
    (tmp_path / "p" / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        resume_population(tmp_path / "p", dataset=blobs())


def test_each_member_leaves_a_checkpoint_a_lone_run_can_continue_from(tmp_path):
    """A member's run directory holds checkpoint.pt as Trainer writes it: the final weights of a finished
    member, and for an interrupted one the state a lone ``trainlab resume`` continues from."""
    from trainlab.train import resume

    configs = members(optimizer="momentum", momentum=0.9)
    full = train_population(configs, dataset=blobs(), out=tmp_path / "full", progress=False)
    saved = RunDir(tmp_path / "full" / "member-000").load_checkpoint()
    assert saved["step"] == full[0].steps and saved["optimizer"]["state"]  # momentum buffers, as torch.optim keeps them
    for name, value in saved["model"].items():
        assert torch.equal(value, full.state_dicts[0][name]), name
    PopulationTrainer(configs, dataset=blobs(), out=tmp_path / "cut", progress=False, on_eval=interrupt_at(60)).fit()
    alone = resume(tmp_path / "cut" / "member-001", dataset=blobs(), progress=False)
    assert alone.status == "completed" and alone.steps == full[1].steps
    for key in ("train_loss", "val_loss", "test_loss"):
        assert getattr(alone, key) == pytest.approx(getattr(full[1], key), rel=1e-4), key
    assert alone.test_accuracy == pytest.approx(full[1].test_accuracy, abs=0.01)

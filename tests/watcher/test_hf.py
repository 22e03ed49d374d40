"""The Hugging Face adapter: a correct run finds nothing, planted bugs are found, the hooks always come off."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch
from torch import nn

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")  # the Trainer needs it

from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from trainlab.report.run_report import write_report  # noqa: E402
from trainlab.watcher.hf import WatchCallback, unwrap_optimizer  # noqa: E402

STEPS = 32  # 256 examples in batches of 8, one epoch


@pytest.fixture(autouse=True)
def _single_threaded() -> Iterator[None]:
    """One thread: a tiny BERT on a shared 2-core machine steps 10-20x faster than with two."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Tokens(torch.utils.data.Dataset):
    """Random token sequences; the label is whether the first token is above the middle of the vocabulary."""

    def __init__(self, n: int = 256) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(1, 50, (n, 12), generator=g)
        self.labels = (self.ids[:, 0] > 25).long()

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(12, dtype=torch.long),
                "labels": self.labels[i]}


def tiny_bert() -> BertForSequenceClassification:
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, num_labels=2, attn_implementation="eager")
    return BertForSequenceClassification(config)


def trainer_for(model: nn.Module, out: Path, callbacks: list[Any], *, lr: float = 1e-3, **kwargs: Any) -> Trainer:
    args = TrainingArguments(output_dir=str(out), report_to=[], use_cpu=True, disable_tqdm=True,
                             per_device_train_batch_size=8, num_train_epochs=1, learning_rate=lr,
                             logging_strategy="no", save_strategy="no")
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(), callbacks=callbacks, **kwargs)
    trainer.remove_callback(PrinterCallback)
    return trainer


def assert_unhooked(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """No hook of the watcher or its probes is left on the model, its parameters or the optimizer."""
    for name, m in model.named_modules():
        assert not m._forward_hooks and not m._forward_pre_hooks, name
        assert not m._backward_hooks and not m._backward_pre_hooks, name
    for name, p in model.named_parameters():
        assert not p._backward_hooks, name
    assert not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks


class Boom(TrainerCallback):
    """Raises at the end of optimizer step ``at``, as a failing data loader or a CUDA error would."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == self.at:
            raise RuntimeError("planted failure")


def test_correct_run_finds_nothing_and_removes_every_hook(tmp_path: Path) -> None:
    model = tiny_bert()
    watch = WatchCallback(every=5, status=False)
    trainer = trainer_for(model, tmp_path / "hf", [watch])
    trainer.train()
    watcher = watch.watcher
    assert watch.findings == []
    inner = unwrap_optimizer(trainer.optimizer)
    assert inner is not trainer.optimizer and watcher.optimizers == [inner]  # Accelerate's wrapper taken off
    assert watcher.scheduler is None  # the Trainer's own linear schedule: per step by construction
    seen = watcher.observer.seen
    assert watcher.step == STEPS and len(seen.checks) == len(range(0, STEPS, 5))
    # The model's own loss (output.loss) and the labels from its keyword arguments, one per step.
    assert [s for s, _ in seen.losses] == list(range(STEPS)) and len(seen.labels) == STEPS
    assert any(layer.update_ratio for layer in seen.records[0].layers)
    assert_unhooked(model, inner)


def freeze_a_middle_layer(model: nn.Module) -> None:
    for p in model.bert.encoder.layer[1].intermediate.parameters():
        p.requires_grad_(False)


@pytest.mark.parametrize(("bug", "expected"), [
    ("frozen-middle", "frozen-by-mistake"),
    ("lr-too-low", "update-ratio"),
    ("epoch-schedule", "lr-schedule"),
])
def test_planted_bug_is_found(tmp_path: Path, bug: str, expected: str) -> None:
    model = tiny_bert()
    kwargs: dict[str, Any] = {}
    if bug == "frozen-middle":
        freeze_a_middle_layer(model)
    if bug == "epoch-schedule":  # a schedule sized in epochs, which the Trainer steps after every batch
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        kwargs["optimizers"] = (optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.1))
    watch = WatchCallback(every=5, status=False)
    trainer = trainer_for(model, tmp_path / "hf", [watch], lr=1e-9 if bug == "lr-too-low" else 1e-3, **kwargs)
    trainer.train()
    assert expected in [f.id for f in watch.findings], [(f.id, f.evidence) for f in watch.findings]
    assert_unhooked(model, unwrap_optimizer(trainer.optimizer))


def test_as_a_context_manager_an_exception_removes_the_hooks(tmp_path: Path) -> None:
    model = tiny_bert()
    watch = WatchCallback(every=5, status=False, out=tmp_path / "run")
    trainer = trainer_for(model, tmp_path / "hf", [watch, Boom(at=7)])
    with pytest.raises(RuntimeError, match="planted failure"):
        with watch:
            trainer.train()
    assert watch.watcher.step == 7
    assert_unhooked(model, unwrap_optimizer(trainer.optimizer))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


def test_without_the_context_close_or_the_next_train_removes_the_hooks(tmp_path: Path) -> None:
    model = tiny_bert()
    watch = WatchCallback(every=5, status=False)
    trainer = trainer_for(model, tmp_path / "hf", [watch, Boom(at=3)])
    with pytest.raises(RuntimeError, match="planted failure"):
        trainer.train()
    failed = watch.watcher
    assert model._forward_hooks  # the Trainer calls no callback on an exception
    trainer.remove_callback(Boom)
    trainer.train()  # on_train_begin closes the stale watcher first
    assert watch.watcher is not failed and watch.findings == []
    assert_unhooked(model, unwrap_optimizer(trainer.optimizer))

    trainer.add_callback(Boom(at=3))
    with pytest.raises(RuntimeError):
        trainer.train()
    watch.close()
    watch.close()  # idempotent
    assert_unhooked(model, unwrap_optimizer(trainer.optimizer))


def test_out_writes_a_run_folder_that_trainlab_report_renders(tmp_path: Path) -> None:
    model = tiny_bert()
    freeze_a_middle_layer(model)
    watch = WatchCallback(every=5, status=False, out=tmp_path / "run")
    trainer_for(model, tmp_path / "hf", [watch]).train()
    folder = tmp_path / "run"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == STEPS
    assert "frozen-by-mistake" in (folder / "findings.json").read_text()
    report = write_report(folder)
    assert report.is_file() and report.stat().st_size > 0


def test_without_transformers_the_import_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.delitem(sys.modules, "trainlab.watcher.hf")
    with pytest.raises(ImportError, match=r"pip install 'trainlab\[hf\]'"):
        importlib.import_module("trainlab.watcher.hf")

"""The Lightning adapter: a correct fit finds nothing, planted bugs are found, the hooks always come off."""
from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

pl = pytest.importorskip("lightning.pytorch")

from trainlab.report.run_report import write_report  # noqa: E402
from trainlab.watcher.lightning import WatchCallback, targets_of  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore:.*does not have many workers:UserWarning"),
              pytest.mark.filterwarnings("ignore:.*LitLogger.*"),
              pytest.mark.filterwarnings("ignore:.*smaller than the logging interval.*:UserWarning"),
              pytest.mark.filterwarnings(r"ignore:.*isinstance\(treespec, LeafSpec\).*")]

BATCHES = 32  # per epoch: 512 examples in batches of 16


@pytest.fixture(autouse=True)
def _quiet_and_single_threaded() -> Iterator[None]:
    """One thread: a tiny model on a shared machine runs many times faster; and no Lightning chatter."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric", "pytorch_lightning")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    yield
    torch.set_num_threads(threads)
    for lg, level in zip(loggers, levels):
        lg.setLevel(level)


class Classifier(pl.LightningModule):
    """A small MLP on 8 features, 3 classes; ``bug`` plants one mistake."""

    def __init__(self, *, lr: float = 0.1, bug: str | None = None, scheduler: bool = False,
                 fail_at: int | None = None) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Dropout(0.1))
        self.head = nn.Linear(32, 3)
        self.lr, self.bug, self.scheduler, self.fail_at = lr, bug, scheduler, fail_at
        self.step_losses: list[float] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.fail_at is not None and batch_idx == self.fail_at:
            raise RuntimeError("planted failure")
        if self.bug == "eval-in-step":
            self.eval()
        x, y = batch
        # Submodules called directly, not self(x): Lightning never calls forward itself.
        loss = nn.functional.cross_entropy(self.head(self.body(x)), y)
        self.step_losses.append(float(loss.detach()))
        return loss

    def configure_optimizers(self) -> Any:
        params = self.body.parameters() if self.bug == "head-left-out" else self.parameters()
        optimizer = torch.optim.SGD(params, lr=self.lr)
        if not self.scheduler:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.5)}


class Validated(Classifier):
    """Also validates, through ``self(x)`` in eval mode without gradients (and a sanity check before fitting)."""

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))


def loader(*, shuffle: bool = True) -> DataLoader:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(512, 8, generator=g)
    y = x[:, :3].argmax(1)
    return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=shuffle, generator=g)


def fit(module: pl.LightningModule, callback: WatchCallback, *, epochs: int = 2, trainer_module: Any = pl,
        validate: bool = False, **options: Any) -> Any:
    trainer = trainer_module.Trainer(max_epochs=epochs, callbacks=[callback], accelerator="cpu", logger=False,
                                     enable_progress_bar=False, enable_checkpointing=False,
                                     enable_model_summary=False, **options)
    trainer.fit(module, loader(), loader(shuffle=False) if validate else None)
    return trainer


def assert_unhooked(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """No hook of the watcher or its probes is left on the model, its parameters or the optimizer."""
    for name, m in model.named_modules():
        assert not m._forward_hooks and not m._forward_pre_hooks, name
        assert not m._backward_hooks and not m._backward_pre_hooks, name
    for name, p in model.named_parameters():
        assert not p._backward_hooks, name
    assert not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks


@pytest.mark.parametrize("accumulate", [1, 2])
def test_correct_fit_finds_nothing_and_removes_every_hook(accumulate: int) -> None:
    module = Validated(scheduler=True)
    callback = WatchCallback(every=5, status=False)
    trainer = fit(module, callback, validate=True, limit_val_batches=4, accumulate_grad_batches=accumulate)
    watcher = callback.watcher
    assert callback.findings == []
    steps = 2 * BATCHES // accumulate
    assert watcher.step == steps
    scheduler = trainer.lr_scheduler_configs[0].scheduler
    assert watcher.scheduler is scheduler and "step" not in scheduler.__dict__  # its counter is off again
    seen = watcher.observer.seen
    assert len(seen.checks) == len(range(0, steps, 5)) and all(r.layers for r in seen.records)
    assert any(layer.update_ratio for layer in seen.records[0].layers)  # weights snapshotted before the closure
    # One loss per optimizer step, at its own step, not divided by accumulate_grad_batches.
    assert [s for s, _ in seen.losses] == list(range(steps))
    assert [v for _, v in seen.losses] == pytest.approx(module.step_losses[::accumulate])
    assert len(seen.labels) > 0
    assert_unhooked(module, trainer.optimizers[0])


@pytest.mark.parametrize(("bug", "lr", "expected"), [
    ("head-left-out", 0.1, "not-in-optimizer"),
    ("eval-in-step", 0.1, "eval-mode-training"),
    (None, 1e-7, "update-ratio"),
])
def test_planted_bug_is_found(bug: str | None, lr: float, expected: str) -> None:
    module = Classifier(lr=lr, bug=bug)
    callback = WatchCallback(every=5, status=False)
    trainer = fit(module, callback)
    ids = [f.id for f in callback.findings]
    assert ids[0] == expected, [(f.id, f.evidence) for f in callback.findings]
    assert_unhooked(module, trainer.optimizers[0])


def test_an_exception_in_training_removes_the_hooks_and_marks_the_run_failed(tmp_path: Path) -> None:
    module = Classifier(fail_at=7)
    callback = WatchCallback(every=5, status=False, out=tmp_path / "run")
    trainer = pl.Trainer(max_epochs=1, callbacks=[callback], accelerator="cpu", logger=False,
                         enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False)
    with pytest.raises(RuntimeError, match="planted failure"):
        trainer.fit(module, loader())
    assert callback.watcher.step == 7
    assert_unhooked(module, trainer.optimizers[0])
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "failed"


def test_out_writes_a_run_folder_that_trainlab_report_renders(tmp_path: Path) -> None:
    callback = WatchCallback(every=5, status=False, out=tmp_path / "run")
    fit(Classifier(lr=1e-7), callback)
    folder = tmp_path / "run"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 2 * BATCHES
    assert "update-ratio" in (folder / "findings.json").read_text()
    report = write_report(folder)
    assert report.is_file() and report.stat().st_size > 0


def test_a_scaled_loss_is_taken_after_the_step() -> None:
    """With a gradient scaler (16-bit AMP) on_before_backward sees the scaled loss: outputs["loss"] is used."""
    from lightning.pytorch.plugins.precision import Precision

    class WithScaler(Precision):
        scaler = object()  # as MixedPrecision has; the plain precision never touches it

    module = Classifier()
    callback = WatchCallback(every=5, status=False)
    fit(module, callback, epochs=1, plugins=[WithScaler()])
    seen = callback.watcher.observer.seen
    assert callback._scaled and callback.findings == []
    assert [v for _, v in seen.losses] == pytest.approx(module.step_losses)


def test_targets_of_batches() -> None:
    x, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 1])
    assert targets_of((x, y)) is y and targets_of([x, y, x]) is y
    assert targets_of({"input": x, "labels": y}) is y
    assert targets_of(x) is None and targets_of((x,)) is None and targets_of((x, "text")) is None


def test_pytorch_lightning_trainer_too() -> None:
    """The older ``pytorch_lightning`` package's Trainer accepts the same callback."""
    legacy = pytest.importorskip("pytorch_lightning")

    class Legacy(legacy.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return nn.functional.cross_entropy(self.net(x), y)

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.1)

    module = Legacy()
    callback = WatchCallback(every=5, status=False)
    trainer = fit(module, callback, epochs=1, trainer_module=legacy)
    assert callback.findings == [] and callback.watcher.step == BATCHES
    assert_unhooked(module, trainer.optimizers[0])


def test_without_lightning_the_import_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("lightning", "lightning.pytorch", "pytorch_lightning"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "trainlab.watcher.lightning")
    with pytest.raises(ImportError, match=r"pip install 'trainlab\[lightning\]'"):
        importlib.import_module("trainlab.watcher.lightning")

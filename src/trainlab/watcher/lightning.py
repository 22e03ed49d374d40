"""``trainlab.watch`` for PyTorch Lightning: a callback that watches ``Trainer.fit``.

    from trainlab.watcher.lightning import WatchCallback
    watch = WatchCallback(every=50, out="runs/mine")
    trainer = lightning.pytorch.Trainer(callbacks=[watch])
    trainer.fit(module, loader)
    print(watch.findings)

At fit start it opens a :class:`~trainlab.watcher.session.Watcher` on the LightningModule with the
trainer's optimizers and its first learning-rate scheduler; it closes it at fit end, on an exception
(``on_exception``) and in ``teardown``, so the hooks always come off. Lightning runs the forward and
backward pass inside ``optimizer.step(closure)``, and calls ``training_step``, not the module's
``forward``: the callback therefore starts each check step itself, in ``on_train_batch_start``, and
hands the watcher the loss (from ``on_before_backward``) and the targets (``batch[1]`` or a
``"labels"``-like key of a dict batch) so the loss and label rules work without ``w.loss``.

It works with ``lightning.pytorch`` and with the older ``pytorch_lightning`` package (the class
derives from the ``Callback`` of each that is installed).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from trainlab.watcher.findings import Finding
from trainlab.watcher.session import Watcher

_BASES: list[type] = []
try:
    from lightning.pytorch import Callback as _LightningCallback

    _BASES.append(_LightningCallback)
except ImportError:
    pass
try:
    from pytorch_lightning import Callback as _PLCallback

    if _PLCallback not in _BASES:
        _BASES.append(_PLCallback)
except ImportError:
    pass
if not _BASES:
    raise ImportError("trainlab.watcher.lightning needs PyTorch Lightning: pip install 'trainlab[lightning]'")

LABEL_KEYS = ("labels", "label", "targets", "target", "y")
"""Keys of a dict batch that hold the targets, first match wins."""


def targets_of(batch: Any) -> torch.Tensor | None:
    """The targets in a training batch: ``batch[1]`` of an ``(x, y, ...)`` tuple or list, or a dict's labels."""
    if isinstance(batch, (tuple, list)) and len(batch) >= 2 and isinstance(batch[1], torch.Tensor):
        return batch[1]
    if isinstance(batch, dict):
        return next((batch[k] for k in LABEL_KEYS if isinstance(batch.get(k), torch.Tensor)), None)
    return None


class WatchCallback(*_BASES):  # type: ignore[misc]
    """Watches ``Trainer.fit``: the Watcher's keyword arguments; ``.findings`` and ``.watcher`` afterwards."""

    def __init__(self, *, every: int = 50, out: str | Path | None = None, criterion: nn.Module | None = None,
                 layers: Sequence[str] | None = None, status: bool = True,
                 tensorboard: str | Path | None = None) -> None:
        super().__init__()
        self.options: dict[str, Any] = {"every": every, "out": out, "criterion": criterion, "layers": layers,
                                        "status": status, "tensorboard": tensorboard}
        self.watcher: Watcher | None = None
        self._open = False
        self._targets: torch.Tensor | None = None
        self._scaled = False
        self._accumulate = 1

    @property
    def findings(self) -> list[Finding]:
        """What the watcher found (also after the fit)."""
        return self.watcher.findings if self.watcher is not None else []

    # -- open and close ---------------------------------------------------------------
    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        self.close()  # a fit that ended without on_fit_end, on_exception or teardown
        optimizers = list(trainer.optimizers)
        if not optimizers:
            return  # manual optimization without optimizers, or none configured: nothing to watch
        schedulers = [c.scheduler for c in getattr(trainer, "lr_scheduler_configs", None) or []]
        # The first scheduler of the first optimizer (the one whose steps the watcher counts), else the first.
        scheduler = next((s for s in schedulers if getattr(s, "optimizer", None) is optimizers[0]),
                         schedulers[0] if schedulers else None)
        total = getattr(trainer, "estimated_stepping_batches", None)
        total = int(total) if isinstance(total, (int, float)) and math.isfinite(total) and total > 0 else None
        self.watcher = Watcher(pl_module, optimizers, scheduler=scheduler, total_steps=total, **self.options)
        self.watcher.__enter__()
        self._open = True
        # Mixed precision with a gradient scaler hands on_before_backward the scaled loss: take it after the step.
        self._scaled = getattr(trainer.precision_plugin, "scaler", None) is not None
        self._accumulate = max(int(getattr(trainer, "accumulate_grad_batches", 1) or 1), 1)

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        self.close()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self.close(exception)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        self.close()

    def close(self, exception: BaseException | None = None) -> None:
        """Close the watcher (hooks off, run folder finished); ``exception`` marks the run failed. Idempotent."""
        if not self._open or self.watcher is None:
            return
        self._open = False
        self._targets = None
        if exception is None:
            self.watcher.__exit__(None, None, None)
        else:
            self.watcher.__exit__(type(exception), exception, exception.__traceback__)

    # -- each batch -------------------------------------------------------------------
    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if not self._open:
            return
        self._targets = targets_of(batch)
        _begin_step(self.watcher)

    def on_before_backward(self, trainer: Any, pl_module: Any, loss: torch.Tensor) -> None:
        if self._open and not self._scaled and isinstance(loss, torch.Tensor):
            self._give_loss(loss)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if not self._open or not self._scaled:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor):
            self._give_loss(loss)

    def _give_loss(self, loss: torch.Tensor) -> None:
        """Lightning divides the loss by ``accumulate_grad_batches`` before backward; the watcher gets it whole."""
        value = loss.detach()
        if self._accumulate != 1:
            value = value * self._accumulate
        self.watcher.loss(value, self._targets)


def _begin_step(watcher: Watcher | None) -> None:
    """Arm a due check step before Lightning's ``optimizer.step(closure)``, as the model's forward pre-hook would.

    Lightning calls ``training_step``, which need not call the module's own ``forward`` (it often calls
    submodules), and runs it inside the optimizer step, after the step pre-hook that snapshots the weights:
    arming here gives the check step its probes, gradient hooks and weight snapshot in time.
    """
    observer = watcher.observer if watcher is not None else None
    if observer is not None and observer.due and not observer.armed and not observer.paused:
        observer.begin_step()

"""Probing during training: a :class:`trainlab.loop.Callback`.

Every ``config.every`` steps (and at step 0 and at the end) it measures the
fixed probe batch, and, with ``on_train_batch``, records the training batch of
that step from the step's own passes. Records are kept in ``.records`` and,
when the trainer has a run directory, appended to its probe file. The hooks
come off the model when training ends, however it ends (the loop always calls
``on_train_end``); an interrupted run is measured again when it resumes.
"""
from __future__ import annotations

from typing import Any

import torch

from trainlab.data.base import Split
from trainlab.loop.callbacks import Callback
from trainlab.probe.config import ProbeConfig
from trainlab.probe.hooks import Probe
from trainlab.probe.records import ProbeRecord
from trainlab.probe.store import ProbeWriter, header_for


class ProbeCallback(Callback):
    """Probe the trainer's model; ``probe_split`` defaults to the first ``config.batch`` validation examples."""

    def __init__(self, config: ProbeConfig | None = None, probe_split: Split | None = None, *,
                 layers: list[str] | None = None) -> None:
        self.config = config or ProbeConfig()
        self.probe_split = probe_split
        self.layers = layers
        self.records: list[ProbeRecord] = []
        self._probe: Probe | None = None
        self._writer: ProbeWriter | None = None
        self._batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self._streaming = False
        self._last_probe_step: int | None = None

    def on_train_start(self, trainer: Any) -> None:
        self._probe = Probe(trainer.model, self.layers, self.config).__enter__()
        if self.config.batch:
            split = self.probe_split or trainer.dataset.val.subset(min(self.config.batch, len(trainer.dataset.val)))
            n = self.config.batch
            self._batch = (split.x[:n].to(trainer.device), split.y[:n].to(trainer.device))
        if trainer.run is not None:
            self._writer = ProbeWriter(trainer.run.path, header_for(self._probe), start_step=trainer.step)

    def _due(self, step: int) -> bool:
        return step % self.config.every == 0

    def on_step_start(self, trainer: Any, step: int, x: torch.Tensor, y: torch.Tensor) -> None:
        if not self._due(step):
            return
        self._measure(trainer, step)
        if self.config.on_train_batch:
            self._probe.begin_step()
            self._streaming = True

    def on_after_backward(self, trainer: Any, step: int) -> None:
        if self._streaming:
            self._probe.after_backward()

    def on_step_end(self, trainer: Any, step: int, loss: torch.Tensor) -> None:
        if self._streaming:
            self._streaming = False
            self._keep(self._probe.end_step(step))

    def on_train_end(self, trainer: Any, result: Any) -> None:
        try:
            ended = result is not None and result.status != "interrupted"
            if ended and self._probe is not None and self._last_probe_step != trainer.step:
                self._measure(trainer, trainer.step)
        finally:
            self.close()

    def close(self) -> None:
        if self._probe is not None:
            self._probe.__exit__(None, None, None)
            self._probe = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _measure(self, trainer: Any, step: int) -> None:
        if self._batch is None:
            return
        x, y = self._batch
        self._keep(self._probe.measure(x, y, trainer.loss_fn, step=step))
        self._last_probe_step = step

    def _keep(self, record: ProbeRecord) -> None:
        self.records.append(record)
        if self._writer is not None:
            self._writer.append(record, self._probe.last_rows)

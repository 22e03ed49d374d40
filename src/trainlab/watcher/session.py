"""``trainlab.watch``: the doctor's judgement inside the user's own training loop.

    with trainlab.watch(model, optimizer, criterion=loss_fn, out="runs/mine") as w:
        for x, y in loader:                      # the loop is unchanged
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
    print(w.findings)

Without ``criterion=`` (an ``nn.Module`` loss whose calls the watcher sees), one added line
``w.loss(loss, y)`` gives it the loss and the labels; without either, the rules about the loss and
the labels stay off and the status line says so.

Every ``every`` optimizer steps (step 0 included) is a check: the hooks of
:mod:`trainlab.watcher.observe` record that step in full, :mod:`trainlab.watcher.rules` judge
everything seen so far, a new finding is printed once, and the run folder (``out``) gets a metrics
record, the probe record and the findings. Watching never changes the training: the same seed gives
bit-identical weights with and without it.
"""
from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.probe import Probe, ProbeConfig
from trainlab.watcher.findings import Finding
from trainlab.watcher.observe import DISTRIBUTIONS_EVERY, WINDOW, Observer
from trainlab.watcher.record import RunRecorder
from trainlab.watcher.rules import judge
from trainlab.watcher.status import StatusLine

WATCH_SAMPLE = 2048
"""Values kept per tensor for its percentiles and histogram (the rules read neither): 1/4 of the probes'
default, for a quarter of the sorting; a percentile's standard error stays below 0.006 in probability."""

CAUSES: dict[str, tuple[str, ...]] = {
    "non-finite": ("diverging",),
    "constant-labels": ("unshuffled",),
    "saturated": ("input-scale",),
    "exploding-gradient": ("input-scale",),
    "dead-relu": ("diverging", "input-scale"),
    "loss-flat": ("loss-output", "not-in-optimizer", "never-updated", "frozen-by-mistake", "grad-accumulation",
                  "constant-labels", "unshuffled", "lr-schedule", "diverging", "vanishing-gradient",
                  "exploding-gradient", "saturated", "dead-relu", "update-ratio", "input-scale"),
    "loss-oscillating": ("grad-accumulation", "diverging", "update-ratio"),
    "diverging": ("grad-accumulation", "unshuffled", "input-scale"),
    "update-ratio": ("loss-output", "not-in-optimizer", "never-updated", "grad-accumulation", "lr-schedule",
                     "dead-relu", "vanishing-gradient"),
    "never-updated": ("dead-relu", "frozen-by-mistake"),
}
"""For a finding, the findings that would explain it, most direct first: shown as its cause, not as a second alarm."""


class Watcher:
    """Hooks on a model and its optimizer(s) that judge the training loop around them.

    Use it as a context manager (every hook comes off on exit, also on error and interrupt).
    ``every``: steps between checks (step 0 is one); ``out``: a run folder to write (None: nothing is
    written); ``criterion``: the loss module, so the loss and labels are seen without ``w.loss``;
    ``scheduler``: the learning-rate scheduler, to judge its use; ``layers``: module names to probe
    (default: found by type); ``status``: the live line and the findings on stderr;
    ``tensorboard``: a log folder for TensorBoard scalars and histograms; ``total_steps``: how many
    optimizer steps the run will take, if known (it sharpens the learning-rate schedule rule);
    ``distributions_every``: steps between the checks that also record percentiles, histograms and
    back-propagated gradients for the figures and TensorBoard (the others record moments only).
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer | Sequence[torch.optim.Optimizer], *,
                 every: int = 50, out: str | Path | None = None, criterion: nn.Module | None = None,
                 scheduler: Any = None, layers: Sequence[str] | None = None, status: bool = True,
                 tensorboard: str | Path | None = None, total_steps: int | None = None,
                 distributions_every: int = DISTRIBUTIONS_EVERY) -> None:
        if not isinstance(model, nn.Module):
            raise UserError(f"watch() needs the model (an nn.Module) first, got {type(model).__name__}")
        optimizers = [optimizer] if isinstance(optimizer, torch.optim.Optimizer) else list(optimizer or [])
        if not optimizers or not all(isinstance(o, torch.optim.Optimizer) for o in optimizers):
            raise UserError("watch() needs the optimizer that trains the model (a torch.optim.Optimizer, "
                            "or a list of them), e.g. watch(model, optimizer)")
        _require_steps("every", every)
        if criterion is not None and not isinstance(criterion, nn.Module):
            raise UserError("watch(criterion=...) takes a loss module such as nn.CrossEntropyLoss(); for a loss "
                            "function, leave it out and call w.loss(loss, y) in the loop")
        if total_steps is not None:
            _require_steps("total_steps", total_steps)
        _require_steps("distributions_every", distributions_every)
        if scheduler is not None and not hasattr(scheduler, "step"):
            raise UserError("watch(scheduler=...) takes a torch.optim.lr_scheduler scheduler")
        self.model, self.optimizers, self.every, self.out = model, optimizers, every, out
        self.criterion, self.scheduler, self.layers = criterion, scheduler, layers
        self.status = StatusLine(enabled=status)
        self.tensorboard = tensorboard
        self.total_steps = total_steps
        self.distributions_every = distributions_every
        self._findings: dict[str, Finding] = {}
        self.observer: Observer | None = None
        self.probe: Probe | None = None
        self.recorder: RunRecorder | None = None
        self._board: Any = None
        self._open = False

    # -- the context --------------------------------------------------------------------
    def __enter__(self) -> "Watcher":
        try:
            self.probe = self._make_probe()
            self.observer = Observer(self.model, self.optimizers, every=self.every, probe=self.probe,
                                     criterion=self.criterion, scheduler=self.scheduler, on_check=self._check,
                                     total_steps=self.total_steps, distributions_every=self.distributions_every)
            if self.out is not None:
                self.recorder = RunRecorder(self.out, self.describe(), device=self._device(), probe=self.probe)
            if self.tensorboard is not None:
                from trainlab.watcher.tensorboard import TensorBoardWriter

                self._board = TensorBoardWriter(self.tensorboard)
            self.observer.install()
            self._open = True
        except BaseException:
            self._close_hooks()
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._open = False
        status = "finished" if exc_type is None else (
            "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed")
        try:
            if self.observer is not None:
                self.observer.flush_losses()
                self.observer.count_scheduler_steps()
                if exc_type is None:
                    self._judge(self.observer.seen.step, final=True)
        finally:
            self._close_hooks()
            self.status.close()
            if self.recorder is not None:
                seen = self.observer.seen if self.observer else None
                self.recorder.close(status=status, steps=seen.step if seen else 0, loss=self._recent_loss())
            if self._board is not None:
                self._board.close()

    def _close_hooks(self) -> None:
        if self.observer is not None:
            self.observer.remove()
        if self.probe is not None:
            self.probe.__exit__(None, None, None)

    def _make_probe(self) -> Probe | None:
        """Probes of the training batch: outputs and their gradients of the activation layers only (what the
        rules and figures read; Linear/Conv outputs too when there is no activation module), weight gradients
        (their moments estimated on ``WATCH_SAMPLE`` coordinates: the rules compare their sizes, to about 2%)
        and update ratios of every layer, percentiles and histograms on ``WATCH_SAMPLE`` values."""
        config = ProbeConfig(every=self.every, batch=0, on_train_batch=True, outputs="activations",
                             sample=WATCH_SAMPLE, sampled_weight_grads=True)
        try:
            probe = Probe(self.model, self.layers, config)
        except UserError:
            if self.layers is not None:
                raise
            return None  # no Linear/Conv/activation modules to probe: the per-layer rules stay off
        if not any(l.kind == "activation" for l in probe.layers):
            probe = Probe(self.model, self.layers, replace(config, outputs="all"))
        return probe.__enter__()

    # -- in the loop --------------------------------------------------------------------
    def loss(self, loss: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """Give the watcher this step's loss (and targets ``y``, for the label rules); one call per step."""
        if self.observer is None or not self._open:
            raise UserError("w.loss(...) works inside `with trainlab.watch(model, optimizer) as w:`; this watcher "
                            "is not open (the with block has ended, or was never entered)")
        if not isinstance(loss, torch.Tensor):
            raise UserError(f"w.loss() takes the loss tensor, got {type(loss).__name__}")
        self.observer.take_loss(loss, y)

    @property
    def findings(self) -> list[Finding]:
        """What was found so far, in the order first seen."""
        return list(self._findings.values())

    @property
    def step(self) -> int:
        return self.observer.seen.step if self.observer else 0

    # -- checks -------------------------------------------------------------------------
    def _check(self, step: int) -> None:
        seen = self.observer.seen
        new = self._judge(step)
        record = seen.records[-1] if seen.records and seen.records[-1].step == step else None
        loss = self._window_loss()
        lr = seen.lr_changes[-1][1]
        if self.recorder is not None:
            self.recorder.check(step, loss=loss, lr=lr, samples=None)
            if record is not None and record.distributions:  # the figures' records
                self.recorder.probe(record, self.probe.last_rows)
            if new:
                self.recorder.findings(self.findings)
        if self._board is not None:
            self._board.check(step, loss=loss, lr=lr, record=record)
        self.status.update(step, loss, lr, len(self._findings))

    def _judge(self, step: int, *, final: bool = False) -> list[Finding]:
        new = judge(self.observer.seen, set(self._findings), final=final)
        for finding in new:
            self._findings[finding.id] = finding
        for id, finding in list(self._findings.items()):
            cause = next((c for c in CAUSES.get(id, ()) if c in self._findings), None)
            if cause is not None and finding.explained_by is None:
                self._findings[id] = finding.explained(cause)
        for finding in new:
            self.status.finding(self._findings[finding.id])
        if final and new and self.recorder is not None:
            self.recorder.findings(self.findings)
        return new

    def _window_loss(self) -> float | None:
        """The mean loss since the last check (None when no loss was seen)."""
        seen = self.observer.seen
        fresh, seen.since_check = seen.since_check, []
        return statistics.fmean(fresh) if fresh else None

    def _recent_loss(self) -> float | None:
        losses = self.observer.seen.losses if self.observer else []
        return statistics.fmean(v for _, v in losses[-WINDOW:]) if losses else None

    # -- description --------------------------------------------------------------------
    def _device(self) -> str:
        p = next(self.model.parameters(), None)
        return str(p.device) if p is not None else "cpu"

    def describe(self) -> dict[str, Any]:
        """The model, optimizer(s), scheduler and watch settings, for ``config.json``."""
        def hyper(opt: torch.optim.Optimizer) -> dict[str, Any]:
            group = opt.param_groups[0] if opt.param_groups else {}
            keep = {k: v for k, v in group.items() if k != "params" and isinstance(v, (int, float, bool, str, tuple))}
            return {"type": type(opt).__name__, "groups": len(opt.param_groups), **keep}

        params = list(self.model.parameters())
        return {"watched": "trainlab.watch", "model": type(self.model).__name__,
                "parameters": sum(p.numel() for p in params),
                "trainable_parameters": sum(p.numel() for p in params if p.requires_grad),
                "optimizers": [hyper(o) for o in self.optimizers],
                "scheduler": type(self.scheduler).__name__ if self.scheduler is not None else None,
                "criterion": type(self.criterion).__name__ if self.criterion is not None else None,
                "every": self.every, "distributions_every": self.distributions_every,
                "probed_layers": [l.name for l in self.probe.layers] if self.probe else []}


def _require_steps(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UserError(f"watch({name}=...) must be a whole number of steps >= 1, got {value!r}")


def watch(model: nn.Module, optimizer: torch.optim.Optimizer | Sequence[torch.optim.Optimizer], **kwargs: Any
          ) -> Watcher:
    """Watch a training loop: ``with trainlab.watch(model, optimizer, every=50, out="runs/mine") as w:``.

    Keyword arguments are :class:`Watcher`'s.
    """
    return Watcher(model, optimizer, **kwargs)

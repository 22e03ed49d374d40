"""The loop itself, once: steps, logging windows, evaluation, checkpoints, interruption, callbacks.

:class:`TrainingLoop` is the skeleton both trainers fill in: a lone run
(:class:`trainlab.train.Trainer`) and a population
(:class:`trainlab.population.PopulationTrainer`) differ only in what one
step, one window's record, one evaluation and one checkpoint do.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any, Sequence

from trainlab.loop.callbacks import Callback
from trainlab.loop.plan import Schedule
from trainlab.loop.stop import StopFlag
from trainlab.progress import Progress


class TrainingLoop(ABC):
    """Runs ``train_step`` until the budget is spent, nothing is left running, or SIGINT/SIGTERM.

    At the end of every logging window (``schedule.log_due``) it calls
    ``end_window`` (which may stop the run, e.g. on divergence), then
    ``evaluate_now`` and ``save_checkpoint`` when the schedule says so.
    ``on_train_end`` reaches the callbacks whatever happens.
    """

    step: int
    train_seconds: float
    schedule: Schedule
    callbacks: Sequence[Callback]
    progress: bool
    bar: Progress

    progress_label = ""
    stopped_by: str | None = None
    """The signal that stopped the last :meth:`fit` (``"SIGINT"`` or ``"SIGTERM"``), else None."""

    # -- what a trainer provides -------------------------------------------------------
    @abstractmethod
    def start(self) -> None:
        """Before the first step of this call: the initial loss, the metrics files."""

    @abstractmethod
    def running(self) -> bool:
        """Whether anything is left to train."""

    @abstractmethod
    def train_step(self) -> None:
        """One optimizer step; advances ``self.step``."""

    @abstractmethod
    def end_window(self) -> None:
        """Record the window's training loss; stop what diverged."""

    @abstractmethod
    def evaluate_now(self) -> None:
        """Validate and record it."""

    @abstractmethod
    def save_checkpoint(self) -> None:
        """Write the whole training state (nothing if the run has no folder)."""

    @abstractmethod
    def finish(self, interrupted: bool, started: float) -> Any:
        """The result: final evaluation, records and summary, or the interrupted state saved."""

    @abstractmethod
    def close(self) -> None:
        """Release open files; called whatever happened."""

    # -- the loop ------------------------------------------------------------------------
    def fit(self) -> Any:
        started = time.perf_counter()
        result = None
        self.stopped_by = None
        try:
            self.start()
            for cb in self.callbacks:
                cb.on_train_start(self)
            self.bar = Progress(self.schedule.total_steps, initial=self.step, desc=self.progress_label,
                                enabled=self.progress)
            try:
                interrupted = self._steps()
            finally:
                self.bar.close()
            result = self.finish(interrupted, started)
            return result
        finally:
            self.close()
            for cb in self.callbacks:
                cb.on_train_end(self, result)

    def _steps(self) -> bool:
        """Train to the end of the budget; True if a signal stopped it first."""
        schedule = self.schedule
        with StopFlag() as stop:
            tick = time.perf_counter()
            while self.step < schedule.total_steps and self.running():
                if stop.raised:
                    self.train_seconds += time.perf_counter() - tick
                    self.stopped_by = stop.raised
                    return True
                self.train_step()
                if schedule.log_due(self.step):
                    self.train_seconds += time.perf_counter() - tick
                    self.end_window()
                    if not self.running():
                        break
                    if schedule.eval_due(self.step):
                        self.evaluate_now()
                    if schedule.checkpoint_due(self.step):
                        self.save_checkpoint()
                    tick = time.perf_counter()
        return False

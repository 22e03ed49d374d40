"""What a loop writes: metric records, the divergence rule, a run's result and its checkpoint layout.

``metrics.jsonl`` gets three kinds of record, one JSON object a line:
``train`` at the end of each logging window (the window's mean training loss),
``eval`` after each validation, and one ``final`` with the :class:`RunResult`.
Non-finite numbers are written as ``null``.
"""
from __future__ import annotations

import json
import math
import signal
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any

import torch

from trainlab.errors import CheckpointError
from trainlab.runs import RunDir


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def jsonl(record: dict[str, Any]) -> str:
    finite = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
    return json.dumps(finite) + "\n"


def is_diverging(window_loss: float, initial_loss: float, factor: float) -> bool:
    """A run diverges when its window's training loss is NaN/Inf or above ``factor`` times the initial loss."""
    return not math.isfinite(window_loss) or window_loss > factor * initial_loss


def train_record(*, step: int, steps_per_epoch: int, loss: float, lr: float, samples: int,
                 seconds: float) -> dict[str, Any]:
    return {"kind": "train", "step": step, "epoch": step / steps_per_epoch, "train_loss": loss, "lr": lr,
            "samples": samples, "time": round(seconds, 4)}


def eval_record(*, step: int, steps_per_epoch: int, loss: float, accuracy: float) -> dict[str, Any]:
    return {"kind": "eval", "step": step, "epoch": step / steps_per_epoch, "val_loss": loss,
            "val_accuracy": accuracy}


class MetricsLog:
    """A run's append-only ``metrics.jsonl`` (or nowhere, for a run without a folder)."""

    def __init__(self, run: RunDir | None, *, from_step: int, total_steps: int | None = None) -> None:
        """Open ``run``'s metrics, keeping the records up to ``from_step`` (none for a fresh start) except
        the final evaluation and result of a run of ``total_steps``, which finishing writes again."""
        self._fh: IO[str] | None = None
        if run is not None:
            run.truncate_metrics(from_step if from_step else -1, total_steps=total_steps)
            self._fh = run.open_metrics()

    def write(self, record: dict[str, Any]) -> None:
        if self._fh is not None:
            self._fh.write(jsonl(record))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


@dataclass
class RunResult:
    run_dir: str
    status: str
    steps: int
    epochs: float
    train_loss: float | None
    val_loss: float | None
    val_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    seconds: float
    samples_per_second: float
    stopped_by: str | None = field(default=None, compare=False, repr=False)
    """The signal (``"SIGINT"``, ``"SIGTERM"``) that interrupted the run; not part of its record."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "stopped_by"}

    @classmethod
    def from_summary(cls, summary: dict[str, Any]) -> "RunResult":
        """The result a ``summary.json`` or a ``final`` record holds (as :func:`trainlab.runs.result_problem`
        checks them)."""
        return cls(**{f.name: summary[f.name] for f in fields(cls) if f.name != "stopped_by"})

    def final_record(self) -> dict[str, Any]:
        return {"kind": "final", **self.to_dict()}

    @classmethod
    def of(cls, *, run: RunDir | None, status: str, steps: int, steps_per_epoch: int,
           last_train_loss: float | None, last_eval: dict[str, float], test: tuple[float, float] | None,
           seconds: float, samples: int, train_seconds: float, stopped_by: str | None = None) -> "RunResult":
        """The outcome of a loop's state, non-finite losses as None (one run, or one population member)."""
        test_loss, test_accuracy = test if test is not None else (None, None)
        return cls(
            run_dir=str(run.path) if run else "",
            status=status,
            steps=steps,
            epochs=steps / steps_per_epoch,
            train_loss=finite_or_none(last_train_loss),
            val_loss=finite_or_none(last_eval.get("val_loss")),
            val_accuracy=last_eval.get("val_accuracy"),
            test_loss=finite_or_none(test_loss),
            test_accuracy=test_accuracy,
            seconds=round(seconds, 4),
            samples_per_second=round(samples / train_seconds, 2) if train_seconds > 0 else 0.0,
            stopped_by=stopped_by,
        )


def stopped_message(signal_name: str | None, step: int, folder: str | Path | None) -> str:
    """The one line that says a loop stopped on a signal after checkpointing, and how to continue."""
    stopped = f"stopped by {signal_name or 'a signal'} at step {step}"
    if folder is None:
        return f"{stopped}; nothing was saved (the run has no folder)"
    return f"{stopped}; the checkpoint is saved, continue with `trainlab resume {folder}`"


def signal_exit_status(signal_name: str | None) -> int:
    """The shell's exit status for a process stopped by ``signal_name``: 128 + its number (130 for SIGINT)."""
    known = signal.Signals.__members__
    return 128 + (known[signal_name].value if signal_name in known else signal.SIGINT.value)


def training_state(*, model: dict[str, torch.Tensor], optimizer: dict[str, Any], step: int, initial_loss: float | None,
                   window_sum: torch.Tensor, window_count: int, samples: int, train_seconds: float,
                   last_train_loss: float | None, last_eval: dict[str, float]) -> dict[str, Any]:
    """A ``checkpoint.pt`` as :meth:`trainlab.train.Trainer.load_state_dict` reads it (a run's, or a member's)."""
    return {"model": model, "optimizer": optimizer, "step": step, "initial_loss": initial_loss,
            "window_sum": window_sum.detach().cpu(), "window_count": window_count, "samples": samples,
            "train_seconds": train_seconds, "last_train_loss": last_train_loss, "last_eval": dict(last_eval)}


STATE_TYPES: dict[str, tuple[type, ...]] = {
    "model": (dict,), "optimizer": (dict,), "step": (int,), "initial_loss": (int, float, type(None)),
    "window_sum": (torch.Tensor,), "window_count": (int,), "samples": (int,), "train_seconds": (int, float),
    "last_train_loss": (int, float, type(None)), "last_eval": (dict,)}
"""What each entry of a :func:`training_state` must be."""


def check_training_state(state: dict[str, Any], path: Path, *, total_steps: int) -> None:
    """Refuse a ``checkpoint.pt`` that is not a :func:`training_state` of a run of ``total_steps`` steps."""
    fix = "delete it to restart the run from step 0"
    missing = [key for key in STATE_TYPES if key not in state]
    if missing:
        raise CheckpointError(f"{path} is not a trainlab training state (it lacks {', '.join(missing)}); {fix}")
    bad = [key for key, types in STATE_TYPES.items() if not isinstance(state[key], types)
           or (isinstance(state[key], bool) and bool not in types)]
    if not bad and state["window_sum"].numel() != 1:
        bad.append("window_sum")
    numbers = state["last_eval"].values()
    if not bad and not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
        bad.append("last_eval")
    if bad:
        raise CheckpointError(f"{path} holds values of the wrong type for {', '.join(bad)}; {fix}")
    check_step(state["step"], path, total_steps=total_steps, fix=fix)


def check_step(step: Any, path: Path, *, total_steps: int, fix: str) -> None:
    """A checkpoint's step must lie within the configured budget; one beyond it is corrupt, not finished."""
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= total_steps:
        raise CheckpointError(f"{path} claims step {step!r}, outside the configured budget of {total_steps} "
                              f"steps (a corrupt or foreign checkpoint); {fix}")

"""What a loop writes: metric records, the divergence rule, a run's result and its checkpoint layout.

``metrics.jsonl`` gets three kinds of record, one JSON object a line:
``train`` at the end of each logging window (the window's mean training loss),
``eval`` after each validation, and one ``final`` with the :class:`RunResult`.
Non-finite numbers are written as ``null``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import IO, Any

import torch

from trainlab.runs import RunDir


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def jsonl(record: dict[str, Any]) -> str:
    return json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}) + "\n"


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

    def __init__(self, run: RunDir | None, *, from_step: int) -> None:
        """Open ``run``'s metrics, keeping the records up to ``from_step`` (none for a fresh start)."""
        self._fh: IO[str] | None = None
        if run is not None:
            run.truncate_metrics(from_step if from_step else -1)
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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def final_record(self) -> dict[str, Any]:
        return {"kind": "final", **self.to_dict()}

    @classmethod
    def of(cls, *, run: RunDir | None, status: str, steps: int, steps_per_epoch: int,
           last_train_loss: float | None, last_eval: dict[str, float], test: tuple[float, float] | None,
           seconds: float, samples: int, train_seconds: float) -> "RunResult":
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
        )


def training_state(*, model: dict[str, torch.Tensor], optimizer: dict[str, Any], step: int, initial_loss: float | None,
                   window_sum: torch.Tensor, window_count: int, samples: int, train_seconds: float,
                   last_train_loss: float | None, last_eval: dict[str, float]) -> dict[str, Any]:
    """A ``checkpoint.pt`` as :meth:`trainlab.train.Trainer.load_state_dict` reads it (a run's, or a member's)."""
    return {"model": model, "optimizer": optimizer, "step": step, "initial_loss": initial_loss,
            "window_sum": window_sum.detach().cpu(), "window_count": window_count, "samples": samples,
            "train_seconds": train_seconds, "last_train_loss": last_train_loss, "last_eval": dict(last_eval)}

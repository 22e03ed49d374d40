"""Run directories: configuration, append-only metrics, atomic checkpoints, summary.

A run directory holds everything needed to trust and rerun a result::

    config.json      resolved configuration, seed, library versions, device
    metrics.jsonl    one JSON object per line, appended as training goes
    checkpoint.pt    latest training state, written atomically
    summary.json     the final outcome (absent while a run is unfinished)
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import torch

from trainlab import __version__
from trainlab.config import TrainConfig
from trainlab.errors import CheckpointError, UserError

CONFIG, METRICS, CHECKPOINT, SUMMARY = "config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"


def versions() -> dict[str, str]:
    import numpy

    return {
        "trainlab": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": sys.platform,
    }


def default_run_dir(config: TrainConfig, root: str | Path = "runs") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stamp}-{config.dataset}-{config.model}{config.depth}x{config.width}-{config.activation}-s{config.seed}"


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_torch_save(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        torch.save(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_checkpoint_file(path: Path, *, what: str) -> dict[str, Any] | None:
    """A checkpoint's state (tensors, numbers and containers only: ``weights_only``), or None if absent."""
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable ({type(exc).__name__}); "
                              f"delete it to restart {what} from step 0") from None


class RunDir:
    """One run's folder on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- creation ---------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, config: TrainConfig, device: str) -> "RunDir":
        run = cls(path)
        if (run.path / CONFIG).exists():
            raise UserError(
                f"{run.path} already holds a run; use `trainlab resume {run.path}` or choose another --out"
            )
        run.path.mkdir(parents=True, exist_ok=True)
        record = {"config": config.to_dict(), "device": device, "versions": versions(),
                  "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        atomic_write_text(run.path / CONFIG, json.dumps(record, indent=2) + "\n")
        return run

    # -- reading ----------------------------------------------------------------
    def config(self) -> TrainConfig:
        path = self.path / CONFIG
        if not path.is_file():
            raise CheckpointError(f"{self.path} is not a run directory (no {CONFIG}); pass the folder that `trainlab train` printed")
        try:
            record = json.loads(path.read_text())
            return TrainConfig.from_dict(record["config"])
        except (json.JSONDecodeError, KeyError) as exc:
            raise CheckpointError(f"{path} is corrupt ({exc}); the run cannot be resumed, start a new one") from None

    def metrics(self) -> list[dict[str, Any]]:
        return list(self.iter_metrics())

    def iter_metrics(self) -> Iterator[dict[str, Any]]:
        path = self.path / METRICS
        if not path.exists():
            return
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    return  # a line cut short by a kill: everything before it is intact

    def summary(self) -> dict[str, Any] | None:
        path = self.path / SUMMARY
        return json.loads(path.read_text()) if path.exists() else None

    # -- writing ----------------------------------------------------------------
    def truncate_metrics(self, last_step: int) -> None:
        """Keep only metric records up to ``last_step`` (those after it will be recomputed)."""
        kept = [r for r in self.iter_metrics() if r.get("step", 0) <= last_step]
        atomic_write_text(self.path / METRICS, "".join(json.dumps(r) + "\n" for r in kept))

    def open_metrics(self):
        return open(self.path / METRICS, "a", buffering=1)

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        atomic_torch_save(state, self.path / CHECKPOINT)

    def load_checkpoint(self) -> dict[str, Any] | None:
        return load_checkpoint_file(self.path / CHECKPOINT, what="the run")

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.path / SUMMARY, json.dumps(summary, indent=2) + "\n")

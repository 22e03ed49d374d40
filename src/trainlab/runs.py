"""The on-disk layout of runs, populations and reproductions; nothing else names these files.

A run directory holds everything needed to trust and rerun a result::

    config.json      resolved configuration, seed, library versions, device
    metrics.jsonl    one JSON object per line, appended as training goes
    checkpoint.pt    latest training state, written atomically
    preprocess.pt    the fitted preprocessing (when the configuration has some)
    summary.json     the final outcome (absent while a run is unfinished)

A population folder (``trainlab train`` with lists) holds one run directory per
member, ``member-000``, ``member-001``, ..., plus ``population.pt`` (the batched
training state) and ``population.json`` (the totals, once it has ended). A
reproduction folder holds ``results.json`` (its numbers, claims, title and
source) and the figures beside it.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from trainlab import __version__
from trainlab.config import TrainConfig
from trainlab.errors import CheckpointError, UserError
from trainlab.files import atomic_torch_save, atomic_write_text, load_torch_file

CONFIG, METRICS, CHECKPOINT, SUMMARY = "config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"
PREPROCESS = "preprocess.pt"
POPULATION_CHECKPOINT, POPULATION_SUMMARY = "population.pt", "population.json"
RESULTS = "results.json"


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


def default_population_dir(configs: Sequence[TrainConfig], root: str | Path = "runs") -> Path:
    c = configs[0]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stamp}-{c.dataset}-{c.model}{c.depth}x{c.width}-{c.activation}-population{len(configs)}"


def load_checkpoint_file(path: Path, *, what: str) -> dict[str, Any] | None:
    """A checkpoint's state (tensors, numbers and containers only: ``weights_only``), or None if absent."""
    if not path.exists():
        return None
    return load_torch_file(path, fix=f"delete it to restart {what} from step 0")


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
    def is_run(self) -> bool:
        return (self.path / CONFIG).is_file()

    def record(self) -> dict[str, Any]:
        """``config.json`` as written: the configuration, device, versions and creation time."""
        return json.loads((self.path / CONFIG).read_text())

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

    # -- preprocessing ----------------------------------------------------------------
    @property
    def preprocess_file(self) -> Path:
        return self.path / PREPROCESS

    def save_preprocessing(self, dataset: Any) -> Path | None:
        """Write ``dataset``'s fitted preprocessing pipeline (if it went through one) to ``preprocess.pt``."""
        pipeline = getattr(dataset, "pipeline", None)
        if pipeline is None:
            return None
        pipeline.save(self.preprocess_file)
        return self.preprocess_file


class PopulationDir:
    """A population's folder: one run directory per member, the batched checkpoint and the totals."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @staticmethod
    def member_name(index: int) -> str:
        return f"member-{index:03d}"

    def member(self, index: int) -> Path:
        return self.path / self.member_name(index)

    def members(self) -> list[Path]:
        """The members' run directories, in member order (member-1000 after member-999)."""
        found = [p for p in self.path.glob("member-*") if p.name[7:].isdigit() and (p / CONFIG).is_file()]
        return sorted(found, key=lambda p: int(p.name[7:]))

    @property
    def checkpoint_file(self) -> Path:
        return self.path / POPULATION_CHECKPOINT

    @property
    def summary_file(self) -> Path:
        return self.path / POPULATION_SUMMARY

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        atomic_torch_save(state, self.checkpoint_file)

    def load_checkpoint(self) -> dict[str, Any] | None:
        return load_checkpoint_file(self.checkpoint_file, what="the population")

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.summary_file, json.dumps(summary, indent=2) + "\n")

    def summary(self) -> dict[str, Any] | None:
        return json.loads(self.summary_file.read_text()) if self.summary_file.exists() else None


def is_population_dir(path: str | Path) -> bool:
    """A folder holding member run directories and no run of its own."""
    folder = PopulationDir(path)
    return (folder.member(0) / CONFIG).is_file() and not (folder.path / CONFIG).exists()


def is_reproduction_dir(path: str | Path) -> bool:
    return (Path(path) / RESULTS).is_file() and not (Path(path) / CONFIG).is_file()


def write_results(folder: Path, record: dict[str, Any], *, default: Any = None) -> Path:
    """A reproduction's ``results.json`` (its title and source included, so a report needs nothing else)."""
    path = folder / RESULTS
    atomic_write_text(path, json.dumps(record, indent=2, default=default) + "\n")
    return path


def read_results(folder: Path) -> dict[str, Any]:
    return json.loads((folder / RESULTS).read_text())

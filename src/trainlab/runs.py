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
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch

from trainlab.config import TrainConfig
from trainlab.errors import CheckpointError, UserError
from trainlab.files import atomic_write_text, load_checked, save_checked
from trainlab.version import __version__

CONFIG, METRICS, CHECKPOINT, SUMMARY = "config.json", "metrics.jsonl", "checkpoint.pt", "summary.json"
REJECTED_METRICS = "metrics.rejected.jsonl"
PREPROCESS = "preprocess.pt"
POPULATION_CHECKPOINT, POPULATION_SUMMARY = "population.pt", "population.json"
RESULTS = "results.json"
FINDINGS = "findings.json"
WATCHED = "watch"
"""``config.json``'s ``kind`` for a run recorded by :func:`trainlab.watch` around the user's own loop."""


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
    c = config
    return Path(root) / f"{stamp}-{c.dataset}-{c.model}{c.depth}x{c.width}-{c.activation}-s{c.seed}"


def default_population_dir(configs: Sequence[TrainConfig], root: str | Path = "runs") -> Path:
    c = configs[0]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stamp}-{c.dataset}-{c.model}{c.depth}x{c.width}-{c.activation}-population{len(configs)}"


class RunDirWarning(UserWarning):
    """Something in a run folder was damaged and worked around; the message says what, where and what was kept."""


RESULT_NUMBERS = ("epochs", "train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy", "seconds",
                  "samples_per_second")
"""The numeric fields (number or null) of a run's result, as ``summary.json`` and the ``final`` record hold it
(:class:`trainlab.loop.RunResult`; its fields are ``run_dir``, ``status``, ``steps`` and these)."""
RECORD_NUMBERS = {"train": ("epoch", "train_loss", "lr", "samples", "time"),
                  "eval": ("epoch", "val_loss", "val_accuracy")}
"""The fields (number or null) every ``train`` and ``eval`` record of ``metrics.jsonl`` has."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def result_problem(obj: Any) -> str | None:
    """What is wrong with ``obj`` as a run's result (``summary.json``, a ``final`` record), or None."""
    if not isinstance(obj, dict):
        return f"it holds a JSON {type(obj).__name__}, not an object"
    expected = {"run_dir", "status", "steps", *RESULT_NUMBERS}
    missing = sorted(expected - set(obj) - {"kind"})
    if missing:
        return f"it lacks {', '.join(missing)}"
    if not isinstance(obj["status"], str) or not isinstance(obj["run_dir"], str):
        return "its status and run_dir must be strings"
    if not _is_int(obj["steps"]) or obj["steps"] < 0:
        return f"its steps must be a whole number >= 0, got {obj['steps']!r}"
    bad = [name for name in RESULT_NUMBERS if not _is_number(obj[name])]
    return f"{', '.join(bad)} must be numbers or null" if bad else None


def record_problem(obj: Any) -> str | None:
    """What is wrong with ``obj`` as a ``metrics.jsonl`` record, or None."""
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    kind = obj.get("kind")
    if kind == "final":
        return result_problem(obj)
    if not isinstance(kind, str):
        return "no \"kind\""
    if not _is_int(obj.get("step")) or obj["step"] < 0:
        return f"step must be a whole number >= 0, got {obj.get('step')!r}"
    expected = RECORD_NUMBERS.get(kind, ())
    missing = [name for name in expected if name not in obj]
    if missing:
        return f"a {kind} record without {', '.join(missing)}"
    bad = [name for name in expected if not _is_number(obj[name])]
    return f"{', '.join(bad)} must be numbers or null" if bad else None


@dataclass
class MetricsFile:
    """What :meth:`RunDir.read_metrics` found: the records that parse, and the lines that do not."""

    records: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[int, bytes, str]] = field(default_factory=list)
    """``(line number, raw line, problem)`` for each line that is not a record."""
    torn: bool = False
    """The last line has no newline and does not parse: a write cut short by a kill (it is in ``rejected``)."""

    def describe(self, path: Path, action: str) -> str:
        """One line: how many lines of ``path`` could not be read, the first one's problem, and ``action``."""
        n = len(self.rejected)
        first_line, _, problem = self.rejected[0]
        if self.torn and n == 1:
            what = f"its last line (line {first_line}) was cut short by an interrupted write"
        else:
            what = f"{n} line(s) could not be read (line {first_line}: {problem})"
        return f"{path}: {what}; {action}; its other {len(self.records)} record(s) are kept"


def parse_metrics(data: bytes) -> MetricsFile:
    """Split a ``metrics.jsonl`` into its records and the lines that are not records (never raises)."""
    out = MetricsFile()
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
            problem = record_problem(record)
        except UnicodeDecodeError:
            problem = "not UTF-8 text"
        except (json.JSONDecodeError, RecursionError):
            problem = "not JSON"
        if problem is None:
            out.records.append(record)
            continue
        out.rejected.append((number, raw, problem))
        out.torn = number == len(lines) and problem == "not JSON"  # no newline after it: a kill mid-write
    return out


def read_json_file(path: Path, *, fix: str) -> Any:
    """``path`` parsed as JSON; an empty, non-UTF-8, truncated or garbled file is a :class:`CheckpointError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read ({exc.strerror or exc}); {fix}") from None
    if not data.strip():
        raise CheckpointError(f"{path} is empty; {fix}")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CheckpointError(f"{path} is not UTF-8 text (a binary or damaged file); {fix}") from None
    except json.JSONDecodeError as exc:
        cut = " (truncated?)" if exc.pos >= len(data.rstrip()) else ""
        raise CheckpointError(f"{path} is not valid JSON{cut}: {exc.msg} at line {exc.lineno} column {exc.colno}; "
                              f"{fix}") from None
    except RecursionError:
        raise CheckpointError(f"{path} is nested too deeply to be a trainlab file; {fix}") from None


def load_checkpoint_file(path: Path, *, what: str) -> dict[str, Any] | None:
    """A checkpoint's state (tensors, numbers and containers only: ``weights_only``; its digest verified),
    or None if absent."""
    if not path.exists():
        return None
    fix = f"delete it to restart {what} from step 0"
    state = load_checked(path, fix=fix)
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} holds a {type(state).__name__}, not a training state; {fix}")
    return state


class RunDir:
    """One run's folder on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- creation ---------------------------------------------------------------
    @staticmethod
    def check_new(path: str | Path) -> None:
        """Refuse ``path`` for a new run if it already holds a run or a population."""
        path = Path(path)
        if (path / CONFIG).exists():
            raise UserError(f"{path} already holds a run; use `trainlab resume {path}` or choose another --out")
        if is_population_dir(path) or (path / POPULATION_CHECKPOINT).exists():
            raise UserError(f"{path} already holds a population; a run there would hide its members: "
                            f"use `trainlab resume {path}` or choose another --out")

    @classmethod
    def create(cls, path: str | Path, config: TrainConfig, device: str) -> "RunDir":
        run = cls(path)
        cls.check_new(run.path)
        run.path.mkdir(parents=True, exist_ok=True)
        run._write_record({"config": config.to_dict(), "device": device})
        return run

    def _write_record(self, record: dict[str, Any]) -> None:
        """``config.json``: ``record`` with the versions and the creation time."""
        record = {**record, "versions": versions(), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        atomic_write_text(self.path / CONFIG, json.dumps(record, indent=2) + "\n")

    @classmethod
    def create_watched(cls, path: str | Path, description: dict[str, Any], device: str) -> "RunDir":
        """A folder for a loop watched by :func:`trainlab.watch`: ``config.json`` describes the user's
        model, optimizer and watch settings instead of a :class:`TrainConfig`."""
        run = cls(path)
        blocking = next((a for a in (run.path, *run.path.parents) if a.is_file()), None)
        if blocking is not None:
            where = "is a file" if blocking == run.path else f"lies under the file {str(blocking)!r}"
            raise UserError(f"out={str(run.path)!r} {where}; trainlab.watch writes a folder there: pass a folder")
        if (run.path / CONFIG).exists():
            raise UserError(f"{run.path} already holds a run; pass another out= to trainlab.watch, or delete it "
                            f"to watch into it again")
        cls.check_new(run.path)
        try:
            run.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the folder out={str(run.path)!r} ({exc.strerror or exc}); pass a "
                            "folder that can be written") from None
        run._write_record({"kind": WATCHED, "config": description, "device": device})
        return run

    # -- reading ----------------------------------------------------------------
    def is_run(self) -> bool:
        return (self.path / CONFIG).is_file()

    CONFIG_FIX = "restore it from a copy, or start a new run with `trainlab train`"

    def record(self) -> dict[str, Any]:
        """``config.json`` as written: the configuration, device, versions and creation time."""
        path = self.path / CONFIG
        if not path.is_file():
            raise CheckpointError(f"{self.path} is not a run directory (no {CONFIG}); pass the folder that "
                                  f"`trainlab train` printed")
        record = read_json_file(path, fix=self.CONFIG_FIX)
        if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
            raise CheckpointError(f"{path} does not hold a run's configuration (no \"config\" object); "
                                  f"{self.CONFIG_FIX}")
        return record

    def is_watched(self) -> bool:
        """Recorded by :func:`trainlab.watch` (the user's own loop), not by ``trainlab train``."""
        return self.is_run() and self.record().get("kind") == WATCHED

    def config(self) -> TrainConfig:
        path = self.path / CONFIG
        record = self.record()
        if record.get("kind") == WATCHED:
            raise UserError(f"{self.path} was recorded by trainlab.watch around your own training loop; trainlab "
                            f"cannot resume or re-run it: run your loop again (`trainlab report {self.path}` shows it)")
        values = record["config"]
        try:
            return TrainConfig.from_dict(values)
        except (UserError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path} holds a configuration trainlab cannot use ({exc}); "
                                  f"{self.CONFIG_FIX}") from None

    def read_metrics(self) -> MetricsFile:
        """Every record of ``metrics.jsonl`` that parses, and the lines that do not (see :class:`MetricsFile`)."""
        path = self.path / METRICS
        try:
            return parse_metrics(path.read_bytes())
        except FileNotFoundError:
            return MetricsFile()
        except OSError as exc:
            raise CheckpointError(f"{path} cannot be read ({exc.strerror or exc}); check its permissions") from None

    def metrics(self) -> list[dict[str, Any]]:
        """The records of ``metrics.jsonl``; lines that are not records are skipped with a :class:`RunDirWarning`."""
        found = self.read_metrics()
        if found.rejected:
            warnings.warn(found.describe(self.path / METRICS, "they are skipped here"), RunDirWarning, stacklevel=2)
        return found.records

    def iter_metrics(self) -> Iterator[dict[str, Any]]:
        yield from self.metrics()

    SUMMARY_FIX = "delete it: `trainlab resume {path}` writes it again from the run's records"

    def summary(self) -> dict[str, Any] | None:
        """``summary.json`` (None while the run is unfinished); a damaged one is a :class:`CheckpointError`."""
        path = self.path / SUMMARY
        if not path.exists():
            return None
        fix = self.SUMMARY_FIX.format(path=self.path)
        summary = read_json_file(path, fix=fix)
        problem = result_problem(summary)
        if problem is not None:
            raise CheckpointError(f"{path} is not a run's summary ({problem}); {fix}")
        return summary

    def findings(self) -> list[dict[str, Any]]:
        """``findings.json`` of a watched run (``[]`` if none); a damaged one is a :class:`CheckpointError`."""
        path = self.path / FINDINGS
        if not path.exists():
            return []
        found = read_json_file(path, fix="delete it, or watch the loop again")
        if not isinstance(found, list) or not all(isinstance(f, dict) and {"id", "step", "evidence"} <= set(f)
                                                  for f in found):
            raise CheckpointError(f"{path} is not a list of findings; delete it, or watch the loop again")
        return found

    # -- writing ----------------------------------------------------------------
    def write_findings(self, findings: Sequence[dict[str, Any]]) -> None:
        atomic_write_text(self.path / FINDINGS, json.dumps(list(findings), indent=1) + "\n")

    def truncate_metrics(self, last_step: int, *, total_steps: int | None = None) -> None:
        """Keep the records of the steps up to ``last_step`` (those after it will be recomputed).

        ``final`` records, and ``eval`` records at ``total_steps`` (the final
        evaluation), are dropped too: finishing the run writes them again.
        Lines that are not records are never thrown away: they are appended to
        ``metrics.rejected.jsonl`` with a :class:`RunDirWarning`.
        """
        found = self.read_metrics()
        if found.rejected:
            aside = self.path / REJECTED_METRICS
            with open(aside, "ab") as fh:
                fh.write(b"".join(raw + b"\n" for _, raw, _ in found.rejected))
            warnings.warn(found.describe(self.path / METRICS, f"set aside in {aside.name}"), RunDirWarning,
                          stacklevel=2)

        def kept(r: dict[str, Any]) -> bool:
            if r["kind"] == "final":
                return False
            return r["step"] <= last_step and not (r["kind"] == "eval" and total_steps is not None
                                                   and r["step"] >= total_steps)

        atomic_write_text(self.path / METRICS, "".join(json.dumps(r) + "\n" for r in found.records if kept(r)))

    def open_metrics(self):
        return open(self.path / METRICS, "a", buffering=1)

    @property
    def checkpoint_file(self) -> Path:
        return self.path / CHECKPOINT

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        save_checked(state, self.checkpoint_file)

    def load_checkpoint(self) -> dict[str, Any] | None:
        return load_checkpoint_file(self.checkpoint_file, what="the run")

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

    @staticmethod
    def check_new(path: str | Path) -> None:
        """Refuse ``path`` for a new population if it already holds a run or a population."""
        path = Path(path)
        if (path / CONFIG).exists():
            raise UserError(f"{path} already holds a single run; a population there would mix its files with "
                            f"the run's: choose another --out")
        if is_population_dir(path) or (path / POPULATION_CHECKPOINT).exists():
            raise UserError(f"{path} already holds a population; use `trainlab resume {path}` or choose another --out")

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
        save_checked(state, self.checkpoint_file)

    def load_checkpoint(self) -> dict[str, Any] | None:
        return load_checkpoint_file(self.checkpoint_file, what="the population")

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.summary_file, json.dumps(summary, indent=2) + "\n")

    def summary(self) -> dict[str, Any] | None:
        """``population.json`` (None while unfinished); a damaged one is a :class:`CheckpointError`."""
        if not self.summary_file.exists():
            return None
        fix = f"delete it: `trainlab resume {self.path}` writes it again"
        summary = read_json_file(self.summary_file, fix=fix)
        if not isinstance(summary, dict):
            raise CheckpointError(f"{self.summary_file} holds a JSON {type(summary).__name__}, not the population's "
                                  f"totals; {fix}")
        return summary


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
    path = Path(folder) / RESULTS
    fix = "run the reproduction again with `trainlab reproduce NAME` to rewrite it"
    record = read_json_file(path, fix=fix)
    if not isinstance(record, dict):
        raise CheckpointError(f"{path} holds a JSON {type(record).__name__}, not a reproduction's results; {fix}")
    return record

"""A watched run's folder: what :func:`trainlab.watch` writes for ``trainlab report`` to render.

The same files as a ``trainlab train`` run, so the report shows the same curves and probe figures
(:mod:`trainlab.runs` names them): ``config.json`` (the model, optimizer and watch settings),
``metrics.jsonl`` (one ``train`` record per check: the mean loss since the last one and the learning
rate), ``probes.json`` + ``probes.bin`` (the probes of the check steps), ``findings.json`` (rewritten
whenever a finding is new) and, at the end, ``summary.json``. Each is appended or replaced whole, so a
run killed midway leaves readable files.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Sequence

from trainlab.loop.records import finite_or_none
from trainlab.probe import Probe
from trainlab.probe.records import ProbeRecord
from trainlab.probe.store import ProbeWriter, header_for
from trainlab.runs import RESULT_NUMBERS, RunDir
from trainlab.watcher.findings import Finding


class RunRecorder:
    """Writes one watched run to ``path`` (refused if it already holds a run)."""

    def __init__(self, path: str | Path, description: dict[str, Any], *, device: str, probe: Probe | None) -> None:
        self.run = RunDir.create_watched(path, description, device)
        self._metrics = self.run.open_metrics()
        self._probes = ProbeWriter(self.run.path, header_for(probe)) if probe is not None else None
        self._started = time.perf_counter()

    @property
    def path(self) -> Path:
        return self.run.path

    def check(self, step: int, *, loss: float | None, lr: float, samples: int | None) -> None:
        record = {"kind": "train", "step": step, "epoch": None, "train_loss": finite_or_none(loss),
                  "lr": finite_or_none(lr), "samples": samples, "time": round(time.perf_counter() - self._started, 4)}
        self._metrics.write(json.dumps(record) + "\n")

    def probe(self, record: ProbeRecord, rows: Sequence[Sequence[float]]) -> None:
        if self._probes is not None:
            self._probes.append(record, rows)

    def findings(self, findings: Sequence[Finding]) -> None:
        self.run.write_findings([f.to_dict() for f in findings])

    def close(self, *, status: str, steps: int, loss: float | None) -> None:
        """Write ``summary.json`` (``status``: finished, interrupted or failed) and close the files."""
        try:
            summary: dict[str, Any] = {"run_dir": str(self.run.path), "status": status, "steps": steps,
                                       **{name: None for name in RESULT_NUMBERS}}
            summary["train_loss"] = loss if loss is not None and math.isfinite(loss) else None
            summary["seconds"] = round(time.perf_counter() - self._started, 3)
            self.run.write_summary(summary)
        finally:
            self._metrics.close()
            if self._probes is not None:
                self._probes.close()

"""Run the cases, score them against their ground truth, and write the table and the summary."""
from __future__ import annotations

import importlib
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch
from common import CASES, Case

from trainlab.watcher import CATALOGUE, Finding

MODULES = ("cases_loop", "cases_numerics", "cases_data", "cases_healthy", "cases_heldout", "cases_blind2",
           "cases_blind3", "cases_blind4", "cases_blind5")


def all_cases(only: str | None = None) -> list[Case]:
    """Every registered case (importing the case modules registers them), optionally filtered by name."""
    for name in MODULES:
        importlib.import_module(name)
    return [c for c in CASES if only is None or only in c.name or only == c.expected]


@dataclass
class Result:
    case: Case
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.findings]

    @property
    def correct(self) -> bool:
        if self.error is not None:
            return False
        return not self.findings if self.case.expected is None else self.case.expected in self.ids

    @property
    def first_seen(self) -> int | None:
        return next((f.step for f in self.findings if f.id == self.case.expected), None)

    @property
    def extra(self) -> list[Finding]:
        return [f for f in self.findings if f.id != self.case.expected]


def run_case(case: Case) -> Result:
    torch.manual_seed(case.seed)
    started = time.perf_counter()
    try:
        w = case.run()
        result = Result(case, w.findings)
    except Exception as exc:  # a crash is a result too: the table says so
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result = Result(case, error=f"{type(exc).__name__}: {exc} ({last.filename.split('/')[-1]}:{last.lineno})")
    result.seconds = time.perf_counter() - started
    return result


def _ids(findings: list[Finding]) -> str:
    return ", ".join(f.id + (f" (from {f.explained_by})" if f.explained_by else "") for f in findings) or "-"


def _flagged(r: Result) -> str:
    return f"**error**: {r.error}" if r.error is not None else _ids(r.findings)


def table(results: list[Result]) -> str:
    rows = ["| case | provenance | expected | flagged (in order) | correct? | first seen (step) | s |",
            "|---|---|---|---|---|---|---|"]
    for r in results:
        c = r.case
        step = "-" if r.first_seen is None else str(r.first_seen)
        rows.append(f"| {c.name} | {c.provenance} | {c.expected or '(none: correct loop)'} | {_flagged(r)} | "
                    f"{'yes' if r.correct else '**no**'} | {step} | {r.seconds:.1f} |")
    return "\n".join(rows)


def summary(results: list[Result]) -> str:
    buggy = [r for r in results if r.case.expected is not None]
    healthy = [r for r in results if r.case.expected is None]
    lines = [f"- buggy loops flagged with the right id: **{sum(r.correct for r in buggy)}/{len(buggy)}**",
             f"- correct loops with no finding: **{sum(r.correct for r in healthy)}/{len(healthy)}**"]
    missed = [r.case.name for r in buggy if not r.correct]
    lines.append(f"- missed: {', '.join(missed) if missed else 'none'}")
    alarms = [f"{r.case.name} ({_flagged(r)})" for r in healthy if not r.correct]
    lines.append(f"- false alarms on correct loops: {'; '.join(alarms) if alarms else 'none'}")
    extras = [f"{r.case.name}: {_ids(r.extra)}" for r in buggy if r.extra]
    lines.append("- extra findings on buggy loops: " + ("; ".join(extras) if extras else "none"))
    recall = []
    for id in CATALOGUE:
        mine = [r for r in buggy if r.case.expected == id]
        recall.append(f"{id} {sum(r.correct for r in mine)}/{len(mine)}")
    lines.append("- per-id recall: " + ", ".join(recall))
    lines.append(f"- time: {sum(r.seconds for r in results):.0f} s for {len(results)} loops "
                 f"({torch.get_num_threads()} torch threads); {revision()}")
    return "\n".join(lines)


def revision() -> str:
    """The commit the watcher was run at, and whether its source had uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src/trainlab/watcher"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {commit}" + (" with uncommitted changes in src/trainlab/watcher" if dirty else "")


def evidence(results: list[Result]) -> str:
    """Every finding's one-line evidence, per case (for --verbose)."""
    out = []
    for r in results:
        out.append(f"## {r.case.name} (expected {r.case.expected or 'nothing'})")
        out += [f"  {f.line()}" for f in r.findings] or ["  (no finding)"]
        if r.error:
            out.append(f"  error: {r.error}")
    return "\n".join(out)

"""Run the cases through ``trainlab.doctor.examine`` and score the reports against the ground truth.

Scoring (the same whatever the doctor's version):

* **detected**: a faulty case whose report has at least one ``fail``; **flagged**: a ``fail`` or a ``warn``.
  When ``examine`` refuses the patient's data with a ``UserError`` before any check runs (NaN inputs, say),
  the refusal counts as a ``fail`` of ``data``: it is that check's verdict, given early.
* **top diagnosis**: ``report.diagnosis[0].cause`` when the report has a ``diagnosis``; otherwise the
  first failing check in ``ORDER``, which is correct when it is one of the true cause's ``leads``
  (``causes.py``). The output says which of the two was used.
* per lead check: **recall** (cases that name it as their lead and where it fails) and **precision**
  (of all its fails, on any case, those that point at the case's true cause; a fail on a healthy case
  never does).
* healthy cases: fails and warnings, per case and per check.
* seconds per case (building the patient and running the checks), and their median; with ``--treat``,
  also with the treatments, whose seconds the case table gives.
"""
from __future__ import annotations

import importlib
import statistics
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmarks.doctor.causes import CAUSES, CHECK_IDS
from benchmarks.doctor.common import CASES, Case
from trainlab.doctor import ORDER, examine
from trainlab.errors import UserError

MODULES = ("cases_thedeepchecker", "cases_autotrainer", "cases_deeplocalize", "cases_deepfd", "cases_bugs",
           "cases_healthy", "cases_blind1", "cases_blind2", "cases_blind3")

TARGETS = {"detection": 0.95, "top": 0.75, "median_seconds": 30.0}
"""The issue's targets: detection >= 95%, correct top diagnosis >= 75%, median <= 30 s per case on two
cores; and on healthy cases no fail and at most one warning each."""

FALLBACK = "first failing check in ORDER, scored through causes.py"
DIAGNOSIS = "report.diagnosis[0].cause"


def all_cases(only: str | None = None) -> list[Case]:
    """Every registered case (importing the case modules registers them); ``only`` keeps those whose name
    contains it, or whose cause or lead is it."""
    for name in MODULES:
        importlib.import_module(f"benchmarks.doctor.{name}")
    return [c for c in CASES if only is None or only in c.name or only in (c.cause, c.lead)]


@dataclass
class Result:
    case: Case
    statuses: dict[str, str] = field(default_factory=dict)  # check id -> pass/warn/fail/skipped
    evidence: dict[str, str] = field(default_factory=dict)
    causes: dict[str, list[str]] = field(default_factory=dict)  # check id -> the causes its warn or fail names
    diagnosis: list[str] | None = None  # the report's ranked causes, when it has them
    refused: str | None = None  # examine's UserError, before any check ran
    error: str | None = None  # anything else that went wrong (the case or the doctor crashed)
    seconds: float = 0.0
    treatments: list[dict[str, Any]] | None = None  # examine(treat=True)'s results, when run with --treat
    treat_seconds: float = 0.0
    raw: list[dict[str, Any]] = field(default_factory=list)  # each check's result before rule_out (for replay.py)

    @property
    def best_treatment(self) -> dict[str, Any] | None:
        """The tested fix with the largest mean accuracy gain (advised ones first, as the report lists them)."""
        return self.treatments[0] if self.treatments else None

    @property
    def fails(self) -> list[str]:
        if self.refused is not None:
            return ["data"] if self.refused.startswith(("train_data", "val_data")) else ["examine"]
        return [id for id in ORDER if self.statuses.get(id) == "fail"]

    @property
    def warns(self) -> list[str]:
        return [id for id in ORDER if self.statuses.get(id) == "warn"]

    @property
    def detected(self) -> bool:
        return bool(self.fails)

    @property
    def flagged(self) -> bool:
        return bool(self.fails or self.warns)

    @property
    def mode(self) -> str:
        return DIAGNOSIS if self.diagnosis is not None else FALLBACK

    @property
    def top(self) -> str | None:
        """The top diagnosis: a cause id (report.diagnosis) or a check id (the fallback)."""
        if self.diagnosis is not None:
            return self.diagnosis[0] if self.diagnosis else None
        return self.fails[0] if self.fails else None

    @property
    def top_correct(self) -> bool:
        if not self.case.faulty or self.top is None:
            return False
        if self.diagnosis is not None:
            return self.top == self.case.cause
        return self.top in CAUSES[self.case.cause].leads

    def points_at_truth(self, check: str) -> bool:
        """Whether a fail of ``check`` is direct evidence of this case's true cause."""
        return self.case.faulty and check in CAUSES[self.case.cause].leads


def _diagnosis(report: Any) -> list[str] | None:
    entries = getattr(report, "diagnosis", None)
    if entries is None:
        return None
    return [e["cause"] if isinstance(e, dict) else getattr(e, "cause") for e in entries]


def run_named(name: str, treat: bool = False) -> Result:
    """:func:`run_case` for the case called ``name`` (a job for ``trainlab.workers.run_jobs``)."""
    return run_case(next(c for c in all_cases() if c.name == name), treat=treat)


def run_case(case: Case, *, treat: bool = False) -> Result:
    """Build the patient (seeded) and examine it with the default budget; a crash is recorded, not raised."""
    torch.manual_seed(case.seed)
    started = time.perf_counter()
    result = Result(case)
    try:
        patient = case.build()
        report = examine(patient.model, patient.loss_fn, patient.train, seed=case.seed, treat=treat,
                         on_result=lambda r: result.raw.append(r.to_dict()), **patient.examine_kwargs())
        result.statuses = {r.id: r.status for r in report.results}
        result.evidence = {r.id: r.evidence for r in report.results}
        result.causes = {r.id: list(r.causes) for r in report.results if r.causes}
        result.diagnosis = _diagnosis(report)
        if treat:
            result.treatments = [t.to_dict() for t in report.treatments]
            result.treat_seconds = sum(t.seconds for t in report.treatments)
    except UserError as exc:
        result.refused = str(exc)
    except Exception as exc:  # the table says so
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result.error = f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
    result.seconds = time.perf_counter() - started
    return result


# -- scores ---------------------------------------------------------------------------------------

def _ratio(k: int, n: int) -> float:
    return k / n if n else float("nan")


def scores(results: list[Result]) -> dict[str, Any]:
    """Every number the tables show, as one JSON-ready dict."""
    faulty = [r for r in results if r.case.faulty]
    healthy = [r for r in results if not r.case.faulty]
    seconds = [r.seconds - r.treat_seconds for r in results]  # the checks (and the patient's build)
    with_treatments = [r.seconds for r in results]
    modes = sorted({r.mode for r in faulty})
    per_lead = {}
    for check in CHECK_IDS:
        led = [r for r in faulty if r.case.lead == check]
        failing = [r for r in results if check in r.fails]
        first = [r for r in results if r.fails[:1] == [check]]
        if not (led or failing):
            continue
        per_lead[check] = {
            "cases": len(led), "caught": sum(check in r.fails for r in led),
            "flagged": sum(check in r.fails or check in r.warns for r in led),
            "recall": _ratio(sum(check in r.fails for r in led), len(led)),
            "fails": len(failing), "fails_at_truth": sum(r.points_at_truth(check) for r in failing),
            "precision": _ratio(sum(r.points_at_truth(check) for r in failing), len(failing)),
            "first_fails": len(first), "first_at_truth": sum(r.points_at_truth(check) for r in first),
            "planned": check not in ORDER,
        }
    per_cause = {}
    for cause in CAUSES:
        mine = [r for r in faulty if r.case.cause == cause]
        if mine:
            per_cause[cause] = {"cases": len(mine), "detected": sum(r.detected for r in mine),
                                "flagged": sum(r.flagged for r in mine), "top": sum(r.top_correct for r in mine)}
    false_alarms: dict[str, dict[str, int]] = {}
    for r in healthy:
        for check in r.fails:
            false_alarms.setdefault(check, {"fail": 0, "warn": 0})["fail"] += 1
        for check in r.warns:
            false_alarms.setdefault(check, {"fail": 0, "warn": 0})["warn"] += 1
    return {
        "cases": len(results), "faulty": len(faulty), "healthy": len(healthy),
        "causes": len({r.case.cause for r in faulty}),
        "detection": _ratio(sum(r.detected for r in faulty), len(faulty)),
        "detected": sum(r.detected for r in faulty),
        "flagged": sum(r.flagged for r in faulty),
        "top": _ratio(sum(r.top_correct for r in faulty), len(faulty)),
        "top_correct": sum(r.top_correct for r in faulty),
        "diagnosis_mode": " / ".join(modes) or FALLBACK,
        "healthy_without_fail": sum(not r.fails for r in healthy),
        "healthy_at_most_one_warning": sum(not r.fails and len(r.warns) <= 1 for r in healthy),
        "healthy_fails": sum(len(r.fails) for r in healthy),
        "healthy_warnings": sum(len(r.warns) for r in healthy),
        "false_alarms": false_alarms,
        "errors": sum(r.error is not None for r in results),
        "refused": sum(r.refused is not None for r in results),
        "median_seconds": statistics.median(seconds) if seconds else float("nan"),
        "total_seconds": sum(seconds), "max_seconds": max(seconds, default=float("nan")),
        "median_seconds_treated": statistics.median(with_treatments) if with_treatments else float("nan"),
        "total_seconds_treated": sum(with_treatments),
        "per_lead": per_lead, "per_cause": per_cause,
        "threads": torch.get_num_threads(), "revision": revision(),
        "treatment": treatment_scores(results),
    }


def treatment_scores(results: list[Result]) -> dict[str, Any] | None:
    """Issue 12's treatment targets, over the faulty cases whose true cause the catalogue has a fix for."""
    treated = [r for r in results if r.treatments is not None]
    if not treated:
        return None
    from trainlab.doctor.treat import CATALOGUE

    fixable = [r for r in treated if r.case.faulty and any(r.case.cause in f.treats for f in CATALOGUE)]
    healthy = [r for r in treated if not r.case.faulty]

    def best(r: Result, key: str) -> bool:
        t = r.best_treatment
        return bool(t) and t[key]["low"] > 0

    times = [r.treat_seconds for r in treated if r.treatments]
    return {"fixable": len(fixable),
            "advised": sum(any(t["advised"] for t in r.treatments) for r in fixable),
            "improves": sum(best(r, "accuracy_gain") for r in fixable),
            "beats_control": sum(best(r, "accuracy_gain_over_control") for r in fixable),
            "treated_at_all": sum(bool(r.treatments) for r in fixable),
            "healthy_advised": sum(any(t["advised"] for t in r.treatments) for r in healthy),
            "healthy": len(healthy),
            "median_treat_seconds": statistics.median(times) if times else float("nan")}


def treatment_table(s: dict[str, Any]) -> str:
    t = s["treatment"]
    if t is None:
        return ""
    n = t["fixable"]
    return "\n".join([
        "| treatments (faulty cases whose cause has a catalogue fix) | ours | target |", "|---|---|---|",
        f"| a fix was tested (a cause the catalogue treats was found) | {t['treated_at_all']}/{n} | |",
        f"| the best tested fix improves validation accuracy significantly | {t['improves']}/{n} = "
        f"{_pct(_ratio(t['improves'], n))} | >= 85% {_mark(_ratio(t['improves'], n) >= 0.85)} |",
        f"| it beats the random-change control | {t['beats_control']}/{n} = {_pct(_ratio(t['beats_control'], n))} "
        f"| >= 80% {_mark(_ratio(t['beats_control'], n) >= 0.80)} |",
        f"| a fix is advised (beats both) | {t['advised']}/{n} = {_pct(_ratio(t['advised'], n))} | |",
        f"| healthy cases with advice | {t['healthy_advised']}/{t['healthy']} | 0 "
        f"{_mark(t['healthy_advised'] == 0)} |",
        f"| treatment seconds per treated case, median | {t['median_treat_seconds']:.1f} | |",
    ])


def revision() -> str:
    """The commit the doctor was run at, and whether trainlab's source (the doctor and what it uses: probes,
    gradient checks, losses) had uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src/trainlab"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {commit}" + (" with uncommitted changes in src/trainlab" if dirty else "")


# -- tables ---------------------------------------------------------------------------------------

def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.0f}%"


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def summary_table(s: dict[str, Any]) -> str:
    n_f, n_h = s["faulty"], s["healthy"]
    rows = [
        "| measure | ours | target |", "|---|---|---|",
        f"| detection (faulty cases with a fail) | {s['detected']}/{n_f} = {_pct(s['detection'])} | "
        f">= 95% {_mark(s['detection'] >= TARGETS['detection'])} |",
        f"| flagged (faulty cases with a fail or a warning) | {s['flagged']}/{n_f} = {_pct(_ratio(s['flagged'], n_f))} "
        f"| (none) |",
        f"| correct top diagnosis ({s['diagnosis_mode']}) | {s['top_correct']}/{n_f} = {_pct(s['top'])} | "
        f">= 75% {_mark(s['top'] >= TARGETS['top'])} |",
        f"| healthy cases without a fail | {s['healthy_without_fail']}/{n_h} | all "
        f"{_mark(s['healthy_without_fail'] == n_h)} |",
        f"| healthy cases with at most one warning (and no fail) | {s['healthy_at_most_one_warning']}/{n_h} | all "
        f"{_mark(s['healthy_at_most_one_warning'] == n_h)} |",
        f"| false alarms on healthy cases | {s['healthy_fails']} fails, {s['healthy_warnings']} warnings | 0 fails |",
        f"| seconds per case, median (max; total) | {s['median_seconds']:.1f} ({s['max_seconds']:.0f}; "
        f"{s['total_seconds']:.0f}) | <= 30 {_mark(s['median_seconds'] <= TARGETS['median_seconds'])} |",
    ]
    if s["treatment"] is not None:
        rows.append(f"| seconds per case with treatments, median (total) | {s['median_seconds_treated']:.1f} "
                    f"({s['total_seconds_treated']:.0f}) | |")
    return "\n".join(rows)


def lead_table(s: dict[str, Any]) -> str:
    rows = ["| check | faulty cases it should lead | fails there (recall) | fails or warns there | fails on any case "
            "| precision | first fail on a case (of which at the true cause) |", "|---|---|---|---|---|---|---|"]
    for check, v in s["per_lead"].items():
        name = f"{check} (planned)" if v["planned"] else check
        rows.append(f"| {name} | {v['cases']} | {v['caught']} ({_pct(v['recall'])}) | {v['flagged']} | {v['fails']} | "
                    f"{_pct(v['precision'])} | {v['first_fails']} ({v['first_at_truth']}) |")
    return "\n".join(rows)


def cause_table(s: dict[str, Any]) -> str:
    rows = ["| cause | cases | detected | flagged | correct top diagnosis |", "|---|---|---|---|---|"]
    for cause, v in s["per_cause"].items():
        rows.append(f"| {cause} | {v['cases']} | {v['detected']} | {v['flagged']} | {v['top']} |")
    return "\n".join(rows)


def _checks(ids: list[str]) -> str:
    return ", ".join(ids) or "-"


def case_table(results: list[Result]) -> str:
    treated = any(r.treatments is not None for r in results)
    rows = ["| case | truth (cause / lead) | fails (in ORDER) | warnings | top diagnosis | correct? | "
            + ("treatment (accuracy gain, seconds) | " if treated else "") + "s |",
            "|---|---|---|---|---|---|---|" + ("---|" if treated else "")]
    for r in results:
        c = r.case
        truth = f"{c.cause} / {c.lead}" if c.faulty else "healthy"
        if r.error is not None:
            fails = f"**error**: {r.error}"
        elif r.refused is not None:
            fails = f"refused ({_checks(r.fails)}): {r.refused[:80]}"
        else:
            fails = _checks(r.fails)
        if c.faulty:
            verdict = "yes" if r.top_correct else "**no**"
        else:
            verdict = "yes" if not r.fails and len(r.warns) <= 1 else "**no**"
        rows.append(f"| {c.name} | {truth} | {fails} | {_checks(r.warns)} | {r.top or '-'} | {verdict} | "
                    f"{_treated(r)}{r.seconds:.1f} |")
    return "\n".join(rows)


def _treated(r: Result) -> str:
    """The treatment column's cell (empty without --treat): the advised fix, or the best tested one."""
    if r.treatments is None:
        return ""
    t = r.best_treatment
    if t is None:
        return "- | "
    gain = t["accuracy_gain"]
    return (f"{'**' + t['fix'] + '**' if t['advised'] else t['fix'] + ' (not advised)'} "
            f"{100 * gain['mean']:+.0f} pts, {r.treat_seconds:.0f} s | ")


def false_alarm_lines(s: dict[str, Any]) -> str:
    alarms = s["false_alarms"]
    if not alarms:
        return "- false alarms on healthy cases: none"
    listed = ", ".join(f"{check} {v['fail']} fail / {v['warn']} warn" for check, v in alarms.items())
    return f"- false alarms on healthy cases, per check: {listed}"


def report(results: list[Result]) -> str:
    """The whole markdown report: summary, per lead check, per cause, every case."""
    s = scores(results)
    return "\n\n".join(part for part in [
        summary_table(s),
        f"- {s['faulty']} faulty cases over {s['causes']} causes, {s['healthy']} healthy; {s['errors']} errors, "
        f"{s['refused']} refused by examine (counted as a fail of data)\n{false_alarm_lines(s)}\n"
        f"- {torch.get_num_threads()} torch threads; {s['revision']}",
        treatment_table(s),
        "Per lead check:\n\n" + lead_table(s),
        "Per cause:\n\n" + cause_table(s),
        "Every case:\n\n" + case_table(results),
    ] if part) + "\n"


def to_json(results: list[Result]) -> dict[str, Any]:
    return {"summary": scores(results), "cases": [{
        "name": r.case.name, "group": r.case.group, "faulty": r.case.faulty, "cause": r.case.cause,
        "lead": r.case.lead, "source": r.case.source, "provenance": r.case.provenance, "statuses": r.statuses,
        "fails": r.fails, "warns": r.warns, "top": r.top, "top_correct": r.top_correct, "mode": r.mode,
        "diagnosis": r.diagnosis, "refused": r.refused, "error": r.error, "seconds": round(r.seconds, 2),
        "treatments": r.treatments, "treat_seconds": round(r.treat_seconds, 2),
        "evidence": r.evidence, "causes": r.causes, "raw": r.raw} for r in results]}


def catalogue(cases: list[Case]) -> str:
    """The causes and the cases with their ground truth and provenance, as markdown (no doctor run)."""
    counts = {cause: sum(c.cause == cause for c in cases) for cause in CAUSES}
    rows = ["| cause | meaning | should be named by | cases | in the public benchmarks |", "|---|---|---|---|---|"]
    for cause in CAUSES.values():
        leads = ", ".join(f"{lead} (planned)" if lead not in ORDER else lead for lead in cause.leads)
        rows.append(f"| `{cause.id}` | {cause.meaning} | {leads} | {counts[cause.id]} | {cause.sources} |")
    rows += ["", "| case | faulty | cause / lead | source | what was ported |", "|---|---|---|---|---|"]
    for c in cases:
        truth = f"`{c.cause}` / {c.lead}" if c.faulty else "-"
        rows.append(f"| {c.name} | {'yes' if c.faulty else 'no'} | {truth} | {c.source} | {c.provenance} |")
    return "\n".join(rows) + "\n"


def evidence(results: list[Result]) -> str:
    """Every check's one-line evidence, per case (for --verbose)."""
    out = []
    for r in results:
        out.append(f"## {r.case.name} ({r.case.cause or 'healthy'})")
        out += [f"  {r.statuses[id].upper():7} {id}: {text}" for id, text in r.evidence.items()]
        for what in ("refused", "error"):
            if getattr(r, what):
                out.append(f"  {what}: {getattr(r, what)}")
    return "\n".join(out)

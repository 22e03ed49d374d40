"""What a check is, what it returns, and the registry that runs them in order.

A check is a function ``check(patient) -> Verdict`` registered under an id with
:func:`register`. The runner adds the id, title and timing to make a
:class:`CheckResult`. Checks never touch the user's model: they work on
``patient.copy()`` (see :mod:`trainlab.doctor.patient`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from trainlab.doctor.causes import CAUSES
from trainlab.files import jsonable

if TYPE_CHECKING:
    from trainlab.doctor.patient import Patient

STATUSES = ("pass", "warn", "fail", "skipped")
SEVERITY = {"skipped": -1, "pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Verdict:
    """What a check found: a status, a one-line evidence, its numbers, and what to do."""

    status: str
    evidence: str
    numbers: dict[str, Any] = field(default_factory=dict)
    advice: str = ""
    causes: tuple[str, ...] = ()  # what a warn or fail is direct evidence of, likeliest first (doctor.causes)
    rules_out: tuple[str, ...] = ()  # what a pass is direct evidence against (doctor.diagnosis.rule_out)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.rules_out and self.status != "pass":
            raise ValueError(f"only a pass rules causes out, got status {self.status!r}")
        unknown = [c for c in self.causes + self.rules_out if c not in CAUSES]
        if unknown:
            raise ValueError(f"unknown cause(s) {unknown}; the causes are {', '.join(CAUSES)}")


@dataclass(frozen=True)
class CheckResult:
    """One entry of the report: ``{id, status, evidence, advice}`` plus numbers and timing."""

    id: str
    title: str
    status: str
    evidence: str
    numbers: dict[str, Any]
    advice: str
    seconds: float
    causes: tuple[str, ...] = ()
    rules_out: tuple[str, ...] = ()
    ruled_out_by: tuple[str, ...] = ()  # a warning dismissed because these checks passed (diagnosis.rule_out)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "evidence": self.evidence,
                "advice": self.advice, "causes": list(self.causes), "rules_out": list(self.rules_out),
                "ruled_out_by": list(self.ruled_out_by), "numbers": jsonable(self.numbers),
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: Callable[["Patient"], Verdict]


REGISTRY: dict[str, Check] = {}


def register(id: str, title: str) -> Callable[[Callable[["Patient"], Verdict]], Callable[["Patient"], Verdict]]:
    """Register ``check`` under ``id``; the order of the report is fixed in ``checks.ORDER``."""

    def wrap(fn: Callable[["Patient"], Verdict]) -> Callable[["Patient"], Verdict]:
        if id in REGISTRY:
            raise ValueError(f"check {id!r} registered twice")
        REGISTRY[id] = Check(id=id, title=title, run=fn)
        return fn

    return wrap


def worst(*statuses: str) -> str:
    """The most severe of ``statuses`` (fail > warn > pass > skipped)."""
    return max(statuses, key=SEVERITY.__getitem__, default="pass")


def fmt(x: float) -> str:
    """A number for a sentence: 3 significant digits, ``nan``/``inf`` spelled out."""
    return f"{x:.3g}" if math.isfinite(x) else str(x)

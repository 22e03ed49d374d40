"""One ranked diagnosis from the checks' findings: the likeliest cause first, what it explains, and why.

Every failed or warned check names the causes its finding is direct evidence
of (``CheckResult.causes``, likeliest first). A cause's score adds up

* its **direct evidence**: each finding that names it, weighted by severity
  (fail 2, warn 1), by how surely the check names it (1 for a check that
  measures a mechanism, 0.5 for one that measures a symptom of many causes,
  :data:`trainlab.doctor.causes.SPECIFIC`) and by its place in the finding's
  list (1 for the first cause named, 0.5 after);
* the findings it **explains**: findings of checks at later stages of the
  pipeline (:func:`trainlab.doctor.causes.explains`) that do not name it,
  at half their severity. They are listed as consequences of the cause.

Only a cause with direct evidence is a hypothesis; a hypothesis resting on a
failed check ranks above one resting on warnings only. This is parsimony, as in
a differential diagnosis: the cause that accounts for the most of what was seen,
most directly, comes first. The weights were set by hand from these principles,
after the doctor benchmark's earlier runs had been read (so its "correct top
diagnosis" measures them on cases they were not blind to).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

from trainlab.doctor.base import SEVERITY, CheckResult
from trainlab.doctor.causes import CAUSES, SPECIFIC, explains, stage_index

SYMPTOM_WEIGHT = 0.5  # a check that measures a symptom of many causes names each less surely
LATER_NAMED = 0.5  # a cause named after the first in a finding's list
EXPLAINED = 0.5  # a finding that follows from a cause counts this fraction of its severity


@dataclass(frozen=True)
class Hypothesis:
    """One cause of ``report.diagnosis``: what it is, the checks that point at it and those it explains."""

    cause: str
    title: str
    score: float
    status: str  # the worst status among its direct evidence: fail or warn
    evidence: tuple[str, ...]  # check ids whose findings name this cause
    consequences: tuple[str, ...]  # check ids whose findings follow from it
    why: str  # one sentence: what it explains and why it ranks above the next cause
    advice: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def diagnose(results: Sequence[CheckResult]) -> list[Hypothesis]:
    """The ranked causes behind ``results`` (empty when no check failed or warned)."""
    findings = [r for r in results if r.status in ("fail", "warn")]
    if not any(r.causes for r in findings):
        return []
    direct: dict[str, float] = {}
    pointing: dict[str, list[CheckResult]] = {}
    for r in findings:
        for place, cause in enumerate(dict.fromkeys(r.causes)):
            surely = 1.0 if r.id in SPECIFIC else SYMPTOM_WEIGHT
            weight = SEVERITY[r.status] * surely * (LATER_NAMED if place else 1.0)
            direct[cause] = direct.get(cause, 0.0) + weight
            pointing.setdefault(cause, []).append(r)
    ranked = []
    for cause, own in direct.items():
        named = {r.id for r in pointing[cause]}
        follows = [r for r in findings if r.id not in named and explains(cause, r.id)]
        score = own + EXPLAINED * sum(SEVERITY[r.status] for r in follows)
        status = "fail" if any(r.status == "fail" for r in pointing[cause]) else "warn"
        ranked.append((cause, score, status, pointing[cause], follows))
    ranked.sort(key=lambda h: (h[2] == "fail", h[1], -_stage(h[0])), reverse=True)
    out = []
    for i, (cause, score, status, evidence, follows) in enumerate(ranked):
        runner_up = ranked[i + 1] if i + 1 < len(ranked) else None
        out.append(Hypothesis(cause=cause, title=CAUSES[cause].title, score=round(score, 3), status=status,
                              evidence=tuple(r.id for r in evidence), consequences=tuple(r.id for r in follows),
                              why=_why(cause, status, evidence, follows, runner_up) if i == 0 else
                              _supported(evidence, follows),
                              advice=CAUSES[cause].advice))
    return out


def _stage(cause: str) -> int:
    return stage_index(CAUSES[cause].stage)


def _supported(evidence: list[CheckResult], follows: list[CheckResult]) -> str:
    said = "; ".join(f"{r.id} {r.status}s: {_short(r.evidence)}" for r in evidence)
    if follows:
        said += f"; would also explain {', '.join(r.id for r in follows)}"
    return said


def _why(cause: str, status: str, evidence: list[CheckResult], follows: list[CheckResult],
         runner_up: tuple | None) -> str:
    said = _supported(evidence, follows)
    if runner_up is None:
        return said
    other, other_score, other_status, other_evidence, _ = runner_up
    title = CAUSES[other].title
    if status == "fail" and other_status == "warn":
        reason = f"it rests on a failed check, while \"{title}\" rests on warnings only"
    elif explains(cause, other_evidence[0].id) and _stage(cause) < _stage(other):
        reason = (f"it is upstream of \"{title}\" ({CAUSES[cause].stage} before {CAUSES[other].stage}): it can "
                  f"produce that finding, not the reverse")
    else:
        reason = f"it accounts for more of the findings than \"{title}\" (score {_n(other_score)})"
    return f"{said}. Ranked first because {reason}"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _n(x: float) -> str:
    return f"{x:.3g}"

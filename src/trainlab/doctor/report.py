"""The doctor's report: one entry per check, as text, JSON and a self-contained HTML page."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainlab.doctor.base import CheckResult
from trainlab.doctor.diagnosis import Hypothesis, diagnose
from trainlab.doctor.treat import TreatmentResult
from trainlab.files import atomic_write_text, jsonable
from trainlab.report import html as page

COLORS = {"pass": "#2e7d32", "warn": "#ef6c00", "fail": "#c62828", "skipped": "#9e9e9e"}
TABLES = {"init-health": "layers", "gradient-flow": "layers", "regularization": "rows", "gradcheck": "parameters"}


@dataclass
class DoctorReport:
    """Results in check order; ``meta`` says what was examined (model, data sizes, seed, budget)."""

    results: list[CheckResult]
    meta: dict[str, Any] = field(default_factory=dict)
    treatments: list[TreatmentResult] = field(default_factory=list)  # examine(treat=True)
    treated: bool = False  # whether treatments were asked for

    @property
    def diagnosis(self) -> list[Hypothesis]:
        """The ranked causes behind the failed and warned checks, likeliest first (:mod:`trainlab.doctor.diagnosis`);
        empty when every check passed."""
        return diagnose(self.results)

    @property
    def failed(self) -> list[CheckResult]:
        """The failed checks (empty, hence falsy, when none failed)."""
        return [r for r in self.results if r.status == "fail"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "warn"]

    def __getitem__(self, id: str) -> CheckResult:
        for r in self.results:
            if r.id == id:
                return r
        raise KeyError(f"no check {id!r} in this report; it has {', '.join(r.id for r in self.results)}")

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in COLORS}

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict: ``{"ok", "counts", "diagnosis": [{cause, title, evidence, consequences, why,
        advice, ...}], "checks": [{id, status, evidence, advice, ...}], "meta"}``."""
        return {"ok": not self.failed, "counts": self.counts(), "diagnosis": [h.to_dict() for h in self.diagnosis],
                "treatments": jsonable([t.to_dict() for t in self.treatments]) if self.treated else None,
                "checks": [r.to_dict() for r in self.results], "meta": jsonable(self.meta)}

    @property
    def advised(self) -> list[TreatmentResult]:
        """The tested fixes that beat both the untreated setup and the random control."""
        return [t for t in self.treatments if t.advised]

    def to_text(self) -> str:
        lines = _diagnosis_lines(self.diagnosis) + (_treatment_lines(self.treatments) if self.treated else [])
        for r in self.results:
            lines.append(f"{r.status.upper():7} {r.id}: {r.evidence}")
            if r.advice and r.status in ("warn", "fail"):
                lines.append(f"        -> {r.advice}")
        c = self.counts()
        lines.append(f"{c['pass']} passed, {c['warn']} warned, {c['fail']} failed, {c['skipped']} skipped")
        return "\n".join(lines)

    def to_html(self) -> str:
        c = self.counts()
        summary = page.table([{"check": r.id, "status": r.status, "evidence": r.evidence} for r in self.results],
                             classes={"check": "text", "status": "text", "evidence": "text"})
        sections = [page.Section("Diagnosis", _diagnosis_html(self.diagnosis))]
        if self.treated:
            sections.append(page.Section("Treatments, tested", _treatments_html(self.treatments)))
        sections += [page.Section("Summary", summary),
                    page.Section("Examined", page.key_values(_flat(self.meta)))]
        sections += [page.Section(f"{i}. {r.title} ({r.id})", _section(r)) for i, r in enumerate(self.results, 1)]
        subtitle = f"{c['pass']} passed, {c['warn']} warned, {c['fail']} failed, {c['skipped']} skipped"
        return page.render_page("trainlab doctor", sections, subtitle=subtitle)

    def save(self, out: str | Path) -> Path:
        """Write ``report.json`` and ``report.html`` into the folder ``out`` (created if needed)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "report.json", json.dumps(self.to_json(), indent=2) + "\n")
        atomic_write_text(out / "report.html", self.to_html())
        return out


def _diagnosis_lines(diagnosis: list[Hypothesis]) -> list[str]:
    if not diagnosis:
        return ["Diagnosis: nothing wrong found.", ""]
    top, rest = diagnosis[0], diagnosis[1:]
    sure = "likely" if top.status == "fail" else "possibly (warnings only)"
    lines = [f"Diagnosis: {top.title} [{top.cause}], {sure}.", f"  {top.why}."]
    if top.consequences:
        lines.append(f"  Consequences, not separate alarms: {', '.join(top.consequences)}.")
    lines.append(f"  -> {top.advice}")
    if rest:
        lines.append("Also considered: " + "; ".join(f"{h.title} [{h.cause}] ({', '.join(h.evidence)})"
                                                    for h in rest[:4]) + ("; ..." if len(rest) > 4 else ""))
    return lines + [""]


def _gain(d: Any) -> str:
    return f"{100 * d.mean:+.1f} [{100 * d.low:+.1f}, {100 * d.high:+.1f}]"


def _treatment_rows(treatments: list[TreatmentResult]) -> list[dict[str, Any]]:
    return [{"fix": t.fix, "for": t.cause, "advised": "yes" if t.advised else "no",
             "accuracy %": f"{100 * statistics.fmean(t.accuracy):.1f}",
             "vs untreated (points, 95% CI)": _gain(t.accuracy_gain),
             "vs control (points, 95% CI)": f"{_gain(t.accuracy_gain_over_control)} ({t.control})",
             "val loss change": f"{t.val_loss_change.mean:+.3g}", "seconds": round(t.seconds, 1)} for t in treatments]


def _treatment_lines(treatments: list[TreatmentResult]) -> list[str]:
    if not treatments:
        return ["Treatments: none tested (no finding names a cause the catalogue can treat).", ""]
    advised = [t for t in treatments if t.advised]
    lines = [f"Treatments tested ({len(treatments[0].accuracy)} seeds each; advised only when better than both the "
             "untreated setup and a random-change control):"]
    for t in treatments:
        lines.append(f"  {'ADVISED' if t.advised else 'no':7} {t.fix} ({t.title}) for {t.cause}: accuracy "
                     f"{_gain(t.accuracy_gain)} points vs untreated, {_gain(t.accuracy_gain_over_control)} vs "
                     f"control '{t.control}'")
    if not advised:
        lines.append("  No tested fix beat both: nothing is advised.")
    return lines + [""]


def _treatments_html(treatments: list[TreatmentResult]) -> str:
    if not treatments:
        return "<p>None tested: no finding names a cause the catalogue can treat.</p>"
    return ("<p>Each fix trained beside the untreated setup and a random-change control, on the same batch "
            "orders; a fix is advised only when its accuracy gain's 95% interval is above zero against both.</p>"
            + page.table(_treatment_rows(treatments), classes={"fix": "text", "for": "text", "advised": "text"}))


def _diagnosis_html(diagnosis: list[Hypothesis]) -> str:
    if not diagnosis:
        return "<p>Nothing wrong found: every check passed or was skipped.</p>"
    top = diagnosis[0]
    color = COLORS[top.status]
    parts = [f"<div class=claim style='border-color:{color}'><span class=badge style='color:{color}'>"
             f"{page.esc(top.status)}</span><strong>{page.esc(top.title)}</strong> ({page.esc(top.cause)}). "
             f"{page.esc(top.why)}.</div>",
             f"<p><strong>Advice:</strong> {page.esc(top.advice)}</p>"]
    rows = [{"rank": i, "cause": h.cause, "what": h.title, "status": h.status, "score": h.score,
             "evidence": ", ".join(h.evidence), "explains": ", ".join(h.consequences)}
            for i, h in enumerate(diagnosis, 1)]
    parts.append(page.table(rows, classes={k: "text" for k in ("cause", "what", "status", "evidence", "explains")}))
    return "".join(parts)


def _flat(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(jsonable(v)) if isinstance(v, (dict, list)) else v) for k, v in meta.items()}


def _section(r: CheckResult) -> str:
    color = COLORS[r.status]
    parts = [f"<div class=claim style='border-color:{color}'><span class=badge style='color:{color}'>"
             f"{page.esc(r.status)}</span>{page.esc(r.evidence)}</div>"]
    if r.advice:
        parts.append(f"<p><strong>Advice:</strong> {page.esc(r.advice)}</p>")
    rows = r.numbers.get(TABLES.get(r.id, ""))
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        parts.append(page.table(jsonable(rows)))
    png = _figure(r)
    if png is not None:
        parts.append(page.figure(png, FIGURE_CAPTIONS[r.id]))
    scalars = {k: v for k, v in r.numbers.items() if not isinstance(v, (dict, list))}
    if scalars:
        parts.append(page.key_values(scalars))
    parts.append(f"<p class=subtitle>{r.seconds:.2f} s</p>")
    return "".join(parts)


FIGURE_CAPTIONS = {
    "lr-range": "Learning-rate range test: training loss (raw and smoothed) against the learning rate.",
    "gradient-flow": ("Variance of the back-propagated gradient dLoss/d(output) per Linear/Conv layer "
                      "at initialization."),
    "init-health": "Activation standard deviation per activation layer at initialization.",
}


def _figure(r: CheckResult) -> bytes | None:
    """A small PNG for the checks that have a curve or a profile over layers."""
    if r.id not in FIGURE_CAPTIONS or r.status == "skipped" or not (r.numbers.get("sweep") or r.numbers.get("layers")):
        return None
    from trainlab.report.plots import plt, png_bytes

    fig, ax = plt.subplots(figsize=(6, 3.2))
    try:
        if r.id == "lr-range":
            s = r.numbers["sweep"]
            ax.plot(s["lr"], s["loss"], alpha=0.4, label="loss")
            ax.plot(s["lr"], s["smooth"], label="smoothed")
            ax.axvline(s["suggested_lr"], color="green", ls="--", label="suggested")
            if r.numbers.get("user_lr"):
                ax.axvline(r.numbers["user_lr"], color="red", ls=":", label="yours")
            ax.set_xscale("log")
            top = s.get("start_loss")
            if top is not None and top == top and top > 0:
                ax.set_ylim(0, 1.5 * top)  # the explosion would otherwise flatten the curve
            ax.set_xlabel("learning rate")
            ax.set_ylabel("loss")
            ax.legend(fontsize=8)
        else:
            key = "backprop_var" if r.id == "gradient-flow" else "std"
            rows = r.numbers["layers"]
            values = [row[key] if row[key] and row[key] > 0 else float("nan") for row in rows]
            ax.plot(range(len(values)), values, "o-")
            ax.set_xticks(range(len(values)), [row["layer"] for row in rows], rotation=45, fontsize=7)
            ax.set_yscale("log")
            ax.set_xlabel("layer (input to output)")
            ax.set_ylabel(key)
        fig.tight_layout()
        return png_bytes(fig, dpi=90, tight=False)
    finally:
        plt.close(fig)

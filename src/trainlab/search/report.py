"""The study report: one self-contained HTML page (trainlab.report.html pieces).

Trials table; one plot per hyperparameter (its value against the objective,
diverged and pruned trials marked at the bottom); the best trials' training
curves; and the edge-of-range warnings.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.files import atomic_write_text
from trainlab.report.html import Section, bullets, figure, paragraph, render_page, table
from trainlab.report.plots import plt, png_bytes
from trainlab.runs import RunDir
from trainlab.search.space import SearchSpace


def axis_plot(name: str, trials: list[dict[str, Any]], space: SearchSpace, metric: str) -> bytes:
    param = space[name]
    done = [t for t in trials if t["value"] is not None and name in t["params"]]
    failed = [t for t in trials if t["value"] is None and name in t["params"]]
    fig, ax = plt.subplots(figsize=(4.2, 3))
    if param.kind == "categorical":
        labels = [str(c) for c in param.choices]
        to_x = lambda v: labels.index(str(v)) if str(v) in labels else -1  # noqa: E731
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    else:
        to_x = float
        if param.is_log:
            ax.set_xscale("log")
    ax.scatter([to_x(t["params"][name]) for t in done], [t["value"] for t in done], s=14, label="completed")
    if failed:
        bottom = min([t["value"] for t in done], default=0.0)
        ax.scatter([to_x(t["params"][name]) for t in failed], [bottom] * len(failed), marker="x", color="C3",
                   s=22, label="diverged / pruned")
    ax.set_xlabel(name)
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    return png_bytes(fig)


def curves_plot(best: list[dict[str, Any]], metric: str) -> bytes | None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    drawn = False
    for t in best:
        if not t.get("run_dirs"):
            continue
        records = RunDir(t["run_dirs"][0]).metrics()
        train = [(r["step"], r["train_loss"]) for r in records
                 if r.get("kind") == "train" and r.get("train_loss") is not None]
        evals = [(r["step"], r[metric]) for r in records if r.get("kind") == "eval" and r.get(metric) is not None]
        label = f"#{t['number']} ({t['phase']})"
        if train:
            left.plot(*zip(*train), label=label)
            drawn = True
        if evals:
            right.plot(*zip(*evals), marker="o", ms=3, label=label)
    if not drawn:
        plt.close(fig)
        return None
    left.set(xlabel="step", ylabel="training loss", title="training loss")
    right.set(xlabel="step", ylabel=metric, title=metric)
    left.legend(fontsize=7)
    return png_bytes(fig)


def write_report(summary: dict[str, Any], space: SearchSpace, out: Path, *, top: int = 5) -> Path:
    trials = summary["trials"]
    metric = summary["metric"]
    reverse = summary["direction"] == "maximize"
    done = sorted((t for t in trials if t["value"] is not None), key=lambda t: t["value"], reverse=reverse)
    rows = [{"phase": t["phase"], "trial": t["number"], "status": t["status"], metric: t["value"],
             **{k: v for k, v in t["params"].items()},
             **({"folds": ", ".join(f"{v:.4g}" for v in t["fold_values"])} if t.get("fold_values") else {})}
            for t in sorted(trials, key=lambda t: (t["phase"], t["number"]))]
    best = summary.get("best")
    overview = paragraph(f"{len(trials)} trials, {len(done)} completed; {metric} is "
                         f"{'maximized' if reverse else 'minimized'}; storage {summary['storage']}.")
    if best:
        overview += paragraph(f"Best: trial #{best['number']} ({best['phase']}), {metric} = {best['value']:.4g}, "
                              + ", ".join(f"{k} = {v}" for k, v in summary["best_params"].items()))
    axes = "".join(figure(axis_plot(p.name, trials, space, metric), f"{p.name} against {metric}")
                   for p in space.params)
    curves = curves_plot(done[:top], metric)
    sections = [
        Section("Summary", overview),
        Section("Warnings", bullets(summary["warnings"]) if summary["warnings"] else ""),
        Section("Each hyperparameter", axes),
        Section(f"Best {top} trials' curves", figure(curves, "training loss and validation metric") if curves else ""),
        Section("Trials", table(rows)),
    ]
    path = out / "report.html"
    atomic_write_text(path, render_page(f"Search {summary['study']}", sections,
                                        subtitle="hyperparameter search with Optuna and trainlab populations"))
    return path

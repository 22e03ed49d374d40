"""``report.html`` for a population folder (``trainlab train`` with lists): the members side by side.

One table row per member (what it varied, how it ended), every member's
training-loss and validation-accuracy curves on one pair of axes, and, when the
members tried several learning rates, the final validation accuracy against the
learning rate on a log axis, diverged members marked at the bottom: the plot
the CS231n notes draw to choose a learning rate.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from trainlab.files import atomic_write_text  # noqa: E402
from trainlab.population.spec import PER_MEMBER  # noqa: E402
from trainlab.report.html import Section, figure, key_values, render_page, table  # noqa: E402
from trainlab.report.plots import plt, png_bytes  # noqa: E402
from trainlab.runs import PopulationDir, RunDir  # noqa: E402

SHOWN = ("lr", "init", "init_scale", "seed", "momentum", "weight_decay", "optimizer")
"""Per-member fields shown in the table when the members differ in them (in this order)."""


def _members(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in PopulationDir(folder).members():
        run = RunDir(path)
        config = run.config()
        out.append({"name": path.name, "config": config, "metrics": run.metrics(),
                    "summary": run.summary() or {"status": "unfinished"}})
    return out


def _label(member: dict[str, Any], varied: list[str]) -> str:
    config = member["config"]
    return " ".join(f"{name} {getattr(config, name):g}" if isinstance(getattr(config, name), float)
                    else f"{name} {getattr(config, name)}" for name in varied) or member["name"]


def curves(members: list[dict[str, Any]], varied: list[str]) -> Figure:
    """Every member's training loss (window means) and validation accuracy over steps."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = plt.get_cmap("viridis")
    for k, member in enumerate(members):
        color = colors(k / max(len(members) - 1, 1))
        train = [(r["step"], r["train_loss"]) for r in member["metrics"]
                 if r.get("kind") == "train" and r.get("train_loss") is not None and math.isfinite(r["train_loss"])]
        evals = [(r["step"], r["val_accuracy"]) for r in member["metrics"]
                 if r.get("kind") == "eval" and r.get("val_accuracy") is not None]
        label = _label(member, varied)
        if train:  # a member that diverged at its first window has one point: mark it
            left.plot(*zip(*train), color=color, label=label, marker="o" if len(train) < 3 else None, ms=4)
        if evals:
            right.plot(*zip(*evals), color=color, marker="o", ms=3, label=label)
    left.set(xlabel="training step", ylabel="training loss (log scale)", title="Training loss (window means)")
    left.set_yscale("log")  # a diverging member's loss would flatten everyone else's on a linear axis
    right.set(xlabel="training step", ylabel="accuracy", title="Validation accuracy")
    if len(members) <= 12:
        left.legend(fontsize="x-small")
    return fig


def accuracy_against_lr(members: list[dict[str, Any]]) -> Figure:
    """Final validation accuracy against the learning rate; diverged members as crosses at the bottom."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    groups: dict[str, list[tuple[float, float]]] = {}
    failed = []
    for member in members:
        lr, accuracy = member["config"].lr, member["summary"].get("val_accuracy")
        if accuracy is None or member["summary"].get("status") == "diverged":
            failed.append(lr)
        else:
            groups.setdefault(f"init {member['config'].init}", []).append((lr, accuracy))
    for label, points in groups.items():
        points.sort()
        ax.plot(*zip(*points), marker="o", linestyle="none", label=label)
    if failed:
        bottom = min((a for points in groups.values() for _, a in points), default=0.0)
        ax.scatter(failed, [bottom] * len(failed), marker="x", color="C3", label="diverged / no result")
    ax.set_xscale("log")
    ax.set(xlabel="learning rate", ylabel="final validation accuracy", title="Which learning rate?")
    ax.legend(fontsize="small")
    return fig


def write_population_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` (into ``out`` or the population folder); return its path."""
    folder = Path(folder)
    members = _members(folder)
    varied = [name for name in SHOWN if name in PER_MEMBER
              and len({repr(getattr(m["config"], name)) for m in members}) > 1]
    rows = [{"member": m["name"], **{name: getattr(m["config"], name) for name in varied},
             **{key: m["summary"].get(key) for key in ("status", "steps", "train_loss", "val_accuracy",
                                                        "test_accuracy")}} for m in members]
    sections = [Section("Members", table(rows)),
                Section("Curves", figure(png_bytes(curves(members, varied)),
                                         "Every member's training loss and validation accuracy"))]
    if len({m["config"].lr for m in members}) > 1:
        sections.append(Section("Learning rate", figure(png_bytes(accuracy_against_lr(members)),
                                                        "Final validation accuracy against the learning rate")))
    record = PopulationDir(folder).summary()
    if record is not None:
        sections.append(Section("Population", key_values({k: record.get(k) for k in
                                                          ("seconds", "member_steps", "member_steps_per_second")})))
    shared = {k: v for k, v in members[0]["config"].to_dict().items() if k not in PER_MEMBER}
    sections.append(Section("Shared configuration", key_values(shared)))
    target = Path(out) if out else folder / "report.html"
    if target.suffix != ".html":
        target = target / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, render_page(f"Population {folder.name}", sections,
                                          subtitle=f"{len(members)} members trained together; {folder}"))
    return target

"""``report.html`` for a training run directory: configuration, curves, probe figures, verdicts."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from trainlab.errors import UserError
from trainlab.files import atomic_write_text
from trainlab.report import plots
from trainlab.report.html import (
    Section,
    bullets,
    figure,
    key_values,
    paragraph,
    render_page,
    table,
    write_experiment_report,
)
from trainlab.report.verdicts import probe_verdicts, training_verdicts
from trainlab.runs import RunDir, is_population_dir, is_reproduction_dir, read_results


def probe_figures(records: list[Any]) -> list[tuple[str, bytes]]:
    """Captioned PNGs of Glorot & Bengio's Figures 2, 3, 4/6, 7, 8 and 9 for a list of probe records."""
    if not records:
        return []
    first, last = records[0], records[-1]
    acts = [(i, l) for i, l in enumerate(last.layers) if l.kind == "activation"] or list(enumerate(last.layers))
    weighted = [(i, l) for i, l in enumerate(last.layers) if l.weight_grad is not None]
    figs = [
        ("Activation mean and std per layer over training (Glorot & Bengio 2010, Fig. 2)",
         plots.activation_mean_std(records)),
        ("98th percentile and std of activations per layer (Fig. 3)", plots.percentile_std(records)),
    ]
    for record, when in ((first, "first"), (last, "last")):
        figs.append((f"Activation histograms at step {record.step:,}, the {when} probe (Figs. 4 and 6)",
                     plots.layer_histograms([(plots.layer_label(record.layers[i], p), record.layers[i].activation)
                                             for p, (i, _) in enumerate(acts, 1)],
                                            title=f"Activations, step {record.step:,}", xlabel="activation value")))
    if any(l.backprop_grad is not None for _, l in acts):
        figs.append((f"Back-propagated gradient histograms at step {last.step:,} (Fig. 7)",
                     plots.layer_histograms([(plots.layer_label(last.layers[i], p), last.layers[i].backprop_grad)
                                             for p, (i, _) in enumerate(acts, 1)],
                                            title="dLoss/d(activation)", xlabel="gradient value")))
    if weighted:
        figs.append((f"Weight-gradient histograms at step {last.step:,} (Fig. 8)",
                     plots.layer_histograms([(plots.layer_label(l, p), l.weight_grad)
                                             for p, (_, l) in enumerate(weighted, 1)],
                                            title="dLoss/dW", xlabel="gradient value")))
        figs.append(("Standard deviation of weight gradients per layer over training (Fig. 9)",
                     plots.weight_grad_std(records)))
    return [(caption, plots.png_bytes(fig)) for caption, fig in figs]


def findings_html(findings: list[dict[str, Any]]) -> str:
    """A watched run's findings, causes first: id, step, evidence and advice; consequences say what they follow."""
    if not findings:
        return paragraph("No finding: the watcher's rules saw nothing wrong in this loop.")
    rows = [{"finding": f["id"], "first seen at step": f["step"], "evidence": f["evidence"],
             "advice": f.get("advice", ""), "follows from": f.get("explained_by") or ""}
            for f in sorted(findings, key=lambda f: (f.get("explained_by") is not None, f["step"]))]
    return table(rows)


def write_run_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` (into ``out`` or the run directory) for a training run; return its path."""
    from trainlab.probe import has_probes, read_probes

    run = RunDir(run_dir)
    if not run.is_run():
        raise UserError(f"{run.path} is not a run directory (no config.json) or reproduction folder (no results.json)")
    record = run.record()
    versions = record.get("versions") if isinstance(record.get("versions"), dict) else {}
    metrics = run.metrics()
    summary = run.summary()
    probe_log = read_probes(run.path) if has_probes(run.path) else None
    probe_records = probe_log.records("probe") if probe_log else []
    train_records = probe_log.records("train") if probe_log else []
    records = probe_records or train_records
    watched = run.is_watched()
    verdicts = ([] if watched else training_verdicts(metrics, summary)) + probe_verdicts(records)
    sections = [Section("Findings of trainlab.watch", findings_html(run.findings()))] if watched else []
    sections += [Section("Verdicts", bullets(verdicts)),
                 Section("Outcome", key_values(summary or {"status": "unfinished"}))]
    if metrics:
        sections.append(Section("Curves", figure(plots.png_bytes(plots.training_curves(metrics)), "Loss and accuracy; "
                                                 "the shaded band is the gap between validation and training loss")))
    if records:
        source = "a fixed probe batch" if probe_records else "the training batch"
        body = "".join(figure(png, caption) for caption, png in probe_figures(records))
        sections.append(Section(f"Inside the network (measured on {source})", body))
    sections += [Section("Configuration", key_values(record.get("config", {}))),
                 Section("Environment", key_values({"device": record.get("device"), "created": record.get("created"),
                                                    **versions}))]
    target = Path(out) if out else run.path / "report.html"
    if target.suffix != ".html":
        target = target / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, render_page(f"Run {run.path.name}", sections, subtitle=str(run.path)))
    return target


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """A run directory's, a population folder's or a reproduction folder's report (the last
    re-rendered from ``results.json``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; pass a run directory or a reproduction's output folder")
    if is_reproduction_dir(folder):
        record = read_results(folder)
        path = write_experiment_report(record, folder, title=record.get("title") or record.get("experiment", ""),
                                       source=record.get("source", ""))
        if out:
            target = Path(out)
            target.write_text(path.read_text())
            return target
        return path
    if is_population_dir(folder):
        from trainlab.report.population_report import write_population_report

        return write_population_report(folder, out)
    return write_run_report(folder, out)

"""Figures of training and of the inside of a network (matplotlib, Agg backend: no display needed).

This module owns trainlab's matplotlib set-up: it selects the Agg backend once,
and every other module takes ``plt`` from here (``from trainlab.report.plots
import plt``) and encodes its figures with :func:`png_bytes` (PNG bytes, for
:func:`trainlab.report.html.figure`) or :func:`save_png` (a PNG file; for a
reproduction ``trainlab.experiments.base.save_figure(fig, ctx, name)``).

Each function below returns a ``matplotlib.figure.Figure``.

Probe figures take a sequence of :class:`trainlab.probe.ProbeRecord` (from
``ProbeCallback.records`` or ``read_probes(run_dir).records("probe")``) and
follow Glorot & Bengio (2010):

* :func:`activation_mean_std` (records) -- Figure 2: per-layer mean and std of activations over training;
* :func:`percentile_std` (records) -- Figure 3: per-layer 98th percentile and std over training;
* :func:`layer_histograms` (stats, title=, xlabel=) -- Figures 4, 6, 7, 8: one normalised histogram per layer;
* :func:`weight_grad_std` (records) -- Figure 9: per-layer std of weight gradients over training;
* :func:`histogram_grid` (grid, title=) -- CS231n's slides: a row of per-layer histograms per setting;
* :func:`layer_profile` (rows, y=, group=) -- a per-layer quantity, one line per setting;
* :func:`training_curves` (metrics) -- training and validation loss with the gap shaded, and accuracy.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from trainlab.probe.records import ProbeRecord  # noqa: E402
from trainlab.probe.stats import TensorStats  # noqa: E402


def png_bytes(fig: Figure, *, dpi: int = 100, tight: bool = True) -> bytes:
    """The figure as PNG bytes, cropped to what it draws unless ``tight=False``; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(fig)
    return buffer.getvalue()


def save_png(fig: Figure, path: str | Path, *, dpi: int = 100) -> Path:
    """Save the figure as a PNG file at ``path``, cropped to what it draws; the figure is closed."""
    path = Path(path)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def layer_label(layer: Any, position: int | None = None) -> str:
    fn = f" ({layer.activation_fn})" if getattr(layer, "activation_fn", None) else f" ({layer.kind})"
    prefix = f"layer {position}" if position is not None else layer.name
    return prefix + fn


def _activation_layers(records: Sequence[ProbeRecord]) -> list[int]:
    """Indices of the layers to draw: the activation layers, else every layer."""
    first = records[0].layers
    chosen = [i for i, l in enumerate(first) if l.kind == "activation"]
    return chosen or list(range(len(first)))


def _series(records: Sequence[ProbeRecord], index: int, quantity: str, stat: str) -> tuple[list[int], list[float]]:
    steps, values = [], []
    for record in records:
        stats = record.layers[index].quantity(quantity)
        if stats is not None:
            steps.append(record.step)
            values.append(stats.percentiles[98] if stat == "p98" else getattr(stats, stat))
    return steps, values


def activation_mean_std(records: Sequence[ProbeRecord], *, title: str = "Activations over training") -> Figure:
    """Glorot & Bengio's Figure 2: mean (line) and standard deviation (error bars) per layer."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for pos, i in enumerate(_activation_layers(records), start=1):
        steps, means = _series(records, i, "activation", "mean")
        _, stds = _series(records, i, "activation", "std")
        ax.errorbar(steps, means, yerr=stds, capsize=2, marker=".", label=layer_label(records[0].layers[i], pos))
    ax.set(xlabel="training step", ylabel="activation mean ± std", title=title)
    ax.legend(fontsize="small")
    return fig


def percentile_std(records: Sequence[ProbeRecord], *,
                   title: str = "98th percentile (solid) and std (dashed)") -> Figure:
    """Glorot & Bengio's Figure 3: 98th percentile and standard deviation of activations per layer."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for pos, i in enumerate(_activation_layers(records), start=1):
        steps, p98 = _series(records, i, "activation", "p98")
        _, stds = _series(records, i, "activation", "std")
        line, = ax.plot(steps, p98, label=layer_label(records[0].layers[i], pos))
        ax.plot(steps, stds, linestyle="--", color=line.get_color())
    ax.set(xlabel="training step", ylabel="activation value", title=title)
    ax.legend(fontsize="small")
    return fig


def weight_grad_std(records: Sequence[ProbeRecord], *, title: str = "Standard deviation of weight gradients") -> Figure:
    """Glorot & Bengio's Figure 9: per-layer std of the weight gradients over training (log scale)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    layers = [i for i, l in enumerate(records[0].layers) if l.weight_grad is not None]
    for pos, i in enumerate(layers, start=1):
        steps, stds = _series(records, i, "weight_grad", "std")
        ax.plot(steps, stds, marker=".", label=layer_label(records[0].layers[i], pos))
    ax.set(xlabel="training step", ylabel="std of dLoss/dW", title=title)
    if layers:
        ax.set_yscale("log")
        ax.legend(fontsize="small")
    return fig


def _draw_histogram(ax: Any, stats: TensorStats, label: str | None = None, **style: Any) -> None:
    counts, edges = stats.histogram.counts, stats.histogram.edges
    total = sum(counts) or 1
    width = (edges[-1] - edges[0]) / max(len(counts), 1) or 1.0
    centers = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    ax.plot(centers, [c / total / width for c in counts], label=label, **style)


def layer_histograms(stats: Sequence[tuple[str, TensorStats]], *, title: str, xlabel: str,
                     ax: Any | None = None) -> Figure:
    """Glorot & Bengio's Figures 4, 6, 7, 8: one normalised histogram (a density) per layer.

    ``stats``: ``(label, TensorStats)`` pairs, e.g. ``[(f"layer {k}", layer.activation) ...]``.
    """
    fig = ax.figure if ax is not None else plt.figure(figsize=(7, 4))
    ax = ax or fig.add_subplot()
    for label, s in stats:
        if s is not None:
            _draw_histogram(ax, s, label)
    ax.set(xlabel=xlabel, ylabel="density", title=title)
    ax.legend(fontsize="small")
    return fig


def histogram_grid(grid: Mapping[str, Sequence[tuple[str, TensorStats]]], *, title: str,
                   xlabel: str = "value") -> Figure:
    """CS231n's slides: one row per setting (``grid`` key), one histogram per layer across the row."""
    n_rows = len(grid)
    n_cols = max(len(v) for v in grid.values())
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.6 * n_cols, 1.5 * n_rows), squeeze=False)
    for r, (setting, row) in enumerate(grid.items()):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.tick_params(labelsize=5)
            if c >= len(row):
                ax.axis("off")
                continue
            label, s = row[c]
            counts, edges = s.histogram.counts, s.histogram.edges
            ax.stairs(counts, edges, fill=True)
            ax.set_yticks([])
            if r == 0:
                ax.set_title(label, fontsize=7)
            if c == 0:
                ax.set_ylabel(setting, fontsize=7)
            if r == n_rows - 1:
                ax.set_xlabel(xlabel, fontsize=6)
    fig.suptitle(title)
    fig.subplots_adjust(hspace=0.35, wspace=0.15)  # tight_layout is slow on a large grid
    return fig


def layer_profile(rows: Sequence[Mapping[str, Any]], *, y: str, group: Sequence[str], x: str = "layer",
                  title: str = "", log: bool = True) -> Figure:
    """A per-layer quantity ``y`` from table rows, one line per combination of the ``group`` columns."""
    fig, ax = plt.subplots(figsize=(7, 4))
    lines: dict[tuple, list[tuple[Any, float]]] = {}
    for row in rows:
        lines.setdefault(tuple(row[g] for g in group), []).append((row[x], row[y]))
    for key, points in lines.items():
        points.sort()
        ax.plot([p[0] for p in points], [abs(p[1]) if log else p[1] for p in points], marker="o",
                label=" ".join(map(str, key)))
    ax.set(xlabel=x, ylabel=y, title=title)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return fig


def training_curves(metrics: Sequence[Mapping[str, Any]], *, title: str = "Loss and accuracy") -> Figure:
    """Training and validation loss over steps (the gap between them shaded) and validation accuracy."""
    train = [(m["step"], m["train_loss"]) for m in metrics
             if m.get("kind") == "train" and m.get("train_loss") is not None]
    evals = [m for m in metrics if m.get("kind") == "eval"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    if train:
        left.plot(*zip(*train), label="training loss (window mean)")
    if evals:
        steps = [m["step"] for m in evals]
        val = [m["val_loss"] for m in evals]
        left.plot(steps, val, marker="o", label="validation loss")
        if train:
            import numpy as np

            at = np.interp(steps, [s for s, _ in train], [v for _, v in train])
            left.fill_between(steps, at, val, alpha=0.2, label="validation - training gap")
        right.plot(steps, [m["val_accuracy"] for m in evals], marker="o", color="C2", label="validation accuracy")
        right.legend(fontsize="small")
    left.set(xlabel="training step", ylabel="loss", title=title)
    left.legend(fontsize="small")
    right.set(xlabel="training step", ylabel="accuracy", title="Validation accuracy")
    return fig

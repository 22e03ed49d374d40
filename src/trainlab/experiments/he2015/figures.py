"""He et al. (2015) figures: per-layer scale at initialization and training curves (matplotlib, headless)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from trainlab.experiments.base import Context, save_figure

if TYPE_CHECKING:
    from trainlab.experiments.he2015.experiment import HeBudget


COLOURS = {"xavier": "tab:red", "he": "tab:blue"}
GAIN = {"xavier": 1.0, "he": 2.0}  # c in Var[w] = c / fan_in


def _mean_columns(rows: list[list[float]]) -> list[float]:
    return [sum(column) / len(column) for column in zip(*rows)]


def plot_init(ctx: Context, init: dict[str, Any], which: str, depth: int) -> str:
    """Per-layer RMS (log scale), measured (markers) and the closed form anchored at one layer (dashed)."""
    from trainlab.report.plots import plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name in GAIN:
        rms = [math.sqrt(v) for v in _mean_columns(init[name][which])]
        layers = range(1, len(rms) + 1)
        ax.semilogy(layers, rms, "o-", ms=3, color=COLOURS[name], label=name)
        if which == "forward":  # E[y_k^2] = c (c/2)^(k-1) E[y_1^2] / c, anchored at the measured layer 1
            predicted = [rms[0] * (GAIN[name] / 2) ** ((k - 1) / 2) for k in layers]
        else:  # anchored at the top hidden layer, (c/2)^((D-k)/2) below it
            predicted = [rms[depth - 1] * (GAIN[name] / 2) ** ((depth - k) / 2) if k <= depth else math.nan
                         for k in layers]
        ax.semilogy(layers, predicted, "--", color=COLOURS[name], alpha=0.6)
    ax.set_xlabel("weight layer k (last = output)")
    ax.set_ylabel("RMS of y_k" if which == "forward" else "RMS of dLoss/dy_k")
    ax.legend()
    return save_figure(fig, ctx, f"he2015_init_{which}")


def plot_curves(ctx: Context, curves: dict[tuple[int, str], dict[str, Any]], budget: "HeBudget") -> str:
    """Training loss and validation error at both depths, Xavier against He (He et al., Figures 2-3)."""
    from trainlab.report.plots import plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    for col, depth in enumerate((budget.moderate, budget.deep)):
        for name in GAIN:
            c = curves[depth, name]
            axes[0, col].plot(range(1, len(c["loss"]) + 1), c["loss"], color=COLOURS[name], label=name)
            if c["val_error"]:
                steps, errors = zip(*c["val_error"])
                axes[1, col].plot(steps, errors, "o-", ms=3, color=COLOURS[name], label=name)
        axes[0, col].set_title(f"{depth} hidden ReLU layers")
        axes[0, col].set_ylabel("training loss (moving average)")
        axes[1, col].set_ylabel("validation error")
        axes[1, col].set_xlabel("SGD steps")
        axes[0, col].legend()
    return save_figure(fig, ctx, "he2015_curves")

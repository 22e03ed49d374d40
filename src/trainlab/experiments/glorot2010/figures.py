"""The paper's figures drawn from our probe records (matplotlib, headless)."""
from __future__ import annotations

from typing import Any

from trainlab.experiments.base import Context, save_figure
from trainlab.experiments.glorot2010.dynamics import Dynamics
from trainlab.experiments.glorot2010.profiles import PAPER_JACOBIAN
from trainlab.probe import LayerStats, ProbeRecord


def _layer_colours(n: int) -> list[Any]:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(k / max(n - 1, 1)) for k in range(n)]


def figure2(ctx: Context, run: Dynamics) -> str:
    """Mean and std (bars) of each sigmoid layer's activation over training."""
    from trainlab.report.plots import plt

    steps, means = run.series("activation", "mean")
    _, stds = run.series("activation", "std")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for k, (m, s, colour) in enumerate(zip(means, stds, _layer_colours(len(means))), start=1):
        ax.errorbar(steps, m, yerr=s, color=colour, marker="o", ms=3, capsize=2, label=f"layer {k}")
    ax.set_xlabel("updates")
    ax.set_ylabel("sigmoid activation")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, ctx, "figure2_sigmoid_mean_std")


def figure3(ctx: Context, runs: dict[str, Dynamics], labels: tuple[str, ...], name: str) -> str:
    """98th percentile (markers) and std (lines) of each layer's activation over training."""
    from trainlab.report.plots import plt

    present = [label for label in labels if label in runs]
    fig, axes = plt.subplots(len(present), 1, figsize=(7, 3.2 * len(present)), squeeze=False)
    for ax, label in zip(axes[:, 0], present):
        steps, p98 = runs[label].series("activation", "p98")
        _, stds = runs[label].series("activation", "std")
        for k, (p, s, colour) in enumerate(zip(p98, stds, _layer_colours(len(p98))), start=1):
            ax.plot(steps, p, "o", ms=4, color=colour)
            ax.plot(steps, s, "-", color=colour, label=f"layer {k}")
        ax.set_title(f"{label}: 98th percentile (markers) and std (lines)")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7, ncol=2)
    axes[-1, 0].set_xlabel("updates")
    fig.tight_layout()
    return save_figure(fig, ctx, name)


def _histogram_lines(ax: Any, layers: list[LayerStats], quantity: str) -> None:
    for k, (layer, colour) in enumerate(zip(layers, _layer_colours(len(layers))), start=1):
        stats = getattr(layer, quantity)
        if stats is None:
            continue
        counts, edges = stats.histogram.counts, stats.histogram.edges
        total = max(sum(counts), 1)
        centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
        density = [c / (total * (b - a)) if b > a else 0.0 for c, a, b in zip(counts, edges, edges[1:])]
        ax.plot(centres, density, color=colour, label=f"layer {k}")
    ax.legend(fontsize=7)


def figure4(ctx: Context, runs: dict[str, Dynamics], labels: tuple[str, ...]) -> str:
    """Activation histograms per layer at the end of training."""
    from trainlab.report.plots import plt

    present = [label for label in labels if label in runs]
    fig, axes = plt.subplots(len(present), 1, figsize=(7, 3 * len(present)), squeeze=False)
    for ax, label in zip(axes[:, 0], present):
        run = runs[label]
        _histogram_lines(ax, run.hidden(run.records[-1]), "activation")
        ax.set_title(f"{label}: activation values at the end of training (step {run.records[-1].step})")
        ax.set_ylabel("density")
    fig.tight_layout()
    return save_figure(fig, ctx, "figure4_final_histograms")


def init_histograms(ctx: Context, records: dict[str, ProbeRecord], labels: tuple[str, ...], quantity: str,
                    kind: str, name: str, what: str) -> str:
    """Figures 6-8: one histogram per layer at initialization, standard (top) and normalized (bottom)."""
    from trainlab.report.plots import plt

    present = [label for label in labels if label in records]
    fig, axes = plt.subplots(len(present), 1, figsize=(7, 3 * len(present)), squeeze=False)
    for ax, label in zip(axes[:, 0], present):
        layers = records[label].of_kind(kind)
        if kind == "linear":
            layers = layers[:-1]  # hidden layers only
        _histogram_lines(ax, layers, quantity)
        ax.set_title(f"{label}: {what} at initialization")
        ax.set_ylabel("density")
    fig.tight_layout()
    return save_figure(fig, ctx, name)


def figure9(ctx: Context, runs: dict[str, Dynamics], labels: tuple[str, ...]) -> str:
    """Std of each layer's weight gradient over training."""
    from trainlab.report.plots import plt

    present = [label for label in labels if label in runs]
    fig, axes = plt.subplots(len(present), 1, figsize=(7, 3 * len(present)), squeeze=False)
    for ax, label in zip(axes[:, 0], present):
        steps, stds = runs[label].weight_grad_std()
        for k, (s, colour) in enumerate(zip(stds, _layer_colours(len(stds))), start=1):
            ax.semilogy(steps, s, "o-", ms=3, color=colour, label=f"layer {k}")
        ax.set_title(f"{label}: std of the weight gradient")
        ax.legend(fontsize=7, ncol=2)
    axes[-1, 0].set_xlabel("updates")
    fig.tight_layout()
    return save_figure(fig, ctx, "figure9_weight_gradient_std")


def figure11(ctx: Context, runs: dict[str, Dynamics]) -> str:
    """Test error against updates for each configuration."""
    from trainlab.report.plots import plt

    fig, ax = plt.subplots(figsize=(7, 4))
    order = sorted(runs, key=lambda label: -runs[label].test_error[-1][1])  # the paper's: decreasing final error
    for label in order:
        steps, errors = zip(*runs[label].test_error)
        ax.plot(steps, [100 * e for e in errors], "o-", ms=3, label=label)
    ax.set_xlabel("updates")
    ax.set_ylabel("test error (%)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, ctx, "figure11_test_error")


def jacobian_figure(ctx: Context, rows: list[dict[str, Any]]) -> str:
    """Mean singular value of each layer-to-layer Jacobian at initialization, with the paper's values."""
    from trainlab.report.plots import plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for label in dict.fromkeys(r["configuration"] for r in rows):
        mine = [r for r in rows if r["configuration"] == label]
        ax.plot([r["layer"] for r in mine], [r["mean_singular_value"] for r in mine], "o-", label=label)
    for init, value in PAPER_JACOBIAN.items():
        ax.axhline(value, ls="--", color="grey")
        ax.text(ax.get_xlim()[0], value, f" paper, tanh {init}", va="bottom", fontsize=8, color="grey")
    ax.set_xlabel("layer k (Jacobian of layer k's activations with respect to layer k-1's)")
    ax.set_ylabel("mean singular value")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, ctx, "jacobian_singular_values")

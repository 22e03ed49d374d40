"""Batch normalization and where a nonlinearity sees its input (CS231n notes; Ioffe & Szegedy 2015).

Part 1, the notes' picture: values drawn from N(3, 1) fed to a ReLU are nearly all
on its linear part (P(x > 0) = Phi(3) = 0.9987), so the unit computes the identity;
normalized to zero mean and unit variance they straddle the kink (P = 0.5).

Part 2: per-layer statistics at initialization of a deep sigmoid and a deep ReLU
MLP (Glorot-uniform weights) with and without batch normalization before each
nonlinearity, on standard-normal inputs, in training mode (batch statistics),
measured with :class:`trainlab.probe.Probe`.
"""
from __future__ import annotations

import math

import torch

from trainlab.experiments.base import Claim, Context, Experiment, Result, register, save_figure
from trainlab.init import initialize_
from trainlab.losses import get_loss
from trainlab.nn.mlp import MLP
from trainlab.probe import Probe, ProbeConfig, ProbeRecord
from trainlab.report import plots
from trainlab.report.plots import plt

BUDGETS = {"smoke": {"samples": 2000, "examples": 256, "width": 128, "depth": 10},
           "quick": {"samples": 100_000, "examples": 1000, "width": 256, "depth": 10},
           "full": {"samples": 1_000_000, "examples": 2000, "width": 512, "depth": 20}}
CLASSES = 10


def relu_input(samples: int, seed: int) -> tuple[list[dict], torch.Tensor, torch.Tensor]:
    x = torch.randn(samples, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 3
    normalized = (x - x.mean()) / x.std(unbiased=False)
    rows = [{"stage": stage, "mean": v.mean().item(), "std": v.std(unbiased=False).item(),
             "fraction_positive": (v > 0).double().mean().item()}
            for stage, v in (("before normalization", x), ("after normalization", normalized))]
    return rows, x, normalized


def deep_net(activation: str, batch_norm: str, x: torch.Tensor, y: torch.Tensor, *, width: int, depth: int,
             seed: int) -> ProbeRecord:
    model = MLP(x.shape[1], CLASSES, depth=depth, width=width, activation=activation, batch_norm=batch_norm).train()
    initialize_(model, "glorot-uniform", generator=torch.Generator().manual_seed(seed))
    with Probe(model, config=ProbeConfig(bins=40)) as probe:
        return probe.measure(x, y, get_loss("softmax"))


def layer_rows(activation: str, batch_norm: str, record: ProbeRecord) -> list[dict]:
    norms = record.of_kind("norm")
    return [{"activation": activation, "batch_norm": batch_norm, "layer": k + 1,
             "mean": l.activation.mean, "std": l.activation.std,
             "saturated_fraction": l.activation.saturated_fraction, "dead_fraction": l.activation.dead_fraction,
             "backprop_grad_std": l.backprop_grad.std,
             "bn_output_mean": norms[k].activation.mean if norms else None,
             "bn_output_std": norms[k].activation.std if norms else None}
            for k, l in enumerate(record.of_kind("activation"))]


def _ratio(rows: list[dict], activation: str, batch_norm: str, column: str = "std") -> float:
    values = [r[column] for r in rows if (r["activation"], r["batch_norm"]) == (activation, batch_norm)]
    return values[-1] / values[0]


def claims(relu_rows: list[dict], rows: list[dict]) -> list[Claim]:
    before, after = relu_rows
    bn = [r for r in rows if r["batch_norm"] == "before"]
    worst_mean = max(abs(r["bn_output_mean"]) for r in bn)
    worst_std = max(abs(r["bn_output_std"] - 1) for r in bn)
    level = {a: _ratio(rows, a, "before") for a in ("sigmoid", "relu")}
    grad = {bn_: 1 / _ratio(rows, "sigmoid", bn_, "backprop_grad_std") for bn_ in ("none", "before")}
    return [
        Claim("linear-part", "Inputs from N(3, 1) fall almost all on the linear part of a ReLU (over 99% positive), "
              "so the ReLU is the identity on them.", before["fraction_positive"] > 0.99,
              f"{before['fraction_positive']:.4%} positive (Phi(3) = 99.87%)"),
        Claim("straddle-kink", "After normalization the same values straddle the kink: between 45% and 55% positive.",
              0.45 <= after["fraction_positive"] <= 0.55, f"{after['fraction_positive']:.2%} positive"),
        Claim("unit-gaussian", "Batch normalization makes every layer's pre-activation zero-mean and unit-variance "
              "at initialization (|mean| < 0.05 and |std - 1| < 0.05 in every layer).",
              worst_mean < 0.05 and worst_std < 0.05,
              f"largest |mean| {worst_mean:.2g}, largest |std - 1| {worst_std:.2g}"),
        Claim("relu-shrinks-without-bn", "Without batch normalization the deep ReLU net's activation std shrinks with "
              "depth under Glorot initialization (last layer under half the first).",
              _ratio(rows, "relu", "none") < 0.5, f"std(last) / std(first) = {_ratio(rows, 'relu', 'none'):.3g}"),
        Claim("bn-depth-invariant", "With batch normalization activation statistics are the same at every depth "
              "(last layer's std within 10% of the first's, for sigmoid and ReLU).",
              all(0.9 <= v <= 1.1 for v in level.values()),
              ", ".join(f"{a}: std(last) / std(first) = {v:.3g}" for a, v in level.items())),
        Claim("bn-gradient-flow", "Batch normalization improves gradient flow in the deep sigmoid net: the "
              "back-propagated gradient std at the first layer, relative to the last, is larger with BN.",
              grad["before"] > grad["none"],
              f"std(first) / std(last) of dLoss/d(activation): with BN {grad['before']:.3g}, "
              f"without {grad['none']:.3g}"),
    ]


@register
class BNBeforeAfter(Experiment):
    name = "bn-before-after"
    title = "Batch normalization moves a nonlinearity's input onto its bend"
    source = "CS231n notes (batch normalization); Ioffe & Szegedy (2015), Batch Normalization, ICML"
    summary = "N(3,1) into a ReLU before and after normalization; deep sigmoid/ReLU MLPs with and without BN at init"

    def run(self, ctx: Context) -> Result:
        b = BUDGETS[ctx.profile]
        relu_rows, raw, normalized = relu_input(b["samples"], ctx.seed)
        g = torch.Generator().manual_seed(ctx.seed + 1)
        x = torch.randn(b["examples"], b["width"], generator=g)
        y = torch.randint(0, CLASSES, (b["examples"],), generator=g)
        rows, records = [], {}
        for activation in ("sigmoid", "relu"):
            for batch_norm in ("none", "before"):
                record = deep_net(activation, batch_norm, x, y, width=b["width"], depth=b["depth"], seed=ctx.seed)
                records[(activation, batch_norm)] = record
                rows += layer_rows(activation, batch_norm, record)
        figures = {
            "ReLU input before (left) and after (right) normalization; the ReLU is drawn in black":
                save_figure(kink_figure(raw, normalized), ctx, "relu-kink"),
            "Activation std per layer at initialization, with and without batch normalization":
                save_figure(plots.layer_profile(rows, y="std", group=("activation", "batch_norm"),
                                                title="Activation std per layer"), ctx, "std-per-layer"),
            "Back-propagated gradient std per layer at initialization":
                save_figure(plots.layer_profile(rows, y="backprop_grad_std", group=("activation", "batch_norm"),
                                                title="std of dLoss/d(activation) per layer"), ctx, "grad-per-layer"),
        }
        grid = {f"{a}, BN {bn}": [(f"layer {k + 1}", l.activation) for k, l in enumerate(r.of_kind("activation"))]
                for (a, bn), r in records.items()}
        figures["Activation histograms per layer (rows: activation and batch-norm placement)"] = save_figure(
            plots.histogram_grid(grid, title="Activations per layer at initialization"), ctx, "histograms")
        return Result(
            experiment=self.name, profile=ctx.profile, claims=claims(relu_rows, rows),
            tables={"relu_input": relu_rows, "layers": rows},
            paper={"relu_input": [{"stage": "before normalization",
                                   "fraction_positive": 0.5 * (1 + math.erf(3 / math.sqrt(2)))},
                                  {"stage": "after normalization", "fraction_positive": 0.5}]},
            figures=figures,
            budget={"samples": b["samples"], "examples": b["examples"], "width": b["width"], "depth": b["depth"]},
            notes=["The 'paper' column of relu_input is the closed form Phi(3) and 1/2, not a printed number.",
                   "Deep nets: standard-normal inputs, random labels, Glorot-uniform weights, training mode."],
            config={"width": b["width"], "depth": b["depth"], "init": "glorot-uniform", "seed": ctx.seed},
        )


def kink_figure(raw: torch.Tensor, normalized: torch.Tensor):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, values, title in ((axes[0], raw, "x ~ N(3, 1)"), (axes[1], normalized, "(x - mean) / std")):
        ax.hist(values.numpy(), bins=80, range=(-4, 7), density=True, alpha=0.6)
        grid = torch.linspace(-4, 7, 200)
        ax.plot(grid, torch.relu(grid) * 0.1, color="black", label="ReLU (scaled)")
        ax.axvline(0, color="gray", linestyle=":")
        ax.set(title=f"{title}: {(values > 0).double().mean().item():.1%} > 0", xlabel="input to ReLU")
    axes[0].legend(fontsize="small")
    return fig

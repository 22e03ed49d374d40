"""Glorot & Bengio (2010), Figures 6-8 at initialization, and the Jacobians of section 4.2.2.

A 5-layer, 1000-unit tanh MLP on Shapeset-3x2, with "standard" initialization
``W ~ U[-1/sqrt(n_in), 1/sqrt(n_in)]`` (``Var W = 1/(3 n_in)``) versus
"normalized" ``W ~ U[-sqrt(6/(n_in+n_out)), +...]`` (``Var W = 2/(n_in+n_out)``),
biases zero. On 300 held-out examples we measure, per layer: the variance of the
tanh activations (Fig. 6), of the back-propagated gradients dCost/ds with respect
to the pre-activations ``s`` (Fig. 7), and of the weight gradients (Fig. 8); and
the mean singular value of each Jacobian d z^(i+1) / d z^i between consecutive
hidden layers. In the linear regime the paper's analysis gives a factor
``n Var W`` per layer: 1/3 for standard (activations shrink going up, gradients
shrink going down, weight gradients stay level) and 1 for normalized.
"""
from __future__ import annotations

import torch

from trainlab.experiments.base import Claim, Context, Experiment, Result, register, save_figure
from trainlab.init import initialize_
from trainlab.losses import get_loss
from trainlab.nn.mlp import MLP
from trainlab.probe import Probe, ProbeConfig, ProbeRecord
from trainlab.report import plots
from trainlab.report.plots import plt

INITS = {"standard": "standard", "normalized": "glorot-uniform"}
BUDGETS = {"smoke": {"width": 200, "examples": 300, "jacobian_examples": 2},
           "quick": {"width": 1000, "examples": 300, "jacobian_examples": 1},
           "full": {"width": 1000, "examples": 300, "jacobian_examples": 10}}
DEPTH = 5
PAPER_JACOBIAN = [{"init": "standard", "mean_singular_value": 0.5}, {"init": "normalized", "mean_singular_value": 0.8}]


def measure(init: str, x: torch.Tensor, y: torch.Tensor, *, width: int, jacobian_examples: int,
            seed: int) -> ProbeRecord:
    model = MLP(x[0].numel(), int(y.max()) + 1 if len(y) else 9, depth=DEPTH, width=width, activation="tanh")
    initialize_(model, INITS[init], generator=torch.Generator().manual_seed(seed))
    config = ProbeConfig(jacobian=True, jacobian_examples=jacobian_examples, bins=60)
    with Probe(model, config=config) as probe:
        return probe.measure(x, y, get_loss("softmax"))


def rows_for(init: str, record: ProbeRecord) -> tuple[list[dict], list[dict]]:
    linear = record.of_kind("linear")[:DEPTH]
    tanh = record.of_kind("activation")
    layers = [{"init": init, "layer": k + 1, "activation_var": a.activation.var,
               "backprop_grad_var": l.backprop_grad.var, "weight_grad_var": l.weight_grad.var}
              for k, (l, a) in enumerate(zip(linear, tanh))]
    jac = [{"init": init, "layer": k + 1, "mean_singular_value": a.jacobian_singular_mean}
           for k, a in enumerate(tanh) if a.jacobian_singular_mean is not None]
    return layers, jac


def _ratio(rows: list[dict], init: str, column: str) -> float:
    values = [r[column] for r in rows if r["init"] == init]
    return values[-1] / values[0]


def _spread(rows: list[dict], init: str, column: str) -> float:
    values = [r[column] for r in rows if r["init"] == init]
    return max(values) / min(values)


def claims(layers: list[dict], averages: dict[str, float]) -> list[Claim]:
    act_s, act_n = _ratio(layers, "standard", "activation_var"), _ratio(layers, "normalized", "activation_var")
    back_s, back_n = (1 / _ratio(layers, i, "backprop_grad_var") for i in ("standard", "normalized"))
    per_act, per_back = act_n ** (1 / (DEPTH - 1)), back_n ** (1 / (DEPTH - 1))
    spread_w = _spread(layers, "standard", "weight_grad_var")
    spread_b = _spread(layers, "standard", "backprop_grad_var")
    j_s, j_n = averages["standard"], averages["normalized"]
    return [
        Claim("standard-activations-shrink", "With standard initialization the variance of the activations "
              "shrinks going up the layers (the 0-peak grows, Fig. 6 top): layer 5 under half of layer 1.",
              act_s < 0.5, f"Var(layer 5) / Var(layer 1) = {act_s:.3g}"),
        Claim("normalized-activations-level", "With normalized initialization activation variance is kept from "
              "layer to layer (Fig. 6 bottom; the paper puts the layer-to-layer ratio near 0.8, against 1/3 per "
              "layer in the linear regime of standard init): per-layer factor between 0.65 and 1.5.",
              0.65 <= per_act <= 1.5, f"per-layer factor {per_act:.3f} (Var(layer 5) / Var(layer 1) = {act_n:.3g})"),
        Claim("standard-backprop-vanishes", "With standard initialization back-propagated gradients get smaller "
              "going down toward the input (Fig. 7 top): layer 1 under half of layer 5.",
              back_s < 0.5, f"Var(dC/ds, layer 1) / Var(dC/ds, layer 5) = {back_s:.3g}"),
        Claim("normalized-backprop-level", "With normalized initialization back-propagated gradient variance is "
              "kept from layer to layer (Fig. 7 bottom): per-layer factor between 0.65 and 1.5.",
              0.65 <= per_back <= 1.5,
              f"per-layer factor {per_back:.3f} (Var(dC/ds, layer 1) / Var(dC/ds, layer 5) = {back_n:.3g})"),
        Claim("standard-weight-gradients-level", "Even with standard initialization the weight gradients do not "
              "shrink with depth like the back-propagated gradients do (Fig. 8): their variance spreads less "
              "across layers than that of dC/ds, and by under 4x.", spread_w < spread_b and spread_w < 4,
              f"max/min over layers: weight gradients {spread_w:.3g}, back-propagated gradients {spread_b:.3g}"),
        Claim("jacobian-singular-values", "The average singular value of the layer Jacobians is about 0.8 with "
              "normalized initialization and about 0.5 with standard (section 4.2.2); we accept +-0.15.",
              abs(j_n - 0.8) <= 0.15 and abs(j_s - 0.5) <= 0.15, f"normalized {j_n:.3f}, standard {j_s:.3f}"),
    ]


@register
class Glorot2010InitStats(Experiment):
    name = "glorot2010-init-stats"
    title = "Activations and gradients at initialization: standard vs normalized (Figs. 6-8)"
    source = ("Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks, "
              "AISTATS")
    summary = "5x1000 tanh MLP on Shapeset-3x2: per-layer variances, histograms and Jacobian singular values at init"

    def run(self, ctx: Context) -> Result:
        from trainlab.data import load

        budget = BUDGETS[ctx.profile]
        data = load("shapeset", data_dir=ctx.data_dir, seed=ctx.seed)
        x, y = data.val.x[: budget["examples"]], data.val.y[: budget["examples"]]
        records = {init: measure(init, x, y, width=budget["width"], jacobian_examples=budget["jacobian_examples"],
                                 seed=ctx.seed) for init in INITS}
        layers, jacobian = [], []
        for init, record in records.items():
            l_rows, j_rows = rows_for(init, record)
            layers += l_rows
            jacobian += j_rows
        averages = {init: sum(r["mean_singular_value"] for r in jacobian if r["init"] == init)
                    / max(1, sum(1 for r in jacobian if r["init"] == init)) for init in INITS}
        figures = self.figures(ctx, records, layers)
        return Result(
            experiment=self.name, profile=ctx.profile, claims=claims(layers, averages),
            tables={"layers": layers, "jacobian": jacobian,
                    "jacobian_average": [{"init": i, "mean_singular_value": v} for i, v in averages.items()]},
            paper={"jacobian_average": PAPER_JACOBIAN,
                   "figures": "Figs. 6-8 are histograms without printed numbers; compare their shapes with ours."},
            figures=figures,
            budget={"width": budget["width"], "depth": DEPTH, "probe_examples": len(y),
                    "jacobian_examples": budget["jacobian_examples"]},
            notes=["Measured at initialization on held-out Shapeset-3x2 examples (the paper used 300).",
                   "Back-propagated gradients are dCost/ds with s the pre-activation (the Linear layer's output).",
                   "Jacobians: d tanh-layer(i+1) / d tanh-layer(i) per example (torch.linalg.svdvals), "
                   "averaged over singular values, examples and layers 2-5.",
                   "Per-layer factor: (last / first) ** (1 / 4), the geometric mean of the layer-to-layer ratio."],
            config={"dataset": "shapeset", "depth": DEPTH, "width": budget["width"], "activation": "tanh",
                    "inits": INITS, "loss": "softmax", "seed": ctx.seed},
        )

    @staticmethod
    def figures(ctx: Context, records: dict[str, ProbeRecord], layers: list[dict]) -> dict[str, str]:
        out = {}
        panels = (("activation", "activation", "Fig. 6: activation histograms per layer", "tanh value"),
                  ("linear", "backprop_grad", "Fig. 7: back-propagated gradient (dC/ds) histograms", "gradient"),
                  ("linear", "weight_grad", "Fig. 8: weight-gradient histograms", "gradient"))
        for kind, quantity, caption, xlabel in panels:
            fig, axes = plt.subplots(2, 1, figsize=(7, 6.5))
            for ax, (init, record) in zip(axes, records.items()):
                chosen = record.of_kind(kind)[:DEPTH]
                plots.layer_histograms([(f"layer {k + 1}", l.quantity(quantity)) for k, l in enumerate(chosen)],
                                       title=f"{init} initialization", xlabel=xlabel, ax=ax)
            fig.tight_layout()
            out[f"{caption}: standard (top) vs normalized (bottom) initialization"] = save_figure(fig, ctx, quantity)
        for column, label in (("activation_var", "activations"), ("backprop_grad_var", "back-propagated gradients"),
                              ("weight_grad_var", "weight gradients")):
            fig = plots.layer_profile(layers, y=column, group=("init",), title=f"Variance of {label} per layer")
            out[f"Variance of {label} per layer, standard vs normalized (log scale)"] = save_figure(fig, ctx, column)
        return out

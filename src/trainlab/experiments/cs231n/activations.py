"""CS231n's activation-statistics experiment: a 10-layer, 500-unit net, forward only.

Input 1,000 x 500 standard normal; layers ``a = f(a W)`` without biases; weights
``W ~ N(0, s^2)`` with ``s`` = 0.01 (``normal-0.01``), 1 (``normal-1``),
``1/sqrt(fan_in)`` (``xavier``) or ``sqrt(2/fan_in)`` (``he``); ``f`` is tanh or
ReLU. While units stay linear, each layer multiplies the activation std by
``s * sqrt(fan_in)`` (tanh) or ``s * sqrt(fan_in / 2)`` (ReLU, which zeroes half
its inputs): 0.22 per layer for ``normal-0.01`` tanh (collapse), 1 for xavier
tanh and for he ReLU, 0.71 for xavier ReLU. Statistics come from
:class:`trainlab.probe.Probe`.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from trainlab.experiments.base import Claim, Context, Experiment, Result, register, save_figure
from trainlab.probe import Probe, ProbeConfig
from trainlab.report import plots

DEPTH, WIDTH = 10, 500
INITS: dict[str, Callable[[int], float]] = {  # name -> weight std for a given fan-in
    "normal-0.01": lambda fan_in: 0.01,
    "normal-1": lambda fan_in: 1.0,
    "xavier": lambda fan_in: 1 / math.sqrt(fan_in),
    "he": lambda fan_in: math.sqrt(2 / fan_in),
}
ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}
BUDGETS = {"smoke": {"examples": 200, "seeds": 1}, "quick": {"examples": 1000, "seeds": 1},
           "full": {"examples": 1000, "seeds": 5}}
LINEAR_GAIN = {"tanh": 1.0, "relu": 1 / math.sqrt(2)}  # std gain per unit weight scale, linear regime


def network(activation: str, init: str, *, generator: torch.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(DEPTH):
        linear = nn.Linear(WIDTH, WIDTH, bias=False)
        with torch.no_grad():
            linear.weight.normal_(0.0, INITS[init](WIDTH), generator=generator)
        layers += [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers)


def layer_stats(activation: str, init: str, x: torch.Tensor, seed: int):
    """The probe's statistics of the 10 nonlinearities' outputs (forward only)."""
    model = network(activation, init, generator=torch.Generator().manual_seed(seed))
    names = [str(2 * k + 1) for k in range(DEPTH)]
    with Probe(model, layers=names, config=ProbeConfig(bins=40)) as probe:
        return [layer.activation for layer in probe.measure(x).layers]


def _ratio(rows: list[dict], activation: str, init: str) -> float:
    stds = [r["std"] for r in rows if (r["activation"], r["init"]) == (activation, init)]
    return stds[-1] / stds[0]


def claims(rows: list[dict]) -> list[Claim]:
    sat = [r["saturated_fraction"] for r in rows if (r["activation"], r["init"]) == ("tanh", "normal-1")]
    checks = [
        ("tanh-small-collapses", "With normal-0.01 weights tanh activations collapse toward zero: the last "
         "layer's std is under 1/1000 of the first's.", ("tanh", "normal-0.01"), lambda r: r < 1e-3),
        ("relu-small-collapses", "With normal-0.01 weights ReLU activations collapse too.",
         ("relu", "normal-0.01"), lambda r: r < 1e-3),
        ("xavier-tanh-healthy", "Xavier initialization keeps tanh activations at a healthy scale: the last "
         "layer's std is within 10x of the first's.", ("tanh", "xavier"), lambda r: 0.1 < r < 10),
        ("xavier-relu-shrinks", "Xavier initialization with ReLU loses half the variance per layer, so the "
         "std shrinks more than 10x over 10 layers.", ("relu", "xavier"), lambda r: r < 0.1),
        ("he-relu-healthy", "He initialization keeps the ReLU activation std roughly constant (within 2x).",
         ("relu", "he"), lambda r: 0.5 < r < 2),
        ("relu-large-explodes", "With normal-1 weights ReLU activations explode (std grows over a million-fold).",
         ("relu", "normal-1"), lambda r: r > 1e6),
    ]
    out = [Claim(cid, text, bool(test(_ratio(rows, *key))), f"{key[0]} {key[1]}: std(layer 10) / std(layer 1) = "
                 f"{_ratio(rows, *key):.3g}") for cid, text, key, test in checks]
    out.insert(1, Claim("tanh-large-saturates", "With normal-1 weights almost all tanh units saturate at -1 or +1 "
                        "(over 90% in every layer).", min(sat) > 0.9,
                        f"saturated fraction per layer between {min(sat):.1%} and {max(sat):.1%}"))
    return out


@register
class CS231nActivations(Experiment):
    name = "cs231n-activations"
    title = "Activation statistics at initialization in a 10-layer network"
    source = "CS231n (Stanford), lecture on training neural networks: weight initialization"
    summary = "tanh/ReLU x four weight scales: per-layer mean, std and histograms, forward only"

    def run(self, ctx: Context) -> Result:
        budget = BUDGETS[ctx.profile]
        seeds = [ctx.seed + k for k in range(budget["seeds"])]
        x = torch.randn(budget["examples"], WIDTH, generator=torch.Generator().manual_seed(ctx.seed))
        rows, growth, grids = [], [], {}
        for activation in ACTIVATIONS:
            grid = {}
            for init in INITS:
                runs = [layer_stats(activation, init, x, 1000 + s) for s in seeds]
                for k in range(DEPTH):
                    per_seed = [run[k] for run in runs]
                    rows.append({"activation": activation, "init": init, "layer": k + 1,
                                 "mean": sum(s.mean for s in per_seed) / len(per_seed),
                                 "std": sum(s.std for s in per_seed) / len(per_seed),
                                 "saturated_fraction": _mean_or_none([s.saturated_fraction for s in per_seed]),
                                 "dead_fraction": _mean_or_none([s.dead_fraction for s in per_seed])})
                grid[init] = [(f"layer {k + 1}", runs[0][k]) for k in range(DEPTH)]
                growth.append(_growth(rows, activation, init))
            grids[activation] = grid
        figures = {}
        for activation, grid in grids.items():
            fig = plots.histogram_grid(grid, title=f"{activation}: activation histograms per layer (rows: init)",
                                       xlabel=activation)
            figures[f"{activation}: histograms of each layer's activations, one row per initialization"] = \
                save_figure(fig, ctx, f"histograms-{activation}")
        fig = plots.layer_profile(rows, y="std", group=("activation", "init"), title="Activation std per layer")
        figures["Activation std per layer (log scale), every activation and initialization"] = \
            save_figure(fig, ctx, "std-per-layer")
        return Result(
            experiment=self.name, profile=ctx.profile, claims=claims(rows),
            tables={"layers": rows, "growth": growth}, figures=figures,
            budget={"examples": budget["examples"], "seeds": len(seeds), "depth": DEPTH, "width": WIDTH},
            notes=["Forward pass only; no biases; the same input for every setting.",
                   "Saturated: |tanh| >= 0.975, where the slope is under 5% of its maximum (trainlab.probe).",
                   "Table growth: per-layer factor of the std (geometric mean over layers 1-10) against the "
                   "linear-regime prediction s*sqrt(fan_in) for tanh and s*sqrt(fan_in/2) for ReLU; tanh "
                   "leaves the linear regime when the std nears 1, so the prediction is shown only below that."],
            config={"depth": DEPTH, "width": WIDTH, "inits": list(INITS), "activations": list(ACTIVATIONS),
                    "seed": ctx.seed},
        )


def _mean_or_none(values: list[float | None]) -> float | None:
    return None if values[0] is None else sum(values) / len(values)


def _growth(rows: list[dict], activation: str, init: str) -> dict:
    stds = [r["std"] for r in rows if (r["activation"], r["init"]) == (activation, init)]
    measured = (stds[-1] / stds[0]) ** (1 / (DEPTH - 1)) if stds[0] > 0 and stds[-1] > 0 else float("nan")
    predicted = INITS[init](WIDTH) * math.sqrt(WIDTH) * LINEAR_GAIN[activation]
    linear_regime = activation == "relu" or predicted * stds[0] < 0.5
    return {"activation": activation, "init": init, "factor_per_layer": measured,
            "predicted_linear_regime": predicted if linear_regime else None}

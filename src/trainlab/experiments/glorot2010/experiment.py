"""Glorot & Bengio (2010), end to end: Table 1 beside the paper's, the probe figures, the claims.

1. Table 1: every (activation, initialization) of the paper on each dataset
   found, over a log-spaced learning-rate grid and several seeds trained
   together as populations; the rate chosen on validation error; test error
   as a mean with a 95% confidence interval over seeds.
2. Dynamics: each configuration trained again on Shapeset-3x2 at its chosen
   rate with probes on 300 fixed test examples (Figures 2, 3, 4, 9, 10, 11).
3. Initialization: histograms of activations, back-propagated and weight
   gradients and Jacobian singular values of fresh networks (Figures 6-8).
"""
from __future__ import annotations

import time

from trainlab.errors import UserError
from trainlab.experiments.base import Context, Experiment, Result, register
from trainlab.experiments.glorot2010 import claims, figures
from trainlab.experiments.glorot2010.cost import full_profile_cost
from trainlab.experiments.glorot2010.data import LoadedData, load_all
from trainlab.experiments.glorot2010.dynamics import Dynamics, at_initialization, run_dynamics
from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, PAPER_JACOBIAN, PROFILES, GlorotProfile
from trainlab.experiments.glorot2010.table1 import base_config, grid, member_rows, paper_rows, summarize, train_members
from trainlab.threads import intra_op_threads

STANDARD_VS_NORMALIZED = ("Tanh", "Tanh N")


@register
class Glorot2010(Experiment):
    name = "glorot2010"
    title = "Glorot & Bengio (2010): understanding the difficulty of training deep feedforward networks"
    source = ("X. Glorot and Y. Bengio (2010), \"Understanding the difficulty of training deep feedforward "
              "neural networks\", AISTATS, JMLR W&CP 9: 249-256")
    summary = ("Sigmoid, tanh and softsign MLPs with standard and normalized initialization: Table 1 on "
               "Shapeset-3x2, MNIST and CIFAR-10, activation and gradient statistics per layer, the claims.")

    def run(self, ctx: Context) -> Result:
        with intra_op_threads(1):
            return self._run(ctx)

    def _run(self, ctx: Context) -> Result:
        profile = PROFILES[ctx.profile]
        loaded, missing = load_all(profile.datasets, data_dir=ctx.data_dir, seed=ctx.seed,
                                   cache_epochs=profile.cache_epochs)
        shapeset = next((d for d in loaded if d.budget.name == "shapeset"), None)
        if shapeset is None:
            raise UserError("glorot2010 needs Shapeset-3x2, which is generated; check the trainlab.data install")
        result = Result(experiment=self.name, profile=ctx.profile, config=profile.to_dict())
        timings: dict[str, str] = {}

        table, lr_rows, member_table = [], [], []
        for data in loaded:
            started = time.perf_counter()
            members = grid(profile, data, data_dir=ctx.data_dir, seed=ctx.seed)
            trained = train_members(members, data.dataset, ctx.progress)
            rows, lrs = summarize(trained, data, profile)
            table += rows
            lr_rows += lrs
            member_table += member_rows(trained, data)
            timings[f"Table 1, {data.label}"] = (f"{len(members)} models x {data.budget.steps:,} updates in "
                                                 f"{time.perf_counter() - started:.0f} s")
        chosen = {row["activation"]: row["lr"] for row in table if row["dataset"] == shapeset.label}

        started = time.perf_counter()
        dyn_base = base_config(profile, "shapeset", data_dir=ctx.data_dir, steps=profile.dynamics_steps)
        runs: dict[str, Dynamics] = {}
        inits = {}
        for label, (activation, init) in CONFIGURATIONS.items():
            config = dyn_base.replace(activation=activation, init=init, lr=profile.dynamics_lr or chosen[label],
                                      seed=ctx.seed)
            inits[label] = at_initialization(config, shapeset.dataset, batch=profile.probe_batch,
                                             jacobian_examples=profile.jacobian_examples)
            runs[label] = run_dynamics(label, config, shapeset.dataset, every=profile.probe_every,
                                       batch=profile.probe_batch, saturation=claims.SATURATED,
                                       progress=ctx.progress)
        timings["probed Shapeset runs"] = (f"{len(runs)} models x {profile.dynamics_steps:,} updates in "
                                           f"{time.perf_counter() - started:.0f} s")

        jacobian = claims.jacobian_rows(inits)
        result.tables = {"table1": table, "lr_grid": lr_rows, "members": member_table,
                         "saturation": saturation_rows(runs),
                         "init_layers": init_rows(inits), "jacobian": jacobian}
        result.paper = {"table1": paper_rows(),
                        "jacobian": [{"init": k, "mean_singular_value": v} for k, v in PAPER_JACOBIAN.items()]}
        result.claims = [
            claims.sigmoid_top_saturates(runs.get("Sigmoid")),
            claims.tanh_sequential(runs.get("Tanh")),
            claims.softsign_less(runs),
            claims.backprop_flatness(inits, profile.depth),
            claims.jacobian_claim(jacobian),
            claims.sigmoid_worst(table),
            claims.normalized_helps_tanh_most(table),
        ]
        result.figures = draw(ctx, runs, inits, jacobian)
        if profile.slice_steps:
            started = time.perf_counter()
            result.budget["full profile cost"] = full_profile_cost(profile.slice_steps)
            timings["timing the full network's slice"] = f"{time.perf_counter() - started:.0f} s"
        result.budget.update(budget_lines(profile, loaded, timings))
        result.notes = notes(profile, loaded, missing)
        return result


def draw(ctx: Context, runs: dict[str, Dynamics], inits: dict, jacobian: list[dict]) -> dict[str, str]:
    std, norm = ("Tanh", "Softsign"), ("Tanh N", "Softsign N")
    out = {
        "Figure 2: mean and std (bars) of each sigmoid layer's activations during training, "
        "on 300 fixed test examples": figures.figure2(ctx, runs["Sigmoid"]),
        "Figure 3: 98th percentile (markers) and std (lines) of the activations, standard initialization":
            figures.figure3(ctx, runs, std, "figure3_percentiles_standard"),
        "Figure 10: the same with normalized initialization":
            figures.figure3(ctx, runs, norm, "figure10_percentiles_normalized"),
        "Figure 4: activation histograms at the end of training, standard initialization":
            figures.figure4(ctx, runs, std),
        "Figure 6: activation histograms at initialization, tanh, standard (top) and normalized (bottom)":
            figures.init_histograms(ctx, inits, STANDARD_VS_NORMALIZED, "activation", "activation",
                                    "figure6_init_activations", "activation values"),
        "Figure 7: back-propagated gradient histograms (dC/ds, per hidden layer) at initialization":
            figures.init_histograms(ctx, inits, STANDARD_VS_NORMALIZED, "backprop_grad", "linear",
                                    "figure7_init_backprop", "back-propagated gradients dC/ds"),
        "Figure 8: weight gradient histograms at initialization":
            figures.init_histograms(ctx, inits, STANDARD_VS_NORMALIZED, "weight_grad", "linear",
                                    "figure8_init_weight_gradients", "weight gradients"),
        "Figure 9: std of the weight gradients during training, tanh standard (top) and normalized (bottom)":
            figures.figure9(ctx, runs, STANDARD_VS_NORMALIZED),
        "Figure 11: test error during training on Shapeset-3x2 (one seed, each configuration at its "
        "chosen learning rate)": figures.figure11(ctx, runs),
    }
    if jacobian:
        out["Mean singular value of the layer-to-layer Jacobian at initialization (section 4.2.1)"] = \
            figures.jacobian_figure(ctx, jacobian)
    return out


def saturation_rows(runs: dict[str, Dynamics]) -> list[dict]:
    """Per configuration and hidden layer: activation statistics at initialization and at the end."""
    rows = []
    for label, run in runs.items():
        first, last = run.hidden(run.records[0]), run.hidden(run.records[-1])
        times = claims.saturation_steps(run) if CONFIGURATIONS[label][0] == "tanh" else [None] * len(first)
        for k, (a, b, t) in enumerate(zip(first, last, times), start=1):
            rows.append({"configuration": label, "layer": k, "mean_init": a.activation.mean,
                         "std_init": a.activation.std, "mean_final": b.activation.mean,
                         "std_final": b.activation.std, "p98_final": b.activation.percentiles[98],
                         "saturated_final": b.activation.saturated_fraction,
                         "first_saturated_step": t, "final_step": run.records[-1].step, "status": run.status})
    return rows


def init_rows(inits: dict) -> list[dict]:
    """Variances per hidden layer at initialization: activations, dC/ds and weight gradients."""
    rows = []
    for label, record in inits.items():
        acts, linears = record.of_kind("activation"), record.of_kind("linear")[:-1]
        for k, (a, lin) in enumerate(zip(acts, linears), start=1):
            rows.append({"configuration": label, "layer": k, "activation_var": a.activation.var,
                         "backprop_grad_var": lin.backprop_grad.var, "weight_grad_var": lin.weight_grad.var})
    return rows


def budget_lines(profile: GlorotProfile, loaded: list[LoadedData], timings: dict[str, str]) -> dict:
    return {
        "network": f"{profile.depth} hidden layers of {profile.width} units (paper: 5 x 1,000), softmax "
                   f"output, NLL, zero biases",
        "optimizer": f"SGD, minibatch {profile.batch_size}, constant learning rate from {list(profile.lrs)} "
                     f"chosen per model on mean validation error",
        "seeds": profile.seeds,
        "updates per model": {d.label: d.budget.steps for d in loaded},
        "probed Shapeset runs": f"{profile.dynamics_steps:,} updates, probe every {profile.probe_every} on "
                                f"{profile.probe_batch} test examples",
        "wall time": timings,
        "threads": "1 intra-op thread (minibatches of 10 are too small to split)",
    }


def notes(profile: GlorotProfile, loaded: list[LoadedData], missing: list[str]) -> list[str]:
    out = [d.note for d in loaded] + missing
    if profile.width != 1000:
        out.append(f"Reduced budget: {profile.width} units per layer instead of 1,000 and far fewer updates than "
                   "the paper, so Table 1's absolute errors are not comparable with the published ones; the "
                   "claims are evaluated at this budget.")
    out.append("Inputs are the raw pixel intensities in [0, 1]; no preprocessing. A diverged model counts as "
               "100% validation error when the rate is chosen.")
    out.append(f"Confidence intervals are Student-t over {profile.seeds} seeds, not clipped to [0, 100]; with "
               "few seeds they are wide (the t quantile for 2 seeds is 12.7).")
    rate = (f"one learning rate, {profile.dynamics_lr}, for all" if profile.dynamics_lr
            else "the learning rate chosen for Table 1")
    out.append(f"Figures 2-4, 9-11 come from one seed per configuration trained on Shapeset-3x2 at {rate}; "
               f"statistics are on {profile.probe_batch} fixed test examples, as in the paper.")
    out.append("Saturated means within 2.5% of an asymptote (|u| >= 0.975 with u the activation rescaled to "
               "[-1, 1]) for every activation, as the paper judges saturation by how close values come to the "
               "asymptotes (Figures 3-4).")
    return out

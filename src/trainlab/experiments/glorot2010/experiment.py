"""Glorot & Bengio (2010), end to end: Table 1 beside the paper's, the probe figures, the claims.

1. Table 1: every (activation, initialization) of the paper on each dataset
   of the profile, over a log-spaced learning-rate grid and several seeds
   trained together as populations; the rate chosen on validation error (by
   successive halving where the profile names rungs); test error as a mean
   with a 95% confidence interval over seeds.
2. Dynamics: each configuration trained on Shapeset-3x2 (at the profile's
   rate, or the one Table 1 chose) with probes on 300 fixed test examples
   (Figures 2, 3, 4, 9, 10, 11).
3. Initialization: histograms of activations, back-propagated and weight
   gradients and Jacobian singular values of fresh networks (Figures 6-8).

The trainings are independent jobs spread over the profile's worker processes.
"""
from __future__ import annotations

import sys
import time
from typing import Any

from trainlab.experiments.base import Context, Experiment, Result, register
from trainlab.experiments.glorot2010 import claims, figures
from trainlab.experiments.glorot2010.cost import full_profile_cost
from trainlab.experiments.glorot2010.data import LoadedData, load_all, load_budgeted
from trainlab.experiments.glorot2010.dynamics import Dynamics, probe_configurations
from trainlab.experiments.glorot2010.profiles import (
    CONFIGURATIONS,
    DATASET_LABELS,
    PAPER_JACOBIAN,
    PROFILES,
    DataBudget,
    GlorotProfile,
)
from trainlab.experiments.glorot2010.table1 import (
    TRAINED_MARGIN,
    Member,
    chance_error,
    member_rows,
    paper_rows,
    summarize,
    train_configuration,
)
from trainlab.threads import intra_op_threads
from trainlab.workers import run_jobs

STANDARD_VS_NORMALIZED = ("Tanh", "Tanh N")


def _job(kind: str, profile: GlorotProfile, what: Any, data_dir: str | None, seed: int) -> Any:
    """One independent training, run in a worker process: a Table 1 population, or probed runs one after another
    (``what``: their ``(label, lr)``)."""
    started = time.perf_counter()
    if kind == "table1":
        budget, label = what
        out = train_configuration(profile, budget, label, data_dir=data_dir, seed=seed)
    else:
        out = probe_configurations(profile, what, saturation=claims.SATURATED, data_dir=data_dir, seed=seed)
    return out, time.perf_counter() - started


TABLE1_ORDER = ("Sigmoid", "Softsign", "Softsign N", "Tanh", "Tanh N")
"""Longest first: no sigmoid rate leaves chance for thousands of updates, so successive halving stops none early."""


def _probe_job(rates: dict[str, float], profile: GlorotProfile, data_dir: str | None, seed: int) -> tuple:
    """The probed runs as one job: generating Shapeset's epochs once costs about half of one run."""
    return ("probe", profile, list(rates.items()), data_dir, seed)


@register
class Glorot2010(Experiment):
    name = "glorot2010"
    title = "Glorot & Bengio (2010): understanding the difficulty of training deep feedforward networks"
    source = ("X. Glorot and Y. Bengio (2010), \"Understanding the difficulty of training deep feedforward "
              "neural networks\", AISTATS, JMLR W&CP 9: 249-256")
    summary = ("Sigmoid, tanh and softsign MLPs with standard and normalized initialization: Table 1 on "
               "Shapeset-3x2, MNIST and CIFAR-10, activation and gradient statistics per layer, the claims.")
    profiles = tuple(PROFILES)

    def run(self, ctx: Context) -> Result:
        with intra_op_threads(1):
            return self._run(ctx)

    def _run(self, ctx: Context) -> Result:
        profile = PROFILES[ctx.profile]
        loaded, missing = load_all(profile.datasets, data_dir=ctx.data_dir, seed=ctx.seed, cache_epochs=False)
        shapeset = load_budgeted(profile.dynamics, data_dir=ctx.data_dir, seed=ctx.seed, cache_epochs=False)
        result = Result(experiment=self.name, profile=ctx.profile, config=profile.to_dict())
        started = time.perf_counter()
        table_jobs = [("table1", profile, (d.budget, label), ctx.data_dir, ctx.seed)
                      for d in loaded for label in TABLE1_ORDER]
        fixed = profile.dynamics_lr is not None
        probe_jobs = [_probe_job(dict.fromkeys(CONFIGURATIONS, profile.dynamics_lr), profile, ctx.data_dir,
                                 ctx.seed)] if fixed else []
        outputs = self._jobs(ctx, profile, probe_jobs + table_jobs)
        probed, tabled = outputs[:len(probe_jobs)], outputs[len(probe_jobs):]

        table, lr_rows, member_table, seconds = table1_rows(profile, loaded, table_jobs, tabled)
        if not fixed:
            chosen = {row["activation"]: row["lr"] for row in table if row["dataset"] == DATASET_LABELS["shapeset"]}
            probe_jobs = [_probe_job({label: chosen[label] for label in CONFIGURATIONS}, profile, ctx.data_dir,
                                     ctx.seed)]
            probed = self._jobs(ctx, profile, probe_jobs)
        inits, runs = {}, {}
        for job, (pairs, took) in zip(probe_jobs, probed):
            for (label, _), (record, run) in zip(job[2], pairs):
                inits[label], runs[label] = record, run
        seconds["probed Shapeset runs"] = sum(took for _, took in probed)

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
        timings = {name: f"{s:.0f} s of one CPU thread" for name, s in seconds.items()}
        timings["trainings, wall"] = f"{time.perf_counter() - started:.0f} s over {profile.workers} process(es)"
        if profile.slice_steps:
            sliced = time.perf_counter()
            result.budget["full profile cost"] = full_profile_cost(profile.slice_steps)
            timings["timing the full network's slice"] = f"{time.perf_counter() - sliced:.0f} s"
        result.budget.update(budget_lines(profile, loaded, shapeset.budget, timings))
        result.notes = notes(profile, loaded, shapeset, runs, missing)
        return result

    @staticmethod
    def _jobs(ctx: Context, profile: GlorotProfile, jobs: list[tuple]) -> list[Any]:
        def name(job: tuple) -> str:
            kind, _, what, _, _ = job
            if kind == "table1":
                return f"Table 1, {DATASET_LABELS[what[0].name]}, {what[1]} ({what[0].steps_of(what[1]):,} updates)"
            labels = ", ".join(label for label, _ in what)
            return f"probed Shapeset runs ({profile.dynamics.steps:,} updates), {labels}"

        def done(index: int, elapsed: float) -> None:
            if ctx.progress:
                print(f"[{elapsed:5.0f} s] done: {name(jobs[index])}", file=sys.stderr, flush=True)

        if ctx.progress:
            print(f"{len(jobs)} trainings over {min(profile.workers, len(jobs))} process(es), each line as one "
                  f"ends: " + "; ".join(name(job) for job in jobs), file=sys.stderr, flush=True)
        return run_jobs(_job, jobs, workers=profile.workers, on_done=done)


def table1_rows(profile: GlorotProfile, loaded: list[LoadedData], jobs: list[tuple], outputs: list[Any]
                ) -> tuple[list[dict], list[dict], list[dict], dict[str, float]]:
    """Table 1, the learning-rate grid and the members, dataset by dataset, and each column's CPU seconds."""
    table, lr_rows, member_table, seconds = [], [], [], {}
    for data in loaded:
        trained: list[Member] = []
        for job, (members, took) in zip(jobs, outputs):
            if job[2][0] == data.budget:
                trained += members
                seconds[f"Table 1, {data.label}"] = seconds.get(f"Table 1, {data.label}", 0.0) + took
        rows, lrs = summarize(trained, data, profile)
        table += rows
        lr_rows += lrs
        member_table += member_rows(trained, data)
    return table, lr_rows, member_table, seconds


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


def budget_lines(profile: GlorotProfile, loaded: list[LoadedData], dynamics: DataBudget,
                 timings: dict[str, str]) -> dict:
    halving = {d.label: f"successive halving at updates {', '.join(f'{r:,}' for r in d.budget.rungs)}"
                        + (f"; a configuration none of whose rates has left chance by {d.budget.give_up:,} stops "
                           "there" if d.budget.give_up else "")
               for d in loaded if d.budget.rungs}
    schedule = ("constant learning rate" if profile.lr_cut is None else
                f"learning rate times {profile.lr_cut[1]:g} for each model's last {profile.lr_cut[0]:,} updates "
                "(the paper: constant; one cut stands in for the longer training the paper had)")
    return {
        "network": f"{profile.depth} hidden layers of {profile.width} units (paper: 5 x 1,000), softmax "
                   f"output, NLL, zero biases",
        "optimizer": f"SGD, minibatch {profile.batch_size}, {schedule}, starting from {list(profile.lrs)} "
                     f"chosen per configuration on mean validation error over seeds",
        "learning-rate choice": halving or "every rate trained to the end",
        "seeds": profile.seeds,
        "updates per model": {d.label: f"{d.budget.steps:,}" + "".join(f"; {label}: {steps:,}" for label, steps
                                                                    in d.budget.row_steps.items()) for d in loaded},
        "probed Shapeset runs": f"{dynamics.steps:,} updates, probe every {profile.probe_every} on "
                                f"{profile.probe_batch} test examples",
        "wall time": timings,
        "threads": "1 intra-op thread per process (minibatches of 10 are too small to split)",
    }


def notes(profile: GlorotProfile, loaded: list[LoadedData], shapeset: LoadedData, runs: dict[str, Dynamics],
          missing: list[str]) -> list[str]:
    out = [d.note for d in loaded] + missing
    for name, why in profile.left_out.items():
        text = f"{DATASET_LABELS[name]} is not in this profile's Table 1: {why}."
        if name == "shapeset" and runs:
            finals = ", ".join(f"{label} {100 * run.test_error[-1][1]:.1f}%" for label, run in runs.items())
            text += (f" After {profile.dynamics.steps:,} updates the probed runs' test errors are {finals} "
                     f"(chance {chance_error(shapeset.dataset.test):.1f}%; the paper: 15.6-27.2%, sigmoid 82.6%); the "
                     f"full profile's {PROFILES['full'].datasets[0].steps:,} updates per model are the budget "
                     "meant to decide it.")
        out.append(text)
    if profile.width != 1000:
        out.append(f"Reduced budget: {profile.width} units per layer instead of 1,000 and far fewer updates than "
                   "the paper, so Table 1's absolute errors are not comparable with the published ones; the "
                   "claims are evaluated at this budget.")
    out.append("Inputs are the raw pixel intensities in [0, 1]; no preprocessing. A diverged model counts as "
               "100% validation error when the rate is chosen.")
    out.append(f"Confidence intervals are Student-t over {profile.seeds} seeds, clipped to [0, 100] (the t "
               f"quantile for {profile.seeds} seeds is {_t_quantile(profile.seeds):.2f}). A row has trained when "
               f"the top of its interval is at least {TRAINED_MARGIN:g} points below chance; the claims on "
               "Table 1 compare trained rows only.")
    rate = (f"one learning rate, {profile.dynamics_lr}, for all" if profile.dynamics_lr
            else "the learning rate chosen for Table 1")
    out.append(f"Figures 2-4, 9-11 come from one seed per configuration trained on Shapeset-3x2 at {rate}; "
               f"statistics are on {profile.probe_batch} fixed test examples, as in the paper.")
    out.append("Saturated means within 2.5% of an asymptote (|u| >= 0.975 with u the activation rescaled to "
               "[-1, 1]) for every activation, as the paper judges saturation by how close values come to the "
               "asymptotes (Figures 3-4).")
    return out


def _t_quantile(seeds: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, seeds - 1)) if seeds > 1 else float("nan")

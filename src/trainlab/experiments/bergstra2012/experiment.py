"""Bergstra & Bengio (2012): random search beats grid search at equal budgets.

Why: when only a few hyperparameters matter ("low effective dimensionality"),
a grid of ``n^d`` points tries only ``n`` values of each important one, while
``N`` random points try ``N`` distinct values of every one.

(a) Synthetic: 7 hyperparameters in ``[0, 1]``, of which 2 matter,
``f(x) = (x_i - a)^2 + 0.2 (x_j - b)^2``, with the important axes ``i, j`` and the
optimum ``(a, b)`` drawn per repetition. Grids put 2 points on the first
``log2(budget)`` axes (the range's ends, or the kinder cell centers 0.25 and
0.75) and the center on the rest, so a grid of 128 = 2^7 covers all 7; random
search draws uniform points. Lower is better.

(b) Real: a one-hidden-layer MLP on MNIST over learning rate, initialization
scale, width and weight decay, grid (2 values each: 16 trials) against random
search (budgets 4, 8, 16), repeated over seeds, every trial set trained as
populations (one per width). Higher validation accuracy is better.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from trainlab.experiments.base import (
    Claim,
    Context,
    Experiment,
    Result,
    chance_accuracy,
    register,
    save_figure,
    untrained,
)

DIMS = 7
GRID_BUDGETS = (1, 2, 4, 8, 16, 32, 64, 128)
RANDOM_BUDGETS = (1, 2, 4, 8, 16, 32, 64, 128)
PROFILES = {
    "smoke": dict(reps=30, seeds=1, steps=20, train=1000, val=500, widths=(16, 32), random=(2, 4)),
    "quick": dict(reps=200, seeds=4, steps=300, train=10000, val=2000, widths=(32, 64, 128, 256), random=(4, 8, 16)),
    "full": dict(reps=1000, seeds=8, steps=1500, train=None, val=None, widths=(32, 64, 128, 256), random=(4, 8, 16)),
}
REAL_SPACE = {  # name: (low, high), sampled on a log scale; width takes the profile's widths
    "lr": (1e-3, 1.0),
    "init_scale": (0.25, 4.0),
    "weight_decay": (1e-6, 1e-2),
}
TRAINED_MARGIN = 0.1
"""A search's best model has trained when its validation accuracy is at least this far above chance (10 points;
the quick profile's best models reach 88-92% against 11%)."""
PAPER = {
    "source": "Bergstra & Bengio (2012), 'Random Search for Hyper-Parameter Optimization', JMLR 13:281-305",
    "finding": "random search over the same domain finds models as good or better than grid search "
               "within a small fraction of the computation (abstract); few hyperparameters matter per data set",
}


# -- (a) the synthetic problem -------------------------------------------------------

def synthetic_problem(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Weights per axis (two non-zero, at random axes) and the optimum's location."""
    weights = np.zeros(DIMS)
    important = rng.choice(DIMS, size=2, replace=False)
    weights[important] = (1.0, 0.2)
    return weights, rng.uniform(0, 1, DIMS)


def objective(x: np.ndarray, weights: np.ndarray, optimum: np.ndarray) -> np.ndarray:
    return ((x - optimum) ** 2 * weights).sum(-1)


GRID_LAYOUTS = {
    "grid": (0.0, 1.0),  # np.linspace over the range, ends included: how `trainlab search --sampler grid` lays it out
    "grid-centered": (0.25, 0.75),  # cell centers: the kindest 2-point grid
}


def grid_points(budget: int, layout: str = "grid") -> np.ndarray:
    """``budget = 2^k`` points: 2 values per axis on the first k axes, 0.5 on the others."""
    k = int(round(math.log2(budget)))
    axes = [np.array(GRID_LAYOUTS[layout]) if i < k else np.array([0.5]) for i in range(DIMS)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, DIMS)


def synthetic(reps: int, seed: int) -> dict[str, dict[int, np.ndarray]]:
    """Best value found by each method and budget, in each repetition."""
    rng = np.random.default_rng(seed)
    best: dict[str, dict[int, list[float]]] = {**{g: {b: [] for b in GRID_BUDGETS} for g in GRID_LAYOUTS},
                                               "random": {b: [] for b in RANDOM_BUDGETS}}
    for _ in range(reps):
        weights, optimum = synthetic_problem(rng)
        for layout in GRID_LAYOUTS:
            for b in GRID_BUDGETS:
                best[layout][b].append(objective(grid_points(b, layout), weights, optimum).min())
        values = objective(rng.uniform(0, 1, (max(RANDOM_BUDGETS), DIMS)), weights, optimum)
        for b in RANDOM_BUDGETS:
            best["random"][b].append(values[:b].min())
    return {m: {b: np.array(v) for b, v in per.items()} for m, per in best.items()}


# -- (b) the real problem -------------------------------------------------------------

def real_trials(method: str, n: int, widths: tuple[int, ...], rng: np.random.Generator) -> list[dict]:
    if method == "grid":  # 2 values per hyperparameter, at the quartiles of each log range
        axes = {k: [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * q) for q in (0.25, 0.75)]
                for k, (lo, hi) in REAL_SPACE.items()}
        axes["width"] = [widths[len(widths) // 4], widths[(3 * len(widths)) // 4]]
        return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    return [{**{k: float(math.exp(rng.uniform(math.log(lo), math.log(hi)))) for k, (lo, hi) in REAL_SPACE.items()},
             "width": int(rng.choice(widths))} for _ in range(n)]


def train_trials(trials: list[dict], dataset, steps: int, seed: int, progress: bool) -> list[float]:
    """Validation accuracy of each trial (0 if it diverged), trained as one population per width."""
    from trainlab.config import TrainConfig
    from trainlab.population import train_population
    from trainlab.population.spec import group_members

    configs = [TrainConfig(dataset="mnist", depth=1, width=int(t["width"]), activation="tanh", lr=float(t["lr"]),
                           init_scale=float(t["init_scale"]), weight_decay=float(t["weight_decay"]),
                           batch_size=64, steps=steps, seed=seed, log_every=50) for t in trials]
    accuracy = [0.0] * len(trials)
    for group in group_members(configs):
        results = train_population([configs[i] for i in group], dataset=dataset, progress=progress)
        for i, r in zip(group, results):
            accuracy[i] = r.val_accuracy if r.status == "completed" and r.val_accuracy is not None else 0.0
    return accuracy


def mnist(ctx: Context, budget: dict):
    from trainlab.data import load
    from trainlab.data.base import Dataset, Split

    data = load("mnist", data_dir=ctx.data_dir)
    train = data.train.epoch(0)
    n, v = budget["train"] or len(train), budget["val"] or len(data.val)
    return Dataset(data.name, Split(train.x[:n], train.y[:n]), data.val.subset(v), data.test.subset(1000),
                   data.num_classes, data.input_shape)


def real(ctx: Context, budget: dict) -> tuple[dict[str, dict[int, np.ndarray]], float]:
    """Best validation accuracy per method, budget and seed; and chance on the validation images."""
    dataset = mnist(ctx, budget)
    largest = max(budget["random"])
    best: dict[str, dict[int, list[float]]] = {"grid": {16: []}, "random": {b: [] for b in budget["random"]}}
    for rep in range(budget["seeds"]):
        rng = np.random.default_rng(ctx.seed * 1000 + rep)
        trials = real_trials("grid", 16, budget["widths"], rng) + real_trials("random", largest, budget["widths"], rng)
        accuracy = train_trials(trials, dataset, budget["steps"], seed=ctx.seed + rep, progress=ctx.progress)
        best["grid"][16].append(max(accuracy[:16]))
        for b in budget["random"]:
            best["random"][b].append(max(accuracy[16:16 + b]))
    return {m: {b: np.array(v) for b, v in per.items()} for m, per in best.items()}, chance_accuracy(dataset.val.y)


def mnist_claim(best: dict[str, dict[int, np.ndarray]], *, chance: float, budget: str) -> Claim:
    """Random search's largest budget against the 16-point grid, decided only when every seed's best model of
    both trained (``TRAINED_MARGIN`` above chance)."""
    top = max(best["random"])
    text = (f"On the MNIST MLP, random search with {top} trials finds a validation accuracy as good as a 16-point "
            f"grid (2 values of lr, init scale, width, weight decay): not worse by more than two standard errors")
    worst = {"the grid's best (worst seed)": float(best["grid"][16].min()),
             f"random {top}'s best (worst seed)": float(best["random"][top].min())}
    why = untrained(worst, chance=chance, margin=TRAINED_MARGIN, budget=budget)
    if why:
        return Claim("mnist-random-vs-grid", text, None, why)
    diff = best["random"][top] - best["grid"][16]
    noise = 2 * diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else 0.0
    return Claim("mnist-random-vs-grid", text, bool(diff.mean() >= -noise),
                 f"best accuracy random {top} minus grid 16: {diff.mean():+.4f} (two standard errors {noise:.4f}, "
                 f"{len(diff)} seeds)")


# -- the experiment -------------------------------------------------------------------

def rows(problem: str, best: dict[str, dict[int, np.ndarray]]) -> list[dict]:
    return [{"problem": problem, "method": method, "trials": b, "best_mean": float(v.mean()),
             "best_std": float(v.std())} for method, per in best.items() for b, v in per.items()]


def budget_figure(ctx: Context, best: dict[str, dict[int, np.ndarray]], name: str, ylabel: str) -> str:
    from trainlab.report.plots import plt

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    colors = {"grid": "C0", "grid-centered": "C2", "random": "C1"}
    for offset, (method, per) in zip((-0.12, 0.0, 0.12) if len(best) == 3 else (-0.08, 0.08), best.items()):
        budgets = sorted(per)
        ax.boxplot([per[b] for b in budgets], positions=[math.log2(b) + offset for b in budgets], widths=0.1,
                   patch_artist=True, boxprops={"facecolor": colors[method], "alpha": 0.6}, showfliers=False)
        ax.plot([math.log2(b) + offset for b in budgets], [per[b].mean() for b in budgets], "o-",
                color=colors[method], label=method, ms=3)
    ticks = sorted({b for per in best.values() for b in per})
    ax.set_xticks([math.log2(b) for b in ticks], [str(b) for b in ticks])
    ax.set(xlabel="trials (budget)", ylabel=ylabel)
    if name == "synthetic":
        ax.set_yscale("log")
    ax.legend()
    return save_figure(fig, ctx, f"budgets-{name}")


@register
class Bergstra2012(Experiment):
    name = "bergstra2012"
    title = "Random search for hyperparameter optimization (Bergstra & Bengio 2012)"
    source = PAPER["source"]
    summary = "Grid against random search at equal budgets, on a 7-D objective with 2 relevant axes and on MNIST."

    def run(self, ctx: Context) -> Result:
        budget = PROFILES[ctx.profile]
        synth = synthetic(budget["reps"], ctx.seed)
        wins = {(g, b): float((synth["random"][b] <= synth[g][128]).mean()) for g in GRID_LAYOUTS for b in (8, 16)}
        claims = [Claim("random-8-16-vs-grid-128",
                        "Random search with 8 to 16 trials matches or beats a grid of about 100 (here 128 = 2^7) "
                        "trials on the synthetic problem in at least 80% of repetitions",
                        min(wins["grid", 8], wins["grid", 16]) >= 0.8,
                        f"against the range-spanning grid (ends included): random 8 in {wins['grid', 8]:.0%}, "
                        f"random 16 in {wins['grid', 16]:.0%} of {budget['reps']} repetitions; against the kindest "
                        f"grid (cell centers): random 8 in {wins['grid-centered', 8]:.0%}, "
                        f"random 16 in {wins['grid-centered', 16]:.0%}")]
        equal = {b: float((synth["random"][b] <= synth["grid"][b]).mean()) for b in GRID_BUDGETS if b > 1}
        claims.append(Claim("random-beats-grid-at-equal-budget",
                            "From 4 trials up, at every equal budget random search does at least as well as "
                            "the grid in most repetitions (with 2 trials both try 2 values of one axis: a toss-up)",
                            all(v > 0.5 for b, v in equal.items() if b >= 4),
                            "random <= grid in: " + ", ".join(f"{b} trials {v:.0%}" for b, v in equal.items())))
        real_best, chance = real(ctx, budget)
        tables = {"budgets": rows("synthetic", synth) + rows("mnist-mlp", real_best)}
        claims.append(mnist_claim(real_best, chance=chance,
                                  budget=f"{budget['steps']} steps of 64 per trial, {budget['seeds']} seeds"))
        figures = {"Best synthetic objective per budget (lower is better), grid vs random":
                   budget_figure(ctx, synth, "synthetic", "best f(x) found"),
                   "Best MNIST validation accuracy per budget, grid vs random":
                   budget_figure(ctx, real_best, "mnist", "best validation accuracy")}
        return Result(self.name, ctx.profile, claims=claims, tables=tables, paper=PAPER, figures=figures,
                      budget=dict(budget), config={"dims": DIMS, "space": {k: list(v) for k, v in REAL_SPACE.items()}},
                      notes=["(a) 'grid' spans each axis with its ends (0 and 1), as np.linspace and "
                             "`trainlab search --sampler grid` do; 'grid-centered' uses the cell centers 0.25 and "
                             "0.75, the kindest 2-point grid, against which random search needs more trials.",
                             "(b) trains each seed's 16 grid trials and the random trials as populations grouped by "
                             "width; a diverged trial counts as accuracy 0."])

"""He et al. (2015), section 2.2 and Figures 2-3: Xavier's variance shrinks deep ReLU nets, He's keeps it.

Our network is an MLP with ``D`` hidden ReLU layers of width ``n`` and zero
biases: ``y_1 = W_1 x_0``, ``x_k = relu(y_k)``, ``y_{k+1} = W_{k+1} x_k``, up to
the output ``y_{D+1}``, so there are ``L = D + 1`` weight layers. Each
``W_k`` has i.i.d. zero-mean entries of variance ``c / n_{k-1}``: Xavier as He
et al. define it is ``c = 1`` (std ``sqrt(1/n)``, our ``lecun-normal``), He is
``c = 2`` (``he-normal``).

Forward (He et al., eq. 7-9), exactly in expectation over the weights:
``E[y_1^2] = c * mean(x_0^2)`` and, because ``y_{k-1}`` is symmetric about
zero, ``E[relu(y)^2] = E[y^2] / 2`` so ``E[y_k^2] = (c / 2) E[y_{k-1}^2]``.
Hence ``E[y_out^2] = c (c/2)^D mean(x_0^2)`` and the ratio of output RMS,
Xavier over He, is ``sqrt(2^-(D+1)) = 2^(-L/2)``. (He et al. quote
``2^(-(L-1)/2)``-type factors when the first layer, which sees no ReLU, is
initialized alike under both schemes; here every layer uses its scheme.)

Backward (eq. 11-14): for the gradient ``d_k`` of the loss with respect to
``y_k``, ``E[d_k^2] = (c/2) (n_{k+1} / n_k) E[d_{k+1}^2]``; with equal widths
the RMS ratio between hidden layer 1 and hidden layer ``D`` is ``2^(-(D-1)/2)``
for Xavier and ``1`` for He: Xavier's gradients vanish in the lower layers.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.errors import DataError
from trainlab.experiments.base import Claim, Context, Experiment, Result, register
from trainlab.experiments.he2015.figures import plot_curves, plot_init
from trainlab.threads import intra_op_threads
from trainlab.train import Callback, Trainer, make_model

SCHEMES = {"xavier": "lecun-normal", "he": "he-normal"}  # He et al.'s names -> trainlab init schemes
GAIN = {"xavier": 1.0, "he": 2.0}  # c in Var[w] = c / fan_in


@dataclass(frozen=True)
class HeBudget:
    """What one profile trains: two depths, one width, a fixed SGD-with-momentum budget."""

    deep: int  # hidden layers where Xavier is expected to stall
    moderate: int  # hidden layers where both are expected to train, He first
    width: int
    steps: int
    batch_size: int
    lr: float
    momentum: float
    init_seeds: int  # networks drawn per scheme for the statistics at initialization
    init_batch: int
    eval_every: int
    train_subset: int | None = None  # examples kept for training (None: all)


BUDGETS = {
    "smoke": HeBudget(deep=8, moderate=4, width=32, steps=40, batch_size=32, lr=0.005, momentum=0.9,
                      init_seeds=4, init_batch=64, eval_every=20, train_subset=2000),
    "quick": HeBudget(deep=30, moderate=22, width=128, steps=1000, batch_size=64, lr=0.005, momentum=0.9,
                      init_seeds=16, init_batch=256, eval_every=100),
    "full": HeBudget(deep=30, moderate=22, width=512, steps=6000, batch_size=128, lr=0.005, momentum=0.9,
                     init_seeds=32, init_batch=512, eval_every=250),
}

# Thresholds that turn curves into verdicts, stated in the claims.
STALL_FRACTION = 0.97  # "stalled": final training loss above 97% of the initial loss
TRAINED_FRACTION = 0.6  # "trains": final training loss below 60% of the initial loss
LOG2_TOLERANCE = 0.5  # a measured log2 ratio "matches" within +-0.5 (a factor sqrt 2) or 3 standard errors


# -- theory ------------------------------------------------------------------------

def predicted_output_ratio(hidden_layers: int) -> float:
    """Xavier/He ratio of output RMS at init for ``hidden_layers`` ReLU layers: ``2^(-(D+1)/2)``."""
    return 2.0 ** (-(hidden_layers + 1) / 2)


def predicted_backward_ratio(scheme: str, hidden_layers: int) -> float:
    """RMS of the gradient at hidden layer 1 over that at layer D, equal widths: ``(c/2)^((D-1)/2)``."""
    return (GAIN[scheme] / 2) ** ((hidden_layers - 1) / 2)


# -- measurements at initialization -----------------------------------------------

def layer_signals(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> tuple[list[float], list[float]]:
    """Mean squares of every Linear layer's output ``y_k`` and of the loss gradient with respect to it.

    Walks the Sequential's children by hand (no hooks), keeping each Linear
    output with ``retain_grad``; the loss is the mean cross-entropy of the batch.
    """
    outputs: list[torch.Tensor] = []
    h = x
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            h.retain_grad()
            outputs.append(h)
    nn.functional.cross_entropy(h, y).backward()
    forward = [float(o.detach().double().pow(2).mean()) for o in outputs]
    backward = [float(o.grad.double().pow(2).mean()) for o in outputs]
    model.zero_grad(set_to_none=True)
    return forward, backward


def init_statistics(config: TrainConfig, dataset: Dataset, budget: HeBudget) -> dict[str, Any]:
    """Per-layer mean squares at init, averaged over ``budget.init_seeds`` networks per scheme.

    The prediction is about expectations over the weights, so mean squares are
    averaged over networks before taking ratios; the spread over networks gives
    the standard error of each log2 ratio. The two schemes draw from disjoint
    seeds: with one seed a He network is exactly its Xavier twin times sqrt(2)
    per layer, and ReLU's homogeneity would make the ratio exact by construction.
    """
    x, y = dataset.val.x[:budget.init_batch], dataset.val.y[:budget.init_batch]
    per_scheme: dict[str, dict[str, list[list[float]]]] = {}
    for offset, (name, scheme) in enumerate(SCHEMES.items()):
        runs = {"forward": [], "backward": []}
        for k in range(budget.init_seeds):
            seed = config.seed + offset * budget.init_seeds + k
            model = make_model(config.replace(init=scheme, seed=seed), dataset)
            forward, backward = layer_signals(model, x, y)
            runs["forward"].append(forward)
            runs["backward"].append(backward)
        per_scheme[name] = runs
    return per_scheme


def mean_columns(rows: list[list[float]]) -> list[float]:
    return [statistics.fmean(column) for column in zip(*rows)]


def log2_ratio_with_se(numerators: list[float], denominators: list[float]) -> tuple[float, float]:
    """``log2(mean(num) / mean(den))`` and its standard error by the delta method (independent samples)."""
    se2 = 0.0
    for sample in (numerators, denominators):
        m = statistics.fmean(sample)
        if len(sample) > 1:
            se2 += (statistics.stdev(sample) / m) ** 2 / len(sample)
    return math.log2(statistics.fmean(numerators) / statistics.fmean(denominators)), math.sqrt(se2) / math.log(2)


def matches(measured: float, se: float, predicted: float) -> bool:
    return abs(measured - predicted) <= max(LOG2_TOLERANCE, 3 * se)


# -- training ----------------------------------------------------------------------

class Curves(Callback):
    """Training loss every step and validation error at every evaluation, in memory."""

    def __init__(self) -> None:
        self.loss: list[float] = []
        self.val_error: list[tuple[int, float]] = []

    def on_step_end(self, trainer: Trainer, step: int, loss: torch.Tensor) -> None:
        self.loss.append(float(loss.detach()))

    def on_eval(self, trainer: Trainer, step: int, metrics: dict[str, Any]) -> None:
        self.val_error.append((step, 1.0 - metrics["val_accuracy"]))


def smoothed(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def train_curve(config: TrainConfig, dataset: Dataset, progress: bool) -> dict[str, Any]:
    curves = Curves()
    trainer = Trainer(config, callbacks=[curves], progress=progress, dataset=dataset)
    result = trainer.fit()
    window = max(1, min(50, len(curves.loss) // 10))
    smooth = smoothed(curves.loss, window)
    return {"initial_loss": trainer.initial_loss, "loss": smooth, "val_error": curves.val_error,
            "status": result.status, "steps": result.steps,
            "final_loss": smooth[-1] if smooth else None,
            "test_error": None if result.test_accuracy is None else 1.0 - result.test_accuracy,
            "seconds": result.seconds}


def first_step_below(losses: list[float], level: float) -> int | None:
    return next((i + 1 for i, v in enumerate(losses) if v < level), None)


# -- data ----------------------------------------------------------------------------

def load_data(ctx: Context, budget: HeBudget) -> tuple[Dataset, str]:
    """MNIST standardized with the training mean and std (one scalar each); Shapeset if MNIST is absent."""
    from trainlab.data import load

    try:
        dataset, note = load("mnist", data_dir=ctx.data_dir), "MNIST (50,000 / 10,000 / 10,000)"
    except DataError as exc:
        dataset = load("shapeset", data_dir=ctx.data_dir, seed=ctx.seed, epoch_size=10_000,
                       val_size=2_000, test_size=2_000)
        note = f"Shapeset-3x2 (MNIST not found: {exc})"
    train = dataset.train.epoch(0)
    if budget.train_subset:
        train = train.subset(budget.train_subset)
    mean, std = float(train.x.mean()), float(train.x.std())

    def standardize(split: Split) -> Split:
        return Split((split.x - mean) / std, split.y)

    return replace(dataset, train=standardize(train), val=standardize(dataset.val),
                   test=standardize(dataset.test)), note


# -- the experiment ------------------------------------------------------------------

@register
class He2015(Experiment):
    name = "he2015"
    title = "He et al. (2015): Xavier versus He initialization in deep ReLU networks"
    source = ("K. He, X. Zhang, S. Ren and J. Sun (2015), \"Delving Deep into Rectifiers: Surpassing "
              "Human-Level Performance on ImageNet Classification\", ICCV, section 2.2 and Figures 2-3")
    summary = ("Deep ReLU MLPs with Xavier (std sqrt(1/n)) and He (std sqrt(2/n)) weights: output scale at "
               "initialization against the closed-form prediction, and training curves at two depths.")

    def run(self, ctx: Context) -> Result:
        with intra_op_threads(1):
            return self._run(ctx)

    def _run(self, ctx: Context) -> Result:
        budget = BUDGETS[ctx.profile]
        dataset, data_note = load_data(ctx, budget)
        base = TrainConfig(dataset=dataset.name, data_dir=ctx.data_dir, model="mlp", width=budget.width,
                           activation="relu", optimizer="momentum", lr=budget.lr, momentum=budget.momentum,
                           batch_size=budget.batch_size, steps=budget.steps, seed=ctx.seed,
                           eval_every=budget.eval_every, log_every=min(50, budget.steps))
        result = Result(experiment=self.name, profile=ctx.profile, config=base.to_dict())
        result.budget = {**asdict(budget), "dataset": data_note,
                         "trained networks": f"2 schemes x 2 depths, seed {ctx.seed}",
                         "threads": "1 intra-op thread (small matrix products)"}

        deep_cfg = base.replace(depth=budget.deep)
        init = init_statistics(deep_cfg, dataset, budget)
        result.tables["init_layers"] = init_rows(init, budget.deep)
        forward_claim, output_row = output_ratio_claim(init, budget.deep)
        result.tables["output_ratio"] = [output_row]
        backward_claim, backward_rows = backward_claim_from(init, budget.deep)
        result.tables["backward_ratio"] = backward_rows

        curves = {(depth, name): train_curve(base.replace(depth=depth, init=scheme), dataset, ctx.progress)
                  for depth in (budget.deep, budget.moderate) for name, scheme in SCHEMES.items()}
        result.tables["training"] = training_rows(curves, budget)
        result.claims = [forward_claim, backward_claim, deep_claim(curves, budget), moderate_claim(curves, budget)]
        result.figures = {
            "Per-layer RMS of the pre-activations y_k at initialization (mean square over "
            f"{budget.init_seeds} networks), with the closed-form prediction (dashed)":
                plot_init(ctx, init, "forward", budget.deep),
            "Per-layer RMS of the back-propagated gradient dLoss/dy_k at initialization":
                plot_init(ctx, init, "backward", budget.deep),
            f"Training loss and validation error, {budget.deep} and {budget.moderate} hidden ReLU layers "
            "(He et al., Figures 2-3)": plot_curves(ctx, curves, budget),
        }
        result.paper = {"claims": {
            "output_ratio": "Xavier's output std is 2^(-(L-1)/2)-type smaller than He's after L layers (section 2.2)",
            "22_layers": "both converge; He starts reducing the error earlier (Figure 2)",
            "30_layers": "He converges; Xavier completely stalls, with diminishing gradients (Figure 3)",
        }, "note": "He et al. trained convolutional nets on ImageNet; we use MLPs, so only the qualitative "
                    "findings and the closed-form scale are comparable, not error rates."}
        result.notes = [
            f"Data: {data_note}; inputs standardized by one scalar mean and std of the training set.",
            "Xavier here is He et al.'s definition, std sqrt(1/fan_in) (trainlab 'lecun-normal'); He is "
            "std sqrt(2/fan_in) ('he-normal'); biases zero; SGD with momentum at one fixed learning rate for all.",
            "The statistics at initialization use disjoint seeds per scheme, so the measured ratio tests the "
            "variance argument. The trained pairs share a seed: each He network is its Xavier twin with every "
            "weight times sqrt(2), so the curves differ only by the initial scale.",
            f"'Stalled' means the final training loss (moving average) is above {STALL_FRACTION:.0%} of the "
            f"initial loss; 'trains' means below {TRAINED_FRACTION:.0%} of it, within {budget.steps} steps.",
            "Whether Xavier eventually escapes depends on the learning rate and the number of steps; the "
            "verdicts are for this budget only.",
        ]
        return result


def init_rows(init: dict[str, Any], depth: int) -> list[dict[str, Any]]:
    rows = []
    for name in SCHEMES:
        forward, backward = mean_columns(init[name]["forward"]), mean_columns(init[name]["backward"])
        for k, (f, b) in enumerate(zip(forward, backward), start=1):
            rows.append({"init": name, "layer": k, "kind": "output" if k == depth + 1 else "hidden",
                         "forward_rms": math.sqrt(f), "backprop_grad_rms": math.sqrt(b)})
    return rows


def output_ratio_claim(init: dict[str, Any], depth: int) -> tuple[Claim, dict[str, Any]]:
    xavier = [run[-1] for run in init["xavier"]["forward"]]
    he = [run[-1] for run in init["he"]["forward"]]
    log2_ms, se_ms = log2_ratio_with_se(xavier, he)
    measured, se = log2_ms / 2, se_ms / 2  # RMS = sqrt(mean square)
    predicted = math.log2(predicted_output_ratio(depth))
    holds = matches(measured, se, predicted)
    row = {"hidden_layers": depth, "weight_layers": depth + 1, "measured_log2_ratio": measured,
           "standard_error": se, "predicted_log2_ratio": predicted, "measured_ratio": 2 ** measured,
           "predicted_ratio": 2 ** predicted}
    claim = Claim(
        "output-ratio",
        f"At initialization the output RMS of a {depth}-hidden-layer ReLU MLP under Xavier is 2^(-L/2) "
        f"= 2^({predicted:g}) times that under He (L = {depth + 1} weight layers)",
        holds,
        f"measured log2 ratio {measured:.2f} +- {se:.2f} (standard error over networks) against predicted "
        f"{predicted:.2f}; matches means within max({LOG2_TOLERANCE}, 3 SE)",
    )
    return claim, row


def backward_claim_from(init: dict[str, Any], depth: int) -> tuple[Claim, list[dict[str, Any]]]:
    rows, verdicts = [], []
    for name in SCHEMES:
        bottom = [run[0] for run in init[name]["backward"]]
        top = [run[depth - 1] for run in init[name]["backward"]]
        log2_ms, se_ms = log2_ratio_with_se(bottom, top)
        measured, se = log2_ms / 2, se_ms / 2
        predicted = math.log2(predicted_backward_ratio(name, depth))
        verdicts.append(matches(measured, se, predicted))
        rows.append({"init": name, "measured_log2_ratio": measured, "standard_error": se,
                     "predicted_log2_ratio": predicted, "measured_ratio": 2 ** measured})
    xavier, he = rows
    evidence = "; ".join(f"{r['init']}: log2(RMS layer 1 / RMS layer {depth}) = {r['measured_log2_ratio']:.2f} "
                         f"+- {r['standard_error']:.2f}, predicted {r['predicted_log2_ratio']:.2f}" for r in rows)
    holds = all(verdicts) and xavier["measured_log2_ratio"] < he["measured_log2_ratio"] - 1
    claim = Claim(
        "vanishing-backward",
        f"At initialization Xavier's back-propagated gradients shrink towards the lower layers by "
        f"2^(-(D-1)/2) = 2^({xavier['predicted_log2_ratio']:g}) from layer {depth} to layer 1, "
        "while He's stay constant",
        holds, evidence)
    return claim, rows


def training_rows(curves: dict[tuple[int, str], dict[str, Any]], budget: HeBudget) -> list[dict[str, Any]]:
    rows = []
    for (depth, name), c in curves.items():
        level = TRAINED_FRACTION * c["initial_loss"]
        rows.append({"hidden_layers": depth, "init": name, "status": c["status"], "steps": c["steps"],
                     "initial_loss": c["initial_loss"], "final_train_loss": c["final_loss"],
                     "final_over_initial": c["final_loss"] / c["initial_loss"] if c["final_loss"] else None,
                     "steps_to_60pct_loss": first_step_below(c["loss"], level),
                     "final_val_error": c["val_error"][-1][1] if c["val_error"] else None,
                     "test_error": c["test_error"], "seconds": c["seconds"]})
    return rows


def _fraction(c: dict[str, Any]) -> float:
    return c["final_loss"] / c["initial_loss"] if c["status"] == "completed" and c["final_loss"] else math.inf


def deep_claim(curves: dict[tuple[int, str], dict[str, Any]], budget: HeBudget) -> Claim:
    """He trains and Xavier stalls; undecided when neither trained and He did not diverge, since Xavier's
    stall then cannot be told from a budget too small for both."""
    he, xavier = _fraction(curves[budget.deep, "he"]), _fraction(curves[budget.deep, "xavier"])
    text = f"With {budget.deep} hidden layers He trains while Xavier stalls (He et al., Figure 3)"
    evidence = (f"final/initial training loss after {budget.steps} steps: He {he:.3f} (trains if < "
                f"{TRAINED_FRACTION}), Xavier {xavier:.3f} (stalled if > {STALL_FRACTION})")
    if min(he, xavier) >= TRAINED_FRACTION and curves[budget.deep, "he"]["status"] == "completed":
        return Claim("deep-xavier-stalls", text, None,
                     "not testable at this budget: He did not train either; a budget at which He trains "
                     "(more steps) decides it; " + evidence)
    return Claim("deep-xavier-stalls", text, he < TRAINED_FRACTION and xavier > STALL_FRACTION, evidence)


def moderate_claim(curves: dict[tuple[int, str], dict[str, Any]], budget: HeBudget) -> Claim:
    """Both reach 60% of their initial loss, He first. A net that diverged did not train (measured: the claim
    does not hold); one that neither diverged nor reached the level leaves the claim undecided at this budget."""
    d = budget.moderate
    level = {name: TRAINED_FRACTION * curves[d, name]["initial_loss"] for name in SCHEMES}
    step = {name: first_step_below(curves[d, name]["loss"], level[name]) if curves[d, name]["status"] == "completed"
            else None for name in SCHEMES}
    text = f"With {d} hidden layers both train, but He reduces the loss earlier (He et al., Figure 2)"
    evidence = (f"first step with the smoothed training loss below {TRAINED_FRACTION:.0%} of the initial loss: "
                f"He {step['he']}, Xavier {step['xavier']} (None: not within {budget.steps} steps)")
    diverged = [name for name in SCHEMES if curves[d, name]["status"] == "diverged"]
    slow = [name for name in SCHEMES if step[name] is None and name not in diverged]
    if diverged:
        return Claim("moderate-both-train", text, False, f"{' and '.join(diverged)} diverged; " + evidence)
    if slow:
        return Claim("moderate-both-train", text, None,
                     f"not testable at this budget: {' and '.join(slow)} did not train within {budget.steps} "
                     f"steps; a budget at which both train (more steps) decides it; " + evidence)
    return Claim("moderate-both-train", text, step["he"] < step["xavier"], evidence)

"""Batch normalization permits much higher learning rates and cares less about the
initial weight scale (Ioffe & Szegedy 2015, section 3.3).

The argument: with BN, ``BN((aW) u) = BN(W u)``, so scaling a layer's weights by
``a`` changes neither its output nor the gradient reaching the layer below, and
large weights get *smaller* gradients (``d/d(aW) = 1/a d/dW``); a large learning
rate can therefore not blow activations up layer after layer. We test it on
MNIST with a 3 x 100 ReLU MLP (He-normal weights times an init scale, SGD on
minibatches of 60): a learning-rate x init-scale grid, with and without BN before
each ReLU, recording for each cell whether training diverged (the trainer's
rule: a non-finite loss or a windowed loss above 3x the initial one), trained
(validation accuracy at least 0.9) or stalled.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from trainlab.config import TrainConfig
from trainlab.data import load
from trainlab.experiments.base import Claim, Context, Experiment, Result, register, save_figure
from trainlab.threads import intra_op_threads
from trainlab.train import Trainer

TRAINED = 0.9  # validation accuracy that counts as "trains"


@dataclass(frozen=True)
class Budget:
    steps: int
    lrs: tuple[float, ...]
    scales: tuple[float, ...]
    val_examples: int


BUDGETS = {
    "smoke": Budget(30, (0.1, 3.0), (1.0, 4.0), 500),
    "quick": Budget(400, (0.01, 0.03, 0.1, 0.3, 1.0, 3.0), (0.25, 1.0, 4.0), 2000),
    "full": Budget(3000, (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0), (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0), 10000),
}


def config(lr: float, scale: float, bn: bool, steps: int, seed: int) -> TrainConfig:
    return TrainConfig(dataset="mnist", depth=3, width=100, activation="relu", init="he-normal", init_scale=scale,
                       batch_norm="before" if bn else "none", optimizer="sgd", lr=lr, batch_size=60, steps=steps,
                       seed=seed, log_every=10, eval_every=steps, checkpoint_every=10**9)


def outcome(status: str, accuracy: float | None) -> str:
    if status == "diverged" or accuracy is None or not math.isfinite(accuracy):
        return "diverged"
    return "trained" if accuracy >= TRAINED else "stalled"


def claims(rows: list[dict], budget: Budget) -> list[Claim]:
    """Section 3.3's statements from the grid; each is about which cells train, so none is decided on a grid
    where no cell trained (a budget too short says nothing about what trains)."""

    def cells(bn: bool, **match) -> list[dict]:
        return [r for r in rows if r["bn"] == bn and all(r[k] == v for k, v in match.items())]

    def max_lr(bn: bool) -> float | None:
        lrs = [r["lr"] for r in cells(bn, init_scale=1.0, outcome="trained")]
        return max(lrs) if lrs else None

    def spread(bn: bool) -> float:
        """Mean over learning rates of the accuracy range across init scales (diverged = 0.1, chance)."""
        ranges = []
        for lr in budget.lrs:
            accs = [r["val_accuracy"] if r["outcome"] != "diverged" else 0.1 for r in cells(bn, lr=lr)]
            ranges.append(max(accs) - min(accs))
        return sum(ranges) / len(ranges)

    lr_bn, lr_base = max_lr(True), max_lr(False)
    div = {bn: len(cells(bn, outcome="diverged")) for bn in (False, True)}
    trained = {bn: len(cells(bn, outcome="trained")) for bn in (False, True)}
    n = len(cells(True))

    def short(where: str) -> str:
        """Why a claim about what trains is undecided: "trained" is measured, and nothing in ``where`` did."""
        return (f"not testable at this budget: no cell {where} reached validation accuracy {TRAINED} within "
                f"{budget.steps} steps; a budget at which some do (more steps) decides it; ")

    higher: bool | None = lr_bn is not None and (lr_base is None or lr_bn > lr_base)
    higher_evidence = f"largest lr reaching validation accuracy >= {TRAINED}: {lr_bn} with BN, {lr_base} without"
    if 1.0 not in budget.scales:
        higher = None
    elif lr_bn is None and lr_base is None:
        higher, higher_evidence = None, short("at init scale 1, with or without BN,") + higher_evidence
    counts = (f"diverged {div[True]}/{n} with BN vs {div[False]}/{n} without; trained {trained[True]}/{n} vs "
              f"{trained[False]}/{n}")
    less: bool | None = div[True] < div[False] and trained[True] > trained[False]
    ranges = f"mean range {spread(True):.3f} with BN vs {spread(False):.3f} without"
    steadier: bool | None = spread(True) < spread(False)
    if not any(trained.values()):
        if div[True] < div[False]:  # the divergence half holds; whether BN trains in more is not measured
            less, counts = None, short("of either grid") + counts
        steadier, ranges = None, short("of either grid") + ranges
    return [
        Claim("bn-allows-higher-learning-rates",
              "At the standard init scale (1), the largest learning rate that trains is higher with BN.",
              higher, higher_evidence),
        Claim("bn-diverges-less", "Over the whole grid, BN diverges in fewer cells and trains in more.", less, counts),
        Claim("bn-less-sensitive-to-init-scale",
              "BN is less sensitive to the initial weight scale: the validation accuracy varies less across "
              "init scales (mean over learning rates of max - min, a diverged run counting as chance, 0.1).",
              steadier, ranges),
    ]


@register
class BNLearningRates(Experiment):
    name = "bn-learning-rates"
    title = "Batch normalization allows higher learning rates and tolerates the init scale"
    source = ("S. Ioffe and C. Szegedy, Batch Normalization: Accelerating Deep Network Training by Reducing "
              "Internal Covariate Shift, ICML 2015, section 3.3")
    summary = "learning rate x init scale grid on MNIST, 3x100 ReLU MLP, with and without BN: trains or diverges"

    def run(self, ctx: Context) -> Result:
        budget = BUDGETS[ctx.profile]
        dataset = load("mnist", data_dir=ctx.data_dir)
        # One pass over as many training images as the runs use, and fewer validation images.
        dataset = dataclasses.replace(dataset, train=dataset.train.subset(min(len(dataset.train), budget.steps * 60)),
                                      val=dataset.val.subset(budget.val_examples))
        rows = []
        with intra_op_threads(1):
            for bn in (False, True):
                for scale in budget.scales:
                    for lr in budget.lrs:
                        result = Trainer(config(lr, scale, bn, budget.steps, ctx.seed), dataset=dataset,
                                         progress=False).fit()
                        acc = result.val_accuracy if result.status == "completed" else None
                        rows.append({"bn": bn, "lr": lr, "init_scale": scale, "status": result.status,
                                     "outcome": outcome(result.status, acc), "val_accuracy": acc,
                                     "steps": result.steps, "final_train_loss": result.train_loss})
        return Result(
            experiment=self.name, profile=ctx.profile, claims=claims(rows, budget), tables={"grid": rows},
            paper={"claims": ["section 3.3: BN enables higher learning rates; back-propagation through a layer is "
                              "unaffected by the scale of its parameters, and larger weights get smaller gradients",
                              "section 4.2.1: the Inception network with BN trains with a 5x and 30x larger "
                              "learning rate (BN-x5, BN-x30) and reaches the baseline's accuracy in 14 times "
                              "fewer steps (BN-x5)"]},
            figures=figure(rows, budget, ctx),
            budget={"steps_per_run": budget.steps, "runs": len(rows), "learning_rates": list(budget.lrs),
                    "init_scales": list(budget.scales), "val_examples": budget.val_examples,
                    "full_profile": f"{len(BUDGETS['full'].lrs) * len(BUDGETS['full'].scales) * 2} runs of "
                                    f"{BUDGETS['full'].steps} steps; roughly 10-20 minutes on 2 CPU cores"},
            notes=["MNIST, 784-100-100-100-10 ReLU MLP, He-normal weights times the init scale, zero biases, plain "
                   "SGD, minibatch 60; BN (when on) before each ReLU with the preceding bias dropped.",
                   f"Outcome: diverged (the trainer stopped it: non-finite or windowed loss > 3x initial), trained "
                   f"(validation accuracy >= {TRAINED} on {budget.val_examples} validation images), else stalled.",
                   "Divergence is recorded, never raised."],
            config={"example": config(1.0, 1.0, True, budget.steps, ctx.seed).to_dict()},
        )


def figure(rows: list[dict], budget: Budget, ctx: Context) -> dict[str, str]:
    import numpy as np

    from trainlab.report.plots import plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, bn in zip(axes, (False, True)):
        grid = np.full((len(budget.scales), len(budget.lrs)), np.nan)
        for r in rows:
            if r["bn"] == bn and r["outcome"] != "diverged":
                grid[budget.scales.index(r["init_scale"]), budget.lrs.index(r["lr"])] = r["val_accuracy"]
        image = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="viridis", origin="lower", aspect="auto")
        for r in rows:
            if r["bn"] == bn:
                i, j = budget.scales.index(r["init_scale"]), budget.lrs.index(r["lr"])
                if r["outcome"] == "diverged":
                    text, color = "div", "red"
                else:
                    text, color = f"{r['val_accuracy']:.2f}", "black" if r["val_accuracy"] > 0.6 else "white"
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
        ax.set_xticks(range(len(budget.lrs)), [f"{lr:g}" for lr in budget.lrs])
        ax.set_yticks(range(len(budget.scales)), [f"{s:g}" for s in budget.scales])
        ax.set(xlabel="learning rate", ylabel="init scale", title="with BN" if bn else "without BN")
    fig.colorbar(image, ax=axes, label="validation accuracy")
    return {"Validation accuracy over the learning-rate x init-scale grid ('div': diverged)":
            save_figure(fig, ctx, "grid")}

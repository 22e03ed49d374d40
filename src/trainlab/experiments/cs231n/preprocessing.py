"""What data preprocessing does to one MLP on CIFAR-10 (the CS231n notes on preprocessing).

The same 3072-200-200-10 ReLU MLP (He-normal weights, SGD with momentum 0.9,
minibatch 100) is trained for a fixed number of steps on CIFAR-10 pixels in
[0, 1] after: nothing, mean subtraction, standardization, PCA whitening, ZCA
whitening, and PCA whitening *without* mean subtraction (the pitfall). Each
preprocessing gets the best of a small learning-rate grid, since input scale
changes the right step size. Every transform is fitted on the training split only.

The pitfall, measured on the fitted transforms: without centring the
"covariance" is the raw second moment, whose top eigenvector is nearly the mean
image, and the first whitened feature becomes an almost constant offset instead
of a unit-variance, zero-mean direction.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from trainlab.config import TrainConfig
from trainlab.data import Dataset, Split, load
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
from trainlab.preprocess import MeanSubtraction, PCAWhitening, Pipeline, Standardize, ZCAWhitening, transform_dataset
from trainlab.threads import intra_op_threads
from trainlab.train import Callback, Trainer

EPS = 0.01  # whitening regularizer for pixels in [0, 1]; the tail eigenvalues are ~1e-5
BATCH = 100
TRAINED_MARGIN = 0.1
"""A run has trained when its validation accuracy is at least this far above chance (10 points; quick runs reach
29-42% against 13% chance, the commonest class of the subset's 400 validation images, so any margin between 3 and
16 points tells them apart)."""


@dataclass(frozen=True)
class Budget:
    steps: int
    evaluations: int
    lrs: tuple[float, ...]
    pool: int = 1  # average-pool images by this factor first (smoke: 8x8 images, a cheap eigendecomposition)


BUDGETS = {"smoke": Budget(20, 2, (0.01,), pool=4), "quick": Budget(500, 10, (0.01,)),
           "full": Budget(5000, 50, (0.001, 0.003, 0.01, 0.03))}
ORDER = ("none", "mean", "standardize", "pca-white", "zca", "pca-white-uncentred")


def fit_transforms(x: torch.Tensor) -> tuple[dict[str, Pipeline], list[str]]:
    """Every preprocessing, fitted on training images ``x``, and the warnings the uncentred fit
    raised; PCA and ZCA whitening share one eigendecomposition (they have the same learned state)."""
    zca = ZCAWhitening(eps=EPS).fit(x)
    pca = PCAWhitening(eps=EPS).load_state_dict(zca.state_dict())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uncentred = PCAWhitening(eps=EPS, center=False).fit(x)
    fitted = {
        "none": Pipeline([], ()),
        "mean": Pipeline([MeanSubtraction().fit(x)], ("mean",)),
        "standardize": Pipeline([Standardize().fit(x)], ("std",)),
        "pca-white": Pipeline([pca], (f"pca-white:eps={EPS}",)),
        "zca": Pipeline([zca], (f"zca:{EPS}",)),
        "pca-white-uncentred": Pipeline([uncentred], (f"pca-white:eps={EPS}:center=no",)),
    }
    return fitted, [str(w.message) for w in caught]


def pitfall(x: torch.Tensor, fitted: dict[str, Pipeline]) -> dict[str, float]:
    """Numbers that show what skipping mean subtraction does to PCA whitening."""
    mean = x.reshape(len(x), -1).double().mean(0)
    out = {}
    for name in ("pca-white", "pca-white-uncentred"):
        step = fitted[name].steps[0]
        z = fitted[name].transform(x).double()
        first = step.components_[0]
        out[f"{name}:cos_first_component_mean"] = float((first @ mean).abs() / mean.norm())
        out[f"{name}:first_feature_mean"] = float(z[:, 0].mean())
        out[f"{name}:first_feature_var"] = float(z[:, 0].var())
        out[f"{name}:max_abs_feature_mean"] = float(z.mean(0).abs().max())
    return out


def closeness(x: torch.Tensor, fitted: dict[str, Pipeline]) -> dict[str, float]:
    """Mean squared distance between centred inputs and their whitened versions."""
    centred = (x - x.mean(0)).reshape(len(x), -1).double()
    return {name: float((fitted[name].transform(x).reshape(len(x), -1).double() - centred).square().sum(1).mean())
            for name in ("pca-white", "zca")}


def pooled(dataset: Dataset, factor: int) -> Dataset:
    """``dataset`` with its images average-pooled by ``factor`` (1: unchanged)."""
    if factor == 1:
        return dataset

    def pool(split: Split) -> Split:
        return Split(F.avg_pool2d(split.x, factor), split.y)

    c, h, w = dataset.input_shape
    return dataclasses.replace(dataset, train=pool(dataset.train), val=pool(dataset.val), test=pool(dataset.test),
                               input_shape=(c, h // factor, w // factor))


class Curve(Callback):
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def on_eval(self, trainer: Trainer, step: int, metrics: dict) -> None:
        self.rows.append({"step": step, "val_accuracy": metrics["val_accuracy"]})


def config(lr: float, steps: int, seed: int, every: int) -> TrainConfig:
    return TrainConfig(dataset="cifar10", depth=2, width=200, activation="relu", init="he-normal",
                       optimizer="momentum", lr=lr, batch_size=BATCH, steps=steps, seed=seed, eval_every=every,
                       log_every=min(every, 50), checkpoint_every=10**9)


def claims(final: dict[str, dict], pit: dict[str, float], near: dict[str, float], *, chance: float = 0.1,
           budget: str = "") -> list[Claim]:
    """The notes' statements; the two that compare accuracies are decided only between runs that trained."""
    acc = {name: r["val_accuracy"] for name, r in final.items()}

    def compared(claim_id: str, text: str, a: str, b: str, evidence: str) -> Claim:
        why = untrained({a: acc[a], b: acc[b]}, chance=chance, margin=TRAINED_MARGIN, budget=budget)
        if why:
            return Claim(claim_id, text, None, why)
        return Claim(claim_id, text, acc[a] >= acc[b], evidence.format(a=acc[a], b=acc[b]))

    return [
        compared("centring-helps", "Zero-centring (mean subtraction) reaches at least the validation accuracy of "
                 "raw pixels after the same budget.", "mean", "none",
                 "validation accuracy: mean subtraction {a:.3f}, raw {b:.3f}"),
        Claim("uncentred-pca-first-component-is-the-mean",
              "PCA without mean subtraction spends its first component on the mean image (|cos| > 0.9), and the "
              "first whitened feature is then a near-constant offset (|mean| > 0.5, variance < 0.5) instead of a "
              "zero-mean, unit-variance direction.",
              pit["pca-white-uncentred:cos_first_component_mean"] > 0.9
              and abs(pit["pca-white-uncentred:first_feature_mean"]) > 0.5
              and pit["pca-white-uncentred:first_feature_var"] < 0.5,
              f"|cos(first component, mean)| {pit['pca-white-uncentred:cos_first_component_mean']:.3f} uncentred vs "
              f"{pit['pca-white:cos_first_component_mean']:.3f} centred; first feature mean "
              f"{pit['pca-white-uncentred:first_feature_mean']:+.3f}, variance "
              f"{pit['pca-white-uncentred:first_feature_var']:.3f} (centred: "
              f"{pit['pca-white:first_feature_mean']:+.3f}, {pit['pca-white:first_feature_var']:.3f})"),
        compared("uncentred-pca-trains-no-better",
                 "PCA whitening without mean subtraction trains no better than with it.", "pca-white",
                 "pca-white-uncentred", "validation accuracy: uncentred {b:.3f}, centred {a:.3f}"),
        Claim("zca-closest-to-input", "ZCA-whitened images stay closer to the (centred) input than PCA-whitened "
              "ones (mean squared distance).", near["zca"] < near["pca-white"],
              f"mean squared distance: ZCA {near['zca']:.1f}, PCA whitening {near['pca-white']:.1f}"),
    ]


@register
class PreprocessingEffects(Experiment):
    name = "preprocessing-effects"
    title = "Data preprocessing for an MLP on CIFAR-10: centring, scaling, PCA and ZCA whitening"
    source = "CS231n (Stanford) course notes, Setting up the data and the model: data preprocessing"
    summary = "one MLP on CIFAR-10 after none/mean/std/PCA-whitening/ZCA-whitening; the uncentred-PCA pitfall"

    def run(self, ctx: Context) -> Result:
        budget = BUDGETS[ctx.profile]
        raw = pooled(load("cifar10", data_dir=ctx.data_dir), budget.pool)
        x = raw.train.x
        every = max(budget.steps // budget.evaluations, 1)
        runs, curves = [], []
        with intra_op_threads(1):
            fitted, warned = fit_transforms(x)
            pit, near = pitfall(x, fitted), closeness(x, fitted)
            for name in ORDER:
                data = transform_dataset(raw, fitted[name])
                for lr in budget.lrs:
                    curve = Curve()
                    result = Trainer(config(lr, budget.steps, ctx.seed, every), dataset=data, callbacks=[curve],
                                     progress=False).fit()
                    runs.append({"preprocess": name, "lr": lr, "status": result.status,
                                 "val_accuracy": result.val_accuracy, "test_accuracy": result.test_accuracy,
                                 "train_loss": result.train_loss})
                    curves += [{"preprocess": name, "lr": lr, **row} for row in curve.rows]
        final = {name: max((r for r in runs if r["preprocess"] == name),
                           key=lambda r: r["val_accuracy"] if r["val_accuracy"] is not None else -1.0)
                 for name in ORDER}
        return Result(
            experiment=self.name, profile=ctx.profile,
            claims=claims(final, pit, near, chance=chance_accuracy(raw.val.y),
                          budget=f"{budget.steps} steps of {BATCH} per run, best of lr {list(budget.lrs)}"),
            tables={"best": [{"preprocess": n, **{k: v for k, v in final[n].items() if k != "preprocess"}}
                             for n in ORDER],
                    "runs": runs, "curves": curves,
                    "pitfall": [{"measure": k, "value": v} for k, v in pit.items()],
                    "distance_to_input": [{"whitening": k, "mean_squared_distance": v} for k, v in near.items()]},
            paper={"notes": ["zero-centring is the most common form of preprocessing; normalization matters when "
                             "features have different scales (for images pixels share a range, so it is not "
                             "strictly necessary)",
                             "PCA/whitening: first centre the data; whitening can exaggerate noise in directions "
                             "of tiny variance, which a larger smoothing constant mitigates",
                             "these transforms are mentioned for completeness but are not used with "
                             "convolutional networks; centring (and per-pixel normalization) is"],
                   "numbers": "the notes give no accuracy numbers for this comparison"},
            figures=figures(curves, final, ctx, budget),
            budget={"steps_per_run": budget.steps, "batch_size": BATCH, "learning_rates": list(budget.lrs),
                    "runs": len(runs), "train_examples": len(x), "whitening_eps": EPS,
                    "full_profile": f"{BUDGETS['full'].steps} steps x {len(BUDGETS['full'].lrs)} learning rates x "
                                    f"{len(ORDER)} preprocessings; about 30 minutes on 2 CPU cores on the subset"},
            notes=[f"CIFAR-10 {raw.notes.get('variant', '')}; pixels scaled to [0, 1] by the loader"
                   + (f"; images average-pooled {budget.pool}x (smoke budget)." if budget.pool > 1 else "."),
                   "Each preprocessing's row in 'best' is its best learning rate by validation accuracy (the quick "
                   "profile tries one, 0.01, the best of {0.002, 0.01} for every preprocessing in a trial run).",
                   "Compare train_loss with val_accuracy in 'best': whitening amplifies the low-variance directions "
                   "(noise, with eps this small), which an MLP can use to memorize a small training set.",
                   f"Whitening uses eps = {EPS}; PCA whitening keeps all 3,072 components.",
                   "Warning raised by the uncentred fit: "
                   + ("; ".join(warned) or "none")],
            config={"example": config(budget.lrs[0], budget.steps, ctx.seed, every).to_dict(),
                    "preprocess": {n: list(fitted[n].names) for n in ORDER}},
        )


def figures(curves: list[dict], final: dict[str, dict], ctx: Context, budget: Budget) -> dict[str, str]:
    from trainlab.report.plots import plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name in ORDER:
        rows = [r for r in curves if r["preprocess"] == name and r["lr"] == final[name]["lr"]]
        left.plot([r["step"] for r in rows], [r["val_accuracy"] for r in rows],
                  label=f"{name} (lr {final[name]['lr']:g})")
    left.set(xlabel="training step", ylabel="validation accuracy", title="best learning rate per preprocessing")
    left.legend(fontsize=8)
    values = [final[n]["val_accuracy"] or 0.0 for n in ORDER]
    right.barh(range(len(ORDER)), values, color=["C%d" % i for i in range(len(ORDER))])
    right.set_yticks(range(len(ORDER)), ORDER)
    right.set(xlabel=f"validation accuracy after {budget.steps} steps", xlim=(0, max(values) * 1.15 or 1))
    for i, v in enumerate(values):
        right.text(v, i, f" {v:.3f}", va="center", fontsize=8)
    return {"Validation accuracy during training and at the end, for each preprocessing":
            save_figure(fig, ctx, "accuracy")}

"""Checks 9 and 11: the learning rate. lr-range owns the verdict "your learning rate is too high".

``lr-range`` is the learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training
Neural Networks", section 3.3): a copy trains for ``budget.sweep_steps`` with the learning rate growing
exponentially from ``LR_MIN`` = 1e-6 to ``LR_MAX`` = 10, with the user's optimizer (SGD if none is
given). The loss is smoothed (exponential moving average, beta = ``BETA`` = 0.9, bias-corrected); the
sweep stops when the smoothed loss exceeds ``EXPLODE`` = 4 times its minimum or is NaN. The suggested
learning rate is the one at the minimum of the smoothed loss divided by 10. The curve is *flat* when
the smoothed loss never falls ``MIN_DROP`` = 10% below its start, nor below the loss at chance (ln C for
softmax, C - 1 for the SVM) where that is lower (every rate too low, or no learning; a loss that only falls
from an inflated start to chance has learned nothing: added after the benchmark's third run),
*unreliable* when it is flat or the minimum sits in the last 10% of the range (no explosion seen).

With the user's learning rate it also trains a copy at that rate for ``budget.trial_steps``: a NaN loss
or a last loss above ``DIVERGE`` = 3 times the first (the trainer's divergence rule) -> fail. A rate
above the sweep's explosion point without divergence in the trial -> warn; a rate more than
``TOO_LOW`` = 100 times below the suggestion (unless the sweep was flat) -> warn. Otherwise it passes, with
the sweep's caveat when the sweep was unreliable: that weakens the suggestion, not your rate, which
its trial judged. Without a learning rate an unreliable sweep warns, since the suggestion is then the
finding. (Until the benchmark's third run an unreliable sweep warned in both cases.) With SGD's momentum at
:data:`~trainlab.doctor.patient.HEAVY_MOMENTUM` or more, the two "too high" findings name the optimizer
setting first (the recipe check's rule, added with it).

``update-ratio`` (CS231n, "babysitting the learning process"): during ``budget.ratio_steps`` steps at
the user's learning rate (else lr-range's suggestion), the ratio ``||W_after - W_before|| / ||W_before||``
per weight tensor and step, median over steps. About 1e-3 is healthy; a tensor outside
``[RATIO_LOW, RATIO_HIGH]`` = [1e-4, 1e-2] -> warn. A rule of thumb, so it never fails.
"""
from __future__ import annotations

import dataclasses
import math

import torch

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.fit import fit, make_optimizer, weight_tensors
from trainlab.doctor.patient import Patient, Recipe, heavy_momentum
from trainlab.losses import expected_initial_loss

LR_MIN, LR_MAX = 1e-6, 10.0
BETA = 0.9
EXPLODE = 4.0
MIN_DROP = 0.10
DIVERGE = 3.0
TOO_LOW = 100.0
RATIO_LOW, RATIO_HIGH = 1e-4, 1e-2


def sweep(p: Patient, base: Recipe) -> dict[str, object]:
    """The range test: learning rates, raw and smoothed losses, the explosion point and the suggestion."""
    steps = p.budget.sweep_steps
    lrs = [LR_MIN * (LR_MAX / LR_MIN) ** (k / max(steps - 1, 1)) for k in range(steps)]
    recipe = dataclasses.replace(base, lr=lrs[0])
    record: dict[str, list[float]] = {"lr": [], "loss": [], "smooth": []}
    avg, best = 0.0, math.inf
    model = p.copy()
    optimizer = make_optimizer(model, recipe)

    def set_lr(step: int, _m: torch.nn.Module) -> None:
        for group in optimizer.param_groups:
            group["lr"] = lrs[step]

    def watch(step: int, _m: torch.nn.Module, loss: torch.Tensor) -> bool:
        nonlocal avg, best
        value = float(loss)
        avg = BETA * avg + (1 - BETA) * value
        smooth = avg / (1 - BETA ** (step + 1))
        record["lr"].append(lrs[step])
        record["loss"].append(value)
        record["smooth"].append(smooth)
        best = min(best, smooth)
        return smooth > EXPLODE * best

    run = fit(model, p.loss_fn, p.batches(steps, "lr-range"), recipe, before_step=set_lr, after_step=watch,
              optimizer=optimizer)
    smooth = record["smooth"]
    if run.diverged:
        explode_lr: float | None = lrs[run.steps - 1]
    elif smooth and smooth[-1] > EXPLODE * best:
        explode_lr = lrs[len(smooth) - 1]
    else:
        explode_lr = None
    exploded = explode_lr is not None
    finite = [(s, i) for i, s in enumerate(smooth) if math.isfinite(s)]
    low, at = min(finite) if finite else (math.nan, 0)
    start = smooth[0] if smooth else math.nan
    chance = expected_initial_loss(p.loss_name, p.num_classes) if p.loss_name else math.inf
    flat = not (low < (1 - MIN_DROP) * min(start, chance))  # falling to chance from an inflated start is no learning
    at_edge = not exploded and at >= 0.9 * steps
    return {"lr": record["lr"], "loss": record["loss"], "smooth": smooth, "explode_lr": explode_lr,
            "min_lr": lrs[at], "suggested_lr": lrs[at] / 10, "flat": flat, "unreliable": flat or at_edge,
            "start_loss": start, "min_loss": low, "optimizer": base.optimizer}


def trial(p: Patient, recipe: Recipe) -> dict[str, object]:
    """A short run at the user's own learning rate: does the loss blow up?"""
    run = fit(p.copy(), p.loss_fn, p.batches(p.budget.trial_steps, "lr-trial"), recipe)
    losses = run.losses
    tail = sum(losses[-3:]) / len(losses[-3:])
    diverged = run.diverged or not math.isfinite(tail) or tail > DIVERGE * losses[0]
    return {"losses": losses, "diverged": diverged, "steps": run.steps, "first": losses[0], "last": losses[-1]}


@register("lr-range", "Learning-rate range test")
def check_lr_range(p: Patient) -> Verdict:
    s = sweep(p, p.recipe or Recipe(optimizer="sgd"))
    optimizer = s["optimizer"]
    p.findings["suggested_lr"] = s["suggested_lr"]
    numbers: dict[str, object] = {"sweep": s}
    explode = f", explodes above {fmt(s['explode_lr'])}" if s["explode_lr"] else ", no explosion up to 10"
    said = (f"{optimizer} sweep {fmt(LR_MIN)}..{fmt(LR_MAX)}: smoothed loss {fmt(s['start_loss'])} -> min "
            f"{fmt(s['min_loss'])} at lr {fmt(s['min_lr'])}{explode}; suggested lr {fmt(s['suggested_lr'])}")
    caveat = ""
    if s["flat"]:
        caveat = (" The loss hardly moved over the whole sweep, so the suggestion is unreliable: check "
                  "overfit-tiny and gradient-flow first.")
    elif s["unreliable"]:
        caveat = " The loss was still falling at the end of the sweep, so the suggestion may be too low."
    if p.recipe is None:
        return Verdict("warn" if s["unreliable"] else "pass", said, numbers,
                       f"Start from --lr {fmt(s['suggested_lr'])} with --optimizer {optimizer}." + caveat)
    lr = p.recipe.lr
    t = trial(p, p.recipe)
    numbers.update(user_lr=lr, trial=t)
    said += f"; your lr {fmt(lr)}: loss {fmt(t['first'])} -> {fmt(t['last'])} in {t['steps']} steps"
    fix = f"Use --lr {fmt(s['suggested_lr'])} (the range test's suggestion) or lower."
    heavy = heavy_momentum(p.recipe)  # then the momentum, not the rate, is the likelier setting to change
    if heavy is not None:
        fix = f"{heavy}: lower it to 0.9, or " + fix[0].lower() + fix[1:]
    if t["diverged"]:
        return Verdict("fail", said + " (diverged: your learning rate is too high)", numbers, fix + caveat,
                       ("bad-optimizer-settings", "lr-too-high") if heavy else ("lr-too-high",))
    if s["explode_lr"] and lr >= s["explode_lr"]:
        return Verdict("warn", said + f" (above the sweep's explosion point {fmt(s['explode_lr'])})", numbers,
                       fix + caveat, ("bad-optimizer-settings", "lr-too-high") if heavy else
                       ("lr-too-high", "bad-optimizer-settings"))
    if lr * TOO_LOW < s["suggested_lr"] and not s["flat"]:
        return Verdict("warn", said + f" (over {fmt(TOO_LOW)}x below the suggestion: too low, training will crawl)",
                       numbers, f"Try --lr {fmt(s['suggested_lr'])}.", ("lr-too-low", "bad-optimizer-settings"))
    # Your rate was judged by its own trial; an unreliable sweep only weakens the suggestion (said in the caveat).
    return Verdict("pass", said, numbers, caveat.strip())


@register("update-ratio", "Update-to-weight ratio per layer (about 1e-3)")
def check_update_ratio(p: Patient) -> Verdict:
    if p.recipe is not None:
        recipe, source = p.recipe, "your"
    elif "suggested_lr" in p.findings:
        recipe, source = Recipe(optimizer="sgd", lr=float(p.findings["suggested_lr"])), "the suggested"
    else:
        return Verdict("skipped", "no learning rate to judge", advice="Pass lr=... to examine (or run lr-range first).")
    model = p.copy()
    weights = weight_tensors(model)
    if not weights:
        return Verdict("skipped", "the model has no weight tensors")
    before: dict[str, torch.Tensor] = {}
    ratios: dict[str, list[float]] = {name: [] for name, _ in weights}

    def snapshot(_step: int, _m: torch.nn.Module) -> None:
        for name, w in weights:
            before[name] = w.detach().clone()

    def record(_step: int, _m: torch.nn.Module, _loss: torch.Tensor) -> None:
        for name, w in weights:
            norm = float(before[name].norm())
            ratios[name].append(float((w.detach() - before[name]).norm()) / norm if norm > 0 else math.nan)

    run = fit(model, p.loss_fn, p.batches(p.budget.ratio_steps, "update-ratio"), recipe,
              before_step=snapshot, after_step=record)
    median = {name: _median(values) for name, values in ratios.items()}
    numbers = {"lr": recipe.lr, "optimizer": recipe.optimizer, "steps": run.steps, "diverged": run.diverged,
               "median_ratio": median}
    listed = ", ".join(f"{name} {fmt(r)}" for name, r in median.items())
    said = f"{source} lr {fmt(recipe.lr)} ({recipe.optimizer}), {run.steps} steps: {listed}"
    if run.diverged:
        return Verdict("warn", said + "; the run diverged", numbers, "Lower the learning rate (see lr-range).",
                       ("lr-too-high",))
    high = [n for n, r in median.items() if r > RATIO_HIGH]
    low = [n for n, r in median.items() if r < RATIO_LOW]
    still = [n for n, r in median.items() if math.isnan(r)]
    if high:
        return Verdict("warn", said + f"; above {fmt(RATIO_HIGH)}: {', '.join(high)}", numbers,
                       "Updates are large against the weights: the learning rate is probably too high "
                       "(lower --lr; see lr-range).", ("lr-too-high",))
    if low:
        return Verdict("warn", said + f"; below {fmt(RATIO_LOW)}: {', '.join(low)}", numbers,
                       "Updates are tiny against the weights: the learning rate is probably too low (raise "
                       "--lr; see lr-range), or gradients vanish before these layers (see gradient-flow).",
                       ("lr-too-low", "vanishing-gradient"))
    if still:
        return Verdict("warn", said + f"; weights of zero norm: {', '.join(still)}", numbers,
                       "These weights are all zero: initialize them randomly (see init-health).", ("bad-init-zeros",))
    return Verdict("pass", said, numbers)


def _median(values: list[float]) -> float:
    finite = sorted(v for v in values if not math.isnan(v))
    return finite[len(finite) // 2] if finite else math.nan

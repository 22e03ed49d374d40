"""Checks 10 and 12: regularization, and what a short run says about fitting.

``regularization`` (CS231n, "sanity checks": increasing the regularization strength should increase
the loss). The objective is ``data loss + 0.5 * lambda * sum ||W||^2`` over the weight tensors. For
lambda in ``LAMBDAS`` = (0, 1e-3, 1e-2, 1e-1):

* at initialization the objective must rise strictly with lambda; it does not when there is no
  weight for the penalty to act on (all weights zero) -> warn;
* after ``budget.regularization_steps`` steps of Adam (1e-3) at each lambda, the data loss on the
  training examples must rise from lambda = 0 to lambda = 0.1 by at least ``MIN_RISE`` = 1% and the
  weight norm must fall; otherwise -> warn (the penalty does not reach the weights that matter, or the
  network is invariant to the weights' scale, e.g. batch norm after every layer). This is only asked
  when the run at lambda = 0 fit something, its data loss ``MIN_FIT`` = 10% or more below the loss at
  initialization: otherwise there is nothing for weight decay to undo (added after the benchmark's
  third run, where Adam at 1e-3 could not fit two small healthy problems in that budget);
* with the user's weight decay, the penalty above ``MAX_SHARE`` = 50% of the objective at
  initialization -> warn: the regularization dominates the data loss.

It fails only when the objective is NaN/Inf or falls as lambda rises: the penalty itself is broken.

``generalization-gap``: a copy trains for ``budget.train_steps`` minibatch steps of Adam (1e-3); then
training and validation accuracy on up to ``budget.eval_examples`` examples each. With ``chance`` the
validation frequency of the most common class and ``lift = (acc - chance) / (1 - chance)``:

* validation lift below ``MIN_LIFT`` = 0.05 -> fail: nothing learned transfers (labels not matching
  inputs, e.g. shuffled; or no learning at all);
* train - validation accuracy above ``MAX_GAP`` = 0.10 while the validation loss rose over the run's
  second half (by more than ``MIN_VAL_RISE`` = 1% from its value at the midpoint) -> warn, overfitting.
  A gap alone is how a large network looks early on a small training set; overfitting is the point
  past which more training makes validation worse (the early-stopping criterion, Prechelt 1998). The
  second condition was added on 2026-12-04, after the benchmark's sixth run, where 7 of 31 healthy
  setups (ResNet, VGG, MobileNet-style CNNs on small training sets) got the gap warning;
* training lift below ``UNDERFIT_LIFT`` = 0.3 -> warn, underfitting.
"""
from __future__ import annotations

import math

import torch

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.fit import fit, l2_penalty, measure, weight_tensors
from trainlab.doctor.patient import DOCTOR_RECIPE, Patient, Recipe

LAMBDAS = (0.0, 1e-3, 1e-2, 1e-1)
MIN_RISE = 0.01
MIN_FIT = 0.10
MAX_SHARE = 0.5
MIN_LIFT = 0.05
MAX_GAP = 0.10
MIN_VAL_RISE = 0.01
UNDERFIT_LIFT = 0.3


@register("regularization", "The loss rises with weight decay")
def check_regularization(p: Patient) -> Verdict:
    if not weight_tensors(p.model):
        return Verdict("skipped", "the model has no weight tensors (parameters with 2+ dimensions) to regularize")
    x, y = p.sample(p.budget.eval_examples, "regularization")
    model = p.copy()
    data_loss, _ = measure(model, p.loss_fn, x, y)
    penalty = float(l2_penalty(model).detach())
    at_init = [data_loss + lam * penalty for lam in LAMBDAS]
    rows = []
    for lam in LAMBDAS:
        model = p.copy()
        fit(model, p.loss_fn, p.batches(p.budget.regularization_steps, "regularization"),
            Recipe(optimizer=DOCTOR_RECIPE.optimizer, lr=DOCTOR_RECIPE.lr, weight_decay=lam))
        loss, _ = measure(model, p.loss_fn, x, y)
        rows.append({"lambda": lam, "objective_at_init": at_init[len(rows)], "data_loss_after": loss,
                     "weight_norm_after": math.sqrt(2 * float(l2_penalty(model).detach()))})
    numbers: dict[str, object] = {"rows": rows, "penalty_at_init": penalty, "steps": p.budget.regularization_steps}
    first, last = rows[0], rows[-1]
    said = (f"objective at init {fmt(at_init[0])} -> {fmt(at_init[-1])} for lambda 0 -> {fmt(LAMBDAS[-1])}; after "
            f"{p.budget.regularization_steps} steps data loss {fmt(first['data_loss_after'])} -> "
            f"{fmt(last['data_loss_after'])}, weight norm {fmt(first['weight_norm_after'])} -> "
            f"{fmt(last['weight_norm_after'])}")
    if not all(math.isfinite(v) for v in at_init) or any(b < a for a, b in zip(at_init, at_init[1:])):
        return Verdict("fail", said + "; the objective does not rise with lambda", numbers,
                       "The L2 penalty is broken (NaN/Inf weights?): check the weights are finite.",
                       ("numeric-instability",))
    if penalty == 0:
        return Verdict("warn", said + "; every weight is zero, so weight decay has nothing to act on", numbers,
                       "Initialize the weights randomly (see init-health).", ("bad-init-zeros",))
    rise = last["data_loss_after"] / first["data_loss_after"] - 1 if first["data_loss_after"] > 0 else math.inf
    fitted = first["data_loss_after"] < (1 - MIN_FIT) * data_loss
    numbers.update(data_loss_rise=rise, fitted=fitted)
    if not fitted:
        said += (f"; unregularized, the short run fit too little (data loss {fmt(data_loss)} at init) for weight "
                 "decay to show")
    elif not (rise >= MIN_RISE and last["weight_norm_after"] < first["weight_norm_after"]):
        return Verdict("warn", said + f"; the trained data loss rose {fmt(rise * 100)}% (want >= {MIN_RISE:.0%})",
                       numbers, "Weight decay barely changes what the network fits: check that the weights that "
                                "matter are nn.Parameters of the model, or whether normalization makes the network "
                                "invariant to their scale (then weight decay only changes the effective learning "
                                "rate).")
    if p.recipe is not None and p.recipe.weight_decay:
        share = p.recipe.weight_decay * penalty / (data_loss + p.recipe.weight_decay * penalty)
        numbers.update(user_weight_decay=p.recipe.weight_decay, penalty_share=share)
        if share > MAX_SHARE:
            return Verdict("warn", said + f"; at your weight decay {fmt(p.recipe.weight_decay)} the penalty is "
                                          f"{share:.0%} of the loss at init", numbers,
                           "The regularization dominates the data loss: lower --weight-decay.",
                           ("too-much-regularization",))
    return Verdict("pass", said, numbers)


@register("generalization-gap", "Train/validation gap after a short run")
def check_generalization_gap(p: Patient) -> Verdict:
    model = p.copy()
    val = p.holdout()
    val_x, val_y = val.x.to(p.device), val.y.to(p.device)
    midpoint: list[float] = []

    def at_midpoint(step: int, m: torch.nn.Module, _loss: torch.Tensor) -> None:
        if step + 1 == p.budget.train_steps // 2:
            midpoint.append(measure(m, p.loss_fn, val_x, val_y)[0])

    run = fit(model, p.loss_fn, p.batches(p.budget.train_steps, "generalization"), DOCTOR_RECIPE,
              after_step=at_midpoint)
    if run.diverged:
        return Verdict("warn", f"the short run diverged at step {run.steps}", {"steps": run.steps},
                       "Even Adam at 1e-3 diverges: check the data and the initialization first.",
                       ("numeric-instability", "exploding-gradient"))
    x, y = p.sample(p.budget.eval_examples, "generalization")
    train_loss, train_acc = measure(model, p.loss_fn, x, y)
    val_loss, val_acc = measure(model, p.loss_fn, val_x, val_y)
    mid_loss = midpoint[0] if midpoint else None
    rising = mid_loss is not None and math.isfinite(mid_loss) and val_loss > (1 + MIN_VAL_RISE) * mid_loss
    counts = torch.bincount(val.y[(val.y >= 0) & (val.y < p.num_classes)], minlength=p.num_classes)
    chance = float(counts.max()) / max(len(val), 1)
    lift = (val_acc - chance) / (1 - chance) if chance < 1 else 0.0
    train_lift = (train_acc - chance) / (1 - chance) if chance < 1 else 0.0
    gap = train_acc - val_acc
    numbers = {"steps": run.steps, "train_loss": train_loss, "train_accuracy": train_acc, "val_loss": val_loss,
               "val_accuracy": val_acc, "chance": chance, "val_lift": lift, "train_lift": train_lift, "gap": gap,
               "val_loss_at_midpoint": mid_loss, "val_loss_rising": rising}
    said = (f"after {run.steps} steps: train accuracy {train_acc:.1%}, validation {val_acc:.1%} (chance {chance:.1%}), "
            f"gap {gap * 100:+.1f} points; loss {fmt(train_loss)} vs {fmt(val_loss)}"
            + (f" (validation {fmt(mid_loss)} at step {p.budget.train_steps // 2})" if mid_loss is not None else ""))
    if lift < MIN_LIFT:
        return Verdict("fail", said + "; validation accuracy is at chance", numbers,
                       "Nothing the network learns transfers to new examples: check that the labels belong to their "
                       "inputs (shuffled or misaligned labels?) and that validation data are preprocessed like "
                       "training data; if training accuracy is also at chance, see overfit-tiny.",
                       ("wrong-labels", "overfitting") if train_lift >= UNDERFIT_LIFT
                       else ("input-ignored", "too-little-capacity"))
    if gap > MAX_GAP and rising:
        return Verdict("warn", said + f"; overfitting (gap above {MAX_GAP * 100:.0f} points and the validation loss "
                       "rising)", numbers,
                       "Regularize (--weight-decay, dropout, data augmentation), get more data, "
                       "or use a smaller model.", ("overfitting", "wrong-labels"))
    if train_lift < UNDERFIT_LIFT:
        return Verdict("warn", said + "; underfitting (training accuracy low)", numbers,
                       "Add capacity (--width, --depth), train longer, or tune the learning rate (see lr-range).",
                       ("too-little-capacity", "lr-too-low"))
    if gap > MAX_GAP:
        said += "; the gap is wide but the validation loss is still falling: not overfitting yet"
    return Verdict("pass", said, numbers)

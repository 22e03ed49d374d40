"""Checks 7 and 8: can the network learn from its inputs at all? (Karpathy, "A recipe for training
neural networks": "input-indep. baseline" and "overfit one batch".)

Both train copies with :data:`~trainlab.doctor.patient.DOCTOR_RECIPE` (Adam, 1e-3) so that a bad
learning rate does not masquerade as a bug (lr-range judges the user's learning rate); where the
inputs help too little under it and the user gave a recipe, the baseline is run again with the
user's, and the better of the two is judged (a model that one recipe fits has not ignored its input).

``input-independent-baseline``: two copies train for ``budget.baseline_steps`` on the same
``budget.baseline_examples`` examples in the same order, one on the real inputs and one on all-zero
inputs, and are measured on what they trained on. The gain ``1 - loss_real / loss_zeros`` must be at
least ``MIN_GAIN`` = 0.1 (warn below) and at least ``FAIL_GAIN`` = 0.02 (fail below: the network
ignores its input).

``overfit-tiny``: ``budget.overfit_examples`` (20) examples, regularization off (no weight decay,
dropout off), full batch, at most ``budget.overfit_steps`` steps. Pass when training accuracy reaches
100% and the loss falls below ``NEAR_ZERO`` = 5% of the expected initial loss (of the measured one
for a custom loss); 100% accuracy with a higher loss -> warn; anything less -> fail (a bug, or far too
little capacity). Parameters that never moved are listed: they point at the bug.
"""
from __future__ import annotations

import math

import torch

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.fit import fit, measure
from trainlab.doctor.patient import DOCTOR_RECIPE, Patient, Recipe
from trainlab.losses import expected_initial_loss

MIN_GAIN, FAIL_GAIN = 0.1, 0.02
NEAR_ZERO = 0.05
OVERFIT_EVERY = 10  # steps between measurements of the tiny set


@register("input-independent-baseline", "Real inputs beat all-zero inputs")
def check_baseline(p: Patient) -> Verdict:
    x, y = p.sample(p.budget.baseline_examples, "baseline")
    numbers = _baseline(p, x, y, DOCTOR_RECIPE)
    if numbers["gain"] < MIN_GAIN and p.recipe is not None and p.recipe != DOCTOR_RECIPE:
        # The question is whether the model can use its inputs at all: a recipe that cannot fit this model in
        # the budget (Adam at 1e-3 on XOR, say) does not show that it cannot; the user's own recipe may.
        yours = _baseline(p, x, y, p.recipe)
        if yours["gain"] > numbers["gain"]:
            numbers = {**yours, "doctor_recipe_gain": numbers["gain"]}
    gain, real_loss, zero_loss = numbers["gain"], numbers["real_loss"], numbers["zeros_loss"]
    said = (f"after {p.budget.baseline_steps} steps ({numbers['recipe']}): loss {fmt(real_loss)} on real inputs vs "
            f"{fmt(zero_loss)} on zeros (gain {fmt(gain)}); accuracy {numbers['real_accuracy']:.1%} vs "
            f"{numbers['zeros_accuracy']:.1%}")
    if gain < FAIL_GAIN:
        return Verdict("fail", said + f"; fail below gain {FAIL_GAIN}", numbers,
                       "The network learns nothing from its inputs: check the inputs reach the model (not "
                       "zeroed, detached or overwritten), the initialization is not all zeros/constant "
                       "(see init-health) and the labels belong to the inputs.", ("input-ignored", "wrong-labels"))
    if gain < MIN_GAIN:
        return Verdict("warn", said + f"; warn below gain {MIN_GAIN}", numbers,
                       "The inputs help only a little: check preprocessing and that the labels match the inputs.",
                       ("input-ignored", "wrong-labels"))
    return Verdict("pass", said, numbers, rules_out=("input-ignored",))


def _baseline(p: Patient, x: torch.Tensor, y: torch.Tensor, recipe: Recipe) -> dict[str, object]:
    measured = {}
    for name, inputs in (("real", x), ("zeros", torch.zeros_like(x))):
        model = p.copy()
        run = fit(model, p.loss_fn, p.batches(p.budget.baseline_steps, "baseline", data=(inputs, y)), recipe)
        measured[name] = (float("nan"), 0.0) if run.diverged else measure(model, p.loss_fn, inputs, y)
    (real_loss, real_acc), (zero_loss, zero_acc) = measured["real"], measured["zeros"]
    gain = (zero_loss - real_loss) / zero_loss if zero_loss > 0 else 0.0
    gain = gain if math.isfinite(gain) else float("-inf")  # a diverged real-input run gains nothing
    return {"real_loss": real_loss, "zeros_loss": zero_loss, "real_accuracy": real_acc, "zeros_accuracy": zero_acc,
            "gain": gain, "steps": p.budget.baseline_steps, "examples": len(y),
            "recipe": f"{recipe.optimizer} lr {fmt(recipe.lr)}"}


@register("overfit-tiny", "Overfit 20 examples to zero loss")
def check_overfit_tiny(p: Patient) -> Verdict:
    x, y = p.sample(p.budget.overfit_examples, "overfit-tiny")
    model = p.copy()
    start = {name: t.detach().clone() for name, t in model.named_parameters()}
    start_loss, _ = measure(model, p.loss_fn, x, y)
    reference = expected_initial_loss(p.loss_name, p.num_classes) if p.loss_name else start_loss
    target = NEAR_ZERO * reference
    state = {"loss": start_loss, "acc": 0.0, "steps": 0}

    def done(step: int, m: torch.nn.Module, _loss: torch.Tensor) -> bool:
        state["steps"] = step + 1
        if (step + 1) % OVERFIT_EVERY and step + 1 < p.budget.overfit_steps:
            return False
        state["loss"], state["acc"] = measure(m, p.loss_fn, x, y)
        return state["acc"] == 1.0 and state["loss"] < target

    run = fit(model, p.loss_fn, _repeat(x, y, p.budget.overfit_steps), DOCTOR_RECIPE, after_step=done, regularize=False)
    if run.diverged:
        state["loss"], state["acc"] = float("nan"), 0.0
    frozen = [name for name, t in model.named_parameters() if torch.equal(t.detach(), start[name])]
    numbers = {"examples": len(y), "steps": state["steps"], "loss": state["loss"], "accuracy": state["acc"],
               "target_loss": target, "initial_loss": start_loss, "unchanged_parameters": frozen}
    said = (f"{len(y)} examples, {state['steps']} steps: loss {fmt(start_loss)} -> {fmt(state['loss'])} "
            f"(target < {fmt(target)}), training accuracy {state['acc']:.0%}")
    if frozen:
        said += f"; parameters that never changed: {', '.join(frozen[:5])}" + (" ..." if len(frozen) > 5 else "")
    if state["acc"] < 1.0:
        return Verdict("fail", said, numbers,
                       "A network that cannot memorize 20 examples has a bug or far too little capacity: check "
                       "that labels match inputs, the loss is computed on the model's scores, gradients reach "
                       "every layer (unchanged parameters above, gradient-flow) and the initialization is "
                       "random, not zeros (init-health).",
                       ("detached-gradient", "too-little-capacity") if frozen else ("too-little-capacity",))
    if state["loss"] >= target:
        return Verdict("warn", said, numbers,
                       "Accuracy reached 100% but the loss is still high: the scores grow slowly (a very small "
                       "last layer, or heavy normalization, or a softmax before the loss); a longer run should get "
                       "there unless the scores are bounded.", ("double-softmax", "loss-output-mismatch"))
    return Verdict("pass", said, numbers)


def _repeat(x: torch.Tensor, y: torch.Tensor, steps: int):
    for _ in range(steps):
        yield x, y

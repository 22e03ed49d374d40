"""The user's recipe as the patient: does the model train the way its user trains it?

A copy trains for ``budget.recipe_steps`` with the user's recipe (optimizer, learning rate,
momentum, weight decay, batch size), and a second copy on the same batches with the doctor's
reference recipe (:data:`~trainlab.doctor.patient.DOCTOR_RECIPE`, Adam at 1e-3). The model, the
loss and the data are the same, so when the reference trains and the user's recipe does not, the
fault is in the recipe. This catches what a 30-step trial cannot: a rate too high that kills the
network without diverging, one 100x too low, an optimizer given another optimizer's rate.

*Progress* is judged two ways after each run: the validation accuracy's *lift* over chance (the
commonest class of the held-out examples), ``(accuracy - chance) / (1 - chance)``, and the fall of
the data loss (no penalty term), ``1 - end / start``, on the same training examples.

* The user's run *diverged* when its training loss became non-finite or the median of its last 10%
  of losses (at least 5: the *tail*) exceeds ``DIVERGE`` = 3 times its first, the loss before any
  update (the trainer's rule): fail.
* Otherwise, when the reference's lift is at least ``LEARNS`` = 0.2, the user's progress relative to
  the reference's, the lesser of the two ratios (lift, and fall of the loss), below ``FAIL_RATIO`` =
  0.25 fails and below ``WARN_RATIO`` = 0.6 warns. A loss that rose fails whatever the accuracy.

The finding's cause is read from the user's run: a weight-decay penalty above half the objective at
initialization -> too much regularization; a loss spike (a training loss above ``DIVERGE`` times the
first), an update ratio ``||dW|| / ||W||`` (median over the first 10% of steps, at least 5) above
1e-2, or a tail above ``ROSE`` = 1.5 times the run's lowest loss (a median over windows as long as the
tail: it went down and came back) -> the learning rate is too high; an update ratio below 1e-4 -> too low;
otherwise an optimizer setting, with a too-low rate as the next guess. An unstable run (diverged, spiked,
came back, or large updates) of SGD with momentum ``HEAVY_MOMENTUM`` = 0.99 or more names the optimizer
setting first: the momentum multiplies the rate's step by ``1 / (1 - momentum)`` (added after the blind set
``cases_blind1``, whose momentum 0.999 this check read as a rate too high).

A pass is direct evidence against some of the recipe's faults (``Verdict.rules_out``, see
:func:`trainlab.doctor.diagnosis.rule_out`): a run with no spike and no comeback of the loss rules out
a learning rate too high; one that made ``SAME`` = 0.9 of the reference's progress or more (or trained,
lift ``LEARNS`` or more, where the reference learned little) also rules out a rate too low, an
optimizer setting and too much weight decay, whose symptom is slower progress; a validation lift of
``CAPABLE`` = 0.3 or more rules out a model too small or blind to its inputs. When your recipe is the
reference it is trained alone; with nothing to compare, it rules out only what its own run can. These
rules were added after the benchmark's third run, whose healthy cases drew warnings from rules of thumb
that their own recipes contradicted.

The thresholds above were set from these definitions; the switch from loss to accuracy, to early
update ratios and the spike rule were made after trying the check on one benchmark case
(tdc-high-lr: SGD at 0.5 kills the network in six steps, with a loss spike to 8x its start; its loss
then sits at chance, below its inflated start, and its later updates are tiny),
before the whole benchmark was run with it.
"""
from __future__ import annotations

import math
import statistics

import torch

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.checks.rates import DIVERGE, RATIO_HIGH, RATIO_LOW
from trainlab.doctor.fit import Fit, fit, l2_penalty, measure, weight_tensors
from trainlab.doctor.patient import DOCTOR_RECIPE, Patient, Recipe, heavy_momentum

LEARNS = 0.2
FAIL_RATIO, WARN_RATIO = 0.25, 0.6
ROSE = 1.5
PENALTY_SHARE = 0.5
CAPABLE = 0.3  # a validation lift that rules out too little capacity (generalization-gap's UNDERFIT_LIFT)
SAME = 0.9  # progress relative to the reference's that counts as training as fast


def progress(losses: list[float]) -> tuple[float, float, float]:
    """``(first, tail, 1 - tail / first)`` of a run's training losses (see the module docstring)."""
    first = losses[0]
    tail = statistics.median(losses[-max(5, len(losses) // 10):])
    return first, tail, (1 - tail / first) if first > 0 and math.isfinite(tail) else -math.inf


def _chance(y: torch.Tensor) -> float:
    """The accuracy of always answering the commonest class of ``y``."""
    return float(torch.bincount(y[y >= 0]).max()) / max(len(y), 1)


def _lift(accuracy: float, chance: float) -> float:
    """How far above chance towards 100%: ``(accuracy - chance) / (1 - chance)``."""
    return (accuracy - chance) / (1 - chance) if chance < 1 else 0.0


def _gained(start: float, end: float) -> float:
    """``1 - end / start`` of the data loss on the same training examples (eval mode); -inf if not finite."""
    return 1 - end / start if start > 0 and math.isfinite(end) else -math.inf


def _train(p: Patient, recipe: Recipe, ratios: list[float] | None = None) -> tuple[Fit, torch.nn.Module]:
    model = p.copy()
    weights = weight_tensors(model)
    before: list[torch.Tensor] = []

    def snapshot(_step: int, _m: torch.nn.Module) -> None:
        before[:] = [w.detach().clone() for _, w in weights]

    def record(_step: int, _m: torch.nn.Module, _loss: torch.Tensor) -> None:
        change = math.sqrt(sum(float((w.detach() - b).pow(2).sum()) for (_, w), b in zip(weights, before)))
        norm = math.sqrt(sum(float(b.pow(2).sum()) for b in before))
        if norm > 0:
            ratios.append(change / norm)

    track = ratios is not None and bool(weights)
    run = fit(model, p.loss_fn, p.batches(p.budget.recipe_steps, "recipe"), recipe,
              before_step=snapshot if track else None, after_step=record if track else None)
    return run, model


@register("recipe", "Your recipe against the reference recipe, on the same model and batches")
def check_recipe(p: Patient) -> Verdict:
    if p.recipe is None:
        return Verdict("skipped", "no recipe given: pass lr=... (and optimizer=..., weight_decay=...) to judge yours")
    if p.recipe == DOCTOR_RECIPE:
        return _alone(p)
    ratios: list[float] = []
    xs, ys = p.sample(p.budget.eval_examples, "recipe")
    start, _ = measure(p.copy(), p.loss_fn, xs, ys)
    yours, model = _train(p, p.recipe, ratios)
    reference, ref_model = _train(p, DOCTOR_RECIPE)
    val = p.holdout()
    x, y = val.x.to(p.device), val.y.to(p.device)
    (_, acc), (_, ref_acc) = measure(model, p.loss_fn, x, y), measure(ref_model, p.loss_fn, x, y)
    first, tail, _ = progress(yours.losses)
    loss_down, ref_loss_down = (_gained(start, measure(m, p.loss_fn, xs, ys)[0]) for m in (model, ref_model))
    chance = _chance(y)
    own, ref = _lift(acc, chance), _lift(ref_acc, chance)
    early = ratios[:max(5, len(ratios) // 10)]  # the rate's first effect, before it may have killed the network
    ratio = statistics.median(early) if early else math.nan
    numbers = {"steps": p.budget.recipe_steps, "your_losses": yours.losses, "reference_losses": reference.losses,
               "your_lift": own, "reference_lift": ref, "your_val_accuracy": acc, "reference_val_accuracy": ref_acc,
               "chance_accuracy": chance, "your_loss_down": loss_down, "reference_loss_down": ref_loss_down,
               "early_update_ratio": ratio,
               "recipe": {"optimizer": p.recipe.optimizer, "lr": p.recipe.lr, "momentum": p.recipe.momentum,
                          "weight_decay": p.recipe.weight_decay}}
    name = f"{p.recipe.optimizer} lr {fmt(p.recipe.lr)}" + (f", weight decay {fmt(p.recipe.weight_decay)}"
                                                             if p.recipe.weight_decay else "")
    said = (f"{p.budget.recipe_steps} steps of yours ({name}): validation accuracy {acc:.1%} (chance "
            f"{chance:.1%}), data loss down {fmt(loss_down)} of its start; the reference ({DOCTOR_RECIPE.optimizer} "
            f"lr {fmt(DOCTOR_RECIPE.lr)}): {ref_acc:.1%}, loss down {fmt(ref_loss_down)}; your early update ratio "
            f"{fmt(ratio)}")
    if yours.diverged or not math.isfinite(tail) or tail > DIVERGE * first:
        at = len(yours.losses)
        causes, advice = _unstable_causes(p, "Lower the learning rate (see lr-range's suggestion), or clip the "
                                             "gradients.")
        return Verdict("fail", f"your recipe diverged (by step {at}): " + said, numbers, advice, causes)
    if ref < LEARNS:
        if own >= LEARNS:
            return Verdict("pass", said + f"; yours trains (lift over chance {fmt(own)}) where the reference learns "
                                          f"little (lift {fmt(ref)} < {LEARNS})", numbers,
                           rules_out=_trains(own, yours.losses, share=1.0))
        return Verdict("pass", said + f"; the reference learns little either (lift over chance {fmt(ref)} < "
                                      f"{LEARNS}): the recipe is not what stops this model", numbers)
    by_loss = max(loss_down, 0.0) / ref_loss_down if ref_loss_down > 0 else math.inf
    share = min(max(own, 0.0) / ref, by_loss)
    numbers.update(lift_ratio=max(own, 0.0) / ref, loss_ratio=by_loss, progress_ratio=share)
    said += (f"; yours made {fmt(share)} of the reference's progress (the lesser of its lift over chance and its "
             f"fall of the loss, relative to the reference's)")
    if share >= WARN_RATIO:
        return Verdict("pass", said, numbers, rules_out=_trains(own, yours.losses, share))
    status = "fail" if share < FAIL_RATIO else "warn"
    causes, advice = _why(p, start, yours, ratio)
    return Verdict(status, said, numbers, advice, causes)


def _trains(lift: float, losses: list[float], share: float | None) -> tuple[str, ...]:
    """What a recipe that trains rules out (see the module docstring); ``share`` is its progress relative to the
    reference's, None when there is no reference to compare with."""
    out: tuple[str, ...] = () if _unstable(losses) else ("lr-too-high",)
    if share is not None and share >= SAME:
        out += ("lr-too-low", "bad-optimizer-settings", "too-much-regularization")
    return out + (("too-little-capacity", "input-ignored") if lift >= CAPABLE else ())


def _unstable(losses: list[float]) -> bool:
    """A loss spike (above ``DIVERGE`` times the first) or a tail above ``ROSE`` times the run's lowest window."""
    window = max(5, len(losses) // 10)  # as the tail's: one lucky batch is not a lower loss
    if len(losses) < window:
        return False
    low = min(statistics.median(losses[i:i + window]) for i in range(0, len(losses) - window + 1))
    _, tail, _ = progress(losses)
    return max(losses) > DIVERGE * losses[0] or tail > ROSE * low


def _alone(p: Patient) -> Verdict:
    """Your recipe is the reference: nothing to compare, but whether it trains is still direct evidence."""
    run, model = _train(p, DOCTOR_RECIPE)
    val = p.holdout()
    y = val.y.to(p.device)
    _, acc = measure(model, p.loss_fn, val.x.to(p.device), y)
    chance = _chance(y)
    lift = _lift(acc, chance)
    numbers = {"steps": p.budget.recipe_steps, "your_losses": run.losses, "your_val_accuracy": acc,
               "chance_accuracy": chance, "your_lift": lift}
    said = (f"your recipe is the reference ({DOCTOR_RECIPE.optimizer} lr {fmt(DOCTOR_RECIPE.lr)}): nothing to compare; "
            f"in {p.budget.recipe_steps} steps it reaches validation accuracy {acc:.1%} (chance {chance:.1%})")
    if run.diverged or lift < LEARNS:
        return Verdict("skipped", said, numbers)
    return Verdict("pass", said, numbers, rules_out=_trains(lift, run.losses, share=None))


def _unstable_causes(p: Patient, advice: str) -> tuple[tuple[str, ...], str]:
    """The causes of an unstable run, likeliest first: the learning rate, unless the momentum multiplies it."""
    heavy = heavy_momentum(p.recipe)
    if heavy is None:
        return ("lr-too-high", "bad-optimizer-settings"), advice
    return ("bad-optimizer-settings", "lr-too-high"), f"{heavy}: lower it to 0.9 (or the learning rate as much)."


def _why(p: Patient, start: float, run: Fit, ratio: float) -> tuple[tuple[str, ...], str]:
    """The cause a recipe that trains worse than the reference points at, read from its own run."""
    if p.recipe.weight_decay:
        penalty = p.recipe.weight_decay * float(l2_penalty(p.copy()).detach())
        share = penalty / (penalty + start) if penalty + start > 0 else 0.0
        if share > PENALTY_SHARE:
            return (("too-much-regularization", "lr-too-low"),
                    f"The weight-decay penalty is {share:.0%} of your objective at initialization: lower "
                    "--weight-decay.")
    if _unstable(run.losses) or (math.isfinite(ratio) and ratio > RATIO_HIGH):
        return _unstable_causes(p, "Your loss spiked or came back up, or your updates are large: lower the "
                                   "learning rate to lr-range's suggestion.")
    if math.isfinite(ratio) and ratio < RATIO_LOW:
        return (("lr-too-low", "bad-optimizer-settings"),
                "Your updates are tiny against the weights: raise the learning rate to lr-range's suggestion.")
    return (("bad-optimizer-settings", "lr-too-low"),
            "Your updates are of a usual size but do not reduce the loss: check the optimizer's settings (momentum, "
            "Adam's epsilon) and that the learning rate was tuned for this optimizer.")

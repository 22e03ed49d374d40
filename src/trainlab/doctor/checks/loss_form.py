"""Checks ``loss-output`` and ``loss-reduction``: does the loss fit the model's outputs, and is it a mean?

Both run before any training, on the model's scores for up to ``REDUCTION_EXAMPLES`` training examples
in evaluation mode (pre-training checks of TheDeepChecker, Ben Braiek & Khomh, TOSEM 2023).

``loss-output``, from the scores ``s`` and the loss's gradient ``g = dL/ds``:

* the loss must fall when the right class's score rises: the mean of ``g[i, y_i]`` over examples must be
  negative; positive -> fail (a loss with its sign flipped, or maximized);
* the loss must be bounded below as the right class's score grows: with ``T = UNBOUNDED_SHIFT`` times the
  scores' scale added to every right-class score, a classification loss (cross-entropy, MSE, hinge) stays
  at 0 or above, while a log-likelihood of raw scores (``F.nll_loss`` without ``log_softmax``) falls
  linearly to ``-T``; below ``-T / 2`` -> fail: training pushes the scores to infinity instead of learning;
* softmax twice: the rows of ``s`` are already probabilities (in [0, 1], summing to 1) and the loss applies
  softmax again (``'softmax'``, or a callable equal to ``F.cross_entropy(s, y)``) -> fail: the scores then
  span at most 1 and the loss can barely move (at best ``ln C - ln(C / (e - 1 + C))``, 0.15 for 10 classes);
* softmax over the batch: the columns of ``s`` sum to 1 over the examples and the rows do not -> fail;
* a regression loss on class labels: the loss equals MSE or MAE between ``s``, ``softmax(s)`` or
  ``sigmoid(s)`` and the one-hot labels on two different batches -> warn: it trains, but its gradient
  vanishes where the network is confidently wrong (MSE on softmax) and it does not score probabilities.

``loss-reduction``: the loss of the batch repeated twice over the loss of the batch. A mean gives 1; a sum
gives 2 -> warn (the learning rate then scales with the batch size, and every rate the doctor or a paper
suggests is ``batch`` times too large); anything else (beyond ``REDUCTION_TOLERANCE``) -> warn.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.patient import Patient
from trainlab.losses import are_probabilities

REDUCTION_EXAMPLES = 64
REDUCTION_TOLERANCE = 0.02
SAME_LOSS = 1e-4  # relative difference under which two loss values are the same formula
UNBOUNDED_SHIFT = 1e3

_REGRESSIONS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "MSE on the raw scores": lambda s, t: F.mse_loss(s, t),
    "MSE on softmax(scores)": lambda s, t: F.mse_loss(s.softmax(1), t),
    "MSE on sigmoid(scores)": lambda s, t: F.mse_loss(s.sigmoid(), t),
    "MAE on the raw scores": lambda s, t: F.l1_loss(s, t),
    "MAE on softmax(scores)": lambda s, t: F.l1_loss(s.softmax(1), t),
    "MAE on sigmoid(scores)": lambda s, t: F.l1_loss(s.sigmoid(), t),
}
"""Regression losses people put on class labels, against one-hot targets ``t`` (mean over every entry)."""


def _scores(p: Patient, tag: str) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = p.sample(REDUCTION_EXAMPLES, tag)
    model = p.copy().eval()
    with torch.no_grad():
        return model(x).detach().float(), y


def _value(p: Patient, s: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(p.loss_fn(s, y))


def _shifted_loss(p: Patient, s: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(T, the loss with T added to each right-class score); the loss is nan where labels are not class indices."""
    shift = UNBOUNDED_SHIFT * max(1.0, float(s.abs().max()))
    if y.is_floating_point() or int(y.min()) < 0 or int(y.max()) >= s.shape[1]:
        return shift, math.nan  # the data check owns labels outside the classes
    return shift, _value(p, s + shift * F.one_hot(y, s.shape[1]).to(s.dtype), y)


def _same(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= SAME_LOSS * max(abs(a), abs(b), 1e-12)


@register("loss-output", "Loss fits the outputs: sign, softmax once and on the class axis, a classification loss")
def check_loss_output(p: Patient) -> Verdict:
    s, y = _scores(p, "loss-output")
    if len(y) < 2 or s.shape[1] < 2:
        return Verdict("skipped", f"needs 2 or more examples and classes, got {len(y)} and {s.shape[1]}")
    scores = s.clone().requires_grad_(True)
    loss = p.loss_fn(scores, y)
    if not torch.isfinite(loss):  # initial-loss owns a loss that is not finite before training
        return Verdict("skipped", f"the loss of the untrained model is {float(loss.detach())}: see initial-loss",
                       {"loss": float(loss.detach())})
    (grad,) = torch.autograd.grad(loss, scores)
    right = float(grad.gather(1, y.view(-1, 1)).mean())
    rows, columns = are_probabilities(s, 1), are_probabilities(s, 0) and len(y) > 1
    cross_entropy = p.loss_name == "softmax" or _same(float(loss.detach()), float(F.cross_entropy(s, y)))
    numbers = {"mean_grad_right_class": right, "rows_are_probabilities": rows,
               "columns_are_probabilities": columns, "loss_is_cross_entropy_on_scores": cross_entropy}
    if right > 0:
        return Verdict("fail", f"raising the right class's score raises the loss (mean dL/ds_y {fmt(right)} > 0)",
                       numbers, "The loss rewards wrong answers: check its sign (minimize, do not maximize, the "
                                "cross-entropy) and the order of its arguments (scores first, labels second).",
                       ("loss-sign",))
    shift, shifted = _shifted_loss(p, s, y)
    numbers["loss_at_shifted_right_scores"] = shifted
    if shifted < -shift / 2:
        return Verdict("fail", f"the loss falls without bound as the right class's score grows: {fmt(shifted)} "
                               f"with {fmt(shift)} added to it (a classification loss stays at 0 or above)", numbers,
                       "The loss reads raw scores as log-probabilities: apply log_softmax before F.nll_loss, or "
                       "train with F.cross_entropy on the raw scores.", ("loss-output-mismatch",))
    if columns and not rows:
        return Verdict("fail", "the outputs sum to 1 over the batch, not over the classes: softmax on the wrong axis",
                       numbers, "Apply softmax over the class axis (dim=1 or dim=-1), or better return raw "
                                "scores and let cross-entropy normalize them.", ("batch-mixing",))
    if rows and cross_entropy:
        return Verdict("fail", "the outputs are already probabilities (each row in [0, 1], summing to 1) and the "
                               "loss applies softmax again", numbers,
                       "Remove the final softmax from the model: F.cross_entropy and nn.CrossEntropyLoss take raw "
                       "scores (logits). If the model must output probabilities, use F.nll_loss(probs.log(), y).",
                       ("double-softmax",))
    match = None if p.loss_name else _regression(p, s, y)  # a named loss ('softmax', 'svm') is not a regression
    if match:
        numbers["loss_is"] = match
        return Verdict("warn", f"the loss is {match} against one-hot labels: a regression loss on class labels",
                       numbers, "Use cross-entropy on raw scores (F.cross_entropy(scores, y)): its gradient does "
                                "not vanish where the network is confidently wrong, and it scores probabilities.",
                       ("loss-output-mismatch",))
    return Verdict("pass", f"the loss falls as the right class's score rises (mean dL/ds_y {fmt(right)}); "
                           "softmax, where present, is applied once over the classes", numbers,
                   rules_out=("loss-sign", "double-softmax", "loss-output-mismatch"))


def _regression(p: Patient, s: torch.Tensor, y: torch.Tensor) -> str | None:
    """The regression formula the loss equals on this batch and on a second one, if any."""
    s2, y2 = _scores(p, "loss-output-2")
    for name, formula in _REGRESSIONS.items():
        if all(_same(_value(p, a, b), float(formula(a, F.one_hot(b, a.shape[1]).to(a.dtype))))
               for a, b in ((s, y), (s2, y2))):
            return name
    return None


@register("loss-reduction", "Loss reduction: a mean over the batch, not a sum")
def check_loss_reduction(p: Patient) -> Verdict:
    s, y = _scores(p, "loss-reduction")
    one, two = _value(p, s, y), _value(p, torch.cat([s, s]), torch.cat([y, y]))
    ratio = two / one if one != 0 and math.isfinite(one) and math.isfinite(two) else float("nan")
    numbers = {"loss": one, "loss_of_batch_twice": two, "ratio": ratio, "examples": len(y)}
    said = f"the batch repeated twice has loss {fmt(two)} against {fmt(one)} (ratio {fmt(ratio)})"
    if not math.isfinite(ratio):
        return Verdict("skipped", f"cannot compare: {said}", numbers)
    if abs(ratio - 1) <= REDUCTION_TOLERANCE:
        return Verdict("pass", said + ": a mean over the batch", numbers, rules_out=("loss-reduction",))
    if abs(ratio - 2) <= 2 * REDUCTION_TOLERANCE:
        return Verdict("warn", said + ": the loss is a sum over the batch", numbers,
                       "Average the loss over the batch (reduction='mean'); with a sum the gradient, and so the "
                       f"right learning rate, scales with the batch size ({len(y)}x here).", ("loss-reduction",))
    return Verdict("warn", said + ": neither a mean (1) nor a sum (2) over the batch", numbers,
                   "Make the loss a mean over the batch's examples (reduction='mean'), so that the learning rate "
                   "does not depend on the batch size.", ("loss-reduction",))

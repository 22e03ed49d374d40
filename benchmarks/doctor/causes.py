"""The benchmark's ground-truth vocabulary: the causes of ``trainlab.doctor.causes``, and which check names each.

A cause id is the ground truth of a faulty case (``Case.cause``) and the name the ranked diagnosis
(``report.diagnosis[0].cause``, :mod:`trainlab.doctor.diagnosis`) must give for the case to count as
correctly diagnosed. The ids are the doctor's own (checked below); rename one only together with every
case that uses it.

Each cause also lists the doctor checks whose failure is direct evidence of it (``leads``): the
per-check recall and precision of the benchmark table are scored through them (:func:`causes_named_by`
is the same relation read the other way). They were written with the cases, before the doctor's ranked
diagnosis existed, and are not what the diagnosis reads (each check's verdict names its own causes).
``recipe`` was added to the leads of the four recipe causes when that check was written (after the
cases); no case's ground truth changed.
"""
from __future__ import annotations

from dataclasses import dataclass

from trainlab.doctor import ORDER
from trainlab.doctor.causes import CAUSES as DOCTOR_CAUSES


@dataclass(frozen=True)
class Cause:
    """One fault type: what it means, and the checks that should name it (first = the usual lead)."""

    id: str
    meaning: str
    leads: tuple[str, ...]
    sources: str = ""  # the public benchmarks' names for it


PLANNED_CHECKS: dict[str, str] = {
    "zero-input": "pre-training: the scores on all-zero inputs, against those on real inputs",
}
"""Check ids planned for the doctor's next parts (proposed names: the part that adds a check adopts its id
here, or renames it here and in the cases)."""

CHECK_IDS: tuple[str, ...] = ORDER + tuple(PLANNED_CHECKS)

_CAUSES = (
    # -- the learning rate and the optimizer
    Cause("lr-too-high", "the learning rate makes training diverge or oscillate",
          ("lr-range", "update-ratio", "recipe"),
          "TheDeepChecker high_lr; DeepFD 'lr'; AUTOTRAINER oscillating loss"),
    Cause("lr-too-low", "the learning rate is orders of magnitude below one that trains",
          ("lr-range", "update-ratio", "recipe"),
          "TheDeepChecker low_lr; DeepFD 'lr'; AUTOTRAINER slow convergence"),
    Cause("bad-optimizer-settings", "an optimizer setting other than the learning rate breaks training: momentum "
          "near 1, Adam's epsilon, an optimizer whose learning rate was tuned for another", ("lr-range", "recipe"),
          "TheDeepChecker low_adam_epsilon; DeepFD 'opt'"),
    # -- the data
    Cause("input-scale-large", "inputs far from unit scale (raw 0..255 pixels, unstandardized features)", ("data",),
          "TheDeepChecker missing_normalization; AUTOTRAINER data issue; DeepLocalize unscaled inputs"),
    Cause("input-scale-small", "inputs far below unit scale (normalized twice, e.g. divided by 255 twice)", ("data",),
          "TheDeepChecker double_normalization"),
    Cause("nan-in-data", "NaN or Inf among the input values (missing values, a division by zero in preprocessing)",
          ("data",), "DeepDiagnosis 'numerical problem' at layer 0"),
    Cause("wrong-labels", "the labels do not belong to their inputs (shuffled or misaligned)",
          ("generalization-gap", "input-independent-baseline"), "TheDeepChecker wrong_labels"),
    Cause("class-imbalance", "one class outnumbers the others many times over", ("data",),
          "TheDeepChecker unbalanced_data"),
    # -- the loss
    Cause("loss-output-mismatch", "the loss does not fit the outputs: MSE/MAE on class probabilities, a log of "
          "raw scores, softmax over a single output", ("loss-output", "data"),
          "TheDeepChecker wrong_loss_selection, missing_softmax; DeepFD 'loss'; DeepLocalize"),
    Cause("double-softmax", "softmax applied in the model and again inside the loss", ("loss-output",),
          "TheDeepChecker redundant_softmax"),
    Cause("loss-reduction", "the loss sums over the batch (or averages over the wrong axis), so its scale "
          "follows the batch size", ("loss-reduction",), "TheDeepChecker wrong_loss_function"),
    Cause("loss-sign", "the loss is negated, so training maximizes it", ("loss-output", "overfit-tiny"),
          "TheDeepChecker flipped_sign"),
    # -- initialization
    Cause("bad-init-zeros", "weights initialized to zeros or to one constant: symmetry is never broken",
          ("init-health",), "TheDeepChecker wrong_init (constant)"),
    Cause("bad-init-large", "weights initialized far too large (or the scores scaled up): the initial loss is far "
          "above chance", ("initial-loss", "init-health"), "TheDeepChecker wrong_init (random), over_scaled_outputs"),
    Cause("bad-init-small", "weights initialized too small for the depth: the signal collapses layer by layer",
          ("init-health", "gradient-flow"), "AUTOTRAINER uniform-init deep ReLU models"),
    # -- activations and gradients
    Cause("saturating-activation", "sigmoid/tanh units driven into saturation", ("init-health",),
          "DeepDiagnosis 'saturated activation'"),
    Cause("dead-relu", "ReLU units that are never active", ("init-health",),
          "AUTOTRAINER / DeepDiagnosis 'dying ReLU'"),
    Cause("vanishing-gradient", "the back-propagated gradient shrinks towards the input layers", ("gradient-flow",),
          "AUTOTRAINER / DeepDiagnosis 'vanishing gradient'"),
    Cause("exploding-gradient", "activations and gradients grow with depth until they overflow",
          ("gradient-flow", "init-health"), "AUTOTRAINER 'exploding gradient'; DeepDiagnosis 'exploding tensor'"),
    Cause("detached-gradient", "a detach()/no_grad in the forward pass cuts the backward path: layers below it "
          "never learn", ("gradient-flow", "overfit-tiny"), "DeepDiagnosis 'unchanged weight'"),
    Cause("numeric-instability", "the forward pass or the loss produces NaN/Inf (log of a non-positive number, "
          "log of an underflowed softmax)", ("initial-loss", "init-health"),
          "DeepDiagnosis 'numerical problem'; TheDeepChecker GitHub TFE_333"),
    # -- bugs in the code
    Cause("wrong-gradient", "a hand-written backward (custom autograd.Function) disagrees with its forward",
          ("gradcheck",), "TheDeepChecker flipped_sign (hand-computed gradients)"),
    Cause("batch-mixing", "examples mix across the batch (softmax/normalization over dim 0, a wrong view or "
          "time-major/batch-major mix-up)", ("batch-independence",), "TheDeepChecker wrong_softmax_impl"),
    Cause("input-ignored", "the model's output does not depend on its input", ("input-independent-baseline",),
          "DeepDiagnosis 'unchanged tensor in forward'"),
    # -- capacity and regularization
    Cause("too-little-capacity", "the model cannot represent the task (a linear model for a nonlinear problem, "
          "a one-unit bottleneck)", ("overfit-tiny", "generalization-gap"), "DeepFD 'act' (linear activation)"),
    Cause("overfitting", "training accuracy far above validation accuracy (too little data for the model, no "
          "regularization)", ("generalization-gap",), "TheDeepChecker missing_regularization"),
    Cause("too-much-regularization", "weight decay so strong that the penalty dominates the data loss",
          ("regularization", "recipe"), "TheDeepChecker over_regularization"),
)

CAUSES: dict[str, Cause] = {c.id: c for c in _CAUSES}
"""Cause id -> :class:`Cause`, in the order of the table above."""


def causes_named_by(check: str) -> tuple[str, ...]:
    """The causes that a failure of ``check`` is direct evidence of (the fallback top diagnosis)."""
    return tuple(c.id for c in _CAUSES if check in c.leads)


def _validate() -> None:
    unknown = {lead for c in _CAUSES for lead in c.leads} - set(CHECK_IDS)
    if unknown:
        raise ValueError(f"causes lead with unknown checks: {sorted(unknown)}")
    if set(CAUSES) != set(DOCTOR_CAUSES):
        raise ValueError(f"the benchmark's causes and the doctor's differ: {sorted(set(CAUSES) ^ set(DOCTOR_CAUSES))}")
    if len(CAUSES) != len(_CAUSES):
        raise ValueError("a cause id is defined twice")


_validate()

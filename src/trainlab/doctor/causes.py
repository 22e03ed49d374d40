"""What can be wrong with a model and its training setup: the causes a diagnosis names.

A check's finding names the causes it is direct evidence of (``Verdict.causes``,
most likely first); :mod:`trainlab.doctor.diagnosis` ranks them. Each cause sits
at a *stage* of the pipeline a batch goes through, and a fault at one stage
disturbs everything measured after it: inputs at the wrong scale saturate the
first layer, which flattens the gradient, which makes every learning rate look
wrong. So a cause also *explains* the findings of checks at later stages
(:data:`CHECK_STAGE`): they are shown as its consequences, not as separate alarms.

The ids are the vocabulary of the doctor's fault benchmark (``benchmarks/doctor``),
kept stable.
"""
from __future__ import annotations

from dataclasses import dataclass

STAGES = ("data", "loss", "code", "signal", "output", "model", "recipe", "fit")
"""The pipeline, upstream first: the data; the loss's form; bugs in the forward/backward code; the signal
through the layers at initialization; the scores it produces; what the model can learn; the training
recipe; what a trained model generalizes."""

CHECK_STAGE: dict[str, str] = {
    "data": "data",
    "loss-output": "loss",
    "loss-reduction": "loss",
    "gradcheck": "code",
    "batch-independence": "code",
    "init-health": "signal",
    "gradient-flow": "signal",
    "initial-loss": "output",
    "input-independent-baseline": "model",
    "overfit-tiny": "model",
    "lr-range": "recipe",
    "update-ratio": "recipe",
    "regularization": "recipe",
    "recipe": "recipe",
    "generalization-gap": "fit",
}
"""The stage each check measures. A check that measures a mechanism (``SPECIFIC``) names its cause more
surely than one that measures a symptom of many causes."""

SPECIFIC = frozenset({"data", "loss-output", "loss-reduction", "gradcheck", "batch-independence", "init-health",
                      "gradient-flow", "regularization", "recipe"})


@dataclass(frozen=True)
class Cause:
    id: str
    title: str  # what the diagnosis says, e.g. "the learning rate is too high"
    stage: str
    advice: str
    only_explains: tuple[str, ...] | None = None  # the checks it explains, where not every later one


_CAUSES = (
    Cause("nan-in-data", "NaN or Inf among the inputs", "data",
          "Find where NaN/Inf enter the inputs (missing values, 0/0 in preprocessing) and fix or drop them."),
    Cause("input-scale-large", "the inputs are far above unit scale", "data",
          "Standardize the inputs (--preprocess mean,std, or divide pixels by 255)."),
    Cause("input-scale-small", "the inputs are far below unit scale", "data",
          "Check the inputs are not normalized twice; standardize them (--preprocess mean,std)."),
    Cause("class-imbalance", "the classes are heavily imbalanced", "data",
          "Reweight the loss or resample the classes; judge by per-class accuracy.",
          ("initial-loss", "input-independent-baseline", "generalization-gap")),
    Cause("wrong-labels", "the labels do not belong to their inputs", "data",
          "Check that inputs and labels are shuffled and split together.",
          ("initial-loss", "input-independent-baseline", "regularization", "generalization-gap")),
    Cause("loss-sign", "the loss is negated: training maximizes it", "loss",
          "Minimize the loss, not its negative (check the sign of a hand-written loss)."),
    Cause("double-softmax", "softmax is applied twice (in the model and in the loss)", "loss",
          "Return raw scores from the model; the loss applies the softmax."),
    Cause("loss-output-mismatch", "the loss does not fit the outputs", "loss",
          "Use cross-entropy on raw scores for classification (not MSE/MAE on probabilities or one-hot labels)."),
    Cause("loss-reduction", "the loss is summed over the batch, not averaged", "loss",
          "Average the loss over the batch (reduction='mean'), or divide the learning rate by the batch size."),
    Cause("wrong-gradient", "a hand-written backward disagrees with its forward", "code",
          "Fix the custom backward (compare it with torch.autograd.gradcheck in float64)."),
    Cause("batch-mixing", "examples mix across the batch", "code",
          "Reduce over the feature axis, not the batch axis (softmax/normalization dim, batch_first, views)."),
    Cause("detached-gradient", "the backward path is cut (detach or no_grad in the forward pass)", "code",
          "Remove the detach()/torch.no_grad() from the path the loss depends on."),
    Cause("numeric-instability", "the forward pass produces NaN/Inf", "signal",
          "Guard the operation that overflows or divides by zero (log1p, clamp, an epsilon in norms)."),
    Cause("bad-init-zeros", "the weights start constant: symmetry is never broken", "signal",
          "Initialize weights randomly (He for ReLU, Glorot for tanh)."),
    Cause("bad-init-large", "the weights start far too large", "signal",
          "Scale the initialization to the fan-in (He for ReLU, Glorot for tanh)."),
    Cause("bad-init-small", "the weights start too small for the depth: the signal collapses", "signal",
          "Scale the initialization to the fan-in (He for ReLU, Glorot for tanh), or add batch norm."),
    Cause("saturating-activation", "sigmoid/tanh units are saturated", "signal",
          "Use Glorot initialization, standardized inputs, or ReLU; batch norm also helps."),
    Cause("dead-relu", "ReLU units are dead", "signal",
          "Use He initialization and non-negative biases, a lower learning rate, or leaky ReLU."),
    Cause("vanishing-gradient", "the gradient vanishes towards the input layers", "signal",
          "Use ReLU with He initialization, batch norm, residual connections, or fewer layers."),
    Cause("exploding-gradient", "activations and gradients grow with depth", "signal",
          "Scale the initialization down (He/Glorot), normalize, or clip gradients."),
    Cause("input-ignored", "the model's output does not depend on its input", "model",
          "Check the forward pass reaches the inputs (dropout p, indexing, pooling)."),
    Cause("too-little-capacity", "the model cannot represent the task", "model",
          "Add nonlinearities, width or depth; check for a bottleneck layer."),
    Cause("lr-too-high", "the learning rate is too high", "recipe",
          "Lower the learning rate to the range test's suggestion."),
    Cause("lr-too-low", "the learning rate is too low", "recipe",
          "Raise the learning rate to the range test's suggestion."),
    Cause("bad-optimizer-settings", "an optimizer setting breaks training", "recipe",
          "Check momentum, Adam's epsilon, and that the learning rate was tuned for this optimizer."),
    Cause("too-much-regularization", "the weight decay dominates the loss", "recipe",
          "Lower the weight decay (try 10x smaller)."),
    Cause("overfitting", "the model overfits its training data", "fit",
          "Add data, augmentation, weight decay or dropout, or stop earlier."),
)

CAUSES: dict[str, Cause] = {c.id: c for c in _CAUSES}


def stage_index(stage: str) -> int:
    return STAGES.index(stage)


def explains(cause: str, check: str) -> bool:
    """Whether a finding of ``check`` can follow from ``cause``: the check measures a later stage (or, for a
    cause whose footprint is narrower, one of its ``only_explains``)."""
    c = CAUSES[cause]
    if c.only_explains is not None:
        return check in c.only_explains
    return stage_index(CHECK_STAGE[check]) > stage_index(c.stage)


def _validate() -> None:
    unknown = {c.stage for c in _CAUSES} - set(STAGES)
    unknown |= {k for c in _CAUSES for k in c.only_explains or ()} - set(CHECK_STAGE)
    if unknown or len(CAUSES) != len(_CAUSES):
        raise ValueError(f"bad cause table: unknown stages {sorted(unknown)} or a duplicate id")


_validate()

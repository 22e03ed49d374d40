"""What the watcher can find: a catalogue of stable ids, and :class:`Finding`, one of them seen in a run.

Each id names one bug or symptom of a training loop; its entry says what it means and where the
rule comes from. The rules that raise them are in :mod:`trainlab.watcher.rules`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from trainlab.files import jsonable


@dataclass(frozen=True)
class Kind:
    """One entry of the catalogue: the id's title, the advice it usually gets, and its source."""

    id: str
    title: str
    advice: str
    source: str


CATALOGUE: dict[str, Kind] = {k.id: k for k in (
    Kind("grad-accumulation", "Gradients carried over between optimizer steps",
         "Call optimizer.zero_grad() once per step (before loss.backward()).",
         "TrainCheck (OSDI 2025): missing zero_grad; CS231n"),
    Kind("not-in-optimizer", "Parameters that get gradients but belong to no optimizer group",
         "Build the optimizer from model.parameters() after the model is complete (and after .to(device)), "
         "or add the missing parameters with optimizer.add_param_group(...).",
         "TrainCheck (OSDI 2025): parameters left out of the optimizer"),
    Kind("never-updated", "Parameters in the optimizer whose values never change",
         "Check that the parameter takes part in the forward pass without .detach() or .data, that its "
         "group's learning rate is not 0, and that zero_grad() is not called between backward() and step().",
         "DeepDiagnosis (ICSE 2022): unchanged weight"),
    Kind("frozen-by-mistake", "A frozen layer in the middle of layers that train",
         "Set requires_grad=True on the layer's parameters (and add them to the optimizer), or freeze "
         "everything before it too if only the layers after it should learn.",
         "TrainCheck (OSDI 2025): requires_grad left off"),
    Kind("eval-mode-training", "Dropout or batch norm in eval mode during training steps",
         "Call model.train() before the training forward passes (model.eval() is for evaluation only).",
         "TrainCheck (OSDI 2025): model left in eval mode"),
    Kind("train-mode-eval", "Forward passes without gradients while dropout or batch norm are in training mode",
         "Call model.eval() before evaluating (and model.train() after): in training mode dropout drops "
         "units and batch norm uses batch statistics and overwrites its running statistics.",
         "TrainCheck (OSDI 2025); PyTorch forums: evaluation in train mode"),
    Kind("non-finite", "NaN or Inf in the loss, activations, gradients or weights",
         "Look at the first place it appears: a log or division of 0, a too-high learning rate, unscaled inputs.",
         "AUTOTRAINER (ICSE 2021) and DeepDiagnosis (ICSE 2022): NaN"),
    Kind("diverging", "The loss grows instead of falling",
         "Lower the learning rate (by 3-10x), or clip gradients (torch.nn.utils.clip_grad_norm_).",
         "trainlab's divergence rule (3x the initial loss); AUTOTRAINER: explode"),
    Kind("loss-flat", "The loss does not fall, or stays no lower than predicting the label frequencies",
         "Raise the learning rate, check that the loss and the labels belong together, and that the "
         "parameters are updated (see the other findings).",
         "AUTOTRAINER (ICSE 2021): slow convergence; DeepDiagnosis: loss not decreasing"),
    Kind("loss-oscillating", "The loss swings up and down without falling",
         "Lower the learning rate (by 3-10x) or raise the batch size.",
         "AUTOTRAINER (ICSE 2021): oscillating loss"),
    Kind("loss-output", "The loss does not fit the model's outputs",
         "Give CrossEntropyLoss the raw scores (logits): drop the softmax at the end of the model, or keep it "
         "and use NLLLoss on their log (better: log_softmax, which is stable).",
         "TheDeepChecker (TOSEM): redundant softmax; DeepLocalize; the doctor's loss-output check"),
    Kind("vanishing-gradient", "Gradients vanish on their way to the first layers",
         "Use an initialization matched to the activation (Glorot for tanh, He for ReLU), ReLU instead of "
         "sigmoid, batch normalization, or residual connections.",
         "Glorot & Bengio (2010); AUTOTRAINER and DeepDiagnosis: vanishing gradient"),
    Kind("exploding-gradient", "Gradients grow on their way to the first layers, or blow up",
         "Lower the learning rate, clip gradients (torch.nn.utils.clip_grad_norm_), use an initialization "
         "matched to the activation, or batch normalization; a loss summed over many values "
         "(reduction='sum') or scaled up (logits / temperature) makes every gradient large: average it instead.",
         "AUTOTRAINER and DeepDiagnosis: exploding gradient"),
    Kind("dead-relu", "Most units of a ReLU layer never activate",
         "Lower the learning rate, use He initialization, LeakyReLU, or batch normalization before the ReLU.",
         "AUTOTRAINER (ICSE 2021) and DeepDiagnosis: dying ReLU / dead node; CS231n"),
    Kind("saturated", "Most units of a tanh or sigmoid layer sit in its flat part",
         "Use Glorot initialization, standardized inputs, batch normalization, or ReLU.",
         "Glorot & Bengio (2010); DeepDiagnosis: saturated activation"),
    Kind("update-ratio", "Updates far from about 1e-3 of the weights' size, overall or in one layer",
         "Scale the learning rate by about the factor the evidence gives.",
         "CS231n (babysitting the learning process): ||dW|| / ||W|| about 1e-3"),
    Kind("lr-schedule", "A learning-rate schedule that does not do what it should",
         "Call scheduler.step() once per epoch for epoch schedules (StepLR, MultiStepLR, ExponentialLR), "
         "once per batch for per-batch ones (OneCycleLR, CyclicLR), after optimizer.step(), and build it "
         "on the optimizer that trains.",
         "PyTorch docs (torch.optim.lr_scheduler); TrainCheck (OSDI 2025)"),
    Kind("unshuffled", "Labels come in long runs across batches: the data is not shuffled",
         "Shuffle the training data (DataLoader(..., shuffle=True)).",
         "TheDeepChecker (TOSEM): unshuffled data; CS231n"),
    Kind("constant-labels", "Every batch holds one and the same label",
         "Check the labels: the wrong column or tensor, a broadcast, or a dataset of one class.",
         "TheDeepChecker (TOSEM): data checks"),
    Kind("input-scale", "The first layer's inputs are far from unit scale",
         "Standardize the inputs (subtract the mean, divide by the std of the training set; for 8-bit "
         "images divide by 255 first).",
         "LeCun et al. (1998), Efficient BackProp; TheDeepChecker: input scale"),
)}


@dataclass(frozen=True)
class Finding:
    """One finding of a watched run: which (``id``), when first seen, the evidence and what to do.

    ``explained_by`` names a finding this one follows from (NaN after the loss diverged), so a
    report can show it as a consequence rather than as a separate alarm.
    """

    id: str
    step: int
    evidence: str
    advice: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    explained_by: str | None = None

    def __post_init__(self) -> None:
        if self.id not in CATALOGUE:
            raise ValueError(f"unknown finding id {self.id!r}; known: {', '.join(CATALOGUE)}")
        if not self.advice:
            object.__setattr__(self, "advice", CATALOGUE[self.id].advice)

    @property
    def title(self) -> str:
        return CATALOGUE[self.id].title

    def explained(self, by: str) -> "Finding":
        return replace(self, explained_by=by)

    def line(self) -> str:
        """One line for a terminal: ``[id] step N: evidence -> advice``."""
        cause = f" (follows from {self.explained_by})" if self.explained_by else ""
        return f"[{self.id}] step {self.step:,}: {self.evidence}{cause}. {self.advice}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "step": self.step, "evidence": self.evidence,
                "advice": self.advice, "numbers": jsonable(self.numbers), "explained_by": self.explained_by}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        return cls(id=d["id"], step=int(d["step"]), evidence=str(d["evidence"]), advice=str(d.get("advice", "")),
                   numbers=dict(d.get("numbers") or {}), explained_by=d.get("explained_by"))

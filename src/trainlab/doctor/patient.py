"""The patient: the user's model, loss and data in one shape every check can use.

``examine`` accepts a :class:`~trainlab.data.base.Split`, an ``(x, y)`` pair, a
trainlab ``Dataset``, a ``torch.utils.data.Dataset`` or a ``DataLoader``; here
they all become a ``Split`` of tensors. The user's model is never handed to a
check: checks call :meth:`Patient.copy` and work on the copy.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.data.base import Split, check_inputs, seeded_generator
from trainlab.errors import UserError, choose
from trainlab.losses import LOSSES, softmax_loss, svm_loss
from trainlab.optimizers import OPTIMIZERS, effective_momentum

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class Budget:
    """How much work each check may do. The defaults keep a 3x100 MLP on MNIST under two minutes on 2 CPU cores."""

    max_examples: int = 60_000      # examples read from a Dataset/DataLoader
    stats_examples: int = 20_000    # data check: statistics over this many training inputs
    eval_examples: int = 2_000      # losses/accuracies are measured on this many examples
    probe_examples: int = 256       # init-health, gradient-flow
    gradcheck_examples: int = 8     # batch norm needs 8 or more for usable batch statistics
    gradcheck_coords: int = 200     # coordinates checked per parameter tensor
    baseline_examples: int = 500
    baseline_steps: int = 150
    overfit_examples: int = 20
    overfit_steps: int = 500
    sweep_steps: int = 100          # lr-range: steps of the exponential sweep
    trial_steps: int = 30           # lr-range: steps at the user's own learning rate
    ratio_steps: int = 50           # update-ratio
    regularization_steps: int = 100
    train_steps: int = 400          # generalization-gap
    recipe_steps: int = 300         # recipe: the user's recipe and the reference, each
    treat_steps: int = 300          # treatments (examine(treat=True)): steps of each arm and seed
    treat_seeds: int = 5            # treatments: batch orders each arm trains on (3 leave a t-interval 2x wider)

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, int) or value < 1:
                raise UserError(f"budget {name} must be a positive integer, got {value!r}")

    @classmethod
    def tiny(cls) -> "Budget":
        """A small budget for tests and quick looks: same checks, fewer steps."""
        return cls(stats_examples=5_000, eval_examples=1_000, probe_examples=128, gradcheck_coords=50,
                   baseline_examples=200, baseline_steps=100, overfit_steps=300, sweep_steps=60,
                   trial_steps=20, ratio_steps=20, regularization_steps=60, train_steps=250, recipe_steps=150,
                   treat_steps=100, treat_seeds=3)


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """An optimizer and its settings; ``weight_decay`` is lambda of ``0.5 * lambda * sum ||W||^2``."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float | None = None  # None: the optimizer's default (0.9 for momentum)
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        choose("optimizer", self.optimizer, tuple(OPTIMIZERS))
        if not self.lr > 0:
            raise UserError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise UserError(f"weight decay must be >= 0, got {self.weight_decay}")


HEAVY_MOMENTUM = 0.99
"""Momentum at or above this is the likelier cause of an unstable run than the learning rate: a steady gradient's
step grows to ``lr / (1 - momentum)``, 100x the rate at 0.99 and 1000x at 0.999, against 10x at the usual 0.9."""


def heavy_momentum(recipe: Recipe | None) -> str | None:
    """A sentence on ``recipe``'s momentum when it is ``HEAVY_MOMENTUM`` or more (the checks that find an unstable
    run then name an optimizer setting before the learning rate), else None."""
    if recipe is None or recipe.optimizer == "adam":
        return None
    momentum = effective_momentum(recipe.optimizer, recipe.momentum)
    if momentum < HEAVY_MOMENTUM:
        return None
    return (f"Your momentum {momentum:g} makes a steady gradient's step {1 / (1 - momentum):.0f}x the learning rate "
            f"(10x at the usual 0.9)")


DOCTOR_RECIPE = Recipe(optimizer="adam", lr=1e-3)
"""What the checks that test the model (not the learning rate) train with: Adam at 1e-3, the safe default of
Karpathy's recipe, so that a bad user learning rate is reported once, by lr-range, and not by every check."""


@dataclass
class Patient:
    model: nn.Module
    loss_fn: LossFn
    loss_name: str | None
    train: Split
    val: Split
    num_classes: int
    outputs: int  # the model's number of scores per example
    recipe: Recipe | None
    batch_size: int
    seed: int
    budget: Budget
    device: torch.device
    notes: list[str] = field(default_factory=list)
    findings: dict[str, Any] = field(default_factory=dict)  # what one check leaves for a later one

    def copy(self) -> nn.Module:
        """A deep copy of the user's model: the only model a check may change."""
        return copy.deepcopy(self.model)

    def generator(self, *tag: object) -> torch.Generator:
        return seeded_generator(self.seed, "doctor", *tag)

    def sample(self, n: int, *tag: object, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` examples drawn without replacement (seeded by ``tag``), on the model's device."""
        data = self.train if split == "train" else self.val
        n = min(n, len(data))
        idx = torch.randperm(len(data), generator=self.generator("sample", split, *tag))[:n]
        return data.x[idx].to(self.device), data.y[idx].to(self.device)

    def batches(self, steps: int, *tag: object, data: tuple[torch.Tensor, torch.Tensor] | None = None,
                batch_size: int | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``steps`` minibatches, reshuffled each pass, from ``data`` (default the training split)."""
        x, y = data if data is not None else (self.train.x, self.train.y)
        n = len(y)
        size = min(batch_size or self.batch_size, n)
        gen = self.generator("batches", *tag)
        perm, pos = torch.randperm(n, generator=gen), 0
        for _ in range(steps):
            if pos + size > n:
                perm, pos = torch.randperm(n, generator=gen), 0
            idx = perm[pos:pos + size]
            pos += size
            yield x[idx].to(self.device), y[idx].to(self.device)

    def holdout(self) -> Split:
        """Up to ``eval_examples`` validation examples."""
        return self.val.subset(min(len(self.val), self.budget.eval_examples))


# -- turning the user's arguments into a patient ------------------------------------------

def resolve_loss(loss: str | LossFn) -> tuple[LossFn, str | None]:
    """The loss function and, when it is a known one, its name (which fixes the expected initial loss)."""
    if isinstance(loss, str):
        return LOSSES[choose("loss", loss, tuple(LOSSES))], loss
    if isinstance(loss, nn.CrossEntropyLoss):
        plain = loss.weight is None and loss.reduction == "mean" and not loss.label_smoothing
        return loss, "softmax" if plain else None
    if callable(loss):
        known = {softmax_loss: "softmax", svm_loss: "svm", F.cross_entropy: "softmax"}
        return loss, known.get(loss)
    raise UserError(f"loss_fn must be 'softmax', 'svm' or a callable(scores, y), got {type(loss).__name__}")


def as_split(data: Any, *, limit: int, seed: int, what: str) -> Split:
    """A ``Split`` (CPU tensors, float inputs, int64 labels) from any accepted data form."""
    if isinstance(data, Split):
        split = data
    elif hasattr(data, "epoch") and callable(data.epoch):  # a trainlab train source (e.g. a stream)
        split = data.epoch(0)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        split = Split(torch.as_tensor(data[0]), torch.as_tensor(data[1]))
    elif isinstance(data, torch.utils.data.DataLoader):
        split = _gather(iter(data), limit, what)
    elif isinstance(data, torch.utils.data.Dataset):
        split = _read_dataset(data, limit, seed, what)
    else:
        raise UserError(f"{what} must be a Split, an (x, y) pair, a Dataset or a DataLoader, got {type(data).__name__}")
    x, y = split.x, split.y
    if y.ndim != 1 or y.is_floating_point() or y.is_complex():
        raise UserError(f"{what} labels must be a 1-D tensor of integer class indices, "
                        f"got {y.dtype} of shape {tuple(y.shape)}")
    if len(y) == 0:
        raise UserError(f"{what} is empty")
    x = x if x.is_floating_point() else x.float()
    # Labels outside the classes are the data check's to diagnose (against the model's outputs);
    # NaN/Inf inputs would make every check's verdict about something else.
    check_inputs(x, what)
    return Split(x, y.long())


def _read_dataset(data: torch.utils.data.Dataset, limit: int, seed: int, what: str) -> Split:
    try:
        n = len(data)  # type: ignore[arg-type]
    except TypeError:
        return _gather(iter(torch.utils.data.DataLoader(data, batch_size=512)), limit, what)
    if n > limit:
        idx = torch.randperm(n, generator=seeded_generator(seed, "doctor", "subset"))[:limit].tolist()
        data = torch.utils.data.Subset(data, idx)
    return _gather(iter(torch.utils.data.DataLoader(data, batch_size=512)), limit, what)


def _gather(batches: Iterator[Any], limit: int, what: str) -> Split:
    xs, ys, n = [], [], 0
    for batch in batches:
        if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
            raise UserError(f"{what} must yield (inputs, labels) pairs, got {type(batch).__name__}")
        xs.append(torch.as_tensor(batch[0]).cpu())
        ys.append(torch.as_tensor(batch[1]).cpu())
        n += len(ys[-1])
        if n >= limit:
            break
    if not xs:
        raise UserError(f"{what} yielded no examples")
    return Split(torch.cat(xs)[:limit], torch.cat(ys)[:limit])


def split_off_validation(train: Split, seed: int, fraction: float = 0.1, cap: int = 5_000) -> tuple[Split, Split]:
    """A seeded random holdout of ``fraction`` of ``train`` (at most ``cap``, at least 1 example)."""
    n = len(train)
    n_val = max(1, min(cap, int(n * fraction)))
    if n - n_val < 2:
        raise UserError(f"{n} training examples are too few to hold out validation data; pass val_data")
    perm = torch.randperm(n, generator=seeded_generator(seed, "doctor", "holdout"))
    return Split(train.x[perm[n_val:]], train.y[perm[n_val:]]), Split(train.x[perm[:n_val]], train.y[perm[:n_val]])


def model_device(model: nn.Module) -> torch.device:
    for tensor in list(model.parameters()) + list(model.buffers()):
        return tensor.device
    return torch.device("cpu")

"""The shape every dataset takes, so the training loop needs no special cases.

A :class:`Dataset` holds fixed ``val`` and ``test`` splits and a ``train`` source.
A fixed train split and an online stream (Shapeset-3x2) share one interface:
``train.epoch(e)`` returns the examples of epoch ``e``, deterministically, so a
resumed run sees exactly the batches an uninterrupted run would.

Every :class:`Dataset` checks its fixed splits' values when it is made (one
min/max pass each): a NaN or Inf input or a label outside the classes would
otherwise surface much later as a "diverged" run, a null validation loss or an
``IndexError``, each pointing at the wrong cause.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Protocol

import torch

from trainlab.errors import UserError

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}


@dataclass(frozen=True)
class Split:
    """Inputs ``x`` (float32, ``[N, ...]``) and integer labels ``y`` (int64, ``[N]``)."""

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} rows but y has {self.y.shape[0]}")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def epoch(self, index: int) -> "Split":
        """A fixed split is the same data every epoch (the loop shuffles it)."""
        return self

    def subset(self, n: int) -> "Split":
        return Split(self.x[:n], self.y[:n])


class TrainSource(Protocol):
    """What the training loop needs from a train split: a size and per-epoch data."""

    def __len__(self) -> int: ...

    def epoch(self, index: int) -> Split: ...


@dataclass(frozen=True)
class Dataset:
    name: str
    train: TrainSource
    val: Split
    test: Split
    num_classes: int
    input_shape: tuple[int, ...]
    classes: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 1:
            raise UserError(f"dataset {self.name!r}: num_classes must be a whole number >= 1, got {self.num_classes!r}")
        after = f" after --preprocess {self.notes['preprocess']}" if self.notes.get("preprocess") else ""
        for attr, words in SPLIT_NAMES.items():
            split = getattr(self, attr)
            if isinstance(split, Split):  # an online stream (Shapeset) is generated, not read
                check_split(split, f"dataset {self.name!r}: the {words} split{after}", self.num_classes)

    @property
    def input_dim(self) -> int:
        n = 1
        for d in self.input_shape:
            n *= d
        return n


def check_split(split: Split, where: str, num_classes: int) -> None:
    """Refuse NaN/Inf inputs and labels outside ``0..num_classes-1`` (:class:`UserError` naming
    ``where``, the count and the fix): one pass over ``x`` and one over ``y``."""
    check_inputs(split.x, where)
    check_labels(split.y, where, num_classes)


def check_inputs(x: torch.Tensor, where: str) -> None:
    """Refuse NaN or Inf in ``x``. One pass (the sum is NaN or Inf if any value is); the
    counting passes run only when it is."""
    if not (x.numel() and x.is_floating_point()) or math.isfinite(float(x.sum())):
        return
    bad = ~torch.isfinite(x)
    if bad.any():  # else only the sum of finite values overflowed
        examples = int(bad.reshape(bad.shape[0], -1).any(1).sum())
        raise UserError(f"{where} holds {int(bad.sum())} NaN/Inf input value(s) in {examples} of {x.shape[0]} "
                        f"examples; drop or repair those examples (a missing value or a division by zero "
                        f"upstream) before training")


def check_labels(y: torch.Tensor, where: str, num_classes: int) -> None:
    """Refuse labels that are not integer class indices ``0..num_classes-1``."""
    if not y.numel():
        return
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
        raise UserError(f"{where} has labels of type {y.dtype}; labels must be integer class indices "
                        f"0..{num_classes - 1} (e.g. y.long())")
    lo, hi = (int(v) for v in torch.aminmax(y))
    if lo < 0 or hi >= num_classes:
        outside = int(((y < 0) | (y >= num_classes)).sum())
        raise UserError(f"{where} holds {outside} label(s) outside 0..{num_classes - 1} (labels span {lo}..{hi}) "
                        f"for {num_classes} classes; remap the labels to 0..{num_classes - 1}, "
                        f"or declare {max(hi + 1, num_classes)} classes")


def seeded_generator(seed: int, *stream: object) -> torch.Generator:
    """A CPU generator for one named random stream, e.g. ``(seed, "train", epoch)``.

    Hashing the whole key (BLAKE2b) gives streams that do not overlap the way
    ``seed + epoch`` would (seed 0 epoch 1 == seed 1 epoch 0).
    """
    key = ":".join(str(part) for part in (seed, *stream)).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    generator = torch.Generator()
    generator.manual_seed(int.from_bytes(digest, "big") >> 1)
    return generator

"""The shape every dataset takes, so the training loop needs no special cases.

A :class:`Dataset` holds fixed ``val`` and ``test`` splits and a ``train`` source.
A fixed train split and an online stream (Shapeset-3x2) share one interface:
``train.epoch(e)`` returns the examples of epoch ``e``, deterministically, so a
resumed run sees exactly the batches an uninterrupted run would.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

import torch


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

    @property
    def input_dim(self) -> int:
        n = 1
        for d in self.input_shape:
            n *= d
        return n


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

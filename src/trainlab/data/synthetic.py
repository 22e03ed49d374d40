"""Small generated problems: fast enough for unit tests and ``doctor`` checks.

* ``synthetic-blobs``: ``classes`` isotropic Gaussians in ``dims`` dimensions,
  unit variance, centres drawn from N(0, ``spread``^2 I): linearly separable
  when ``spread`` is large, overlapping when it is small.
* ``synthetic-spirals``: ``classes`` interleaved arms of an Archimedean spiral
  in the plane (the classic "two spirals" problem, Lang & Witbrock 1988,
  generalised to C arms): not linearly separable, so it needs hidden units.

Each split is drawn from its own random stream of ``seed``, so changing one
split's size leaves the others unchanged.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch

from trainlab.data.base import Dataset, Split, seeded_generator
from trainlab.errors import UserError

SPLITS = ("train", "val", "test")


def _check_sizes(name: str, **sizes: int) -> None:
    for option, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(f"{name} option {option}={value!r} must be a positive integer")


def _blobs(n: int, centres: torch.Tensor, gen: torch.Generator) -> Split:
    y = torch.randint(len(centres), (n,), generator=gen)
    x = centres[y] + torch.randn(n, centres.shape[1], generator=gen)
    return Split(x, y)


def load_blobs(data_dir: Path, seed: int, *, classes: int = 3, dims: int = 2,
               spread: float = 4.0, n_train: int = 2_000, n_val: int = 500,
               n_test: int = 500) -> Dataset:
    """Gaussian blobs: ``classes`` clusters in ``dims`` dimensions. ``data_dir`` is unused."""
    _check_sizes("synthetic-blobs", classes=classes, dims=dims,
                 n_train=n_train, n_val=n_val, n_test=n_test)
    centres = spread * torch.randn(classes, dims, generator=seeded_generator(seed, "blobs-centres"))
    splits = [_blobs(n, centres, seeded_generator(seed, "blobs", split))
              for n, split in zip((n_train, n_val, n_test), SPLITS)]
    return Dataset(
        name="synthetic-blobs", train=splits[0], val=splits[1], test=splits[2],
        num_classes=classes, input_shape=(dims,),
        classes=tuple(f"blob {c}" for c in range(classes)),
        notes={"source": f"generated: {classes} unit Gaussians, centres ~ N(0, {spread}^2)",
               "seed": str(seed)},
    )


def _spirals(n: int, classes: int, turns: float, noise: float, gen: torch.Generator) -> Split:
    y = torch.randint(classes, (n,), generator=gen)
    t = torch.rand(n, generator=gen)  # position along the arm, centre to tip
    angle = 2 * math.pi * (turns * t + y / classes)
    radius = t + 0.05  # keep the arms apart at the centre
    x = torch.stack([radius * angle.cos(), radius * angle.sin()], 1)
    return Split(x + noise * torch.randn(n, 2, generator=gen), y)


def load_spirals(data_dir: Path, seed: int, *, classes: int = 2, turns: float = 1.5,
                 noise: float = 0.02, n_train: int = 2_000, n_val: int = 500,
                 n_test: int = 500) -> Dataset:
    """Interleaved spirals, one arm per class, radius in [0.05, 1.05]. ``data_dir`` is unused."""
    _check_sizes("synthetic-spirals", classes=classes, n_train=n_train, n_val=n_val, n_test=n_test)
    splits = [_spirals(n, classes, turns, noise, seeded_generator(seed, "spirals", split))
              for n, split in zip((n_train, n_val, n_test), SPLITS)]
    return Dataset(
        name="synthetic-spirals", train=splits[0], val=splits[1], test=splits[2],
        num_classes=classes, input_shape=(2,),
        classes=tuple(f"arm {c}" for c in range(classes)),
        notes={"source": f"generated: {classes} spiral arms, {turns} turns, noise {noise}",
               "seed": str(seed)},
    )

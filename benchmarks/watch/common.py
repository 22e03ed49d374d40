"""What every case of the buggy-loop benchmark shares: the registry, the data, batches, small models.

A case is a plain PyTorch training loop written out in full in one function, with its ground
truth (``expected``: the finding id the watcher must raise, or None for a correct loop) and its
provenance written down in the :func:`case` decorator before the loop was ever run.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import nn

from trainlab.watcher import Watcher, watch

STEPS = 100
"""Optimizer steps per loop."""
EVERY = 50
"""The watcher's default cadence: checks at steps 0 and 50 (and the final judgement)."""
BATCH = 64


@dataclass(frozen=True)
class Case:
    """One training loop: its name, where the bug comes from, the id that must be flagged, the loop."""

    name: str
    provenance: str
    expected: str | None  # None: a correct loop, nothing may be flagged
    run: Callable[[], Watcher]
    group: str = ""
    seed: int = 0

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip()


CASES: list[Case] = []


def case(name: str, *, expected: str | None, provenance: str, seed: int = 0) -> Callable[[Callable[[], Watcher]],
                                                                                          Callable[[], Watcher]]:
    """Register a loop under ``name`` with its ground truth ``expected`` (None: a correct loop)."""
    def register(fn: Callable[[], Watcher]) -> Callable[[], Watcher]:
        if any(c.name == name for c in CASES):
            raise ValueError(f"case {name!r} registered twice")
        group = fn.__module__.removeprefix("cases_")
        CASES.append(Case(name, provenance, expected, fn, group, seed))
        return fn
    return register


# -- data ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _dataset(name: str):  # -> trainlab.data.Dataset
    from trainlab.data import load

    return load(name)  # from $TRAINLAB_DATA (see trainlab.data.resolve_data_dir)


@functools.lru_cache(maxsize=None)
def _moments(name: str) -> tuple[float, float]:
    x = _dataset(name).train.x
    return float(x.mean()), float(x.std())


def images(name: str = "mnist", n: int = 4096, *, split: str = "train", standardize: bool = True
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images ``[n, 1, 28, 28]`` and labels of MNIST or Fashion-MNIST.

    The loader gives pixels in [0, 1] (ToTensor's scale); ``standardize`` subtracts the training
    set's mean and divides by its std, as ``transforms.Normalize`` does.
    """
    data = _dataset(name)
    part = data.train if split == "train" else getattr(data, split)
    x, y = part.x[:n].clone(), part.y[:n].clone()
    if standardize:
        mean, std = _moments(name)
        x = (x - mean) / std
    return x, y


def batches(x: torch.Tensor, y: torch.Tensor, *, steps: int = STEPS, batch: int = BATCH, shuffle: bool = True,
            seed: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``steps`` mini-batches, a fresh permutation each epoch (what a shuffled DataLoader gives)."""
    gen = torch.Generator().manual_seed(seed)
    n, done = len(y), 0
    while True:
        order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
        for start in range(0, n, batch):
            if done == steps:
                return
            idx = order[start:start + batch]
            yield x[idx], y[idx]
            done += 1


def train(model: nn.Module, optimizer: torch.optim.Optimizer, criterion: nn.Module, x: torch.Tensor,
          y: torch.Tensor) -> Watcher:
    """The plain loop, watched at the default cadence: for the cases whose bug is in their setup, not their loop."""
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    return w


def epochs(loader: torch.utils.data.DataLoader, steps: int = STEPS) -> Iterator[tuple[int, tuple]]:
    """(epoch, batch) from ``loader``, epoch after epoch, until ``steps`` batches were given."""
    done, epoch = 0, 0
    while True:
        for item in loader:
            if done == steps:
                return
            yield epoch, item
            done += 1
        epoch += 1


# -- models ------------------------------------------------------------------------------------
def mlp(sizes: tuple[int, ...] = (784, 128, 10), act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Flatten, then Linear layers of ``sizes`` with ``act`` between them (none after the last)."""
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    """conv-BN-ReLU-pool twice, dropout, a linear head: a plain MNIST CNN (``features``, ``head``)."""

    def __init__(self, classes: int = 10, dropout: float = 0.25, channels: tuple[int, int] = (16, 32)) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(c2 * 7 * 7, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.features(x).flatten(1)))


class BasicBlock(nn.Module):
    """A residual basic block as in torchvision's ResNet: ``conv1``-``bn1``-ReLU-``conv2``-``bn2`` plus the
    identity, then ReLU (``c`` channels in and out, no downsampling)."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(out)))


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of ``model`` on ``(x, y)`` as it is (the caller chooses train or eval mode)."""
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())

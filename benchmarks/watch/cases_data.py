"""Bugs in the data: preprocessing, label order, labels themselves.

Each loop is the plain MNIST loop of :mod:`cases_healthy` with the data prepared wrongly (``# BUG``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from common import BATCH, EVERY, STEPS, case, epochs, images, mlp, train
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

import trainlab
from trainlab.watcher import Watcher


def _loop(x: torch.Tensor, y: torch.Tensor) -> Watcher:
    """MLP, SGD with momentum, cross-entropy, shuffled batches of (x, y)."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    model.train()
    return train(model, opt, criterion, x, y)


def _loader_loop(loader: DataLoader) -> Watcher:
    """The same loop over a DataLoader, with a functional loss handed over by w.loss()."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    with trainlab.watch(model, opt, every=EVERY, status=False) as w:
        for _epoch, (xb, yb) in epochs(loader, STEPS):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            w.loss(loss, yb)
            loss.backward()
            opt.step()
    return w


# -- non-finite ---------------------------------------------------------------------------------------
@case("per-pixel-std-no-eps", expected="non-finite",
      provenance="TheDeepChecker fault folders missing_normalization / double_normalization (preprocessing); "
                 "AUTOTRAINER NaN loss; per-pixel standardization without an epsilon, re-created here")
def per_pixel_std_no_eps() -> Watcher:
    """MNIST standardized per pixel, (x - mean) / std over the training images: the always-black border
    pixels have std 0, and 0 / 0 is NaN."""
    x, y = images("mnist", standardize=False)
    x = (x - x.mean(0)) / x.std(0)  # BUG: no epsilon; border pixels have std 0
    return _loop(x, y)


# -- input-scale -------------------------------------------------------------------------------------------
@case("raw-pixels", expected="input-scale",
      provenance="TheDeepChecker fault folder missing_normalization (unnormalized inputs)")
def raw_pixels() -> Watcher:
    """MNIST read as raw bytes, .float() without / 255 and without standardizing: pixels 0..255."""
    x, y = images("mnist", standardize=False)
    x = (x * 255).round()  # BUG: the uint8 pixels as they are on disk
    return _loop(x, y)


@case("double-normalization", expected="input-scale",
      provenance="TheDeepChecker fault folder double_normalization (input normalized twice)")
def double_normalization() -> Watcher:
    """MNIST already in [0, 1] (ToTensor) divided by 255 once more."""
    x, y = images("mnist", standardize=False)
    x = x / 255  # BUG: ToTensor already divided by 255
    return _loop(x, y)


# -- loss-flat ---------------------------------------------------------------------------------------------
@case("labels-not-permuted", expected="loss-flat",
      provenance="TheDeepChecker fault folder wrong_labels; images shuffled once without their labels, "
                 "re-created here")
def labels_not_permuted() -> Watcher:
    """The images are shuffled once before training, the labels are not: labels unrelated to inputs."""
    x, y = images("mnist")
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(1))
    x = x[perm]  # BUG: y = y[perm] missing
    return _loop(x, y)


# -- unshuffled ----------------------------------------------------------------------------------------------
@case("class-ordered-unshuffled", expected="unshuffled",
      provenance="catalogue unshuffled (TheDeepChecker unshuffled data; CS231n); a subset built class by class, "
                 "DataLoader(shuffle=False), re-created here")
def class_ordered_unshuffled() -> Watcher:
    """A balanced subset built class by class (640 images of each digit), DataLoader without shuffle."""
    x, y = images("mnist", 20000)
    keep = torch.cat([torch.nonzero(y == c).flatten()[:640] for c in range(10)])
    loader = DataLoader(TensorDataset(x[keep], y[keep]), batch_size=BATCH, shuffle=False)  # BUG: shuffle=False
    return _loader_loop(loader)


# -- constant-labels -----------------------------------------------------------------------------------------
class Digits(Dataset):
    """A map-style dataset over image and label tensors."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[0]  # BUG: self.y[i]


@case("getitem-constant-label", expected="constant-labels",
      provenance="TheDeepChecker data pre-check (label perplexity) / fault folder wrong_labels; an indexing typo "
                 "in Dataset.__getitem__, re-created here")
def getitem_constant_label() -> Watcher:
    """A Dataset whose __getitem__ returns the first label for every image; shuffled DataLoader."""
    x, y = images("mnist")
    loader = DataLoader(Digits(x, y), batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))
    return _loader_loop(loader)

"""k-fold cross-validation over the training split.

Fold ``f`` of ``k`` validates on the ``f``-th of ``k`` equal parts of a
seeded shuffle of the training examples and trains on the rest; the test
split is untouched. A trial's result is the mean over folds, each fold's
result recorded beside it.
"""
from __future__ import annotations

import torch

from trainlab.data.base import Dataset, Split
from trainlab.errors import UserError


def fold_dataset(dataset: Dataset, folds: int, fold: int, *, seed: int = 0) -> Dataset:
    train = dataset.train
    if not isinstance(train, Split):
        raise UserError(f"--folds needs a fixed training split; {dataset.name} streams its training data")
    n = len(train)
    if not 2 <= folds <= n:
        raise UserError(f"--folds must be between 2 and the {n} training examples, got {folds}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    bounds = [n * i // folds for i in range(folds + 1)]
    held = order[bounds[fold]:bounds[fold + 1]]
    kept = torch.cat([order[:bounds[fold]], order[bounds[fold + 1]:]])
    return Dataset(dataset.name, Split(train.x[kept], train.y[kept]), Split(train.x[held], train.y[held]),
                   dataset.test, dataset.num_classes, dataset.input_shape, dataset.classes, dict(dataset.notes))

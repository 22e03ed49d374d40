"""Small in-memory datasets for fast tests of the training loop."""
from __future__ import annotations

import torch

from trainlab.data.base import Dataset, Split


def blobs(n_train: int = 1200, n_eval: int = 300, *, classes: int = 3, dim: int = 12, seed: int = 0) -> Dataset:
    """Gaussian blobs: class c is centred at 2.5 * e_c in ``dim`` dimensions."""
    g = torch.Generator().manual_seed(seed)

    def split(n: int) -> Split:
        y = torch.randint(0, classes, (n,), generator=g)
        x = torch.randn(n, dim, generator=g) + 2.5 * torch.nn.functional.one_hot(y, dim).float()
        return Split(x, y)

    return Dataset("blobs", split(n_train), split(n_eval), split(n_eval), classes, (dim,))

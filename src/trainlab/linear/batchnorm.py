"""Batch normalization by hand (Ioffe & Szegedy 2015, Algorithm 1): the forward pass on
``x [N, D]`` and its hand-derived gradient, vectorized, no autograd."""
from __future__ import annotations

import torch

from trainlab.errors import UserError

BNCache = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                      eps: float = 1e-5) -> tuple[torch.Tensor, BNCache]:
    """Training-mode batch norm of ``x [N, D]`` (Ioffe & Szegedy 2015, Algorithm 1).

    ``x_hat = (x - mean) / sqrt(var + eps)`` with the batch mean and biased batch
    variance, ``out = gamma * x_hat + beta``. The cache keeps what the backward
    pass needs: ``x_hat``, ``1 / sqrt(var + eps)`` and ``gamma``.
    """
    if x.dim() != 2 or x.shape[0] < 2:
        raise UserError(f"batch norm needs x of shape [N >= 2, D], got {tuple(x.shape)}")
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    inv_std = torch.rsqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def batchnorm_backward(dout: torch.Tensor, cache: BNCache) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients ``(dx, dgamma, dbeta)`` of :func:`batchnorm_forward`.

    Differentiating through the batch mean and variance collapses to
    ``dx = inv_std / N * (N * g - sum(g) - x_hat * sum(g * x_hat))`` with
    ``g = dout * gamma``, sums over the batch.
    """
    x_hat, inv_std, gamma = cache
    n = dout.shape[0]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    g = dout * gamma
    dx = inv_std / n * (n * g - g.sum(dim=0) - x_hat * (g * x_hat).sum(dim=0))
    return dx, dgamma, dbeta

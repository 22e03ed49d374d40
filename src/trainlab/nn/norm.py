"""Batch normalization layers used by trainlab's models.

PyTorch's ``BatchNorm1d``/``BatchNorm2d`` compute what Ioffe & Szegedy (2015)
describe in training (batch mean, biased batch variance, then gamma and beta).
"""
from __future__ import annotations

from torch import nn


def make_batch_norm(num_features: int, *, conv: bool = False) -> nn.Module:
    return nn.BatchNorm2d(num_features) if conv else nn.BatchNorm1d(num_features)

"""Activation functions by name, and what "saturated" means for each."""
from __future__ import annotations

from torch import nn

from trainlab.errors import choose

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softsign": nn.Softsign,
    "relu": nn.ReLU,
    "leaky-relu": nn.LeakyReLU,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    return ACTIVATIONS[choose("activation", name, tuple(ACTIVATIONS))]()

"""Models and layers: ``build_model`` turns a configuration into a module."""
from __future__ import annotations

from torch import nn

from trainlab.nn.activations import ACTIVATIONS, make_activation
from trainlab.nn.cnn import SmallCNN
from trainlab.nn.mlp import MLP


def build_model(
    model: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    depth: int,
    width: int,
    activation: str,
    batch_norm: str = "none",
) -> nn.Module:
    """Build the named model (``mlp`` or ``cnn``) for inputs of ``input_shape``."""
    if model == "cnn":
        return SmallCNN(input_shape, num_classes, depth=depth, width=width, activation=activation, batch_norm=batch_norm)
    input_dim = 1
    for d in input_shape:
        input_dim *= d
    return MLP(input_dim, num_classes, depth=depth, width=width, activation=activation, batch_norm=batch_norm)


__all__ = ["ACTIVATIONS", "MLP", "SmallCNN", "build_model", "make_activation"]

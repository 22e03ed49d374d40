"""Models and layers: ``build_model`` turns a configuration into a module."""
from __future__ import annotations

import math

from torch import nn

from trainlab.errors import choose
from trainlab.nn.activations import ACTIVATIONS, make_activation
from trainlab.nn.cnn import SmallCNN
from trainlab.nn.mlp import MLP
from trainlab.nn.zoo import (
    VGG,
    MobileNet,
    MobileNetConfig,
    ResNet,
    ResNetConfig,
    TransformerClassifier,
    TransformerConfig,
    VGGConfig,
)

BATCH_NORM_PLACEMENTS = ("none", "before", "after")
"""Where a hidden layer's batch norm goes: nowhere, before or after the activation (the bias before BN is dropped)."""


def _mlp(input_shape: tuple[int, ...], num_classes: int, **options: object) -> nn.Module:
    return MLP(math.prod(input_shape), num_classes, **options)


MODELS = {"mlp": _mlp, "cnn": SmallCNN}
"""Model name -> ``build(input_shape, num_classes, *, depth, width, activation, batch_norm)``."""


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
    """Build the named model (a name in :data:`MODELS`) for inputs of ``input_shape``."""
    build = MODELS[choose("model", model, tuple(MODELS))]
    choose("batch-norm placement", batch_norm, BATCH_NORM_PLACEMENTS)
    return build(input_shape, num_classes, depth=depth, width=width, activation=activation, batch_norm=batch_norm)


__all__ = ["ACTIVATIONS", "BATCH_NORM_PLACEMENTS", "MLP", "MODELS", "MobileNet", "MobileNetConfig", "ResNet",
           "ResNetConfig", "SmallCNN", "TransformerClassifier", "TransformerConfig", "VGG", "VGGConfig", "build_model",
           "make_activation"]

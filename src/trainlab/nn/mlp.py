"""A multilayer perceptron whose layers are easy to find and probe.

``depth`` hidden layers of ``width`` units; ``depth = 0`` is a linear classifier.
With batch normalization the hidden layers drop their bias: BN's shift beta
replaces it (Ioffe & Szegedy 2015, section 3.2).
"""
from __future__ import annotations

from torch import nn

from trainlab.nn.activations import make_activation
from trainlab.nn.norm import make_batch_norm


class MLP(nn.Sequential):
    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        *,
        depth: int = 2,
        width: int = 100,
        activation: str = "tanh",
        batch_norm: str = "none",
    ) -> None:
        layers: list[nn.Module] = [nn.Flatten()]
        fan_in = input_dim
        for _ in range(depth):
            layers.append(nn.Linear(fan_in, width, bias=batch_norm != "before"))
            if batch_norm == "before":
                layers.append(make_batch_norm(width))
            layers.append(make_activation(activation))
            if batch_norm == "after":
                layers.append(make_batch_norm(width))
            fan_in = width
        layers.append(nn.Linear(fan_in, num_classes))
        super().__init__(*layers)
        self.depth, self.width, self.activation, self.batch_norm = depth, width, activation, batch_norm

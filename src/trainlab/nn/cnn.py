"""A small convolutional network for image data (CIFAR-10, MNIST).

``depth`` blocks of conv 3x3 -> [BN] -> activation -> [BN] -> 2x2 max-pool,
starting at ``width`` channels and doubling each block, then a linear classifier.
"""
from __future__ import annotations

from torch import nn

from trainlab.errors import UserError
from trainlab.nn.activations import make_activation
from trainlab.nn.norm import make_batch_norm


class SmallCNN(nn.Sequential):
    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        *,
        depth: int = 2,
        width: int = 16,
        activation: str = "relu",
        batch_norm: str = "none",
    ) -> None:
        if len(input_shape) != 3:
            raise UserError(f"the cnn model needs image data (channels, height, width), got input shape {input_shape}")
        channels, height, _ = input_shape
        if height >> depth < 1:
            raise UserError(f"cnn depth {depth} pools a {height}-pixel image below one pixel; "
                            f"use --depth <= {height.bit_length() - 1}")
        layers: list[nn.Module] = []
        c_in, c_out = channels, width
        for _ in range(depth):
            layers.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=batch_norm != "before"))
            if batch_norm == "before":
                layers.append(make_batch_norm(c_out, conv=True))
            layers.append(make_activation(activation))
            if batch_norm == "after":
                layers.append(make_batch_norm(c_out, conv=True))
            layers.append(nn.MaxPool2d(2))
            c_in, c_out = c_out, c_out * 2
        layers += [nn.Flatten(), nn.Linear(c_in * (height >> depth) * (input_shape[2] >> depth), num_classes)]
        super().__init__(*layers)

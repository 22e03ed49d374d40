"""Models: shapes, layer structure and bias handling with batch norm."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.nn import MLP, SmallCNN, build_model


def test_depth_zero_is_a_linear_classifier():
    model = build_model("mlp", (3, 4), 5, depth=0, width=10, activation="tanh")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 1 and linears[0].weight.shape == (5, 12)


@pytest.mark.parametrize("activation, cls", [("sigmoid", nn.Sigmoid), ("softsign", nn.Softsign), ("relu", nn.ReLU),
                                             ("leaky-relu", nn.LeakyReLU), ("identity", nn.Identity)])
def test_mlp_layers(activation, cls):
    model = MLP(20, 4, depth=3, width=8, activation=activation)
    assert sum(isinstance(m, cls) for m in model) == 3
    assert model(torch.randn(5, 20)).shape == (5, 4)


def test_batch_norm_before_drops_the_preceding_bias():
    model = MLP(20, 4, depth=2, width=8, batch_norm="before")
    hidden = [m for m in model if isinstance(m, nn.Linear)][:-1]
    assert all(m.bias is None for m in hidden)
    kinds = [type(m).__name__ for m in model]
    assert kinds[1:4] == ["Linear", "BatchNorm1d", "Tanh"]
    after = MLP(20, 4, depth=1, width=8, batch_norm="after")
    assert [type(m).__name__ for m in after][1:4] == ["Linear", "Tanh", "BatchNorm1d"]


def test_cnn_output_shape_for_cifar_and_mnist():
    assert SmallCNN((3, 32, 32), 10, depth=2, width=4)(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert SmallCNN((1, 28, 28), 10, depth=3, width=4)(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_cnn_rejects_flat_inputs_and_too_deep():
    with pytest.raises(UserError, match="image data"):
        SmallCNN((784,), 10)
    with pytest.raises(UserError, match="--depth"):
        SmallCNN((1, 8, 8), 10, depth=5)

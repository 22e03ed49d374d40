"""The hand-written backward pass against autograd, in float64."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trainlab.nn import build_model
from trainlab.population.manual import ManualBackward, manual_layers
from trainlab.population.stacked import StackedMLP

K, B, SHAPE, C = 3, 7, (1, 3, 4), 5


def stacked(activation: str, batch_norm: str = "none") -> StackedMLP:
    models = []
    for seed in range(K):
        torch.manual_seed(seed)
        models.append(build_model("mlp", SHAPE, C, depth=2, width=6, activation=activation,
                                  batch_norm=batch_norm).double())
    return StackedMLP(models, SHAPE, torch.device("cpu"))


def autograd_reference(net: StackedMLP, x: torch.Tensor, y: torch.Tensor, decay: torch.Tensor):
    """Each member's loss and gradients by autograd: mean cross-entropy plus ``0.5 lambda sum ||W||^2``."""
    scores = net(x, train=True)
    target = y if y.dim() == 2 else y.expand(K, -1)
    losses = F.cross_entropy(scores.reshape(K * B, C), target.reshape(-1), reduction="none").view(K, B).mean(1)
    losses = losses + 0.5 * decay * net.weight_norms()
    return losses.detach(), torch.autograd.grad(losses.sum(), net.parameters())


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softsign", "relu", "identity"])
@pytest.mark.parametrize("shared", [False, True], ids=["per-member-batches", "one-shared-batch"])
def test_gradients_match_autograd(activation, shared):
    net = stacked(activation)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, *SHAPE, generator=g, dtype=torch.float64) if shared else \
        torch.randn(K, B, *SHAPE, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (B,) if shared else (K, B), generator=g)
    decay = torch.tensor([0.0, 0.01, 0.3], dtype=torch.float64)
    ref_losses, ref_grads = autograd_reference(net, x, y, decay)
    manual = ManualBackward(net, manual_layers(net, "softmax"))
    losses, grads = manual.gradients(x, y, decay)
    torch.testing.assert_close(losses, ref_losses, rtol=1e-12, atol=1e-12)
    assert len(grads) == len(ref_grads)
    for ours, ref in zip(grads, ref_grads):
        torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("decay", [None, (0.0, 0.05, 0.2)])
def test_fused_sgd_step_is_w_minus_lr_times_the_gradient(decay):
    net = stacked("sigmoid")
    g = torch.Generator().manual_seed(2)
    x = torch.randn(K, B, *SHAPE, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (K, B), generator=g)
    lr = torch.tensor([0.01, 0.1, 1.0], dtype=torch.float64)
    wd = None if decay is None else torch.tensor(decay, dtype=torch.float64)
    ref_losses, ref_grads = autograd_reference(net, x, y, wd if wd is not None else torch.zeros(K, dtype=torch.float64))
    expected = [(p - lr.view(-1, *[1] * (p.dim() - 1)) * gr).detach() for p, gr in zip(net.parameters(), ref_grads)]
    losses = ManualBackward(net, manual_layers(net, "softmax")).sgd_step(x, y, lr, wd)
    torch.testing.assert_close(losses, ref_losses, rtol=1e-12, atol=1e-12)
    for ours, ref in zip(net.parameters(), expected):
        torch.testing.assert_close(ours.detach(), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation, batch_norm, loss", [
    ("tanh", "before", "softmax"), ("tanh", "after", "softmax"), ("leaky-relu", "none", "softmax"),
    ("tanh", "none", "svm"),
])
def test_networks_it_cannot_differentiate_fall_back_to_autograd(activation, batch_norm, loss):
    assert manual_layers(stacked(activation, batch_norm), loss) is None

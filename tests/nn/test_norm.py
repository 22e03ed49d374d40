"""Batch normalization: PyTorch's training computation against the paper's Algorithm 1
in float64, Algorithm 2's population statistics, diagnostics and trainer integration."""
from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch
from torch import nn

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.nn import MLP, SmallCNN
from trainlab.nn.norm import (
    SmallBatchWarning,
    batch_norm_layers,
    batch_statistics_drift,
    estimate_population_statistics_,
    make_batch_norm,
)
from trainlab.train import Trainer


def algorithm1(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float) -> torch.Tensor:
    """Ioffe & Szegedy (2015), Algorithm 1, per feature of [N, C] or per channel of [N, C, H, W]."""
    dims = [0, *range(2, x.ndim)]
    shape = [1, -1, *([1] * (x.ndim - 2))]
    mu = x.mean(dims, keepdim=True)
    var = ((x - mu) ** 2).mean(dims, keepdim=True)  # biased: divide by m
    x_hat = (x - mu) / torch.sqrt(var + eps)
    return gamma.view(shape) * x_hat + beta.view(shape)


@pytest.mark.parametrize("conv,shape", [(False, (32, 6)), (True, (8, 5, 4, 3))])
def test_pytorch_training_forward_and_backward_are_algorithm_1(conv, shape):
    g = torch.Generator().manual_seed(0)
    x = (3.0 * torch.randn(shape, generator=g, dtype=torch.float64) + 2.0).requires_grad_()
    layer = make_batch_norm(shape[1], conv=conv).double().train()
    with torch.no_grad():
        layer.weight.copy_(torch.rand(shape[1], generator=g) + 0.5)
        layer.bias.copy_(torch.randn(shape[1], generator=g))
    gamma = layer.weight.detach().clone().requires_grad_()
    beta = layer.bias.detach().clone().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    upstream = torch.randn(shape, generator=g, dtype=torch.float64)

    ours, ref = layer(x), algorithm1(x_ref, gamma, beta, layer.eps)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    (ours * upstream).sum().backward()
    (ref * upstream).sum().backward()
    for got, want in [(x.grad, x_ref.grad), (layer.weight.grad, gamma.grad), (layer.bias.grad, beta.grad)]:
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_default_test_statistics_are_an_exponential_moving_average():
    layer = make_batch_norm(4).double().train()
    x = torch.randn(16, 4, dtype=torch.float64) + 1.0
    layer(x)
    torch.testing.assert_close(layer.running_mean, 0.9 * 0.0 + 0.1 * x.mean(0))
    torch.testing.assert_close(layer.running_var, 0.9 * 1.0 + 0.1 * x.var(0, unbiased=True))


def trained_mlp(batch_norm: str = "before", conv: bool = False) -> nn.Module:
    torch.manual_seed(1)
    model = SmallCNN((2, 8, 8), 3, depth=1, width=4, batch_norm=batch_norm) if conv else \
        MLP(10, 3, depth=2, width=16, activation="tanh", batch_norm=batch_norm)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        x = torch.randn(32, *((2, 8, 8) if conv else (10,))) + 0.5
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), torch.randint(0, 3, (32,))).backward()
        opt.step()
    return model


@pytest.mark.parametrize("placement,conv", [("before", False), ("after", False), ("before", True)])
def test_algorithm_2_population_statistics(placement, conv):
    model = trained_mlp(placement, conv).double()
    m = 20
    batches = [torch.randn(m, *((2, 8, 8) if conv else (10,)), dtype=torch.float64) * 2 + 1 for _ in range(6)]
    # Reference: each BN layer's inputs in the training network, batch by batch, by hand.
    reference = copy.deepcopy(model).train()
    seen: dict[str, list[torch.Tensor]] = {}
    hooks = [layer.register_forward_pre_hook(lambda mod, inp, name=name: seen.setdefault(name, []).append(inp[0]))
             for name, layer in batch_norm_layers(reference)]
    with torch.no_grad():
        for x in batches:
            reference(x)
    for h in hooks:
        h.remove()

    model.eval()
    momenta = [layer.momentum for _, layer in batch_norm_layers(model)]
    assert estimate_population_statistics_(model, batches) == len(batches)
    assert not model.training and all(not layer.training for _, layer in batch_norm_layers(model))
    assert [layer.momentum for _, layer in batch_norm_layers(model)] == momenta
    for name, layer in batch_norm_layers(model):
        inputs = seen[name]
        dims = [0, *range(2, inputs[0].ndim)]
        size = inputs[0].numel() // inputs[0].shape[1]  # m, or m * H * W for a conv layer
        mean = torch.stack([x.mean(dims) for x in inputs]).mean(0)
        var = size / (size - 1) * torch.stack([((x - x.mean(dims, keepdim=True)) ** 2).mean(dims)
                                               for x in inputs]).mean(0)
        torch.testing.assert_close(layer.running_mean, mean, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(layer.running_var, var, rtol=1e-10, atol=1e-12)


def test_the_bias_before_batch_norm_is_dropped_and_others_are_kept():
    for model in (MLP(10, 3, depth=2, width=8, batch_norm="before"),
                  SmallCNN((1, 8, 8), 3, depth=2, width=4, batch_norm="before")):
        mods = list(model)
        for layer, nxt in zip(mods, mods[1:]):
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                assert (layer.bias is None) == isinstance(nxt, nn.modules.batchnorm._BatchNorm)
        assert mods[-1].bias is not None  # the classifier has no BN after it
    assert all(m.bias is not None for m in MLP(10, 3, depth=2, width=8, batch_norm="after") if isinstance(m, nn.Linear))


def test_small_training_batches_warn():
    layer = make_batch_norm(4)
    with pytest.warns(SmallBatchWarning, match="batch of 4"):
        layer(torch.randn(4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(torch.randn(8, 4))
        layer.eval()(torch.randn(2, 4))


def test_drift_matches_the_sampling_error_of_a_batch_mean():
    # Standard-normal inputs and exact population statistics (0, 1): the batch mean's error in
    # population standard deviations has RMS 1/sqrt(m), and log(sigma_B^2) has RMS about sqrt(2/m).
    layer = make_batch_norm(512).double()
    state = copy.deepcopy(layer.state_dict())
    g = torch.Generator().manual_seed(0)
    for m in (16, 256):
        drift = batch_statistics_drift(nn.Sequential(layer),
                                       [torch.randn(m, 512, generator=g, dtype=torch.float64) for _ in range(4)])
        d = drift["0"]
        assert d.batches == 4
        assert d.mean_shift == pytest.approx(1 / math.sqrt(m), rel=0.1)
        assert d.log_var_ratio == pytest.approx(math.sqrt(2 / m), rel=0.2)
    for key, value in layer.state_dict().items():
        assert torch.equal(value, state[key]), key  # the diagnostic changed nothing


def toy_dataset() -> Dataset:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (300,), generator=g)
    x = torch.randn(300, 10, generator=g) + 2.0 * nn.functional.one_hot(y, 10).float()
    return Dataset("toy", Split(x[:200], y[:200]), Split(x[200:], y[200:]), Split(x[200:], y[200:]), 3, (10,))


def test_trainer_recomputes_population_statistics_by_algorithm_2():
    config = TrainConfig(batch_norm="before", batch_size=20, steps=30, log_every=10, bn_stats="algorithm2")
    trainer = Trainer(config, dataset=toy_dataset(), progress=False)
    trainer.fit()
    ema = Trainer(config.replace(bn_stats="ema"), dataset=toy_dataset(), progress=False)
    ema.fit()
    expected = copy.deepcopy(trainer.model)
    estimate_population_statistics_(expected, [trainer.batch(s)[0] for s in range(trainer.steps_per_epoch)])
    for (_, got), (_, want), (_, moving) in zip(*(batch_norm_layers(t) for t in (trainer.model, expected, ema.model))):
        torch.testing.assert_close(got.running_mean, want.running_mean)
        torch.testing.assert_close(got.running_var, want.running_var)
        assert not torch.allclose(moving.running_var, want.running_var)
    # Independent check on the first layer: equal-size batches, so the average of batch
    # means is the mean of W x over the whole training split.
    first_linear, (_, first_bn) = trainer.model[1], batch_norm_layers(trainer.model)[0]
    with torch.no_grad():
        torch.testing.assert_close(first_bn.running_mean, first_linear(trainer.dataset.train.x).mean(0),
                                   rtol=1e-5, atol=1e-5)

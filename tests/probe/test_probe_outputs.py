"""ProbeConfig's cheaper modes for the watcher: activation outputs only, weight-gradient moments on a subsample."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.probe import Probe, ProbeConfig


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(30, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(), nn.Linear(200, 4))


def _stream(config: ProbeConfig):
    model = _net()
    x, y = torch.randn(64, 30, generator=torch.Generator().manual_seed(1)), torch.arange(64) % 4
    with Probe(model, config=config) as probe:
        probe.begin_step()
        nn.functional.cross_entropy(model(x), y).backward()
        probe.after_backward()
        return probe.end_step(0), model


def test_activation_outputs_only_leaves_linear_outputs_out_but_keeps_their_weight_gradients():
    record, _ = _stream(ProbeConfig(batch=0, on_train_batch=True, outputs="activations"))
    for layer in record.layers:
        if layer.kind == "activation":
            assert layer.activation is not None and layer.backprop_grad is not None
        else:
            assert layer.activation is None and layer.backprop_grad is None and layer.weight_grad is not None
    full, _ = _stream(ProbeConfig(batch=0, on_train_batch=True))
    assert [l.activation.std for l in full.layers if l.kind == "activation"] == \
        [l.activation.std for l in record.layers if l.kind == "activation"]


def test_sampled_weight_gradient_moments_estimate_the_exact_ones():
    exact, model = _stream(ProbeConfig(batch=0, on_train_batch=True))
    sampled, _ = _stream(ProbeConfig(batch=0, on_train_batch=True, sampled_weight_grads=True, sample=4096))
    for e, s, w in zip(exact.layers, sampled.layers, [m for m in model]):
        if e.weight_grad is None:
            continue
        g = w.weight.grad.double().reshape(-1)  # the reference: float64 over every coordinate
        assert e.weight_grad.std == pytest.approx(float(g.std(unbiased=False)), rel=1e-4)
        if g.numel() > 4096:  # estimated on 4096 of 40,000 coordinates: a few percent
            assert s.weight_grad.std == pytest.approx(float(g.std(unbiased=False)), rel=0.05)
        else:
            assert s.weight_grad.std == pytest.approx(e.weight_grad.std, rel=1e-6)


def test_unknown_outputs_mode_names_the_choices():
    with pytest.raises(UserError, match="all, activations"):
        ProbeConfig(outputs="some")

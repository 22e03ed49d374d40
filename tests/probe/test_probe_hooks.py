"""Probe.measure on plain PyTorch models, against float64 autograd; no side effects."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from trainlab.errors import UserError
from trainlab.probe import Probe, ProbeConfig, find_layers


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 16), nn.BatchNorm1d(16), nn.ReLU(),
                         nn.Linear(16, 3))


def _batch(n: int = 40):
    g = torch.Generator().manual_seed(5)
    return torch.randn(n, 12, generator=g), torch.randint(0, 3, (n,), generator=g)


def _reference(model: nn.Module, x, y):
    """Outputs, their gradients and weight gradients with autograd in float64."""
    m = _copy64(model)
    outs = []

    def keep(_module, _inputs, out):
        out.retain_grad()
        outs.append(out)

    handles = [mod.register_forward_hook(keep) for _, mod in find_layers(m)]
    loss = F.cross_entropy(m(x.double()), y)
    loss.backward()
    for h in handles:
        h.remove()
    return m, outs


def _copy64(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).double()


def test_measure_matches_float64_autograd_on_a_plain_sequential():
    model = _mlp()
    x, y = _batch()
    with Probe(model) as probe:
        record = probe.measure(x, y, F.cross_entropy)
    ref, outs = _reference(model, x, y)
    assert [l.name for l in record.layers] == ["0", "1", "2", "3", "4", "5"]
    assert [l.kind for l in record.layers] == ["linear", "activation", "linear", "norm", "activation", "linear"]
    for layer, out in zip(record.layers, outs):
        a, g = out.detach().numpy(), out.grad.numpy()
        assert layer.activation.mean == pytest.approx(a.mean(), abs=1e-5)
        assert layer.activation.std == pytest.approx(a.std(), rel=1e-4)
        assert layer.backprop_grad.std == pytest.approx(g.std(), rel=1e-4)
        assert layer.backprop_grad.percentiles[98] == pytest.approx(np.percentile(g, 98), rel=1e-3, abs=1e-9)
    for layer in record.layers:
        module = ref[layer.index]
        if hasattr(module, "weight"):
            assert layer.weight_grad.std == pytest.approx(module.weight.grad.numpy().std(), rel=1e-4)
            assert layer.weight_grad.mean == pytest.approx(module.weight.grad.numpy().mean(), abs=1e-7)
        else:
            assert layer.weight_grad is None
    relu = record.layer("4")
    assert relu.activation.dead_fraction == pytest.approx((outs[4].detach().numpy() <= 0).all(0).mean())


def test_measure_changes_nothing_and_hooks_are_removed():
    model = _mlp()
    x, y = _batch()
    model.train()
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with Probe(model, config=ProbeConfig(jacobian=True)) as probe:
        probe.measure(x, y, F.cross_entropy)
        assert all(m._forward_hooks for _, m in find_layers(model))
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k  # weights and batch-norm running statistics
    assert all(torch.equal(p.grad, torch.full_like(p, 0.5)) for p in model.parameters())
    assert not any(m._forward_hooks for m in model.modules())
    with pytest.raises(RuntimeError), Probe(model) as probe:
        raise RuntimeError("user code fails inside the block")
    assert not any(m._forward_hooks for m in model.modules())


class Block(nn.Module):
    """A custom module applying its nonlinearity as a function: nothing to find by type."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(12, 8)

    def forward(self, x):
        return torch.tanh(self.fc(x)) * 2


def test_custom_module_named_explicitly():
    torch.manual_seed(1)
    model = nn.Sequential(Block(), nn.Linear(8, 3))
    x, y = _batch()
    with Probe(model, layers=["0", "0.fc"]) as probe:
        record = probe.measure(x, y, F.cross_entropy)
    block = record.layer("0")
    assert block.kind == "other" and block.activation_fn is None and block.weight_grad is None
    out = model[0](x).detach()
    assert block.activation.std == pytest.approx(out.std(unbiased=False).item(), rel=1e-5)
    assert record.layer("0.fc").weight_grad is not None
    with pytest.raises(UserError):
        Probe(model, layers=["nope"])


def test_forward_only_measure_and_update_ratio_estimate():
    model = _mlp().eval()
    x, y = _batch()
    with Probe(model) as probe:
        fwd = probe.measure(x)
        full = probe.measure(x, y, F.cross_entropy, lr=0.1)
    assert all(l.backprop_grad is None and l.weight_grad is None for l in fwd.layers)
    ref, _ = _reference(model, x, y)
    w, g = ref[0].weight, ref[0].weight.grad
    assert full.layer("0").update_ratio == pytest.approx(0.1 * (g.norm() / w.norm()).item(), rel=1e-4)


def test_jacobian_mean_singular_value_matches_numpy_svd():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(12, 10), nn.Tanh(), nn.Linear(10, 10), nn.Tanh(), nn.Linear(10, 3))
    x, y = _batch()
    with Probe(model, config=ProbeConfig(jacobian=True, jacobian_examples=3)) as probe:
        record = probe.measure(x, y, F.cross_entropy)
    assert record.layer("1").jacobian_singular_mean is None  # no previous activation layer
    w = model[2].weight.detach().double().numpy()
    means = []
    for i in range(3):
        a = torch.tanh(model[2](torch.tanh(model[0](x[i])))).detach().double().numpy()
        jac = np.diag(1 - a**2) @ w  # d tanh(W h + b) / d h
        means.append(np.linalg.svd(jac, compute_uv=False).mean())
    assert record.layer("3").jacobian_singular_mean == pytest.approx(np.mean(means), rel=1e-4)


def test_nan_activations_are_counted():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with Probe(model) as probe:
        record = probe.measure(torch.randn(10, 4))
    assert record.layer("0").activation.nan_count == 10
    assert record.layer("0").activation.inf_count == 0


def test_update_ratio_of_a_large_weight_is_estimated_on_a_fixed_subsample():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(100, 300), nn.Tanh(), nn.Linear(300, 3))  # 30,000 and 900 weights
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)  # not plain SGD: the change is measured
    x, y = _batch(64)[0].repeat(1, 9)[:, :100], _batch(64)[1]
    with Probe(model, config=ProbeConfig(batch=0, on_train_batch=True, sample=4096)) as probe:
        for _ in range(2):
            before = [model[0].weight.detach().clone(), model[2].weight.detach().clone()]
            probe.begin_step()
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            probe.after_backward()
            optimizer.step()
            record = probe.end_step(0)
    exact = [((m.weight.detach() - w).norm() / w.norm()).item() for m, w in zip((model[0], model[2]), before)]
    assert record.layer("0").update_ratio == pytest.approx(exact[0], rel=0.05)  # 4,096 of 30,000 coordinates
    assert record.layer("2").update_ratio == pytest.approx(exact[1], rel=1e-5)  # small enough: exact

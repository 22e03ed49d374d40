"""ProbeConfig's cheaper modes for the watcher: activation outputs only, weight-gradient moments on a subsample."""
from __future__ import annotations

import weakref

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.probe import Probe, ProbeConfig
from trainlab.probe.stats import Spec, decode, estimate, moments_only, reduce_tensor


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(30, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(), nn.Linear(200, 4))


def _stream(config: ProbeConfig, *, distributions: bool = True, step: bool = False):
    """One training step of ``_net`` probed (``step``: with an SGD step, for the update ratios)."""
    model = _net()
    x, y = torch.randn(64, 30, generator=torch.Generator().manual_seed(1)), torch.arange(64) % 4
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    with Probe(model, config=config) as probe:
        probe.begin_step(distributions=distributions)
        nn.functional.cross_entropy(model(x), y).backward()
        probe.after_backward()
        if step:
            optimizer.step()
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


def test_a_moments_only_record_estimates_the_full_records_moments_and_sorts_nothing():
    config = ProbeConfig(batch=0, on_train_batch=True, outputs="activations", sampled_weight_grads=True, sample=4096)
    full, _ = _stream(config, step=True)
    light, model = _stream(config, distributions=False, step=True)
    assert full.distributions and not light.distributions
    for f, l, module in zip(full.layers, light.layers, model):
        assert l.backprop_grad is None and (f.backprop_grad is not None) == (f.kind == "activation")
        assert l.update_ratio == f.update_ratio
        if f.kind == "linear":  # weight gradients: both on the same subsample
            assert l.update_ratio is not None and l.weight_grad.std == pytest.approx(f.weight_grad.std, rel=1e-6)
        for a, b in ((f.activation, l.activation), (f.weight_grad, l.weight_grad)):
            if a is None:
                assert b is None
                continue
            # activations of 64 x 200 values: estimated on 4,096 of them
            assert b.std == pytest.approx(a.std, rel=0.05) and b.nan_count == a.nan_count == 0
            assert b.mean == pytest.approx(a.mean, abs=0.05 * a.std)
            if a.saturated_fraction is not None:
                assert b.saturated_fraction == pytest.approx(a.saturated_fraction, abs=0.03)
            assert a.histogram is not None and a.percentiles
            assert b.histogram is None and b.percentiles == {}
            assert b.to_dict()["hist_counts"] is None


def test_the_update_ratio_is_the_relative_size_of_the_step():
    before = _net()
    record, after = _stream(ProbeConfig(batch=0, on_train_batch=True, sample=10**6), step=True)
    for layer, old, new in zip(record.layers, before, after):
        if layer.kind != "linear":
            continue
        w0, w1 = old.weight.detach().double(), new.weight.detach().double()
        assert layer.update_ratio == pytest.approx(float((w1 - w0).norm() / w0.norm()), rel=1e-5)


@pytest.mark.parametrize("fn", ["tanh", "relu"])
def test_estimate_is_close_to_the_exact_summary_of_a_large_activation(fn: str):
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(256, 32, 14, 14, generator=g)
    # channels from saturated (or dead) to healthy
    t = torch.tanh(2 * noise + torch.linspace(-3, 3, 32).reshape(1, 32, 1, 1)) if fn == "tanh" else \
        torch.relu(noise + torch.linspace(-6, 2, 32).reshape(1, 32, 1, 1))
    spec = Spec.for_activation(fn)
    exact = decode(reduce_tensor(t, spec, bins=10, sample=10**7).tolist(), spec, bins=10)
    guess = moments_only(estimate(t, spec, sample=8192).scalars, spec)
    reference = t.double()
    # float32 dot products over 1.6M values: their rounding depends on the BLAS kernel the CPU gets
    # (1.1e-5 relative on one of this project's machines, under 1e-5 on another)
    assert exact.std == pytest.approx(float(reference.std(unbiased=False)), rel=1e-4)
    assert guess.std == pytest.approx(exact.std, rel=0.03) and guess.mean == pytest.approx(exact.mean, abs=0.03)
    if fn == "tanh":
        truth = float((reference.abs() >= spec.saturation_threshold).double().mean())
        assert guess.saturated_fraction == pytest.approx(truth, abs=0.02) and 0.2 < truth < 0.8
    else:
        truth = float((reference.reshape(256, -1).amax(0) <= 0).double().mean())  # channel-positions never on
        assert guess.dead_fraction == pytest.approx(truth, abs=0.08) and 0.1 < truth < 0.9


@pytest.mark.parametrize("distributions", [True, False])
def test_a_training_step_does_not_hold_the_layer_outputs(distributions: bool):
    """Autograd frees a Linear output once Tanh has used it (Tanh keeps its own output): the probe must not
    hold it until the step ends (holding them slowed the watched backward pass by 2-3 ms on a 5x1000 MLP)."""
    model = _net()
    x, y = torch.randn(64, 30), torch.arange(64) % 4
    refs: list[weakref.ref] = []
    with Probe(model, config=ProbeConfig(batch=0, on_train_batch=True)) as probe:
        handle = model[0].register_forward_hook(lambda _m, _i, out: refs.append(weakref.ref(out)))
        probe.begin_step(distributions=distributions)
        loss = nn.functional.cross_entropy(model(x), y)
        assert refs[0]() is None
        loss.backward()
        probe.after_backward()
        record = probe.end_step(0)
        handle.remove()
    assert record.layer("0").weight_grad is not None and record.layer("1").activation is not None

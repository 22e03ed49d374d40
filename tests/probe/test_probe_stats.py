"""Tensor statistics against numpy, with NaN/Inf counted and never dropped."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trainlab.errors import UserError
from trainlab.probe.config import ProbeConfig
from trainlab.probe.stats import (
    GRADIENT,
    PERCENTILES,
    SATURATION_DEFAULTS,
    Spec,
    decode,
    moments_of,
    moments_only,
    pending,
    reduce_tensor,
    resolve,
    summarize,
)


def _stats(t: torch.Tensor, spec: Spec, bins: int = 20, sample: int = 100_000):
    return decode(reduce_tensor(t, spec, bins=bins, sample=sample).tolist(), spec, bins=bins)


def test_moments_percentiles_and_nonfinite_counts_match_numpy():
    g = torch.Generator().manual_seed(1)
    t = torch.randn(40, 25, generator=g) * 3 + 1
    t[0, 0], t[3, 7] = float("nan"), float("inf")
    t[5, 5] = float("-inf")
    s = _stats(t, GRADIENT)
    a = t.double().numpy().ravel()
    finite = a[np.isfinite(a)]
    assert s.nan_count == 1 and s.inf_count == 2
    assert s.mean == pytest.approx(finite.mean(), rel=1e-5)
    assert s.var == pytest.approx(finite.var(), rel=1e-4)
    assert s.std == pytest.approx(finite.std(), rel=1e-4)
    for p in PERCENTILES:
        assert s.percentiles[p] == pytest.approx(np.percentile(finite, p), rel=1e-4, abs=1e-5)
    m = np.abs(finite).max()
    counts, edges = np.histogram(finite, bins=20, range=(-m, m))
    assert s.histogram.counts == counts.tolist()
    assert s.histogram.edges == pytest.approx(edges.tolist(), rel=1e-5)
    assert s.saturated_fraction is None and s.dead_fraction is None


@pytest.mark.parametrize("fn,make", [("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
                                     ("softsign", torch.nn.functional.softsign)])
def test_saturation_follows_the_documented_rule(fn, make):
    x = torch.randn(500, 30, generator=torch.Generator().manual_seed(2)) * 4
    a = make(x)
    s = _stats(a, Spec.for_activation(fn))
    u = (2 * a - 1) if fn == "sigmoid" else a
    expected = (u.abs().numpy() >= SATURATION_DEFAULTS[fn]).mean()
    assert s.saturated_fraction == pytest.approx(expected, abs=1e-6)
    lo, hi = (0.0, 1.0) if fn == "sigmoid" else (-1.0, 1.0)
    counts, _ = np.histogram(a.numpy().ravel(), bins=20, range=(lo, hi))
    assert s.histogram.counts == counts.tolist()
    # the default is where the slope drops below 5% of its maximum
    slope = {"tanh": 1 - a**2, "sigmoid": 4 * a * (1 - a), "softsign": (1 - a.abs()) ** 2}[fn]
    assert expected == pytest.approx((slope.numpy() < 0.05).mean(), abs=2e-3)
    custom = _stats(a, Spec.for_activation(fn, 0.5))
    assert custom.saturated_fraction == pytest.approx((u.abs().numpy() >= 0.5).mean(), abs=1e-6)


def test_dead_relu_units_are_units_never_active_on_the_batch():
    x = torch.randn(64, 10, generator=torch.Generator().manual_seed(3))
    x[:, :3] = -x[:, :3].abs()  # three units never positive
    s = _stats(torch.relu(x), Spec.for_activation("relu"))
    assert s.dead_fraction == pytest.approx(0.3)
    assert s.saturated_fraction is None


def test_large_tensors_estimate_percentiles_and_histogram_on_a_fixed_subsample():
    t = torch.randn(200_000, generator=torch.Generator().manual_seed(4)) * 2 + 0.5
    a = t.double().numpy()
    s = _stats(t, GRADIENT, sample=8192)
    assert s.mean == pytest.approx(a.mean(), rel=1e-5) and s.var == pytest.approx(a.var(), rel=1e-5)  # exact
    for p in PERCENTILES:
        q = np.percentile(a, p)
        density = math.exp(-((q - 0.5) / 2) ** 2 / 2) / (2 * math.sqrt(2 * math.pi))
        standard_error = math.sqrt(p / 100 * (1 - p / 100) / 8192) / density  # of a sample quantile
        assert s.percentiles[p] == pytest.approx(q, abs=4 * standard_error)
    counts = np.array(s.histogram.counts)
    assert counts.sum() == 8192  # the histogram counts the subsample
    exact, _ = np.histogram(a, bins=20, range=(s.histogram.edges[0], s.histogram.edges[-1]))
    expected = exact / len(a) * 8192
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected) + 1)  # binomial error per bin
    again = _stats(t, GRADIENT, sample=8192)
    assert again.percentiles == s.percentiles and again.histogram == s.histogram  # a fixed subsample


def test_all_nan_tensor_is_counted_not_crashing():
    s = _stats(torch.full((4, 4), float("nan")), GRADIENT)
    assert s.nan_count == 16 and sum(s.histogram.counts) == 0 and math.isnan(s.mean)


def test_probe_config_parse():
    cfg = ProbeConfig.parse("every=10,batch=100,jacobian,train,bins=30,saturation=0.9")
    assert (cfg.every, cfg.batch, cfg.jacobian, cfg.on_train_batch, cfg.bins, cfg.saturation_threshold) == \
        (10, 100, True, True, 30, 0.9)
    assert ProbeConfig.parse("every=5") == ProbeConfig(every=5)
    for bad in ("batch=3", "every=x", "every=0", "every=5,bogus", "every=5,saturation=2", "every=5,batch=0"):
        with pytest.raises(UserError):
            ProbeConfig.parse(bad)


@pytest.mark.parametrize("spec", [GRADIENT, Spec.for_activation("tanh"), Spec.for_activation("relu")])
def test_cpu_shortcut_and_sync_free_path_agree(spec):
    g = torch.Generator().manual_seed(6)
    tensors = [torch.randn(300, 40, generator=g), torch.relu(torch.randn(300, 40, generator=g)),
               torch.tanh(3 * torch.randn(300, 40, generator=g)), torch.full((10, 3), 2.0)]
    for t in tensors:
        fast = reduce_tensor(t, spec, bins=25, host_reads=True)
        slow = reduce_tensor(t, spec, bins=25, host_reads=False)
        assert torch.allclose(fast, slow, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_variance_stays_exact_when_the_mean_dominates():
    g = torch.Generator().manual_seed(7)
    for t in (1000 + 1e-3 * torch.randn(50_000, generator=g), 1e-3 * torch.randn(50_000, generator=g)):
        a = t.double().numpy()
        for host_reads in (True, False):
            s = decode(reduce_tensor(t, GRADIENT, bins=10, host_reads=host_reads).tolist(), GRADIENT, bins=10)
            assert s.mean == pytest.approx(a.mean(), rel=1e-6)
            assert s.var == pytest.approx(a.var(), rel=1e-3)  # float32 deviations of 1e-3 around 1000


def test_moments_of_many_samples_at_once_match_float64_and_summarize():
    """The stacked reduction of a moments-only record gives each sample's own moments and saturated fraction
    (float64 reference), and falls back to ``summarize`` for a sample holding NaN/Inf."""
    g = torch.Generator().manual_seed(0)
    tanh = Spec.for_activation("tanh")
    samples = [torch.tanh(3 * torch.randn(2048, generator=g) + shift) for shift in (0.0, 1.0, -2.0)]
    samples.append(torch.randn(500, generator=g))  # another length: its own group
    bad = torch.randn(2048, generator=g)
    bad[7] = float("nan")
    samples.append(bad)
    specs = [tanh, tanh, tanh, Spec(), Spec()]
    got = [moments_only(p.scalars, spec) for p, spec in zip(moments_of(samples, specs), specs)]
    for s, spec, stats in zip(samples[:4], specs, got):
        ref = s.double()
        assert stats.mean == pytest.approx(float(ref.mean()), abs=1e-6)
        assert stats.std == pytest.approx(float(ref.std(unbiased=False)), rel=1e-5)
        if spec.measures_saturation:
            truth = float((ref.abs() >= spec.saturation_threshold).double().mean())
            assert stats.saturated_fraction == pytest.approx(truth, abs=1e-12)
    alone = moments_only(summarize(bad, Spec(), keep_sample=False).scalars, Spec())
    assert got[4].nan_count == 1 == alone.nan_count and got[4].mean == pytest.approx(alone.mean)


def test_pending_activations_resolved_together_match_float64():
    """Activations small enough to be reduced whole (at most ``sample`` values and ``DEAD_UNITS`` units), two of
    them of one shape and spec (stacked together), against float64: moments, dead and saturated fractions."""
    g = torch.Generator().manual_seed(1)
    relu, tanh = Spec.for_activation("relu"), Spec.for_activation("tanh")
    acts = [(torch.relu(torch.randn(64, 8, 4, 4, generator=g) - 1.5), relu),
            (torch.tanh(2 * torch.randn(64, 100, generator=g)), tanh),
            (torch.relu(torch.randn(64, 100, generator=g) - 1.0), relu),
            (torch.relu(torch.randn(64, 100, generator=g) - 2.0), relu)]
    together = resolve([pending(t, spec, sample=8192) for t, spec in acts])
    for (t, spec), partial in zip(acts, together):
        got, ref = moments_only(partial.scalars, spec), t.double()
        assert got.mean == pytest.approx(float(ref.mean()), rel=1e-5)
        assert got.std == pytest.approx(float(ref.std(unbiased=False)), rel=1e-5)
        if spec.dead:
            assert got.dead_fraction == pytest.approx(float((ref.reshape(64, -1).amax(0) <= 0).double().mean()))
        else:
            truth = float((ref.abs() >= spec.saturation_threshold).double().mean())
            assert got.saturated_fraction == pytest.approx(truth, abs=1e-12) and 0 < truth < 1
    assert 0 < moments_only(together[3].scalars, relu).dead_fraction < 1

"""Statistics of one tensor, reduced on its own device into one flat vector.

:func:`reduce_tensor` returns a 1-D tensor laid out as :data:`FIELDS` followed
by ``bins`` histogram counts, so a probe can stack every layer's vectors and
move them to the host with one copy (one synchronisation per record, none per
layer). :func:`decode` turns a row back into :class:`TensorStats`.

Conventions:

* NaN and Inf are counted (``nan_count``, ``inf_count``) and left out of every
  other statistic, never silently dropped.
* Mean, variance and std (population, ``1/N``) use every finite value.
* Percentiles (2, 15, 50, 85, 98, as Glorot & Bengio 2010 plot) are exact on
  tensors up to ``sample`` values and otherwise taken on an evenly strided
  subsample of about ``sample`` values (a percentile's standard error is then
  about ``sqrt(p(1-p)/sample)`` in probability, 0.0015 at p=0.02 and 8192).
* Histograms count every finite value, in ``bins`` equal bins over a range
  that fits the quantity: the activation function's output range when it is
  bounded (tanh/softsign ``[-1, 1]``, sigmoid ``[0, 1]``), ``[min, max]`` for
  ReLU-like outputs, and ``[-m, m]`` with ``m = max |x|`` otherwise. Counts are
  accumulated with ``scatter_add_`` so a data-dependent range needs no host sync.
* The saturated fraction is defined per activation through its output ``a``
  rescaled to ``[-1, 1]`` (``u = a`` for tanh and softsign, ``u = 2a - 1`` for
  sigmoid): a unit is saturated where ``|u| >= threshold``. The default
  thresholds (:data:`SATURATION_DEFAULTS`) mark where the local slope has fallen
  below 5% of the function's largest slope: ``1 - u^2 < 0.05`` for tanh and
  sigmoid (``|u| >= 0.975``), ``(1 - |u|)^2 < 0.05`` for softsign (``|u| >= 0.776``).
* The dead fraction (ReLU family) is the fraction of units (features; channels
  and positions for conv maps) that are never positive on the batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

PERCENTILES: tuple[int, ...] = (2, 15, 50, 85, 98)
FIELDS: tuple[str, ...] = ("mean", "std", "var", *(f"p{p}" for p in PERCENTILES),
                           "saturated_fraction", "dead_fraction", "nan_count", "inf_count", "hist_lo", "hist_hi")
DEFAULT_SAMPLE = 8192

# activation name -> (center, half range): u = (a - center) / half_range lies in [-1, 1]
SATURATING: dict[str, tuple[float, float]] = {"tanh": (0.0, 1.0), "softsign": (0.0, 1.0), "sigmoid": (0.5, 0.5),
                                               "hardtanh": (0.0, 1.0)}
SATURATION_DEFAULTS: dict[str, float] = {
    "tanh": math.sqrt(0.95),  # 1 - u^2 < 0.05
    "sigmoid": math.sqrt(0.95),  # sigmoid'(x) / (1/4) = 1 - u^2 with u = 2a - 1
    "softsign": 1 - math.sqrt(0.05),  # (1 - |u|)^2 < 0.05
    "hardtanh": 1.0,
}
RELU_FAMILY: frozenset[str] = frozenset({"relu", "leaky-relu", "relu6", "elu", "gelu", "silu", "softplus"})
BOUNDED_RANGE: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "sigmoid": (0.0, 1.0),
                                                 "hardtanh": (-1.0, 1.0)}


@dataclass(frozen=True)
class Histogram:
    counts: list[int]
    edges: list[float]  # len(counts) + 1


@dataclass(frozen=True)
class TensorStats:
    """Summary of one tensor: moments, percentiles, saturation, dead units, NaN/Inf, histogram."""

    mean: float
    std: float
    var: float
    percentiles: dict[int, float]
    saturated_fraction: float | None
    dead_fraction: float | None
    nan_count: int
    inf_count: int
    histogram: Histogram = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.std, "var": self.var,
                **{f"p{p}": v for p, v in self.percentiles.items()},
                "saturated_fraction": self.saturated_fraction, "dead_fraction": self.dead_fraction,
                "nan_count": self.nan_count, "inf_count": self.inf_count,
                "hist_counts": list(self.histogram.counts), "hist_edges": list(self.histogram.edges)}


@dataclass(frozen=True)
class Spec:
    """How to reduce one tensor: its activation function (or None), the range mode, the threshold."""

    activation_fn: str | None = None
    saturation_threshold: float | None = None
    dead: bool = False
    range_mode: str = "symmetric"  # "fixed" | "minmax" | "symmetric"
    fixed_range: tuple[float, float] = (0.0, 1.0)

    @property
    def measures_saturation(self) -> bool:
        return self.saturation_threshold is not None and self.activation_fn in SATURATING

    @classmethod
    def for_activation(cls, fn: str | None, threshold: float | None = None) -> "Spec":
        if fn in SATURATING:
            return cls(fn, threshold if threshold is not None else SATURATION_DEFAULTS[fn], False,
                       "fixed", BOUNDED_RANGE[fn])
        if fn in RELU_FAMILY:
            return cls(fn, None, True, "minmax")
        return cls(fn)


GRADIENT = Spec()


def width(bins: int) -> int:
    return len(FIELDS) + bins


def reduce_tensor(t: torch.Tensor, spec: Spec, *, bins: int, sample: int = DEFAULT_SAMPLE,
                  host_reads: bool | None = None) -> torch.Tensor:
    """Reduce ``t`` (any shape; dim 0 is the batch for activations) to a vector of ``width(bins)`` on its device.

    On an accelerator the reduction never synchronises with the host. On the CPU
    reading a number is free, so (``host_reads``, default: on CPU) it first checks
    that every value is finite and then takes a shorter path (one ``torch.histc``
    instead of computing bins); both paths give the same numbers.
    """
    t = t.detach()
    flat = t.reshape(-1).float()
    if host_reads is None:
        host_reads = flat.device.type == "cpu"
    if host_reads and flat.numel() and math.isfinite(float(flat.sum())):
        return _reduce_finite(t, flat, spec, bins, sample)
    device = flat.device
    size = flat.numel()
    finite = torch.isfinite(flat)
    n = finite.count_nonzero()
    nan_count = (flat != flat).count_nonzero()
    inf_count = size - n - nan_count
    clean = torch.where(finite, flat, torch.zeros((), device=device))
    mean, var = _moments(clean, n, size)
    lo, hi = _range(clean, spec)
    counts = _histogram(flat, clean, finite, lo, hi, bins, spec)
    return _assemble(t, flat, spec, sample, n, mean, var, nan_count.float(), inf_count.float(), lo, hi, counts)


def _reduce_finite(t: torch.Tensor, flat: torch.Tensor, spec: Spec, bins: int, sample: int) -> torch.Tensor:
    """The CPU path for a tensor known to be all finite: fewer passes, ``histc`` on a known range."""
    var, mean = torch.var_mean(flat, correction=0)
    lo, hi = _range(flat, spec)
    lo_f, hi_f = float(lo), float(hi)
    counts = torch.histc(flat, bins, lo_f, hi_f)
    zero = torch.zeros((), device=flat.device)
    n = torch.tensor(flat.numel(), device=flat.device)
    return _assemble(t, flat, spec, sample, n, mean, var, zero, zero, lo, hi, counts)


def _assemble(t, flat, spec, sample, n, mean, var, nan_count, inf_count, lo, hi, counts) -> torch.Tensor:
    nan = torch.full((), float("nan"), device=flat.device)
    sat = nan
    if spec.measures_saturation:
        center, half = SATURATING[spec.activation_fn]
        # NaN compares False, so only finite saturated values count
        sat = ((flat - center).abs() >= spec.saturation_threshold * half).count_nonzero() / n
    dead = _dead_fraction(t) if spec.dead else nan
    head = torch.stack([mean, var.sqrt(), var, *_percentiles(flat, sample), sat, dead, nan_count, inf_count,
                        lo.float(), hi.float()])
    return torch.cat([head.float(), counts.float()])


def _moments(clean: torch.Tensor, n: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and population variance of the ``n`` finite values, from one fused pass over ``clean``.

    ``clean`` holds zeros where values were not finite; with ``m`` its mean over
    all ``size`` entries and ``V`` its population variance, the finite values'
    mean is ``mu = m * size / n`` and their sum of squared deviations is
    ``size * V + size * (m - mu)^2 - (size - n) * mu^2``.
    """
    if size == 0:
        nan = torch.full((), float("nan"), device=clean.device)
        return nan, nan
    var_all, mean_all = (v.double() for v in torch.var_mean(clean, correction=0))
    n = n.double()
    mu = mean_all * size / n
    sq = size * var_all + size * (mean_all - mu) ** 2 - (size - n) * mu**2
    return mu.float(), (sq / n).clamp_min(0).float()


def _percentiles(flat: torch.Tensor, sample: int) -> list[torch.Tensor]:
    values = flat[:: max(1, flat.numel() // sample)]
    values = torch.where(torch.isfinite(values), values, torch.full((), float("nan"), device=flat.device))
    q = torch.tensor([p / 100 for p in PERCENTILES], device=flat.device)
    if values.numel() == 0:
        return list(torch.full((len(PERCENTILES),), float("nan"), device=flat.device))
    return list(torch.nanquantile(values, q))


def _dead_fraction(t: torch.Tensor) -> torch.Tensor:
    """Fraction of units never positive over the batch (dim 0); conv maps count each channel-position."""
    if t.dim() < 2:
        return (t <= 0).all().float()
    return (t.reshape(t.shape[0], -1) <= 0).all(dim=0).float().mean()


def _range(clean: torch.Tensor, spec: Spec) -> tuple[torch.Tensor, torch.Tensor]:
    device = clean.device
    if spec.range_mode == "fixed":
        lo, hi = spec.fixed_range
        return torch.tensor(lo, device=device), torch.tensor(hi, device=device)
    if clean.numel() == 0:
        return torch.zeros((), device=device), torch.ones((), device=device)
    lo, hi = torch.aminmax(clean)
    if spec.range_mode == "minmax":
        return lo, torch.where(hi > lo, hi, lo + 1)  # a constant tensor still gets a range
    m = torch.maximum(-lo, hi).clamp_min(1e-30)
    return -m, m


def _histogram(flat: torch.Tensor, clean: torch.Tensor, finite: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
               bins: int, spec: Spec) -> torch.Tensor:
    """Counts of the finite values in ``bins`` equal bins over ``[lo, hi]``.

    A fixed range uses ``torch.histc`` (it ignores NaN, Inf and values outside
    the range). A data-dependent range is only known on the device, so bins are
    computed there and counted with ``bincount``/``scatter_add_``; the zeros that
    stand in for non-finite values are taken back out of their bin.
    """
    if spec.range_mode == "fixed":
        return torch.histc(flat, bins, *spec.fixed_range)
    scale = bins / (hi - lo)
    index = ((clean - lo) * scale).clamp_(0, bins - 1).long()
    if flat.device.type == "cpu":
        counts = torch.bincount(index, minlength=bins).float()
    else:  # bincount would synchronise to find the largest index
        counts = torch.zeros(bins, device=flat.device).scatter_add_(0, index, torch.ones_like(clean))
    zero_bin = ((0 - lo) * scale).clamp(0, bins - 1).long().reshape(1)
    missing = (flat.numel() - finite.count_nonzero()).float().reshape(1)
    return counts.scatter_add_(0, zero_bin, -missing)


def decode(row: list[float], spec: Spec, *, bins: int) -> TensorStats:
    """A :class:`TensorStats` from one host row made by :func:`reduce_tensor`."""
    value = dict(zip(FIELDS, row[:len(FIELDS)]))
    counts = [int(round(c)) for c in row[len(FIELDS):len(FIELDS) + bins]]
    lo, hi = value["hist_lo"], value["hist_hi"]
    edges = [lo + (hi - lo) * i / bins for i in range(bins + 1)]
    return TensorStats(
        mean=value["mean"], std=value["std"], var=value["var"],
        percentiles={p: value[f"p{p}"] for p in PERCENTILES},
        saturated_fraction=value["saturated_fraction"] if spec.measures_saturation else None,
        dead_fraction=value["dead_fraction"] if spec.dead else None,
        nan_count=int(value["nan_count"]), inf_count=int(value["inf_count"]),
        histogram=Histogram(counts, edges),
    )

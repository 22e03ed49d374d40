"""Batch normalization (Ioffe & Szegedy, 2015) and its test-time statistics.

Training (Algorithm 1) is PyTorch's ``BatchNorm1d``/``BatchNorm2d``: per feature
(per channel over batch, height and width for conv layers) the batch mean
``mu_B`` and *biased* variance ``sigma_B^2``, ``x_hat = (x - mu_B) / sqrt(sigma_B^2 + eps)``,
``y = gamma x_hat + beta``; ``tests/test_batchnorm.py`` checks this against the
formulas written out in float64. What PyTorch lacks is written here:

* the population statistics of the paper's Algorithm 2, ``E[x] = E_B[mu_B]`` and
  ``Var[x] = m / (m - 1) E_B[sigma_B^2]`` over training batches of size ``m``
  (:func:`estimate_population_statistics_`); PyTorch's default is an exponential
  moving average (momentum 0.1), kept as the ``ema`` choice;
* diagnostics: how far each batch's statistics stray from the population ones
  (:func:`batch_statistics_drift`), and a :class:`SmallBatchWarning` when a
  training batch has fewer than ``min_batch`` (default 8) examples, below which
  batch statistics are too noisy to normalize with (and 1 example is undefined).
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

BN_STATISTICS = ("ema", "algorithm2")
"""Test-time batch-norm statistics: the running average (PyTorch's), or Algorithm 2's population averages."""

MIN_BATCH = 8


class SmallBatchWarning(UserWarning):
    """Batch normalization trained on a batch too small for reliable statistics."""


class _WarnOnSmallBatch:
    """Mixin for PyTorch batch-norm classes: warn when a training batch is tiny."""

    min_batch: int = MIN_BATCH

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.shape[0] < self.min_batch:
            warnings.warn(f"batch normalization on a training batch of {x.shape[0]} examples (< {self.min_batch}): "
                          "batch statistics are too noisy to normalize with; use --batch-size 32 or more",
                          SmallBatchWarning, stacklevel=2)
        return super().forward(x)


class BatchNorm1d(_WarnOnSmallBatch, nn.BatchNorm1d):
    """``nn.BatchNorm1d`` (per feature of ``[N, C]``) with the small-batch warning."""


class BatchNorm2d(_WarnOnSmallBatch, nn.BatchNorm2d):
    """``nn.BatchNorm2d`` (per channel of ``[N, C, H, W]``) with the small-batch warning."""


def make_batch_norm(num_features: int, *, conv: bool = False, momentum: float | None = 0.1,
                    eps: float = 1e-5, min_batch: int = MIN_BATCH) -> nn.Module:
    """A batch-norm layer; ``momentum`` is the EMA factor of the running statistics
    (``None``: a cumulative average, as Algorithm 2 uses)."""
    layer = (BatchNorm2d if conv else BatchNorm1d)(num_features, eps=eps, momentum=momentum)
    layer.min_batch = min_batch
    return layer


def batch_norm_layers(model: nn.Module) -> list[tuple[str, _BatchNorm]]:
    """``(name, layer)`` for every batch-norm layer of ``model``, in module order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, _BatchNorm)]


def _reduce_dims(x: torch.Tensor) -> list[int]:
    return [0, *range(2, x.ndim)]


@contextmanager
def _batch_statistics_mode(model: nn.Module) -> Iterator[list[tuple[str, _BatchNorm]]]:
    """Everything in eval mode except the batch-norm layers, which normalize with batch
    statistics as in training; every module's mode and momentum are restored on exit."""
    layers = batch_norm_layers(model)
    modes = {m: m.training for m in model.modules()}
    momenta = {layer: layer.momentum for _, layer in layers}
    model.eval()
    for _, layer in layers:
        layer.train()
    try:
        yield layers
    finally:
        for m, mode in modes.items():
            m.train(mode)
        for layer, momentum in momenta.items():
            layer.momentum = momentum


@torch.no_grad()
def estimate_population_statistics_(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Replace every batch-norm layer's running statistics by Algorithm 2's estimate.

    One pass of the training network over ``batches`` (inputs only): each layer's
    running mean becomes the average of its batch means and its running variance
    the average of the unbiased batch variances ``m/(m-1) sigma_B^2``, which is
    PyTorch's cumulative average (``momentum=None``) after a reset. Returns the
    number of batches used.
    """
    count = 0
    with _batch_statistics_mode(model) as layers:
        if not layers:
            return 0
        for _, layer in layers:
            layer.reset_running_stats()
            layer.momentum = None
        device = next(model.parameters()).device
        for x in batches:
            model(x.to(device))
            count += 1
    return count


@dataclass(frozen=True)
class StatsDrift:
    """How far one layer's batch statistics stray from its population statistics.

    ``mean_shift``: RMS over features of ``(mu_B - E[x]) / sqrt(Var[x] + eps)``, the batch
    mean's error in population standard deviations (about ``1/sqrt(m)`` for independent
    examples); ``log_var_ratio``: RMS over features of ``log((sigma_B^2 + eps) / (Var[x] + eps))``.
    Both are averaged over the batches given.
    """

    mean_shift: float
    log_var_ratio: float
    batches: int


@contextmanager
def _frozen_running_statistics(layers: list[tuple[str, _BatchNorm]]) -> Iterator[None]:
    saved = [{k: v.clone() for k, v in layer.state_dict().items()} for _, layer in layers]
    try:
        yield
    finally:
        for (_, layer), state in zip(layers, saved):
            layer.load_state_dict(state)


@torch.no_grad()
def batch_statistics_drift(model: nn.Module, batches: Iterable[torch.Tensor]) -> dict[str, StatsDrift]:
    """For each batch-norm layer (by module name), the :class:`StatsDrift` of its training-mode
    batch statistics on ``batches`` against its current running statistics. The model's
    state is left unchanged."""
    sums: dict[str, list[float]] = {}
    handles = []

    def record(name: str, layer: _BatchNorm):
        def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            x = inputs[0].double()
            dims = _reduce_dims(x)
            mean, var = x.mean(dims), x.var(dims, unbiased=False)
            pop_var = layer.running_var.double() + layer.eps
            shift = ((mean - layer.running_mean.double()).square() / pop_var).mean().sqrt()
            ratio = torch.log((var + layer.eps) / pop_var).square().mean().sqrt()
            acc = sums.setdefault(name, [0.0, 0.0, 0])
            acc[0] += float(shift)
            acc[1] += float(ratio)
            acc[2] += 1
        return hook

    with _batch_statistics_mode(model) as layers, _frozen_running_statistics(layers):
        try:
            for name, layer in layers:
                handles.append(layer.register_forward_pre_hook(record(name, layer)))
            device = next(model.parameters()).device
            for x in batches:
                model(x.to(device))
        finally:
            for handle in handles:
                handle.remove()
    return {name: StatsDrift(s / n, r / n, n) for name, (s, r, n) in sums.items() if n}


__all__ = ["BatchNorm1d", "BatchNorm2d", "MIN_BATCH", "SmallBatchWarning", "StatsDrift",
           "batch_norm_layers", "batch_statistics_drift", "estimate_population_statistics_", "make_batch_norm"]

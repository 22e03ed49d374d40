"""Per-feature shifts and scales: mean subtraction, standardization, min-max scaling.

All three are affine maps ``x -> (x - shift) / scale`` learned on the training
split, as in the CS231n notes on data preprocessing.
"""
from __future__ import annotations

import torch

from trainlab.errors import UserError, choose
from trainlab.preprocess.base import Transform, chunks, feature_stats, rows

MEAN_MODES = ("feature", "channel", "global")


def _safe_scale(scale: torch.Tensor) -> torch.Tensor:
    """A zero scale (constant feature) becomes 1, so that feature is only shifted."""
    return torch.where(scale > 0, scale, torch.ones_like(scale))


def _nonpositive(scale: torch.Tensor, name: str) -> str | None:
    """A scale of zero or below divides by zero (or flips a feature): it is never fitted, only loaded."""
    bad = int((scale <= 0).sum())
    return f"{bad} scale(s) <= 0 in {name} (a zero std divides by zero)" if bad else None


class MeanSubtraction(Transform):
    """Subtract the training mean: per feature, per channel (the VGG way, ``[N, C, ...]``
    inputs) or one scalar over every pixel (the AlexNet "mean image" reduced to a number).
    """

    learned = ("mean_",)

    def __init__(self, mode: str = "feature") -> None:
        self.mode = choose("mean-subtraction mode", mode, MEAN_MODES)
        self.mean_: torch.Tensor | None = None

    def _fit(self, x: torch.Tensor) -> None:
        if self.mode == "feature":
            self.mean_ = feature_stats(x).mean
            return
        if self.mode == "channel" and x.ndim < 3:
            raise UserError(f"per-channel mean subtraction needs image data [N, C, H, W], got shape "
                            f"{tuple(x.shape)}; use mode 'feature' (--preprocess mean) instead")
        total, count = None, 0
        for c in chunks(x):
            s = c.transpose(0, 1).reshape(c.shape[1], -1).sum(1) if self.mode == "channel" else c.sum()
            total = s if total is None else total + s
            count += c.numel() // (c.shape[1] if self.mode == "channel" else 1)
        self.mean_ = total / count

    def _shift(self, x: torch.Tensor) -> torch.Tensor:
        mean = self.mean_.to(x)
        if self.mode == "feature":
            return mean.reshape(x.shape[1:])
        if self.mode == "channel":
            return mean.reshape(-1, *([1] * (x.ndim - 2)))
        return mean

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        return x - self._shift(x)

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z + self._shift(z)


class Standardize(Transform):
    """``(x - mean) / std`` per feature (biased std, as scikit-learn's ``StandardScaler``);
    a zero-variance feature keeps scale 1. ``with_mean=False`` only divides.
    """

    learned = ("mean_", "scale_")

    def __init__(self, *, with_mean: bool = True) -> None:
        self.with_mean = with_mean
        self.mean_: torch.Tensor | None = None
        self.scale_: torch.Tensor | None = None

    def _fit(self, x: torch.Tensor) -> None:
        stats = feature_stats(x)
        self.mean_ = stats.mean if self.with_mean else torch.zeros_like(stats.mean)
        self.scale_ = _safe_scale(stats.std)

    def _state_problem(self, state: dict[str, torch.Tensor]) -> str | None:
        return super()._state_problem(state) or _nonpositive(state["scale_"], "scale_")

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        return ((rows(x) - self.mean_.to(x)) / self.scale_.to(x)).reshape(x.shape)

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        return (rows(z) * self.scale_.to(z) + self.mean_.to(z)).reshape(z.shape)


class MinMax(Transform):
    """Scale each feature linearly so the training minimum and maximum map to
    ``feature_range`` (default [-1, 1]); a constant feature maps to the low end.
    """

    learned = ("data_min_", "data_max_", "scale_", "min_")

    def __init__(self, feature_range: tuple[float, float] = (-1.0, 1.0)) -> None:
        low, high = feature_range
        if not low < high:
            raise UserError(f"min-max feature range must be (low, high) with low < high, got {feature_range}")
        self.feature_range = (float(low), float(high))
        self.data_min_: torch.Tensor | None = None
        self.data_max_: torch.Tensor | None = None
        self.scale_: torch.Tensor | None = None
        self.min_: torch.Tensor | None = None

    def _fit(self, x: torch.Tensor) -> None:
        stats = feature_stats(x)
        low, high = self.feature_range
        self.data_min_, self.data_max_ = stats.minimum, stats.maximum
        self.scale_ = (high - low) / _safe_scale(stats.maximum - stats.minimum)
        self.min_ = low - stats.minimum * self.scale_

    def _state_problem(self, state: dict[str, torch.Tensor]) -> str | None:
        return super()._state_problem(state) or _nonpositive(state["scale_"], "scale_")

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        return (rows(x) * self.scale_.to(x) + self.min_.to(x)).reshape(x.shape)

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        return ((rows(z) - self.min_.to(z)) / self.scale_.to(z)).reshape(z.shape)

"""PCA, PCA whitening and ZCA whitening from one float64 eigendecomposition.

With the training covariance ``C = U diag(lambda) U^T`` (unbiased, ``N - 1``,
as scikit-learn) and ``x`` centred by the training mean:

* PCA keeps the top ``k`` directions: ``z = x U_k``;
* PCA whitening rescales them: ``z = x U_k diag(1 / sqrt(lambda_k + eps))``;
* ZCA whitening rotates back: ``z = x U diag(1 / sqrt(lambda + eps)) U^T``, the
  whitening closest to the input in mean squared distance (Bell & Sejnowski 1997;
  Kessy, Lewin & Strimmer 2018), so images still look like images.

``eps`` keeps directions of tiny variance from being blown up into noise. With
``center=False`` the "covariance" is the raw second moment, the pitfall the
CS231n notes warn about: the first component then points at the mean.
"""
from __future__ import annotations

import math
import warnings

import torch

from trainlab.errors import UserError
from trainlab.preprocess.base import (
    FeatureScaleWarning,
    FeatureStats,
    Transform,
    UncenteredDataWarning,
    feature_stats,
    nonfinite_fit_error,
    rows,
    scatter_matrix,
)

MEAN_SHARE_LIMIT = 0.05  # warn when the mean carries more than this share of E[|x|^2]
SCALE_RATIO_LIMIT = 100.0  # warn when feature scales differ by more than this factor


def check_data(stats: FeatureStats, *, center: bool, name: str) -> None:
    """Warn (not fail) about data PCA will treat badly; see the module docstring."""
    mean_sq, total_var = float(stats.mean.square().sum()), float(stats.var.sum())
    share = mean_sq / max(mean_sq + total_var, 1e-300)
    if not center and share > MEAN_SHARE_LIMIT:
        warnings.warn(f"{name} on data that is not centred: the mean carries {share:.0%} of the second moment, "
                      "so the first component points at the mean; subtract the mean first "
                      "(--preprocess mean,... or center=True)", UncenteredDataWarning, stacklevel=4)
    varying = stats.var > 0
    if int(varying.sum()) < 2:
        return
    std, span = stats.std[varying], (stats.maximum - stats.minimum)[varying]

    def spread(v: torch.Tensor) -> float:
        return float(v.quantile(0.99) / v.quantile(0.01))

    # Both must differ: pixels share units (similar ranges) even when their variances do not.
    ratio = min(spread(std), spread(span))
    if ratio > SCALE_RATIO_LIMIT:
        warnings.warn(f"{name} on unscaled features whose scales differ by a factor of {ratio:.0f}: the "
                      "components will follow the largest-scale features; standardize first "
                      "(--preprocess std,...)", FeatureScaleWarning, stacklevel=4)


def _n_kept(n_components: int | float | None, ratio: torch.Tensor) -> int:
    d = ratio.numel()
    if n_components is None:
        return d
    if isinstance(n_components, float):
        # The smallest k whose components explain at least that fraction of the variance.
        return min(int((ratio.cumsum(0) < n_components - 1e-12).sum()) + 1, d)
    if n_components > d:
        raise UserError(f"PCA to {n_components} components, but the data has only {d} features; "
                        f"use n_components <= {d}")
    return n_components


class EigenTransform(Transform):
    """Shared fitting: mean, covariance, descending eigenpairs with a fixed sign."""

    learned = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_")

    def __init__(self, n_components: int | float | None = None, *, center: bool = True) -> None:
        if isinstance(n_components, bool) or not (
                n_components is None
                or (isinstance(n_components, int) and n_components >= 1)
                or (isinstance(n_components, float) and 0.0 < n_components <= 1.0)):
            raise UserError(f"n_components must be a count >= 1 or a variance fraction in (0, 1], got "
                            f"{n_components!r}; e.g. pca:50 or pca:0.99")
        self.n_components = n_components
        self.center = center
        self.mean_: torch.Tensor | None = None
        self.components_: torch.Tensor | None = None  # [k, D], rows are directions
        self.explained_variance_: torch.Tensor | None = None
        self.explained_variance_ratio_: torch.Tensor | None = None

    @property
    def n_components_(self) -> int:
        self._check_fitted()
        return int(self.components_.shape[0])

    def _fit(self, x: torch.Tensor) -> None:
        stats = feature_stats(x)
        problem = Transform._state_problem(self, {"mean": stats.mean, "variance": stats.var})
        if problem:  # before eigh, which fails on NaN with an unhelpful LinAlgError
            raise nonfinite_fit_error(self, problem)
        check_data(stats, center=self.center, name=type(self).__name__)
        shift = stats.mean if self.center else None
        cov = scatter_matrix(x, shift) / (stats.n - 1)
        values, vectors = torch.linalg.eigh(cov)
        values, vectors = values.flip(0).clamp_min(0.0), vectors.flip(1)
        # Sign convention: the largest-magnitude entry of each direction is positive.
        pivot = vectors.abs().argmax(0)
        vectors = vectors * vectors.gather(0, pivot[None]).sign()
        ratio = values / values.sum().clamp_min(1e-300)
        k = _n_kept(self.n_components, ratio)
        self.mean_ = stats.mean if self.center else torch.zeros_like(stats.mean)
        self.components_ = vectors[:, :k].T.contiguous()
        self.explained_variance_ = values[:k].contiguous()
        self.explained_variance_ratio_ = ratio[:k].contiguous()

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        return (rows(x) - self.mean_.to(x)) @ self.components_.to(x).T

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (self.n_components_,)


class PCA(EigenTransform):
    """Project onto the top ``n_components`` principal directions (a count, or the
    fraction of variance to keep); output ``[N, k]``. ``inverse_transform`` returns ``[N, D]``.
    """

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        return self._project(x)

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.components_.to(z) + self.mean_.to(z)


class _Whitening(EigenTransform):
    def __init__(self, n_components: int | float | None = None, *, eps: float = 1e-5, center: bool = True) -> None:
        super().__init__(n_components, center=center)
        if not (eps >= 0 and math.isfinite(eps)):
            raise UserError(f"whitening eps must be >= 0, got {eps}; e.g. eps=1e-5 (data in [0, 1]) or 0.1")
        self.eps = float(eps)

    def _fit(self, x: torch.Tensor) -> None:
        super()._fit(x)
        floor = self.explained_variance_ + self.eps
        if float(floor.min()) <= 1e-12 * max(float(floor.max()), 1e-300):
            raise UserError(f"{type(self).__name__} with eps={self.eps} divides by a zero variance: the training "
                            "covariance is singular (constant features or fewer examples than features); "
                            "use eps > 0, e.g. eps=1e-5")

    def _state_problem(self, state: dict[str, torch.Tensor]) -> str | None:
        problem = super()._state_problem(state)
        if problem is None and not bool((state["explained_variance_"] + self.eps > 0).all()):
            problem = f"variances in explained_variance_ that with eps={self.eps} are <= 0 (it would divide by zero)"
        return problem

    def _scales(self, like: torch.Tensor) -> torch.Tensor:
        return (self.explained_variance_ + self.eps).sqrt().to(like)


class PCAWhitening(_Whitening):
    """PCA, then each component divided by ``sqrt(variance + eps)``: uncorrelated,
    unit-variance outputs ``[N, k]`` (scikit-learn's ``PCA(whiten=True)`` when ``eps = 0``).
    """

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        return self._project(x) / self._scales(x)

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        return (z * self._scales(z)) @ self.components_.to(z) + self.mean_.to(z)


class ZCAWhitening(_Whitening):
    """Whitening with ``W = U diag(1 / sqrt(lambda + eps)) U^T``, applied as ``(x - mean) W``;
    the output keeps the input's shape (images stay images).
    """

    def __init__(self, *, eps: float = 1e-5, center: bool = True) -> None:
        super().__init__(None, eps=eps, center=center)
        self._cache: dict[tuple, torch.Tensor] = {}

    def _fit(self, x: torch.Tensor) -> None:
        self._cache = {}
        super()._fit(x)

    def load_state_dict(self, state, *, device="cpu") -> "ZCAWhitening":
        self._cache = {}
        return super().load_state_dict(state, device=device)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    def _matrix(self, like: torch.Tensor, power: float) -> torch.Tensor:
        """``U diag((lambda + eps)^(power/2)) U^T``, computed once per dtype and device."""
        key = (like.dtype, like.device, power)
        if key not in self._cache:
            u = self.components_.to(like)
            self._cache[key] = (u.T * self._scales(like).pow(power)) @ u
        return self._cache[key]

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        # W is symmetric, so rows times W is (W x)^T.
        return ((rows(x) - self.mean_.to(x)) @ self._matrix(x, -1.0)).reshape(x.shape)

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        return (rows(z) @ self._matrix(z, 1.0) + self.mean_.to(z)).reshape(z.shape)

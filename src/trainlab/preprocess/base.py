"""The transform contract and the numerically careful statistics every transform fits.

Transforms follow scikit-learn's shape: ``fit(x)`` on the training split only
(returns the transform), then ``transform`` on every split, ``inverse_transform``
where it exists. What ``fit`` learns lives in attributes ending in ``_`` and is
exactly what ``state_dict`` saves, so a fitted transform can be written with a
run and reapplied bit for bit.

Statistics are accumulated in float64 over chunks of rows, so fitting on
60,000 x 3,072 images needs a few hundred MB beyond the data itself, and the
covariance is centred before it is summed (two passes), never computed as
``E[xx^T] - mu mu^T``, which loses digits when the mean is large.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from trainlab.errors import UserError

CHUNK_ROWS = 4096


class NotFittedError(UserError):
    """A transform was used before ``fit``."""


class PreprocessingWarning(UserWarning):
    """Preprocessing that runs but is probably not what was meant."""


class UncenteredDataWarning(PreprocessingWarning):
    """PCA or whitening on data whose mean is far from zero."""


class FeatureScaleWarning(PreprocessingWarning):
    """PCA or whitening on features whose scales differ by orders of magnitude."""


class Transform:
    """Base class: subclasses set ``learned`` and implement ``_fit`` and ``_transform``."""

    learned: ClassVar[tuple[str, ...]] = ()

    def fit(self, x: torch.Tensor) -> "Transform":
        """Learn the transform from training data ``x`` of shape ``[N, ...]``; returns ``self``."""
        if x.ndim < 2 or x.shape[0] < 2:
            raise UserError(f"{type(self).__name__}.fit needs a batch [N, features...] with N >= 2, "
                            f"got shape {tuple(x.shape)}")
        self._fit(x)
        problem = self._state_problem({name: getattr(self, name) for name in self.learned})
        if problem:
            for name in self.learned:  # never leave a half-usable fitted state behind
                setattr(self, name, None)
            raise nonfinite_fit_error(self, problem)
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        self._check_fitted()
        return self._transform(x)

    def fit_transform(self, x: torch.Tensor) -> torch.Tensor:
        return self.fit(x).transform(x)

    def inverse_transform(self, z: torch.Tensor) -> torch.Tensor:
        self._check_fitted()
        return self._inverse(z)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The per-example shape ``transform`` produces from ``input_shape``."""
        return input_shape

    # -- state --------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return all(getattr(self, name, None) is not None for name in self.learned)

    def state_dict(self) -> dict[str, torch.Tensor]:
        self._check_fitted()
        return {name: getattr(self, name).detach().cpu() for name in self.learned}

    def load_state_dict(self, state: dict[str, Any], *, device: torch.device | str = "cpu") -> "Transform":
        missing = [name for name in self.learned if name not in state]
        if missing:
            raise UserError(f"saved {type(self).__name__} state lacks {', '.join(missing)}; "
                            "the file is from another transform, fit it again")
        if not all(isinstance(state[name], torch.Tensor) for name in self.learned):
            raise UserError(f"saved {type(self).__name__} state holds something other than tensors; fit it again")
        problem = self._state_problem({name: state[name] for name in self.learned})
        if problem:
            raise UserError(f"saved {type(self).__name__} state holds {problem}; it cannot transform "
                            "anything sensibly: fit it again")
        for name in self.learned:
            setattr(self, name, state[name].to(device))
        return self

    def _state_problem(self, state: dict[str, torch.Tensor]) -> str | None:
        """What makes a learned state unusable (NaN/Inf values, by default), or None."""
        for name, value in state.items():
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                bad = int((~torch.isfinite(value)).sum())
                return f"{bad} NaN/Inf value(s) of {value.numel()} in {name}"
        return None

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call .fit(train_x) "
                                 "on the training split first, then .transform(...)")

    # -- subclass hooks -------------------------------------------------------------
    def _fit(self, x: torch.Tensor) -> None:
        raise NotImplementedError

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _inverse(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no inverse")

    def __repr__(self) -> str:
        state = "fitted" if self.fitted else "not fitted"
        return f"{type(self).__name__}({state})"


def nonfinite_fit_error(transform: Transform, problem: str) -> UserError:
    return UserError(f"{type(transform).__name__}.fit learned {problem}: the training inputs hold NaN or Inf "
                     "(or values too large for float64); clean them before fitting")


# -- statistics ----------------------------------------------------------------------

def work_device(x: torch.Tensor) -> torch.device:
    """Where float64 statistics of ``x`` are computed: its own device, except MPS (no float64)."""
    return torch.device("cpu") if x.device.type == "mps" else x.device


def rows(x: torch.Tensor) -> torch.Tensor:
    """``[N, ...]`` -> ``[N, D]`` without copying when possible."""
    return x.reshape(x.shape[0], -1)


def chunks(x: torch.Tensor, size: int | None = None):
    """Float64 chunks of rows of ``x`` on the working device."""
    device, size = work_device(x), size or CHUNK_ROWS
    for start in range(0, x.shape[0], size):
        yield x[start:start + size].to(device=device, dtype=torch.float64)


@dataclass(frozen=True)
class FeatureStats:
    """Per-feature count, mean, biased variance, minimum and maximum (float64)."""

    n: int
    mean: torch.Tensor
    var: torch.Tensor
    minimum: torch.Tensor
    maximum: torch.Tensor

    @property
    def std(self) -> torch.Tensor:
        return self.var.sqrt()


def feature_stats(x: torch.Tensor) -> FeatureStats:
    """Two chunked float64 passes: the mean, then the centred sum of squares."""
    x2 = rows(x)
    total = minimum = maximum = None
    for c in chunks(x2):
        s, lo, hi = c.sum(0), c.amin(0), c.amax(0)
        total = s if total is None else total + s
        minimum = lo if minimum is None else torch.minimum(minimum, lo)
        maximum = hi if maximum is None else torch.maximum(maximum, hi)
    n = x2.shape[0]
    mean = total / n
    squares = sum((c - mean).square().sum(0) for c in chunks(x2))
    return FeatureStats(n, mean, squares / n, minimum, maximum)


def scatter_matrix(x: torch.Tensor, shift: torch.Tensor | None) -> torch.Tensor:
    """``sum_i (x_i - shift)(x_i - shift)^T`` in float64, accumulated over chunks of rows."""
    x2 = rows(x)
    d = x2.shape[1]
    out = torch.zeros(d, d, dtype=torch.float64, device=work_device(x))
    for c in chunks(x2):
        if shift is not None:
            c = c - shift
        out.addmm_(c.T, c)
    return out

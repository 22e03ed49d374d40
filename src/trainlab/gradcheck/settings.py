"""Gradient-check settings and the verdict bands of the CS231n notes.

For the relative error ``|a - n| / max(|a| + |n|, tiny)`` of the analytic
gradient ``a`` against the numerical one ``n``, the notes say: above 1e-2 the
gradient is probably wrong; 1e-2 to 1e-4 should make you uncomfortable; below
1e-4 is usually fine for objectives with kinks but too high without them;
below 1e-7 you should be happy. trainlab maps the largest error of a tensor
(over coordinates whose perturbation crossed no kink) to::

    error <  1e-7                      good
    1e-7 <= error <= 1e-4, kinked      acceptable   (objective has ReLU/max-pool/hinge)
    1e-7 <= error <= 1e-4, smooth      suspicious
    1e-4 <  error <= 1e-2              suspicious
    error >  1e-2                      wrong

A report's verdict is the worst over its tensors; the data loss and the L2
term are judged separately and the overall verdict is the worse of the two.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from trainlab.errors import UserError, choose

METHODS = ("centered", "forward")
VERDICTS = ("good", "acceptable", "suspicious", "wrong")  # best to worst
GOOD, KINK_OK, WRONG = 1e-7, 1e-4, 1e-2
MAX_H = 1.0  # a step this large measures a secant, not the gradient (and inf made every quotient NaN)
# Coordinates are sampled with manual_seed(seed * 1_000_003 + salt), which must stay below 2**63.
MAX_SEED = (2**63 - 2**20) // 1_000_003
DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True, kw_only=True)
class GradCheckConfig:
    """How to check: step ``h``, ``method``, precision, coordinates sampled per tensor.

    ``tiny`` floors the denominator of the relative error. The rounding error of
    a centered difference is about ``eps * |f| / h``: ``2e-11 |f|`` in float64
    with ``h = 1e-5``, so a coordinate whose gradient is below ``1e-3 |f|`` would
    show a relative error above 1e-7 from rounding alone. By default ``tiny`` is
    ``relative_floor`` (1e-3) times the larger of ``|f|`` and the tensor's largest
    ``|a| + |n|``; set ``tiny`` to a number to fix it. In float32 the rounding
    error (``~1e-2 |f|``) stays far above this floor: float32 differences are
    reported as the noise they are. ``richardson`` re-estimates coordinates whose
    error is above the "good" band at ``h/2`` to cancel the truncation error of
    strongly curved objectives (``False``: the raw difference quotients).
    """

    h: float = 1e-5
    method: str = "centered"
    dtype: torch.dtype = torch.float64
    max_coords: int = 200
    seed: int = 0
    tiny: float | None = None
    relative_floor: float = field(default=1e-3)
    richardson: bool = True  # re-estimate coordinates above the "good" band (see trainlab.gradcheck.check)

    def __post_init__(self) -> None:
        choose("finite-difference method", self.method, METHODS)
        if not 0 < self.h < MAX_H:
            raise UserError(f"the finite-difference step h must be > 0 and < {MAX_H:g}, got {self.h}; "
                            f"1e-5 is the usual choice")
        if self.dtype not in DTYPES.values():
            raise UserError(f"gradient checks run in float64 or float32, got {self.dtype}")
        if self.max_coords < 1:
            raise UserError(f"max_coords must be >= 1, got {self.max_coords}")
        if not 0 <= self.seed < MAX_SEED:
            raise UserError(f"a gradient check's seed must be in [0, {MAX_SEED:,}), got {self.seed}")


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def band(error: float, *, kinked: bool) -> str:
    """The verdict for a largest relative error (see the module docstring)."""
    if error < GOOD:
        return "good"
    if error <= KINK_OK:
        return "acceptable" if kinked else "suspicious"
    return "suspicious" if error <= WRONG else "wrong"


def worst(verdicts) -> str:
    return max(verdicts, key=VERDICTS.index, default="good")

"""The checks, one registry entry each; ``ORDER`` is the order of the issue and of the report."""
from __future__ import annotations

from trainlab.doctor.base import REGISTRY, Check
from trainlab.doctor.checks import (  # noqa: F401  (registers)
    data,
    fitting,
    gradients,
    learning,
    loss,
    loss_form,
    rates,
    recipe,
    signals,
)

ORDER: tuple[str, ...] = (
    "data",
    "loss-output",
    "loss-reduction",
    "initial-loss",
    "init-health",
    "gradient-flow",
    "gradcheck",
    "batch-independence",
    "input-independent-baseline",
    "overfit-tiny",
    "lr-range",
    "regularization",
    "update-ratio",
    "recipe",
    "generalization-gap",
)

CHECKS: dict[str, Check] = {id: REGISTRY[id] for id in ORDER}

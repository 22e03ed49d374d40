"""Helpers for the doctor's tests: a small learnable problem, models to plant faults in, a small-budget doctor."""
from __future__ import annotations

import torch
from torch import nn

from trainlab.data.base import Split
from trainlab.doctor import Budget, DoctorReport, examine
from trainlab.init import InitConfig, initialize_
from trainlab.nn import MLP

DIMS, CLASSES = 20, 5


def teacher_problem(n_train: int = 2_000, n_val: int = 500, seed: int = 0) -> tuple[Split, Split]:
    """Standardized Gaussian inputs labelled by a random linear teacher: learnable, and it generalizes."""
    g = torch.Generator().manual_seed(seed)
    teacher = torch.randn(DIMS, CLASSES, generator=g)
    x = torch.randn(n_train + n_val, DIMS, generator=g)
    y = (x @ teacher).argmax(1)
    return Split(x[:n_train], y[:n_train]), Split(x[n_train:], y[n_train:])


def mlp(depth: int = 2, width: int = 64, activation: str = "tanh", init: InitConfig | str = "glorot-uniform",
        seed: int = 0) -> nn.Module:
    model = MLP(DIMS, CLASSES, depth=depth, width=width, activation=activation)
    return initialize_(model, init, generator=torch.Generator().manual_seed(seed))


def doctor(model: nn.Module, train: Split, val: Split, **kwargs) -> DoctorReport:
    """The doctor with the small test budget; the report's failed check ids are what tests look at."""
    return examine(model, "softmax", train, val, budget=Budget.tiny(), **kwargs)


def failed(report: DoctorReport) -> set[str]:
    return {r.id for r in report.failed}

"""One-command reproductions of classic results, one module per source, in a registry.

Adding a reproduction: write ``experiments/<name>.py`` with a registered
:class:`~trainlab.experiments.base.Experiment` subclass and add its module name
to ``MODULES``.
"""
from __future__ import annotations

import importlib

from trainlab.experiments.base import REGISTRY, Claim, Context, Experiment, Result, register, run_experiment

MODULES: tuple[str, ...] = (
    "cs231n_activations",
    "glorot2010_init_stats",
    "bn_before_after",
    "glorot2010",
    "he2015",
    "cs231n_optimization",
    "bergstra2012",
    "ioffe2015_mnist",
    "bn_learning_rates",
    "preprocessing_effects",
)


def load_all() -> dict[str, type[Experiment]]:
    for module in MODULES:
        importlib.import_module(f"trainlab.experiments.{module}")
    return REGISTRY


__all__ = ["Claim", "Context", "Experiment", "REGISTRY", "Result", "load_all", "register", "run_experiment"]

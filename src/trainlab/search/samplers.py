"""Optuna samplers and pruners by name: the search engine is Optuna's, not ours."""
from __future__ import annotations

from typing import Callable

import optuna

from trainlab.errors import choose
from trainlab.search.space import SearchSpace

SamplerFactory = Callable[[SearchSpace, int], optuna.samplers.BaseSampler]

SAMPLERS: dict[str, SamplerFactory] = {
    "grid": lambda space, seed: optuna.samplers.GridSampler(space.grid(), seed=seed),
    "random": lambda space, seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda space, seed: optuna.samplers.TPESampler(seed=seed),
    "quasi-random": lambda space, seed: optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed),
}
"""``grid`` tries every combination of each parameter's grid values; ``random`` samples
independently (Bergstra & Bengio 2012); ``tpe`` models good and bad regions (Bergstra et al.
2011); ``quasi-random`` is a scrambled Sobol sequence, covering the space more evenly than random."""

PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    "none": optuna.pruners.NopPruner,
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0),
    "halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
}
"""``median`` stops a trial whose validation result is worse than the median of earlier
trials at the same step; ``halving`` is successive halving (Jamieson & Talwalkar 2016)."""


def make_sampler(name: str, space: SearchSpace, seed: int) -> optuna.samplers.BaseSampler:
    return SAMPLERS[choose("sampler", name, tuple(SAMPLERS))](space, seed)


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    return PRUNERS[choose("pruner", name, tuple(PRUNERS))]()

"""Population training: K members of one architecture trained as one batched computation.

Small networks leave a processor idle: most of a training step is overhead,
not arithmetic. Stacking the members' weights (``[K, out, in]``) and using
batched matrix products trains them all at the cost of a few, each member with
its own seed, initialization, learning rate, momentum and weight decay, and
each with the numbers it would get trained alone.

    from trainlab.population import train_population
    results = train_population([cfg.replace(lr=lr) for lr in (0.01, 0.1)], out="runs/lr-sweep")
    results = resume_population("runs/lr-sweep")  # after an interruption: the uninterrupted numbers
"""
from __future__ import annotations

from trainlab.population.engine import (
                                        PopulationResult,
                                        PopulationTrainer,
                                        build_like,
                                        member_model,
                                        resume_population,
                                        train_population,
)
from trainlab.population.spec import PER_MEMBER, check_population

__all__ = ["PER_MEMBER", "PopulationResult", "PopulationTrainer", "build_like", "check_population",
           "member_model", "resume_population", "train_population"]

"""Which configurations can train together as one population.

Members share everything that fixes the shape of the computation (data, model,
loss, batch size, budget) and may differ in everything that is just a number
per member: seed, initialization, learning rate and its schedule, momentum,
weight decay.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

from trainlab.config import TrainConfig
from trainlab.errors import UserError
from trainlab.optimizers import optimizer_entry

PER_MEMBER: frozenset[str] = frozenset({
    "seed", "init", "init_std", "init_scale", "lr", "momentum", "weight_decay", "optimizer",
    "schedule", "lr_step_every", "lr_gamma", "checkpoint_every",
})
"""Fields members may differ in; every other :class:`TrainConfig` field must be shared."""

SUPPORTED_MODELS = ("mlp",)


def shared_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(TrainConfig) if f.name not in PER_MEMBER]


def optimizer_family(config: TrainConfig) -> str:
    """The update rule of the member's optimizer: ``sgd`` and ``momentum`` are one (SGD, per-member momentum)."""
    return optimizer_entry(config.optimizer).family


def check_population(configs: Sequence[TrainConfig]) -> None:
    """Raise :class:`UserError` unless ``configs`` can train as one population."""
    if not configs:
        raise UserError("a population needs at least one configuration")
    first = configs[0]
    if first.model not in SUPPORTED_MODELS:
        raise UserError(f"population training supports --model mlp, got --model {first.model}; "
                        f"train cnn configurations one at a time")
    for name in shared_fields():
        values = {repr(getattr(c, name)) for c in configs}
        if len(values) > 1:
            raise UserError(f"population members must share {name!r} but got {', '.join(sorted(values))}; "
                            f"members may differ only in {', '.join(sorted(PER_MEMBER))}")
    if first.probe:
        raise UserError(f"population training records no probes; drop --probe {first.probe} "
                        f"or train that configuration alone")
    if getattr(first, "bn_stats", "ema") != "ema" and first.batch_norm != "none":
        raise UserError(f"population training supports --bn-stats ema, got {first.bn_stats}; "
                        f"train algorithm2 configurations one at a time")
    families = {optimizer_family(c) for c in configs}
    if len(families) > 1:
        raise UserError("population members must all use adam or all use sgd/momentum; "
                        "train the adam members as a separate population")


def group_members(configs: Sequence[TrainConfig]) -> list[list[int]]:
    """Indices of ``configs`` grouped so each group can train as one population (order kept)."""
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        key = tuple(repr(getattr(c, name)) for name in shared_fields()) + (optimizer_family(c),)
        groups.setdefault(key, []).append(i)
    return list(groups.values())

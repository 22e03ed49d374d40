"""Table 1: every configuration over a learning-rate grid and several seeds; the rate chosen on validation.

For each (activation, initialization) the learning rate with the lowest mean
validation error over seeds is chosen, as the paper chose it per model, and the
test error of the seeds at that rate is reported as a mean with a 95% Student-t
confidence interval. A run that diverges counts as 100% validation error.
Members that share an activation share an architecture, so they are trained
together as one population.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset
from trainlab.experiments.glorot2010.data import LoadedData
from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, GlorotProfile
from trainlab.population import train_population


@dataclass(frozen=True)
class Member:
    label: str  # Table 1's row name
    lr: float
    seed: int
    status: str
    val_error: float | None
    test_error: float | None


def base_config(profile: GlorotProfile, dataset: str, *, data_dir: str | None, steps: int) -> TrainConfig:
    return TrainConfig(dataset=dataset, data_dir=data_dir, model="mlp", depth=profile.depth, width=profile.width,
                       optimizer="sgd", batch_size=profile.batch_size, steps=steps, log_every=min(50, steps))


def grid(profile: GlorotProfile, data: LoadedData, *, data_dir: str | None, seed: int) -> list[tuple[str, TrainConfig]]:
    """Every member of the study on one dataset: configuration x learning rate x seed."""
    base = base_config(profile, data.budget.name, data_dir=data_dir, steps=data.budget.steps)
    return [(label, base.replace(activation=activation, init=init, lr=lr, seed=seed + s))
            for label, (activation, init) in CONFIGURATIONS.items()
            for lr in profile.lrs for s in range(profile.seeds)]


def train_members(members: list[tuple[str, TrainConfig]], dataset: Dataset, progress: bool) -> list[Member]:
    """Train every member; those with one activation as one population."""
    by_activation: dict[str, list[int]] = {}
    for i, (_, cfg) in enumerate(members):
        by_activation.setdefault(cfg.activation, []).append(i)
    results: dict[int, Any] = {}
    for indices in by_activation.values():
        outcomes = train_population([members[i][1] for i in indices], dataset=dataset, progress=progress)
        results.update(zip(indices, outcomes))
    return [_member(label, cfg, results[i]) for i, (label, cfg) in enumerate(members)]


def _member(label: str, cfg: TrainConfig, result: Any) -> Member:
    def error(accuracy: float | None) -> float | None:
        return None if accuracy is None or result.status != "completed" else 1.0 - accuracy

    return Member(label, cfg.lr, cfg.seed, result.status, error(result.val_accuracy), error(result.test_accuracy))


def confidence_interval(values: list[float], level: float = 0.95, *, bounds: tuple[float, float] = (0.0, 100.0)
                        ) -> tuple[float, float]:
    """Student-t interval for the mean of ``values`` (a point when there is one value),
    clipped to ``bounds``: an error rate in percent cannot leave [0, 100]."""
    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return max(bounds[0], mean - half), min(bounds[1], mean + half)


def summarize(members: list[Member], data: LoadedData, profile: GlorotProfile) -> tuple[list[dict], list[dict]]:
    """Rows of Table 1 (percent, at the chosen rate) and of the learning-rate grid."""
    table, lr_rows = [], []
    for label in CONFIGURATIONS:
        by_lr = {lr: [m for m in members if m.label == label and m.lr == lr] for lr in profile.lrs}
        val = {lr: statistics.fmean(1.0 if m.val_error is None else m.val_error for m in ms)
               for lr, ms in by_lr.items()}
        chosen = min(profile.lrs, key=lambda lr: (val[lr], lr))
        for lr, ms in by_lr.items():
            tests = [m.test_error for m in ms if m.test_error is not None]
            lr_rows.append({"dataset": data.label, "activation": label, "lr": lr,
                            "val_error": 100 * val[lr], "test_error": 100 * statistics.fmean(tests) if tests else None,
                            "diverged": sum(m.status != "completed" for m in ms), "chosen": lr == chosen})
        tests = [100 * m.test_error for m in by_lr[chosen] if m.test_error is not None]
        low, high = confidence_interval(tests) if tests else (None, None)
        table.append({"dataset": data.label, "activation": label,
                      "test_error": statistics.fmean(tests) if tests else None,
                      "ci95_low": low, "ci95_high": high, "seeds": len(tests),
                      "test_error_std": statistics.stdev(tests) if len(tests) > 1 else None, "lr": chosen,
                      "budget": f"{data.budget.steps:,} updates of {profile.batch_size}, "
                                f"{profile.depth}x{profile.width}"})
    return table, lr_rows


def member_rows(members: list[Member], data: LoadedData) -> list[dict[str, Any]]:
    """Every trained model: the numbers Table 1 and the grid are computed from (errors in percent)."""
    return [{"dataset": data.label, "activation": m.label, "lr": m.lr, "seed": m.seed, "status": m.status,
             "val_error": None if m.val_error is None else 100 * m.val_error,
             "test_error": None if m.test_error is None else 100 * m.test_error} for m in members]


def paper_rows() -> list[dict[str, Any]]:
    from trainlab.experiments.glorot2010.profiles import PAPER_TABLE1

    return [{"dataset": dataset, "activation": label, "test_error": value}
            for dataset, values in PAPER_TABLE1.items() for label, value in zip(CONFIGURATIONS, values)]

"""Table 1: every configuration over a learning-rate grid and several seeds; the rate chosen on validation.

For each (activation, initialization) the learning rate with the lowest mean
validation error over seeds is chosen, as the paper chose it per model, and the
test error of the seeds at that rate is reported as a mean with a 95% Student-t
confidence interval. A run that diverges counts as 100% validation error.
Each configuration's members (rates x seeds) are trained together as one
population, and the configurations are independent jobs (``trainlab.workers``).

Where a dataset's budget names rungs, the rate is chosen by successive halving
(Jamieson & Talwalkar 2016) inside that population: at each rung, a
configuration's rates are ranked by mean validation error over seeds and the
worse half stop, so the full budget is spent on the chosen rate only. Rates are
ranked only once they trained (:data:`TRAINED_MARGIN`): a rung where none has
left chance decides nothing and keeps them all, because a sigmoid network's
plateau (Figure 2) would otherwise make it a coin toss; where some have, the
others stop and the better half of those that trained carry on (a diverged rate
is not a contender, so it does not keep a worse one alive). A budget's ``give_up``
rung stops a configuration none of whose rates has trained by then: its row
says it did not train within that many updates, and the rest of the budget goes
to the configurations that did.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.experiments.base import chance_accuracy
from trainlab.experiments.glorot2010.data import LoadedData, load_budgeted
from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, DataBudget, GlorotProfile
from trainlab.population import train_population

TRAINED_MARGIN = 10.0
"""A model (or a rate's mean over seeds) has trained when its error is at least this many points below chance.
Set after the first tries of the quick profile, where sigmoid networks sat at chance (88.6%) for 10,000 updates
while the others were 80 points below it: any margin between 1 and 80 points tells them apart."""


@dataclass(frozen=True)
class Member:
    label: str  # Table 1's row name
    lr: float
    seed: int
    status: str  # completed, diverged, or pruned (stopped by successive halving)
    steps: int
    val_error: float | None  # at the last evaluation: the end, or the rung that stopped it
    test_error: float | None  # completed members only


def chance_error(split: Split) -> float:
    """Percent error of always answering the commonest class of ``split``."""
    return 100.0 * (1.0 - chance_accuracy(split.y))


def base_config(profile: GlorotProfile, dataset: str, *, data_dir: str | None, steps: int) -> TrainConfig:
    return TrainConfig(dataset=dataset, data_dir=data_dir, model="mlp", depth=profile.depth, width=profile.width,
                       optimizer="sgd", batch_size=profile.batch_size, steps=steps, log_every=min(50, steps))


def grid(profile: GlorotProfile, budget: DataBudget, label: str, *, data_dir: str | None,
         seed: int) -> list[tuple[str, TrainConfig]]:
    """The members of one configuration's population: learning rates x seeds."""
    steps = budget.steps_of(label)
    base = base_config(profile, budget.name, data_dir=data_dir, steps=steps)
    if budget.rungs:
        every = math.gcd(*budget.rungs, steps)
        base = base.replace(eval_every=every, log_every=math.gcd(base.log_every, every))  # evaluations fall on logs
    if profile.lr_cut is not None:
        last, gamma = profile.lr_cut
        base = base.replace(schedule="step", lr_step_every=steps - last, lr_gamma=gamma)  # one cut before the end
    activation, init = CONFIGURATIONS[label]
    return [(label, base.replace(activation=activation, init=init, lr=lr, seed=seed + s))
            for lr in profile.lrs for s in range(profile.seeds)]


class Halving:
    """``on_evaluation`` for successive halving of each configuration's learning rates (module docstring)."""

    def __init__(self, members: Sequence[tuple[str, TrainConfig]], rungs: Sequence[int], chance: float, *,
                 give_up: int | None = None) -> None:
        self.groups = [(label, cfg.lr) for label, cfg in members]  # population index -> (label, lr)
        self.rungs, self.chance, self.give_up = set(rungs), chance, give_up
        self.alive: dict[str, list[float]] = {}
        for label, lr in self.groups:
            if lr not in self.alive.setdefault(label, []):
                self.alive[label].append(lr)

    def __call__(self, step: int, records: dict[int, dict[str, Any]]) -> list[int]:
        if step not in self.rungs:
            return []
        stop: list[int] = []
        for label, lrs in self.alive.items():
            error = {lr: statistics.fmean(100 * (1 - records[k]["val_accuracy"]) if k in records else 100.0
                                          for k, group in enumerate(self.groups) if group == (label, lr))
                     for lr in lrs}
            trained = sorted((lr for lr in lrs if error[lr] <= self.chance - TRAINED_MARGIN),
                             key=lambda lr: (error[lr], lr))
            if not trained and step == self.give_up:
                self.alive[label] = []
                stop += [k for k, (other, _) in enumerate(self.groups) if other == label and k in records]
            if len(lrs) < 2 or not trained:
                continue
            self.alive[label] = keep = trained[:math.ceil(len(trained) / 2)]
            stop += [k for k, (other, lr) in enumerate(self.groups) if other == label and lr not in keep
                     and k in records]
        return stop


def train_configuration(profile: GlorotProfile, budget: DataBudget, label: str, *, data_dir: str | None,
                        seed: int) -> list[Member]:
    """One job: load ``budget``'s data and train configuration ``label``'s members as one population."""
    data = load_budgeted(budget, data_dir=data_dir, seed=seed, cache_epochs=profile.cache_epochs)
    members = grid(profile, budget, label, data_dir=data_dir, seed=seed)
    return train_members(members, data.dataset, rungs=budget.rungs, give_up=budget.give_up)


def train_members(members: list[tuple[str, TrainConfig]], dataset: Dataset, *, rungs: Sequence[int] = (),
                  give_up: int | None = None, progress: bool = False) -> list[Member]:
    """Train members that share an architecture as one population."""
    halving = Halving(members, rungs, chance_error(dataset.val), give_up=give_up) if rungs else None
    outcomes = train_population([cfg for _, cfg in members], dataset=dataset, progress=progress,
                                on_evaluation=halving)
    return [_member(label, cfg, result) for (label, cfg), result in zip(members, outcomes)]


def _member(label: str, cfg: TrainConfig, result: Any) -> Member:
    def error(accuracy: float | None, statuses: tuple[str, ...]) -> float | None:
        return None if accuracy is None or result.status not in statuses else 1.0 - accuracy

    return Member(label, cfg.lr, cfg.seed, result.status, result.steps,
                  error(result.val_accuracy, ("completed", "pruned")), error(result.test_accuracy, ("completed",)))


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
    """Rows of Table 1 (percent, at the chosen rate) and of the learning-rate grid.

    The rate is chosen among those no rung stopped; a stopped rate's validation
    error is the one at its rung, shown in the grid but not compared with the end.
    """
    table, lr_rows = [], []
    chance = chance_error(data.dataset.test)
    for label in CONFIGURATIONS:
        lrs = sorted({m.lr for m in members if m.label == label})
        if not lrs:
            continue
        by_lr = {lr: [m for m in members if m.label == label and m.lr == lr] for lr in lrs}
        val = {lr: statistics.fmean(1.0 if m.val_error is None else m.val_error for m in ms)
               for lr, ms in by_lr.items()}
        candidates = [lr for lr, ms in by_lr.items() if all(m.status != "pruned" for m in ms)] or list(by_lr)
        chosen = min(candidates, key=lambda lr: (val[lr], lr))
        for lr, ms in by_lr.items():
            tests = [m.test_error for m in ms if m.test_error is not None]
            pruned = [m.steps for m in ms if m.status == "pruned"]
            lr_rows.append({"dataset": data.label, "activation": label, "lr": lr,
                            "val_error": 100 * val[lr], "test_error": 100 * statistics.fmean(tests) if tests else None,
                            "updates": max(m.steps for m in ms),
                            "diverged": sum(m.status == "diverged" for m in ms),
                            "stopped_at_rung": max(pruned) if pruned else None, "chosen": lr == chosen})
        tests = [100 * m.test_error for m in by_lr[chosen] if m.test_error is not None]
        low, high = confidence_interval(tests) if tests else (None, None)
        gave_up = all(m.status == "pruned" for m in by_lr[chosen])  # no rate of this row left chance by give_up
        table.append({"dataset": data.label, "activation": label,
                      "test_error": statistics.fmean(tests) if tests else None,
                      "ci95_low": low, "ci95_high": high, "seeds": len(tests),
                      "test_error_std": statistics.stdev(tests) if len(tests) > 1 else None, "lr": chosen,
                      "chance_error": chance,
                      "trained": bool(tests) and bool(high <= chance - TRAINED_MARGIN),
                      "seeds_trained": int(sum(t <= chance - TRAINED_MARGIN for t in tests)),
                      "stopped_at": max(m.steps for m in by_lr[chosen]) if gave_up else None,
                      "val_error_when_stopped": 100 * val[chosen] if gave_up else None,
                      "budget": f"{data.budget.steps_of(label):,} updates of {profile.batch_size}, "
                                f"{profile.depth}x{profile.width}"})
    return table, lr_rows


def member_rows(members: list[Member], data: LoadedData) -> list[dict[str, Any]]:
    """Every trained model: the numbers Table 1 and the grid are computed from (errors in percent)."""
    return [{"dataset": data.label, "activation": m.label, "lr": m.lr, "seed": m.seed, "status": m.status,
             "updates": m.steps,
             "val_error": None if m.val_error is None else 100 * m.val_error,
             "test_error": None if m.test_error is None else 100 * m.test_error} for m in members]


def paper_rows() -> list[dict[str, Any]]:
    from trainlab.experiments.glorot2010.profiles import PAPER_TABLE1

    return [{"dataset": dataset, "activation": label, "test_error": value}
            for dataset, values in PAPER_TABLE1.items() for label, value in zip(CONFIGURATIONS, values)]

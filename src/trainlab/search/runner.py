"""Run a search: ask Optuna for trials, train them as populations, tell it the results.

A search is one or more phases, each an Optuna study over a (sub)space:

* ``stages = S``: coarse to fine. Stage ``i`` trains for ``2^(i-S+1)`` of the
  budget; after each stage the ranges shrink around its best trials.
* ``lr_first``: the learning rate alone (everything else at its center), then
  everything else at that rate, then the learning rate again (CS231n notes).

A trial whose training loss exceeds 3x its initial loss (train.py's divergence
rule, ``divergence_factor``) is stopped and told to Optuna as PRUNED with the
user attribute ``status = "diverged"``: an outcome, not a crash.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import optuna

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset
from trainlab.errors import UserError
from trainlab.loop import prepare_data
from trainlab.population import train_population
from trainlab.population.spec import group_members
from trainlab.search.folds import fold_dataset
from trainlab.search.samplers import make_pruner, make_sampler
from trainlab.search.space import SearchSpace
from trainlab.search.storage import Heartbeat, open_storage, quiet_optuna, redact, storage_url

METRICS = {"val_accuracy": "maximize", "val_loss": "minimize"}
COUNTED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.RUNNING)
EDGE = 0.1  # a best value within this fraction of either end of its range gets a warning


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    space: SearchSpace
    out: Path
    trials: int = 20
    population: int = 1
    sampler: str = "tpe"
    pruner: str = "none"
    stages: int = 1
    lr_first: bool = False
    folds: int = 1
    metric: str = "val_accuracy"
    storage: str | None = None
    study_name: str = "search"
    seed: int = 0
    heartbeat: float = 30.0
    progress: bool = False
    dataset: Dataset | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise UserError(f"unknown --metric {self.metric!r}; choose one of: {', '.join(METRICS)}")
        for name in ("trials", "population", "stages", "folds"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if self.lr_first and self.stages > 1:
            raise UserError("--lr-first and --stages are separate plans; use one of them")
        if self.lr_first and "lr" not in self.space.names:
            raise UserError("--lr-first needs an [params.lr] range in the search space")


@dataclass(frozen=True)
class Phase:
    name: str
    space: SearchSpace
    trials: int
    budget: float  # fraction of the fixed steps/epochs


def _budget(space: SearchSpace, fraction: float) -> dict[str, Any]:
    if fraction == 1.0:
        return {}
    fixed = space.fixed
    if fixed.get("steps"):
        return {"steps": max(1, round(fixed["steps"] * fraction))}
    return {"epochs": (fixed.get("epochs") or 1.0) * fraction}


class Search:
    """One search: its phases, studies, and the trials' records."""

    def __init__(self, config: SearchConfig) -> None:
        self.config = config
        self.out = Path(config.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.url = storage_url(config.storage, self.out)
        self.storage = open_storage(self.url, heartbeat=config.heartbeat)
        self.direction = METRICS[config.metric]
        self.records: list[dict[str, Any]] = []
        self._datasets: dict[tuple, Dataset] = {}

    # -- plan ---------------------------------------------------------------------
    def phases(self) -> list[Callable[[], Phase]]:
        """Each phase is built when it starts, from the results of the phases before it."""
        cfg, space = self.config, self.config.space
        if cfg.lr_first:
            shares = (cfg.trials // 4 or 1, max(cfg.trials // 2, 1),
                      cfg.trials - cfg.trials // 4 - cfg.trials // 2 or 1)
            rest = [n for n in space.names if n != "lr"]
            plan = [lambda: Phase("lr", space.only(["lr"], {}), shares[0], 1.0),
                    lambda: Phase("rest", space.only(rest, self.best_params()), shares[1], 1.0),
                    lambda: Phase("lr-check", space.only(["lr"], self.best_params()), shares[2], 1.0)]
            return plan if rest else plan[:1]
        per_stage = [cfg.trials // cfg.stages + (1 if i < cfg.trials % cfg.stages else 0) for i in range(cfg.stages)]
        return [lambda i=i: Phase(f"stage{i}" if cfg.stages > 1 else "main",
                                  space if i == 0 else self.narrowed(space), per_stage[i],
                                  2.0 ** (i - cfg.stages + 1)) for i in range(cfg.stages)]

    def narrowed(self, space: SearchSpace) -> SearchSpace:
        """``space`` with each range shrunk to the span of the last phase's best fifth (at least 3 trials)."""
        done = [r for r in self.records if r["phase"] == self.records[-1]["phase"] and r["value"] is not None]
        if not done:
            return space
        done.sort(key=lambda r: r["value"], reverse=self.direction == "maximize")
        top = done[:max(3, len(done) // 5)]
        return SearchSpace(tuple(p.narrowed([r["params"][p.name] for r in top]) for p in space.params), space.fixed)

    def best(self) -> dict[str, Any] | None:
        done = [r for r in self.records if r["value"] is not None]
        if not done:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda r: r["value"])

    def best_params(self) -> dict[str, Any]:
        """The best trial's values for every parameter, filled in from earlier phases' best."""
        merged: dict[str, Any] = {}
        for phase in dict.fromkeys(r["phase"] for r in self.records):
            done = [r for r in self.records if r["phase"] == phase and r["value"] is not None]
            if done:
                pick = max if self.direction == "maximize" else min
                merged.update(pick(done, key=lambda r: r["value"])["params"])
        return merged

    # -- run ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        with Heartbeat(self.storage, self.config.heartbeat) as heartbeat:
            for build in self.phases():
                self.run_phase(build(), heartbeat)
        return self.summary()

    def run_phase(self, phase: Phase, heartbeat: Heartbeat) -> None:
        cfg = self.config
        name = cfg.study_name if phase.name == "main" else f"{cfg.study_name}.{phase.name}"
        with quiet_optuna():
            study = optuna.create_study(storage=self.storage, study_name=name, direction=self.direction,
                                        sampler=make_sampler(cfg.sampler, phase.space, cfg.seed),
                                        pruner=make_pruner(cfg.pruner), load_if_exists=True)
        target = phase.trials
        if cfg.sampler == "grid":
            target = min(target, math.prod(len(v) for v in phase.space.grid().values()))
        while True:
            with quiet_optuna():
                optuna.storages.fail_stale_trials(study)
                remaining = target - len(study.get_trials(deepcopy=False, states=COUNTED))
                if remaining <= 0:
                    break
                trials = [study.ask() for _ in range(min(cfg.population, remaining))]
            study_id = self.storage.get_study_id_from_name(name)
            ids = [self.storage.get_trial_id_from_study_id_trial_number(study_id, t.number) for t in trials]
            heartbeat.watch(ids)
            try:
                self.train(study, phase, name, trials)
            finally:
                heartbeat.drop(ids)
        self.records.extend(r for r in self._study_records(study, phase.name) if r not in self.records)

    def dataset_for(self, config: TrainConfig) -> Dataset:
        if self.config.dataset is not None:
            return self.config.dataset
        key = (config.dataset, config.data_dir, config.preprocess)
        if key not in self._datasets:
            self._datasets[key] = prepare_data(config)
        return self._datasets[key]

    def train(self, study: optuna.Study, phase: Phase, name: str, trials: list[optuna.Trial]) -> None:
        cfg = self.config
        values = [phase.space.suggest(t) for t in trials]
        configs = [phase.space.config(v, **_budget(phase.space, phase.budget)) for v in values]
        folds: list[list] = [[] for _ in trials]
        for group in group_members(configs):
            members = [configs[i] for i in group]
            base = self.dataset_for(members[0])
            for fold in range(cfg.folds):
                dataset = base if cfg.folds == 1 else fold_dataset(base, cfg.folds, fold, seed=cfg.seed)
                suffix = f"-fold{fold}" if cfg.folds > 1 else ""
                dirs = [self.out / "trials" / f"{name}-{trials[i].number:05d}{suffix}" for i in group]
                reporter = self._reporter([trials[i] for i in group]) if cfg.folds == 1 else None
                results = train_population(members, dataset=dataset, run_dirs=dirs, progress=cfg.progress,
                                           on_eval=reporter)
                for i, result in zip(group, results):
                    folds[i].append(result)
        for trial, results in zip(trials, folds):
            self._tell(study, trial, results)

    def _reporter(self, trials: list[optuna.Trial]):
        if self.config.pruner == "none":
            return None

        def on_eval(step: int, member: int, record: dict[str, Any]) -> bool:
            trial = trials[member]
            trial.report(record[self.config.metric], step)
            return trial.should_prune()
        return on_eval

    def _tell(self, study: optuna.Study, trial: optuna.Trial, results: list) -> None:
        statuses = [r.status for r in results]
        status = next((s for s in ("diverged", "pruned", "interrupted") if s in statuses), "completed")
        trial.set_user_attr("status", status)
        trial.set_user_attr("run_dirs", [r.run_dir for r in results])
        trial.set_user_attr("test_accuracy", [r.test_accuracy for r in results])
        if status != "completed":
            trial.set_user_attr("steps", [r.steps for r in results])
            _tell(study, trial, state=optuna.trial.TrialState.PRUNED)
            return
        fold_values = [getattr(r, self.config.metric) for r in results]
        trial.set_user_attr("fold_values", fold_values)
        _tell(study, trial, sum(fold_values) / len(fold_values))

    # -- results ------------------------------------------------------------------
    def _study_records(self, study: optuna.Study, phase: str) -> list[dict[str, Any]]:
        return [{"phase": phase, "study": study.study_name, "number": t.number, "state": t.state.name,
                 "status": t.user_attrs.get("status", t.state.name.lower()), "value": t.value,
                 "params": dict(t.params), "fold_values": t.user_attrs.get("fold_values"),
                 "run_dirs": t.user_attrs.get("run_dirs", [])} for t in study.get_trials(deepcopy=False)]

    def edge_warnings(self) -> list[str]:
        best = self.best_params()
        warnings = []
        for p in self.config.space.params:
            if p.name not in best or p.kind == "categorical":
                continue
            where = p.position(best[p.name])
            if where is not None and (where <= EDGE or where >= 1 - EDGE):
                side = "lower" if where <= EDGE else "upper"
                warnings.append(f"best {p.name} = {best[p.name]:.4g} lies at the {side} edge of its range "
                                f"[{p.low:g}, {p.high:g}]: widen the range")
        return warnings

    def summary(self) -> dict[str, Any]:
        best = self.best()
        summary = {"study": self.config.study_name, "storage": redact(self.url), "metric": self.config.metric,
                   "direction": self.direction, "best": best, "best_params": self.best_params(),
                   "warnings": self.edge_warnings(), "trials": self.records}
        (self.out / "search.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
        from trainlab.search.report import write_report

        summary["report"] = str(write_report(summary, self.config.space, self.out))
        return summary


def _tell(study: optuna.Study, trial: optuna.Trial, value: float | None = None, **kw: Any) -> None:
    """``study.tell``; the grid sampler's "grid exhausted" ``Study.stop`` only works inside
    ``Study.optimize`` and raises in ask-and-tell, after the trial is stored, so it is ignored."""
    try:
        study.tell(trial, value, **kw)
    except RuntimeError as exc:
        if "Study.stop" not in str(exc):
            raise


def run_search(config: SearchConfig) -> dict[str, Any]:
    """Run the search ``config`` describes; write ``search.json`` and ``report.html`` into ``config.out``."""
    return Search(config).run()

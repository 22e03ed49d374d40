"""Table 1's rate choice: successive halving decides only on rates that trained; the rate is chosen among
those no rung stopped."""
from __future__ import annotations

import pytest
import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.experiments.glorot2010.data import LoadedData
from trainlab.experiments.glorot2010.profiles import PROFILES, DataBudget
from trainlab.experiments.glorot2010.table1 import TRAINED_MARGIN, Halving, Member, chance_error, summarize

LRS = (0.01, 0.1, 1.0, 3.0)
BASE = TrainConfig(dataset="synthetic-blobs", steps=30)


def population(labels: tuple[str, ...], seeds: int = 2) -> list[tuple[str, TrainConfig]]:
    return [(label, BASE.replace(lr=lr, seed=s)) for label in labels for lr in LRS for s in range(seeds)]


def records(members: list[tuple[str, TrainConfig]], error: dict[tuple[str, float], float]) -> dict[int, dict]:
    """Each member's evaluation with the validation error (percent) of its (label, lr)."""
    return {k: {"val_accuracy": 1 - error[label, cfg.lr] / 100} for k, (label, cfg) in enumerate(members)}


def test_a_rung_keeps_the_better_half_of_each_configurations_trained_rates():
    members = population(("A", "B"))
    halving = Halving(members, rungs=(10,), chance=90.0)
    error = {("A", 0.01): 30.0, ("A", 0.1): 10.0, ("A", 1.0): 12.0, ("A", 3.0): 50.0,
             ("B", 0.01): 89.0, ("B", 0.1): 20.0, ("B", 1.0): 88.0, ("B", 3.0): 90.0}
    assert halving(5, records(members, error)) == []  # not a rung
    stopped = halving(10, records(members, error))
    kept = {(label, cfg.lr) for k, (label, cfg) in enumerate(members) if k not in stopped}
    # A: four trained rates, the best two carry on; B: only 0.1 is 10 points below chance, so only it does.
    assert kept == {("A", 0.1), ("A", 1.0), ("B", 0.1)}
    assert halving.alive == {"A": [0.1, 1.0], "B": [0.1]}


def test_a_rung_halves_the_rates_that_trained_not_the_grid():
    members = population(("A",))
    halving = Halving(members, rungs=(10,), chance=90.0)
    # 1.0 and 3.0 diverged (100%); of the two that trained, only the better carries on
    error = {("A", 0.01): 30.0, ("A", 0.1): 10.0, ("A", 1.0): 100.0, ("A", 3.0): 100.0}
    stopped = halving(10, records(members, error))
    assert {members[k][1].lr for k in stopped} == {0.01, 1.0, 3.0}
    assert halving.alive == {"A": [0.1]}


def test_a_rung_where_no_rate_trained_decides_nothing():
    members = population(("Sigmoid",))
    halving = Halving(members, rungs=(10,), chance=88.6)
    at_chance = {("Sigmoid", lr): 88.6 - TRAINED_MARGIN / 2 for lr in LRS}
    assert halving(10, records(members, at_chance)) == []
    assert halving.alive == {"Sigmoid": list(LRS)}


def test_a_diverged_seed_counts_as_full_error_in_its_rates_mean():
    members = population(("A",))
    halving = Halving(members, rungs=(10,), chance=90.0)
    error = {("A", 0.01): 40.0, ("A", 0.1): 20.0, ("A", 1.0): 5.0, ("A", 3.0): 60.0}
    seen = records(members, error)
    diverged = next(k for k, (_, cfg) in enumerate(members) if cfg.lr == 1.0)
    del seen[diverged]  # 1.0: one seed at 5%, one diverged (100%): mean 52.5
    stopped = halving(10, seen)
    assert {members[k][1].lr for k in stopped} == {1.0, 3.0}
    assert diverged not in stopped  # it is no longer alive: nothing to stop


def test_chance_error_is_the_commonest_class_rate():
    split = Split(torch.zeros(10, 1), torch.tensor([0, 0, 0, 0, 1, 1, 1, 2, 2, 3]))
    assert chance_error(split) == 60.0


def test_the_rate_is_chosen_among_those_no_rung_stopped():
    split = Split(torch.zeros(10, 2), torch.tensor([0, 1] * 5))
    data = LoadedData(DataBudget("mnist", 30), Dataset("toy", split, split, split, 2, (2,)), "MNIST", "")
    members = [
        Member("Tanh", 0.01, 0, "pruned", 10, 0.05, None),  # lower error, but at an earlier rung
        Member("Tanh", 0.1, 0, "completed", 30, 0.08, 0.09),
        Member("Tanh", 0.1, 1, "completed", 30, 0.08, 0.11),  # two seeds: the interval comes from scipy
        Member("Tanh", 1.0, 0, "diverged", 3, None, None),
    ]
    table, grid = summarize(members, data, PROFILES["smoke"])
    row = next(r for r in table if r["activation"] == "Tanh")
    assert row["lr"] == 0.1 and row["test_error"] == pytest.approx(10.0) and row["chance_error"] == 50.0
    assert row["trained"] is True  # 10% is more than TRAINED_MARGIN below 50%; a Python bool, not numpy's
    assert type(row["seeds_trained"]) is int
    stopped = {r["lr"]: r["stopped_at_rung"] for r in grid if r["activation"] == "Tanh"}
    assert stopped == {0.01: 10, 0.1: None, 1.0: None}


def test_the_give_up_rung_stops_a_configuration_that_never_left_chance_and_only_it():
    members = population(("Sigmoid", "Tanh"))
    halving = Halving(members, rungs=(10, 20), chance=88.6, give_up=20)
    error = {**{("Sigmoid", lr): 88.6 for lr in LRS}, **{("Tanh", lr): 5.0 + lr for lr in LRS}}
    first = halving(10, records(members, error))
    assert {members[k][0] for k in first} == {"Tanh"}  # a plain rung: the sigmoid's rates all carry on
    alive = {k: r for k, r in records(members, error).items() if k not in first}
    stopped = halving(20, alive)
    assert {k for k in alive if members[k][0] == "Sigmoid"} <= set(stopped)
    assert halving.alive["Sigmoid"] == [] and halving.alive["Tanh"] == [0.01]
    assert halving(20, {}) == []  # nothing left to stop


def test_a_row_that_gave_up_reports_where_and_is_not_trained():
    split = Split(torch.zeros(10, 2), torch.tensor([0, 1] * 5))
    data = LoadedData(DataBudget("mnist", 30), Dataset("toy", split, split, split, 2, (2,)), "MNIST", "")
    members = [Member("Sigmoid", lr, s, "pruned", 20, 0.5, None) for lr in (0.1, 1.0) for s in range(2)]
    table, _ = summarize(members, data, PROFILES["smoke"])
    row = table[0]
    assert row["test_error"] is None and row["trained"] is False and row["seeds_trained"] == 0
    assert row["stopped_at"] == 20 and row["val_error_when_stopped"] == pytest.approx(50.0)


def test_give_up_must_be_a_rung():
    with pytest.raises(ValueError, match="must be one of the rungs"):
        DataBudget("mnist", 100, rungs=(10,), give_up=20)


def test_the_profiles_decay_reaches_every_table1_member():
    from dataclasses import replace

    from trainlab.experiments.glorot2010.table1 import grid
    from trainlab.optimizers import SCHEDULES

    profile = replace(PROFILES["smoke"], lr_cut=(10, 0.1))  # the last 10 of 40 updates
    configs = [cfg for _, cfg in grid(profile, profile.datasets[0], "Tanh", data_dir=None, seed=0)]
    assert {(c.schedule, c.lr_step_every, c.lr_gamma) for c in configs} == {("step", 30, 0.1)}
    lr = configs[0].lr
    assert SCHEDULES["step"](lr, 29, every=30, gamma=0.1) == lr
    assert SCHEDULES["step"](lr, 39, every=30, gamma=0.1) == pytest.approx(lr / 10)


def test_a_row_given_more_updates_keeps_its_cut_before_its_own_end():
    from dataclasses import replace

    from trainlab.experiments.glorot2010.table1 import grid

    budget = replace(PROFILES["smoke"].datasets[0], row_steps={"Sigmoid": 100})
    profile = replace(PROFILES["smoke"], lr_cut=(10, 0.1), datasets=(budget,))
    for label, steps in (("Tanh", 40), ("Sigmoid", 100)):
        configs = [cfg for _, cfg in grid(profile, budget, label, data_dir=None, seed=0)]
        assert {(c.steps, c.lr_step_every) for c in configs} == {(steps, steps - 10)}
        assert all(c.steps % c.eval_every == 0 and 20 % c.eval_every == 0 for c in configs)  # the rung at 20


def test_row_steps_names_a_row_and_never_shortens_it():
    with pytest.raises(ValueError, match="the rows are"):
        DataBudget("mnist", 100, row_steps={"Relu": 200})
    with pytest.raises(ValueError, match="more updates, never fewer"):
        DataBudget("mnist", 100, row_steps={"Sigmoid": 50})

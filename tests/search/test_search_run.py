"""Searches end to end on the default SQLite storage, with populations, stages, lr-first, folds and pruning."""
from __future__ import annotations

import optuna
import pytest
import torch

from trainlab.data.base import Dataset, Split
from trainlab.runs import RunDir
from trainlab.search import SearchConfig, fold_dataset, parse_space, run_search


def blobs(seed: int = 0, n_train: int = 192) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(3, 10, generator=g) * 1.2

    def split(n: int) -> Split:
        y = torch.randint(0, 3, (n,), generator=g)
        return Split(centers[y] + torch.randn(n, 10, generator=g), y)

    return Dataset("toy", split(n_train), split(90), split(90), 3, (10,))


def space(lr=(1e-3, 50.0), steps=24, **params):
    return parse_space({
        "fixed": {"dataset": "toy", "depth": 1, "width": 8, "steps": steps, "batch-size": 32,
                  "log-every": 4, "eval-every": 8},
        "params": {"lr": {"type": "log-uniform", "low": lr[0], "high": lr[1]},
                   "init-scale": {"type": "uniform", "low": 0.5, "high": 2.0}, **params},
    })


def search(tmp_path, name="s", **kw):
    kw.setdefault("space", space())
    return run_search(SearchConfig(out=tmp_path / name, dataset=blobs(), **kw))


def study(tmp_path, name="s", study_name="search"):
    return optuna.load_study(study_name=study_name, storage=f"sqlite:///{tmp_path / name / 'study.db'}")


def test_population_search_equals_one_trial_at_a_time_and_records_divergence(tmp_path):
    together = search(tmp_path, "pop", trials=8, population=4, sampler="random", seed=3)
    alone = search(tmp_path, "one", trials=8, population=1, sampler="random", seed=3)
    a, b = study(tmp_path, "pop").trials, study(tmp_path, "one").trials
    assert [t.number for t in a] == list(range(8))
    assert [t.params for t in a] == [t.params for t in b]
    for x, y in zip(a, b):
        assert x.state == y.state and x.user_attrs["status"] == y.user_attrs["status"]
        assert (x.value is None) == (y.value is None)
        if x.value is not None:
            assert x.value == pytest.approx(y.value, abs=1e-9)
    diverged = [t for t in a if t.user_attrs["status"] == "diverged"]
    assert diverged, "lr up to 50 should diverge somewhere"
    assert all(t.state == optuna.trial.TrialState.PRUNED and t.params["lr"] > 0.3 for t in diverged)
    assert {t["status"] for t in together["trials"]} <= {"completed", "diverged"}
    html = (tmp_path / "pop" / "report.html").read_text()
    assert "lr against val_accuracy" in html and "data:image/png;base64" in html
    assert together["best"]["value"] == max(t.value for t in a if t.value is not None)
    assert alone["best_params"] == together["best_params"]


def test_edge_of_range_warning_and_grid(tmp_path):
    narrow = parse_space({"fixed": {"dataset": "toy", "depth": 1, "width": 8, "steps": 24, "batch-size": 32},
                          "params": {"lr": {"type": "log-uniform", "low": 1e-4, "high": 1e-2, "points": 3},
                                     "init": {"type": "categorical", "choices": ["glorot-uniform", "he-normal"]}}})
    result = search(tmp_path, space=narrow, trials=10, population=6, sampler="grid", metric="val_loss")
    assert len(result["trials"]) == 6  # the whole 3 x 2 grid, each point once
    assert {(t["params"]["lr"], t["params"]["init"]) for t in result["trials"]} == \
           {(lr, init) for lr in narrow["lr"].grid() for init in ("glorot-uniform", "he-normal")}
    assert result["best_params"]["lr"] == pytest.approx(1e-2)
    assert any("lr" in w and "upper edge" in w and "widen the range" in w for w in result["warnings"])
    html = (tmp_path / "s" / "report.html").read_text()
    assert "widen the range" in html


def test_stages_narrow_the_ranges_and_lengthen_training(tmp_path):
    result = search(tmp_path, trials=8, population=4, sampler="quasi-random", stages=2, space=space(lr=(1e-3, 1.0)))
    phases = {t["phase"] for t in result["trials"]}
    assert phases == {"stage0", "stage1"}
    first = [t for t in result["trials"] if t["phase"] == "stage0"]
    second = [t for t in result["trials"] if t["phase"] == "stage1"]
    assert RunDir(first[0]["run_dirs"][0]).config().steps == 12
    assert RunDir(second[0]["run_dirs"][0]).config().steps == 24
    s1 = study(tmp_path, study_name="search.stage1")
    dist = s1.trials[0].distributions["lr"]
    assert (dist.low, dist.high) != (1e-3, 1.0) and 1e-3 <= dist.low < dist.high <= 1.0


def test_lr_first_tunes_lr_then_the_rest_then_lr(tmp_path):
    result = search(tmp_path, trials=8, population=4, sampler="tpe", lr_first=True, space=space(lr=(1e-3, 1.0)))
    by_phase = {}
    for t in result["trials"]:
        by_phase.setdefault(t["phase"], []).append(t)
    assert list(by_phase) == ["lr", "rest", "lr-check"]
    assert all(set(t["params"]) == {"lr"} for t in by_phase["lr"] + by_phase["lr-check"])
    assert all(set(t["params"]) == {"init_scale"} for t in by_phase["rest"])
    best_lr = max((t for t in by_phase["lr"] if t["value"] is not None), key=lambda t: t["value"])["params"]["lr"]
    assert all(RunDir(t["run_dirs"][0]).config().lr == best_lr for t in by_phase["rest"])


def test_k_fold_records_each_fold_and_the_mean(tmp_path):
    result = search(tmp_path, trials=2, population=2, sampler="random", folds=3, space=space(lr=(0.01, 0.3)))
    for t in result["trials"]:
        assert len(t["fold_values"]) == 3 and len(t["run_dirs"]) == 3
        assert t["value"] == pytest.approx(sum(t["fold_values"]) / 3)
    data = blobs()
    folds = [fold_dataset(data, 3, f) for f in range(3)]
    held = torch.cat([f.val.x for f in folds])
    assert sorted(held.sum(1).tolist()) == pytest.approx(sorted(data.train.x.sum(1).tolist()))
    assert all(len(f.train) + len(f.val) == len(data.train) for f in folds)


@pytest.mark.parametrize("pruner", ["median", "halving"])
def test_pruners_stop_trials_through_the_population(tmp_path, pruner):
    result = search(tmp_path, trials=12, population=4, sampler="random", pruner=pruner,
                    space=space(lr=(1e-4, 0.5), steps=40))
    trials = study(tmp_path).trials
    assert len(trials) == 12 and all(t.state.is_finished() for t in trials)
    assert all(t.intermediate_values for t in trials if t.user_attrs["status"] != "diverged")
    pruned = [t for t in result["trials"] if t["status"] == "pruned"]
    for t in pruned:
        assert RunDir(t["run_dirs"][0]).summary()["steps"] < 40


def test_the_sqlite_study_is_in_write_ahead_log_mode(tmp_path):
    import sqlite3

    search(tmp_path, trials=2, population=2, sampler="random")
    with sqlite3.connect(tmp_path / "s" / "study.db") as db:  # the mode is stored in the file
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len(study(tmp_path).trials) == 2

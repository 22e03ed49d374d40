"""The TOML search space: parsing, grids, narrowing and edge positions."""
from __future__ import annotations

import math

import optuna
import pytest

from trainlab.errors import UserError
from trainlab.search import load_space, parse_space
from trainlab.search.space import Param

RAW = {
    "fixed": {"dataset": "synthetic-blobs", "batch-size": 32},
    "params": {
        "lr": {"type": "log-uniform", "low": 1e-4, "high": 1.0, "points": 5},
        "init": {"type": "categorical", "choices": ["glorot-uniform", "he-normal"]},
        "width": {"type": "int", "low": 8, "high": 64, "log": True},
        "init-scale": {"type": "uniform", "low": 0.5, "high": 2.0},
    },
}


def test_parse_and_build_configs():
    space = parse_space(RAW)
    assert space.names == ["lr", "init", "width", "init_scale"]
    config = space.config({"lr": 0.1, "init": "he-normal", "width": 16, "init_scale": 1.5})
    assert (config.dataset, config.batch_size, config.lr, config.init, config.width) == \
           ("synthetic-blobs", 32, 0.1, "he-normal", 16)
    assert space["lr"].grid() == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert space["init-scale".replace("-", "_")].grid() == pytest.approx([0.5, 1.0, 1.5, 2.0])
    assert space["width"].grid() == [8, 16, 32, 64]


def test_suggestions_follow_the_declared_distributions():
    space = parse_space(RAW)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    values = [space.suggest(study.ask()) for _ in range(200)]
    lrs = [v["lr"] for v in values]
    assert all(1e-4 <= lr <= 1.0 for lr in lrs)
    # log-uniform: about a quarter of the samples in each decade, not 90% in the top one
    assert 0.12 < sum(lr < 1e-3 for lr in lrs) / len(lrs) < 0.38
    assert {v["init"] for v in values} == {"glorot-uniform", "he-normal"}
    assert all(isinstance(v["width"], int) and 8 <= v["width"] <= 64 for v in values)


def test_narrowing_and_edges():
    lr = Param("lr", "log-uniform", 1e-4, 1.0)
    narrow = lr.narrowed([1e-2, 3e-2])
    assert 1e-4 < narrow.low < 1e-2 and 3e-2 < narrow.high < 1.0
    assert lr.position(1e-2) == pytest.approx(0.5)
    assert lr.position(1.0) == pytest.approx(1.0)
    cat = Param("init", "categorical", choices=("a", "b", "c"))
    assert cat.narrowed(["b"]).choices == ("b",)
    assert math.isclose(lr.center(), 1e-2)


@pytest.mark.parametrize("raw, match", [
    ({"params": {"lr": {"type": "log-uniform", "low": 0.0, "high": 1.0}}}, "low > 0"),
    ({"params": {"lr": {"type": "uniform", "low": 1.0, "high": 0.5}}}, "low < high"),
    ({"params": {"lr": {"type": "normal", "low": 0, "high": 1}}}, "normal"),
    ({"params": {"colour": {"type": "categorical", "choices": ["red"]}}}, "colour"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": 1, "step": 2}}}, "step"),
    ({"fixed": {"lr": 0.1}}, "no \\[params"),
    ({"fixd": {}}, "fixd"),
    ({"fixed": 3, "params": {"lr": {"type": "uniform", "low": 0.1, "high": 1}}}, "fixed = 3 must be a table"),
    ({"params": 3}, "params = 3 must be a table"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": 1, "points": "x"}}}, "points = a whole number"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": 1, "points": -3}}}, "got -3"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": 1, "points": 2.5}}}, "points"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": 1, "points": 10**12}}}, "points"),
    ({"params": {"lr": {"type": "uniform", "low": "a", "high": 1}}}, "low = a finite number, got 'a'"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": math.inf}}}, "high = a finite number, got inf"),
    ({"params": {"lr": {"type": "uniform", "low": math.nan, "high": 1}}}, "low = a finite number"),
    ({"params": {"lr": {"type": "uniform", "low": True, "high": 2}}}, "low = a finite number"),
    ({"params": {"lr": {"type": "uniform", "low": -1e308, "high": 1e308}}}, "too wide"),
    ({"params": {"lr": {"type": 5, "low": 0.1, "high": 1}}}, "a string"),
    ({"params": {"lr": {"type": "uniform", "low": 0.1, "high": 1, "log": "no"}}}, "log = true or false"),
    ({"params": {"init": {"type": "categorical", "choices": "he-normal"}}}, "a list"),
    ({"params": {"init": {"type": "categorical", "choices": [{"a": 1}]}}}, "is not a string"),
])
def test_bad_spaces_name_the_problem(raw, match):
    with pytest.raises(UserError, match=match):
        parse_space(raw)


def test_example_file_parses():
    from pathlib import Path

    space = load_space(Path(__file__).resolve().parents[2] / "examples" / "search-space.toml")
    assert {"lr", "init", "activation", "width"} <= set(space.names)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary\x80", bytes(range(256))])
def test_non_utf8_space_file_is_a_user_error(tmp_path, content):
    path = tmp_path / "space.toml"
    path.write_bytes(content)
    with pytest.raises(UserError, match="not UTF-8 text"):
        load_space(path)


def test_binary_utf8_space_file_is_a_user_error(tmp_path):
    path = tmp_path / "space.toml"
    path.write_bytes(b"\x00\x01\x02 = \x03")
    with pytest.raises(UserError, match="not valid TOML"):
        load_space(path)

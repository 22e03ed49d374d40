"""The cost estimate matches what trainlab builds and loads, and refuses only the impossible."""
from __future__ import annotations

import pytest

from trainlab import budget
from trainlab.config import TrainConfig
from trainlab.data import load
from trainlab.errors import UserError
from trainlab.nn import build_model


@pytest.mark.parametrize("name", ["synthetic-blobs", "synthetic-spirals", "mnist", "fashion-mnist", "cifar10",
                                  "shapeset"])
def test_declared_sizes_match_the_loaded_dataset(name):
    shape = budget.data_shape(name)
    data = load(name)
    assert shape.input_shape == data.input_shape and shape.num_classes == data.num_classes
    assert shape.train == len(data.train)
    assert shape.held == len(data.train) + len(data.val) + len(data.test)


@pytest.mark.parametrize("model, depth, width, batch_norm", [
    ("mlp", 0, 10, "none"), ("mlp", 3, 37, "none"), ("mlp", 2, 16, "before"), ("mlp", 2, 16, "after"),
    ("cnn", 2, 8, "none"), ("cnn", 3, 4, "before"), ("cnn", 1, 6, "after"),
])
def test_parameter_count_matches_the_built_model(model, depth, width, batch_norm):
    config = TrainConfig(dataset="cifar10", model=model, depth=depth, width=width, batch_norm=batch_norm)
    shape = budget.data_shape("cifar10")
    built = build_model(model, shape.input_shape, shape.num_classes, depth=depth, width=width,
                        activation="relu", batch_norm=batch_norm)
    assert budget.model_cost(config, shape).parameters == sum(p.numel() for p in built.parameters())


def test_ordinary_and_paper_sized_configurations_pass(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_ENV, "16G")
    budget.check([TrainConfig()])
    budget.check([TrainConfig(dataset="mnist", depth=5, width=1000, batch_size=0, epochs=10.0)])
    budget.check([TrainConfig(dataset="mnist", depth=5, width=1000, lr=lr) for lr in (0.1, 0.01, 0.001)])


def test_memory_grows_with_members_width_and_optimizer_state():
    one = budget.estimate([TrainConfig(width=500)])
    shape = budget.data_shape("shapeset")
    data = budget.FLOAT_BYTES * shape.held * 32 * 32  # shared by every member
    assert budget.estimate([TrainConfig(width=500)] * 4).memory_bytes - data == 4 * (one.memory_bytes - data)
    assert budget.estimate([TrainConfig(width=1000)]).memory_bytes > one.memory_bytes
    assert budget.estimate([TrainConfig(width=500, optimizer="adam")]).memory_bytes > one.memory_bytes


def test_refusals_name_the_estimate_and_the_limit(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_ENV, "512M")
    with pytest.raises(UserError, match=r"needs at least .* GB of memory, more than the 512 MB available"):
        budget.check([TrainConfig(dataset="mnist", depth=2, width=20_000)])


@pytest.mark.parametrize("text, expected", [("64G", 64 * 2**30), ("512m", 512 * 2**20), ("1e9", 10**9)])
def test_memory_limit_sizes(text, expected):
    assert budget.parse_bytes(text, "X") == expected


def test_landscape_work_is_bounded():
    config = TrainConfig(dataset="mnist", depth=10, width=50_000)
    budget.check_evaluations(config, 51 * 51, 1000)
    with pytest.raises(UserError, match="over a year"):
        budget.check_evaluations(config, 1001 ** 2, 10**6)

"""TrainConfig: every name is checked against the registry that owns it, before any data loads."""
from __future__ import annotations

import pytest

from trainlab import config
from trainlab.config import TrainConfig
from trainlab.errors import UserError
from trainlab.init import INITIALIZERS
from trainlab.losses import LOSSES
from trainlab.nn import ACTIVATIONS, MODELS
from trainlab.optimizers import OPTIMIZERS, SCHEDULES


def test_the_choices_are_the_registries():
    assert set(config.INITS) == set(INITIALIZERS)
    assert set(config.LOSSES) == set(LOSSES)
    assert set(config.ACTIVATIONS) == set(ACTIVATIONS)
    assert set(config.MODELS) == set(MODELS)
    assert set(config.OPTIMIZERS) == set(OPTIMIZERS)
    assert set(config.SCHEDULES) == set(SCHEDULES)


@pytest.mark.parametrize("field,value,kind", [
    ("init", "bogus", "initialization scheme"), ("loss", "hinge", "loss"), ("activation", "gelu", "activation"),
    ("model", "resnet", "model"), ("optimizer", "rmsprop", "optimizer"),
    ("schedule", "cosine", "learning-rate schedule"),
])
def test_an_unknown_name_is_refused_when_the_configuration_is_made(field, value, kind):
    with pytest.raises(UserError, match=f"unknown {kind}.*{value}"):
        TrainConfig(dataset="a-dataset-that-does-not-exist", **{field: value})


def test_every_initializer_name_is_accepted():
    for name in INITIALIZERS:
        assert TrainConfig(init=name).init == name


def test_a_bad_preprocessing_step_is_refused_when_the_configuration_is_made():
    with pytest.raises(UserError, match="unknown preprocessing"):
        TrainConfig(dataset="a-dataset-that-does-not-exist", preprocess=("mean", "whiten"))
    assert TrainConfig(preprocess=("mean", "pca:0.99")).preprocess == ("mean", "pca:0.99")


@pytest.mark.parametrize("changes, needle", [
    ({"epochs": float("inf")}, "epochs must be at most"),
    ({"epochs": 10.0**7}, "epochs must be at most"),
    ({"steps": 10**12}, "steps must be at most"),
    ({"seed": 2**63}, "seed must be"),
    ({"seed": -1}, "seed must be"),
    ({"lr_gamma": -2.0}, "lr-gamma must be positive"),
    ({"lr_gamma": 0.0}, "lr-gamma must be positive"),
    ({"lr_gamma": float("nan")}, "lr-gamma must be positive"),
    ({"width": 10**9}, "width must be at most"),
    ({"depth": 10**5}, "depth must be at most"),
    ({"batch_size": 10**9}, "batch-size must be at most"),
    ({"checkpoint_every": 10**10}, "checkpoint-every must be at most"),
])
def test_impossible_values_are_refused_when_the_configuration_is_made(changes, needle):
    with pytest.raises(UserError, match=needle.replace("(", r"\(")):
        TrainConfig(**changes)


def test_the_largest_seed_and_step_counts_are_accepted():
    TrainConfig(seed=2**63 - 1, steps=config.MAX_STEPS, lr_gamma=0.5)
    TrainConfig(epochs=float(config.MAX_EPOCHS))


@pytest.mark.parametrize("values, needle", [
    ({"preprocess": 5}, "preprocess must be a string"),
    ({"preprocess": ["mean", 3]}, "preprocess must be a string"),
    ({"extra": 5}, "extra must be a table"),
    ({"extra": {"note": [1, 2]}}, "extra.note must be"),
])
def test_configuration_values_of_the_wrong_type_are_refused(values, needle):
    with pytest.raises(UserError, match=needle):
        TrainConfig.from_dict(values)


def test_extra_round_trips_through_a_dictionary():
    made = TrainConfig.from_dict({"extra": {"b": 1, "a": "x"}})
    assert made.extra == (("a", "x"), ("b", 1))
    assert TrainConfig.from_dict(made.to_dict()) == made


@pytest.mark.parametrize("content, needle", [
    ("lr = 0.1  # caf\u00e9\n".encode("latin-1"), "is not UTF-8 text"),
    (b"\x89PNG\r\n\x1a\n\xff\xd8", "is not UTF-8 text"),
    (b"lr = = 1\n", "is not valid TOML"),
])
def test_unreadable_configuration_files_are_one_user_error(tmp_path, content, needle):
    path = tmp_path / "run.toml"
    path.write_bytes(content)
    with pytest.raises(UserError, match=needle) as caught:
        config.load_toml(path)
    assert "\n" not in str(caught.value)


def test_a_folder_given_as_configuration_file_is_named(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        config.load_toml(tmp_path)

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
    ("model", "resnet", "model"), ("optimizer", "rmsprop", "optimizer"), ("schedule", "cosine", "learning-rate schedule"),
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

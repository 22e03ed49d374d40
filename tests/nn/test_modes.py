"""eval_mode: every submodule in eval mode inside, each one's own mode back afterwards, even after an error."""
from __future__ import annotations

import pytest
from torch import nn

from trainlab.nn.modes import eval_mode


def _model() -> nn.Sequential:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model[1].eval()  # a frozen batch-norm layer inside a training model
    return model


def test_eval_inside_and_each_modules_own_mode_after():
    model = _model()
    with eval_mode(model) as inside:
        assert inside is model and not any(m.training for m in model.modules())
    assert model.training and not model[1].training
    assert all(m.training for i, m in enumerate(model) if i != 1)


def test_modes_are_restored_when_the_body_raises():
    model = _model()
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("boom")
    assert model.training and not model[1].training

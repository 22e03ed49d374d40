"""One optimizer registry: lone and stacked optimizers under the same names, the same arithmetic."""
from __future__ import annotations

import pytest
import torch

from trainlab.config import OPTIMIZERS as CONFIG_OPTIMIZERS, TrainConfig
from trainlab.errors import UserError
from trainlab.optimizers import OPTIMIZERS, SCHEDULES, effective_momentum, make_optimizer
from trainlab.population.optim import STACKED_OPTIMIZERS, make_stacked_optimizer


def test_the_configuration_the_population_and_the_registry_know_the_same_optimizers():
    assert tuple(OPTIMIZERS) == CONFIG_OPTIMIZERS
    assert set(STACKED_OPTIMIZERS) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_stacked_optimizer_updates_each_member_as_its_lone_optimizer_does(name):
    g = torch.Generator().manual_seed(0)
    weights = [torch.randn(3, 4, generator=g, dtype=torch.float64) for _ in range(2)]
    grads = [[torch.randn(3, 4, generator=g, dtype=torch.float64) for _ in range(2)] for _ in range(3)]
    lrs, momenta = [0.1, 0.03], [0.0, 0.5] if name != "momentum" else [0.9, 0.9]
    stacked = torch.stack(weights)
    opt = make_stacked_optimizer(name, [stacked], torch.tensor(momenta, dtype=torch.float64))
    for g_step in grads:
        opt.step([stacked], [torch.stack(g_step)], torch.tensor(lrs, dtype=torch.float64))
    for k, w in enumerate(weights):
        p = torch.nn.Parameter(w.clone())
        lone = make_optimizer(name, [p], lr=lrs[k], momentum=momenta[k])
        for g_step in grads:
            p.grad = g_step[k].clone()
            lone.step()
        torch.testing.assert_close(stacked[k], p.detach(), rtol=1e-12, atol=1e-12)


def test_default_momentum_is_the_optimizers_and_a_given_one_wins():
    assert effective_momentum("sgd", None) == 0.0
    assert effective_momentum("momentum", None) == 0.9
    assert effective_momentum("momentum", 0.5) == 0.5
    assert TrainConfig(optimizer="momentum").effective_momentum == 0.9
    sgd = make_optimizer("momentum", [torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.9


def test_only_trainable_parameters_are_optimized():
    frozen, free = torch.nn.Parameter(torch.zeros(2), requires_grad=False), torch.nn.Parameter(torch.zeros(2))
    opt = make_optimizer("adam", [frozen, free], lr=1e-3)
    assert [p for group in opt.param_groups for p in group["params"]] == [free]


def test_unknown_names_list_the_registry():
    with pytest.raises(UserError, match="adam, momentum, sgd"):
        make_optimizer("rmsprop", [], lr=0.1)
    with pytest.raises(UserError, match="unknown optimizer"):
        make_stacked_optimizer("rmsprop", [], torch.zeros(1))


def test_step_schedule_decays_every_n_steps():
    assert [SCHEDULES["step"](0.1, s, every=10, gamma=0.5) for s in (0, 9, 10, 25)] == [0.1, 0.1, 0.05, 0.025]
    assert SCHEDULES["constant"](0.1, 99, every=0, gamma=0.5) == 0.1

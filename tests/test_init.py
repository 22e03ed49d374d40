"""Each initializer's statistics against its formula, and the model-level entry points."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
import torch
from scipy import stats
from torch import nn

from trainlab import init
from trainlab.errors import UserError

LINEAR = (1000, 1000)
CONV = (256, 128, 5, 5)  # fan_in = 3200, fan_out = 6400
P_MIN = 1e-3  # KS p-value below which a sample is rejected (seeded, so deterministic)


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _filled(fill: Callable[..., torch.Tensor], shape: tuple[int, ...], **kwargs: object) -> torch.Tensor:
    w = torch.empty(shape)
    out = fill(w, **kwargs)
    assert out is w  # in place, returns its argument
    return w


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    return nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


# --------------------------------------------------------------------------
# fans
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(30, 20), (7, 3, 5), (16, 8, 3, 3), (4, 2, 3, 3, 3), CONV])
def test_fans_match_torch(shape: tuple[int, ...]) -> None:
    assert init.fan_in_and_fan_out(torch.empty(shape)) == _fans(shape)


def test_fans_of_a_vector_is_a_user_error() -> None:
    with pytest.raises(UserError, match="at least 2 dimensions"):
        init.fan_in_and_fan_out(torch.empty(10))


# --------------------------------------------------------------------------
# uniform schemes: bound, variance bound^2 / 3, KS against U(-bound, bound)
# --------------------------------------------------------------------------


def _uniform_cases() -> list[tuple[str, Callable[..., torch.Tensor], tuple[int, ...], dict, float]]:
    cases = []
    for shape in (LINEAR, CONV):
        fan_in, fan_out = _fans(shape)
        cases += [
            ("uniform", init.uniform_, shape, {}, 0.05),
            ("standard", init.standard_, shape, {}, 1 / math.sqrt(fan_in)),
            ("glorot", init.glorot_uniform_, shape, {}, math.sqrt(6 / (fan_in + fan_out))),
            ("glorot-gain", init.glorot_uniform_, shape, {"gain": 2.0}, 2 * math.sqrt(6 / (fan_in + fan_out))),
            ("he-in", init.he_uniform_, shape, {}, math.sqrt(6 / fan_in)),
            ("he-out", init.he_uniform_, shape, {"mode": "fan_out"}, math.sqrt(6 / fan_out)),
            ("he-leaky", init.he_uniform_, shape, {"negative_slope": 0.2}, math.sqrt(6 / (1.04 * fan_in))),
        ]
    return cases


@pytest.mark.parametrize(
    ("label", "fill", "shape", "kwargs", "bound"),
    _uniform_cases(),
    ids=[f"{c[0]}-{len(c[2])}d" for c in _uniform_cases()],
)
def test_uniform_scheme_statistics(label, fill, shape, kwargs, bound) -> None:
    w = _filled(fill, shape, generator=_seeded(), **kwargs).double()
    largest = w.abs().max().item()
    assert largest <= bound * (1 + 1e-6)
    assert largest >= 0.99 * bound
    assert w.var().item() == pytest.approx(bound**2 / 3, rel=0.02)
    assert abs(w.mean().item()) < 0.01 * bound
    sample = w.flatten()[::10].numpy()
    assert stats.kstest(sample, stats.uniform(loc=-bound, scale=2 * bound).cdf).pvalue > P_MIN


def test_uniform_bounds() -> None:
    w = _filled(init.uniform_, LINEAR, a=1.0, b=3.0, generator=_seeded())
    assert 1.0 <= w.min().item() < 1.01 and 2.99 < w.max().item() <= 3.0
    with pytest.raises(UserError, match="a < b"):
        init.uniform_(torch.empty(3, 3), 1.0, 1.0)


# --------------------------------------------------------------------------
# normal schemes: std, KS against N(0, std^2)
# --------------------------------------------------------------------------


def _normal_cases() -> list[tuple[str, Callable[..., torch.Tensor], tuple[int, ...], dict, float]]:
    cases = []
    for shape in (LINEAR, CONV):
        fan_in, fan_out = _fans(shape)
        cases += [
            ("normal", init.normal_, shape, {}, 0.01),
            ("normal-std", init.normal_, shape, {"std": 0.3}, 0.3),
            ("glorot", init.glorot_normal_, shape, {}, math.sqrt(2 / (fan_in + fan_out))),
            ("glorot-gain", init.glorot_normal_, shape, {"gain": 0.5}, 0.5 * math.sqrt(2 / (fan_in + fan_out))),
            ("he-in", init.he_normal_, shape, {}, math.sqrt(2 / fan_in)),
            ("he-out", init.he_normal_, shape, {"mode": "fan_out"}, math.sqrt(2 / fan_out)),
            ("he-leaky", init.he_normal_, shape, {"negative_slope": 0.2}, math.sqrt(2 / (1.04 * fan_in))),
            ("lecun", init.lecun_normal_, shape, {}, math.sqrt(1 / fan_in)),
        ]
    return cases


@pytest.mark.parametrize(
    ("label", "fill", "shape", "kwargs", "std"),
    _normal_cases(),
    ids=[f"{c[0]}-{len(c[2])}d" for c in _normal_cases()],
)
def test_normal_scheme_statistics(label, fill, shape, kwargs, std) -> None:
    w = _filled(fill, shape, generator=_seeded(), **kwargs).double()
    assert w.std().item() == pytest.approx(std, rel=0.02)
    assert abs(w.mean().item()) < 0.01 * std
    sample = w.flatten()[::10].numpy()
    assert stats.kstest(sample, stats.norm(scale=std).cdf).pvalue > P_MIN
    # A Gaussian, not a uniform of the same variance: excess kurtosis 0, not -1.2.
    assert abs(stats.kurtosis(sample)) < 0.1


def test_normal_rejects_non_positive_std() -> None:
    for std in (0.0, -1.0, math.nan):
        with pytest.raises(UserError, match="positive"):
            init.normal_(torch.empty(3, 3), std)


def test_he_rejects_unknown_mode_naming_the_allowed_ones() -> None:
    for fill in (init.he_normal_, init.he_uniform_):
        with pytest.raises(UserError, match="fan_in, fan_out"):
            fill(torch.empty(3, 3), mode="fan_avg")


# --------------------------------------------------------------------------
# constants and orthogonal
# --------------------------------------------------------------------------


def test_zeros_and_constant() -> None:
    assert torch.equal(init.zeros_(torch.ones(4, 5)), torch.zeros(4, 5))
    assert torch.equal(init.constant_(torch.ones(4, 5, 3), 0.25), torch.full((4, 5, 3), 0.25))
    with pytest.raises(UserError, match="finite"):
        init.constant_(torch.empty(2, 2), math.inf)


@pytest.mark.parametrize("shape", [(300, 500), (500, 300), (64, 32, 3, 3), (200, 200)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape: tuple[int, ...], gain: float) -> None:
    w = init.orthogonal_(torch.empty(shape, dtype=torch.float64), gain, generator=_seeded())
    matrix = w.reshape(shape[0], -1)
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    eye = torch.eye(gram.shape[0], dtype=torch.float64)
    assert torch.allclose(gram, gain**2 * eye, atol=1e-6, rtol=0)


# --------------------------------------------------------------------------
# determinism
# --------------------------------------------------------------------------

_RANDOM = sorted(name for name in init.INITIALIZERS if name not in ("zeros", "constant"))


@pytest.mark.parametrize("name", _RANDOM)
def test_seeded_generator_is_deterministic(name: str) -> None:
    fill = init.INITIALIZERS[name]
    first = _filled(fill, (64, 32, 3), generator=_seeded(1))
    again = _filled(fill, (64, 32, 3), generator=_seeded(1))
    other = _filled(fill, (64, 32, 3), generator=_seeded(2))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


# --------------------------------------------------------------------------
# registry and config
# --------------------------------------------------------------------------

_NAMES = {
    "zeros", "constant", "normal", "uniform", "standard", "glorot-uniform", "glorot-normal",
    "he-normal", "he-uniform", "lecun-normal", "orthogonal", "lsuv",
}


def test_registry_has_exactly_the_schemes() -> None:
    assert set(init.INITIALIZERS) == _NAMES
    assert len(init.INITIALIZERS) == 12
    assert all(callable(fill) for fill in init.INITIALIZERS.values())


def test_unknown_scheme_lists_the_allowed_names() -> None:
    with pytest.raises(UserError) as caught:
        init.InitConfig(scheme="xavier")
    message = str(caught.value)
    assert "'xavier'" in message
    for name in _NAMES:
        assert name in message
    with pytest.raises(UserError, match="glorot-uniform"):
        init.initialize_(nn.Linear(2, 2), "kaiming")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("std", 0.0, "std"),
        ("std", -0.1, "std"),
        ("std", math.nan, "std"),
        ("scale", math.inf, "scale"),
        ("scale", math.nan, "scale"),
        ("value", math.inf, "value"),
        ("mode", "fan_avg", "fan_in, fan_out"),
    ],
)
def test_config_rejects_impossible_values(field: str, value: object, match: str) -> None:
    with pytest.raises(UserError, match=match):
        init.InitConfig(**{field: value})


def test_config_is_a_plain_frozen_value() -> None:
    config = init.InitConfig(scheme="he-normal", scale=0.5, mode="fan_out")
    assert init.InitConfig(**dataclasses.asdict(config)) == config
    assert dataclasses.asdict(init.InitConfig()) == {
        "scheme": "glorot-uniform", "std": 0.01, "value": 0.0, "scale": 1.0, "mode": "fan_in",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.scale = 2.0  # type: ignore[misc]


# --------------------------------------------------------------------------
# initialize_
# --------------------------------------------------------------------------


def _convnet() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 6 * 6, 10),
    )


def test_weight_layers_in_module_order() -> None:
    model = nn.Sequential(
        nn.Conv1d(2, 3, 3), nn.Sequential(nn.Conv3d(3, 3, 1), nn.BatchNorm1d(3)), nn.Conv2d(3, 3, 1),
        nn.Linear(3, 3), nn.ConvTranspose2d(3, 3, 1),
    )
    assert [name for name, _ in init.weight_layers(model)] == ["0", "1.0", "2", "3"]


def test_initialize_touches_linear_and_conv_and_zeroes_biases() -> None:
    model = _convnet()
    before = {name: p.clone() for name, p in model.named_parameters()}
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    assert init.initialize_(model, "he-normal", generator=_seeded()) is model
    for name, _ in init.weight_layers(model):
        layer = model.get_submodule(name)
        assert not torch.equal(layer.weight, before[f"{name}.weight"])
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
    conv = model[0]
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 27), rel=0.15)
    norm = model[1]
    assert torch.equal(norm.weight, before["1.weight"]) and torch.equal(norm.weight, torch.ones(8))
    assert torch.equal(norm.bias, before["1.bias"]) and torch.equal(norm.bias, torch.zeros(8))
    for name, buffer in model.named_buffers():
        assert torch.equal(buffer, buffers[name])


def test_initialize_takes_scheme_parameters_from_the_config() -> None:
    model = nn.Linear(1000, 500)
    init.initialize_(model, init.InitConfig(scheme="normal", std=0.2), generator=_seeded())
    assert model.weight.std().item() == pytest.approx(0.2, rel=0.02)
    init.initialize_(model, init.InitConfig(scheme="constant", value=0.5))
    assert torch.equal(model.weight, torch.full((500, 1000), 0.5))
    init.initialize_(model, init.InitConfig(scheme="he-uniform", mode="fan_out"), generator=_seeded())
    assert model.weight.var().item() == pytest.approx(2 / 500, rel=0.02)


def test_initialize_applies_scale_after_the_scheme() -> None:
    plain, scaled = _convnet(), _convnet()
    init.initialize_(plain, init.InitConfig(scheme="glorot-normal"), generator=_seeded(3))
    init.initialize_(scaled, init.InitConfig(scheme="glorot-normal", scale=3.0), generator=_seeded(3))
    for (name, a), (_, b) in zip(init.weight_layers(plain), init.weight_layers(scaled)):
        assert torch.allclose(b.weight, 3.0 * a.weight), name
        assert torch.equal(b.bias, torch.zeros_like(b.bias))


def test_initialize_is_deterministic_given_a_generator() -> None:
    a, b, c = _convnet(), _convnet(), _convnet()
    init.initialize_(a, "orthogonal", generator=_seeded(5))
    init.initialize_(b, "orthogonal", generator=_seeded(5))
    init.initialize_(c, "orthogonal", generator=_seeded(6))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


# --------------------------------------------------------------------------
# LSUV
# --------------------------------------------------------------------------


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(100, 200), nn.Tanh(),
        nn.Linear(200, 200), nn.ReLU(),
        nn.Linear(200, 100), nn.Tanh(),
        nn.Linear(100, 100), nn.ReLU(),
        nn.Linear(100, 10),
    )


def _batch(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=_seeded(7))


def _layer_variances(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Independent check: each weight layer's output variance, by our own hooks."""
    variances: dict[str, float] = {}
    handles = [
        layer.register_forward_hook(
            lambda _m, _i, out, name=name: variances.__setitem__(name, out.double().var().item())
        )
        for name, layer in model.named_modules()
        if isinstance(layer, (nn.Linear, nn.Conv2d))
    ]
    try:
        with torch.no_grad():
            model.eval()
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return variances


def _no_hooks_left(model: nn.Module) -> bool:
    return all(
        not module._forward_hooks and not module._forward_pre_hooks for module in model.modules()
    )


def test_lsuv_brings_every_layer_to_unit_variance() -> None:
    model, x = _mlp(), _batch(512, 100)
    model.train()
    report = init.lsuv_(model, x, tol=0.1, generator=_seeded())
    assert list(report) == ["0", "2", "4", "6", "8"]
    for name, entry in report.items():
        assert entry["converged"] and abs(entry["variance"] - 1) < 0.1, name
        assert 0 <= entry["iterations"] <= 10
    assert any(entry["iterations"] > 0 for entry in report.values())
    model.train()
    measured = _layer_variances(model, x)
    assert set(measured) == set(report)
    for name, variance in measured.items():
        assert abs(variance - 1) < 0.1, name
        assert variance == pytest.approx(report[name]["variance"], rel=1e-5)


def test_lsuv_leaves_no_hooks_restores_modes_and_tracks_no_gradients() -> None:
    model, x = _mlp(), _batch(256, 100)
    model.train()
    model[2].eval()  # a mixed-mode model keeps its mix
    init.lsuv_(model, x, generator=_seeded())
    assert _no_hooks_left(model)
    assert model.training and not model[2].training
    assert all(module.training for i, module in enumerate(model) if i != 2)
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
    model.eval()
    init.lsuv_(model, x, generator=_seeded())
    assert not any(module.training for module in model.modules())


def test_lsuv_on_a_convnet_in_forward_order() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Linear(8 * 8 * 8, 10)  # registered first, called last
            self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
            return self.head(x.flatten(1))

    model, x = Net(), _batch(64, 3, 8, 8)
    report = init.lsuv_(model, x, generator=_seeded())
    assert list(report) == ["conv1", "conv2", "head"]
    for name, variance in _layer_variances(model, x).items():
        assert abs(variance - 1) < 0.1, name
    assert _no_hooks_left(model)


def test_lsuv_stops_at_max_iter() -> None:
    model, x = _mlp(), _batch(256, 100)
    report = init.lsuv_(model, x, tol=1e-12, max_iter=2, generator=_seeded())
    assert all(entry["iterations"] == 2 for entry in report.values())
    assert not all(entry["converged"] for entry in report.values())


def test_lsuv_removes_hooks_even_when_it_fails() -> None:
    model = _mlp()
    model.train()
    for _, layer in init.weight_layers(model):
        nn.init.zeros_(layer.bias)
    with pytest.raises(UserError, match="variance"):  # zero input and biases: zero output
        init.lsuv_(model, torch.zeros(16, 100), generator=_seeded())
    assert _no_hooks_left(model)
    assert all(module.training for module in model.modules())


def test_initialize_lsuv_needs_a_data_batch() -> None:
    with pytest.raises(UserError, match="data batch"):
        init.initialize_(_mlp(), "lsuv")


def test_initialize_lsuv_zeroes_biases_and_normalises() -> None:
    model, x = _mlp(), _batch(512, 100)
    init.initialize_(model, "lsuv", data=x, generator=_seeded())
    for name, layer in init.weight_layers(model):
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias)), name
    for name, variance in _layer_variances(model, x).items():
        assert abs(variance - 1) < 0.1, name
    assert _no_hooks_left(model)

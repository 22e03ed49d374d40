"""Weight initialization: the classic schemes, each with its formula and paper.

Per-tensor functions fill a weight tensor in place and return it, like
:mod:`torch.nn.init` (which they use wherever it already implements the
scheme). A weight is a Linear weight ``[out, in]`` or a convolution weight
``[out, in, *kernel]``, with::

    fan_in  = in  * prod(kernel)
    fan_out = out * prod(kernel)

Model-level entry points:

* :func:`initialize_` applies an :class:`InitConfig` to every Linear and
  Conv1d/2d/3d layer of a model and sets their biases to zero;
* :func:`lsuv_` is the data-driven Layer-Sequential Unit-Variance scheme.

:data:`INITIALIZERS` maps each scheme's name to its per-tensor function.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

import torch
from torch import nn

from trainlab.errors import UserError, choose
from trainlab.nn.modes import eval_mode

__all__ = [
    "INITIALIZERS",
    "InitConfig",
    "constant_",
    "fan_in_and_fan_out",
    "glorot_normal_",
    "glorot_uniform_",
    "he_normal_",
    "he_uniform_",
    "initialize_",
    "lecun_normal_",
    "lsuv_",
    "needs_data",
    "normal_",
    "orthogonal_",
    "standard_",
    "uniform_",
    "weight_layers",
    "zeros_",
]

_MODES = ("fan_in", "fan_out")
_WEIGHT_LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    r"""Return ``(fan_in, fan_out)`` of a Linear or convolution weight.

    For a weight of shape ``[out, in, *kernel]``, with the receptive field
    :math:`r = \prod \text{kernel}` (1 for a Linear weight),
    :math:`\text{fan\_in} = \text{in} \cdot r` and
    :math:`\text{fan\_out} = \text{out} \cdot r`.
    """
    if tensor.dim() < 2:
        raise UserError(
            f"fan in and fan out need a weight with at least 2 dimensions "
            f"([out, in] or [out, in, *kernel]); got shape {tuple(tensor.shape)}"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: torch.Tensor, mode: str) -> int:
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if choose("mode", mode, _MODES) == "fan_in" else fan_out


# --------------------------------------------------------------------------
# Per-tensor initializers
# --------------------------------------------------------------------------


def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    r"""Fill ``tensor`` with zeros: :math:`w = 0`.

    Every unit of a layer then computes the same function and receives the same
    gradient, so the symmetry is never broken (CS231n notes, "Pitfall: all zero
    initialization"). Kept as the cautionary baseline; biases start here.
    """
    return nn.init.zeros_(tensor)


def constant_(tensor: torch.Tensor, value: float) -> torch.Tensor:
    r"""Fill ``tensor`` with ``value``: :math:`w = c`.

    Like :func:`zeros_`, it leaves all units of a layer identical.
    """
    if not math.isfinite(value):
        raise UserError(f"constant value must be a finite number; got {value!r}")
    return nn.init.constant_(tensor, value)


def normal_(
    tensor: torch.Tensor,
    std: float = 0.01,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with small Gaussian numbers: :math:`w \sim \mathcal{N}(0, \text{std}^2)`.

    "Epsilon times a standard Gaussian" with :math:`\epsilon = 0.01` by default
    (Karpathy et al., CS231n notes, "Small random numbers"). The scale ignores
    the fan, so activations shrink (or grow) layer after layer in deep nets.

    Args:
        tensor: the weight to fill.
        std: the standard deviation :math:`\epsilon`, positive.
        generator: the random number generator to sample from.
    """
    if not (std > 0 and math.isfinite(std)):
        raise UserError(f"normal std must be a positive finite number; got {std!r}")
    return nn.init.normal_(tensor, 0.0, std, generator=generator)


def uniform_(
    tensor: torch.Tensor,
    a: float = -0.05,
    b: float = 0.05,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with uniform numbers: :math:`w \sim \mathcal{U}(a, b)`.

    The default :math:`\mathcal{U}(-0.05, 0.05)` is a fixed small range (the
    uniform counterpart of :func:`normal_`, and Keras' ``RandomUniform``
    default); like it, it ignores the fan.

    Args:
        tensor: the weight to fill.
        a: the lower bound.
        b: the upper bound, greater than ``a``.
        generator: the random number generator to sample from.
    """
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise UserError(f"uniform bounds must be finite with a < b; got a={a!r}, b={b!r}")
    return nn.init.uniform_(tensor, a, b, generator=generator)


def standard_(
    tensor: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the "commonly used heuristic" of Glorot & Bengio.

    .. math::
        w \sim \mathcal{U}\left[-\frac{1}{\sqrt{\text{fan\_in}}},
                                \frac{1}{\sqrt{\text{fan\_in}}}\right]

    so :math:`\operatorname{Var}(w) = 1 / (3\,\text{fan\_in})`: the variance of
    the activations shrinks by a factor 3 per layer.

    Reference: Glorot & Bengio (2010), "Understanding the difficulty of training
    deep feedforward neural networks", AISTATS, eq. 1.
    """
    fan_in, _ = fan_in_and_fan_out(tensor)
    bound = 1.0 / math.sqrt(fan_in)
    return nn.init.uniform_(tensor, -bound, bound, generator=generator)


def glorot_uniform_(
    tensor: torch.Tensor,
    gain: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the "normalized initialization" of Glorot & Bengio.

    .. math::
        w \sim \mathcal{U}\left[-\text{gain}\sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}},
                                \text{gain}\sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}\right]

    so :math:`\operatorname{Var}(w) = \text{gain}^2 \cdot 2 / (\text{fan\_in} + \text{fan\_out})`,
    a compromise between keeping the forward and the backward variance.

    Reference: Glorot & Bengio (2010), "Understanding the difficulty of training
    deep feedforward neural networks", AISTATS, eq. 16.
    """
    return nn.init.xavier_uniform_(tensor, gain=gain, generator=generator)


def glorot_normal_(
    tensor: torch.Tensor,
    gain: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the Gaussian form of Glorot & Bengio's normalized init.

    .. math::
        w \sim \mathcal{N}\left(0, \sigma^2\right), \quad
        \sigma = \text{gain}\sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    the same variance as :func:`glorot_uniform_`.

    Reference: Glorot & Bengio (2010), "Understanding the difficulty of training
    deep feedforward neural networks", AISTATS, eq. 12 and 16.
    """
    return nn.init.xavier_normal_(tensor, gain=gain, generator=generator)


def he_normal_(
    tensor: torch.Tensor,
    mode: str = "fan_in",
    *,
    negative_slope: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with He et al.'s initialization for (leaky) ReLU layers.

    .. math::
        w \sim \mathcal{N}\left(0, \frac{2}{(1 + a^2)\,\text{fan}}\right)

    where :math:`a` is ``negative_slope`` (0 for ReLU) and ``fan`` is
    ``fan_in`` (keeps the forward variance, eq. 10) or ``fan_out`` (keeps the
    backward variance, eq. 14).

    Reference: He, Zhang, Ren & Sun (2015), "Delving Deep into Rectifiers:
    Surpassing Human-Level Performance on ImageNet Classification", ICCV.

    Args:
        tensor: the weight to fill.
        mode: ``"fan_in"`` or ``"fan_out"``.
        negative_slope: the slope :math:`a` of a leaky ReLU's negative part.
        generator: the random number generator to sample from.
    """
    choose("mode", mode, _MODES)
    return nn.init.kaiming_normal_(
        tensor, a=negative_slope, mode=mode, nonlinearity="leaky_relu", generator=generator
    )


def he_uniform_(
    tensor: torch.Tensor,
    mode: str = "fan_in",
    *,
    negative_slope: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with the uniform form of He et al.'s initialization.

    .. math::
        w \sim \mathcal{U}\left[-\sqrt{\frac{6}{(1 + a^2)\,\text{fan}}},
                                \sqrt{\frac{6}{(1 + a^2)\,\text{fan}}}\right]

    the same variance :math:`2 / ((1 + a^2)\,\text{fan})` as :func:`he_normal_`.

    Reference: He, Zhang, Ren & Sun (2015), "Delving Deep into Rectifiers:
    Surpassing Human-Level Performance on ImageNet Classification", ICCV,
    eq. 10 and 14.

    Args:
        tensor: the weight to fill.
        mode: ``"fan_in"`` or ``"fan_out"``.
        negative_slope: the slope :math:`a` of a leaky ReLU's negative part.
        generator: the random number generator to sample from.
    """
    choose("mode", mode, _MODES)
    return nn.init.kaiming_uniform_(
        tensor, a=negative_slope, mode=mode, nonlinearity="leaky_relu", generator=generator
    )


def lecun_normal_(
    tensor: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with LeCun's initialization.

    .. math::
        w \sim \mathcal{N}\left(0, \frac{1}{\text{fan\_in}}\right)

    which keeps the variance of a linear (or tanh, near 0) unit's output equal
    to that of its inputs.

    Reference: LeCun, Bottou, Orr & Müller (1998), "Efficient BackProp", in
    Neural Networks: Tricks of the Trade, section 4.6.
    """
    fan_in, _ = fan_in_and_fan_out(tensor)
    return nn.init.normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in), generator=generator)


def orthogonal_(
    tensor: torch.Tensor,
    gain: float = 1.0,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with a (semi-)orthogonal matrix times ``gain``.

    The weight is viewed as a matrix :math:`W` of shape ``[out, in * prod(kernel)]``;
    then :math:`W W^\top = \text{gain}^2 I` if it has no more rows than columns,
    else :math:`W^\top W = \text{gain}^2 I`. All singular values equal ``gain``,
    so a deep linear net neither shrinks nor amplifies any direction.

    Reference: Saxe, McClelland & Ganguli (2014), "Exact solutions to the
    nonlinear dynamics of learning in deep linear neural networks", ICLR.
    """
    return nn.init.orthogonal_(tensor, gain=gain, generator=generator)


# --------------------------------------------------------------------------
# LSUV: data-driven layer-sequential unit-variance
# --------------------------------------------------------------------------


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Return ``(name, module)`` for every Linear and Conv1d/2d/3d, in module order."""
    return [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, _WEIGHT_LAYER_TYPES)
    ]


@contextmanager
def _recording_outputs(
    modules: dict[nn.Module, str], record: Callable[[str, torch.Tensor], None]
) -> Iterator[None]:
    """Call ``record(name, output)`` on every forward of ``modules``; always unhook."""
    handles = [
        module.register_forward_hook(
            lambda _module, _inputs, output, name=name: record(name, output)
        )
        for module, name in modules.items()
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _forward_order(model: nn.Module, x: torch.Tensor) -> list[tuple[str, nn.Module]]:
    """The weight layers in the order the forward pass first calls them."""
    layers = dict(weight_layers(model))
    order: list[str] = []

    def record(name: str, _output: torch.Tensor) -> None:
        if name not in order:
            order.append(name)

    with _recording_outputs({module: name for name, module in layers.items()}, record):
        model(x)
    return [(name, layers[name]) for name in order]


def _output_variance(model: nn.Module, layer: nn.Module, name: str, x: torch.Tensor) -> float:
    """Forward ``x`` and return the variance of ``layer``'s (first) output."""
    outputs: list[torch.Tensor] = []
    with _recording_outputs({layer: name}, lambda _name, output: outputs.append(output)):
        model(x)
    variance = outputs[0].detach().double().var().item()
    if not (variance > 0 and math.isfinite(variance)):
        raise UserError(
            f"layer {name!r} has output variance {variance!r} on the data batch, so LSUV "
            f"cannot rescale it to 1; pass a batch of real, non-constant inputs"
        )
    return variance


def _lsuv_rescale_(
    model: nn.Module, x: torch.Tensor, *, tol: float = 0.1, max_iter: int = 10
) -> dict[str, dict[str, float | int | bool]]:
    """The LSUV loop on already-initialized weights (Mishkin & Matas 2016, Alg. 1, steps 2-5)."""
    if not (tol > 0 and math.isfinite(tol)):
        raise UserError(f"LSUV tol must be a positive finite number; got {tol!r}")
    if max_iter < 0:
        raise UserError(f"LSUV max_iter must be 0 or more; got {max_iter!r}")
    report: dict[str, dict[str, float | int | bool]] = {}
    with torch.no_grad(), eval_mode(model):
        for name, layer in _forward_order(model, x):
            variance = _output_variance(model, layer, name, x)
            iterations = 0
            while abs(variance - 1.0) >= tol and iterations < max_iter:
                layer.weight.div_(math.sqrt(variance))
                iterations += 1
                variance = _output_variance(model, layer, name, x)
            report[name] = {
                "variance": variance,
                "iterations": iterations,
                "converged": abs(variance - 1.0) < tol,
            }
    return report


def lsuv_(
    model: nn.Module,
    x: torch.Tensor,
    *,
    tol: float = 0.1,
    max_iter: int = 10,
    generator: torch.Generator | None = None,
) -> dict[str, dict[str, float | int | bool]]:
    r"""Layer-Sequential Unit-Variance initialization of ``model``, in place.

    1. Fill every Linear/Conv weight with an orthonormal matrix (:func:`orthogonal_`).
    2. For each such layer in forward order, forward the batch ``x`` and measure
       the variance :math:`v` of the layer's output; while
       :math:`|v - 1| \ge \text{tol}` and fewer than ``max_iter`` rescalings were
       made, set :math:`W \leftarrow W / \sqrt{v}` and measure again.

    Runs under :func:`torch.no_grad` with every submodule in eval mode (no
    dropout, no batch-norm statistics updates), and restores each submodule's
    mode afterwards. Biases are left as they are (:func:`initialize_` zeroes
    them first). Layers the forward pass never calls are orthonormal but not
    rescaled, and absent from the result.

    Reference: Mishkin & Matas (2016), "All you need is a good init", ICLR,
    Algorithm 1.

    Args:
        model: the network to initialize.
        x: a batch of inputs, as ``model(x)`` expects.
        tol: the accepted distance of each output variance from 1.
        max_iter: the most rescalings per layer.
        generator: the random number generator for the orthonormal matrices.

    Returns:
        For each layer name, ``{"variance": final output variance,
        "iterations": rescalings made, "converged": |variance - 1| < tol}``.
    """
    with torch.no_grad():
        for _, layer in weight_layers(model):
            orthogonal_(layer.weight, generator=generator)
    return _lsuv_rescale_(model, x, tol=tol, max_iter=max_iter)


# --------------------------------------------------------------------------
# Registry and model-level entry point
# --------------------------------------------------------------------------

INITIALIZERS: dict[str, Callable[..., torch.Tensor]] = {
    "zeros": zeros_,
    "constant": constant_,
    "normal": normal_,
    "uniform": uniform_,
    "standard": standard_,
    "glorot-uniform": glorot_uniform_,
    "glorot-normal": glorot_normal_,
    "he-normal": he_normal_,
    "he-uniform": he_uniform_,
    "lecun-normal": lecun_normal_,
    "orthogonal": orthogonal_,
    # LSUV's per-tensor stage; initialize_ then runs the data-driven rescaling.
    "lsuv": orthogonal_,
}
"""Scheme name -> per-tensor initializer."""

_DATA_DRIVEN: dict[str, Callable[..., object]] = {"lsuv": _lsuv_rescale_}
"""Scheme name -> pass over the whole model and a data batch, run after the per-tensor stage."""


def needs_data(scheme: str) -> bool:
    """Whether ``scheme`` is data-driven (LSUV): :func:`initialize_` then needs a batch of inputs."""
    return choose("initialization scheme", scheme, list(INITIALIZERS)) in _DATA_DRIVEN


@dataclass(frozen=True)
class InitConfig:
    """How to initialize a model's weights: a plain, serialisable value.

    Attributes:
        scheme: a name in :data:`INITIALIZERS`.
        std: the standard deviation of the ``normal`` scheme, positive.
        value: the fill value of the ``constant`` scheme.
        scale: multiplies every weight after the scheme, so the overall scale
            can be searched over like any other hyperparameter.
        mode: ``"fan_in"`` or ``"fan_out"``, for the ``he-*`` schemes.
    """

    scheme: str = "glorot-uniform"
    std: float = 0.01
    value: float = 0.0
    scale: float = 1.0
    mode: str = "fan_in"

    def __post_init__(self) -> None:
        choose("initialization scheme", self.scheme, list(INITIALIZERS))
        choose("mode", self.mode, _MODES)
        if not (self.std > 0 and math.isfinite(self.std)):
            raise UserError(f"init std must be a positive finite number; got {self.std!r}")
        if not math.isfinite(self.value):
            raise UserError(f"init value must be a finite number; got {self.value!r}")
        if not math.isfinite(self.scale):
            raise UserError(f"init scale must be a finite number; got {self.scale!r}")


_CONFIG_FIELDS = frozenset(f.name for f in fields(InitConfig))


def _scheme_arguments(
    function: Callable[..., torch.Tensor],
    config: InitConfig,
    generator: torch.Generator | None,
) -> dict[str, object]:
    """The keyword arguments ``function`` takes from ``config``: its parameters named like a field."""
    parameters = inspect.signature(function).parameters
    arguments: dict[str, object] = {
        name: getattr(config, name) for name in parameters if name in _CONFIG_FIELDS
    }
    if "generator" in parameters:
        arguments["generator"] = generator
    return arguments


def initialize_(
    model: nn.Module,
    config: InitConfig | str,
    *,
    data: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Initialize every Linear and Conv1d/2d/3d layer of ``model`` in place.

    In module order, each layer's bias is set to zero ("biases start at zero")
    and its weight is filled by ``INITIALIZERS[config.scheme]``, which takes
    ``std``, ``value`` or ``mode`` from ``config`` where it has a parameter of
    that name. ``lsuv`` then rescales the weights on the batch ``data`` (see
    :func:`lsuv_`, with its default ``tol`` and ``max_iter``). Finally every
    weight is multiplied by ``config.scale``. Normalization layers and any
    other parameters are left as PyTorch made them.

    Args:
        model: the network to initialize.
        config: an :class:`InitConfig`, or just a scheme name.
        data: a batch of inputs; needed by ``lsuv``, ignored otherwise.
        generator: the random number generator to sample from.

    Returns:
        ``model``.
    """
    if isinstance(config, str):
        config = InitConfig(scheme=config)
    data_pass = _DATA_DRIVEN.get(config.scheme)
    if data_pass is not None and data is None:
        raise UserError(
            f"init scheme {config.scheme!r} is data-driven: pass a data batch "
            f"(data=...) of inputs the model accepts"
        )
    initializer = INITIALIZERS[config.scheme]
    arguments = _scheme_arguments(initializer, config, generator)
    layers = weight_layers(model)
    with torch.no_grad():
        for _, layer in layers:
            if layer.bias is not None:
                zeros_(layer.bias)
            initializer(layer.weight, **arguments)
    if data_pass is not None:
        data_pass(model, data)
    if config.scale != 1.0:
        with torch.no_grad():
            for _, layer in layers:
                layer.weight.mul_(config.scale)
    return model

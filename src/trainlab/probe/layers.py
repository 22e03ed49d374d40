"""Which modules of a model to probe, found by type or named by the user."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from torch import nn

from trainlab.errors import UserError

# The first class in a module's MRO found here names its activation function
# (ReLU6 subclasses Hardtanh, so it is matched as relu6 first).
ACTIVATION_NAMES: dict[type[nn.Module], str] = {
    nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Softsign: "softsign", nn.ReLU: "relu", nn.LeakyReLU: "leaky-relu",
    nn.ReLU6: "relu6", nn.ELU: "elu", nn.GELU: "gelu", nn.SiLU: "silu", nn.Softplus: "softplus",
    nn.Hardtanh: "hardtanh",
}
KINDS: dict[type[nn.Module], str] = {
    nn.Linear: "linear", nn.Conv1d: "conv", nn.Conv2d: "conv", nn.Conv3d: "conv",
    nn.modules.batchnorm._BatchNorm: "norm", nn.LayerNorm: "norm", nn.GroupNorm: "norm",
    nn.modules.instancenorm._InstanceNorm: "norm",
    **{cls: "activation" for cls in ACTIVATION_NAMES},
}


def _lookup(module: nn.Module, table: dict[type[nn.Module], str]) -> str | None:
    for cls in type(module).__mro__:
        if cls in table:
            return table[cls]
    return None


def layer_kind(module: nn.Module) -> str:
    """'activation', 'linear', 'conv', 'norm', or 'other' for any other module."""
    return _lookup(module, KINDS) or "other"


def activation_name(module: nn.Module) -> str | None:
    return _lookup(module, ACTIVATION_NAMES)


def find_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Nonlinearities, Linear/Conv and norm layers of ``model``, in registration order.

    Activations applied as functions (``torch.tanh(x)`` in a ``forward``) have
    no module to hook: name the module that applies them in ``layers=`` instead.
    """
    return [(name, m) for name, m in model.named_modules() if name and layer_kind(m) != "other"]


@dataclass(frozen=True)
class LayerInfo:
    """A probed layer: its qualified name, module, kind and activation function."""

    name: str
    index: int
    module: nn.Module
    kind: str
    activation_fn: str | None

    @property
    def weight(self) -> nn.Parameter | None:
        w = getattr(self.module, "weight", None)
        return w if isinstance(w, nn.Parameter) and w.requires_grad else None


def resolve_layers(model: nn.Module, layers: Sequence[str] | None) -> list[LayerInfo]:
    """The layers to probe: ``find_layers(model)`` when ``layers`` is None, else those names."""
    if layers is None:
        found = find_layers(model)
        if not found:
            raise UserError(f"found no layers to probe in {type(model).__name__}; "
                            "name its modules with layers=[...] (see model.named_modules())")
    else:
        modules = dict(model.named_modules())
        missing = [name for name in layers if name not in modules or not name]
        if missing:
            known = ", ".join(n for n in list(modules)[1:20] if n)
            raise UserError(f"no module named {', '.join(map(repr, missing))} in the model; known: {known}")
        found = [(name, modules[name]) for name in layers]
    return [LayerInfo(name, i, m, layer_kind(m), activation_name(m)) for i, (name, m) in enumerate(found)]

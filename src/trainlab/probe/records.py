"""What a probe measured: per-layer statistics at one step, and flat rows of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainlab.probe.stats import TensorStats

QUANTITIES: tuple[str, ...] = ("activation", "backprop_grad", "weight_grad")


@dataclass(frozen=True)
class LayerStats:
    """One layer at one step.

    ``activation``: the layer's output; ``backprop_grad``: dLoss/d(output);
    ``weight_grad``: dLoss/d(weight) (None for layers without a weight);
    ``update_ratio``: ||W_after - W_before|| / ||W_before|| of the optimizer step,
    on a fixed subsample of ``ProbeConfig.sample`` coordinates for larger weights
    (or ``lr * ||grad|| / ||W||`` when :meth:`Probe.measure` is given ``lr``);
    ``jacobian_singular_mean``: mean singular value of d(this activation) /
    d(previous activation), averaged over examples (Glorot & Bengio 2010, section 4.2.2).
    """

    name: str
    index: int
    kind: str  # 'activation' | 'linear' | 'conv' | 'norm' | 'other'
    activation_fn: str | None
    activation: TensorStats | None
    backprop_grad: TensorStats | None = None
    weight_grad: TensorStats | None = None
    update_ratio: float | None = None
    jacobian_singular_mean: float | None = None

    def quantity(self, name: str) -> TensorStats | None:
        return getattr(self, name)


@dataclass(frozen=True)
class ProbeRecord:
    """All probed layers at one ``step``; ``source`` is ``"probe"`` (fixed batch) or ``"train"``.

    ``distributions`` is False for a record of moments, fractions and update ratios only (no
    back-propagated gradients, percentiles or histograms: :meth:`Probe.begin_step`).
    """

    step: int
    source: str
    layers: list[LayerStats]
    distributions: bool = True

    def layer(self, name: str) -> LayerStats:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no probed layer {name!r}; probed: {', '.join(l.name for l in self.layers)}")

    def of_kind(self, *kinds: str) -> list[LayerStats]:
        return [layer for layer in self.layers if layer.kind in kinds]

    def to_rows(self) -> list[dict[str, Any]]:
        """One JSON-serialisable row per layer and measured quantity."""
        rows = []
        for layer in self.layers:
            for quantity in QUANTITIES:
                stats = layer.quantity(quantity)
                if stats is None:
                    continue
                rows.append({"step": self.step, "source": self.source, "layer": layer.name, "index": layer.index,
                             "kind": layer.kind, "activation_fn": layer.activation_fn, "quantity": quantity,
                             **stats.to_dict(), "update_ratio": layer.update_ratio,
                             "jacobian_singular_mean": layer.jacobian_singular_mean})
        return rows

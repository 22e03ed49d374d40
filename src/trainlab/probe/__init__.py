"""See inside training: per-layer statistics of activations and gradients.

    from trainlab.probe import Probe, ProbeConfig
    with Probe(model) as probe:                 # hooks removed on exit, always
        record = probe.measure(x, y, loss_fn)   # parameters, grads and buffers untouched
    for layer in record.layers:
        print(layer.name, layer.activation.std, layer.activation.saturated_fraction)

:class:`ProbeCallback` records during ``trainlab.train`` (``--probe every=N``);
:func:`read_probes` reads a run directory's probe file back.
"""
from __future__ import annotations

from trainlab.probe.callback import ProbeCallback
from trainlab.probe.config import ProbeConfig
from trainlab.probe.hooks import Probe, mean_singular_value
from trainlab.probe.layers import find_layers
from trainlab.probe.records import LayerStats, ProbeRecord
from trainlab.probe.stats import PERCENTILES, SATURATION_DEFAULTS, Histogram, TensorStats
from trainlab.probe.store import ProbeLog, has_probes, read_probes

__all__ = ["Histogram", "LayerStats", "PERCENTILES", "Probe", "ProbeCallback", "ProbeConfig", "ProbeLog",
           "ProbeRecord", "SATURATION_DEFAULTS", "TensorStats", "find_layers", "has_probes", "mean_singular_value",
           "read_probes"]

"""Plain-language verdicts from probe records and training metrics ("layer 4 saturated at step 2,000").

The thresholds are the watcher's (:mod:`trainlab.watcher.rules`, where each one's source is given),
so a report and ``trainlab.watch`` judge the same numbers the same way:

* saturated: more than half of a layer's units in the flat part of its nonlinearity;
* dead: at least 70% of a ReLU layer's units never active on the probe batch;
* NaN/Inf: any, anywhere (counted by the probe, never dropped);
* vanishing/exploding: back-propagated gradient std changing more than 100x
  from the last layer to the first (Glorot & Bengio's Figure 7);
* update ratio: ||dW|| / ||W|| outside [1e-5, 1e-1], two decades around CS231n's 1e-3.
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Mapping, Sequence

from trainlab.probe.records import ProbeRecord
from trainlab.watcher.rules import DEAD, EXPLODE, SATURATED, UPDATE_BAND

SPREAD = EXPLODE
UPDATE_LOW, UPDATE_HIGH = UPDATE_BAND


def _over(value: float, limit: float, word: str) -> bool:
    """The watcher's comparisons: saturated above half, dead from 70% on."""
    return value >= limit if word == "dead" else value > limit


def _name(layer: Any, position: int) -> str:
    return f"layer {position} ({layer.activation_fn or layer.kind}, '{layer.name}')"


def probe_verdicts(records: Sequence[ProbeRecord]) -> list[str]:
    """Sentences about saturation, dead units, NaN/Inf, gradient flow and update size."""
    if not records:
        return []
    out: list[str] = []
    act_index = [i for i, l in enumerate(records[0].layers) if l.kind == "activation"]
    positions = {i: p for p, i in enumerate(act_index, start=1)}
    for i in act_index:
        layer0 = records[0].layers[i]
        for field, limit, word in (("saturated_fraction", SATURATED, "saturated"), ("dead_fraction", DEAD, "dead")):
            hit = next((r for r in records if _over(getattr(r.layers[i].activation, field) or 0, limit, word)), None)
            if hit is not None:
                value = getattr(hit.layers[i].activation, field)
                detail = "units in the flat part of the nonlinearity" if word == "saturated" else \
                    "units never active on the probe batch"
                out.append(f"{_name(layer0, positions[i])} {word} at step {hit.step:,}: {value:.0%} of {detail}.")
    for record in records:
        bad = [(l, q) for l in record.layers for q in ("activation", "backprop_grad", "weight_grad")
               if (s := l.quantity(q)) is not None and (s.nan_count or s.inf_count)]
        if bad:
            layer, quantity = bad[0]
            s = layer.quantity(quantity)
            out.append(f"NaN/Inf first appeared at step {record.step:,} in the {quantity.replace('_', ' ')} of "
                       f"'{layer.name}' ({s.nan_count:,} NaN, {s.inf_count:,} Inf); "
                       "lower the learning rate or check the input.")
            break
    last = records[-1]
    grads = [last.layers[i].backprop_grad for i in act_index if last.layers[i].backprop_grad is not None]
    if len(grads) >= 2 and grads[-1].std > 0 and math.isfinite(grads[0].std):
        ratio = grads[0].std / grads[-1].std
        if ratio < 1 / SPREAD:
            out.append(f"Back-propagated gradients vanish at step {last.step:,}: their std in the first layer is "
                       f"{ratio:.1e} times that of the last.")
        elif ratio > SPREAD:
            out.append(f"Back-propagated gradients explode at step {last.step:,}: their std in the first layer is "
                       f"{ratio:.1e} times that of the last.")
    acts = [records[0].layers[i].activation for i in act_index]
    if len(acts) >= 2 and acts[0].std > 0 and acts[-1].std / acts[0].std < 1 / SPREAD:
        out.append(f"Activations collapse with depth at step {records[0].step:,}: the last layer's std is "
                   f"{acts[-1].std / acts[0].std:.1e} times the first's (initial weights too small?).")
    ratios = [l.update_ratio for l in last.layers if l.update_ratio is not None and math.isfinite(l.update_ratio)]
    if ratios:
        median = statistics.median(ratios)
        if median < UPDATE_LOW:
            out.append(f"Updates are tiny: median ||dW||/||W|| = {median:.1e} (about 1e-3 is typical); "
                       "the learning rate may be too low.")
        elif median > UPDATE_HIGH:
            out.append(f"Updates are large: median ||dW||/||W|| = {median:.1e} (about 1e-3 is typical); "
                       "the learning rate may be too high.")
    if not out:
        out.append("No layer saturated or died, nothing was NaN/Inf, and gradients kept their scale across layers.")
    return out


def training_verdicts(metrics: Sequence[Mapping[str, Any]], summary: Mapping[str, Any] | None) -> list[str]:
    """Sentences about the outcome and the gap between training and validation loss."""
    out: list[str] = []
    if summary:
        status = summary.get("status")
        if status == "diverged":
            out.append(f"Training diverged at step {summary.get('steps', 0):,}; try a smaller learning rate.")
        elif status == "completed" and summary.get("test_accuracy") is not None:
            out.append(f"Training completed {summary.get('steps', 0):,} steps; "
                       f"test accuracy {summary['test_accuracy']:.2%}.")
    else:
        out.append("The run has not finished (no summary.json); `trainlab resume` continues it.")
    train = [m for m in metrics if m.get("kind") == "train" and m.get("train_loss") is not None]
    evals = [m for m in metrics if m.get("kind") == "eval" and m.get("val_loss") is not None]
    if train and evals:
        gap = evals[-1]["val_loss"] - train[-1]["train_loss"]
        if gap > 0.1 * max(train[-1]["train_loss"], 1e-8) and gap > 0.05:
            out.append(f"Validation loss is {gap:.3g} above training loss at the end: the model fits the "
                       "training set better than new data (overfitting; more data or regularization helps).")
        else:
            out.append(f"Validation and training loss are close at the end (gap {gap:.3g}).")
    return out

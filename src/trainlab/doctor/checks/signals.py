"""Checks 3 and 4: the signal going forward and the gradient coming back, at initialization.

Both run one forward and backward pass of the probes (:mod:`trainlab.probe`) on
``budget.probe_examples`` training examples, on a copy in training mode.

``init-health`` (Glorot & Bengio 2010; He et al. 2015; CS231n "weight initialization"):

* a weight tensor whose entries are all equal (e.g. all zeros) -> fail: every unit of the layer
  computes the same function and receives the same gradient, so symmetry is never broken;
* NaN/Inf activations -> fail;
* saturation (tanh, sigmoid, softsign; the probes' threshold, slope below 5% of its maximum): a layer
  with more than ``SAT_FAIL`` = 30% saturated units -> fail, more than ``SAT_WARN`` = 10% -> warn;
* dead ReLUs (never positive on the batch): more than ``DEAD_FAIL`` = 50% of a layer -> fail, more than
  ``DEAD_WARN`` = 20% -> warn; on convolution maps a unit is a channel (never positive at any position),
  since positions that only see blank borders are legitimately never positive;
* collapse: an activation layer with standard deviation below ``COLLAPSED`` = 1e-3 -> fail; the last
  activation layer's std below ``SHRINK`` = 0.1 or above ``GROW`` = 10 times the first's -> warn.

A model that applies its nonlinearities as functions (``F.relu(self.fc1(x))``) has no activation
module to probe; its hidden activations are then read where they arrive, as the inputs of the
Linear/Conv layers after the first, and the function is told from their range (never negative with
exact zeros: ReLU; within [-1, 1]: tanh; within [0, 1]: sigmoid), which the evidence says.

``gradient-flow`` (Glorot & Bengio 2010, section 4.2): the variance of the back-propagated gradient
dLoss/d(output) of each hidden Linear/Conv layer, first layer over last (the output layer, whose
gradient is the loss's own, is left out when there are two hidden layers or more). Ideally about 1. Outside
``[1e-2, 1e2]`` -> warn, outside ``[1e-4, 1e4]`` -> fail (vanishing / exploding); a layer that gets
no gradient at all, or NaN/Inf -> fail.
"""
from __future__ import annotations

import math

import torch

from trainlab.doctor.base import Verdict, fmt, register, worst
from trainlab.doctor.patient import Patient
from trainlab.probe import Probe, ProbeConfig
from trainlab.probe.layers import activation_name, layer_kind
from trainlab.probe.stats import RELU_FAMILY, SATURATING, SATURATION_DEFAULTS

SAT_WARN, SAT_FAIL = 0.10, 0.30
DEAD_WARN, DEAD_FAIL = 0.20, 0.50
COLLAPSED = 1e-3
SHRINK, GROW = 0.1, 10.0
FLOW_WARN, FLOW_FAIL = 1e2, 1e4
INIT_RULES_OUT = ("bad-init-zeros", "bad-init-large", "bad-init-small", "saturating-activation", "dead-relu")

INIT_FOR = {
    "tanh": "glorot-uniform (Xavier; torch.nn.init.xavier_uniform_)",
    "softsign": "glorot-uniform (Xavier; torch.nn.init.xavier_uniform_)",
    "sigmoid": "glorot-uniform (Xavier; torch.nn.init.xavier_uniform_), or switch to tanh",
    "relu": "he-normal (He/Kaiming; torch.nn.init.kaiming_normal_)",
    "leaky-relu": "he-normal (He/Kaiming; torch.nn.init.kaiming_normal_)",
}


def measure_at_init(p: Patient):
    """One probe record (activations and gradients) of a fresh copy on a seeded training batch (cached)."""
    if "probe_record" not in p.findings:
        x, y = p.sample(p.budget.probe_examples, "probe")
        model = p.copy().train()
        with Probe(model, config=ProbeConfig(batch=len(y))) as probe:
            p.findings["probe_record"] = probe.measure(x, y, p.loss_fn)
    return p.findings["probe_record"]


def init_advice(activations: list[str | None]) -> str:
    """Which initialization fits the network's activation functions."""
    named = [a for a in dict.fromkeys(activations) if a in INIT_FOR]
    if not named:
        return "Use --init glorot-uniform for tanh/sigmoid and --init he-normal for relu."
    return "Use " + "; ".join(f"--init {INIT_FOR[a]} for {a}" for a in named) + "."


@register("init-health", "Activations at initialization: saturation, dead units, collapse, symmetry")
def check_init_health(p: Patient) -> Verdict:
    problems: list[tuple[str, str, tuple[str, ...]]] = []  # (status, evidence, causes)
    # Symmetry needs two or more units with the same incoming weights: a tensor of one row (a class token
    # or positional embedding of shape [1, ...], broadcast over the batch) has no units to confuse.
    constant = [name for name, w in p.model.named_parameters() if w.ndim >= 2 and w.shape[0] > 1
                and bool((w == w.reshape(-1)[0]).all())]
    if constant:
        problems.append(("fail", f"symmetric weights: every entry of {', '.join(constant[:4])} is "
                                 f"{fmt(float(p.model.get_parameter(constant[0]).detach().reshape(-1)[0]))}",
                         ("bad-init-zeros",)))
    record = measure_at_init(p)
    acts = [l for l in record.layers if l.kind == "activation" and l.activation is not None]
    rows = [{"layer": l.name, "fn": l.activation_fn, "mean": l.activation.mean, "std": l.activation.std,
             "saturated": l.activation.saturated_fraction, "dead": l.activation.dead_fraction,
             "nonfinite": l.activation.nan_count + l.activation.inf_count} for l in acts]
    inferred = not rows
    if inferred:
        rows = _functional_rows(p)
    numbers: dict[str, object] = {"layers": rows, "constant_weights": constant, "functional": inferred}
    for r, dead in zip(rows, _dead_channels(p, [r["layer"] for r in rows])):
        if dead is not None:
            r["dead_positions"], r["dead"] = r["dead"], dead
        problems += _layer_problems(r)
    if len(rows) >= 2 and rows[0]["std"] > 0 and all(r["std"] >= COLLAPSED for r in rows):
        trend = rows[-1]["std"] / rows[0]["std"]
        numbers["std_last_over_first"] = trend
        if trend < SHRINK or trend > GROW:
            problems.append(("warn", f"activation std {'shrinks' if trend < SHRINK else 'grows'} with depth: "
                                     f"{fmt(rows[0]['std'])} ({rows[0]['layer']}) -> "
                                     f"{fmt(rows[-1]['std'])} ({rows[-1]['layer']})",
                             ("bad-init-small",) if trend < SHRINK else ("exploding-gradient", "bad-init-large")))
    summary = ", ".join(f"{r['layer']} std {fmt(r['std'])}" + _extra(r) for r in rows)
    if inferred and rows:
        guessed = ", ".join(dict.fromkeys(r["fn"] or "unknown" for r in rows))
        summary = (f"activations applied as functions, read as the inputs of the next layers "
                   f"(function told from their range: {guessed}): {summary}")
    if not problems:
        if not rows:
            return Verdict("skipped", "no hidden activations found (fewer than two Linear/Conv layers)", numbers)
        return Verdict("pass", summary, numbers, rules_out=INIT_RULES_OUT)
    status = worst(*(pr[0] for pr in problems))
    problems.sort(key=lambda pr: pr[0] != status)
    advice = init_advice([r["fn"] for r in rows])
    if constant:
        advice = "Initialize weights randomly (never all zeros or one constant) to break the symmetry. " + advice
    return Verdict(status, "; ".join(pr[1] for pr in problems[:4]) + f" [{summary}]", numbers,
                   advice + " Batch normalization (--batch-norm before) also keeps activations in range.",
                   tuple(dict.fromkeys(c for pr in problems for c in pr[2])))


def _functional_rows(p: Patient) -> list[dict]:
    """Rows like the probe's for the hidden activations of a model whose nonlinearities are functions:
    the inputs of its Linear/Conv layers after the first, on the probe batch."""
    x, _ = p.sample(p.budget.probe_examples, "probe")
    model = p.copy().train()
    layers = [(n, m) for n, m in model.named_modules() if n and layer_kind(m) in ("linear", "conv")][1:]
    seen: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(_module: torch.nn.Module, inputs: tuple) -> None:
            if name not in seen and inputs and isinstance(inputs[0], torch.Tensor):
                seen[name] = inputs[0].detach().double()
        return record

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in layers]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return [_functional_row(f"input of {name}", seen[name]) for name, _ in layers if name in seen]


def _functional_row(name: str, a: torch.Tensor) -> dict:
    finite = a[torch.isfinite(a)]
    fn = None
    if finite.numel() == a.numel() and a.numel() > 0:
        lo, hi = float(a.min()), float(a.max())
        if lo >= 0 and float((a == 0).double().mean()) > 0.01:
            fn = "relu"
        elif lo >= -1 and hi <= 1:
            fn = "sigmoid" if lo >= 0 else "tanh"
    saturated = dead = None
    if fn in SATURATING:
        center, half = SATURATING[fn]
        saturated = float((((a - center) / half).abs() >= SATURATION_DEFAULTS[fn]).double().mean())
    if fn == "relu":  # a unit is a feature, or a channel of a conv map, never positive on the batch
        units = a.transpose(0, 1).reshape(a.shape[1], -1) if a.ndim > 2 else a.t()
        dead = float((units <= 0).all(1).double().mean())
    return {"layer": name, "fn": fn, "mean": float(finite.mean()) if finite.numel() else math.nan,
            "std": float(finite.std()) if finite.numel() > 1 else 0.0, "saturated": saturated, "dead": dead,
            "nonfinite": a.numel() - finite.numel()}


def _dead_channels(p: Patient, names: list[str]) -> list[float | None]:
    """Per layer: the fraction of channels of a ReLU-family conv map never positive on the probe batch."""
    x, _ = p.sample(p.budget.probe_examples, "probe")
    model = p.copy().train()
    found: dict[str, float] = {}

    def hook(name: str):
        def record(_module: torch.nn.Module, _inputs: object, out: torch.Tensor) -> None:
            if isinstance(out, torch.Tensor) and out.ndim > 2 and name not in found:
                channels = out.detach().transpose(0, 1).reshape(out.shape[1], -1)
                found[name] = float((channels <= 0).all(1).float().mean())
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()
               if n in names and activation_name(m) in RELU_FAMILY]
    try:
        if handles:
            with torch.no_grad():
                model(x)
    finally:
        for h in handles:
            h.remove()
    return [found.get(n) for n in names]


def _layer_problems(r: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    out = []
    name, sat, dead, std = r["layer"], r["saturated"], r["dead"], r["std"]
    if r["nonfinite"]:
        out.append(("fail", f"{name}: {r['nonfinite']} NaN/Inf activations",
                    ("numeric-instability", "exploding-gradient")))
    if sat is not None and sat > SAT_WARN:
        out.append(("fail" if sat > SAT_FAIL else "warn", f"{name} ({r['fn']}) is {sat:.0%} saturated",
                    ("saturating-activation", "bad-init-large")))
    if dead is not None and dead > DEAD_WARN:
        out.append(("fail" if dead > DEAD_FAIL else "warn", f"{name}: {dead:.0%} of units are dead (never positive)",
                    ("dead-relu",)))
    if std < COLLAPSED:
        out.append(("fail", f"{name}: activations collapsed to std {fmt(std)}", ("bad-init-small", "input-ignored")))
    return out


def _extra(r: dict) -> str:
    if r["saturated"] is not None:
        return f" ({r['saturated']:.0%} saturated)"
    if r["dead"] is not None:
        return f" ({r['dead']:.0%} dead)"
    return ""


@register("gradient-flow", "Back-propagated gradient variance across depth")
def check_gradient_flow(p: Patient) -> Verdict:
    record = measure_at_init(p)
    layers = [l for l in record.layers if l.kind in ("linear", "conv") and l.backprop_grad is not None]
    if len(layers) < 2:
        return Verdict("skipped",
                       f"{len(layers)} Linear/Conv layer(s) with a gradient: nothing to compare across depth")
    rows = [{"layer": l.name, "backprop_var": l.backprop_grad.var,
             "weight_grad_var": l.weight_grad.var if l.weight_grad else None,
             "nonfinite": l.backprop_grad.nan_count + l.backprop_grad.inf_count} for l in layers]
    hidden = rows[:-1] if len(rows) >= 3 else rows
    first, last = hidden[0]["backprop_var"], hidden[-1]["backprop_var"]
    ratio = first / last if last > 0 else (math.inf if first > 0 else math.nan)
    numbers = {"layers": rows, "first_over_last": ratio}
    said = ", ".join(f"{r['layer']} {fmt(r['backprop_var'])}" for r in rows)
    said = f"gradient variance {hidden[0]['layer']}/{hidden[-1]['layer']} {fmt(ratio)} [{said}]"
    nonfinite = [r["layer"] for r in rows if r["nonfinite"]]
    silent = [r["layer"] for r in rows if r["backprop_var"] == 0]
    advice_init = init_advice([l.activation_fn for l in record.layers if l.kind == "activation"])
    if nonfinite:
        return Verdict("fail", f"NaN/Inf gradients at {', '.join(nonfinite)}; " + said, numbers,
                       "Find the first layer producing NaN/Inf (inputs, init scale, log/div of zero).",
                       ("numeric-instability", "exploding-gradient"))
    if silent:
        return Verdict("fail", f"no gradient reaches {', '.join(silent)}; " + said, numbers,
                       "The gradient is exactly zero there: all-zero weights above it, dead units or a detached "
                       "path. " + advice_init, ("detached-gradient", "bad-init-zeros", "dead-relu"))
    if ratio < 1 / FLOW_WARN or ratio > FLOW_WARN:
        kind = "vanishing" if ratio < 1 else "exploding"
        status = "fail" if ratio < 1 / FLOW_FAIL or ratio > FLOW_FAIL else "warn"
        return Verdict(status, f"{kind} gradients: " + said, numbers,
                       advice_init + " Normalization (--batch-norm before) or fewer layers also help.",
                       ("vanishing-gradient", "bad-init-small") if kind == "vanishing" else ("exploding-gradient",))
    return Verdict("pass", said, numbers, rules_out=("vanishing-gradient", "exploding-gradient"))

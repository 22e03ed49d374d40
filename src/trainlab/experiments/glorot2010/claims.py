"""The paper's claims, each decided from our numbers by a rule stated in its text.

Saturated means within 2.5% of an asymptote, the same for every activation:
``|u| >= 0.975`` with ``u`` the output rescaled to [-1, 1] (``u = a`` for tanh
and softsign, ``2a - 1`` for the sigmoid). The paper judges saturation by how
close values come to the asymptotes (Figures 3-4: softsign values gather
around +-0.6-0.8, "non-linear but not saturated"), so a slope-based threshold,
which would call softsign's +-0.8 saturated, is not used.

Comparisons of Table 1 means are decided only between rows that trained
(``trained`` in the row: see ``table1.TRAINED_MARGIN``) and only when the
difference exceeds ``RESOLVED`` standard errors over seeds; otherwise the claim
is untestable at that budget (``holds`` None) and the evidence says so.
"""
from __future__ import annotations

import math
import statistics
from typing import Any

from trainlab.experiments.base import Claim
from trainlab.experiments.glorot2010.dynamics import Dynamics
from trainlab.experiments.glorot2010.profiles import PAPER_JACOBIAN
from trainlab.probe import ProbeRecord

SIGMOID_ZERO = 0.1  # "saturated towards 0": the top layer's mean activation below this
PLATEAU = 0.9  # "early": the test error is still at least this fraction of its initial value
SATURATED = 0.975  # |u| at or above this is saturated; a layer saturates when its 98th percentile of |u| does
RESOLVED = 2.0  # a difference of means is resolved when it exceeds this many standard errors
FLAT_FACTOR = 2.0  # "roughly constant across layers": largest / smallest variance at most this
JACOBIAN_TOLERANCE = 0.1
QUARTER_CIRCLE_MEAN = 8 / (3 * math.pi)  # mean singular value of an n x n matrix of unit-variance entries / sqrt(n)


SLOPE_AT_ZERO = {"tanh": 1.0, "softsign": 1.0, "sigmoid": 0.25}


def predicted_jacobian_mean(init: str, activation: str = "tanh") -> float:
    """Linear-regime mean singular value of a square layer's Jacobian ``f'(0) W``.

    By the quarter-circle law it is ``8/(3 pi) * f'(0) * sqrt(n Var[w])``, with
    ``Var[w] = 1/(3n)`` for standard and ``1/n`` for normalized initialization
    of a layer whose fan-in equals its fan-out. Units away from 0 have a smaller
    slope, so measured values lie below it.
    """
    return QUARTER_CIRCLE_MEAN * SLOPE_AT_ZERO[activation] * math.sqrt({"standard": 1 / 3, "normalized": 1.0}[init])


def predicted_backprop_ratio(init: str, depth: int) -> float:
    """Linear-regime ``Var[dC/ds]`` at hidden layer 1 over layer ``depth``: ``(n Var[w])^(depth-1)``."""
    return {"standard": 1 / 3, "normalized": 1.0}[init] ** (depth - 1)


def sigmoid_top_saturates(run: Dynamics | None) -> Claim:
    """The top layer's mean falls below ``SIGMOID_ZERO`` while it is the lowest layer, during the initial
    plateau: the test error then is still at least ``PLATEAU`` of its value at initialization."""
    text = "The top hidden sigmoid layer saturates towards 0 early in training, on the initial plateau (Figure 2)"
    if run is None:
        return Claim("sigmoid-top-saturates", text, None, "no sigmoid run at this profile")
    steps, means = run.series("activation", "mean")
    top = means[-1]
    hit = next((i for i, m in enumerate(top) if m < SIGMOID_ZERO and all(m <= layer[i] for layer in means)), None)
    layers = ", ".join(f"{m[-1]:.2f}" for m in means)
    if hit is None:
        return Claim("sigmoid-top-saturates", text, False,
                     f"top layer mean {top[0]:.2f} at init never fell below {SIGMOID_ZERO} as the lowest layer "
                     f"within {steps[-1]} steps; final means per layer: {layers}")
    errors = dict(run.test_error)
    initial, then = errors[steps[0]], errors[steps[hit]]
    holds = then >= PLATEAU * initial
    return Claim("sigmoid-top-saturates", text, holds,
                 f"top layer mean {top[0]:.2f} at init, below {SIGMOID_ZERO} (and the lowest layer) at step "
                 f"{steps[hit]}, when the test error was {then:.1%} against {initial:.1%} at init (plateau: at least "
                 f"{PLATEAU:.0%} of it); final means per layer: {layers}")


def saturation_steps(run: Dynamics) -> list[int | None]:
    """Per hidden layer, the first probed step at which the 98th percentile of |a| reaches saturation."""
    steps, p98 = run.series("activation", "p98")
    _, p2 = run.series("activation", "p2")
    out = []
    for hi, lo in zip(p98, p2):
        out.append(next((s for s, a, b in zip(steps, hi, lo) if max(a, -b) >= SATURATED), None))
    return out


def tanh_sequential(run: Dynamics | None) -> Claim:
    text = ("Under standard initialization tanh layers saturate one after another, starting from layer 1 "
            "(Figure 3, top)")
    if run is None:
        return Claim("tanh-sequential-saturation", text, None, "no tanh run at this profile")
    times = saturation_steps(run)
    described = ", ".join(f"layer {k}: {'-' if t is None else t}" for k, t in enumerate(times, start=1))
    evidence = (f"first step with the 98th percentile of |a| >= {SATURATED:.3f} ({described}; "
                f"'-': not within {run.records[-1].step} steps)")
    reached = [t for t in times if t is not None]
    if len(reached) < 2:
        return Claim("tanh-sequential-saturation", text, None,
                     f"cannot be tested at this budget: {len(reached)} layer(s) saturated; " + evidence)
    ordered = times[0] is not None and all(
        (b is None) or (a is not None and a <= b) for a, b in zip(times, times[1:]))
    return Claim("tanh-sequential-saturation", text, ordered, evidence)


def final_saturation(run: Dynamics) -> float:
    return statistics.fmean(layer.activation.saturated_fraction for layer in run.hidden(run.records[-1]))


def softsign_less(runs: dict[str, Dynamics]) -> Claim:
    text = "Softsign units saturate less than tanh units (Figures 3-4)"
    pairs = [(f"Softsign{n}", f"Tanh{n}") for n in ("", " N") if f"Softsign{n}" in runs and f"Tanh{n}" in runs]
    if not pairs:
        return Claim("softsign-saturates-less", text, None, "no softsign/tanh pair at this profile")
    parts, holds = [], True
    for soft, tanh in pairs:
        s, t = final_saturation(runs[soft]), final_saturation(runs[tanh])
        holds &= s < t
        parts.append(f"{soft} {s:.1%} vs {tanh} {t:.1%}")
    return Claim("softsign-saturates-less", text, holds,
                 "saturated fraction at the end of training, mean over hidden layers: " + "; ".join(parts))


def backprop_variances(record: ProbeRecord) -> list[float]:
    """Var[dC/ds] for each hidden layer's pre-activation s (the Linear outputs but the last)."""
    return [layer.backprop_grad.var for layer in record.of_kind("linear")[:-1]]


def backprop_flatness(init_records: dict[str, ProbeRecord], depth: int) -> Claim:
    text = ("At initialization, normalized initialization keeps the variance of back-propagated gradients "
            "roughly constant across layers while standard initialization does not (Figure 7)")
    if "Tanh" not in init_records or "Tanh N" not in init_records:
        return Claim("normalized-keeps-backprop-variance", text, None, "no tanh pair at this profile")
    spread, parts = {}, []
    for label, init in (("Tanh", "standard"), ("Tanh N", "normalized")):
        var = backprop_variances(init_records[label])
        spread[init] = max(var) / min(var)
        per_layer = (var[0] / var[-1]) ** (1 / max(depth - 1, 1))
        parts.append(f"{label}: Var[dC/ds] layer 1..{depth} = " + ", ".join(f"{v:.2e}" for v in var)
                     + f" (largest/smallest {spread[init]:.2f}; layer 1 / layer {depth} = {var[0] / var[-1]:.3g}, "
                     f"i.e. x{per_layer:.2f} per layer downwards; linear-regime prediction "
                     f"{predicted_backprop_ratio(init, depth):.3g}, "
                     f"x{predicted_backprop_ratio(init, 2):.2f} per layer)")
    parts.append("below the linear-regime factor, each layer also multiplies by E[tanh'(s)^2] < 1, which is "
                 "smaller where activations are larger, as under normalized initialization")
    holds = spread["normalized"] <= FLAT_FACTOR < spread["standard"]
    return Claim("normalized-keeps-backprop-variance", text, holds,
                 f"roughly constant = largest/smallest <= {FLAT_FACTOR}; " + "; ".join(parts))


def jacobian_rows(init_records: dict[str, ProbeRecord]) -> list[dict[str, Any]]:
    from trainlab.experiments.glorot2010.profiles import CONFIGURATIONS, INIT_NAMES

    rows = []
    for label, record in init_records.items():
        activation, scheme = CONFIGURATIONS[label]
        init = INIT_NAMES[scheme]
        for k, layer in enumerate(record.of_kind("activation"), start=1):
            if layer.jacobian_singular_mean is not None:
                rows.append({"configuration": label, "init": init, "layer": k,
                             "mean_singular_value": layer.jacobian_singular_mean,
                             "linear_regime_prediction": predicted_jacobian_mean(init, activation)})
    return rows


def jacobian_claim(rows: list[dict[str, Any]]) -> Claim:
    text = (f"At initialization the mean singular value of the layer-to-layer Jacobian of a tanh network is "
            f"about {PAPER_JACOBIAN['normalized']} with normalized and {PAPER_JACOBIAN['standard']} with "
            f"standard initialization (section 4.2.1)")
    means = {}
    for label, init in (("Tanh", "standard"), ("Tanh N", "normalized")):
        values = [r["mean_singular_value"] for r in rows if r["configuration"] == label]
        if values:
            means[init] = statistics.fmean(values)
    if len(means) < 2:
        return Claim("jacobian-singular-values", text, None, "Jacobians were not measured at this profile")
    holds = all(abs(means[i] - PAPER_JACOBIAN[i]) <= JACOBIAN_TOLERANCE for i in means)
    return Claim("jacobian-singular-values", text, holds,
                 "; ".join(f"{i}: {means[i]:.3f} (paper {PAPER_JACOBIAN[i]}, linear-regime prediction "
                           f"{predicted_jacobian_mean(i):.3f})" for i in means)
                 + f"; holds within +-{JACOBIAN_TOLERANCE} of the paper")


def _by_dataset(table: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in table:
        if row["test_error"] is not None or row.get("stopped_at") is not None:  # a row that gave up did not train
            out.setdefault(row["dataset"], {})[row["activation"]] = row
    return out


def _ci(row: dict[str, Any]) -> str:
    return f"{row['test_error']:.2f} [{row['ci95_low']:.2f}, {row['ci95_high']:.2f}]"


def _se(*rows: dict[str, Any]) -> float:
    """Standard error of a sum or difference of the rows' means (independent seeds)."""
    return math.sqrt(sum((r.get("test_error_std") or 0.0) ** 2 / max(r.get("seeds") or 1, 1) for r in rows))


def _decide(verdicts: list[tuple[float, float] | None]) -> bool | None:
    """Each item is (difference that should be > 0, its standard error), or None where a dataset cannot decide:
    all resolved -> all positive?"""
    if any(v is None or abs(v[0]) <= RESOLVED * v[1] for v in verdicts):
        return None
    return all(v[0] > 0 for v in verdicts if v is not None)


def _untrained(dataset: str, rows: dict[str, dict[str, Any]], names: list[str]) -> str | None:
    """Why ``dataset``'s comparison of ``names`` cannot be decided: a row that did not train (None if all did).
    Rows without a ``trained`` flag (the paper's) count as trained."""
    stuck = [k for k in names if not rows[k].get("trained", True)]
    if not stuck:
        return None
    described = ", ".join(_stuck(k, rows[k]) for k in stuck)
    return (f"{dataset}: not decided, {described} did not train (chance {rows[stuck[0]]['chance_error']:.1f}%; "
            f"{rows[stuck[0]]['budget']}); a budget at which every row trains decides it")


def _stuck(name: str, row: dict[str, Any]) -> str:
    if row.get("stopped_at") is not None:
        return (f"{name} (stopped at {row['stopped_at']:,} updates, validation error "
                f"{row['val_error_when_stopped']:.1f}%: no rate had left chance)")
    return f"{name} {row['test_error']:.1f}% ({row['seeds_trained']} of {row['seeds']} seeds trained)"


def sigmoid_worst(table: list[dict[str, Any]]) -> Claim:
    text = "Table 1: the sigmoid network has the highest test error on every dataset"
    per: list[str] = []
    verdicts: list[tuple[float, float] | None] = []
    for dataset, rows in _by_dataset(table).items():
        if "Sigmoid" not in rows or len(rows) < 2:
            continue
        stuck = _untrained(dataset, rows, list(rows))
        if stuck:
            per.append(stuck)
            verdicts.append(None)
            continue
        others = max((r for k, r in rows.items() if k != "Sigmoid"), key=lambda r: r["test_error"])
        diff, se = rows["Sigmoid"]["test_error"] - others["test_error"], _se(rows["Sigmoid"], others)
        verdicts.append((diff, se))
        per.append(f"{dataset}: Sigmoid {_ci(rows['Sigmoid'])} vs next worst {others['activation']} {_ci(others)}, "
                   f"difference {diff:+.2f} +- {se:.2f}")
    if not verdicts:
        return Claim("table1-sigmoid-worst", text, None, "no dataset with a complete row at this profile")
    return Claim("table1-sigmoid-worst", text, _decide(verdicts),
                 f"test error % (mean [95% CI over seeds]); differences +- one standard error, decided when "
                 f"beyond {RESOLVED:g} standard errors: " + "; ".join(per))


def normalized_helps_tanh_most(table: list[dict[str, Any]]) -> Claim:
    text = ("Table 1: normalized initialization helps tanh more than softsign "
            "(Tanh - Tanh N > Softsign - Softsign N on every dataset)")
    per: list[str] = []
    verdicts: list[tuple[float, float] | None] = []
    four = ["Tanh", "Tanh N", "Softsign", "Softsign N"]
    for dataset, rows in _by_dataset(table).items():
        if not all(k in rows for k in four):
            continue
        stuck = _untrained(dataset, rows, four)
        if stuck:
            per.append(stuck)
            verdicts.append(None)
            continue
        tanh = rows["Tanh"]["test_error"] - rows["Tanh N"]["test_error"]
        soft = rows["Softsign"]["test_error"] - rows["Softsign N"]["test_error"]
        se = _se(*(rows[k] for k in four))
        verdicts.append((tanh - soft, se))
        per.append(f"{dataset}: tanh gains {tanh:+.2f} points, softsign {soft:+.2f}, difference "
                   f"{tanh - soft:+.2f} +- {se:.2f} (Tanh {_ci(rows['Tanh'])}, Tanh N {_ci(rows['Tanh N'])})")
    if not verdicts:
        return Claim("table1-normalized-helps-tanh", text, None, "no dataset with all four rows at this profile")
    return Claim("table1-normalized-helps-tanh", text, _decide(verdicts),
                 f"decided when every difference is beyond {RESOLVED:g} standard errors over seeds: " + "; ".join(per))

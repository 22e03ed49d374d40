"""Check 1, ``data``: what goes into the network, before any network is involved.

Inputs (on up to ``budget.stats_examples`` training examples, flattened to features):

* any NaN or Inf -> fail;
* scale: the root mean square of all input values above ``MAX_RMS`` = 20 -> fail (e.g. raw 0..255
  pixels, RMS about 90), above ``WARN_RMS`` = 5 -> warn; below ``MIN_RMS`` = 0.01 -> fail (e.g. pixels
  divided by 255 twice, RMS about 0.001), below ``WARN_LOW_RMS`` = 0.05 -> warn (pixels in [0, 1] have an
  RMS of 0.3-0.5, standardized inputs 1); all inputs constant -> fail;
* centring: the RMS of the per-feature means over the overall standard deviation above
  ``MAX_OFFSET`` = 1 (the data sit further from zero than they spread) -> warn ("add mean subtraction");
* feature scales: the largest per-feature standard deviation over the median one above
  ``MAX_SPREAD`` = 100 -> warn ("standardize each feature"); constant features are left out.

Inputs that are token ids (whole numbers below the vocabulary size of an ``nn.Embedding`` in the model)
are checked for NaN only: their scale and centring are not measurements. (Added after the benchmark's
third run warned about a Transformer's token ids.)

Labels: outside ``[0, C)`` or a single class -> fail; a class missing from the training data, or
the most frequent class more than ``MAX_IMBALANCE`` = 10 times as frequent as the rarest -> warn.
"""
from __future__ import annotations

import math

import torch

from trainlab.doctor.base import Verdict, fmt, register, worst
from trainlab.doctor.patient import Patient

MAX_RMS, WARN_RMS = 20.0, 5.0
MIN_RMS, WARN_LOW_RMS = 0.01, 0.05
MAX_OFFSET = 1.0
MAX_SPREAD = 100.0
MAX_IMBALANCE = 10.0
RULES_OUT = ("nan-in-data", "input-scale-large", "input-scale-small", "class-imbalance")


@register("data", "Data: values, scale, centring and labels")
def check_data(p: Patient) -> Verdict:
    findings: list[tuple[str, str, str, str]] = []  # (status, evidence, advice, cause)
    numbers: dict[str, object] = {}
    findings += _inputs(p, numbers)
    findings += _labels(p, numbers)
    if not findings:
        return Verdict("pass", f"inputs RMS {fmt(numbers['rms'])}, offset {fmt(numbers['offset'])} std, "
                               f"{p.num_classes} classes, imbalance {fmt(numbers['imbalance'])}x", numbers,
                       rules_out=RULES_OUT)
    status = worst(*(f[0] for f in findings))
    findings.sort(key=lambda f: f[0] != status)
    return Verdict(status, "; ".join(f[1] for f in findings), numbers,
                   " ".join(dict.fromkeys(f[2] for f in findings if f[2])),
                   tuple(dict.fromkeys(f[3] for f in findings)))


def _inputs(p: Patient, numbers: dict[str, object]) -> list[tuple[str, str, str, str]]:
    n = min(len(p.train), p.budget.stats_examples)
    m = moments(p.train.x[:n].reshape(n, -1))
    n_val = min(len(p.val), p.budget.stats_examples)
    bad = m["nonfinite"] + moments(p.val.x[:n_val].reshape(n_val, -1))["nonfinite"]
    feature_mean, feature_var = m["feature_mean"], m["feature_var"]
    count = n * len(feature_mean)
    mean = float(feature_mean.mean())
    rms = math.sqrt(float(m["sumsq"]) / count)
    std = math.sqrt(max(rms * rms - mean * mean, 0.0))
    feature_std = feature_var.sqrt()
    offset = float(feature_mean.pow(2).mean().sqrt()) / std if std > 0 else float("inf")
    varying = feature_std[feature_std > 1e-6 * float(feature_std.max())] if std > 0 else feature_std[:0]
    spread = float(varying.max() / varying.median()) if len(varying) else 1.0
    numbers.update(nonfinite_values=bad, rms=rms, mean=mean, std=std, min=m["min"], max=m["max"], offset=offset,
                   feature_scale_spread=spread, features=len(feature_mean), examples=n)
    out = []
    if bad:
        out.append(("fail", f"{bad} NaN/Inf input values",
                    "Find where NaN/Inf enter the inputs (missing values, a division by zero in preprocessing) "
                    "and fix or drop them.", "nan-in-data"))
    if std == 0:
        out.append(("fail", "every input value is the same",
                    "The inputs carry no information: check the data loading.", "input-ignored"))
        return out
    vocabulary = _token_ids(p, m)
    if vocabulary is not None:
        numbers["token_ids"] = vocabulary  # indices into an embedding: their scale means nothing
        return out
    largest = max(abs(numbers["min"]), abs(numbers["max"]))
    if rms > WARN_RMS:
        status = "fail" if rms > MAX_RMS else "warn"
        limit = MAX_RMS if status == "fail" else WARN_RMS
        out.append((status, f"inputs are large: RMS {fmt(rms)} (max |x| {fmt(largest)}; "
                            f"want about 1, {status} above {fmt(limit)})",
                    "Rescale the inputs to about unit scale: add --preprocess mean,std (or divide pixels by 255).",
                    "input-scale-large"))
    if rms < WARN_LOW_RMS:
        status = "fail" if rms < MIN_RMS else "warn"
        limit = MIN_RMS if status == "fail" else WARN_LOW_RMS
        out.append((status, f"inputs are tiny: RMS {fmt(rms)} (max |x| {fmt(largest)}; want about 1, {status} "
                            f"below {fmt(limit)})",
                    "Rescale the inputs to about unit scale: check they are not normalized twice (divided by 255 "
                    "twice), or add --preprocess mean,std.", "input-scale-small"))
    if offset > MAX_OFFSET:
        out.append(("warn", f"inputs are not zero-centred: feature means are {fmt(offset)} standard deviations from 0",
                    "Subtract the training mean: add --preprocess mean (CS231n: mean subtraction).",
                    "input-scale-large"))
    if spread > MAX_SPREAD:
        out.append(("warn", f"feature scales differ {fmt(spread)}x (largest per-feature std over the median)",
                    "Standardize each feature: add --preprocess mean,std.", "input-scale-large"))
    return out


def _token_ids(p: Patient, m: dict[str, object]) -> int | None:
    """The vocabulary size when the inputs are token ids: whole numbers in ``[0, V)`` for a model with an
    ``nn.Embedding`` of ``V`` rows. Their scale and centring are then not measurements and are not judged."""
    sizes = [module.num_embeddings for module in p.model.modules() if isinstance(module, torch.nn.Embedding)]
    if not sizes or m["min"] < 0 or m["max"] >= max(sizes):
        return None
    n = min(len(p.train), p.budget.stats_examples)
    x = p.train.x[:n]
    whole = bool((x == x.round()).all()) if x.is_floating_point() else True
    return max(sizes) if whole else None


def moments(x: torch.Tensor, chunk: int = 4096) -> dict[str, object]:
    """Per-feature mean and (population) variance of ``x [N, D]`` in float64, a chunk of rows at a time
    (a float64 copy of all of CIFAR-10 would need 1.2 GB). Non-finite values are counted and read as 0."""
    d = x.shape[1]
    total, sumsq = torch.zeros(d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    bad, lo, hi = 0, math.inf, -math.inf
    for start in range(0, len(x), chunk):
        c = x[start:start + chunk].double()
        finite = torch.isfinite(c)
        if not bool(finite.all()):
            bad += int((~finite).sum())
            c = torch.where(finite, c, torch.zeros((), dtype=c.dtype))
        total += c.sum(0)
        sumsq += c.pow(2).sum(0)
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    n = max(len(x), 1)
    mean = total / n
    return {"feature_mean": mean, "feature_var": (sumsq / n - mean.pow(2)).clamp_min(0), "sumsq": sumsq.sum(),
            "nonfinite": bad, "min": lo, "max": hi}


def _labels(p: Patient, numbers: dict[str, object]) -> list[tuple[str, str, str, str]]:
    y, C = p.train.y, p.num_classes
    out = []
    if p.outputs != C:
        out.append(("fail", f"the model has {p.outputs} outputs but the data have {C} classes",
                    f"Give the model's last layer {C} outputs (one score per class).", "loss-output-mismatch"))
    outside = int(((y < 0) | (y >= C)).sum()) + int(((p.val.y < 0) | (p.val.y >= C)).sum())
    numbers.update(num_classes=C, labels_outside=outside)
    if outside:
        lo, hi = int(min(y.min(), p.val.y.min())), int(max(y.max(), p.val.y.max()))
        out.append(("fail", f"{outside} labels outside [0, {C}) (labels span {lo}..{hi}) for a model with {C} outputs",
                    f"Labels must be class indices 0..{C - 1}: remap them, or give the model {hi + 1} outputs.",
                    "wrong-labels"))
        y = y[(y >= 0) & (y < C)]
    counts = torch.bincount(y, minlength=C)[:C].tolist()
    present = [c for c in counts if c > 0]
    imbalance = max(present) / min(present) if present else float("inf")
    numbers.update(class_counts=counts, imbalance=imbalance, missing_classes=C - len(present))
    if len(present) <= 1:
        out.append(("fail", f"the training labels contain {len(present)} class(es)",
                    "A classifier needs examples of at least two classes: check the labels are loaded.",
                    "wrong-labels"))
    elif len(present) < C:
        out.append(("warn", f"{C - len(present)} of {C} classes have no training examples",
                    "Check the label set, or use fewer outputs.", "class-imbalance"))
    if len(present) > 1 and imbalance > MAX_IMBALANCE:
        out.append(("warn", f"classes are imbalanced: the most frequent is {fmt(imbalance)}x the rarest",
                    "Accuracy will flatter the majority class: reweight the loss or resample the classes.",
                    "class-imbalance"))
    return out

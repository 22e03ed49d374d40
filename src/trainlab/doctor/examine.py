"""``examine``: run the doctor's checks on a model, its loss and its data."""
from __future__ import annotations

import copy
import time
from typing import Any, Callable, Sequence

import torch
from torch import nn

from trainlab.data.base import Dataset
from trainlab.doctor.base import CheckResult, Verdict
from trainlab.doctor.checks import CHECKS, ORDER
from trainlab.doctor.diagnosis import diagnose, rule_out
from trainlab.doctor.patient import (
    DOCTOR_RECIPE,
    Budget,
    LossFn,
    Patient,
    Recipe,
    as_split,
    model_device,
    resolve_loss,
    split_off_validation,
)
from trainlab.doctor.report import DoctorReport
from trainlab.doctor.treat import TreatmentResult, treat as treat_causes
from trainlab.errors import UserError, choose


def examine(
    model: nn.Module,
    loss_fn: str | LossFn,
    train_data: Any,
    val_data: Any = None,
    num_classes: int | None = None,
    *,
    checks: Sequence[str] | None = None,
    lr: float | None = None,
    optimizer: str = "sgd",
    momentum: float | None = None,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    seed: int = 0,
    budget: Budget | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    treat: bool = False,
    on_treatment: Callable[[TreatmentResult], None] | None = None,
) -> DoctorReport:
    """Run the checks (all, in order, or the ids in ``checks``) and return the report.

    ``model`` is never changed: checks work on deep copies. ``loss_fn`` is ``'softmax'``, ``'svm'`` or a
    callable ``(scores, y) -> scalar``. ``train_data``/``val_data``: a ``Split``, an ``(x, y)`` pair, a
    trainlab ``Dataset`` (its train and val splits), a ``torch.utils.data.Dataset`` or a ``DataLoader``;
    without ``val_data`` a seeded 10% of the training data is held out. ``num_classes`` defaults to the
    model's number of outputs. ``lr``/``optimizer``/``momentum``/``weight_decay`` describe how the user
    trains: lr-range judges ``lr`` and update-ratio measures it (without ``lr`` both use the range
    test's suggestion). Randomness is seeded by ``seed`` and the global RNG state is left untouched.
    ``on_result`` is called with each result as it is ready (for progress output). ``treat=True`` then
    tests the catalogue's fixes for the diagnosis's leading treatable causes (:mod:`trainlab.doctor.treat`):
    ``report.treatments``, each also passed to ``on_treatment`` as it is ready.
    """
    if not isinstance(model, nn.Module):
        raise UserError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    ids = ORDER if checks is None else tuple(choose("doctor check", c, ORDER) for c in checks)
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1, got {batch_size}")
    budget = budget or Budget()
    loss, loss_name = resolve_loss(loss_fn)
    if isinstance(train_data, Dataset):
        val_data = train_data.val if val_data is None else val_data
        num_classes = num_classes or train_data.num_classes
        train_data = train_data.train
    train = as_split(train_data, limit=budget.max_examples, seed=seed, what="train_data")
    if val_data is None:
        train, val = split_off_validation(train, seed)
        note = f"no validation data given: held out {len(val)} random training examples"
    else:
        val, note = as_split(val_data, limit=budget.max_examples, seed=seed, what="val_data"), ""
    recipe = None if lr is None else Recipe(optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay)
    device = model_device(model)
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        outputs = _output_count(model, train, device)
        patient = Patient(model=model, loss_fn=loss, loss_name=loss_name, train=train, val=val,
                          num_classes=num_classes or outputs, outputs=outputs, recipe=recipe,
                          batch_size=batch_size, seed=seed, budget=budget, device=device,
                          notes=[note] if note else [])
        results = []
        for id in ids:
            torch.manual_seed(seed)  # each check repeatable on its own (dropout masks, lazy init)
            result = _run(id, patient)
            results.append(result)
            if on_result is not None:
                on_result(result)
        results = rule_out(results)
        treatments = treat_causes(patient, diagnose(results), on_result=on_treatment) if treat else []
    meta = {"model": type(model).__name__, "parameters": sum(p.numel() for p in model.parameters()),
            "loss": loss_name or getattr(loss, "__name__", type(loss).__name__), "num_classes": patient.num_classes,
            "train_examples": len(train), "val_examples": len(val), "input_shape": list(train.x.shape[1:]),
            "lr": lr, "optimizer": optimizer if lr is not None else None, "batch_size": batch_size, "seed": seed,
            "device": str(device), "notes": patient.notes,
            "model_checks_train_with": f"{DOCTOR_RECIPE.optimizer} lr {DOCTOR_RECIPE.lr:g}",
            "seconds": round(sum(r.seconds for r in results) + sum(t.seconds for t in treatments), 3)}
    return DoctorReport(results, meta, treatments=treatments, treated=treat)


def _run(id: str, patient: Patient) -> CheckResult:
    check = CHECKS[id]
    start = time.perf_counter()
    try:
        verdict = check.run(patient)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # a check that cannot run on this model is reported, not fatal
        verdict = Verdict("skipped", f"could not run: {type(exc).__name__}: {exc}", {"error": repr(exc)},
                          f"Run examine(..., checks=['{id}']) alone to see the full error.")
    return CheckResult(id=id, title=check.title, status=verdict.status, evidence=verdict.evidence,
                       numbers=verdict.numbers, advice=verdict.advice, seconds=time.perf_counter() - start,
                       causes=verdict.causes if verdict.status in ("warn", "fail") else (),
                       rules_out=verdict.rules_out)


def _output_count(model: nn.Module, train, device: torch.device) -> int:
    """The model's number of scores per example, from a forward pass of a copy on two examples."""
    probe = copy.deepcopy(model).eval()
    try:
        with torch.no_grad():
            scores = probe(train.x[:2].to(device))
    except Exception as exc:
        raise UserError(f"the model fails on a batch of train_data (inputs of shape {tuple(train.x.shape[1:])}): "
                        f"{type(exc).__name__}: {exc}") from None
    if scores.ndim != 2:
        raise UserError(f"the model must return scores of shape [batch, classes], got {tuple(scores.shape)}")
    return int(scores.shape[1])

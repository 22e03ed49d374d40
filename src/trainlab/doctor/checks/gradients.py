"""Checks 5 and 6: are the gradients right, and does each example stay on its own?

``gradcheck`` compares autograd's gradients with centred finite differences in float64
(:mod:`trainlab.gradcheck`, with kinks handled there, dropout off, every evaluation from the same
random state) on ``budget.gradcheck_examples`` examples, with the user's weight decay. Its verdict
maps to a status: good/acceptable -> pass, suspicious -> warn, wrong -> fail; a loss that comes back
in float32 on float64 scores cannot be checked (skipped, saying so).

``batch-independence`` (Karpathy's "use backprop to chart dependencies"): in evaluation mode the
output of example ``i`` must not depend on any other example of the batch. For each example of a
batch of ``BATCH`` it back-propagates the sum of that example's scores to the inputs: every other
row of the input gradient must be zero (fail when its largest entry exceeds ``LEAK_TOL`` = 1e-6 of
the example's own). It also computes the first half of the batch on its own: its scores must
match those computed in the full batch (fail when they differ by more than ``FORWARD_TOL`` = 1e-4 of
the score scale), which catches mixing that gradients do not show (e.g. a detached batch mean). Inputs with
no gradient path (token ids, or floats the model casts to ids) are judged by that comparison alone (until
the second blind set, whose attention over the batch axis of token ids it missed, the check crashed there
and was skipped).
Both run in float64 (for floating-point inputs): a saturated deep net amplifies float32 rounding,
which differs with the batch's size, far past 1e-4, and that is not mixing.
"""
from __future__ import annotations

import torch

from trainlab.doctor.base import Verdict, fmt, register
from trainlab.doctor.patient import Patient

BATCH = 8
LEAK_TOL = 1e-6
FORWARD_TOL = 1e-4
GRADCHECK_STATUS = {"good": "pass", "acceptable": "pass", "suspicious": "warn", "wrong": "fail"}


@register("gradcheck", "Analytic gradients against numerical ones (float64)")
def check_gradcheck(p: Patient) -> Verdict:
    try:
        from trainlab.gradcheck import GradCheckConfig, LossPrecisionError, check_gradients
    except ImportError:
        return Verdict("skipped", "trainlab.gradcheck is not available in this installation")
    x, y = p.sample(p.budget.gradcheck_examples, "gradcheck")
    config = GradCheckConfig(h=1e-5, dtype=torch.float64, max_coords=p.budget.gradcheck_coords)
    weight_decay = p.recipe.weight_decay if p.recipe else 0.0
    try:
        report = check_gradients(p.copy(), p.loss_fn, x, y, config=config, weight_decay=weight_decay)
    except LossPrecisionError as exc:
        return Verdict("skipped", f"cannot compare in float64: {exc}")
    params = sorted(report.parameters, key=lambda c: -_finite(c.max_rel_error))
    numbers = {"verdict": report.verdict, "examples": len(y), "parameters": [
        {"name": c.name, "max_rel_error": c.max_rel_error, "median_rel_error": c.median_rel_error,
         "checked": c.checked, "kinks": c.kinks, "verdict": c.verdict} for c in report.parameters]}
    status = GRADCHECK_STATUS.get(report.verdict, "warn")
    bad = [c for c in params if GRADCHECK_STATUS.get(c.verdict, "warn") != "pass"]
    checked = sum(c.checked for c in report.parameters)
    if not bad:
        top = params[0] if params else None
        worst_text = f"; largest relative error {fmt(top.max_rel_error)} ({top.name})" if top else ""
        return Verdict(status, f"verdict {report.verdict}: {checked} coordinates in {len(params)} tensors{worst_text}",
                       numbers, rules_out=("wrong-gradient", "detached-gradient") if status == "pass" else ())
    listed = ", ".join(f"{c.name} (max rel. error {fmt(c.max_rel_error)}, {c.verdict})" for c in bad[:4])
    cut = _without_gradient(p, x, y, [c.name for c in bad])
    numbers["no_autograd_gradient"] = cut
    if cut:
        return Verdict(status, f"verdict {report.verdict}: {listed}; autograd gives no gradient at all to "
                               f"{', '.join(cut[:4])}, which the loss does depend on", numbers,
                       "The backward path to these tensors is cut: look for .detach(), torch.no_grad() or "
                       ".data in the forward pass between them and the loss.", ("detached-gradient",))
    return Verdict(status, f"verdict {report.verdict}: {listed}", numbers,
                   "The backward pass disagrees with the forward pass for these tensors: check any custom "
                   "autograd.Function's backward (sign, transpose, missing factor) or in-place operations; "
                   "run `trainlab gradcheck` for per-coordinate detail.", ("wrong-gradient",))


def _without_gradient(p: Patient, x: torch.Tensor, y: torch.Tensor, names: list[str]) -> list[str]:
    """Those of ``names`` whose autograd gradient is missing or exactly zero on this batch."""
    model = p.copy()
    model.zero_grad(set_to_none=True)
    loss = p.loss_fn(model(x), y)
    if loss.requires_grad:
        loss.backward()
    params = dict(model.named_parameters())
    return [n for n in names if n in params and (params[n].grad is None or not bool(params[n].grad.any()))]


def _finite(value: float) -> float:
    return value if value == value else float("inf")


@register("batch-independence", "Examples do not mix across the batch (evaluation mode)")
def check_batch_independence(p: Patient) -> Verdict:
    x, _ = p.sample(BATCH, "batch-independence")
    n = len(x)
    if n < 2:
        return Verdict("skipped", "needs at least two examples")
    model = p.copy().eval()
    x = x.detach().clone()
    if x.is_floating_point():  # in float64, so that a chaotic (saturated) net's float32 rounding is not read as mixing
        model, x = model.double(), x.double()
    x.requires_grad_(x.is_floating_point())
    scores = model(x)
    # token ids, or inputs the model casts to them, have no gradient path: the forward comparison alone judges then
    traced = x.requires_grad and scores.requires_grad
    leak, silent = 0.0, 0
    for i in range(n if traced else 0):
        (grad,) = torch.autograd.grad(scores[i].sum(), x, retain_graph=i < n - 1, allow_unused=True)
        if grad is None:
            traced = False
            break
        grad = grad.reshape(n, -1).abs()
        own = float(grad[i].max())
        others = float(torch.cat([grad[:i], grad[i + 1:]]).max())
        if own == 0:
            silent += 1
            leak = max(leak, float("inf") if others > 0 else 0.0)
            continue
        leak = max(leak, others / own)
    with torch.no_grad():
        half = n // 2
        alone = model(x[:half])
        scale = float(scores.detach().abs().max()) + 1e-12
        drift = float((alone - scores.detach()[:half]).abs().max()) / scale
    if not traced:
        leak, silent = 0.0, 0
    numbers = {"examples": n, "gradient_leak": leak if traced else None, "forward_drift": drift,
               "examples_without_gradient": silent}
    if leak > LEAK_TOL or drift > FORWARD_TOL:
        what = []
        if leak > LEAK_TOL:
            what.append(f"the scores of one example have gradient {fmt(leak)}x their own on other examples' inputs")
        if drift > FORWARD_TOL:
            what.append(f"scores change by {fmt(drift)} (relative) when the rest of the batch changes")
        return Verdict("fail", "in evaluation mode " + "; ".join(what), numbers,
                       "A layer mixes examples across the batch dimension: look for reductions or views over "
                       "dim 0 (mean/sum/softmax over the batch, a reshape/transpose that swaps batch and features, "
                       "batch statistics used in evaluation mode).", ("batch-mixing",))
    if silent == n:
        return Verdict("warn", "no example's scores have any gradient with respect to its input", numbers,
                       "The output does not depend on the input at all: check the forward pass (and init-health).",
                       ("input-ignored", "detached-gradient"))
    if not traced:
        return Verdict("pass", f"{n} examples: no gradient path to the inputs (token ids, or a cast to them), so "
                               f"judged by the forward pass alone: drift {fmt(drift)}", numbers,
                       rules_out=("batch-mixing",))
    return Verdict("pass", f"{n} examples: largest cross-example gradient {fmt(leak)} of own, "
                           f"forward drift {fmt(drift)}", numbers, rules_out=("batch-mixing",))

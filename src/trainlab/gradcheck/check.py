"""Check a module's analytic gradients against finite differences.

:func:`check_gradients` works on a deep copy of the model cast to the check's
dtype (the caller's model is never touched) with dropout switched off. Every
evaluation of the loss starts from the same random state, so that randomness
the dropout layers do not cover (attention dropout, ``F.dropout`` in a custom
forward) draws the same masks each time and the loss is one function of the
parameters; and it runs with the check's dtype as the default, so that tensors
the model or the loss create (one-hot targets, constants) follow it. A loss that
still comes back in a lower precision cannot be checked by differences of
``h`` (:class:`LossPrecisionError`). Batch norm stays in training mode: the
loss then depends on the whole batch through the batch statistics, which is a
perfectly differentiable function of every parameter, and it is the function
the training loop differentiates. For each
parameter tensor it samples up to ``max_coords`` coordinates (all of a smaller
tensor), compares autograd's gradient with the numerical one, and judges the
data loss and the L2 term ``0.5 * weight_decay * sum ||W||^2`` separately.

A difference quotient is off by its truncation error, ``h^2 f'''(w) / 6`` for
the centered one: in a strongly curved objective (a deep tanh network with
large weights, say) that alone can exceed 1e-4 relative at ``h = 1e-5``. A
coordinate whose error is above the "good" band is therefore estimated again at
``h/2`` and the two combined by Richardson extrapolation,
``(2^p n(h/2) - n(h)) / (2^p - 1)`` with ``p = 2`` (centered) or 1 (forward),
which cancels the leading truncation term; the estimate closer to autograd is
kept and the coordinate is counted in ``refined``. A wrong gradient stays wrong
under both estimates.
"""
from __future__ import annotations

import contextlib
import copy
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.gradcheck.kinks import KINK_LOSSES, KinkRecorder, crossed
from trainlab.gradcheck.settings import GOOD, GradCheckConfig, band, dtype_name, worst
from trainlab.losses import l2_weights

DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


class LossPrecisionError(UserError):
    """The loss comes back in a lower precision than the check's dtype, so finite differences cannot resolve it."""


@dataclass(frozen=True)
class ParamCheck:
    """One parameter tensor's result. Errors are over coordinates that crossed no kink."""

    name: str
    max_rel_error: float
    median_rel_error: float
    checked: int
    kinks: int
    verdict: str
    max_rel_error_at_kinks: float = 0.0
    refined: int = 0  # coordinates whose estimate Richardson extrapolation improved (see the module docstring)


@dataclass
class GradCheckReport:
    parameters: list[ParamCheck]
    regularization: list[ParamCheck]
    data_verdict: str
    regularization_verdict: str | None
    kinked: bool  # the objective has kink-capable parts (ReLU, max-pool, hinge)
    dtype: str
    h: float
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return worst([self.data_verdict] + ([self.regularization_verdict] if self.regularization_verdict else []))

    @property
    def passed(self) -> bool:
        return self.verdict in ("good", "acceptable")

    def to_json(self) -> dict[str, Any]:
        return {
            "parameters": [asdict(p) for p in self.parameters],
            "verdict": self.verdict,
            "data_verdict": self.data_verdict,
            "regularization": {"parameters": [asdict(p) for p in self.regularization],
                               "verdict": self.regularization_verdict},
            "kinked_objective": self.kinked,
            "dtype": self.dtype, "h": self.h, "method": self.method,
            **self.extra,
        }


def relative_errors(analytic: torch.Tensor, numeric: torch.Tensor, config: GradCheckConfig,
                    loss: float = 0.0) -> torch.Tensor:
    """``|a - n| / max(|a| + |n|, tiny)`` per coordinate (0 where both are 0); ``tiny`` is
    ``config.tiny``, else ``config.relative_floor * max(|loss|, largest |a| + |n|)``."""
    a, n = analytic.double(), numeric.double()
    scale = a.abs() + n.abs()
    largest = float(scale.max()) if scale.numel() else 0.0
    tiny = config.tiny if config.tiny is not None else config.relative_floor * max(abs(loss), largest)
    denom = scale.clamp_min(max(tiny, 1e-300))
    return torch.where(scale > 0, (a - n).abs() / denom, torch.zeros_like(a))


def _summarize(name: str, errors: torch.Tensor, kinks: torch.Tensor, kinked: bool, refined: int = 0) -> ParamCheck:
    smooth = errors[~kinks].tolist()
    at_kinks = errors[kinks].tolist()
    top = max(smooth, default=0.0)
    return ParamCheck(name=name, max_rel_error=top, median_rel_error=statistics.median(smooth) if smooth else 0.0,
                      checked=len(errors), kinks=int(kinks.sum()), verdict=band(top, kinked=kinked),
                      max_rel_error_at_kinks=max(at_kinks, default=0.0), refined=refined)


def sample_coords(numel: int, config: GradCheckConfig, salt: int) -> torch.Tensor:
    """All coordinates of a small tensor, else ``max_coords`` seeded distinct ones (sorted)."""
    if numel <= config.max_coords:
        return torch.arange(numel)
    g = torch.Generator().manual_seed(config.seed * 1_000_003 + salt)
    return torch.randperm(numel, generator=g)[:config.max_coords].sort().values


def prepared_copy(model: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A deep copy in ``dtype``, training mode, with every dropout layer in eval mode."""
    work = copy.deepcopy(model).to(dtype=dtype)
    work.train()
    for module in work.modules():
        if isinstance(module, DROPOUT):
            module.eval()
    return work


def _l2_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    ids = {id(w) for w in l2_weights(model)}
    return {name: p for name, p in model.named_parameters() if id(p) in ids}


def check_gradients(model: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    x: torch.Tensor, y: torch.Tensor, *, config: GradCheckConfig | None = None,
                    weight_decay: float = 0.0,
                    kink_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> GradCheckReport:
    """Compare autograd's gradients of ``loss_fn(model(x), y)`` with finite differences.

    ``kink_fn(scores, y)`` may give the kink pattern of a custom loss with hinges
    (trainlab's SVM losses are known already). Returns a :class:`GradCheckReport`.
    """
    config = config or GradCheckConfig()
    if weight_decay < 0:
        raise UserError(f"weight decay must be >= 0, got {weight_decay}")
    work = prepared_copy(model, config.dtype)
    x = x.to(config.dtype) if x.is_floating_point() else x
    recorder = KinkRecorder(work)
    loss_kinks = kink_fn or KINK_LOSSES.get(loss_fn)
    devices = [x.device.index or 0] if x.device.type == "cuda" else []

    def data_loss() -> torch.Tensor:
        with torch.random.fork_rng(devices=devices), _default_dtype(config.dtype):
            torch.manual_seed(config.seed)
            scores = work(x)
            if loss_kinks is not None:
                recorder.patterns["<loss>"] = [loss_kinks(scores.detach(), y)]
            return loss_fn(scores, y)

    params = [(name, p) for name, p in work.named_parameters() if p.requires_grad]
    if not params:
        raise UserError("the model has no trainable parameters to check")
    with recorder.recording():
        work.zero_grad(set_to_none=True)
        loss = data_loss()
        if loss.dtype != config.dtype:
            raise LossPrecisionError(
                f"the loss comes back in {dtype_name(loss.dtype)} on {dtype_name(config.dtype)} scores, so "
                f"differences of h={config.h:g} are below its resolution; make it keep its input's dtype "
                "(build targets and constants with scores.dtype, not .float())")
        loss.backward()
        base = recorder.snapshot()
        kinked = bool(base)
        checks = [_check_tensor(name, p, data_loss, recorder, base, config, salt=k, kinked=kinked)
                  for k, (name, p) in enumerate(params)]
    reg_checks = _check_regularization(work, weight_decay, config) if weight_decay > 0 else []
    return GradCheckReport(
        parameters=checks, regularization=reg_checks, data_verdict=worst(c.verdict for c in checks),
        regularization_verdict=worst(c.verdict for c in reg_checks) if reg_checks else None,
        kinked=kinked, dtype=dtype_name(config.dtype), h=config.h, method=config.method,
        extra={"weight_decay": weight_decay, "batch": int(x.shape[0])})


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """``torch.set_default_dtype(dtype)`` inside the block only (floating dtypes; others leave it as it is)."""
    before = torch.get_default_dtype()
    if dtype.is_floating_point:
        torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _check_tensor(name: str, p: torch.Tensor, f: Callable[[], torch.Tensor], recorder: KinkRecorder,
                  base: dict, config: GradCheckConfig, *, salt: int, kinked: bool) -> ParamCheck:
    analytic = p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), dtype=p.dtype)
    coords = sample_coords(p.numel(), config, salt)
    flat = p.data.view(-1)
    numeric = torch.empty(len(coords), dtype=torch.float64)
    kinks = torch.zeros(len(coords), dtype=torch.bool)

    def difference(i: int, h: float) -> tuple[float, bool]:
        """The difference quotient at coordinate ``i`` with step ``h``, and whether it crossed a kink."""
        old = flat[i].item()
        flat[i] = old + h
        plus = float(f())
        hit = crossed(base, recorder.snapshot())
        if config.method == "centered":
            flat[i] = old - h
            minus = float(f())
            hit |= crossed(base, recorder.snapshot())
            value = (plus - minus) / (2 * h)
        else:
            value = (plus - f0) / h
        flat[i] = old
        return value, hit

    with torch.no_grad():
        f0 = float(f())
        recorder.clear()
        for k, i in enumerate(coords.tolist()):
            numeric[k], kinks[k] = difference(i, config.h)
        exact = analytic[coords].double()
        errors = relative_errors(exact, numeric, config, loss=f0)
        order = 2 if config.method == "centered" else 1
        refined = 0
        suspect = (errors > GOOD) & ~kinks if config.richardson else torch.zeros_like(kinks)
        for k in suspect.nonzero().flatten().tolist():
            half, hit = difference(int(coords[k]), config.h / 2)
            extrapolated = (2 ** order * half - float(numeric[k])) / (2 ** order - 1)
            if not hit and abs(extrapolated - exact[k]) < abs(numeric[k] - exact[k]):
                numeric[k], refined = extrapolated, refined + 1
        if refined:
            errors = relative_errors(exact, numeric, config, loss=f0)
    return _summarize(name, errors, kinks, kinked, refined)


def _check_regularization(work: nn.Module, weight_decay: float, config: GradCheckConfig) -> list[ParamCheck]:
    """The L2 term on its own: autograd's gradient of ``0.5 * wd * ||W||^2`` against differences."""
    from trainlab.gradcheck.numeric import loop_numerical_gradient

    out = []
    for k, (name, w) in enumerate(_l2_weights(work).items()):
        w = w.detach().clone().requires_grad_(True)
        term = lambda v: 0.5 * weight_decay * (v * v).sum()  # noqa: E731
        (analytic,) = torch.autograd.grad(term(w), w)
        coords = sample_coords(w.numel(), config, salt=10_000 + k)
        numeric = loop_numerical_gradient(term, w.detach(), h=config.h, method=config.method, coords=coords)
        errors = relative_errors(analytic.reshape(-1)[coords], numeric, config, loss=float(term(w.detach())))
        out.append(_summarize(name, errors, torch.zeros(len(coords), dtype=torch.bool), kinked=False))
    return out

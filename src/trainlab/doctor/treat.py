"""Treatments tested before they are advised: ``examine(..., treat=True)``, ``trainlab doctor --treat``.

For each leading cause of the diagnosis that the catalogue can treat (:func:`causes_to_treat`), every
fix of the catalogue that addresses it is applied to a copy of the user's setup (model, loss, recipe) and
trained for ``budget.treat_steps`` beside the untreated setup and a *random-change control*: a fix drawn at
random (seeded) from the rest of the catalogue, as Kim et al. (ICST 2023) found that a random change
repairs about as often as published repair tools. Every arm trains on the same ``budget.treat_seeds``
batch orders; the outcome is the validation accuracy (and the user's loss on the validation data)
at the end. Differences are paired by seed, as a mean with a 95% Student-t interval. A fix is
advised only when the interval of its accuracy gain lies above zero against the untreated setup
*and* against the control.

An arm's seeds can train as one batched population where the architecture allows
(:func:`train_batched`, with ``torch.func``; the default on CUDA only: on CPU it measured faster than
the seeds one after another for small MLPs and slower for wide ones, ``benchmarks/bench_treat.py``);
the arms, which differ in architecture, recipe or loss, train one after another.
"""
from __future__ import annotations

import copy
import math
import random
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.doctor.diagnosis import Hypothesis
from trainlab.doctor.fit import fit, measure
from trainlab.doctor.patient import DOCTOR_RECIPE, LossFn, Patient, Recipe
from trainlab.init import initialize_, weight_layers
from trainlab.optimizers import make_optimizer

MAX_CAUSES = 2
CLIP_NORM = 1.0


@dataclass
class Setup:
    """What one arm trains: a model, the loss it trains with, a recipe, optional gradient clipping."""

    model: nn.Module
    loss_fn: LossFn
    recipe: Recipe
    clip: float | None = None


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    treats: tuple[str, ...]  # cause ids
    apply: Callable[[Setup, Patient], Setup | None]  # None: does not apply to this setup


@dataclass(frozen=True)
class Difference:
    """Mean difference over seeds (treated minus other) with its 95% interval."""

    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class TreatmentResult:
    fix: str
    title: str
    cause: str
    control: str  # the random-change control's fix id
    accuracy: list[float]  # per seed
    untreated_accuracy: list[float]
    control_accuracy: list[float]
    accuracy_gain: Difference  # against the untreated setup
    accuracy_gain_over_control: Difference
    val_loss_change: Difference  # the user's loss on the validation data, against the untreated setup
    advised: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the catalogue ----------------------------------------------------------------------------------

def _recipe(**changes: Any) -> Callable[[Setup, Patient], Setup | None]:
    def apply(s: Setup, p: Patient) -> Setup:
        return replace(s, recipe=replace(s.recipe, **{k: v(s.recipe, p) for k, v in changes.items()}))
    return apply


def _suggested(p: Patient, default: float) -> float:
    return float(p.findings.get("suggested_lr", default))


def _lr_down(r: Recipe, p: Patient) -> float:
    suggested = _suggested(p, r.lr / 10)
    return suggested if suggested < r.lr else r.lr / 10


def _lr_up(r: Recipe, p: Patient) -> float:
    suggested = _suggested(p, r.lr * 10)
    return suggested if suggested > r.lr else r.lr * 10


class Standardize(nn.Module):
    """``(x - mean) / std`` per input feature, with the training split's statistics (a std of 0 reads as 1)."""

    def __init__(self, x: torch.Tensor) -> None:
        super().__init__()
        x = x.double()
        std = x.std(0)
        self.register_buffer("mean", x.mean(0).float())
        self.register_buffer("std", torch.where(std > 1e-12, std, torch.ones_like(std)).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _standardize(s: Setup, p: Patient) -> Setup | None:
    if not p.train.x.is_floating_point():
        return None  # token ids: nothing to rescale
    return replace(s, model=nn.Sequential(Standardize(p.train.x).to(p.device), s.model))


def _activations(model: nn.Module) -> set[type]:
    return {type(m) for m in model.modules() if isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU))}


def _matched_init(s: Setup, p: Patient) -> Setup | None:
    if not weight_layers(s.model):
        return None
    relu = bool(_activations(s.model) & {nn.ReLU, nn.LeakyReLU, nn.GELU})
    initialize_(s.model, "he-normal" if relu else "glorot-uniform", generator=p.generator("treat-init"))
    return s


def _relu(s: Setup, p: Patient) -> Setup | None:
    swapped = False
    for module in list(s.model.modules()):
        for name, child in module.named_children():
            if isinstance(child, (nn.Sigmoid, nn.Tanh)):
                setattr(module, name, nn.ReLU())
                swapped = True
    if not swapped:
        return None
    initialize_(s.model, "he-normal", generator=p.generator("treat-relu"))
    return s


def _clip(s: Setup, p: Patient) -> Setup:
    return replace(s, clip=CLIP_NORM)


def _cross_entropy(s: Setup, p: Patient) -> Setup | None:
    return None if p.loss_name == "softmax" else replace(s, loss_fn=F.cross_entropy)


def _log_probabilities(s: Setup, p: Patient) -> Setup:
    """For a model that already outputs probabilities: the negative log-likelihood of its outputs."""
    return replace(s, loss_fn=lambda probs, y: F.nll_loss(probs.clamp_min(1e-12).log(), y))


def _adam(s: Setup, p: Patient) -> Setup | None:
    if s.recipe == replace(DOCTOR_RECIPE, weight_decay=s.recipe.weight_decay):
        return None
    return replace(s, recipe=replace(DOCTOR_RECIPE, weight_decay=s.recipe.weight_decay))


CATALOGUE: tuple[Fix, ...] = (
    Fix("lr-down", "lower the learning rate (to the range test's suggestion, else 10x)",
        ("lr-too-high", "exploding-gradient"), _recipe(lr=_lr_down)),
    Fix("lr-up", "raise the learning rate (to the range test's suggestion, else 10x)",
        ("lr-too-low", "vanishing-gradient"), _recipe(lr=_lr_up)),
    Fix("adam", "switch to Adam at 1e-3", ("bad-optimizer-settings", "lr-too-high", "lr-too-low"), _adam),
    Fix("standardize-inputs", "standardize the inputs with the training split's statistics",
        ("input-scale-large", "input-scale-small", "saturating-activation"), _standardize),
    Fix("matched-init", "initialize for the activation (He for ReLU, Glorot otherwise)",
        ("bad-init-zeros", "bad-init-large", "bad-init-small", "saturating-activation", "dead-relu",
         "vanishing-gradient", "exploding-gradient"), _matched_init),
    Fix("relu", "replace sigmoid/tanh by ReLU (with He initialization)",
        ("saturating-activation", "vanishing-gradient"), _relu),
    Fix("clip-gradients", f"clip the gradient norm at {CLIP_NORM:g}", ("exploding-gradient", "lr-too-high"), _clip),
    Fix("cross-entropy", "train with cross-entropy on the scores",
        ("loss-output-mismatch", "loss-reduction", "loss-sign"), _cross_entropy),
    Fix("log-probabilities", "take the log of the model's probabilities (negative log-likelihood)",
        ("double-softmax",), _log_probabilities),
    Fix("weight-decay-down", "weight decay 10x lower", ("too-much-regularization",),
        _recipe(weight_decay=lambda r, p: r.weight_decay / 10)),
    Fix("weight-decay-up", "weight decay 10x higher (1e-4 if none)", ("overfitting",),
        _recipe(weight_decay=lambda r, p: r.weight_decay * 10 if r.weight_decay else 1e-4)),
)
FIXES = {f.id: f for f in CATALOGUE}


# -- running the arms ---------------------------------------------------------------------------------

def causes_to_treat(diagnosis: Sequence[Hypothesis]) -> list[str]:
    """The leading causes the catalogue has a fix for, at most :data:`MAX_CAUSES`, in the diagnosis's order:
    those resting on a failed check, or, when no cause does, those resting on warnings (a warning-only
    diagnosis is a suspicion that a tested fix can confirm or not). A cause without a fix (a wrong gradient,
    batch mixing) is passed over: the next one is tested instead of nothing."""
    fixable = {cause for fix in CATALOGUE for cause in fix.treats}
    failed = [h.cause for h in diagnosis if h.status == "fail"]
    leading = failed or [h.cause for h in diagnosis]
    return [cause for cause in leading if cause in fixable][:MAX_CAUSES]


def treat(p: Patient, diagnosis: list[Hypothesis], *,
          on_result: Callable[[TreatmentResult], None] | None = None) -> list[TreatmentResult]:
    """Test the catalogue's fixes for the diagnosis's leading causes (:func:`causes_to_treat`; see the module
    docstring); ``on_result`` sees each fix's result as it is ready."""
    causes = causes_to_treat(diagnosis)
    if not causes:
        return []
    base = Setup(model=p.model, loss_fn=p.loss_fn, recipe=p.recipe or DOCTOR_RECIPE)
    seeds = range(p.budget.treat_seeds)
    outcomes: dict[str, list[tuple[float, float]]] = {}

    def outcome(fix: Fix | None) -> list[tuple[float, float]] | None:
        key = "untreated" if fix is None else fix.id
        if key not in outcomes:
            setup = _fresh(base) if fix is None else fix.apply(_fresh(base), p)
            if setup is None:
                return None
            try:
                outcomes[key] = train_seeds(p, setup, seeds)
            except (KeyboardInterrupt, MemoryError):
                raise
            except Exception:  # a fix this model cannot take (a loss for more outputs than it has): not tested
                return None
        return outcomes[key]

    untreated = outcome(None)
    if untreated is None:  # the setup itself does not train here (the checks say why): nothing to compare with
        return []
    chooser = random.Random(f"{p.seed}-control")
    out: list[TreatmentResult] = []
    for cause in causes:
        tested = {t.fix for t in out}  # a fix for two of the causes is tested, and listed, once
        candidates = [f for f in CATALOGUE if cause in f.treats and f.id not in tested]
        others = [f for f in CATALOGUE if cause not in f.treats]
        for fix in candidates:
            started = time.perf_counter()
            treated = outcome(fix)
            if treated is None:
                continue
            control, controlled = None, None
            for pick in chooser.sample(others, len(others)):
                controlled = outcome(pick)
                if controlled is not None:
                    control = pick
                    break
            if control is None:
                controlled, control_id = untreated, "none"
            else:
                control_id = control.id
            gain = _difference([a for a, _ in treated], [a for a, _ in untreated])
            over = _difference([a for a, _ in treated], [a for a, _ in controlled])
            loss = _difference([v for _, v in treated], [v for _, v in untreated])
            out.append(TreatmentResult(
                fix=fix.id, title=fix.title, cause=cause, control=control_id,
                accuracy=[a for a, _ in treated], untreated_accuracy=[a for a, _ in untreated],
                control_accuracy=[a for a, _ in controlled], accuracy_gain=gain, accuracy_gain_over_control=over,
                val_loss_change=loss, advised=gain.low > 0 and over.low > 0, seconds=time.perf_counter() - started))
            if on_result is not None:
                on_result(out[-1])
    return sorted(out, key=lambda t: (not t.advised, -t.accuracy_gain.mean))


def _fresh(s: Setup) -> Setup:
    return replace(s, model=copy.deepcopy(s.model))


def train_seeds(p: Patient, setup: Setup, seeds: Sequence[int], *, batched: bool | None = None
                ) -> list[tuple[float, float]]:
    """One arm from the same starting point on each batch order: (validation accuracy, the user's loss on it).

    With ``batched`` the seeds train as one population (:func:`train_batched`); where that fails (an
    operation vmap cannot batch, a seed whose loss diverges) they train one after another instead, with
    the same result. By default only on CUDA: on CPU, with 5 seeds, the vmapped population measured 1.49x
    the speed of the seeds one after another on a 3x64 MLP, 1.25x at 3x256 and 0.72x at 3x1024
    (``benchmarks/bench_treat.py``, 2026-12-03; with 3 seeds earlier, 0.6-0.8x).
    """
    if batched is None:
        batched = p.device.type == "cuda"
    if batched and len(seeds) > 1:
        try:
            found = train_batched(p, setup, seeds)
        except (RuntimeError, NotImplementedError, ValueError):
            found = None
        if found is not None:
            return found
    return [_train(p, _fresh(setup), seed) for seed in seeds]


def train_batched(p: Patient, setup: Setup, seeds: Sequence[int]) -> list[tuple[float, float]] | None:
    """The seeds of one arm as one population: the members' parameters stacked (``torch.func``), the
    forward pass vmapped over them, and one optimizer on the stacked tensors. SGD, momentum and Adam
    update each entry on its own, so stepping the stack on the sum of the members' losses is stepping
    each member on its own loss. None when a member's loss stops being finite (the caller reruns the
    seeds one by one, so a diverged member is recorded as the sequential runs record it)."""
    from torch.func import functional_call, stack_module_state, vmap

    models = [copy.deepcopy(setup.model).train() for _ in seeds]
    params, buffers = stack_module_state(models)
    decayed = {name for name, w in models[0].named_parameters() if w.requires_grad and w.ndim >= 2}
    skeleton = copy.deepcopy(models[0]).to("meta")

    def member_loss(par: dict, buf: dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return setup.loss_fn(functional_call(skeleton, (par, buf), (x,)), y)

    losses_of = vmap(member_loss, randomness="different")
    trainable = [w for name, w in params.items() if dict(models[0].named_parameters())[name].requires_grad]
    optimizer = make_optimizer(setup.recipe.optimizer, trainable, lr=setup.recipe.lr, momentum=setup.recipe.momentum)
    streams = [p.batches(p.budget.treat_steps, "treat", seed) for seed in seeds]
    for batches in zip(*streams):
        x, y = torch.stack([b[0] for b in batches]), torch.stack([b[1] for b in batches])
        optimizer.zero_grad(set_to_none=True)
        losses = losses_of(params, buffers, x, y)
        if setup.recipe.weight_decay:
            losses = losses + 0.5 * setup.recipe.weight_decay * sum(
                params[n].pow(2).flatten(1).sum(1) for n in decayed)
        if not bool(torch.isfinite(losses).all()):
            return None
        losses.sum().backward()
        if setup.clip:
            _clip_members(trainable, setup.clip)
        optimizer.step()
    out = []
    for k, model in enumerate(models):
        with torch.no_grad():
            for name, w in model.named_parameters():
                w.copy_(params[name][k])
            for name, b in model.named_buffers():
                b.copy_(buffers[name][k])
        out.append(_evaluate(p, model, setup.loss_fn))
    return out


def _clip_members(stacked: list[torch.Tensor], max_norm: float) -> None:
    """``clip_grad_norm_`` for each member of stacked parameters: its gradient norm over all tensors."""
    grads = [w.grad for w in stacked if w.grad is not None]
    norms = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0).sqrt()
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


def _evaluate(p: Patient, model: nn.Module, loss_fn: LossFn) -> tuple[float, float]:
    val = p.holdout()
    x, y = val.x.to(p.device), val.y.to(p.device)
    _, accuracy = measure(model, loss_fn, x, y)
    loss, _ = measure(model, p.loss_fn, x, y)
    return accuracy, loss


def _train(p: Patient, setup: Setup, seed: int) -> tuple[float, float]:
    """Train one arm on batch order ``seed``; (validation accuracy, the user's loss on it). Diverged: (0, inf)."""
    model = setup.model

    def clip(_step: int, m: nn.Module) -> None:
        torch.nn.utils.clip_grad_norm_(m.parameters(), setup.clip)

    torch.manual_seed(seed)  # dropout masks
    run = fit(model, setup.loss_fn, p.batches(p.budget.treat_steps, "treat", seed), setup.recipe,
              before_step=clip if setup.clip else None)
    return (0.0, math.inf) if run.diverged else _evaluate(p, model, setup.loss_fn)


def _difference(a: list[float], b: list[float]) -> Difference:
    """Paired mean difference ``a - b`` with a 95% Student-t interval (a point for one pair)."""
    d = [x - y for x, y in zip(a, b)]
    finite = [v for v in d if math.isfinite(v)]
    if not finite:
        return Difference(math.nan, math.nan, math.nan)
    mean = statistics.fmean(finite)
    if len(finite) < 2:
        return Difference(mean, mean, mean)
    from scipy import stats

    half = float(stats.t.ppf(0.975, len(finite) - 1)) * statistics.stdev(finite) / math.sqrt(len(finite))
    return Difference(mean, mean - half, mean + half)

"""The watcher's hooks on the user's model, optimizer, loss and scheduler: what the loop did.

Hooks only read. Between checks they cost a few attribute reads per forward pass and per
``optimizer.step()`` (and, where the loss is seen on the CPU, one ``float(loss)``). On a *check*
step (every ``every`` steps, step 0 included) they also arm, for that step only:

* the probes (:class:`trainlab.probe.Probe`) on the training batch: per-layer activations,
  back-propagated and weight gradients, update ratios;
* a gradient hook per trainable parameter whose ``.grad`` exists as the step starts, which sees
  ``param.grad`` as the new gradient arrives: a non-zero ``.grad`` left from before the previous
  ``optimizer.step()`` was never zeroed (a ``.grad`` that is None then cannot carry anything over);
* a pre-hook on each frozen module (does a gradient flow through it?);
* a gradient hook on each tensor that requires gradients but that the model does not own (a plain
  tensor attribute instead of an ``nn.Parameter``, a layer kept in a Python list instead of an
  ``nn.ModuleList``): ``model.parameters()``, and so the optimizer built from it, leave those out;
* on the checks that also record distributions (every ``distributions_every`` steps), a survey of the
  pipeline, which does not change from step to step as losses and gradients do: a pre-hook on the first
  Linear/Conv layer (its input's scale) and a look at what the criterion is given (already
  probabilities, for a loss that applies softmax itself?).

The step's forward and backward may run inside ``optimizer.step(closure)`` (LBFGS, Lightning):
the weights are snapshotted in the step's pre-hook, before the closure, and gradients are read
in its post-hook, where ``param.grad`` still holds them.

Nothing here draws random numbers or writes to the model; :meth:`Observer.locate_nonfinite`
runs one extra forward pass with the random state and the buffers put back afterwards.
"""
from __future__ import annotations

import collections
import contextlib
import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import nn

from trainlab.losses import are_probabilities
from trainlab.probe import Probe
from trainlab.probe.layers import layer_kind
from trainlab.probe.records import ProbeRecord
from trainlab.probe.stats import DEFAULT_SAMPLE, WEIGHT_RUN, subsample

DROPOUT: tuple[type[nn.Module], ...] = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                                        nn.FeatureAlphaDropout)
MODAL: tuple[type[nn.Module], ...] = DROPOUT + (nn.modules.batchnorm._BatchNorm,)
"""Modules whose forward pass depends on ``train()`` / ``eval()``."""
LABEL_WINDOW = 50
"""How many recent label batches the data rules look at."""
MIN_LABEL_BATCH = 8
"""Batches smaller than this (a last partial batch, a loop at batch size 1) tell nothing about shuffling."""
WINDOW = 10
"""Losses are judged as means of consecutive windows of this many steps."""
KEEP_LOSSES = 10_000
"""Per-step losses kept in memory (older ones live on in their windows' means)."""
RECENT_RECORDS = 3
DISTRIBUTIONS_EVERY = 50
"""The default steps between the checks whose probe record also has percentiles, histograms and
back-propagated gradients (the figures' and TensorBoard's): the first check, then the first one at least
this many steps later. The rules read only moments, fractions and update ratios, which every check
records (estimated on subsamples in between): watching every step then costs a record of those, not a
pass over every value, a sort of every tensor and a row of the probe file. The same checks survey the
input's scale and the criterion's inputs."""


@dataclass(frozen=True)
class LabelBatch:
    """One batch's labels: how many of each; ``bits`` is their entropy (computed once, when seen)."""

    step: int
    size: int
    counts: dict[int, int]
    bits: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bits", label_bits(self.counts))


class LabelWindow:
    """The last ``LABEL_WINDOW`` label batches, with their labels pooled as batches come and go: the data
    rules read the pooled counts at every check, and pooling fifty batches again each time cost more than
    the rules themselves when watching every step."""

    def __init__(self) -> None:
        self.batches: deque[LabelBatch] = deque()
        self._all: dict[int, int] = {}  # every batch in the window
        self._full: dict[int, int] = {}  # batches of at least MIN_LABEL_BATCH labels

    def append(self, batch: LabelBatch) -> None:
        if len(self.batches) == LABEL_WINDOW:
            self._count(self.batches.popleft(), -1)
        self.batches.append(batch)
        self._count(batch, 1)

    def _count(self, batch: LabelBatch, sign: int) -> None:
        for pooled in (self._all, self._full) if batch.size >= MIN_LABEL_BATCH else (self._all,):
            for label, n in batch.counts.items():
                left = pooled.get(label, 0) + sign * n
                if left:
                    pooled[label] = left
                else:
                    del pooled[label]

    def full(self) -> list[LabelBatch]:
        """The batches of at least ``MIN_LABEL_BATCH`` labels, oldest first."""
        return [b for b in self.batches if b.size >= MIN_LABEL_BATCH]

    def pooled(self, *, full_only: bool = False, ignore: int | None = None) -> dict[int, int]:
        """The window's label counts together (of its full batches only; without the label ``ignore``)."""
        counts = self._full if full_only else self._all
        return {k: v for k, v in counts.items() if k != ignore}

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[LabelBatch]:
        return iter(self.batches)


def label_bits(counts: dict[int, int]) -> float:
    """The entropy in bits of labels counted as ``{label: count}`` (0 for none)."""
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values() if c) if n else 0.0


@dataclass
class LossWindows:
    """Means of consecutive windows of ``WINDOW`` losses, folded in as they complete."""

    means: list[tuple[int, float]] = field(default_factory=list)  # (last step, mean)
    best: float = math.inf
    used: int = 0  # entries of Seen.losses folded in so far
    first_loss: float = math.nan  # the very first loss (at initialization)
    first_median: float = math.nan  # the median of the first window: robust to a few wild steps

    def sync(self, losses: list[tuple[int, float]]) -> None:
        while len(losses) - self.used >= WINDOW:
            chunk = losses[self.used:self.used + WINDOW]
            if not self.means:
                self.first_loss = chunk[0][1]
                self.first_median = statistics.median(v for _, v in chunk)
            self.used += WINDOW
            mean = math.fsum(v for _, v in chunk) / WINDOW
            self.means.append((chunk[-1][0], mean))
            if mean < self.best:
                self.best = mean


@dataclass
class Seen:
    """Everything the hooks saw, for :mod:`trainlab.watcher.rules` to judge."""

    step: int = 0  # optimizer steps taken
    losses: list[tuple[int, float]] = field(default_factory=list)  # (step, loss), one per optimizer step
    records: deque = field(default_factory=lambda: deque(maxlen=RECENT_RECORDS))  # recent checks' probe records
    first_record: ProbeRecord | None = None
    lr_changes: list[tuple[int, float]] = field(default_factory=list)  # (step, lr of group 0) when it changed
    scheduler_calls: list[int] = field(default_factory=list)  # optimizer steps taken at each scheduler.step()
    scheduler: Any = None
    optimizer: Any = None  # the optimizer whose steps are counted
    total_steps: int | None = None  # how long the run will be, when the loop says so
    update_layers: set[str] | None = None  # probed layers whose weights the counted optimizer steps
    labels: LabelWindow = field(default_factory=LabelWindow)
    class_loss: bool = False  # the criterion is a mean cross-entropy (or NLL), in nats, over class labels
    ignored_label: int | None = None  # the criterion's ignore_index: such targets are not classes
    input_scale: deque = field(default_factory=lambda: deque(maxlen=RECENT_RECORDS))  # (step, rms, max |x|)
    carried: list[tuple[int, str, float, float]] = field(default_factory=list)  # (step, param, |old|, |new|)
    grad_norms: dict[str, float] = field(default_factory=dict)  # at the last check
    orphans: list[str] = field(default_factory=list)  # got gradients, in no optimizer group (last check)
    unregistered: set[str] = field(default_factory=set)  # tensors requiring gradients that the model does not own
    loss_output: tuple[int, str] | None = None  # (step, what) where the criterion's inputs do not fit it
    unchanged: dict[str, str] = field(default_factory=dict)  # param -> why (no grad, zero grad, lr 0, ...)
    frozen_flow: list[tuple[int, str, int]] = field(default_factory=list)  # (step, module, frozen params)
    eval_mode: list[tuple[int, list[str]]] = field(default_factory=list)  # training steps with modules in eval
    train_mode_eval: tuple[int, list[str]] | None = None  # first no-grad forward in training mode
    nonfinite: dict[str, Any] | None = None
    checks: list[int] = field(default_factory=list)  # steps that were checked
    loss_windows: LossWindows = field(default_factory=LossWindows)
    judged_windows: int = 0  # windows already judged (rules look at the ones after)
    since_check: list[float] = field(default_factory=list)  # losses since the last check

    def windows(self) -> list[tuple[int, float]]:
        """Every complete loss window so far, ``(last step, mean)``."""
        self.loss_windows.sync(self.losses)
        return self.loss_windows.means

    def add_loss(self, step: int, value: float) -> None:
        self.losses.append((step, value))
        self.since_check.append(value)
        if len(self.losses) > 2 * KEEP_LOSSES:
            self.loss_windows.sync(self.losses)
            drop = min(self.loss_windows.used, len(self.losses) - KEEP_LOSSES)
            del self.losses[:drop]
            self.loss_windows.used -= drop

    def add_record(self, record: ProbeRecord) -> None:
        if self.first_record is None:
            self.first_record = record
        self.records.append(record)


class Observer:
    """Installs the hooks on ``model`` and ``optimizers`` (and ``criterion``, ``scheduler``); removes them all."""

    def __init__(self, model: nn.Module, optimizers: Sequence[torch.optim.Optimizer], *, every: int,
                 probe: Probe | None, criterion: nn.Module | None = None, scheduler: Any = None,
                 on_check: Callable[[int], None] | None = None, sample: int = DEFAULT_SAMPLE,
                 total_steps: int | None = None, distributions_every: int = DISTRIBUTIONS_EVERY) -> None:
        self.model, self.optimizers, self.every, self.probe = model, list(optimizers), every, probe
        self.criterion, self.scheduler, self.on_check, self.sample = criterion, scheduler, on_check, sample
        self.seen = Seen(scheduler=scheduler, optimizer=self.optimizers[0], total_steps=total_steps,
                         class_loss=is_class_loss(criterion), ignored_label=getattr(criterion, "ignore_index", None))
        self.params = dict(model.named_parameters())
        self.unregistered = unregistered_tensors(model)
        self.seen.unregistered = set(self.unregistered)
        # a loss with weights of its own (CosFace / ArcFace class centres, a learned temperature): the optimizer
        # built on model.parameters() leaves them out
        self.criterion_params = {f"criterion.{n}": p for n, p in criterion.named_parameters()} \
            if isinstance(criterion, nn.Module) else {}
        self.modal = [(n, m) for n, m in model.named_modules() if isinstance(m, MODAL)
                      and not (isinstance(m, DROPOUT) and m.p == 0)]
        total = sum(p.numel() for p in self.params.values())
        frozen = sum(p.numel() for p in self.params.values() if not p.requires_grad)
        # Freezing most of a model (fine-tuning a backbone, adapters) is deliberate; one layer is not.
        self.frozen_modules = [] if frozen * 2 >= total else [
            (n, m) for n, m in model.named_modules()
            if (own := list(m.parameters(recurse=False))) and not any(p.requires_grad for p in own)]
        self.first_layer = next(((n, m) for n, m in model.named_modules()
                                 if n and layer_kind(m) in ("linear", "conv")), None)
        self.due = True
        self.armed = False
        self.surveying = False  # this check also looks at the input's scale and the criterion's inputs
        self.distributions_every = distributions_every
        self._next_distributions = 0  # the first check at or after this step records distributions
        self.paused = False
        self.last_args: tuple[Any, ...] | None = None
        self._handles: list[Any] = []
        self._temporary: list[Any] = []
        self._grad_seen: set[str] = set()
        self._first_grad: set[str] = set()
        self._pending: list[tuple[int, torch.Tensor]] = []
        self._step_of_last_loss = -1
        self._scheduler_base = 0
        self._snapshots: dict[str, torch.Tensor] = {}
        self._in_optimizer: set[int] = set()
        self._fresh_orphans: list[str] = []
        by_id = {id(p): n for n, p in self.params.items()}  # param -> its name
        clock = {id(p) for group in self.optimizers[0].param_groups for p in group["params"]}
        self.seen.update_layers = {l.name for l in (probe.layers if probe else [])
                                   if l.weight is not None and id(l.weight) in clock}
        self._probed_weights = {l.index: by_id[id(l.weight)] for l in (probe.layers if probe else [])
                                if l.weight is not None and id(l.weight) in by_id}

    # -- install / remove ----------------------------------------------------------
    def install(self) -> "Observer":
        self._handles.append(self.model.register_forward_pre_hook(self._before_forward))
        self._handles.append(self.model.register_forward_hook(self._after_forward, with_kwargs=True))
        clock = self.optimizers[0]
        self._handles.append(clock.register_step_pre_hook(self._before_step))
        self._handles.append(clock.register_step_post_hook(self._after_step))
        if self.criterion is not None:
            self._handles.append(self.criterion.register_forward_hook(self._after_criterion))
        if self.scheduler is not None:
            self._scheduler_base = int(getattr(self.scheduler, "last_epoch", 0) or 0)
        self._snapshots = {n: subsample(p.detach().reshape(-1), self.sample, run=WEIGHT_RUN)
                           for n, p in self.params.items()
                           if p.requires_grad and id(p) in self.optimizer_ids()}
        self._lr = self._current_lr()
        self.seen.lr_changes.append((0, self._lr))
        return self

    def remove(self) -> None:
        self._disarm()
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Hooks see nothing inside (the watcher's own forward passes)."""
        was = self.paused
        self.paused = True
        try:
            with self.probe.paused() if self.probe is not None else contextlib.nullcontext():
                yield
        finally:
            self.paused = was

    def optimizer_ids(self) -> set[int]:
        return {id(p) for opt in self.optimizers for group in opt.param_groups for p in group["params"]}

    def _current_lr(self) -> float:
        groups = self.optimizers[0].param_groups
        return float(groups[0].get("lr", math.nan)) if groups else math.nan

    # -- forward -------------------------------------------------------------------
    def _before_forward(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if self.paused:
            return
        if torch.is_grad_enabled():
            self.last_args = args
            self.begin_step()
        elif self.modal and self.seen.train_mode_eval is None:
            training = [n for n, m in self.modal if m.training]
            if training:
                self.seen.train_mode_eval = (self.seen.step, training)

    def _after_forward(self, _m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], output: Any) -> None:
        """A model that returns its own loss (``output.loss``, as Hugging Face models do) needs no ``w.loss``."""
        if self.paused or not torch.is_grad_enabled() or self.criterion is not None:
            return
        loss = output.get("loss") if isinstance(output, dict) else getattr(output, "loss", None)
        if isinstance(loss, torch.Tensor) and loss.numel() == 1 and loss.requires_grad:
            labels = kwargs.get("labels")
            self.take_loss(loss, labels if isinstance(labels, torch.Tensor) else None)

    def begin_step(self) -> None:
        """A training step starts: on a check step, arm its hooks (once). Called by the model's forward
        pre-hook and by ``optimizer.step``'s pre-hook; adapters whose framework does not call the
        watched module's forward (Lightning's ``training_step``) call it themselves."""
        if self.due and not self.armed and not self.paused:
            self._arm()

    def _arm(self) -> None:
        """Turn on the check-step hooks for the coming forward and backward pass."""
        self.armed = True
        self._in_optimizer = self.optimizer_ids()
        step = self.seen.step
        # the checks whose record also has the figures' distributions (every distributions_every steps) look at
        # the pipeline as well: the input's scale and what the criterion is given, which do not change from
        # one step to the next the way losses and gradients do
        self.surveying = step >= self._next_distributions
        if self.surveying:
            self._next_distributions = step + self.distributions_every
        if self.probe is not None:
            self.probe.begin_step(distributions=self.surveying)
        in_eval = [n for n, m in self.modal if not m.training and not _frozen(m)]
        if in_eval and not self.seen.eval_mode:
            self.seen.eval_mode.append((step, in_eval))
        if step > 0:
            self._first_grad = set()
            for name, p in self.params.items():
                # a parameter in no optimizer is never zeroed by optimizer.zero_grad(): not-in-optimizer says so;
                # one whose .grad is None now cannot carry an old gradient into this step's backward pass
                if p.requires_grad and p.grad is not None and id(p) in self._in_optimizer:
                    self._temporary.append(p.register_hook(self._grad_hook(name, p)))
        self._fresh_orphans = []
        for name, p in (self.params | self.unregistered | self.criterion_params).items():
            if p.requires_grad and id(p) not in self._in_optimizer:
                self._temporary.append(p.register_hook(self._orphan_hook(name)))
        for name, m in self.frozen_modules:
            self._temporary.append(m.register_forward_pre_hook(self._frozen_hook(name, m)))
        if self.first_layer is not None and self.surveying:
            self._temporary.append(self.first_layer[1].register_forward_pre_hook(self._input_hook))

    def _disarm(self) -> None:
        for handle in self._temporary:
            handle.remove()
        self._temporary.clear()
        self.armed = False

    def _grad_hook(self, name: str, p: nn.Parameter) -> Callable[[torch.Tensor], None]:
        def hook(grad: torch.Tensor) -> None:
            if name in self._first_grad or self.paused:
                return
            self._first_grad.add(name)  # later backward passes of this step accumulate on purpose
            old = p.grad
            if old is not None:
                old_norm = float(old.detach().float().norm())
                if old_norm > 0 and (not self.seen.carried or self.seen.carried[0][0] == self.seen.step):
                    self.seen.carried.append((self.seen.step, name, old_norm, float(grad.detach().float().norm())))
        return hook

    def _orphan_hook(self, name: str) -> Callable[[torch.Tensor], None]:
        def hook(_grad: torch.Tensor) -> None:
            if not self.paused and name not in self._fresh_orphans:
                self._fresh_orphans.append(name)
        return hook

    def _frozen_hook(self, name: str, module: nn.Module) -> Callable[..., None]:
        def hook(_m: nn.Module, args: tuple[Any, ...]) -> None:
            if self.paused or not torch.is_grad_enabled():
                return
            first = self.seen.frozen_flow[0][0] if self.seen.frozen_flow else self.seen.step
            if first == self.seen.step and any(isinstance(a, torch.Tensor) and a.requires_grad for a in args):
                n = sum(p.numel() for p in module.parameters(recurse=False))
                self.seen.frozen_flow.append((self.seen.step, name, n))
        return hook

    def _input_hook(self, _m: nn.Module, args: tuple[Any, ...]) -> None:
        x = args[0] if args else None
        if self.paused or not isinstance(x, torch.Tensor) or not x.is_floating_point() or not x.numel():
            return
        flat = x.detach().float().reshape(-1)
        low, high = torch.aminmax(flat)
        rms, low, high = torch.stack([torch.linalg.vector_norm(flat) / math.sqrt(flat.numel()), low, high]).tolist()
        self.seen.input_scale.append((self.seen.step, rms, max(-low, high)))

    # -- the loss and the labels ---------------------------------------------------------
    def _after_criterion(self, _m: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if self.paused or not torch.is_grad_enabled() or not isinstance(output, torch.Tensor):
            return
        if self.armed and self.surveying and self.seen.loss_output is None and inputs \
                and isinstance(inputs[0], torch.Tensor):
            mismatch = loss_mismatch(self.criterion, inputs[0])
            if mismatch is not None:
                self.seen.loss_output = (self.seen.step, mismatch)
        self.take_loss(output, inputs[1] if len(inputs) > 1 else None)

    def take_loss(self, loss: torch.Tensor, y: torch.Tensor | None = None) -> None:
        """The step's loss (and targets): the first one given per optimizer step is kept."""
        step = self.seen.step
        if step == self._step_of_last_loss:
            return
        self._step_of_last_loss = step
        value = loss.detach()
        if value.numel() != 1:
            value = value.float().mean()
        if value.device.type == "cpu":
            v = float(value)
            self.seen.add_loss(step, v)
            if not math.isfinite(v) and self.seen.nonfinite is None:
                self.locate_nonfinite(step, "loss")
        else:
            self._pending.append((step, value))
        if isinstance(y, torch.Tensor) and y.is_floating_point():
            self.seen.class_loss = False  # soft targets (mixup, distillation): their own entropy is the floor
        if isinstance(y, torch.Tensor) and (y.device.type == "cpu" or self.due):
            labels = _class_labels(y)
            if labels is not None:
                self.seen.labels.append(LabelBatch(step, int(labels.numel()), label_counts(labels)))

    def flush_losses(self) -> None:
        """Losses kept on an accelerator, copied to the host in one go (at checks)."""
        if not self._pending:
            return
        values = torch.stack([v.float().reshape(()) for _, v in self._pending]).cpu().tolist()
        steps = [s for s, _ in self._pending]
        self._pending.clear()
        for s, v in zip(steps, values):
            self.seen.add_loss(s, v)
        if self.seen.nonfinite is None and not all(math.isfinite(v) for v in values):
            bad = next(s for s, v in zip(steps, values) if not math.isfinite(v))
            self.seen.nonfinite = {"step": bad, "where": "the loss", "detail": "the loss is NaN/Inf"}

    # -- the optimizer step ---------------------------------------------------------------
    def _before_step(self, _opt: Any, _args: Any, _kwargs: Any) -> None:
        if self.paused:
            return
        self.begin_step()  # optimizer.step(closure) runs the forward pass after this hook
        if self.armed and self.probe is not None:
            self.probe.snapshot_weights()

    def _after_step(self, _opt: Any, _args: Any, _kwargs: Any) -> None:
        if self.paused:
            return
        step = self.seen.step
        self.count_scheduler_steps()
        lr = self._current_lr()
        if lr != self._lr:
            self._lr = lr
            self.seen.lr_changes.append((step + 1, lr))
        checked = self.armed
        if checked:
            self._collect(step)
            self._disarm()
        self.seen.step += 1
        self.due = self.seen.step % self.every == 0
        if checked:
            self.seen.checks.append(step)
            self.flush_losses()
            if self.on_check is not None:
                self.on_check(step)

    def count_scheduler_steps(self) -> None:
        """``scheduler.step()`` calls so far, read from the scheduler's own counter (``last_epoch``)."""
        if self.scheduler is not None:
            calls = int(getattr(self.scheduler, "last_epoch", 0) or 0) - self._scheduler_base
            while len(self.seen.scheduler_calls) < calls:
                self.seen.scheduler_calls.append(self.seen.step)

    def _collect(self, step: int) -> None:
        """The check step's probe record, gradient norms, orphans and unchanged parameters."""
        known: dict[str, float] = {}
        if self.probe is not None:
            self.probe.read_weight_grads()
            record = self.probe.end_step(step)
            self.seen.add_record(record)
            known = self._probed_grad_norms(record)
        with_grad = [(n, p) for n, p in self.params.items() if p.grad is not None and n not in known]
        norms = torch.stack(torch._foreach_norm([p.grad.detach().float() for _, p in with_grad])).tolist() \
            if with_grad else []
        self.seen.grad_norms = known | dict(zip((n for n, _ in with_grad), norms))
        self._grad_seen.update(n for n, v in self.seen.grad_norms.items() if v != 0)
        # a gradient that arrived in this step (a .grad left from before, e.g. by pretraining, does not count)
        self.seen.orphans = list(self._fresh_orphans)
        for name in list(self._snapshots):
            p = self.params[name]
            if not torch.equal(subsample(p.detach().reshape(-1), self.sample, run=WEIGHT_RUN), self._snapshots[name]):
                del self._snapshots[name]
        self.seen.unchanged = {n: self._why_unchanged(n) for n in self._snapshots}
        if self.seen.nonfinite is None:
            bad = [n for n, v in self.seen.grad_norms.items() if not math.isfinite(v)]
            if bad or (self.seen.records and _nonfinite_layer(self.seen.records[-1]) is not None):
                self.locate_nonfinite(step, "gradients" if bad else "activations")

    def _probed_grad_norms(self, record: ProbeRecord) -> dict[str, float]:
        """Gradient norms of the probed weights, from the record's moments (no second pass over them):
        ``||g|| = sqrt(n (var + mean^2))``, infinite where the gradient holds NaN/Inf."""
        out = {}
        for layer in record.layers:
            g = layer.weight_grad
            name = self._probed_weights.get(layer.index)
            if g is None or name is None:
                continue
            n = self.params[name].numel()
            out[name] = math.inf if g.nan_count or g.inf_count else math.sqrt(n * max(g.var + g.mean ** 2, 0.0))
        return out

    def _why_unchanged(self, name: str) -> str:
        p = self.params[name]
        lr = next((g.get("lr") for opt in self.optimizers for g in opt.param_groups
                   if any(q is p for q in g["params"])), None)
        if lr == 0:
            return "its optimizer group's learning rate is 0"
        if name not in self._grad_seen:
            return ("it never received a gradient (not used in the forward pass, or used through .detach() / "
                    ".data)") if name not in self.seen.grad_norms else "its gradient is always exactly 0"
        g, size = self.seen.grad_norms.get(name, 0.0), float(p.detach().float().norm())
        if lr is not None and 0 < lr * g < 1e-6 * max(size, 1e-12):
            return (f"its gradients are too small to move it (norm {g:.2g}): a bias right before batch norm "
                    "gets almost none and does nothing (use bias=False there)")
        return "it received gradients, but optimizer.step() did not change it"

    # -- where NaN / Inf first appears --------------------------------------------------------
    def locate_nonfinite(self, step: int, noticed_in: str) -> None:
        """Name the first parameter, module output or gradient that holds NaN/Inf."""
        found: dict[str, Any] = {"step": step, "noticed_in": noticed_in}
        bad_param = next((n for n, p in self.params.items() if not bool(torch.isfinite(p.detach()).all())), None)
        if bad_param is not None:
            found |= {"where": f"parameter '{bad_param}'", "detail": f"the weights of '{bad_param}' hold NaN/Inf"}
        elif noticed_in == "gradients" or (noticed_in == "activations" and self.seen.records):
            found |= _from_record(self.seen.records[-1]) if self.seen.records else {}
            if "where" not in found:
                bad = next(n for n, v in self.seen.grad_norms.items() if not math.isfinite(v))
                found |= {"where": f"the gradient of '{bad}'",
                          "detail": f"the forward pass is finite; the gradient of '{bad}' holds NaN/Inf"}
        elif self.last_args is not None:
            found |= self._replay()
        found.setdefault("where", noticed_in)
        found.setdefault("detail", f"NaN/Inf in {noticed_in}")
        self.seen.nonfinite = found

    def _replay(self) -> dict[str, Any]:
        """Run the last training forward pass again, watching every module's output."""
        first: list[str] = []

        def hook(name: str) -> Callable[..., None]:
            def check(_m: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
                if not first and not _all_finite(output) and _all_finite(inputs):
                    first.append(name)
            return check

        args = tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in self.last_args or ())
        if not _all_finite(args):
            return {"where": "the input batch", "detail": "the batch given to the model already holds NaN/Inf "
                                                          "(check the data and its preprocessing)"}
        buffers = [b.detach().clone() for b in self.model.buffers()]
        devices = sorted({p.device.index for p in self.params.values() if p.device.type == "cuda"})
        handles = [m.register_forward_hook(hook(n or type(m).__name__)) for n, m in self.model.named_modules()]
        try:
            with self.pause(), torch.random.fork_rng(devices=devices), torch.no_grad():
                out = self.model(*args)
        except Exception as exc:  # a forward pass that fails on its own is the user's to see, not ours
            return {"detail": f"the forward pass could not be replayed ({type(exc).__name__})"}
        finally:
            for h in handles:
                h.remove()
            for saved, b in zip(buffers, self.model.buffers()):
                b.copy_(saved)
        if first:
            kind = type(self.model.get_submodule(first[0])).__name__ if first[0] in dict(
                self.model.named_modules()) else ""
            return {"where": f"module '{first[0]}'", "module_type": kind,
                    "detail": f"the output of '{first[0]}' ({kind}) is the first to hold NaN/Inf while its "
                              f"inputs are finite"}
        if _all_finite(out):
            return {"where": "the loss", "detail": "the model's outputs are finite; the loss computed from them "
                                                    "is NaN/Inf (a log or a division of 0?)"}
        return {"where": "the model's output", "detail": "the model's output holds NaN/Inf"}


def unregistered_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """Leaf tensors that require gradients but are not the model's parameters, by name: plain tensor
    attributes (``self.w = torch.randn(..., requires_grad=True)`` instead of ``nn.Parameter``) and the
    parameters of modules kept in a Python list, tuple or dict (instead of ``nn.ModuleList`` / ``ModuleDict``),
    one container deep. ``model.parameters()`` leaves them out, and so does an optimizer built from it."""
    owned = {id(p) for p in model.parameters()}
    registered = {id(m) for m in model.modules()}
    found: dict[str, torch.Tensor] = {}

    def take(name: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            if value.requires_grad and value.is_leaf and id(value) not in owned:
                found.setdefault(name, value)
                owned.add(id(value))
        elif isinstance(value, nn.Module) and id(value) not in registered:
            for p_name, p in value.named_parameters():
                take(f"{name}.{p_name}", p)

    for prefix, module in model.named_modules():
        for attr, value in vars(module).items():
            name = f"{prefix}.{attr}" if prefix else attr
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    take(f"{name}[{i}]", item)
            elif isinstance(value, dict) and attr not in ("_parameters", "_buffers", "_modules"):
                for key, item in value.items():
                    take(f"{name}[{key!r}]", item)
            else:
                take(name, value)
    return found


def is_class_loss(criterion: nn.Module | None) -> bool:
    """Whether ``criterion`` is a plain mean cross-entropy over class labels (``CrossEntropyLoss`` or
    ``NLLLoss`` with neither class weights nor a sum), whose value can be read against label entropy."""
    return (isinstance(criterion, (nn.CrossEntropyLoss, nn.NLLLoss)) and criterion.reduction == "mean"
            and criterion.weight is None)


def loss_mismatch(criterion: nn.Module, scores: torch.Tensor) -> str | None:
    """What is wrong with giving ``scores`` to ``criterion``, or None: probabilities (rows in [0, 1] summing
    to 1) into ``CrossEntropyLoss``, which applies log-softmax itself; values in [0, 1] into ``NLLLoss``, which
    expects log-probabilities (all <= 0)."""
    if not scores.is_floating_point() or scores.dim() < 2 or scores.shape[1] < 2 or not scores.numel():
        return None
    if isinstance(criterion, nn.CrossEntropyLoss) and are_probabilities(scores, 1):
        return ("the scores given to CrossEntropyLoss are already probabilities (each row in [0, 1], summing to "
                "1): it applies log-softmax again, so its inputs span at most 1 and the loss can barely fall "
                "(a softmax at the end of the model?)")
    if isinstance(criterion, nn.NLLLoss):
        s = scores.detach()
        if bool(((s >= 0) & (s <= 1)).all()) and bool((s > 0).any()):
            return ("NLLLoss is given values in [0, 1], probabilities, where it expects log-probabilities "
                    "(all <= 0): it then maximizes the wrong quantity (a softmax where log_softmax was meant?)")
    return None


def _frozen(m: nn.Module) -> bool:
    """A batch norm whose parameters are all frozen (or that has none) kept in eval mode on purpose."""
    own = list(m.parameters(recurse=False))
    return isinstance(m, nn.modules.batchnorm._BatchNorm) and own != [] and not any(p.requires_grad for p in own)


def _all_finite(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return not value.is_floating_point() or bool(torch.isfinite(value).all())
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    return True


def _class_labels(y: torch.Tensor) -> torch.Tensor | None:
    """Class indices from targets: integer labels, one-hot / probability rows, or 0/1 floats; else None."""
    y = y.detach()
    if y.dim() == 1 and not y.is_floating_point() and y.dtype != torch.bool:
        return y.cpu()
    if y.dim() == 2 and y.is_floating_point() and y.shape[1] > 1 and bool((y >= 0).all()) \
            and bool(torch.allclose(y.sum(1), torch.ones((), dtype=y.dtype, device=y.device), atol=1e-3)):
        return y.argmax(1).cpu()  # one-hot or probability rows
    if y.dim() == 1 and y.is_floating_point() and bool(((y == 0) | (y == 1)).all()):
        return y.long().cpu()
    return None


SMALL_BATCH = 4096
"""Label batches up to this size are counted in Python: ``unique`` on a small tensor, right after a training
step's large parallel operations, cost 0.15 ms on two threads (waking the thread pool for a sort of 128 values)."""


def label_counts(labels: torch.Tensor) -> dict[int, int]:
    """``{label: count}`` of a 1-D tensor of class labels on the CPU, in label order."""
    if labels.numel() <= SMALL_BATCH:
        return dict(sorted(collections.Counter(labels.tolist()).items()))
    values, counts = labels.unique(return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))


def _nonfinite_layer(record: ProbeRecord) -> str | None:
    for layer in record.layers:
        for q in (layer.activation, layer.backprop_grad, layer.weight_grad):
            if q is not None and (q.nan_count or q.inf_count):
                return layer.name
    return None


def _from_record(record: ProbeRecord) -> dict[str, Any]:
    """Where a probe record first shows NaN/Inf: activations in forward order, then gradients from the output back."""
    for layer in record.layers:
        a = layer.activation
        if a is not None and (a.nan_count or a.inf_count):
            return {"where": f"module '{layer.name}'",
                    "detail": f"the output of '{layer.name}' is the first probed activation to hold NaN/Inf"}
    for layer in reversed(record.layers):
        g = layer.backprop_grad
        if g is not None and (g.nan_count or g.inf_count):
            return {"where": f"the gradient at '{layer.name}'",
                    "detail": f"the forward pass is finite; going back from the loss, the gradient of the output "
                              f"of '{layer.name}' is the first to hold NaN/Inf"}
    return {}

"""The probe: forward hooks on chosen layers, as a context manager that always removes them.

Two ways to record:

* :meth:`Probe.measure` runs one forward and backward pass on a given batch
  (the fixed probe batch) in the model's current mode. Gradients come from
  :func:`torch.autograd.grad`, so no ``param.grad`` is touched, and buffers
  (batch-norm running statistics) are restored afterwards: the model is left
  exactly as it was.
* :meth:`Probe.begin_step` / :meth:`after_backward` / :meth:`end_step` record
  the training batch from the training step's own passes: the hooks reduce each
  activation as it is produced and a tensor hook reduces its gradient during
  ``loss.backward()``. Between steps the hooks only check a flag.

Every statistic is reduced on the model's device (:mod:`trainlab.probe.stats`):
each tensor is read once where it is produced, the kept subsamples of all
layers are sorted together when the record is made, and one record costs one
device-to-host copy.

The update-to-weight ratio of a training step, ``||W_after - W_before|| /
||W_before||``, works with any optimizer without copying the weights: it is
measured on the fixed subsample of ``config.sample`` coordinates of each
weight (:func:`trainlab.probe.stats.sample_index`, in runs of ``WEIGHT_RUN``
consecutive coordinates), exactly when the weight has no more coordinates than
that. With dense updates its relative error is of order
``1 / sqrt(sample / WEIGHT_RUN)`` at worst (about 5% at 8192).
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import nn

from trainlab.probe.config import ProbeConfig
from trainlab.probe.layers import LayerInfo, resolve_layers
from trainlab.probe.records import LayerStats, ProbeRecord
from trainlab.probe.stats import (
    GRADIENT,
    WEIGHT_RUN,
    Partial,
    Pending,
    Spec,
    TensorStats,
    decode,
    estimate,
    finish,
    moments_of,
    moments_only,
    pending,
    resolve,
    subsample,
    summarize,
    width,
)

N_FLAGS = 5  # has activation, backprop grad, weight grad, update ratio, jacobian
MAX_JACOBIAN_UNITS = 4096

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Probe:
    """Per-layer statistics of activations and gradients of any ``nn.Module``.

    ``layers``: module names (``model.named_modules()``) or None to find
    nonlinearities, Linear/Conv and norm layers by type. A module called several
    times in one forward pass is recorded at its first call.
    """

    def __init__(self, model: nn.Module, layers: Sequence[str] | None = None,
                 config: ProbeConfig | None = None) -> None:
        self.model = model
        self.config = config or ProbeConfig()
        self.layers: list[LayerInfo] = resolve_layers(model, layers)
        self.specs: list[Spec] = [Spec.for_activation(l.activation_fn, self.config.saturation_threshold)
                                  if l.kind == "activation" else GRADIENT for l in self.layers]
        self._handles: list[Any] = []
        self._mode: str | None = None  # None (idle), "measure", "stream", "capture"
        self._quiet = frozenset(l.index for l in self.layers if l.kind != "activation") \
            if self.config.outputs == "activations" else frozenset()
        self.last_rows: list[list[float]] = []
        self._reset()

    # -- context manager ----------------------------------------------------------
    def __enter__(self) -> "Probe":
        for layer in self.layers:
            self._handles.append(layer.module.register_forward_hook(self._hook(layer.index)))
        return self

    def __exit__(self, *exc: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._mode = None
        self._reset()

    def _reset(self) -> None:
        n = len(self.layers)
        self._distributions = True  # False: this step's record keeps moments and fractions only (begin_step)
        self._act: list[Partial | Pending | None] = [None] * n
        self._back: list[Partial | None] = [None] * n
        self._wgrad: list[Partial | None] = [None] * n
        self._update: list[torch.Tensor | None] = [None] * n
        self._jac: list[torch.Tensor | None] = [None] * n
        self._outputs: list[torch.Tensor | None] = [None] * n  # kept for measure's and capture's own backward
        self._called = [False] * n
        self._order: list[int] = []
        self._before: list[torch.Tensor | None] = [None] * n

    def _hook(self, index: int):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if self._mode is None or not isinstance(output, torch.Tensor) or self._called[index]:
                return
            self._called[index] = True
            self._order.append(index)
            if self._mode != "stream":  # a training step's outputs are not held: autograd frees them as it goes
                self._outputs[index] = output
            if self._mode == "capture" or index in self._quiet:
                return
            spec = self.specs[index]
            # a moments-only record keeps the activation's subsample and reduces all of them at the record
            self._act[index] = summarize(output, spec, sample=self.config.sample) if self._distributions else \
                pending(output, spec, sample=self.config.sample)
            if self._mode == "stream" and output.requires_grad and self._distributions:
                output.register_hook(self._grad_hook(index))
        return hook

    def _grad_hook(self, index: int):
        def hook(grad: torch.Tensor) -> None:
            if self._back[index] is None:
                self._back[index] = self._reduce(grad, GRADIENT)
        return hook

    def _reduce(self, t: torch.Tensor, spec: Spec) -> Partial:
        if not self._distributions:
            return estimate(t, spec, sample=self.config.sample)
        return summarize(t, spec, sample=self.config.sample)

    def _require_open(self) -> None:
        if not self._handles:
            raise RuntimeError("use the probe inside `with Probe(model) as probe:`")

    # -- a fixed batch ------------------------------------------------------------
    def measure(self, x: torch.Tensor, y: torch.Tensor | None = None, loss_fn: LossFn | None = None, *,
                step: int = 0, lr: float | None = None, source: str = "probe") -> ProbeRecord:
        """Statistics of one forward (and, with ``y`` and ``loss_fn``, backward) pass on ``(x, y)``.

        Parameters, ``param.grad`` and buffers are left as they were. Without a
        loss only activations are recorded. ``lr`` turns on the update-ratio
        estimate ``lr * ||dL/dW|| / ||W||`` (plain SGD's step).
        """
        self._require_open()
        buffers = [b.detach().clone() for b in self.model.buffers()]
        self._reset()
        self._mode = "measure"
        try:
            with torch.enable_grad() if loss_fn is not None else torch.no_grad():
                scores = self.model(x)
                if loss_fn is not None and y is not None:
                    self._backward(loss_fn(scores, y), lr)
            if self.config.jacobian:
                self._jacobians(x[: self.config.jacobian_examples])
            return self._record(step, source)
        finally:
            self._mode = None
            for saved, buffer in zip(buffers, self.model.buffers()):
                buffer.copy_(saved)
            self._reset()

    def _backward(self, loss: torch.Tensor, lr: float | None) -> None:
        outs = [(i, o) for i, o in enumerate(self._outputs)
                if o is not None and o.requires_grad and i not in self._quiet]
        weights = [(l.index, l.weight) for l in self.layers if l.weight is not None]
        tensors = [o for _, o in outs] + [w for _, w in weights]
        if not tensors:
            return
        grads = torch.autograd.grad(loss, tensors, allow_unused=True)
        for (i, _), g in zip(outs, grads[: len(outs)]):
            if g is not None:
                self._back[i] = self._reduce(g, GRADIENT)
        for (i, w), g in zip(weights, grads[len(outs):]):
            if g is not None:
                self._wgrad[i] = self._reduce(g, GRADIENT)
                if lr is not None:
                    self._update[i] = lr * g.detach().float().norm() / w.detach().float().norm()

    def _jacobians(self, x: torch.Tensor) -> None:
        """Mean singular value of d a_k / d a_(k-1) between consecutive activation layers, per example."""
        kept = (self._act, self._back, self._wgrad, self._update)
        self._outputs = [None] * len(self.layers)
        self._called = [False] * len(self.layers)
        self._order = []
        self._mode = "capture"
        with torch.enable_grad():
            x = x.detach().clone().requires_grad_(True)
            self.model(x)
        self._act, self._back, self._wgrad, self._update = kept
        chain = [i for i in self._order if self.layers[i].kind == "activation"]
        for prev, cur in zip(chain, chain[1:]):
            out, inp = self._outputs[cur], self._outputs[prev]
            units = out[0].numel()
            if units > MAX_JACOBIAN_UNITS or inp[0].numel() > MAX_JACOBIAN_UNITS or not out.requires_grad:
                continue
            eye = torch.eye(units, device=out.device, dtype=out.dtype).reshape(units, 1, *out.shape[1:])
            basis = eye.expand(units, *out.shape).contiguous()
            (jac,) = torch.autograd.grad(out, inp, basis, retain_graph=True, is_grads_batched=True)
            per_example = jac.reshape(units, out.shape[0], -1).transpose(0, 1)  # [examples, out, in]
            self._jac[cur] = mean_singular_value(per_example)

    # -- the training batch --------------------------------------------------------
    def begin_step(self, *, distributions: bool = True) -> None:
        """Arm the hooks for the coming training forward/backward pass.

        ``distributions=False`` records the moments and fractions of activations and weight gradients,
        estimated on their subsamples (:func:`trainlab.probe.stats.estimate`), and the update ratios, and
        skips what only figures read: back-propagated gradients, percentiles and histograms (no tensor
        hooks, no sort); the record says so in ``distributions``.
        """
        self._require_open()
        self._reset()
        self._mode = "stream"
        self._distributions = distributions

    def after_backward(self, *, track_update: bool = True) -> None:
        """Reduce weight gradients (in ``param.grad``) and keep the weights' subsample to measure the update."""
        self._mode = None
        self.read_weight_grads()
        if track_update:
            self.snapshot_weights(with_grad_only=True)

    def read_weight_grads(self) -> None:
        """Reduce the weight gradients now in ``param.grad`` (after backward; optimizers leave them as they are)."""
        sampled = self.config.sampled_weight_grads
        grads = [(layer.index, layer.weight.grad) for layer in self.layers
                 if layer.weight is not None and layer.weight.grad is not None]
        if sampled and not self._distributions:  # moments only: every layer's sample reduced at once
            for (i, _), partial in zip(grads, moments_of([self._weight_sample(g) for _, g in grads], GRADIENT)):
                self._wgrad[i] = partial
            return
        for i, g in grads:
            if sampled:  # the sample is all there is to summarize: no second subsample of it
                self._wgrad[i] = summarize(self._weight_sample(g), GRADIENT, sample=self.config.sample,
                                           keep_sample=self._distributions)
            else:
                self._wgrad[i] = self._reduce(g, GRADIENT)

    def snapshot_weights(self, *, with_grad_only: bool = False) -> None:
        """Keep each weight's subsample, before ``optimizer.step()``, for :meth:`end_step`'s update ratio.

        A step that runs its forward and backward inside ``optimizer.step(closure)`` can take the
        snapshot before the closure runs: the forward and backward passes do not change the weights.
        """
        for layer in self.layers:
            w = layer.weight
            if w is not None and (w.grad is not None or not with_grad_only):
                self._before[layer.index] = self._weight_sample(w)

    def _weight_sample(self, w: torch.Tensor) -> torch.Tensor:
        """A weight's (or its gradient's) fixed subsample, in float32 (runs of ``WEIGHT_RUN`` values)."""
        return subsample(w.detach().reshape(-1), self.config.sample, run=WEIGHT_RUN).float()

    def end_step(self, step: int) -> ProbeRecord:
        """After ``optimizer.step()``: the update ratios (on the weights' subsample), then the record."""
        self._mode = None
        kept = [(layer.index, before, layer.module.weight) for layer in self.layers
                if (before := self._before[layer.index]) is not None]
        if kept:  # one foreach call per operation, not one per layer
            before = [b for _, b, _ in kept]
            after = [self._weight_sample(w) for _, _, w in kept]
            moved = torch._foreach_norm(torch._foreach_sub(after, before))
            for (i, _, _), ratio in zip(kept, torch._foreach_div(moved, torch._foreach_norm(before))):
                self._update[i] = ratio
        try:
            return self._record(step, "train")
        finally:
            self._reset()

    def cancel(self) -> None:
        self._mode = None
        self._reset()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing inside (an extra forward pass of someone else's), then carry on as before."""
        mode, self._mode = self._mode, None
        try:
            yield
        finally:
            self._mode = mode

    # -- assembling ---------------------------------------------------------------
    def _record(self, step: int, source: str) -> ProbeRecord:
        """Every layer's row, from one :func:`finish` over all partials and one host copy.

        Row layout: ``N_FLAGS`` presence flags, three ``width(bins)`` blocks
        (activation, backprop grad, weight grad; NaN when absent), update ratio, Jacobian.
        """
        if not self._distributions:
            return self._moments_record(step, source)
        n = len(self.layers)
        blocks = (self._act, self._back, self._wgrad)
        present = [(k, i) for k, block in enumerate(blocks) for i in range(n) if block[i] is not None]
        scalars = [(k, i, v) for k, block in enumerate((self._update, self._jac)) for i, v in enumerate(block)
                   if v is not None]
        stats = finish([blocks[k][i] for k, i in present], bins=self.config.bins)
        values = [v.reshape(1).float().to(stats.device) for _, _, v in scalars]
        flat = torch.cat([stats.reshape(-1), *values]).cpu().tolist()  # the one host copy of this record
        w = width(self.config.bins)
        nan_block = [float("nan")] * w
        table = [[0.0] * N_FLAGS + nan_block * 3 + [float("nan")] * 2 for _ in range(n)]
        for row, (k, i) in enumerate(present):
            table[i][k] = 1.0
            table[i][N_FLAGS + k * w: N_FLAGS + (k + 1) * w] = flat[row * w: (row + 1) * w]
        for j, (k, i, _) in enumerate(scalars):
            table[i][3 + k] = 1.0
            table[i][N_FLAGS + 3 * w + k] = flat[len(present) * w + j]
        self.last_rows = table  # kept for writers of the probe file
        return ProbeRecord(step, source, [self.decode_row(i, row) for i, row in enumerate(table)])

    def _moments_record(self, step: int, source: str) -> ProbeRecord:
        """A moments-only record straight from the partials (host floats on the CPU path): no rows, one host
        copy of what is still on the device (the update ratios, a GPU's scalars)."""
        waiting = [i for i, a in enumerate(self._act) if isinstance(a, Pending)]
        for i, partial in zip(waiting, resolve([self._act[i] for i in waiting])):
            self._act[i] = partial
        per_layer = [(self._act[i], self._wgrad[i], self._update[i], self._jac[i]) for i in range(len(self.layers))]
        on_device = [t.reshape(-1).float() for layer in per_layer for t in
                     (*(p.scalars for p in layer[:2] if p is not None and not isinstance(p.scalars, list)),
                      *(v for v in layer[2:] if v is not None))]
        host = iter(torch.cat(on_device).tolist() if on_device else [])

        def stats(p: Partial | None, spec: Spec) -> TensorStats | None:
            if p is None:
                return None
            return moments_only(p.scalars if isinstance(p.scalars, list) else [next(host) for _ in range(6)], spec)

        layers = []
        for info, (act, wgrad, update, jac) in zip(self.layers, per_layer):
            a, g = stats(act, self.specs[info.index]), stats(wgrad, GRADIENT)
            layers.append(LayerStats(info.name, info.index, info.kind, info.activation_fn, a, None, g,
                                     next(host) if update is not None else None,
                                     next(host) if jac is not None else None))
        self.last_rows = []  # nothing for the probe file: it keeps records with distributions
        return ProbeRecord(step, source, layers, distributions=False)

    def decode_row(self, index: int, row: list[float]) -> LayerStats:
        return decode_layer(self.layers[index], self.specs[index], row, self.config.bins)

    @property
    def row_width(self) -> int:
        return N_FLAGS + 3 * width(self.config.bins) + 2


def decode_layer(layer: Any, spec: Spec, row: Sequence[float], bins: int) -> LayerStats:
    """A :class:`LayerStats` from one host row (see :meth:`Probe._record` for the layout)."""
    w = width(bins)
    flags = [bool(f) for f in row[:N_FLAGS]]
    blocks = [row[N_FLAGS + k * w: N_FLAGS + (k + 1) * w] for k in range(3)]
    specs = (spec, GRADIENT, GRADIENT)
    stats = [decode(list(b), s, bins=bins) if f else None for b, s, f in zip(blocks, specs, flags)]
    scalars = [float(row[N_FLAGS + 3 * w + k]) if flags[3 + k] else None for k in range(2)]
    return LayerStats(layer.name, layer.index, layer.kind, layer.activation_fn, *stats, *scalars)


def mean_singular_value(jac: torch.Tensor) -> torch.Tensor:
    """Mean over examples of the mean singular value of each ``[out, in]`` matrix in ``jac``.

    ``torch.linalg.svdvals`` (singular values only); on CPU it measured about
    ten times faster than the eigenvalues of ``J J^T`` for 1000 x 1000 matrices.
    """
    return torch.linalg.svdvals(jac.float()).mean(dim=1).mean()

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

Every statistic is reduced on the model's device (:mod:`trainlab.probe.stats`);
one record costs one device-to-host copy.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

from trainlab.probe.config import ProbeConfig
from trainlab.probe.layers import LayerInfo, resolve_layers
from trainlab.probe.records import LayerStats, ProbeRecord
from trainlab.probe.stats import GRADIENT, Spec, decode, reduce_tensor, width

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
        self.last_rows: list[list[float]] = []
        self._weight_copies: dict[int, torch.Tensor] = {}  # reused every step: no allocation per record
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
        self._weight_copies.clear()
        self._mode = None
        self._reset()

    def _reset(self) -> None:
        n = len(self.layers)
        self._act: list[torch.Tensor | None] = [None] * n
        self._back: list[torch.Tensor | None] = [None] * n
        self._wgrad: list[torch.Tensor | None] = [None] * n
        self._update: list[torch.Tensor | None] = [None] * n
        self._jac: list[torch.Tensor | None] = [None] * n
        self._outputs: list[torch.Tensor | None] = [None] * n
        self._order: list[int] = []
        self._before: list[torch.Tensor | None] = [None] * n

    def _hook(self, index: int):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if self._mode is None or not isinstance(output, torch.Tensor) or self._outputs[index] is not None:
                return
            self._outputs[index] = output
            self._order.append(index)
            if self._mode == "capture":
                return
            self._act[index] = self._reduce(output, self.specs[index])
            if self._mode == "stream" and output.requires_grad:
                output.register_hook(self._grad_hook(index))
        return hook

    def _grad_hook(self, index: int):
        def hook(grad: torch.Tensor) -> None:
            if self._back[index] is None:
                self._back[index] = self._reduce(grad, GRADIENT)
        return hook

    def _reduce(self, t: torch.Tensor, spec: Spec) -> torch.Tensor:
        return reduce_tensor(t, spec, bins=self.config.bins, sample=self.config.sample)

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
        outs = [(i, o) for i, o in enumerate(self._outputs) if o is not None and o.requires_grad]
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
                    self._update[i] = (lr * g.detach().float().norm() / w.detach().float().norm()).reshape(1)

    def _jacobians(self, x: torch.Tensor) -> None:
        """Mean singular value of d a_k / d a_(k-1) between consecutive activation layers, per example."""
        kept = (self._act, self._back, self._wgrad, self._update)
        self._outputs = [None] * len(self.layers)
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
            self._jac[cur] = mean_singular_value(per_example).reshape(1)

    # -- the training batch --------------------------------------------------------
    def begin_step(self) -> None:
        """Arm the hooks for the coming training forward/backward pass."""
        self._require_open()
        self._reset()
        self._mode = "stream"

    def after_backward(self, *, track_update: bool = True) -> None:
        """Reduce weight gradients (in ``param.grad``) and keep the weights to measure the update."""
        self._mode = None
        for layer in self.layers:
            w = layer.weight
            if w is not None and w.grad is not None:
                self._wgrad[layer.index] = self._reduce(w.grad, GRADIENT)
                if track_update:
                    copy = self._weight_copies.get(layer.index)
                    if copy is None or copy.shape != w.shape or copy.device != w.device:
                        copy = self._weight_copies[layer.index] = torch.empty_like(w, requires_grad=False)
                    self._before[layer.index] = copy.copy_(w.detach())

    def end_step(self, step: int) -> ProbeRecord:
        """After ``optimizer.step()``: the update ratios, then the record of this step."""
        for layer in self.layers:
            before = self._before[layer.index]
            if before is not None:
                change = (layer.module.weight.detach() - before).float().norm()
                self._update[layer.index] = (change / before.float().norm()).reshape(1)
        try:
            return self._record(step, "train")
        finally:
            self._reset()

    def cancel(self) -> None:
        self._mode = None
        self._reset()

    # -- assembling ---------------------------------------------------------------
    def _record(self, step: int, source: str) -> ProbeRecord:
        w = width(self.config.bins)
        device = next((t.device for t in self._act if t is not None), torch.device("cpu"))
        nan_block = torch.full((w,), float("nan"), device=device)
        nan1 = torch.full((1,), float("nan"), device=device)
        rows = []
        for i in range(len(self.layers)):
            parts = (self._act[i], self._back[i], self._wgrad[i], self._update[i], self._jac[i])
            flags = torch.tensor([p is not None for p in parts], dtype=torch.float32, device=device)
            rows.append(torch.cat([flags, *(p.to(device) if p is not None else nan_block for p in parts[:3]),
                                   *(p.float().to(device) if p is not None else nan1 for p in parts[3:])]))
        table = torch.stack(rows).cpu().tolist()  # the one host copy of this record
        self.last_rows = table  # kept for writers of the probe file
        return ProbeRecord(step, source, [self.decode_row(i, row) for i, row in enumerate(table)])

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

"""K multilayer perceptrons of one architecture as one batched computation.

Each member is built and initialized by :func:`trainlab.loop.make_model`, so
it starts exactly as it would alone; its parameters are then stacked along a
new leading member axis. A Linear layer ``W [K, out, in]`` maps member inputs
``[K, B, in]`` with one batched matrix product (``torch.baddbmm``). When all
members see the same input (evaluation, or members sharing a seed) the first
layer is a single matrix product against all members' weights at once.
Batch normalization keeps per-member batch statistics and running averages,
with PyTorch's update rule (Ioffe & Szegedy 2015; unbiased variance in the
running estimate, ``momentum = 0.1``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn


@dataclass
class _Linear:
    weight: str
    bias: str | None


@dataclass
class _BatchNorm:
    weight: str
    bias: str
    running_mean: str
    running_var: str
    num_batches: str
    eps: float
    momentum: float | None


class StackedMLP:
    """Parameters and running statistics of K :class:`~trainlab.nn.MLP` members, stacked.

    ``params`` and ``buffers`` map the member's own ``state_dict`` names (e.g.
    ``"1.weight"``) to tensors with a leading member axis, so a member's state
    is ``{name: t[k]}`` and loads into a model built by ``make_model``.
    """

    def __init__(self, models: Sequence[nn.Module], input_shape: tuple[int, ...], device: torch.device) -> None:
        self.input_dims = len(input_shape)
        template = models[0]
        states = [m.state_dict() for m in models]
        params = dict(template.named_parameters())
        self.params: dict[str, torch.Tensor] = {}
        self.buffers: dict[str, torch.Tensor] = {}
        for name, value in states[0].items():
            stacked = torch.stack([s[name] for s in states]).to(device)
            if name in params:
                self.params[name] = stacked.requires_grad_(True)
            else:
                self.buffers[name] = stacked
        self.ops: list[_Linear | _BatchNorm | Callable[[torch.Tensor], torch.Tensor] | None] = []  # None: flatten
        self.weight_names: list[str] = []
        for name, module in template.named_children():
            if isinstance(module, nn.Flatten):
                self.ops.append(None)
            elif isinstance(module, nn.Linear):
                self.ops.append(_Linear(f"{name}.weight", f"{name}.bias" if module.bias is not None else None))
                self.weight_names.append(f"{name}.weight")
            elif isinstance(module, nn.BatchNorm1d):
                self.ops.append(_BatchNorm(f"{name}.weight", f"{name}.bias", f"{name}.running_mean",
                                           f"{name}.running_var", f"{name}.num_batches_tracked", module.eps,
                                           module.momentum))
            else:  # an elementwise activation
                self.ops.append(module)

    @property
    def size(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def forward(self, x: torch.Tensor, *, train: bool) -> torch.Tensor:
        """Scores ``[K, B, C]`` for member inputs ``x [K, B, ...]`` or one shared input ``[B, ...]``."""
        shared = x.dim() == self.input_dims + 1
        for op in self.ops:
            if op is None:
                x = x.flatten(1) if shared else x.flatten(2)
            elif isinstance(op, _Linear):
                x = self.linear(op, x, shared)
                shared = False
            elif isinstance(op, _BatchNorm):
                x = self._batch_norm(op, x, train)
            else:
                x = op(x)
        return x

    __call__ = forward

    def linear(self, op: _Linear, x: torch.Tensor, shared: bool) -> torch.Tensor:
        """``x W^T + b`` per member; ``x`` is ``[K, B, in]``, or ``[B, in]`` shared by all members."""
        w = self.params[op.weight]
        b = self.params[op.bias][:, None, :] if op.bias else None
        if shared:  # one GEMM against every member's weights: [B, in] x [in, K*out]
            k, out, _ = w.shape
            y = (x @ w.reshape(k * out, -1).t()).view(x.shape[0], k, out).transpose(0, 1)
            return y + b if b is not None else y
        if b is None:
            return torch.bmm(x, w.transpose(1, 2))
        return torch.baddbmm(b, x, w.transpose(1, 2))

    def _batch_norm(self, op: _BatchNorm, x: torch.Tensor, train: bool) -> torch.Tensor:
        gamma = self.params[op.weight][:, None, :]
        beta = self.params[op.bias][:, None, :]
        if train:
            mean = x.mean(1, keepdim=True)
            var = x.var(1, unbiased=False, keepdim=True)
            n = x.shape[1]
            with torch.no_grad():
                count = self.buffers[op.num_batches]
                count.add_(1)
                # momentum None is PyTorch's cumulative average
                factor = op.momentum if op.momentum is not None else 1.0 / float(count[0])
                rm, rv = self.buffers[op.running_mean], self.buffers[op.running_var]
                rm.mul_(1 - factor).add_(mean[:, 0], alpha=factor)
                rv.mul_(1 - factor).add_(var[:, 0] * (n / max(n - 1, 1)), alpha=factor)
        else:
            mean = self.buffers[op.running_mean][:, None, :]
            var = self.buffers[op.running_var][:, None, :]
        return (x - mean) * torch.rsqrt(var + op.eps) * gamma + beta

    def weight_norms(self) -> torch.Tensor:
        """``sum ||W||^2`` over each member's weight matrices: ``[K]`` (the L2 term of train.py).

        Without autograd (the hand-written backward) it is one pass per matrix
        (``vector_norm``) rather than a squared copy and a sum: a third of the time.
        """
        if torch.is_grad_enabled():
            return sum(self.params[n].pow(2).sum((1, 2)) for n in self.weight_names)
        return sum(torch.linalg.vector_norm(self.params[n], dim=(1, 2)).square() for n in self.weight_names)

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the members at positions ``keep`` (drops frozen members from the computation)."""
        self.params = {n: p.detach()[keep].requires_grad_(True) for n, p in self.params.items()}
        self.buffers = {n: b[keep] for n, b in self.buffers.items()}

    def member_state(self, position: int) -> dict[str, torch.Tensor]:
        """The ``state_dict`` entries of the member at ``position`` (parameters and running statistics)."""
        state = {n: p.detach()[position].clone().cpu() for n, p in self.params.items()}
        state.update({n: b[position].clone().cpu() for n, b in self.buffers.items()})
        return state

"""Hand-written backward pass of a stacked MLP under softmax cross-entropy.

Autograd records a graph and allocates every gradient on each step. For a
plain MLP (Linear layers and elementwise activations, no batch normalization)
backpropagation (Rumelhart, Hinton & Williams 1986) is a few batched matrix
products, member by member:

    dz_L = (softmax(s) - onehot(y)) / B
    dW_l = dz_l^T h_{l-1} + lambda W_l,   db_l = sum_b dz_l,
    dh_{l-1} = dz_l W_l,   dz_{l-1} = dh_{l-1} * f'(z_{l-1})

with ``f'`` taken from the activation's output by the ATen kernels autograd
itself calls (sigmoid ``h (1 - h)``, tanh ``1 - h^2``, relu ``[h > 0]``), and for
softsign ``h = z / (1 + |z|)`` from ``f'(z) = 1 / (1 + |z|)^2 = (1 - |h|)^2``.

Plain SGD is fused into the backward pass: rather than writing ``dW`` and then
``W <- W - lr dW``, the product is accumulated straight into the weights,
``W <- (1 - lr lambda) W + (-lr dz)^T h`` (one GEMM with beta = 1), which saves
two passes over the largest tensors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from trainlab.losses import l2_term
from trainlab.population.optim import per_member
from trainlab.population.stacked import StackedMLP, _Linear

ACTIVATION_BACKWARD: dict[type[nn.Module], Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    nn.Sigmoid: torch.ops.aten.sigmoid_backward,
    nn.Tanh: torch.ops.aten.tanh_backward,
    nn.ReLU: lambda grad, out: torch.ops.aten.threshold_backward(grad, out, 0.0),
    nn.Softsign: lambda grad, out: grad * (1 - out.abs()).square(),
    nn.Identity: lambda grad, out: grad,
}
"""``(dL/dh, h) -> dL/dz`` for activations ``h = f(z)`` whose derivative is a function of ``h``."""


@dataclass(frozen=True)
class _Layer:
    linear: _Linear
    activation: nn.Module | None


def manual_layers(net: StackedMLP, loss: str) -> list[_Layer] | None:
    """The (Linear, activation) pairs of ``net``, or None when the hand-written backward does not apply."""
    if loss != "softmax":
        return None
    layers: list[_Layer] = []
    for op in net.ops:
        if op is None and not layers:
            continue
        if isinstance(op, _Linear):
            layers.append(_Layer(op, None))
        elif type(op) in ACTIVATION_BACKWARD and layers and layers[-1].activation is None:
            layers[-1] = _Layer(layers[-1].linear, op)
        else:  # batch normalization, another activation, a flatten elsewhere
            return None
    return layers if layers and layers[-1].activation is None else None


class ManualBackward:
    """Training steps of a :class:`StackedMLP` without autograd (see the module docstring)."""

    def __init__(self, net: StackedMLP, layers: list[_Layer]) -> None:
        self.net, self.layers = net, layers

    def _forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each layer's input (``[B, in]`` if shared by all members, else ``[K, B, in]``) and the scores."""
        shared = x.dim() == self.net.input_dims + 1
        h = x.flatten(1) if shared else x.flatten(2)
        inputs = []
        for layer in self.layers:
            inputs.append(h)
            h = self.net.linear(layer.linear, h, shared)
            shared = False
            if layer.activation is not None:
                h = layer.activation(h)
        return inputs, h

    def _losses_and_delta(self, scores: torch.Tensor, y: torch.Tensor,
                          weight_decay: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Each member's loss ``[K]`` and ``dL/ds = (softmax(s) - onehot(y)) / B``."""
        k, b, _ = scores.shape
        target = (y if y.dim() == 2 else y.expand(k, -1)).unsqueeze(2)
        logp = F.log_softmax(scores, 2)
        losses = logp.gather(2, target).squeeze(2).mean(1).neg_()
        if weight_decay is not None:
            losses = losses + l2_term(self.net.weight_norms(), weight_decay)
        delta = logp.exp_()
        delta.scatter_add_(2, target, torch.full(target.shape, -1.0, dtype=delta.dtype, device=delta.device))
        return losses, delta.div_(b)

    def _backward(self, x: torch.Tensor, y: torch.Tensor, weight_decay: torch.Tensor | None,
                  update: Callable[[_Linear, torch.Tensor, torch.Tensor], None]) -> torch.Tensor:
        """Backpropagate; ``update(linear, dz, h_prev)`` is called per layer, last first, after
        ``dz W`` has been taken (so it may change the weights in place)."""
        inputs, scores = self._forward(x)
        losses, dz = self._losses_and_delta(scores, y, weight_decay)
        for i in range(len(self.layers) - 1, -1, -1):
            dh = torch.bmm(dz, self.net.params[self.layers[i].linear.weight]) if i > 0 else None
            update(self.layers[i].linear, dz, inputs[i])
            if dh is not None:
                activation = self.layers[i - 1].activation
                dz = ACTIVATION_BACKWARD[type(activation)](dh, inputs[i]) if activation is not None else dh
        return losses

    @torch.no_grad()
    def gradients(self, x: torch.Tensor, y: torch.Tensor,
                  weight_decay: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Each member's loss ``[K]`` and the gradients, in ``net.parameters()`` order."""
        grads: dict[str, torch.Tensor] = {}

        def record(linear: _Linear, dz: torch.Tensor, h: torch.Tensor) -> None:
            w = self.net.params[linear.weight]
            g = _outer(dz, h)
            if weight_decay is not None:
                g.addcmul_(per_member(weight_decay, w), w)
            grads[linear.weight] = g
            if linear.bias is not None:
                grads[linear.bias] = dz.sum(1)

        losses = self._backward(x, y, weight_decay, record)
        return losses, [grads[name] for name in self.net.params]

    @torch.no_grad()
    def sgd_step(self, x: torch.Tensor, y: torch.Tensor, lr: torch.Tensor,
                 weight_decay: torch.Tensor | None) -> torch.Tensor:
        """One plain-SGD step (no momentum) fused into the backward pass; returns the losses ``[K]``."""
        neg_lr = (-lr).view(-1, 1, 1)
        shrink = None if weight_decay is None else (1 - lr * weight_decay).view(-1, 1, 1)

        def apply(linear: _Linear, dz: torch.Tensor, h: torch.Tensor) -> None:
            w = self.net.params[linear.weight]
            scaled = dz * neg_lr
            if shrink is not None:
                w.mul_(shrink)
            _outer(scaled, h, into=w)
            if linear.bias is not None:
                self.net.params[linear.bias].add_(scaled.sum(1))

        return self._backward(x, y, weight_decay, apply)


def _outer(dz: torch.Tensor, h: torch.Tensor, into: torch.Tensor | None = None) -> torch.Tensor:
    """``dz^T h`` per member (``[K, out, in]``), or added to ``into`` in place (one GEMM, beta = 1).

    ``h`` shared by all members (``[B, in]``) makes it a single ``[K out, B] x [B, in]`` product.
    """
    k, b, out = dz.shape
    if h.dim() == 2:
        dz_t = dz.transpose(1, 2).reshape(k * out, b)
        if into is None:
            return (dz_t @ h).view(k, out, -1)
        into.view(k * out, -1).addmm_(dz_t, h)
        return into
    if into is None:
        return torch.bmm(dz.transpose(1, 2), h)
    return into.baddbmm_(dz.transpose(1, 2), h)

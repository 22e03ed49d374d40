"""Small seeded training loops for the watcher's tests: synthetic data, tiny models and one plain PyTorch loop
whose every line a bug can be put into (no zero_grad, a scheduler stepped per batch, evaluation without eval())."""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterable, Iterator

import pytest
import torch
from torch import nn

from trainlab.watcher import Finding, Watcher, watch

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Spy = Callable[[nn.Module, int], None]


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Run on one thread: these tiny models train about 20x faster so than on two threads of a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def blobs(n: int = 384, *, dim: int = 12, classes: int = 3, seed: int = 0) -> Batch:
    """Gaussian blobs: class c centred at 2 e_c in ``dim`` dimensions; inputs of unit scale, labels shuffled."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, classes, (n,), generator=g)
    x = torch.randn(n, dim, generator=g) + 2.0 * nn.functional.one_hot(y, dim).float()
    return x, y


def regression(n: int = 64, *, dim: int = 8, seed: int = 0) -> Batch:
    """A noise-free linear regression problem: targets ``x @ w`` for a random ``w``, shape ``[n, 1]``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    return x, x @ torch.randn(dim, 1, generator=g)


def batches(x: torch.Tensor, y: torch.Tensor, size: int = 32, *, shuffle: bool = True, seed: int = 0
            ) -> Iterator[Batch]:
    """Endless mini-batches, epoch after epoch: in a fresh random order each epoch, or in the stored order."""
    g = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(x), generator=g) if shuffle else torch.arange(len(x))
        for start in range(0, len(x) - size + 1, size):
            i = order[start:start + size]
            yield x[i], y[i]


def mlp(*widths: int, act: Callable[[], nn.Module] = nn.ReLU, dropout: float = 0.0, batch_norm: bool = False,
        seed: int = 0) -> nn.Sequential:
    """Linear layers of ``widths`` with ``act`` (and optional batch norm, dropout) between them, seeded.

    A Linear followed by batch norm has no bias (the norm's shift takes its place), as in trainlab's own MLP.
    """
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        hidden = i < len(widths) - 2
        layers.append(nn.Linear(a, b, bias=not (batch_norm and hidden)))
        if hidden:
            layers += [nn.BatchNorm1d(b)] if batch_norm else []
            layers.append(act())
            layers += [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers)


def init_(model: nn.Module, *, std: float | None = None, gain: float | None = None, bias: float = 0.0) -> nn.Module:
    """Re-initialize every Linear: weights N(0, std^2), or N(0, gain^2 / fan_in); biases ``bias``."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                s = std if std is not None else (gain or 1.0) / m.in_features ** 0.5
                m.weight.normal_(0.0, s)
                if m.bias is not None:
                    m.bias.fill_(bias)
    return model


def train(model: nn.Module, optimizer: torch.optim.Optimizer, data: Iterable[Batch], *, steps: int, every: int = 10,
          criterion: nn.Module | None = None, loss_fn: LossFn | None = None, zero_grad: bool = True,
          scheduler: Any = None, scheduler_every: int = 0, evaluate: Callable[[nn.Module], None] | None = None,
          after_backward: Spy | None = None, after_step: Spy | None = None, losses: list[float] | None = None,
          watched: bool = True, **kwargs: Any) -> Watcher:
    """``steps`` steps of the plain loop under ``watch(model, optimizer, every=every, ...)``; the watcher returned.

    The loss is ``criterion`` (a module the watcher hooks; cross-entropy if neither is given) or ``loss_fn``
    (a function, handed over with ``w.loss(loss, y)``). ``scheduler_every``: call ``scheduler.step()`` after every
    that many batches (0: never). ``evaluate(model)`` runs after each step; ``after_backward(model, step)`` and
    ``after_step(model, step)`` are spies around ``optimizer.step()``; ``losses`` collects each step's loss.
    ``watched=False`` runs the very same loop without the watcher (and returns an idle one).
    """
    if criterion is None and loss_fn is None:
        criterion = nn.CrossEntropyLoss()
    kwargs.setdefault("status", False)
    w = watch(model, optimizer, every=every, criterion=criterion, scheduler=scheduler, **kwargs)
    with w if watched else contextlib.nullcontext():
        for step, (x, y) in zip(range(steps), data):
            if zero_grad:
                optimizer.zero_grad()
            out = model(x)
            if criterion is not None:
                loss = criterion(out, y)
            else:
                loss = loss_fn(out, y)
                if watched:
                    w.loss(loss, y)
            if losses is not None:
                losses.append(float(loss.detach()))
            loss.backward()
            if after_backward is not None:
                after_backward(model, step)
            optimizer.step()
            if after_step is not None:
                after_step(model, step)
            if scheduler_every and (step + 1) % scheduler_every == 0:
                scheduler.step()
            if evaluate is not None:
                evaluate(model)
    return w


def sgd(model: nn.Module, lr: float = 0.1, **kwargs: Any) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr, **kwargs)


def picked(finding: Finding, expected: dict[str, Any]) -> dict[str, Any]:
    """The finding's numbers under ``expected``'s keys only (a rule may record more), to compare with it."""
    return {k: finding.numbers.get(k) for k in expected}


def finding(w: Watcher, id: str) -> Finding:
    """The watcher's finding ``id`` (a KeyError naming what was found instead, if none)."""
    for f in w.findings:
        if f.id == id:
            return f
    raise KeyError(f"no {id!r} finding; found {ids(w)}")


def ids(w: Watcher) -> list[str]:
    """The ids of the watcher's findings, in the order first seen."""
    return [f.id for f in w.findings]

"""Cost of ``trainlab.watch``: a plain PyTorch loop with and without the watcher around it.

Cases, each against the same loop unwatched, timed in the same process (ratio = watched time /
plain time; targets from the watch issue):

* the 5x1000 tanh MLP at batch 128 (MNIST-shaped random data), SGD: watched at the default
  cadence (``every=50``): <= 1.03; watched every step (``every=1``): <= 1.10;
* a small CNN with batch norm (2 conv blocks of 16 and 32 channels, 28x28 inputs), SGD with
  momentum, batch 128: the same two targets;
* Cockpit's ``economy`` configuration on the same MLP every step, where ``cockpit-for-pytorch``
  can be imported (it needs BackPACK; no target: a row to compare with).

Runs alternate to share the machine's noise; the minimum of the repeats is kept.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

import trainlab
from trainlab.nn.cnn import SmallCNN
from trainlab.nn.mlp import MLP

BATCH = 128


def _mlp() -> nn.Module:
    return MLP(784, 10, depth=5, width=1000, activation="tanh")


def _cnn() -> nn.Module:
    return SmallCNN((1, 28, 28), 10, depth=2, width=16, batch_norm="before")


MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], Callable]] = {
    "5x1000 tanh MLP": (_mlp, (784,), lambda p: torch.optim.SGD(p, lr=0.01)),
    "small CNN with batch norm": (_cnn, (1, 28, 28), lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
}


def _data(shape: tuple[int, ...], steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(steps, BATCH, *shape, generator=g), torch.randint(0, 10, (steps, BATCH), generator=g)


def train(model_name: str, steps: int, every: int | None) -> float:
    """Seconds for ``steps`` steps of the plain loop, watched every ``every`` steps (None: unwatched)."""
    build, shape, make_optimizer = MODELS[model_name]
    torch.manual_seed(0)
    model = build()
    optimizer = make_optimizer(model.parameters())
    criterion = nn.CrossEntropyLoss()
    xs, ys = _data(shape, steps)
    watcher = trainlab.watch(model, optimizer, criterion=criterion, every=every, status=False) if every else None
    started = time.perf_counter()
    if watcher is not None:
        watcher.__enter__()
    try:
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(xs[step]), ys[step])
            loss.backward()
            optimizer.step()
    finally:
        if watcher is not None:
            watcher.__exit__(None, None, None)
    return time.perf_counter() - started


def cockpit_economy(steps: int) -> float | None:
    """Seconds for the MLP loop tracked by Cockpit's economy configuration every step (None: not installed)."""
    try:
        from backpack import extend
        from cockpit import Cockpit
        from cockpit.utils.configuration import configuration
    except Exception:  # not installed, or installed against another torch
        return None
    torch.manual_seed(0)
    model = extend(_mlp())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = extend(nn.CrossEntropyLoss())
    individual = nn.CrossEntropyLoss(reduction="none")
    cockpit = Cockpit(model.parameters(), quantities=configuration("economy"))
    xs, ys = _data((784,), steps)
    started = time.perf_counter()
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        out = model(xs[step])
        loss = criterion(out, ys[step])
        losses = individual(out, ys[step])
        with cockpit(step, info={"batch_size": BATCH, "individual_losses": losses, "loss": loss,
                                 "optimizer": optimizer}):
            loss.backward(create_graph=cockpit.create_graph(step))
        optimizer.step()
    return time.perf_counter() - started


def _row(case: str, model_name: str, ours: float, base: float, steps: int, target: float | None) -> dict:
    ratio = ours / base
    return {"benchmark": "watch", "case": f"{model_name}: {case}", "ours": steps * BATCH / ours,
            "baseline": steps * BATCH / base, "unit": "samples/s (batch 128)", "ratio": ratio,
            "target": f"<= {target}" if target else "none", "passed": True if target is None else ratio <= target}


def run(quick: bool) -> list[dict]:
    steps, repeats = (60, 1) if quick else (200, 3)
    rows = []
    for model_name in MODELS:
        train(model_name, 5, None)  # warm-up
        times: dict[str, list[float]] = {"plain": [], "every 50": [], "every step": []}
        for _ in range(repeats):
            times["plain"].append(train(model_name, steps, None))
            times["every 50"].append(train(model_name, steps, 50))
            times["every step"].append(train(model_name, steps, 1))
        base = min(times["plain"])
        rows.append(_row("watch every 50 steps (default)", model_name, min(times["every 50"]), base, steps, 1.03))
        rows.append(_row("watch every step", model_name, min(times["every step"]), base, steps, 1.10))
    cockpit_steps = max(steps // 4, 20)
    plain, tracked = [], []
    for _ in range(repeats):
        plain.append(train("5x1000 tanh MLP", cockpit_steps, None))
        t = cockpit_economy(cockpit_steps)
        if t is None:
            break
        tracked.append(t)
    if tracked:
        rows.append(_row("Cockpit economy every step (for comparison)", "5x1000 tanh MLP", min(tracked),
                         min(plain), cockpit_steps, None))
    else:
        rows.append({"benchmark": "watch", "case": "Cockpit economy: not measured (cockpit-for-pytorch and "
                                                    "BackPACK are not installed beside this torch)",
                     "unit": "", "target": "none", "passed": True})
    return rows

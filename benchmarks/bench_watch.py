"""Cost of ``trainlab.watch``: a plain PyTorch loop with and without the watcher around it.

Cases, each against the same loop unwatched, timed in the same process (ratio = watched time /
plain time; targets from the watch issue):

* the 5x1000 tanh MLP at batch 128 (MNIST-shaped random data), SGD: watched at the default
  cadence (``every=50``): <= 1.03; watched every step (``every=1``): <= 1.10;
* a small CNN with batch norm (2 conv blocks of 16 and 32 channels, 28x28 inputs), SGD with
  momentum, batch 128: the same two targets;
* for comparison, the same every-step watch with the figures' distributions (percentiles, histograms,
  back-propagated gradients) recorded at every step instead of every ``DISTRIBUTIONS_EVERY`` = 50;
* Cockpit's ``economy`` configuration on the same MLP every step, where ``cockpit-for-pytorch``
  can be imported (it needs BackPACK; no target: a row to compare with).

The plain and the watched copy of a loop take their steps in turn (plain, watched, plain, ...), each
timed on its own, so that both see the same moments of this machine's noise (whole runs one after
the other differed by up to 25% here, more than the overhead measured). The ratio is the median of
the ratios of ``BLOCKS`` consecutive blocks of steps (the watcher's entry and exit counted in the first
and last), with their range beside it: a burst of noise on this shared machine then moves one block,
not the result (three 150-step runs of the same every-step case gave 1.018, 1.083 and 1.117).
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch
from torch import nn

import trainlab
from trainlab.nn.cnn import SmallCNN
from trainlab.nn.mlp import MLP
from trainlab.watcher.observe import DISTRIBUTIONS_EVERY

BATCH = 128
BLOCKS = 5


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


class Arm:
    """One copy of the loop: its model, optimizer and data, stepped one step at a time."""

    def __init__(self, model_name: str, steps: int) -> None:
        build, shape, make_optimizer = MODELS[model_name]
        torch.manual_seed(0)
        self.model = build()
        self.optimizer = make_optimizer(self.model.parameters())
        self.criterion = nn.CrossEntropyLoss()
        self.xs, self.ys = _data(shape, steps)
        self.times: list[float] = []  # seconds of each step

    @property
    def seconds(self) -> float:
        return sum(self.times)

    def step(self, i: int) -> None:
        started = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.criterion(self.model(self.xs[i]), self.ys[i])
        loss.backward()
        self.optimizer.step()
        self.times.append(time.perf_counter() - started)


def interleaved(model_name: str, steps: int, every: int, distributions_every: int = DISTRIBUTIONS_EVERY
                ) -> tuple[list[float], list[float]]:
    """Seconds of each step of the plain loop and of the same loop watched every ``every`` steps, their
    steps alternating (plain, watched, plain, ...) so that both see the same moments of this machine's
    noise. The watched arm's first and last steps include entering and leaving the watcher."""
    plain, watched = Arm(model_name, steps), Arm(model_name, steps)
    watcher = trainlab.watch(watched.model, watched.optimizer, criterion=watched.criterion, every=every,
                             status=False, distributions_every=distributions_every)
    started = time.perf_counter()
    watcher.__enter__()
    entering = time.perf_counter() - started
    try:
        for i in range(steps):
            plain.step(i)
            watched.step(i)
    finally:
        started = time.perf_counter()
        watcher.__exit__(None, None, None)
        leaving = time.perf_counter() - started
    watched.times[0] += entering
    watched.times[-1] += leaving
    return plain.times, watched.times


def block_ratios(base: list[float], ours: list[float], blocks: int = BLOCKS) -> list[float]:
    """Our time over the baseline's in each of ``blocks`` consecutive blocks of steps."""
    size = len(base) // blocks
    return [sum(ours[b * size:(b + 1) * size]) / sum(base[b * size:(b + 1) * size]) for b in range(blocks)]


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


def _row(case: str, model_name: str, ours: list[float], base: list[float], target: float | None) -> dict:
    """One table row: samples/s over the whole run, and the median of the blocks' ratios (their range beside)."""
    blocks = block_ratios(base, ours)
    ratio = statistics.median(blocks)
    return {"benchmark": "watch", "case": f"{model_name}: {case} (blocks {min(blocks):.3f}-{max(blocks):.3f})",
            "ours": len(ours) * BATCH / sum(ours), "baseline": len(base) * BATCH / sum(base),
            "unit": "samples/s (batch 128)", "ratio": ratio,
            "target": f"<= {target}" if target else "none", "passed": True if target is None else ratio <= target}


def run(quick: bool) -> list[dict]:
    steps = 60 if quick else 300
    rows = []
    for model_name in MODELS:
        interleaved(model_name, 5, 1)  # warm-up (and the watcher's first import)
        for every, case, target in ((50, "watch every 50 steps (default)", 1.03), (1, "watch every step", 1.10)):
            base, ours = interleaved(model_name, steps, every)
            rows.append(_row(case, model_name, ours, base, target))
        base, ours = interleaved(model_name, steps, 1, distributions_every=1)
        rows.append(_row("watch every step, distributions every step too (for comparison)", model_name, ours, base,
                         None))
    rows.append(_cockpit_row(max(steps // 30, 5)))
    return rows


def _cockpit_row(steps: int) -> dict:
    plain = Arm("5x1000 tanh MLP", steps)
    for i in range(steps):
        plain.step(i)
    tracked = cockpit_economy(steps)
    if tracked is None:
        return {"benchmark": "watch", "case": "Cockpit economy: not measured (cockpit-for-pytorch and BackPACK are "
                                              "not installed beside this torch)", "unit": "", "target": "none",
                "passed": True}
    return {"benchmark": "watch", "case": "5x1000 tanh MLP: Cockpit economy every step (for comparison)",
            "ours": steps * BATCH / tracked, "baseline": steps * BATCH / plain.seconds, "unit": "samples/s (batch 128)",
            "ratio": tracked / plain.seconds, "target": "none", "passed": True}

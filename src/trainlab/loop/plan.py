"""What a configuration's budget becomes: batches, their order, the learning rate and the schedule.

Batches are a pure function of ``(seed, epoch, step)``: epoch ``e`` of a run
with seed ``q`` visits the training examples in the order
:func:`epoch_permutation` ``(q, e)`` draws, so a resumed run, and a population
member, see exactly the batches of an uninterrupted lone run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from trainlab.config import TrainConfig
from trainlab.data.base import TrainSource
from trainlab.errors import UserError
from trainlab.optimizers import SCHEDULES


@dataclass(frozen=True)
class BatchPlan:
    """How a configuration's budget splits into batches over ``n_train`` examples."""

    batch_size: int
    steps_per_epoch: int
    total_steps: int


def batch_plan(config: TrainConfig, n_train: int) -> BatchPlan:
    """Batch size (0 means full batch), steps per epoch and total steps; rejects a batch larger than the data."""
    if config.batch_size > n_train:
        raise UserError(f"batch size {config.batch_size} is larger than the {n_train} training examples; "
                        f"use --batch-size {n_train} or less (or 'full')")
    batch_size = config.batch_size or n_train
    steps_per_epoch = math.ceil(n_train / batch_size)
    return BatchPlan(batch_size, steps_per_epoch, config.steps or math.ceil((config.epochs or 1.0) * steps_per_epoch))


def lr_at(config: TrainConfig, step: int) -> float:
    """The learning rate of ``step`` under ``config.schedule`` (see :data:`trainlab.optimizers.SCHEDULES`)."""
    return SCHEDULES[config.schedule](config.lr, step, every=config.lr_step_every, gamma=config.lr_gamma)


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919 + 17) % (2**63 - 1)


def epoch_permutation(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The order in which a run with ``seed`` visits ``n`` training examples in ``epoch``."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))


@dataclass(frozen=True)
class Schedule:
    """When a loop records the training loss, evaluates and checkpoints (all at window ends)."""

    steps_per_epoch: int
    total_steps: int
    log_every: int
    eval_every: int
    checkpoint_every: int

    @classmethod
    def of(cls, config: TrainConfig, plan: BatchPlan, *, checkpoint_every: int | None = None) -> "Schedule":
        return cls(plan.steps_per_epoch, plan.total_steps, config.log_every, config.eval_every,
                   checkpoint_every or config.checkpoint_every)

    def log_due(self, step: int) -> bool:
        """A logging window ends after ``step`` steps (every ``log_every``, and at the end)."""
        return step % self.log_every == 0 or step == self.total_steps

    def eval_due(self, step: int) -> bool:
        """Validate in the window that reaches a multiple of ``eval_every`` (else an epoch's end), not at the end."""
        if self.eval_every:
            return step % self.eval_every < self.log_every and step < self.total_steps
        epoch_end = step % self.steps_per_epoch < self.log_every and step >= self.steps_per_epoch
        return epoch_end and step < self.total_steps

    def checkpoint_due(self, step: int) -> bool:
        return step % self.checkpoint_every == 0


class Batches:
    """The training batches of step ``s`` for runs with the given seeds, on ``device``.

    One distinct seed gives one batch ``[B, ...]`` (a lone run, or members that
    share a seed); several give ``[K, B, ...]``, one row block per seed, in one
    gather. A full batch is the same for every seed: the epoch unshuffled.
    """

    def __init__(self, train: TrainSource, plan: BatchPlan, device: torch.device) -> None:
        self.train, self.plan, self.device = train, plan, device
        self.n = len(train)
        self._per_epoch, self._size = plan.steps_per_epoch, plan.batch_size
        self._full = plan.batch_size >= self.n
        self._epoch: tuple[int, torch.Tensor, torch.Tensor] | None = None
        # (epoch, seeds as given, one distinct seed?, the epoch's inputs, its [N] or [K, N] orders)
        self._order: tuple[int, tuple[int, ...], bool, torch.Tensor, torch.Tensor] | None = None

    def __call__(self, step: int, seeds: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, i = divmod(step, self._per_epoch)
        lo = i * self._size
        hi = lo + self._size
        if self._full:
            xs, ys = self._data(epoch)
            return xs[lo:hi], ys[lo:hi]
        seeds = tuple(seeds)
        order = self._order
        if order is None or order[0] != epoch or order[1] != seeds:
            distinct = tuple(dict.fromkeys(seeds))
            shared = len(distinct) == 1
            order = self._order = (epoch, seeds, shared, *self._shuffled(epoch, distinct if shared else seeds))
        _, _, shared, xs, orders = order
        ys = self._data(epoch)[1]
        if shared:  # orders: [N], this seed's order; gathering a batch costs less than copying the epoch
            idx = orders[lo:hi]
            return xs.index_select(0, idx), ys.index_select(0, idx)
        idx = orders[:, lo:hi]  # [K, B]: one gather over all members' rows, viewed back as [K, B, ...]
        flat = idx.reshape(-1)
        return xs.index_select(0, flat).view(*idx.shape, *xs.shape[1:]), ys.index_select(0, flat).view(idx.shape)

    def _data(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        if self._epoch is None or self._epoch[0] != epoch:
            data = self.train.epoch(epoch)
            self._epoch = (epoch, data.x.to(self.device), data.y.to(self.device))
        return self._epoch[1], self._epoch[2]

    def _shuffled(self, epoch: int, seeds: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """The epoch's inputs and the order each seed visits them in (``[N]`` for one seed, else ``[K, N]``)."""
        if len(seeds) == 1:
            return self._data(epoch)[0], epoch_permutation(seeds[0], epoch, self.n).to(self.device)
        unique = {s: epoch_permutation(s, epoch, self.n) for s in dict.fromkeys(seeds)}
        return self._data(epoch)[0], torch.stack([unique[s] for s in seeds]).to(self.device)

"""Small helpers shared by the batch-normalization and preprocessing reproductions."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one CPU thread, then restore the setting.

    The networks here are 100-unit MLPs on batches of 60: a step is a few small
    matrix products, and a second thread costs more in synchronisation than it
    saves (badly so on a busy machine).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def total_variation(values: list[float]) -> float:
    """``sum_t |v_{t+1} - v_t|``: how far a trajectory travels."""
    return float(sum(abs(b - a) for a, b in zip(values, values[1:])))

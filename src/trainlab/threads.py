"""A scoped intra-op thread count for work made of many small tensor operations."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads, then restore the previous count.

    Matrix products of a minibatch of 10 to 64 through layers of a few hundred
    units, or Shapeset's per-pixel tests, are too small to split across threads:
    on two cores shared with other work, one thread measured 3x to 40x faster
    than two, because the hand-offs cost more than the arithmetic.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

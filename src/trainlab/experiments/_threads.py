"""A scoped intra-op thread count for reproductions made of many tiny training steps."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads, then restore the previous count.

    Minibatches of 10 (Glorot & Bengio) or 64 (He et al.) through layers of a
    few hundred units make matrix products too small to split across threads:
    on the two-core machine these reproductions are budgeted for, shared with
    other work, one thread trained 3x faster than two (population and probed
    runs alike).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

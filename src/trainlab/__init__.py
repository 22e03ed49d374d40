"""trainlab: see why neural networks train, and why yours does not.

``trainlab.watch(model, optimizer, ...)`` watches your own training loop
(:mod:`trainlab.watcher`); importing trainlab itself loads nothing else.
"""
from __future__ import annotations

from typing import Any

from trainlab.version import __version__

__all__ = ["__version__", "watch"]


def watch(model: Any, optimizer: Any, **kwargs: Any) -> Any:
    """Watch a training loop: ``with trainlab.watch(model, optimizer, every=50, out="runs/mine") as w:``.

    See :func:`trainlab.watcher.watch` for the arguments.
    """
    from trainlab.watcher import watch as watch_loop

    return watch_loop(model, optimizer, **kwargs)

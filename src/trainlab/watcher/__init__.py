"""Watching the user's own training loop: hooks, rules, findings (``trainlab.watch``).

    import trainlab
    with trainlab.watch(model, optimizer, criterion=loss_fn, out="runs/mine") as w:
        ...                                      # the user's loop, unchanged
    for finding in w.findings:
        print(finding.id, finding.step, finding.evidence, finding.advice)

:mod:`~trainlab.watcher.observe` holds the hooks, :mod:`~trainlab.watcher.rules` the rules and
their thresholds, :mod:`~trainlab.watcher.findings` the catalogue of ids; adapters for PyTorch
Lightning and Hugging Face ``Trainer`` are in :mod:`~trainlab.watcher.lightning` and
:mod:`~trainlab.watcher.hf`.
"""
from __future__ import annotations

from trainlab.watcher.findings import CATALOGUE, Finding
from trainlab.watcher.rules import RULES
from trainlab.watcher.session import Watcher, watch

__all__ = ["CATALOGUE", "Finding", "RULES", "Watcher", "watch"]

"""Callbacks: how probes, reproductions and the doctor look inside a training loop."""
from __future__ import annotations

from typing import Any

import torch


class Callback:
    """Hooks into a training loop; every method is optional.

    A lone run (:class:`trainlab.train.Trainer`) calls them all. A population
    (:class:`trainlab.population.PopulationTrainer`) calls ``on_train_start``,
    ``on_eval`` with every alive member's record (``metrics[k]`` for member
    ``k``) and ``on_train_end``. ``on_train_end`` is always called, also when training is
    interrupted (``result.status == "interrupted"``) or an exception escapes
    (``result is None``), so a callback can always release what it holds.
    """

    def on_train_start(self, trainer: Any) -> None: ...
    def on_step_start(self, trainer: Any, step: int, x: torch.Tensor, y: torch.Tensor) -> None: ...
    def on_after_backward(self, trainer: Any, step: int) -> None: ...
    def on_step_end(self, trainer: Any, step: int, loss: torch.Tensor) -> None: ...
    def on_eval(self, trainer: Any, step: int, metrics: dict[str, Any]) -> None: ...
    def on_train_end(self, trainer: Any, result: Any) -> None: ...

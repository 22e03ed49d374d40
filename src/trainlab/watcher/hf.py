"""``trainlab.watch`` for the Hugging Face ``Trainer``: a callback that watches ``trainer.train()``.

    from trainlab.watcher.hf import WatchCallback
    watch = WatchCallback(every=50, out="runs/bert")
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[watch])
    with watch:                                  # the hooks come off even if train() raises
        trainer.train()
    print(watch.findings)

``on_train_begin`` opens a :class:`~trainlab.watcher.session.Watcher` on the model and the optimizer
(unwrapped from Accelerate's ``AcceleratedOptimizer``, whose steps run the real optimizer's hooks);
``on_train_end`` closes it. The model computes its own loss from ``labels``, so the watcher reads the
loss and the labels from the model's output and its keyword arguments.

The ``Trainer`` calls no callback when training raises. Using the callback as a context manager
around ``train()`` closes the watcher then (the run folder is marked ``failed``); without it, the
hooks stay until :meth:`WatchCallback.close` or the next ``on_train_begin``.

The Trainer's own learning-rate schedules (``lr_scheduler_type``) are stepped once per optimizer step
by construction and are built on Accelerate's optimizer wrapper, which the watcher's schedule rule
would take for another optimizer: they are left out of the watch. A scheduler passed in
``Trainer(optimizers=(optimizer, scheduler))`` for the optimizer itself is watched.
"""
from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Sequence

import torch
from torch import nn

from trainlab.watcher.findings import Finding
from trainlab.watcher.session import Watcher

try:
    from transformers import TrainerCallback
except ImportError as exc:
    raise ImportError("trainlab.watcher.hf needs Hugging Face transformers (and accelerate): "
                      "pip install 'trainlab[hf]'") from exc


def unwrap_optimizer(optimizer: Any) -> Any:
    """The torch optimizer inside wrappers such as Accelerate's ``AcceleratedOptimizer`` (``.optimizer``)."""
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    return optimizer


def watched_scheduler(scheduler: Any, optimizer: torch.optim.Optimizer) -> Any:
    """``scheduler`` if the watcher can judge it: built on ``optimizer`` itself and not one of transformers' own."""
    if scheduler is None or getattr(scheduler, "optimizer", None) is not optimizer:
        return None
    lambdas = getattr(scheduler, "lr_lambdas", None) or []
    if lambdas and all(getattr(getattr(f, "func", f), "__module__", "").startswith("transformers.") for f in lambdas):
        return None  # get_linear_schedule_with_warmup and the like: per step by design
    return scheduler


class WatchCallback(TrainerCallback):
    """Watches ``Trainer.train``: the Watcher's keyword arguments; ``.findings`` and ``.watcher`` afterwards."""

    def __init__(self, *, every: int = 50, out: str | Path | None = None, criterion: nn.Module | None = None,
                 layers: Sequence[str] | None = None, status: bool = True,
                 tensorboard: str | Path | None = None) -> None:
        self.options: dict[str, Any] = {"every": every, "out": out, "criterion": criterion, "layers": layers,
                                        "status": status, "tensorboard": tensorboard}
        self.watcher: Watcher | None = None
        self._open = False

    @property
    def findings(self) -> list[Finding]:
        """What the watcher found (also after training)."""
        return self.watcher.findings if self.watcher is not None else []

    # -- the Trainer's events -------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, model: nn.Module | None = None,
                       optimizer: Any = None, lr_scheduler: Any = None, **kwargs: Any) -> None:
        if self._open:  # the last train() raised outside `with callback:`: that run failed
            self.close(RuntimeError("training ended without on_train_end"))
        if model is None or optimizer is None:
            return
        inner = unwrap_optimizer(optimizer)
        total = getattr(state, "max_steps", None)
        self.watcher = Watcher(model, inner, scheduler=watched_scheduler(lr_scheduler, inner),
                               total_steps=total if isinstance(total, int) and total > 0 else None, **self.options)
        self.watcher.__enter__()
        self._open = True

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.close()

    # -- closing ---------------------------------------------------------------------------
    def close(self, exception: BaseException | None = None) -> None:
        """Close the watcher (hooks off, run folder finished); ``exception`` marks the run failed. Idempotent."""
        if not self._open or self.watcher is None:
            return
        self._open = False
        if exception is None:
            self.watcher.__exit__(None, None, None)
        else:
            self.watcher.__exit__(type(exception), exception, exception.__traceback__)

    def __enter__(self) -> "WatchCallback":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
        else:
            self.close(exc)

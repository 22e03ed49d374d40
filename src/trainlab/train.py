"""A lone training run: one configuration in, one run directory out.

The loop itself (steps, windows, evaluation, checkpoints, interruption,
callbacks) is :class:`trainlab.loop.TrainingLoop`, shared with the population
engine; this module says what one step of one model is. Batches are a pure
function of ``(seed, epoch, step)`` and the whole training state is
checkpointed, so a resumed run ends with exactly the numbers of an
uninterrupted one (on CPU). Divergence (a NaN/Inf loss, or a windowed training
loss above ``divergence_factor`` times the initial loss) ends a run with status
``diverged``; it is an outcome, not a crash.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset
from trainlab.errors import CheckpointError
from trainlab.loop import (
    Batches,
    Callback,
    MetricsLog,
    RunResult,
    Schedule,
    TrainingLoop,
    batch_plan,
    check_training_state,
    eval_record,
    evaluate,
    initial_loss_split,
    is_diverging,
    lr_at,
    make_model,
    prepare_data,
    resolve_device,
    stopped_message,
    train_record,
    training_state,
)
from trainlab.losses import get_loss, l2_term, l2_weights, squared_norm
from trainlab.optimizers import make_optimizer
from trainlab.runs import METRICS, RunDir, RunDirWarning, default_run_dir

__all__ = ["Callback", "RunResult", "Trainer", "resume", "train", "with_probe"]


class Trainer(TrainingLoop):
    """Trains one model as ``config`` says, writing into ``run`` (or nowhere if None)."""

    progress_label = "train"

    def __init__(self, config: TrainConfig, run: RunDir | None = None, callbacks: Sequence[Callback] = (),
                 progress: bool = True, dataset: Dataset | None = None) -> None:
        self.config, self.run, self.callbacks, self.progress = config, run, callbacks, progress
        torch.manual_seed(config.seed)
        self.device = resolve_device(config.device)
        self.dataset = dataset if dataset is not None else prepare_data(
            config, run_dir=run.path if run is not None else None)
        self.n_train = len(self.dataset.train)
        plan = batch_plan(config, self.n_train)
        self.batch_size, self.steps_per_epoch, self.total_steps = (plan.batch_size, plan.steps_per_epoch,
                                                                   plan.total_steps)
        self.schedule = Schedule.of(config, plan)
        self.batches = Batches(self.dataset.train, plan, self.device)
        self._seeds = (config.seed,)
        self.model = make_model(config, self.dataset).to(self.device)
        self.optimizer = make_optimizer(config.optimizer, self.model.parameters(), lr=config.lr,
                                        momentum=config.momentum)
        self.loss_fn = get_loss(config.loss)
        self.weights = l2_weights(self.model)
        self.step = 0
        self.status = "running"
        self.initial_loss: float | None = None
        self.window_sum = torch.zeros((), device=self.device)
        self.window_count = 0
        self.samples = 0
        self.train_seconds = 0.0
        self.last_train_loss: float | None = None
        self.last_eval: dict[str, float] = {}
        self.metrics = MetricsLog(None, from_step=0)
        self._lr: float | None = None

    # -- state ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return training_state(model=self.model.state_dict(), optimizer=self.optimizer.state_dict(), step=self.step,
                              initial_loss=self.initial_loss, window_sum=self.window_sum,
                              window_count=self.window_count, samples=self.samples,
                              train_seconds=self.train_seconds, last_train_loss=self.last_train_loss,
                              last_eval=self.last_eval)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        for param, saved in self.optimizer.state.items():  # torch checks the groups, not the buffers' shapes
            for name, value in saved.items():
                if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape != param.shape:
                    raise ValueError(f"optimizer state {name!r} has shape {tuple(value.shape)}, "
                                     f"its parameter {tuple(param.shape)}")
        self.step = int(state["step"])
        self.initial_loss = state["initial_loss"]
        self.window_sum = state["window_sum"].to(self.device)
        self.window_count = int(state["window_count"])
        self.samples = int(state["samples"])
        self.train_seconds = float(state["train_seconds"])
        self.last_train_loss = state["last_train_loss"]
        self.last_eval = dict(state["last_eval"])

    # -- one step ---------------------------------------------------------------------
    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of ``step``: epoch ``e`` is shuffled by a generator seeded from ``(seed, e)``."""
        return self.batches(step, self._seeds)

    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.loss_fn(scores, y)
        if self.config.weight_decay:
            loss = loss + l2_term(squared_norm(self.weights), self.config.weight_decay)
        return loss

    def train_step(self) -> None:
        step = self.step
        lr = lr_at(self.config, step)
        if lr != self._lr:
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self._lr = lr
        x, y = self.batch(step)
        for cb in self.callbacks:
            cb.on_step_start(self, step, x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(self.model(x), y)
        loss.backward()
        for cb in self.callbacks:
            cb.on_after_backward(self, step)
        self.optimizer.step()
        for cb in self.callbacks:
            cb.on_step_end(self, step, loss)
        self.window_sum += loss.detach()
        self.window_count += 1
        self.samples += len(y)
        self.step = step + 1

    # -- the loop's hooks ---------------------------------------------------------------
    def start(self) -> None:
        if self.initial_loss is None:
            self.initial_loss = evaluate(self.model, initial_loss_split(self.dataset), self.loss_fn, self.device)[0]
        self.metrics = MetricsLog(self.run, from_step=self.step, total_steps=self.total_steps)
        self.status = "running"
        self._lr = None
        self.model.train()

    def running(self) -> bool:
        return self.status == "running"

    def end_window(self) -> None:
        mean = float(self.window_sum) / max(self.window_count, 1)
        self.window_sum.zero_()
        self.window_count = 0
        self.last_train_loss = mean
        lr = lr_at(self.config, self.step - 1)
        self.metrics.write(train_record(step=self.step, steps_per_epoch=self.steps_per_epoch, loss=mean, lr=lr,
                                        samples=self.samples, seconds=self.train_seconds))
        sps = self.samples / self.train_seconds if self.train_seconds > 0 else 0.0
        self.bar.update(self.step, loss=mean, samples_per_second=sps, lr=lr)
        if is_diverging(mean, self.initial_loss, self.config.divergence_factor):
            self.bar.message(f"diverged at step {self.step}: training loss {mean:.4g} "
                             f"(initial {self.initial_loss:.4g}); try a smaller --lr")
            self.status = "diverged"

    def evaluate_now(self) -> dict[str, Any]:
        val_loss, val_acc = evaluate(self.model, self.dataset.val, self.loss_fn, self.device)
        record = eval_record(step=self.step, steps_per_epoch=self.steps_per_epoch, loss=val_loss, accuracy=val_acc)
        self.last_eval = {"val_loss": val_loss, "val_accuracy": val_acc}
        self.metrics.write(record)
        for cb in self.callbacks:
            cb.on_eval(self, self.step, record)
        return record

    def save_checkpoint(self) -> None:
        if self.run is not None:
            self.run.save_checkpoint(self.state_dict())

    def finish(self, interrupted: bool, started: float) -> RunResult:
        if interrupted:
            self.status = "interrupted"
            self.save_checkpoint()
            self.bar.message(stopped_message(self.stopped_by, self.step, self.run.path if self.run else None))
            return self._result(started, final_eval=False)
        if self.status == "running":
            self.status = "completed"
            if self.config.bn_stats == "algorithm2":
                from trainlab.nn.norm import estimate_population_statistics_

                estimate_population_statistics_(self.model, (self.batch(s)[0] for s in range(self.steps_per_epoch)))
            self.evaluate_now()
        result = self._result(started, final_eval=self.status == "completed")
        self.metrics.write(result.final_record())
        self.metrics.close()
        self.save_checkpoint()
        if self.run is not None:
            self.run.write_summary(result.to_dict())
        return result

    def close(self) -> None:
        self.metrics.close()

    def _result(self, started: float, *, final_eval: bool) -> RunResult:
        test = evaluate(self.model, self.dataset.test, self.loss_fn, self.device) if final_eval else None
        return RunResult.of(run=self.run, status=self.status, steps=self.step, steps_per_epoch=self.steps_per_epoch,
                            last_train_loss=self.last_train_loss, last_eval=self.last_eval, test=test,
                            seconds=time.perf_counter() - started, samples=self.samples,
                            train_seconds=self.train_seconds, stopped_by=self.stopped_by)


def with_probe(config: TrainConfig, callbacks: Sequence[Callback]) -> tuple[Callback, ...]:
    """``callbacks`` plus a :class:`trainlab.probe.ProbeCallback` when ``config.probe`` asks for one."""
    if not config.probe:
        return tuple(callbacks)
    from trainlab.probe import ProbeCallback, ProbeConfig

    return (*callbacks, ProbeCallback(ProbeConfig.parse(config.probe)))


# -- entry points --------------------------------------------------------------

def train(config: TrainConfig, *, out: str | Path | None = None, callbacks: Sequence[Callback] = (),
          progress: bool = True, save: bool = True) -> RunResult:
    """Train ``config`` into a new run directory (``out`` or ``runs/<stamp>-...``)."""
    if save and out is not None:
        RunDir.check_new(out)  # before the data loads
    trainer = Trainer(config, callbacks=with_probe(config, callbacks), progress=progress)
    if save:
        trainer.run = RunDir.create(out or default_run_dir(config), config, str(trainer.device))
        trainer.run.save_preprocessing(trainer.dataset)
    return trainer.fit()


def resume(path: str | Path, *, callbacks: Sequence[Callback] = (), progress: bool = True,
           dataset: Dataset | None = None) -> RunResult:
    """Continue the run in ``path`` from its last checkpoint; a finished run returns its summary.

    A run that finished but lost its ``summary.json`` (killed while writing it,
    or deleted) gets it back from its ``final`` record, without training again.
    """
    run = RunDir(path)
    config = run.config()
    summary = run.summary()
    if summary is not None and summary["status"] in ("completed", "diverged"):
        return RunResult.from_summary(summary)
    state = run.load_checkpoint()
    trainer = Trainer(config, run=run, callbacks=with_probe(config, callbacks), progress=progress, dataset=dataset)
    if state is not None:
        check_training_state(state, run.checkpoint_file, total_steps=trainer.total_steps)
        try:
            trainer.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
            raise CheckpointError(f"{run.checkpoint_file} does not fit this run's model and optimizer "
                                  f"({one_line(exc)}); delete it to restart the run from step 0") from None
        finished = _finished(run, trainer.step)
        if finished is not None:
            return finished
    return trainer.fit()


def _finished(run: RunDir, step: int) -> RunResult | None:
    """The result of a run whose last ``final`` record is a finished one at its checkpoint's ``step``, with
    its ``summary.json`` written again (a kill between the two, or a deleted summary); else None."""
    found = run.read_metrics()  # resuming sets damaged lines aside and says so; here only the records count
    finals = [r for r in found.records if r["kind"] == "final"]
    if not finals or finals[-1]["status"] not in ("completed", "diverged") or finals[-1]["steps"] != step:
        return None
    if found.rejected:
        warnings.warn(found.describe(run.path / METRICS, "they are left as they are"), RunDirWarning, stacklevel=3)
    result = RunResult.from_summary(finals[-1])
    run.write_summary(result.to_dict())
    warnings.warn(f"{run.path} had finished but had no summary.json; wrote it again from its final record",
                  RunDirWarning, stacklevel=3)
    return result


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``exc``'s message on one line, shortened to ``limit`` characters (torch's can span many)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."

"""The training loop: one configuration in, one run directory out.

Batches are a pure function of ``(seed, epoch, step)`` and the whole training
state is checkpointed, so a resumed run ends with exactly the numbers of an
uninterrupted one (on CPU). Divergence (a NaN/Inf loss, or a windowed training
loss above ``divergence_factor`` times the initial loss) ends a run with status
``diverged``; it is an outcome, not a crash.
"""
from __future__ import annotations

import json
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.errors import UserError
from trainlab.init import InitConfig, initialize_
from trainlab.losses import get_loss
from trainlab.nn import build_model
from trainlab.progress import Progress
from trainlab.runs import RunDir, default_run_dir

EVAL_BATCH = 2048


@dataclass
class RunResult:
    run_dir: str
    status: str
    steps: int
    epochs: float
    train_loss: float | None
    val_loss: float | None
    val_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    seconds: float
    samples_per_second: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of(cls, *, run: RunDir | None, status: str, steps: int, steps_per_epoch: int,
           last_train_loss: float | None, last_eval: dict[str, float], test: tuple[float, float] | None,
           seconds: float, samples: int, train_seconds: float) -> "RunResult":
        """The outcome of a loop's state, non-finite losses as None (one run, or one population member)."""
        test_loss, test_accuracy = test if test is not None else (None, None)
        return cls(
            run_dir=str(run.path) if run else "",
            status=status,
            steps=steps,
            epochs=steps / steps_per_epoch,
            train_loss=_finite_or_none(last_train_loss),
            val_loss=_finite_or_none(last_eval.get("val_loss")),
            val_accuracy=last_eval.get("val_accuracy"),
            test_loss=_finite_or_none(test_loss),
            test_accuracy=test_accuracy,
            seconds=round(seconds, 4),
            samples_per_second=round(samples / train_seconds, 2) if train_seconds > 0 else 0.0,
        )


def training_state(*, model: dict[str, torch.Tensor], optimizer: dict[str, Any], step: int, initial_loss: float | None,
                   window_sum: torch.Tensor, window_count: int, samples: int, train_seconds: float,
                   last_train_loss: float | None, last_eval: dict[str, float]) -> dict[str, Any]:
    """A ``checkpoint.pt`` as :meth:`Trainer.load_state_dict` reads it (a run's, or a population member's)."""
    return {"model": model, "optimizer": optimizer, "step": step, "initial_loss": initial_loss,
            "window_sum": window_sum.detach().cpu(), "window_count": window_count, "samples": samples,
            "train_seconds": train_seconds, "last_train_loss": last_train_loss, "last_eval": dict(last_eval)}


class Callback:
    """Hooks into the loop; every method is optional. Probes and the doctor use these."""

    def on_train_start(self, trainer: "Trainer") -> None: ...
    def on_step_start(self, trainer: "Trainer", step: int, x: torch.Tensor, y: torch.Tensor) -> None: ...
    def on_after_backward(self, trainer: "Trainer", step: int) -> None: ...
    def on_step_end(self, trainer: "Trainer", step: int, loss: torch.Tensor) -> None: ...
    def on_eval(self, trainer: "Trainer", step: int, metrics: dict[str, Any]) -> None: ...
    def on_train_end(self, trainer: "Trainer", result: RunResult) -> None: ...


# -- building blocks -----------------------------------------------------------

def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device mps was asked for but MPS is not available; use --device cpu")
    return torch.device(name)


def prepare_data(config: TrainConfig, *, run_dir: str | Path | None = None) -> Dataset:
    """Load the dataset and apply the configured preprocessing (fit on training data only,
    or reloaded from ``run_dir``'s saved ``preprocess.pt`` when there is one)."""
    from trainlab.data import load as load_dataset

    dataset = load_dataset(config.dataset, data_dir=config.data_dir, seed=0)
    if config.preprocess:
        from trainlab.preprocess import apply_pipeline

        dataset = apply_pipeline(dataset, config.preprocess, run_dir=run_dir)
    return dataset


def make_model(config: TrainConfig, dataset: Dataset, *, data: torch.Tensor | None = None) -> nn.Module:
    """Build and initialize the configured model, seeded by ``config.seed``."""
    model = build_model(config.model, dataset.input_shape, dataset.num_classes, depth=config.depth,
                        width=config.width, activation=config.activation, batch_norm=config.batch_norm)
    generator = torch.Generator().manual_seed(config.seed)
    init = InitConfig(scheme=config.init, std=config.init_std, scale=config.init_scale)
    return initialize_(model, init, data=data, generator=generator)


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.effective_momentum)


def regularized_weights(model: nn.Module) -> list[torch.Tensor]:
    """Weight matrices and conv kernels: the tensors L2 regularization applies to."""
    return [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]


def lr_at(config: TrainConfig, step: int) -> float:
    if config.schedule == "step":
        return config.lr * config.lr_gamma ** (step // config.lr_step_every)
    return config.lr


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919 + 17) % (2**63 - 1)


def epoch_permutation(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The order in which a run with ``seed`` visits ``n`` training examples in ``epoch``."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed(seed, epoch)))


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


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, loss_fn, device: torch.device) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``split`` in evaluation mode."""
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, len(split)
    for start in range(0, n, EVAL_BATCH):
        x = split.x[start:start + EVAL_BATCH].to(device)
        y = split.y[start:start + EVAL_BATCH].to(device)
        scores = model(x)
        total_loss += float(loss_fn(scores, y)) * len(y)
        correct += int((scores.argmax(1) == y).sum())
    model.train(was_training)
    return total_loss / max(n, 1), correct / max(n, 1)


class _StopFlag:
    """Turns SIGINT/SIGTERM into a flag the loop checks, so it can checkpoint first."""

    def __init__(self) -> None:
        self.raised: str | None = None
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> "_StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.raised = signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


# -- the trainer ---------------------------------------------------------------

@dataclass
class Trainer:
    """Trains one model as ``config`` says, writing into ``run`` (or nowhere if None)."""

    config: TrainConfig
    run: RunDir | None = None
    callbacks: Sequence[Callback] = ()
    progress: bool = True
    dataset: Dataset | None = None
    model: nn.Module = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    step: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.device = resolve_device(cfg.device)
        if self.dataset is None:
            self.dataset = prepare_data(cfg, run_dir=self.run.path if self.run is not None else None)
        self.n_train = len(self.dataset.train)
        plan = batch_plan(cfg, self.n_train)
        self.batch_size, self.steps_per_epoch, self.total_steps = plan.batch_size, plan.steps_per_epoch, plan.total_steps
        lsuv_batch = self.dataset.train.epoch(0).x[:500] if cfg.init == "lsuv" else None
        self.model = make_model(cfg, self.dataset, data=lsuv_batch).to(self.device)
        self.optimizer = make_optimizer(cfg, self.model)
        self.loss_fn = get_loss(cfg.loss)
        self.weights = regularized_weights(self.model)
        self.initial_loss: float | None = None
        self.window_sum = torch.zeros((), device=self.device)
        self.window_count = 0
        self.samples = 0
        self.train_seconds = 0.0
        self.last_train_loss: float | None = None
        self.last_eval: dict[str, float] = {}
        self._epoch_cache: tuple[int, torch.Tensor, torch.Tensor] | None = None

    # -- state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return training_state(model=self.model.state_dict(), optimizer=self.optimizer.state_dict(), step=self.step,
                              initial_loss=self.initial_loss, window_sum=self.window_sum,
                              window_count=self.window_count, samples=self.samples,
                              train_seconds=self.train_seconds, last_train_loss=self.last_train_loss,
                              last_eval=self.last_eval)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.initial_loss = state["initial_loss"]
        self.window_sum = state["window_sum"].to(self.device)
        self.window_count = int(state["window_count"])
        self.samples = int(state["samples"])
        self.train_seconds = float(state["train_seconds"])
        self.last_train_loss = state["last_train_loss"]
        self.last_eval = dict(state["last_eval"])

    # -- data -------------------------------------------------------------------
    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of ``step``: epoch ``e`` is shuffled by a generator seeded from ``(seed, e)``."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            data = self.dataset.train.epoch(epoch)
            if self.batch_size < self.n_train:
                perm = epoch_permutation(self.config.seed, epoch, self.n_train)
                xs, ys = data.x[perm], data.y[perm]
            else:
                xs, ys = data.x, data.y
            self._epoch_cache = (epoch, xs.to(self.device), ys.to(self.device))
        _, xs, ys = self._epoch_cache
        lo = i * self.batch_size
        return xs[lo:lo + self.batch_size], ys[lo:lo + self.batch_size]

    # -- loop -------------------------------------------------------------------
    def loss(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.loss_fn(scores, y)
        if self.config.weight_decay:
            loss = loss + 0.5 * self.config.weight_decay * sum(w.pow(2).sum() for w in self.weights)
        return loss

    def fit(self) -> RunResult:
        cfg, run = self.config, self.run
        started = time.perf_counter()
        if self.initial_loss is None:
            probe = self.dataset.val.subset(min(len(self.dataset.val), 1000))
            self.initial_loss = evaluate(self.model, probe, self.loss_fn, self.device)[0]
        if run is not None and self.step == 0:
            run.truncate_metrics(-1)
        metrics = run.open_metrics() if run is not None else None
        bar = Progress(self.total_steps, initial=self.step, enabled=self.progress)
        status = "completed"
        for cb in self.callbacks:
            cb.on_train_start(self)
        self.model.train()
        current_lr = None
        try:
            with _StopFlag() as stop:
                tick = time.perf_counter()
                while self.step < self.total_steps:
                    if stop.raised:
                        status = "interrupted"
                        break
                    step = self.step
                    lr = lr_at(cfg, step)
                    if lr != current_lr:
                        for group in self.optimizer.param_groups:
                            group["lr"] = lr
                        current_lr = lr
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
                    if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                        now = time.perf_counter()
                        self.train_seconds += now - tick
                        status = self._log_window(metrics, bar, lr)
                        if status == "diverged":
                            break
                        if self._eval_due():
                            self._evaluate(metrics)
                        if run is not None and (self.step % cfg.checkpoint_every == 0):
                            run.save_checkpoint(self.state_dict())
                        tick = time.perf_counter()
                else:
                    status = "completed"
                if status == "interrupted":
                    self.train_seconds += time.perf_counter() - tick
        finally:
            bar.close()
        if status == "interrupted":
            bar.message(f"interrupted at step {self.step}; continue with `trainlab resume {run.path if run else '<dir>'}`")
            if run is not None:
                run.save_checkpoint(self.state_dict())
            if metrics is not None:
                metrics.close()
            return self._result(status, started, final_eval=False)
        result = self._finish(status, metrics, started)
        return result

    def _log_window(self, metrics, bar: Progress, lr: float) -> str:
        mean = float(self.window_sum) / max(self.window_count, 1)
        self.window_sum.zero_()
        self.window_count = 0
        self.last_train_loss = mean
        sps = self.samples / self.train_seconds if self.train_seconds > 0 else 0.0
        if metrics is not None:
            metrics.write(_jsonl({"kind": "train", "step": self.step, "epoch": self.step / self.steps_per_epoch,
                                  "train_loss": mean, "lr": lr, "samples": self.samples,
                                  "time": round(self.train_seconds, 4)}))
        bar.update(self.step, loss=mean, samples_per_second=sps, lr=lr)
        if not math.isfinite(mean) or mean > self.config.divergence_factor * self.initial_loss:
            bar.message(f"diverged at step {self.step}: training loss {mean:.4g} "
                        f"(initial {self.initial_loss:.4g}); try a smaller --lr")
            return "diverged"
        return "completed"

    def _eval_due(self) -> bool:
        every = self.config.eval_every
        if every:
            return self.step % every < self.config.log_every and self.step < self.total_steps
        epoch_end = self.step % self.steps_per_epoch < self.config.log_every and self.step >= self.steps_per_epoch
        return epoch_end and self.step < self.total_steps

    def _evaluate(self, metrics) -> dict[str, Any]:
        val_loss, val_acc = evaluate(self.model, self.dataset.val, self.loss_fn, self.device)
        record = {"kind": "eval", "step": self.step, "epoch": self.step / self.steps_per_epoch,
                  "val_loss": val_loss, "val_accuracy": val_acc}
        self.last_eval = {"val_loss": val_loss, "val_accuracy": val_acc}
        if metrics is not None:
            metrics.write(_jsonl(record))
        for cb in self.callbacks:
            cb.on_eval(self, self.step, record)
        return record

    def _finish(self, status: str, metrics, started: float) -> RunResult:
        if status == "completed" and self.config.bn_stats == "algorithm2":
            from trainlab.nn.norm import estimate_population_statistics_

            estimate_population_statistics_(self.model, (self.batch(s)[0] for s in range(self.steps_per_epoch)))
        if status == "completed":
            self._evaluate(metrics)
        result = self._result(status, started, final_eval=status == "completed")
        if metrics is not None:
            metrics.write(_jsonl({"kind": "final", **result.to_dict()}))
            metrics.close()
        if self.run is not None:
            self.run.save_checkpoint(self.state_dict())
            self.run.write_summary(result.to_dict())
        for cb in self.callbacks:
            cb.on_train_end(self, result)
        return result

    def _result(self, status: str, started: float, *, final_eval: bool) -> RunResult:
        test = evaluate(self.model, self.dataset.test, self.loss_fn, self.device) if final_eval else None
        return RunResult.of(run=self.run, status=status, steps=self.step, steps_per_epoch=self.steps_per_epoch,
                            last_train_loss=self.last_train_loss, last_eval=self.last_eval, test=test,
                            seconds=time.perf_counter() - started, samples=self.samples,
                            train_seconds=self.train_seconds)


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _jsonl(record: dict[str, Any]) -> str:
    return json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}) + "\n"


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
    trainer = Trainer(config, callbacks=with_probe(config, callbacks), progress=progress)
    if save:
        trainer.run = RunDir.create(out or default_run_dir(config), config, str(trainer.device))
        if config.preprocess:
            from trainlab.preprocess import save_preprocessing

            save_preprocessing(trainer.dataset, trainer.run.path)
    return trainer.fit()


def resume(path: str | Path, *, callbacks: Sequence[Callback] = (), progress: bool = True,
           dataset: Dataset | None = None) -> RunResult:
    """Continue the run in ``path`` from its last checkpoint; a finished run returns its summary."""
    run = RunDir(path)
    config = run.config()
    summary = run.summary()
    if summary is not None and summary.get("status") in ("completed", "diverged"):
        return RunResult(**summary)
    state = run.load_checkpoint()
    trainer = Trainer(config, run=run, callbacks=with_probe(config, callbacks), progress=progress, dataset=dataset)
    if state is not None:
        trainer.load_state_dict(state)
    run.truncate_metrics(trainer.step)
    return trainer.fit()

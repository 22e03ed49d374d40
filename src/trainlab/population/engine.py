"""Train K configurations of one architecture at once, each with the numbers it would get alone.

The loop is :class:`trainlab.loop.TrainingLoop`, the one a lone run uses, so
its logging windows, divergence rule, evaluation and checkpoint schedule and
records are a lone run's. Each member is built by ``make_model`` with its own
seed, sees the batches :class:`trainlab.loop.Batches` gives its seed, and is
updated with torch.optim's arithmetic (:mod:`trainlab.population.optim`), the
loss with its L2 term. Members that diverge (or that ``on_eval`` stops) are
frozen: their state is kept and they are dropped from the batched computation,
so the rest carry on unaffected and faster. A population with an ``out`` folder
is checkpointed there (``population.pt``: every ``checkpoint_every`` steps, on
SIGINT/SIGTERM and at the end); :func:`resume_population` continues it to the
numbers an uninterrupted run gives (on CPU). Plain MLPs under softmax
cross-entropy skip autograd (:mod:`trainlab.population.manual`); batch
normalization, the SVM loss and other activations go through autograd.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

import torch
from torch import nn

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.errors import CheckpointError, UserError
from trainlab.loop import (
    Batches,
    Callback,
    MetricsLog,
    RunResult,
    Schedule,
    TrainingLoop,
    batch_plan,
    check_step,
    eval_record,
    evaluate_scores,
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
from trainlab.losses import get_batched_loss, get_loss, l2_term
from trainlab.optimizers import make_optimizer
from trainlab.population.manual import ManualBackward, manual_layers
from trainlab.population.optim import make_stacked_optimizer
from trainlab.population.spec import check_population, optimizer_family
from trainlab.population.stacked import StackedMLP
from trainlab.runs import PopulationDir, RunDir, is_population_dir

OnEval = Callable[[int, int, dict[str, Any]], "bool | None"]
"""``on_eval(step, member_index, record)``; returning True stops that member (status ``pruned``)."""
OnEvaluation = Callable[[int, dict[int, dict[str, Any]]], Collection[int]]
"""``on_evaluation(step, records)``, ``records[k]`` being alive member ``k``'s evaluation at ``step``;
returns the members to stop (status ``pruned``). For rules that compare members, such as successive halving."""


class PopulationResult(list):
    """The members' :class:`RunResult` in configuration order, plus the population's totals.

    ``state_dicts[k]`` is member ``k``'s final ``state_dict`` (at the step it
    stopped); load it with :func:`member_model`. ``configs[k]`` is its configuration.
    """

    def __init__(self, results: Sequence[RunResult], *, seconds: float, member_steps: int,
                 state_dicts: Sequence[dict[str, torch.Tensor]], configs: Sequence[TrainConfig],
                 trained_steps: int | None = None, stopped_by: str | None = None) -> None:
        super().__init__(results)
        self.stopped_by = stopped_by  # the signal that interrupted the population, if one did
        self.configs = list(configs)
        self.seconds = seconds
        self.member_steps = member_steps
        trained = member_steps if trained_steps is None else trained_steps  # this call's, after a resume
        self.member_steps_per_second = trained / seconds if seconds > 0 else 0.0
        self.state_dicts = list(state_dicts)


@dataclass
class _Member:
    index: int
    config: TrainConfig
    run: RunDir | None
    metrics: MetricsLog | None = None
    status: str = "running"
    steps: int = 0
    samples: int = 0
    train_seconds: float = 0.0
    seconds: float = 0.0
    last_train_loss: float | None = None
    last_eval: dict[str, float] = field(default_factory=dict)
    state: dict[str, torch.Tensor] | None = None
    result: RunResult | None = None

    def write(self, record: dict[str, Any]) -> None:
        if self.metrics is not None:
            self.metrics.write(record)

    SAVED = ("status", "steps", "samples", "train_seconds", "seconds", "last_train_loss", "last_eval", "state")

    def state_dict(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in self.SAVED},
                "result": self.result.to_dict() if self.result is not None else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in self.SAVED:
            setattr(self, name, state[name])
        self.result = RunResult(**state["result"]) if state["result"] is not None else None


def member_model(config: TrainConfig, dataset: Dataset, state: dict[str, torch.Tensor]) -> nn.Module:
    """A stand-alone model holding a member's ``state`` (from ``PopulationResult.state_dicts``)."""
    model = build_like(config, dataset)
    model.load_state_dict(state)
    return model


def build_like(config: TrainConfig, dataset: Dataset) -> nn.Module:
    """Build and initialize ``config``'s model exactly as :class:`trainlab.train.Trainer` does."""
    torch.manual_seed(config.seed)
    return make_model(config, dataset)


class PopulationTrainer(TrainingLoop):
    """Trains ``configs`` as one population; :meth:`fit` returns a :class:`PopulationResult`."""

    def __init__(self, configs: Sequence[TrainConfig], *, dataset: Dataset | None = None,
                 out: str | Path | None = None, progress: bool = True, on_eval: OnEval | None = None,
                 on_evaluation: OnEvaluation | None = None, run_dirs: Sequence[str | Path] | None = None,
                 existing: bool = False, callbacks: Sequence[Callback] = ()) -> None:
        check_population(configs)
        if run_dirs is not None and len(run_dirs) != len(configs):
            raise UserError(f"got {len(run_dirs)} run directories for {len(configs)} members; give one per member")
        self.run_dirs = run_dirs
        self.configs = list(configs)
        first = self.configs[0]
        self.device = resolve_device(first.device)
        self.progress, self.on_eval, self.on_evaluation, self.callbacks = progress, on_eval, on_evaluation, callbacks
        self.folder = PopulationDir(out) if out is not None else None
        self.out = self.folder.path if self.folder is not None else None
        self.existing = existing  # resuming: the members' run directories are already there
        if self.folder is not None and not existing:
            PopulationDir.check_new(self.folder.path)  # before the data loads
        paths = [self._member_path(k) for k in range(len(self.configs))]
        if dataset is None:  # fitted on the training split, or reloaded from the first member's preprocess.pt
            dataset = prepare_data(first, run_dir=paths[0] if existing else None)
        self.dataset = dataset
        self.n_train = len(self.dataset.train)
        plan = batch_plan(first, self.n_train)
        self.batch_size, self.steps_per_epoch, self.total_steps = (plan.batch_size, plan.steps_per_epoch,
                                                                   plan.total_steps)
        self.checkpoint_every = min(c.checkpoint_every for c in self.configs)
        self.schedule = Schedule.of(first, plan, checkpoint_every=self.checkpoint_every)
        self.batches = Batches(self.dataset.train, plan, self.device)
        self.loss_fn = get_loss(first.loss)
        self.batched_loss = get_batched_loss(first.loss)
        self.net = StackedMLP([build_like(c, self.dataset) for c in self.configs],
                              self.dataset.input_shape, self.device)
        self.alive = list(range(len(self.configs)))
        self.lr = self._vector([c.lr for c in self.configs])
        self.weight_decay = self._vector([c.weight_decay for c in self.configs])
        self.has_decay = any(c.weight_decay > 0 for c in self.configs)
        self.scheduled = any(c.schedule != "constant" for c in self.configs)
        self.optimizer = make_stacked_optimizer(first.optimizer, self.net.parameters(),
                                                self._vector([c.effective_momentum for c in self.configs]))
        layers = manual_layers(self.net, first.loss)
        self.manual = ManualBackward(self.net, layers) if layers is not None else None
        self.fused_sgd = optimizer_family(first) == "sgd" and all(c.effective_momentum == 0 for c in self.configs)
        self.members = [_Member(k, c, self._run_dir(path, c)) for k, (c, path) in enumerate(zip(self.configs, paths))]
        self.step = 0
        self.samples = 0
        self.train_seconds = 0.0
        self.window_sum = torch.zeros(len(self.configs), device=self.device)
        self.window_count = 0
        self.initial_loss = torch.zeros(len(self.configs))
        self._steps_at_start = 0
        self._started = 0.0

    @property
    def progress_label(self) -> str:  # type: ignore[override]
        return f"population x{len(self.members)}"

    def _vector(self, values: list[float]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32, device=self.device)

    def _member_path(self, index: int) -> Path | None:
        if self.run_dirs is not None:
            return Path(self.run_dirs[index])
        return self.folder.member(index) if self.folder is not None else None

    def _run_dir(self, path: Path | None, config: TrainConfig) -> RunDir | None:
        """The member's run directory: created (with the fitted preprocessing) unless resuming."""
        if path is None:
            return None
        if self.existing:
            return RunDir(path)
        run = RunDir.create(path, config, str(self.device))
        run.save_preprocessing(self.dataset)
        return run

    # -- data -------------------------------------------------------------------
    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each alive member's batch of ``step`` (``[K, B, ...]``), or one shared ``[B, ...]``."""
        return self.batches(step, [self.configs[k].seed for k in self.alive])

    # -- loop -------------------------------------------------------------------
    def losses(self, scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each member's training loss ``[K]``, with train.py's L2 term ``0.5 * lambda * sum ||W||^2``."""
        if y.dim() == 1:
            y = y.expand(scores.shape[0], -1)
        losses = self.batched_loss(scores, y)
        if bool((self.weight_decay > 0).any()):
            losses = losses + l2_term(self.net.weight_norms(), self.weight_decay)
        return losses

    def _lrs(self, step: int) -> torch.Tensor:
        if not self.scheduled:
            return self.lr
        return self._vector([lr_at(self.configs[k], step) for k in self.alive])

    # -- the loop's hooks ---------------------------------------------------------------
    def start(self) -> None:
        self._started = time.perf_counter()
        self._steps_at_start = sum(self.step if m.status == "running" else m.steps for m in self.members)
        if self.step == 0:
            self.initial_loss = torch.tensor(self.evaluate(initial_loss_split(self.dataset))[0], dtype=torch.float64)
        for m in self.members:
            if m.run is not None and m.status == "running":
                m.metrics = MetricsLog(m.run, from_step=self.step, total_steps=self.total_steps)

    def running(self) -> bool:
        return bool(self.alive)

    def evaluate_now(self) -> None:
        self._evaluate_members(self._started)

    def finish(self, interrupted: bool, started: float) -> PopulationResult:
        if interrupted:
            self.save_checkpoint()
            self.bar.message(stopped_message(self.stopped_by, self.step, self.out))
            self._stop(list(range(len(self.alive))), "interrupted", started)
            return self._result(started)
        if self.alive:
            self._evaluate_members(started, final=True)
        self._stop(list(range(len(self.alive))), "completed", started)
        self.save_checkpoint()
        return self._result(started)

    def close(self) -> None:
        for m in self.members:
            if m.metrics is not None:
                m.metrics.close()
                m.metrics = None

    # -- checkpoints -----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything :meth:`load_state_dict` needs to continue to the uninterrupted numbers."""
        return {"step": self.step, "samples": self.samples, "train_seconds": self.train_seconds,
                "window_sum": self.window_sum, "window_count": self.window_count, "alive": list(self.alive),
                "initial_loss": self.initial_loss, "params": {n: p.detach() for n, p in self.net.params.items()},
                "buffers": dict(self.net.buffers), "optimizer": self.optimizer.state_dict(),
                "members": [m.state_dict() for m in self.members]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["members"]) != len(self.members):
            raise CheckpointError(f"the checkpoint holds {len(state['members'])} members, the folder "
                                  f"{len(self.members)}; it belongs to another population")
        to = lambda t: t.to(self.device)  # noqa: E731
        alive = list(state["alive"])
        if not all(isinstance(k, int) for k in alive) or alive != sorted(set(alive)) \
                or not all(0 <= k < len(self.members) for k in alive):
            raise ValueError(f"alive must list distinct member indices in order, got {alive!r}")
        self.alive = alive
        if len(self.alive) < len(self.members):
            self._select(torch.tensor(self.alive, dtype=torch.long, device=self.device))
        if set(state["params"]) != set(self.net.params) or set(state["buffers"]) != set(self.net.buffers):
            raise ValueError("its parameters are not this population's architecture")
        for name, saved in (*state["params"].items(), *state["buffers"].items()):
            expected = {**self.net.params, **self.net.buffers}[name]
            if saved.shape[1:] != expected.shape[1:]:  # dim 0 counts the members still in the batch
                raise ValueError(f"{name} has shape {tuple(saved.shape)}, this population's {tuple(expected.shape)}")
        self.step, self.samples, self.train_seconds = state["step"], state["samples"], state["train_seconds"]
        self.window_sum, self.window_count = to(state["window_sum"]), state["window_count"]
        self.initial_loss = state["initial_loss"]
        self.net.params = {n: to(t).requires_grad_(True) for n, t in state["params"].items()}
        self.net.buffers = {n: to(t) for n, t in state["buffers"].items()}
        self.optimizer.load_state_dict(_to_device(state["optimizer"], self.device))
        for member, saved in zip(self.members, state["members"]):
            member.load_state_dict(saved)

    def save_checkpoint(self) -> None:
        if self.folder is not None:
            self.folder.save_checkpoint(self.state_dict())

    def train_step(self) -> None:
        lr = self._lrs(self.step)
        x, y = self.batch(self.step)
        params = self.net.parameters()
        decay = self.weight_decay if self.has_decay else None
        if self.manual is not None and self.fused_sgd:
            losses = self.manual.sgd_step(x, y, lr, decay)
        else:
            if self.manual is not None:
                losses, grads = self.manual.gradients(x, y, decay)
            else:
                losses = self.losses(self.net(x, train=True), y)
                grads = list(torch.autograd.grad(losses.sum(), params))
            self.optimizer.step(params, grads, lr)
        self.window_sum += losses.detach()
        self.window_count += 1
        self.samples += y.shape[-1]
        self.step += 1

    def end_window(self) -> None:
        means = (self.window_sum.double() / max(self.window_count, 1)).tolist()
        self.window_sum.zero_()
        self.window_count = 0
        factor = self.configs[0].divergence_factor
        diverged = []
        for pos, (k, mean) in enumerate(zip(self.alive, means)):
            member = self.members[k]
            member.last_train_loss = mean
            member.write(train_record(step=self.step, steps_per_epoch=self.steps_per_epoch, loss=mean,
                                      lr=lr_at(member.config, self.step - 1), samples=self.samples,
                                      seconds=self.train_seconds))
            if is_diverging(mean, float(self.initial_loss[pos]), factor):
                diverged.append(pos)
                self.bar.message(f"member {k} diverged at step {self.step}: training loss {mean:.4g} "
                                 f"(initial {float(self.initial_loss[pos]):.4g})")
        finite = [m for m in means if math.isfinite(m)]
        sps = self.samples * len(self.alive) / self.train_seconds if self.train_seconds > 0 else 0.0
        self.bar.update(self.step, loss=min(finite) if finite else float("nan"), samples_per_second=sps,
                        lr=float(self._lrs(self.step - 1)[0]))
        self._stop(diverged, "diverged", self._started)

    def _evaluate_members(self, started: float, *, final: bool = False) -> None:
        losses, accuracies = self.evaluate(self.dataset.val)
        records: dict[int, dict[str, Any]] = {}
        for pos, k in enumerate(self.alive):
            member = self.members[k]
            records[k] = eval_record(step=self.step, steps_per_epoch=self.steps_per_epoch, loss=losses[pos],
                                     accuracy=accuracies[pos])
            member.last_eval = {"val_loss": losses[pos], "val_accuracy": accuracies[pos]}
            member.write(records[k])
        for cb in self.callbacks:
            cb.on_eval(self, self.step, records)
        stop: set[int] = set()
        if self.on_eval is not None:
            stop.update(k for k, record in records.items() if self.on_eval(self.step, k, record) is True)
        if self.on_evaluation is not None:
            stop.update(self.on_evaluation(self.step, records))
        if not final:
            self._stop([pos for pos, k in enumerate(self.alive) if k in stop], "pruned", started)

    def member_now(self, k: int) -> nn.Module:
        """A stand-alone model holding alive member ``k``'s weights as they are now (e.g. to probe it)."""
        with torch.random.fork_rng(devices=[]):  # building the model draws initial weights: keep the caller's RNG
            return member_model(self.configs[k], self.dataset, self.net.member_state(self.alive.index(k)))

    def evaluate(self, split: Split) -> tuple[list[float], list[float]]:
        """Mean loss and accuracy of each alive member on ``split``, in evaluation mode."""
        losses, accuracies = evaluate_scores(lambda x: self.net(x, train=False), self.batched_loss, split, self.device)
        if losses.dim() == 0:  # an empty split
            losses, accuracies = losses.expand(len(self.alive)), accuracies.expand(len(self.alive))
        return losses.tolist(), accuracies.tolist()

    # -- stopping members -----------------------------------------------------------
    def _stop(self, positions: list[int], status: str, started: float) -> None:
        """Freeze the members at ``positions``: record them, keep their state, drop them from the batch."""
        if not positions:
            return
        test = self.evaluate(self.dataset.test) if status == "completed" else None
        for pos in positions:
            member = self.members[self.alive[pos]]
            member.status, member.steps, member.samples = status, self.step, self.samples
            member.train_seconds, member.seconds = self.train_seconds, time.perf_counter() - started
            member.state = self.net.member_state(pos)
            member.result = self._member_result(member, (test[0][pos], test[1][pos]) if test else None)
            self._save_member_checkpoint(member, pos)
            self._close(member)
        keep = [p for p in range(len(self.alive)) if p not in set(positions)]
        if keep:
            self._select(torch.tensor(keep, device=self.device))
        self.alive = [self.alive[p] for p in keep]

    def _select(self, index: torch.Tensor) -> None:
        """Keep the batched state of the members at positions ``index`` only."""
        self.net.select(index)
        self.optimizer.select(index)
        self.lr, self.weight_decay = self.lr[index], self.weight_decay[index]
        self.window_sum, self.initial_loss = self.window_sum[index], self.initial_loss[index.cpu()]

    def _save_member_checkpoint(self, m: _Member, pos: int) -> None:
        """The member's ``checkpoint.pt`` in its run directory, as :class:`trainlab.train.Trainer` writes it,
        so ``trainlab landscape``, ``trainlab resume`` and friends work on a member like on a lone run."""
        if m.run is None:
            return
        with torch.random.fork_rng(devices=[]):  # building the model draws initial weights: keep the caller's RNG
            model = member_model(m.config, self.dataset, m.state)
        optimizer = make_optimizer(m.config.optimizer, model.parameters(), lr=m.config.lr, momentum=m.config.momentum)
        for param, state in zip(model.parameters(), self.optimizer.member_state(pos)):
            if state is not None:
                optimizer.state[param] = state
        m.run.save_checkpoint(training_state(
            model=model.state_dict(), optimizer=optimizer.state_dict(), step=self.step,
            initial_loss=float(self.initial_loss[pos]), window_sum=self.window_sum[pos], window_count=self.window_count,
            samples=self.samples, train_seconds=self.train_seconds, last_train_loss=m.last_train_loss,
            last_eval=m.last_eval))

    def _member_result(self, m: _Member, test: tuple[float, float] | None) -> RunResult:
        return RunResult.of(run=m.run, status=m.status, steps=m.steps, steps_per_epoch=self.steps_per_epoch,
                            last_train_loss=m.last_train_loss, last_eval=m.last_eval, test=test, seconds=m.seconds,
                            samples=m.samples, train_seconds=m.train_seconds)

    def _close(self, m: _Member) -> None:
        """Final record and summary, as train.py writes them (an interrupted run gets neither)."""
        if m.status != "interrupted":
            m.write(m.result.final_record())
            if m.run is not None:
                m.run.write_summary(m.result.to_dict())
        if m.metrics is not None:
            m.metrics.close()
            m.metrics = None

    def _result(self, started: float) -> PopulationResult:
        seconds = time.perf_counter() - started
        result = PopulationResult([m.result for m in self.members], seconds=seconds,
                                  member_steps=sum(m.steps for m in self.members),
                                  trained_steps=sum(m.steps for m in self.members) - self._steps_at_start,
                                  state_dicts=[m.state for m in self.members], configs=self.configs,
                                  stopped_by=self.stopped_by)
        if self.folder is not None:
            self.folder.write_summary({"members": [r.to_dict() for r in result], "seconds": round(seconds, 4),
                                       "member_steps": result.member_steps,
                                       "member_steps_per_second": round(result.member_steps_per_second, 2)})
        return result


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(v, device) for v in value)
    return value


def resume_population(path: str | Path, *, progress: bool = True, dataset: Dataset | None = None) -> PopulationResult:
    """Continue the population in ``path`` (``trainlab train`` with lists) from its last checkpoint.

    Members that had diverged, been stopped or finished stay as they were; the
    others continue from the checkpoint's step. A population killed before its
    first checkpoint starts again from step 0.
    """
    path = Path(path)
    folder = PopulationDir(path)
    members = folder.members()
    if not members or not is_population_dir(path):
        raise CheckpointError(f"{path} is not a population directory (no member-000/config.json); "
                              f"pass the folder that `trainlab train --lr a,b ...` printed")
    configs = [RunDir(p).config() for p in members]
    state = folder.load_checkpoint()
    trainer = PopulationTrainer(configs, dataset=dataset, out=path, progress=progress, existing=True)
    if state is not None:
        fix = "delete it to restart the population from step 0"
        check_step(state.get("step"), folder.checkpoint_file, total_steps=trainer.total_steps, fix=fix)
        try:
            trainer.load_state_dict(state)
        except CheckpointError as exc:
            raise CheckpointError(f"{folder.checkpoint_file}: {exc}; {fix}") from None
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as exc:
            text = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise CheckpointError(f"{folder.checkpoint_file} does not fit this population ({text}); {fix}") from None
    return trainer.fit()


def train_population(configs: Sequence[TrainConfig], *, dataset: Dataset | None = None,
                     out: str | Path | None = None, progress: bool = True, eval_every: int | None = None,
                     on_eval: OnEval | None = None, on_evaluation: OnEvaluation | None = None,
                     run_dirs: Sequence[str | Path] | None = None, callbacks: Sequence[Callback] = ()
                     ) -> PopulationResult:
    """Train ``configs`` as one batched population; member ``k`` writes ``out/member-{k:03d}``
    (or ``run_dirs[k]`` if given).

    ``eval_every`` (if given) replaces every member's ``eval_every``. Returns
    the members' results in order; each matches what ``trainlab.train.train``
    gives that configuration alone, to float tolerance.
    """
    if eval_every is not None:
        configs = [c.replace(eval_every=eval_every) for c in configs]
    return PopulationTrainer(configs, dataset=dataset, out=out, progress=progress, on_eval=on_eval,
                             on_evaluation=on_evaluation, run_dirs=run_dirs, callbacks=callbacks).fit()

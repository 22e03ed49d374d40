"""The loop contract: what a lone run and a population share, written once.

* :mod:`~trainlab.loop.driver`: the step loop, its windows, interruption and callbacks;
* :mod:`~trainlab.loop.plan`: batches, their order, the learning rate, the schedule;
* :mod:`~trainlab.loop.records`: metric records, the divergence rule, results, checkpoints;
* :mod:`~trainlab.loop.setup`: device, data, model and evaluation;
* :mod:`~trainlab.loop.callbacks`, :mod:`~trainlab.loop.stop`: hooks and signals.
"""
from __future__ import annotations

from trainlab.loop.callbacks import Callback
from trainlab.loop.driver import TrainingLoop
from trainlab.loop.plan import Batches, BatchPlan, Schedule, batch_plan, epoch_permutation, epoch_seed, lr_at
from trainlab.loop.records import (
                                   MetricsLog,
                                   RunResult,
                                   check_step,
                                   check_training_state,
                                   eval_record,
                                   finite_or_none,
                                   is_diverging,
                                   jsonl,
                                   signal_exit_status,
                                   stopped_message,
                                   train_record,
                                   training_state,
)
from trainlab.loop.setup import (
                                   EVAL_BATCH,
                                   evaluate,
                                   evaluate_scores,
                                   initial_loss_split,
                                   make_model,
                                   prepare_data,
                                   resolve_device,
)
from trainlab.loop.stop import StopFlag

__all__ = ["Batches", "BatchPlan", "Callback", "EVAL_BATCH", "MetricsLog", "RunResult", "Schedule", "StopFlag",
           "TrainingLoop", "batch_plan", "check_step", "check_training_state", "epoch_permutation", "epoch_seed",
           "eval_record", "evaluate", "evaluate_scores", "finite_or_none", "initial_loss_split", "is_diverging",
           "jsonl", "lr_at", "make_model", "prepare_data", "resolve_device", "signal_exit_status",
           "stopped_message", "train_record", "training_state"]

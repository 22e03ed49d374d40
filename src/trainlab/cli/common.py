"""Flags shared by commands that build a model and its data (train, gradcheck, doctor...)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from trainlab.config import (
    ACTIVATIONS,
    BATCH_NORM,
    BN_STATS,
    DEVICES,
    LOSSES,
    MODELS,
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    load_toml,
    parse_preprocess,
)
from trainlab.errors import UserError

S = argparse.SUPPRESS


def _batch_size(text: str) -> int:
    if text == "full":
        return 0
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'full', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"batch size must be >= 1 (or 'full' for full-batch), got {value}")
    return value


def add_model_flags(p: argparse.ArgumentParser) -> None:
    """Data and model flags. Defaults are suppressed so a ``--config`` file can supply them."""
    g = p.add_argument_group("data")
    g.add_argument("--config", metavar="FILE.toml", help="TOML file of flag values; flags given here override it")
    g.add_argument("--dataset", default=S,
                   help="shapeset, mnist, fashion-mnist, cifar10, synthetic-... (default shapeset)")
    g.add_argument("--data-dir", default=S,
                   help="folder holding the datasets (default: $TRAINLAB_DATA, else ~/.cache/trainlab/data)")
    g.add_argument("--preprocess", default=S, type=parse_preprocess, metavar="LIST",
                   help="comma-separated preprocessing, e.g. mean,std or zca")
    g = p.add_argument_group("model")
    g.add_argument("--model", default=S, type=_model_name, metavar="NAME",
                   help="mlp (default) or cnn; `trainlab doctor` also takes your own, FILE.py:FACTORY")
    g.add_argument("--depth", default=S, type=int, help="hidden layers (0 = linear classifier; default 2)")
    g.add_argument("--width", default=S, type=int, help="units per hidden layer (default 100)")
    g.add_argument("--activation", default=S, choices=ACTIVATIONS, help="default tanh")
    g.add_argument("--init", default=S, type=listable(str), metavar="SCHEME",
                   help="weight initialization (default glorot-uniform); see trainlab.init")
    g.add_argument("--init-std", default=S, type=float, help="std for --init normal (default 0.01)")
    g.add_argument("--init-scale", default=S, type=float, help="multiply initial weights by this (default 1)")
    g.add_argument("--batch-norm", default=S, choices=BATCH_NORM, help="none (default), before or after the activation")
    g.add_argument("--bn-stats", default=S, choices=BN_STATS,
                   help="test-time batch-norm statistics: ema (default, running average) or algorithm2 "
                        "(Ioffe & Szegedy: averages over the training batches, computed after training)")
    g.add_argument("--loss", default=S, choices=LOSSES, help="softmax (default) or svm")
    g.add_argument("--seed", default=S, type=listable(int), help="random seed (default 0)")
    g.add_argument("--device", default=S, choices=DEVICES, help="default cpu")


def add_train_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("optimization")
    g.add_argument("--optimizer", default=S, choices=OPTIMIZERS,
                   help="sgd (default), momentum (SGD with momentum 0.9) or adam")
    g.add_argument("--lr", default=S, type=listable(float), help="learning rate (default 0.01)")
    g.add_argument("--momentum", default=S, type=float, help="SGD momentum (default 0; 0.9 for --optimizer momentum)")
    g.add_argument("--weight-decay", default=S, type=float, help="L2 strength lambda of 0.5*lambda*||W||^2 (default 0)")
    g.add_argument("--schedule", default=S, choices=SCHEDULES, help="learning-rate schedule (default constant)")
    g.add_argument("--lr-step-every", default=S, type=int, help="steps between decays for --schedule step")
    g.add_argument("--lr-gamma", default=S, type=float, help="decay factor for --schedule step (default 0.1)")
    g.add_argument("--batch-size", default=S, type=_batch_size, help="examples per step, or 'full' (default 64)")
    g.add_argument("--epochs", default=S, type=float, help="training epochs (default 1 unless --steps)")
    g.add_argument("--steps", default=S, type=int, help="training steps (overrides --epochs)")
    g.add_argument("--eval-every", default=S, type=int, help="validate every N steps (default: each epoch)")
    g.add_argument("--log-every", default=S, type=int, help="record the training loss every N steps (default 50)")
    g.add_argument("--checkpoint-every", default=S, type=int, help="checkpoint every N steps (default 1000)")
    g.add_argument("--probe", default=S, metavar="SPEC",
                   help="record per-layer statistics into the run: every=N[,batch=300][,train][,jacobian]")


LISTABLE = ("lr", "init", "seed")  # `trainlab train --lr 0.01,0.1 --seed 0,1` trains their product as a population


def listable(kind: type) -> Any:
    """An argparse type: one value as ``kind``, or a comma-separated list as a tuple of them."""
    def parse(text: str) -> Any:
        try:
            values = tuple(kind(item.strip()) for item in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__} or a comma-separated list, "
                                             f"got {text!r}") from None
        return values[0] if len(values) == 1 else values
    return parse


def configs_from_args(args: argparse.Namespace, **overrides: Any) -> list[TrainConfig]:
    """Like :func:`config_from_args`, with lists for ``LISTABLE`` flags expanded to their product."""
    import itertools

    values: dict[str, Any] = load_toml(args.config) if getattr(args, "config", None) else {}
    values.update({k: v for k, v in vars(args).items() if k in LISTABLE})
    lists = {k: list(v) for k, v in values.items() if k in LISTABLE and isinstance(v, (list, tuple))}
    combos = [dict(zip(lists, combo)) for combo in itertools.product(*lists.values())]
    if len(combos) > MAX_MEMBERS:
        raise UserError(f"the lists of --lr/--init/--seed make {len(combos):,} runs, more than {MAX_MEMBERS:,} "
                        f"in one population; use shorter lists")
    configs = [_config(args, {**overrides, **combo}) for combo in combos]
    _refuse_impossible(args, configs)
    return configs


def _model_name(text: str) -> str:
    from trainlab.cli.user_inputs import is_model_file

    if text in MODELS or is_model_file(text):
        return text
    raise argparse.ArgumentTypeError(f"unknown model {text!r}; choose one of: {', '.join(MODELS)} (or, for "
                                     "trainlab doctor, your own: FILE.py:FACTORY)")


def config_from_args(args: argparse.Namespace, **overrides: Any) -> TrainConfig:
    """Defaults, then the ``--config`` file, then flags on the command line.

    Everything the arguments alone show to be impossible is refused here, before any data
    loads: the configuration's values, its probe settings, a model or a budget no machine
    could hold or finish (:func:`trainlab.budget.check`), and an unusable ``--out``.
    """
    config = _config(args, overrides)
    _refuse_impossible(args, [config])
    return config


def _config(args: argparse.Namespace, overrides: dict[str, Any]) -> TrainConfig:
    from trainlab.cli.user_inputs import is_model_file

    values: dict[str, Any] = load_toml(args.config) if getattr(args, "config", None) else {}
    if is_model_file(getattr(args, "model", None)):
        raise UserError(f"--model {args.model}: your own model file is taken by `trainlab doctor` only; here give "
                        f"one of: {', '.join(MODELS)}")
    fields = set(TrainConfig.__dataclass_fields__)
    for key, value in vars(args).items():
        if key in fields:
            values[key] = value
    values.update(overrides)
    for key in LISTABLE:
        if isinstance(values.get(key), (list, tuple)):
            raise UserError(f"--{key} got a list {values[key]!r}; only `trainlab train` trains lists (as a population)")
    return TrainConfig.from_dict(values)


def _refuse_impossible(args: argparse.Namespace, configs: list[TrainConfig]) -> None:
    from trainlab import budget

    if configs[0].probe:
        check_probe(configs[0].probe)
    budget.check(configs)
    if getattr(args, "out", None):
        writable_folder(args.out)


MAX_MEMBERS = 10_000  # runs in one population
MAX_PROBE_EVERY = 10**9
MAX_PROBE_BATCH = 10**6
MAX_PROBE_BINS = 10**5


def check_probe(spec: str) -> None:
    """Parse ``--probe`` now (it is otherwise parsed once training starts) and bound its counts."""
    from trainlab.probe.config import ProbeConfig

    probe = ProbeConfig.parse(spec)
    for name, value, limit in (("every", probe.every, MAX_PROBE_EVERY), ("batch", probe.batch, MAX_PROBE_BATCH),
                               ("bins", probe.bins, MAX_PROBE_BINS), ("sample", probe.sample, MAX_PROBE_BATCH),
                               ("jacobian-examples", probe.jacobian_examples, MAX_PROBE_BATCH)):
        if value > limit:
            raise UserError(f"--probe {name}={value} is more than {limit:,}; use a smaller value")


def writable_folder(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """``path`` as a folder trainlab can create or write into, else a :class:`UserError` naming why.

    Checked before any work, so a run is not lost at its first checkpoint: an existing file,
    a path under a file, and a read-only folder are refused.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{flag} {folder} is an existing file, not a folder; give a folder path")
    existing = folder
    while not existing.exists():  # the nearest ancestor that exists is where the folder will be made
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UserError(f"{flag} {folder} lies under {existing}, which is a file; give a folder path")
    if existing.exists() and not os.access(existing, os.W_OK | os.X_OK):
        action = "write into" if existing == folder else f"create {folder} in"
        raise UserError(f"{flag}: cannot {action} {existing} (read-only); give a folder you can write to")
    return folder


def emit_json(obj: Any) -> None:
    """Write exactly one JSON object to stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    sys.stdout.flush()


def require(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(message)

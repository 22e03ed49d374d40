"""``trainlab train``: train one configuration into a run directory, or lists of them as one population."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainlab.cli.common import add_model_flags, add_train_flags, configs_from_args, emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model into a run directory",
                       description="Train a model; metrics, checkpoints and the configuration go into a run directory.")
    add_model_flags(p)
    add_train_flags(p)
    p.add_argument("--out", help="run directory (default runs/<time>-<dataset>-<model>...)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    configs = configs_from_args(args)
    if len(configs) > 1:  # lists for --lr/--init/--seed: their product, as one population
        from trainlab.population import train_population
        from trainlab.runs import default_population_dir

        out = Path(args.out) if args.out else default_population_dir(configs)
        results = train_population(configs, out=out, progress=not args.quiet)
        return report_population(out, results, as_json=args.json, quiet=args.quiet)
    from trainlab.train import train

    return report(train(configs[0], out=args.out, progress=not args.quiet), args.json, quiet=args.quiet)


def stopped(command: str, stopped_by: str | None, step: int, folder: str | Path, *, quiet: bool) -> int:
    """The exit status of a run a signal stopped (130 for SIGINT, 143 for SIGTERM), saying so once:
    the loop's progress already did unless ``quiet``."""
    from trainlab.loop import signal_exit_status, stopped_message

    if quiet:
        print(f"trainlab {command}: {stopped_message(stopped_by, step, folder)}", file=sys.stderr)
    return signal_exit_status(stopped_by)


def report(result, as_json: bool, *, quiet: bool = False, command: str = "train") -> int:
    """A lone run's outcome on stderr and its folder on stdout, or one JSON object; the exit status."""
    if result.status == "interrupted":
        if as_json:
            emit_json(result.to_dict())
        else:
            print(f"run directory: {result.run_dir}")
        return stopped(command, result.stopped_by, result.steps, result.run_dir, quiet=quiet)
    if as_json:
        emit_json(result.to_dict())
        return 0
    acc = f"{result.test_accuracy:.4f}" if result.test_accuracy is not None else "n/a"
    print(f"{result.status}: {result.steps} steps, test accuracy {acc}, "
          f"{result.samples_per_second:,.0f} samples/s", file=sys.stderr)
    print(f"run directory: {result.run_dir}")
    return 0


def report_population(out: Path, results, *, as_json: bool, quiet: bool = False, command: str = "train") -> int:
    """Each member's outcome on stderr and the folder on stdout, or one JSON object; the exit status."""
    if as_json:
        emit_json({"run_dir": str(out), "seconds": round(results.seconds, 4),
                   "member_steps_per_second": round(results.member_steps_per_second, 2),
                   "members": [r.to_dict() for r in results]})
    if results.stopped_by is not None:
        if not as_json:
            print(f"run directory: {out}")
        step = max((r.steps for r in results if r.status == "interrupted"), default=0)
        return stopped(command, results.stopped_by, step, out, quiet=quiet)
    if as_json:
        return 0
    for config, result in zip(results.configs, results):
        acc = f"{result.test_accuracy:.4f}" if result.test_accuracy is not None else "n/a"
        print(f"{Path(result.run_dir).name}: lr {config.lr:g}, init {config.init}, seed {config.seed}: "
              f"{result.status}, {result.steps} steps, test accuracy {acc}", file=sys.stderr)
    print(f"{len(results)} members, {results.member_steps_per_second:,.0f} member-steps/s", file=sys.stderr)
    print(f"run directory: {out}")
    return 0

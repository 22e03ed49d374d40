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
        report_population(out, train_population(configs, out=out, progress=not args.quiet), as_json=args.json)
        return 0
    from trainlab.train import train

    report(train(configs[0], out=args.out, progress=not args.quiet), args.json)
    return 0


def report(result, as_json: bool) -> None:
    """A lone run's outcome on stderr and its folder on stdout, or one JSON object."""
    if as_json:
        emit_json(result.to_dict())
        return
    acc = f"{result.test_accuracy:.4f}" if result.test_accuracy is not None else "n/a"
    print(f"{result.status}: {result.steps} steps, test accuracy {acc}, "
          f"{result.samples_per_second:,.0f} samples/s", file=sys.stderr)
    print(f"run directory: {result.run_dir}")


def report_population(out: Path, results, *, as_json: bool) -> None:
    """Each member's outcome on stderr and the folder on stdout, or one JSON object."""
    if as_json:
        emit_json({"run_dir": str(out), "seconds": round(results.seconds, 4),
                   "member_steps_per_second": round(results.member_steps_per_second, 2),
                   "members": [r.to_dict() for r in results]})
        return
    for config, result in zip(results.configs, results):
        acc = f"{result.test_accuracy:.4f}" if result.test_accuracy is not None else "n/a"
        print(f"{Path(result.run_dir).name}: lr {config.lr:g}, init {config.init}, seed {config.seed}: "
              f"{result.status}, {result.steps} steps, test accuracy {acc}", file=sys.stderr)
    print(f"{len(results)} members, {results.member_steps_per_second:,.0f} member-steps/s", file=sys.stderr)
    print(f"run directory: {out}")

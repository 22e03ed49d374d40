"""``trainlab train``: train one configuration into a run directory."""
from __future__ import annotations

import argparse
import sys

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
    from trainlab.train import train

    configs = configs_from_args(args)
    if len(configs) > 1:  # lists for --lr/--init/--seed: their product, as one population
        from trainlab.population.command import run_population

        run_population(configs, out=args.out, progress=not args.quiet, as_json=args.json)
        return 0
    config = configs[0]
    result = train(config, out=args.out, progress=not args.quiet)
    report(result, args.json)
    return 0


def report(result, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
        return
    acc = f"{result.test_accuracy:.4f}" if result.test_accuracy is not None else "n/a"
    print(f"{result.status}: {result.steps} steps, test accuracy {acc}, "
          f"{result.samples_per_second:,.0f} samples/s", file=sys.stderr)
    print(f"run directory: {result.run_dir}")

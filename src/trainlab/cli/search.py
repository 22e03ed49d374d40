"""``trainlab search SPACE.toml``: a hyperparameter search, trials trained as populations."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trainlab.cli.common import emit_json, writable_folder
from trainlab.errors import UserError

# Bounds far beyond any real study, so a typo is refused at once instead of running for ever.
LIMITS = {"trials": 10**6, "population": 10_000, "stages": 100, "folds": 1_000}
MAX_HEARTBEAT = 24 * 3600.0
SAMPLER_SEEDS = 2**32  # Optuna's samplers seed NumPy, which takes 0 <= seed < 2**32


def add_parser(sub: argparse._SubParsersAction) -> None:
    from trainlab.search.samplers import PRUNERS, SAMPLERS

    p = sub.add_parser("search", help="hyperparameter search (Optuna) over a TOML search space",
                       description="Search the ranges of a TOML search-space file (see examples/search-space.toml); "
                                   "trials train as populations; results in a study folder with report.html.")
    p.add_argument("space", metavar="SPACE.toml", help="search-space file: [fixed] values and [params.NAME] ranges")
    p.add_argument("--trials", type=int, default=20, help="trials in all (default 20)")
    p.add_argument("--population", type=int, default=1, metavar="K",
                   help="ask K trials at once and train them as one population")
    p.add_argument("--sampler", default="tpe", choices=sorted(SAMPLERS), help="default tpe")
    p.add_argument("--pruner", default="none", choices=sorted(PRUNERS), help="stop unpromising trials (default none)")
    p.add_argument("--stages", type=int, default=1,
                   help="coarse-to-fine: short runs on wide ranges first, then narrowed ranges")
    p.add_argument("--lr-first", action="store_true",
                   help="tune the learning rate alone, then the rest, then the rate again")
    p.add_argument("--folds", type=int, default=1,
                   help="k-fold cross-validation on the training split (default 1: the validation split)")
    p.add_argument("--metric", default="val_accuracy", choices=("val_accuracy", "val_loss"))
    p.add_argument("--storage",
                   help="database URL shared by workers, e.g. postgresql://user@host/db (default: SQLite in --out)")
    p.add_argument("--study-name", default="search", help="study name in the storage (default search)")
    p.add_argument("--heartbeat", type=float, default=30.0,
                   help="seconds between trial heartbeats; a trial silent for 3x this is marked failed")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (give each worker its own)")
    p.add_argument("--out", default="study", help="study folder (default ./study)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def check_counts(args: argparse.Namespace) -> None:
    """Refuse impossible counts, heartbeat and seed before the search space is read."""
    import math

    for name, limit in LIMITS.items():
        value = getattr(args, name)
        if not 1 <= value <= limit:
            raise UserError(f"--{name} must be between 1 and {limit:,}, got {value}")
    if not (math.isfinite(args.heartbeat) and 0 < args.heartbeat <= MAX_HEARTBEAT):
        raise UserError(f"--heartbeat must be a number of seconds in (0, {MAX_HEARTBEAT:g}], got {args.heartbeat}")
    if not 0 <= args.seed < SAMPLER_SEEDS:
        raise UserError(f"--seed must be in [0, 2**32) (it seeds NumPy), got {args.seed}")


def run(args: argparse.Namespace) -> int:
    check_counts(args)
    writable_folder(args.out)
    import optuna

    from trainlab.search import SearchConfig, load_space, run_search

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = SearchConfig(space=load_space(args.space), out=Path(args.out), trials=args.trials,
                          population=args.population, sampler=args.sampler, pruner=args.pruner, stages=args.stages,
                          lr_first=args.lr_first, folds=args.folds, metric=args.metric, storage=args.storage,
                          study_name=args.study_name, seed=args.seed, heartbeat=args.heartbeat,
                          progress=not args.quiet)
    summary = run_search(config)
    if args.json:
        emit_json(summary)
        return 0
    best = summary["best"]
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if best:
        print(f"best {summary['metric']} {best['value']:.4g}: "
              + ", ".join(f"{k}={v}" for k, v in summary["best_params"].items()), file=sys.stderr)
    print(f"report: {summary['report']}")
    return 0

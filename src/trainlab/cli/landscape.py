"""``trainlab landscape RUN_DIR``: the loss around a run's trained weights, plotted into the run."""
from __future__ import annotations

import argparse
import sys

from trainlab.cli.common import emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("landscape", help="plot the loss around a run's weights",
                       description="Loss along one or two filter-normalized random directions (Li et al. 2018) "
                                   "around a run's checkpoint, or along the line to another run's checkpoint "
                                   "(--to). Writes landscape-1d.png or landscape-2d.png and landscape.json "
                                   "into RUN_DIR.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory with a checkpoint")
    p.add_argument("--dims", type=int, choices=(1, 2), default=1, help="1 (line, default) or 2 (contour)")
    p.add_argument("--points", type=int, default=51, help="grid points per axis (default 51)")
    p.add_argument("--span", type=float, default=1.0,
                   help="directions: alpha in [-span, span]; --to: t in [-span/2, 1 + span/2] (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random directions (default 0)")
    p.add_argument("--batch", type=int, default=1000, help="training examples the loss is averaged over (default 1000)")
    p.add_argument("--to", metavar="OTHER_RUN_DIR", help="interpolate linearly to this run's checkpoint (1-D)")
    p.add_argument("--json", action="store_true", help="print landscape.json's object on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trainlab import budget
    from trainlab.landscape import LandscapeConfig, landscape
    from trainlab.runs import RunDir

    config = LandscapeConfig(dims=args.dims, points=args.points, span=args.span, examples=args.batch, seed=args.seed)
    run_config = RunDir(args.run_dir).config()  # a clear error for a folder that is not a run, before any work
    budget.check_evaluations(run_config, config.points ** config.dims, config.examples)
    def announce() -> None:  # after the checkpoints load, so a damaged one is the only line
        print(f"evaluating {config.points ** config.dims} points ...", file=sys.stderr, flush=True)

    record = landscape(args.run_dir, config, to=args.to, on_start=announce)
    if args.json:
        emit_json(record)
    else:
        print(f"{record['run_dir']}/{record['figure']}")
    return 0

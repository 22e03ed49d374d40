"""``trainlab reproduce``: run a classic experiment and check its claims against our numbers."""
from __future__ import annotations

import argparse
import sys

from trainlab.cli.common import emit_json, writable_folder
from trainlab.config import SEED_LIMIT
from trainlab.experiments.base import PROFILES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help="reproduce a classic result (see --list)",
                       description="Run a reproduction; writes results.json and report.html into --out.")
    p.add_argument("name", nargs="?", metavar="NAME", help="the reproduction to run (see --list)")
    p.add_argument("--list", action="store_true", help="list the reproductions and exit")
    p.add_argument("--profile", default="quick", choices=PROFILES,
                   help="budget: smoke (seconds, for tests), quick (default, minutes), standard (an hour or so, "
                        "where a reproduction has one) or full (the paper's)")
    p.add_argument("--out", help="output folder (default reproductions/NAME-PROFILE)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--data-dir", help="folder holding the datasets (default: $TRAINLAB_DATA)")
    p.add_argument("--json", action="store_true", help="print exactly the results.json object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trainlab.errors import UserError
    from trainlab.experiments import load_all
    from trainlab.experiments.base import Context, get_experiment, require_profile, run_experiment

    if args.list:
        experiments = load_all()
        if args.json:
            emit_json({name: {"title": cls.title, "source": cls.source, "summary": cls.summary}
                       for name, cls in sorted(experiments.items())})
        else:
            for name, cls in sorted(experiments.items()):
                print(f"{name:28s} {cls.title} ({cls.source})")
        return 0
    if not args.name:
        raise UserError("name a reproduction to run, e.g. `trainlab reproduce cs231n-activations`; see --list")
    require_profile(get_experiment(args.name), args.profile)  # an unknown name or profile fails before any folder
    if not 0 <= args.seed < SEED_LIMIT:
        raise UserError(f"--seed must be in [0, 2**63), got {args.seed}")
    out = writable_folder(args.out or f"reproductions/{args.name}-{args.profile}")
    ctx = Context(out=out, profile=args.profile, seed=args.seed, data_dir=args.data_dir,
                  progress=not (args.quiet or args.json))
    record = run_experiment(args.name, ctx)
    if args.json:
        emit_json(record)
        return 0
    for claim in record["claims"]:
        verdict = {True: "holds", False: "DOES NOT HOLD", None: "not testable"}[claim["holds"]]
        print(f"  [{verdict}] {claim['id']}: {claim['evidence']}", file=sys.stderr)
    print(f"{args.name} ({args.profile}) in {record['seconds']:.1f} s; report: {out / 'report.html'}", file=sys.stderr)
    print(out / "report.html")
    return 0

"""``trainlab resume DIR``: continue an interrupted run from its last checkpoint."""
from __future__ import annotations

import argparse
from pathlib import Path

from trainlab.cli.train import report, report_population


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("resume", help="continue an interrupted run",
                       description="Continue a run (or a population from `trainlab train` with lists) from its "
                                   "last checkpoint; it ends with the numbers an uninterrupted run would "
                                   "have (CPU, same seed).")
    p.add_argument("run_dir", metavar="DIR", help="the run directory")
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trainlab.runs import is_population_dir

    if is_population_dir(args.run_dir):  # `trainlab train` with lists wrote member-000, member-001, ...
        from trainlab.population import resume_population

        results = resume_population(args.run_dir, progress=not args.quiet)
        return report_population(Path(args.run_dir), results, as_json=args.json, quiet=args.quiet, command="resume")
    from trainlab.train import resume

    return report(resume(args.run_dir, progress=not args.quiet), args.json, quiet=args.quiet, command="resume")

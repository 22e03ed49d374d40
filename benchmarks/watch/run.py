"""The buggy-loop benchmark of ``trainlab.watch``: plain PyTorch loops with one real bug each, and correct ones.

Each case (``cases_*.py``) states the finding id that must be flagged (or none, for a correct loop)
and where the bug comes from, next to the loop; ``harness.py`` runs them, 100 optimizer steps each at
the default cadence (``every=50``), and scores them. The watcher's thresholds are its own
(``trainlab.watcher.rules``); nothing here tunes them.

    TRAINLAB_DATA=../shared/data python benchmarks/watch/run.py [--only NAME] [--markdown PATH] [--verbose]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the cases whose name contains this (or that expect this id)")
    parser.add_argument("--markdown", type=Path, help="also write the table and the summary to this file")
    parser.add_argument("--verbose", action="store_true", help="print every finding's evidence")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import all_cases, evidence, run_case, summary, table

    results = []
    for case in all_cases(args.only):
        print(f"# {case.name} ...", file=sys.stderr, flush=True)
        results.append(run_case(case))
    text = f"{table(results)}\n\n{summary(results)}\n"
    print(text)
    if args.verbose:
        print(evidence(results))
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
        print(f"wrote {args.markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

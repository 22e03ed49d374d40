"""``make bench``'s view of the buggy-loop benchmark (``benchmarks/watch/run.py`` prints the full table).

Detection has no published target to hold it to, so the rows carry no ``passed`` field: misses and
false alarms are reported, and do not fail ``make bench``.
"""
from __future__ import annotations

import sys
from pathlib import Path


def run(quick: bool) -> list[dict]:
    """Every case (``quick`` changes nothing: the whole benchmark takes a few minutes); the table goes to stderr."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import all_cases, run_case, summary, table

    results = [run_case(case) for case in all_cases()]
    print(f"{table(results)}\n\n{summary(results)}", file=sys.stderr)
    buggy = [r for r in results if r.case.expected is not None]
    healthy = [r for r in results if r.case.expected is None]
    caught, quiet = sum(r.correct for r in buggy), sum(r.correct for r in healthy)
    return [
        {"benchmark": "bench_watch_loops", "case": "buggy loops flagged with the right id", "ours": caught,
         "baseline": len(buggy), "unit": "loops", "ratio": caught / len(buggy), "target": "(none)"},
        {"benchmark": "bench_watch_loops", "case": "correct loops with no finding", "ours": quiet,
         "baseline": len(healthy), "unit": "loops", "ratio": quiet / len(healthy), "target": "(none)"},
    ]

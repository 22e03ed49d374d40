"""``make bench``'s view of the doctor's fault benchmark (``benchmarks/doctor/run.py`` prints every table).

Rows carry the issue's targets: detection >= 95%, correct top diagnosis >= 75%, no fail and at most one
warning on each healthy case, median <= 30 s per case.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(quick: bool) -> list[dict]:
    """Every case (``quick`` changes nothing: the cases are the benchmark); the tables go to stderr."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.doctor.harness import TARGETS, all_cases, report, run_case, scores

    results = [run_case(case) for case in all_cases()]
    print(report(results), file=sys.stderr)
    s = scores(results)
    name = "bench_doctor"
    return [
        {"benchmark": name, "case": f"faulty cases detected (a fail), {s['causes']} causes", "ours": s["detected"],
         "baseline": s["faulty"], "unit": "cases", "ratio": s["detection"], "target": ">= 0.95",
         "passed": s["detection"] >= TARGETS["detection"]},
        {"benchmark": name, "case": f"correct top diagnosis ({s['diagnosis_mode']})", "ours": s["top_correct"],
         "baseline": s["faulty"], "unit": "cases", "ratio": s["top"], "target": ">= 0.75",
         "passed": s["top"] >= TARGETS["top"]},
        {"benchmark": name, "case": "healthy cases without a fail", "ours": s["healthy_without_fail"],
         "baseline": s["healthy"], "unit": "cases", "ratio": s["healthy_without_fail"] / s["healthy"],
         "target": "all", "passed": s["healthy_without_fail"] == s["healthy"]},
        {"benchmark": name, "case": "healthy cases with at most one warning", "ours": s["healthy_at_most_one_warning"],
         "baseline": s["healthy"], "unit": "cases", "ratio": s["healthy_at_most_one_warning"] / s["healthy"],
         "target": "all", "passed": s["healthy_at_most_one_warning"] == s["healthy"]},
        {"benchmark": name, "case": f"median seconds per case ({s['threads']} threads)", "ours": s["median_seconds"],
         "baseline": "", "unit": "s", "ratio": s["median_seconds"], "target": "<= 30",
         "passed": s["median_seconds"] <= TARGETS["median_seconds"]},
    ]

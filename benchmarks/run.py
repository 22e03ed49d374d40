"""Run every benchmark in this folder and print one table and one JSON file.

Each ``benchmarks/bench_*.py`` exposes ``run(quick: bool) -> list[dict]``; a row
has ``benchmark``, ``case``, ``ours``, ``baseline``, ``unit``, ``ratio`` (ours
relative to the plain-PyTorch baseline timed in the same process), ``target``
(the ratio the issue asks for) and ``passed``. Timing lives here and only here:
tests never time anything.

    python benchmarks/run.py [--quick] [--only NAME] [--out bench-results]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(only: str | None) -> list[Path]:
    files = sorted(HERE.glob("bench_*.py")) + sorted(HERE.glob("*/bench_*.py"))  # watch/bench_watch_loops.py
    return [f for f in files if only is None or only in f.stem]


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for a smoke run)")
    parser.add_argument("--only", help="run only benchmarks whose file name contains this")
    parser.add_argument("--out", default="bench-results", help="folder for results.json")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    for path in discover(args.only):
        started = time.perf_counter()
        print(f"# {path.stem} ...", file=sys.stderr, flush=True)
        rows.extend(load(path).run(quick=args.quick))
        print(f"# {path.stem} done in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    cols = ["benchmark", "case", "ours", "baseline", "unit", "ratio", "target", "passed"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(fmt(row.get(c, "")) for c in cols) + " |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\nwrote {out / 'results.json'}", file=sys.stderr)
    return 0 if all(r.get("passed", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

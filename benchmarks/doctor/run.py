"""The doctor's fault benchmark: faulty patients with one fault each and healthy ones, every ground truth
(faulty or not, the cause, the check that should lead) and provenance stated in ``cases_*.py`` before any run.

``harness.py`` examines each patient with the doctor's default budget and scores the reports; the
doctor's thresholds are its own, nothing here tunes them.

    TRAINLAB_DATA=../shared/data python benchmarks/doctor/run.py [--only NAME] [--markdown PATH] [--json PATH]
                                                                  [--threads N] [--treat] [--workers N]
                                                                  [--verbose] [--list]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="run only the cases whose name contains this (or whose cause or lead it is)")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--json", type=Path, help="also write every case's statuses, evidence and the scores here")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own, one per core)")
    parser.add_argument("--verbose", action="store_true", help="print every check's evidence")
    parser.add_argument("--treat", action="store_true", help="also test treatments (examine(treat=True))")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes to spread the cases over, one torch thread each (default 1)")
    parser.add_argument("--list", action="store_true", help="print the causes and the cases (ground truth, "
                                                            "provenance) without running the doctor")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import torch

    from benchmarks.doctor.harness import all_cases, catalogue, evidence, report, run_case, to_json

    if args.threads:
        torch.set_num_threads(args.threads)
    cases = all_cases(args.only)
    if not cases:
        print(f"no case matches {args.only!r}", file=sys.stderr)
        return 2
    if args.list:
        print(catalogue(cases))
        return 0
    def done(r) -> None:
        print(f"# {r.case.name} {r.seconds:.1f}s fails: {', '.join(r.fails) or '-'}; warns: "
              f"{', '.join(r.warns) or '-'}" + (f"; error: {r.error}" if r.error else ""), file=sys.stderr, flush=True)

    if args.workers > 1:
        from benchmarks.doctor.harness import run_named
        from trainlab.workers import run_jobs

        results = run_jobs(run_named, [(c.name, args.treat) for c in cases], workers=args.workers,
                           on_done=lambda i, _: print(f"# [{i + 1}/{len(cases)}] {cases[i].name} done",
                                                      file=sys.stderr, flush=True))
        for r in results:
            done(r)
    else:
        results = []
        for i, case in enumerate(cases, 1):
            print(f"# [{i}/{len(cases)}] {case.name} ...", file=sys.stderr, flush=True)
            results.append(run_case(case, treat=args.treat))
            done(results[-1])
    text = report(results)
    print(text)
    if args.verbose:
        print(evidence(results))
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
        print(f"wrote {args.markdown}", file=sys.stderr)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(results), indent=2, default=str) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``trainlab report DIR``: one self-contained report.html for a run or a reproduction."""
from __future__ import annotations

import argparse
import sys

from trainlab.cli.common import emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a self-contained report.html for a run or reproduction folder",
                       description="Write report.html (figures inline, no network needed) with the configuration, "
                                   "curves, probe figures and plain-language verdicts.")
    p.add_argument("dir", metavar="DIR", help="a run directory or population folder (from trainlab train) "
                                              "or a reproduction folder")
    p.add_argument("--out", help="where to write the report (default DIR/report.html)")
    p.add_argument("--json", action="store_true", help="print {\"report\": PATH} on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from trainlab.cli.common import writable_folder
    from trainlab.report.run_report import write_report

    if args.out:  # a .html file, or a folder to write report.html into
        out = Path(args.out)
        writable_folder(out.parent if out.suffix == ".html" else out)
    path = write_report(args.dir, args.out)
    if args.json:
        emit_json({"report": str(path)})
    else:
        print(f"report: {path}", file=sys.stderr)
        print(path)
    return 0

"""``trainlab doctor``: run the sanity checks on a configured model and its data.

Exit status: 0 when no check fails (warnings allowed), 1 when any check fails, 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys

from trainlab.cli.common import add_model_flags, add_train_flags, config_from_args, emit_json
from trainlab.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from trainlab.doctor import ORDER

    p = sub.add_parser("doctor", help="check a model, its data and its learning rate before training",
                       description="Run the sanity checks of 'babysitting the learning process' on the configured "
                                   "model and data: what is wrong, the evidence, and what to do. "
                                   f"Checks, in order: {', '.join(ORDER)}.")
    add_model_flags(p)
    add_train_flags(p)
    p.add_argument("--checks", metavar="ID,ID", help="run only these checks (default: all)")
    p.add_argument("--out", metavar="DIR", help="write report.html and report.json into DIR")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def parse_checks(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise UserError("--checks needs at least one check id, e.g. --checks data,initial-loss")
    return ids


def run(args: argparse.Namespace) -> int:
    from trainlab.doctor import examine
    from trainlab.loop import make_model, prepare_data, resolve_device

    checks = parse_checks(args.checks)
    config = config_from_args(args)
    dataset = prepare_data(config)
    model = make_model(config, dataset).to(resolve_device(config.device))

    def progress(result) -> None:
        if not args.quiet:
            print(f"{result.status:7} {result.id} ({result.seconds:.1f} s): {result.evidence}",
                  file=sys.stderr, flush=True)

    report = examine(model, config.loss, dataset, num_classes=dataset.num_classes, checks=checks, lr=config.lr,
                     optimizer=config.optimizer, momentum=config.effective_momentum, weight_decay=config.weight_decay,
                     batch_size=config.batch_size or 1024, seed=config.seed, on_result=progress)  # full batch: capped
    report.meta.update(dataset=config.dataset, config=config.to_dict())
    if args.out:
        report.save(args.out)
    if args.json:
        emit_json(report.to_json())
    else:
        print(report.to_text())
        if args.out:
            print(f"report: {args.out}/report.html")
    return 1 if report.failed else 0

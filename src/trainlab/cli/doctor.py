"""``trainlab doctor``: run the sanity checks on a configured model and its data.

Exit status: 0 when no check fails (warnings allowed), 1 when any check fails, 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys

from trainlab.cli.common import add_model_flags, add_train_flags, config_from_args, emit_json
from trainlab.cli.user_inputs import is_model_file, load_arrays, load_model
from trainlab.data.base import Dataset, Split
from trainlab.errors import UserError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from trainlab.doctor import ORDER

    p = sub.add_parser("doctor", help="check a model, its data and its learning rate before training",
                       description="Run the sanity checks of 'babysitting the learning process' on the configured "
                                   "model and data: what is wrong, the evidence, and what to do. "
                                   f"Checks, in order: {', '.join(ORDER)}.")
    add_model_flags(p)
    add_train_flags(p)
    p.add_argument("--data", metavar="FILE", help="your own data instead of --dataset: an .npz of arrays x, y "
                                                  "(optionally x_val, y_val) or a .pt of tensors under those keys")
    p.add_argument("--checks", metavar="ID,ID", help="run only these checks (default: all)")
    p.add_argument("--out", metavar="DIR", help="write report.html and report.json into DIR")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--treat", action="store_true",
                   help="then test the catalogue's fixes for the leading causes (5 seeds each, beside the untreated "
                        "setup and a random-change control) and advise only those that beat both")
    p.set_defaults(func=run)


def parse_checks(text: str | None) -> list[str] | None:
    if text is None:
        return None
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        raise UserError("--checks needs at least one check id, e.g. --checks data,initial-loss")
    return ids


def own_dataset(train: Split, val: Split | None) -> Dataset:
    """The user's arrays as a Dataset: classes from the labels, a seeded 10% held out when no x_val is given."""
    from trainlab.doctor.patient import split_off_validation

    if val is None:
        train, val = split_off_validation(train, seed=0)
    classes = int(max(int(train.y.max()), int(val.y.max()))) + 1
    return Dataset("user data", train, val, val, max(classes, 1), tuple(train.x.shape[1:]))


def run(args: argparse.Namespace) -> int:
    from trainlab.doctor import examine
    from trainlab.loop import make_model, prepare_data, resolve_device

    checks = parse_checks(args.checks)
    own_model = getattr(args, "model", None) if is_model_file(getattr(args, "model", None)) else None
    if own_model:
        del args.model  # the rest of the configuration (loss, lr, optimizer...) still applies
    config = config_from_args(args)
    own_data = load_arrays(args.data) if args.data else None  # before any model is built: bad input first
    dataset = prepare_data(config) if own_data is None else own_dataset(*own_data)
    device = resolve_device(config.device)
    model = (load_model(own_model) if own_model else make_model(config, dataset)).to(device)

    def progress(result) -> None:
        if not args.quiet:
            print(f"{result.status:7} {result.id} ({result.seconds:.1f} s): {result.evidence}",
                  file=sys.stderr, flush=True)

    def treated(t) -> None:
        if not args.quiet:
            verdict = "advised" if t.advised else "not advised"
            print(f"treated {t.fix} for {t.cause} ({t.seconds:.1f} s): {verdict}, accuracy "
                  f"{100 * t.accuracy_gain.mean:+.1f} points vs untreated", file=sys.stderr, flush=True)

    report = examine(model, config.loss, dataset.train, dataset.val, num_classes=dataset.num_classes or None,
                     checks=checks, lr=config.lr,
                     optimizer=config.optimizer, momentum=config.effective_momentum, weight_decay=config.weight_decay,
                     batch_size=config.batch_size or 1024, seed=config.seed, on_result=progress,  # full batch: capped
                     treat=args.treat, on_treatment=treated)
    report.meta.update(dataset=args.data or config.dataset, config=config.to_dict(), model_file=own_model)
    if args.out:
        report.save(args.out)
    if args.json:
        emit_json(report.to_json())
    else:
        print(report.to_text())
        if args.out:
            print(f"report: {args.out}/report.html")
    return 1 if report.failed else 0

"""``trainlab gradcheck``: check a configured model's gradients against finite differences.

Exit status: 0 when the verdict is good or acceptable, 1 when it is suspicious
or wrong, 2 on bad input. The verdict is the one of ``--dtype`` (float64 by
default); the other precision is shown beside it unless ``--no-compare``.
"""
from __future__ import annotations

import argparse
import sys

from trainlab.cli.common import add_model_flags, config_from_args, emit_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gradcheck", help="check analytic gradients against numerical ones",
                       description="Compare autograd's gradients of the configured model and loss with "
                                   "centered finite differences on a small batch, per parameter tensor, "
                                   "using the relative-error bands of the CS231n notes. Exit 0 if the "
                                   "verdict is good/acceptable, 1 if suspicious/wrong, 2 on bad input.")
    add_model_flags(p)
    g = p.add_argument_group("gradient check")
    g.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="precision of the check (default float64; float32 is shown for comparison)")
    g.add_argument("--h", type=float, default=1e-5, help="finite-difference step (default 1e-5)")
    g.add_argument("--method", choices=("centered", "forward"), default="centered",
                   help="finite-difference formula (default centered)")
    g.add_argument("--batch", type=int, default=16, help="training examples in the checked batch (default 16)")
    g.add_argument("--weight-decay", type=float, default=0.0,
                   help="L2 strength lambda of 0.5*lambda*||W||^2, checked as its own term (default 0)")
    g.add_argument("--max-coords", type=int, default=200,
                   help="coordinates sampled per parameter tensor (all of a smaller one; default 200)")
    g.add_argument("--no-compare", action="store_true", help="do not also run the other precision")
    g.add_argument("--no-richardson", action="store_true",
                   help="report the raw difference quotients (by default a coordinate above 1e-7 is re-estimated "
                        "at h/2 with Richardson extrapolation, which cancels the truncation error of a curved loss)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from trainlab.errors import UserError
    from trainlab.gradcheck import GradCheckConfig, check_gradients
    from trainlab.gradcheck.settings import DTYPES
    from trainlab.loop import make_model, prepare_data
    from trainlab.losses import get_loss

    check_settings(args)
    config = config_from_args(args)
    dtypes = [args.dtype] + ([] if args.no_compare else [d for d in DTYPES if d != args.dtype])
    configs = {name: GradCheckConfig(h=args.h, method=args.method, dtype=DTYPES[name], max_coords=args.max_coords,
                                     seed=config.seed, richardson=not args.no_richardson) for name in dtypes}
    dataset = prepare_data(config)
    data = dataset.train.epoch(0)
    if args.batch > len(data):
        raise UserError(f"--batch {args.batch} is larger than the {len(data)} training examples; use fewer")
    x, y = data.x[:args.batch], data.y[:args.batch]
    model = make_model(config, dataset)
    loss_fn = get_loss(config.loss)
    reports = {}
    for name, cfg in configs.items():
        print(f"checking {name} ...", file=sys.stderr, flush=True)
        reports[name] = check_gradients(model, loss_fn, x, y, config=cfg, weight_decay=args.weight_decay)
    main = reports[args.dtype]
    if args.json:
        record = main.to_json()
        record["compare"] = {name: {"verdict": r.verdict, "parameters": [
            {"name": p.name, "max_rel_error": p.max_rel_error} for p in r.parameters]}
            for name, r in reports.items() if name != args.dtype}
        emit_json(record)
    else:
        print(format_table(reports, args.dtype))
    return 0 if main.passed else 1


MAX_BATCH = 100_000  # examples in the checked batch: each coordinate costs two passes over them
MAX_COORDS = 10**6


def check_settings(args: argparse.Namespace) -> None:
    """Refuse impossible gradient-check settings before any data loads."""
    import math

    from trainlab.errors import UserError

    if not 1 <= args.batch <= MAX_BATCH:
        raise UserError(f"--batch must be between 1 and {MAX_BATCH:,}, got {args.batch}")
    if not 1 <= args.max_coords <= MAX_COORDS:
        raise UserError(f"--max-coords must be between 1 and {MAX_COORDS:,}, got {args.max_coords}")
    if not (math.isfinite(args.weight_decay) and args.weight_decay >= 0):
        raise UserError(f"--weight-decay must be a finite number >= 0, got {args.weight_decay}")


def format_table(reports: dict, main: str) -> str:
    """Per-tensor errors, one column per precision, then the verdicts."""
    names = list(reports)
    first = reports[main]
    errors = "".join(f"{'max ' + n:>15}{'median ' + n:>17}" for n in names)
    lines = [f"{'parameter':<24}{'checked':>8}{'kinks':>7}" + errors + f"  verdict ({main})"]
    rows = [(p, [{q.name: q for q in reports[n].parameters}[p.name] for n in names]) for p in first.parameters]
    for p, per in rows:
        lines.append(f"{p.name:<24}{p.checked:>8}{p.kinks:>7}"
                     + "".join(f"{q.max_rel_error:>15.2e}{q.median_rel_error:>17.2e}" for q in per) + f"  {p.verdict}")
    for p in first.regularization:
        lines.append(f"{'L2 ' + p.name:<24}{p.checked:>8}{'-':>7}{p.max_rel_error:>15.2e}{p.median_rel_error:>17.2e}"
                     + " " * 32 * (len(names) - 1) + f"  {p.verdict}")
    lines.append("")
    kinked = "has kinks (ReLU/max-pool/hinge): errors up to 1e-4 are acceptable" if first.kinked else "is smooth"
    lines.append(f"objective {kinked}; data loss: {first.data_verdict}"
                 + (f"; L2 term: {first.regularization_verdict}" if first.regularization_verdict else ""))
    refined = sum(p.refined for p in first.parameters)
    if refined:
        lines.append(f"{refined} coordinate(s) re-estimated at h/2 with Richardson extrapolation: the loss is "
                     f"curved enough for the truncation error to show (--no-richardson for the raw quotients)")
    lines.append("verdict: " + ", ".join(f"{n} {reports[n].verdict}" for n in names)
                 + f" (h={first.h:g}, {first.method} differences)")
    return "\n".join(lines)

"""Each patient trained the way its user would train it, without the doctor: the fault's symptom.

A plain loop (shuffled minibatches of the patient's batch size, its optimizer, learning rate, momentum
and L2 weight decay, its loss) for ``--steps`` steps; then the training loss at the start and the end,
whether it went NaN/Inf, and training and validation accuracy in evaluation mode. This checks the
ground truth independently of the doctor: a healthy patient learns, a faulty one shows its fault
(or, for the bugs whose harm is structural, trains regardless; the table says so).

    TRAINLAB_DATA=../shared/data python benchmarks/doctor/symptoms.py [--only NAME] [--steps 300] [--markdown PATH]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def train_plainly(patient, steps: int, seed: int = 0) -> dict:
    import torch

    from trainlab.losses import LOSSES

    model = patient.model
    loss_fn = LOSSES[patient.loss_fn] if isinstance(patient.loss_fn, str) else patient.loss_fn
    params = [p for p in model.parameters() if p.requires_grad]
    if patient.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=patient.lr, weight_decay=patient.weight_decay)
    else:
        momentum = patient.momentum if patient.momentum is not None else (0.9 if patient.optimizer == "momentum" else 0)
        opt = torch.optim.SGD(params, lr=patient.lr, momentum=momentum, weight_decay=patient.weight_decay)
    x, y = patient.train
    gen = torch.Generator().manual_seed(seed)
    losses, size = [], min(patient.batch_size, len(y))
    perm, pos = torch.randperm(len(y), generator=gen), 0
    model.train()
    for _ in range(steps):
        if pos + size > len(y):
            perm, pos = torch.randperm(len(y), generator=gen), 0
        idx = perm[pos:pos + size]
        pos += size
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        losses.append(float(loss))
        if not math.isfinite(losses[-1]):
            break
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = {name: float((model(d[0][:2000]).argmax(1) == d[1][:2000]).float().mean())
               for name, d in (("train", patient.train), ("val", patient.val))}
    tail = losses[-20:]
    return {"first": losses[0], "last": sum(tail) / len(tail), "nonfinite": not all(map(math.isfinite, losses)),
            "steps": len(losses), "train_acc": acc["train"], "val_acc": acc["val"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="only the cases whose name contains this (or whose cause or lead it is)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import torch

    from benchmarks.doctor.harness import all_cases

    rows = ["| case | truth | loss first -> last (steps) | train acc | val acc | s |", "|---|---|---|---|---|---|"]
    for case in all_cases(args.only):
        torch.manual_seed(case.seed)
        started = time.perf_counter()
        try:
            s = train_plainly(case.build(), args.steps, case.seed)
            cells = (f"{s['first']:.3g} -> {s['last']:.3g} ({s['steps']}{', NaN/Inf' if s['nonfinite'] else ''}) | "
                     f"{s['train_acc']:.1%} | {s['val_acc']:.1%}")
        except Exception as exc:  # the row says so
            cells = f"error: {type(exc).__name__}: {str(exc)[:80]} | - | -"
        rows.append(f"| {case.name} | {case.cause or 'healthy'} | {cells} | {time.perf_counter() - started:.1f} |")
        print(rows[-1], flush=True)
    if args.markdown is not None:
        args.markdown.write_text("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

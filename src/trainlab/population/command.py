"""What ``trainlab train`` does with lists (``--lr 0.01,0.1 --seed 0,1,2``): one population."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Sequence

from trainlab.config import TrainConfig
from trainlab.population.engine import PopulationResult, train_population


def default_population_dir(configs: Sequence[TrainConfig], root: str | Path = "runs") -> Path:
    c = configs[0]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stamp}-{c.dataset}-{c.model}{c.depth}x{c.width}-{c.activation}-population{len(configs)}"


def run_population(configs: Sequence[TrainConfig], *, out: str | Path | None, progress: bool,
                   as_json: bool) -> PopulationResult:
    """Train ``configs`` as one population into ``out`` and report each member like a single run."""
    out = Path(out) if out else default_population_dir(configs)
    results = train_population(configs, out=out, progress=progress)
    report_population(out, results, as_json=as_json)
    return results


def report_population(out: Path, results: PopulationResult, *, as_json: bool) -> None:
    """Each member's outcome on stderr and the folder on stdout, or one JSON object."""
    from trainlab.cli.common import emit_json

    if as_json:
        emit_json({"run_dir": str(out), "seconds": round(results.seconds, 4),
                   "member_steps_per_second": round(results.member_steps_per_second, 2),
                   "members": [r.to_dict() for r in results]})
        return
    for config, result in zip(results.configs, results):
        acc = f"{result.test_accuracy:.4f}" if result.test_accuracy is not None else "n/a"
        print(f"{Path(result.run_dir).name}: lr {config.lr:g}, init {config.init}, seed {config.seed}: "
              f"{result.status}, {result.steps} steps, test accuracy {acc}", file=sys.stderr)
    print(f"{len(results)} members, {results.member_steps_per_second:,.0f} member-steps/s", file=sys.stderr)
    print(f"run directory: {out}")

"""What a reproduction is: a named experiment that turns a budget into claims, tables and figures.

Each reproduction states every claim of its source as a :class:`Claim` evaluated
from our own numbers (``holds`` is ``None`` when the budget cannot test it, with
the reason in ``evidence``), keeps the published numbers in ``paper`` so the
report can show them beside ours, and saves the configuration that produced it.
"""
from __future__ import annotations

import importlib
import json
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from trainlab.errors import UserError, choose
from trainlab.runs import write_results

PROFILES = ("smoke", "quick", "standard", "full")
"""Every profile name. smoke: the quick pipeline at a token budget, for tests; standard: between quick and the
paper, for a background run of an hour or so; a reproduction lists the ones it has in ``Experiment.profiles``."""


@dataclass(frozen=True)
class Claim:
    """One statement of the source, checked against our numbers."""

    id: str
    text: str
    holds: bool | None
    evidence: str


def chance_accuracy(labels: Any) -> float:
    """Accuracy of always answering the commonest class of ``labels`` (a tensor or array of class ids)."""
    import numpy as np

    counts = np.bincount(np.asarray(labels).reshape(-1).astype(np.int64))
    return float(counts.max() / counts.sum())


def untrained(accuracy: Mapping[str, float | None], *, chance: float, margin: float, budget: str) -> str | None:
    """Why a comparison of these models cannot be decided, or None when every one trained.

    ``accuracy`` maps a model's name to its accuracy in [0, 1] (None or NaN:
    diverged or never evaluated); a model has trained when its accuracy is at
    least ``margin`` above ``chance``. The reason names each model that did not
    train, with its number, the rule and ``budget`` (what was spent), and says
    what would decide the claim.
    """
    stuck = {name: a for name, a in accuracy.items() if a is None or math.isnan(a) or a < chance + margin}
    if not stuck:
        return None
    described = ", ".join(f"{name} {'diverged' if a is None or math.isnan(a) else f'{a:.1%}'}"
                          for name, a in stuck.items())
    return (f"not testable at this budget: {described} did not train (trained = accuracy at least "
            f"{100 * margin:.0f} points above chance, {chance:.1%}; {budget}); a budget at which "
            f"{'it trains' if len(stuck) == 1 else 'they train'} decides it")


@dataclass(frozen=True)
class Context:
    """Where and how an experiment runs."""

    out: Path
    profile: str = "quick"
    seed: int = 0
    data_dir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        choose("profile", self.profile, PROFILES)

    @property
    def figures_dir(self) -> Path:
        path = self.out / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Result:
    """Everything a reproduction produced; ``to_json`` is the ``results.json`` object."""

    experiment: str
    profile: str
    claims: list[Claim] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    paper: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)  # caption -> PNG path relative to out
    budget: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        from trainlab.runs import versions

        return {
            "experiment": self.experiment,
            "profile": self.profile,
            "claims": [asdict(c) for c in self.claims],
            "tables": self.tables,
            "paper": self.paper,
            "figures": self.figures,
            "budget": self.budget,
            "notes": self.notes,
            "config": self.config,
            "seconds": round(self.seconds, 2),
            "versions": versions(),
        }


class Experiment(ABC):
    """A reproduction. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]  # the citation
    summary: ClassVar[str] = ""
    profiles: ClassVar[tuple[str, ...]] = ("smoke", "quick", "full")

    @abstractmethod
    def run(self, ctx: Context) -> Result:
        """Run at ``ctx.profile``'s budget; save figures under ``ctx.figures_dir``."""


REGISTRY: dict[str, type[Experiment]] = {}


def register(cls: type[Experiment]) -> type[Experiment]:
    """Class decorator adding a reproduction to the registry under ``cls.name``."""
    if cls.name in REGISTRY:
        raise RuntimeError(f"two experiments are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


MODULES: tuple[str, ...] = (
    "cs231n.activations",
    "glorot2010.init_stats",
    "cs231n.bn_before_after",
    "glorot2010.experiment",
    "he2015.experiment",
    "cs231n.optimization",
    "bergstra2012.experiment",
    "ioffe2015.mnist",
    "ioffe2015.learning_rates",
    "cs231n.preprocessing",
)
"""The modules that register a reproduction, relative to :mod:`trainlab.experiments`."""


def load_all() -> dict[str, type[Experiment]]:
    """Import every module in :data:`MODULES`; the registry then holds every reproduction."""
    for module in MODULES:
        importlib.import_module(f"trainlab.experiments.{module}")
    return REGISTRY


def get_experiment(name: str) -> Experiment:
    load_all()
    return REGISTRY[choose("experiment", name, tuple(REGISTRY))]()


def save_figure(fig: Any, ctx: Context, name: str) -> str:
    """Save a matplotlib figure as ``figures/NAME.png``; return the path relative to ``ctx.out``."""
    from trainlab.report.plots import save_png

    return str(save_png(fig, ctx.figures_dir / f"{name}.png", dpi=110).relative_to(ctx.out))


def require_profile(experiment: Experiment, profile: str) -> None:
    """A :class:`UserError` naming the profiles ``experiment`` has, unless ``profile`` is one of them."""
    if profile not in experiment.profiles:
        raise UserError(f"{experiment.name} has no profile {profile!r}; choose one of: "
                        f"{', '.join(experiment.profiles)}")


def run_experiment(name: str, ctx: Context) -> dict[str, Any]:
    """Run one reproduction and write ``results.json`` and ``report.html`` into ``ctx.out``."""
    experiment = get_experiment(name)
    require_profile(experiment, ctx.profile)
    if ctx.out.exists() and not ctx.out.is_dir():
        raise UserError(f"--out {ctx.out} is a file; give a folder")
    ctx.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = experiment.run(ctx)
    result.seconds = time.perf_counter() - started
    record = {**result.to_json(), "title": experiment.title, "source": experiment.source}
    write_results(ctx.out, record, default=_json_default)
    from trainlab.report.html import write_experiment_report

    write_experiment_report(record, ctx.out, title=experiment.title, source=experiment.source)
    return json.loads(json.dumps(record, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")

"""The search space: a TOML file of hyperparameter ranges and the fixed values beside them.

::

    [fixed]                       # any TrainConfig key (flag names, '-' or '_')
    dataset = "fashion-mnist"
    steps = 300

    [params.lr]
    type = "log-uniform"          # uniform | log-uniform | int | categorical
    low = 1e-4
    high = 1.0

    [params.init]
    type = "categorical"
    choices = ["glorot-uniform", "he-normal"]

Sample scale parameters (learning rate, weight decay) on a log scale: a
uniform range spends most trials near its top decade (CS231n notes,
"Hyperparameter ranges"). ``points = N`` sets how many values a numeric
parameter takes in a grid search (default 4), ``default = v`` the value it is
held at while ``--lr-first`` tunes the learning rate alone.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import optuna

from trainlab.config import TrainConfig, read_toml
from trainlab.errors import UserError, choose

KINDS = ("uniform", "log-uniform", "int", "categorical")
MAX_POINTS = 10_000  # grid values per parameter; a grid of more is no search anyone can run
CHOICE_TYPES = (str, int, float, bool)  # what Optuna can store as a categorical value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """One hyperparameter's range; ``log`` samples ``int`` ranges on a log scale too."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    points: int = 4
    default: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str):
            raise UserError(f"parameter {self.name!r} needs type = one of {', '.join(KINDS)} (a string), "
                            f"got {self.kind!r}")
        choose(f"parameter type of {self.name!r}", self.kind, KINDS)
        if not isinstance(self.log, bool):
            raise UserError(f"parameter {self.name!r} needs log = true or false, got {self.log!r}")
        if isinstance(self.points, bool) or not isinstance(self.points, int) or not 1 <= self.points <= MAX_POINTS:
            raise UserError(f"parameter {self.name!r} needs points = a whole number from 1 to {MAX_POINTS} "
                            f"(grid values), got {self.points!r}")
        if self.kind == "categorical":
            if not self.choices:
                raise UserError(f"categorical parameter {self.name!r} needs choices = [...]")
            bad = [c for c in self.choices if not isinstance(c, CHOICE_TYPES)]
            if bad:
                raise UserError(f"categorical parameter {self.name!r}: choice {bad[0]!r} is not a string, "
                                f"number or boolean; use choices = [\"a\", \"b\"]")
            return
        for end in ("low", "high"):
            value = getattr(self, end)
            if value is not None and not (_is_number(value) and math.isfinite(value)):
                raise UserError(f"parameter {self.name!r} needs {end} = a finite number, got {value!r}")
        if self.low is None or self.high is None or not self.low < self.high:
            raise UserError(f"parameter {self.name!r} needs low < high, got low={self.low} high={self.high}")
        if self.is_log and self.low <= 0:
            raise UserError(f"log-scale parameter {self.name!r} needs low > 0, got {self.low}")
        if not math.isfinite(self.high - self.low):
            raise UserError(f"parameter {self.name!r}: the range {self.low}..{self.high} is too wide to sample; "
                            f"narrow it (or use type = \"log-uniform\")")

    @property
    def is_log(self) -> bool:
        return self.kind == "log-uniform" or self.log

    def distribution(self) -> optuna.distributions.BaseDistribution:
        if self.kind == "categorical":
            return optuna.distributions.CategoricalDistribution(self.choices)
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.is_log)
        return optuna.distributions.FloatDistribution(float(self.low), float(self.high), log=self.is_log)

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.is_log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.is_log)

    def grid(self) -> list[Any]:
        """The values a grid search tries: every choice, or ``points`` values evenly spaced (on a log scale if log)."""
        if self.kind == "categorical":
            return list(self.choices)
        lo, hi = (math.log(self.low), math.log(self.high)) if self.is_log else (self.low, self.high)
        values = [lo + (hi - lo) * i / max(self.points - 1, 1) for i in range(self.points)]
        values = [min(max(math.exp(v) if self.is_log else v, self.low), self.high) for v in values]  # exp(log) drifts
        return sorted({int(round(v)) for v in values}) if self.kind == "int" else values

    def center(self) -> Any:
        """``default``, else the middle of the range (geometric if log), else the first choice."""
        if self.default is not None:
            return self.default
        if self.kind == "categorical":
            return self.choices[0]
        mid = math.sqrt(self.low * self.high) if self.is_log else (self.low + self.high) / 2
        return int(round(mid)) if self.kind == "int" else mid

    def position(self, value: Any) -> float | None:
        """Where ``value`` lies in the range, 0 (low) to 1 (high), on the sampling scale; None if categorical."""
        if self.kind == "categorical":
            return None
        if self.is_log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def narrowed(self, values: list[Any], margin: float = 0.25) -> "Param":
        """The range spanned by ``values`` (the best trials'), widened by ``margin`` of itself, within this range."""
        if self.kind == "categorical":
            kept = tuple(c for c in self.choices if c in values)
            return replace(self, choices=kept or self.choices)
        to, back = (math.log, math.exp) if self.is_log else (float, float)
        lo, hi = to(min(values)), to(max(values))
        pad = max((hi - lo) * margin, (to(self.high) - to(self.low)) * 0.05)
        low, high = max(back(lo - pad), self.low), min(back(hi + pad), self.high)
        if self.kind == "int":
            low, high = math.floor(low), math.ceil(high)
            if low == high:
                low, high = max(low - 1, int(self.low)), min(high + 1, int(self.high))
        return replace(self, low=low, high=high)


@dataclass(frozen=True)
class SearchSpace:
    """Ranges to sample and the fixed configuration values beside them."""

    params: tuple[Param, ...]
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = set(TrainConfig.__dataclass_fields__)
        for name in [p.name for p in self.params] + list(self.fixed):
            if name not in known:
                raise UserError(f"search space key {name!r} is not a training setting; "
                                f"known: {', '.join(sorted(known))}")

    def __getitem__(self, name: str) -> Param:
        return {p.name: p for p in self.params}[name]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        return {p.name: p.suggest(trial) for p in self.params}

    def config(self, values: Mapping[str, Any], **overrides: Any) -> TrainConfig:
        return TrainConfig.from_dict({**self.fixed, **values, **overrides})

    def grid(self) -> dict[str, list[Any]]:
        return {p.name: p.grid() for p in self.params}

    def only(self, names: list[str], held: Mapping[str, Any]) -> "SearchSpace":
        """Search ``names`` alone, every other parameter held at ``held[name]`` (or its center)."""
        fixed = dict(self.fixed)
        fixed.update({p.name: held.get(p.name, p.center()) for p in self.params if p.name not in names})
        return SearchSpace(tuple(p for p in self.params if p.name in names), fixed)


def parse_space(raw: Mapping[str, Any], *, source: str = "search space") -> SearchSpace:
    """The search space of a parsed TOML file; every wrong type is a one-line :class:`UserError`."""
    unknown = set(raw) - {"fixed", "params"}
    if unknown:
        raise UserError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; use [fixed] and [params.NAME]")
    for section, example in (("fixed", "[fixed] with key = value lines"), ("params", "[params.NAME] tables")):
        if not isinstance(raw.get(section, {}), Mapping):
            raise UserError(f"{source}: {section} = {raw[section]!r} must be a table; write {example}")
    params = []
    for name, spec in raw.get("params", {}).items():
        if not isinstance(spec, Mapping):
            raise UserError(f"{source}: [params.{name}] must be a table with type = ...")
        extra = set(spec) - {"type", "low", "high", "choices", "log", "points", "default"}
        if extra:
            raise UserError(f"{source}: [params.{name}] has unknown key(s) {', '.join(sorted(extra))}")
        choices = spec.get("choices", [])
        if not isinstance(choices, list):
            raise UserError(f"{source}: [params.{name}] needs choices = [...] (a list), got {choices!r}")
        try:
            params.append(Param(name.replace("-", "_"), spec.get("type", ""), spec.get("low"), spec.get("high"),
                                tuple(choices), spec.get("log", False), spec.get("points", 4), spec.get("default")))
        except UserError as exc:
            raise UserError(f"{source}: {exc}") from None
    if not params:
        raise UserError(f"{source}: no [params.NAME] tables; give at least one hyperparameter to search")
    fixed = {k.replace("-", "_"): v for k, v in raw.get("fixed", {}).items()}
    return SearchSpace(tuple(params), fixed)


def load_space(path: str | Path) -> SearchSpace:
    """Read and check a search-space file; one that is not UTF-8 text (or cannot be read) is a :class:`UserError`."""
    try:
        raw = read_toml(path, "search-space", hint="see examples/search-space.toml")
    except UnicodeDecodeError as exc:
        raise UserError(f"search-space file {path} is not UTF-8 text (byte {exc.start}); "
                        f"give a TOML file, see examples/search-space.toml") from None
    except OSError as exc:
        raise UserError(f"search-space file {path} cannot be read ({exc.strerror or exc}); "
                        f"check its permissions") from None
    return parse_space(raw, source=str(path))

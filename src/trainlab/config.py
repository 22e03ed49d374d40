"""Training configuration: one frozen dataclass, validated once, saved with every run.

Every field is a plain value (string, number, tuple) so a configuration can be
written to JSON/TOML, compared, searched over, and used to rerun a result.
"""
from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from trainlab.errors import UserError, choose
from trainlab.init import INITIALIZERS
from trainlab.losses import LOSSES as LOSS_REGISTRY
from trainlab.nn import ACTIVATIONS as ACTIVATION_REGISTRY, BATCH_NORM_PLACEMENTS, MODELS as MODEL_REGISTRY
from trainlab.nn.norm import BN_STATISTICS
from trainlab.optimizers import OPTIMIZERS as OPTIMIZER_REGISTRY, SCHEDULES as SCHEDULE_REGISTRY, effective_momentum
from trainlab.preprocess import build_step

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The choices of each field, read from the registry that owns the concept.
MODELS = tuple(MODEL_REGISTRY)
ACTIVATIONS = tuple(ACTIVATION_REGISTRY)
BATCH_NORM = BATCH_NORM_PLACEMENTS
BN_STATS = BN_STATISTICS
INITS = tuple(INITIALIZERS)
LOSSES = tuple(LOSS_REGISTRY)
OPTIMIZERS = tuple(OPTIMIZER_REGISTRY)
SCHEDULES = tuple(SCHEDULE_REGISTRY)
DEVICES = ("cpu", "cuda", "mps", "auto")

# Bounds on counts, far beyond any real run, so an impossible value is refused at once
# instead of overflowing, allocating or running for years.
MAX_STEPS = 10**9
MAX_EPOCHS = 10**6
MAX_DEPTH = 1_000
MAX_WIDTH = 10**7
MAX_BATCH = 10**8
SEED_LIMIT = 2**63  # torch.Generator.manual_seed takes 0 <= seed < 2**63 here


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run's numbers.

    ``batch_size = 0`` means full-batch gradient descent; ``batch_size = 1`` is
    single-example SGD. The budget is ``steps`` if given, else ``epochs``.
    ``weight_decay`` is the L2 strength lambda of the loss term
    ``0.5 * lambda * sum ||W||^2`` over weight matrices (not biases or norm
    parameters), as in the CS231n notes.
    """

    dataset: str = "shapeset"
    data_dir: str | None = None
    preprocess: tuple[str, ...] = ()
    model: str = "mlp"
    depth: int = 2
    width: int = 100
    activation: str = "tanh"
    batch_norm: str = "none"
    bn_stats: str = "ema"
    init: str = "glorot-uniform"
    init_std: float = 0.01
    init_scale: float = 1.0
    loss: str = "softmax"
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float | None = None
    weight_decay: float = 0.0
    schedule: str = "constant"
    lr_step_every: int = 0
    lr_gamma: float = 0.1
    batch_size: int = 64
    epochs: float | None = None
    steps: int | None = None
    seed: int = 0
    device: str = "cpu"
    eval_every: int = 0
    log_every: int = 50
    checkpoint_every: int = 1000
    probe: str | None = None
    divergence_factor: float = 3.0
    extra: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        choose("model", self.model, MODELS)
        choose("activation", self.activation, ACTIVATIONS)
        choose("batch-norm placement", self.batch_norm, BATCH_NORM)
        choose("batch-norm statistics", self.bn_stats, BN_STATS)
        choose("initialization scheme", self.init, INITS)
        for step in self.preprocess:  # parsed now (cheap), so a bad name fails before any data loads
            build_step(step)
        choose("loss", self.loss, LOSSES)
        choose("optimizer", self.optimizer, OPTIMIZERS)
        choose("learning-rate schedule", self.schedule, SCHEDULES)
        choose("device", self.device, DEVICES)
        _positive("width", self.width)
        _at_most("width", self.width, MAX_WIDTH)
        if self.depth < 0:
            raise UserError(f"depth must be >= 0 (0 is a linear classifier), got {self.depth}")
        _at_most("depth", self.depth, MAX_DEPTH)
        _positive("lr", self.lr, hint="a learning rate must be > 0, e.g. --lr 0.01")
        if self.momentum is not None and not 0.0 <= self.momentum < 1.0:
            raise UserError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.weight_decay < 0 or not math.isfinite(self.weight_decay):
            raise UserError(f"weight decay must be >= 0, got {self.weight_decay}")
        if self.batch_size < 0:
            raise UserError(f"batch size must be >= 1 (or 'full'), got {self.batch_size}")
        _at_most("batch-size", self.batch_size, MAX_BATCH)
        if self.steps is not None and self.steps <= 0:
            raise UserError(f"steps must be a positive integer, got {self.steps}")
        if self.steps is not None:
            _at_most("steps", self.steps, MAX_STEPS)
        if self.epochs is not None and not self.epochs > 0:
            raise UserError(f"epochs must be > 0, got {self.epochs}")
        if self.epochs is not None:
            _at_most("epochs", self.epochs, MAX_EPOCHS)
        if not 0 <= self.seed < SEED_LIMIT:
            raise UserError(f"seed must be a whole number in [0, 2**63), got {self.seed}")
        if self.init_std <= 0 or not math.isfinite(self.init_std):
            raise UserError(f"init std must be > 0, got {self.init_std}")
        if not math.isfinite(self.init_scale):
            raise UserError(f"init scale must be a finite number, got {self.init_scale}")
        for name in ("eval_every", "lr_step_every"):
            if getattr(self, name) < 0:
                raise UserError(f"{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        for name in ("log_every", "checkpoint_every"):
            _positive(name.replace("_", "-"), getattr(self, name))
        for name in ("eval_every", "lr_step_every", "log_every", "checkpoint_every"):
            _at_most(name.replace("_", "-"), getattr(self, name), MAX_STEPS)
        _positive("lr-gamma", self.lr_gamma,
                  hint="the step schedule multiplies the learning rate by it, e.g. --lr-gamma 0.1")
        if not self.divergence_factor > 1:
            raise UserError(f"divergence factor must be > 1, got {self.divergence_factor}")
        if self.schedule == "step" and self.lr_step_every == 0:
            raise UserError("the 'step' schedule needs --lr-step-every N (decay every N steps)")

    @property
    def effective_momentum(self) -> float:
        """Momentum used by SGD: the given value, else 0.9 for ``momentum`` and 0 for ``sgd``."""
        return effective_momentum(self.optimizer, self.momentum)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["preprocess"] = list(self.preprocess)
        out["extra"] = {k: v for k, v in self.extra}
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserError(
                f"unknown configuration key(s): {', '.join(unknown)}; known keys: {', '.join(sorted(known))}"
            )
        values = dict(values)
        if "preprocess" in values:
            values["preprocess"] = parse_preprocess(values["preprocess"])
        if "extra" in values:
            values["extra"] = _parse_extra(values["extra"])
        if values.get("batch_size") == "full":
            values["batch_size"] = 0
        for f in dataclasses.fields(cls):
            if f.name in values:
                _check_type(f.name, str(f.type), values[f.name])
        try:
            return cls(**values)
        except TypeError as exc:  # wrong type for a field
            raise UserError(f"bad configuration: {exc}") from None


def parse_preprocess(value: Any) -> tuple[str, ...]:
    """``"mean,std"`` or ``["mean", "std"]`` -> ``("mean", "std")``; ``"none"`` -> ``()``."""
    if value is None:
        return ()
    if not (isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value))):
        raise UserError(f"preprocess must be a string such as \"mean,std\" or a list of strings, got {value!r}")
    items = value.split(",") if isinstance(value, str) else list(value)
    items = [s.strip() for s in items if s.strip()]
    return () if items in ([], ["none"]) else tuple(items)


def _parse_extra(value: Any) -> tuple[tuple[str, Any], ...]:
    """``extra``: a table of free-form ``key = value`` notes, kept with the run as sorted pairs."""
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
        pairs = value  # the pairs a TrainConfig holds
    else:
        raise UserError(f"extra must be a table of key = value pairs (an [extra] section), got {value!r}")
    for key, item in pairs:
        if not isinstance(key, str) or not isinstance(item, (str, int, float, bool)):
            raise UserError(f"extra.{key} must be a string, number or boolean, got {item!r}")
    return tuple(sorted((key, item) for key, item in pairs))


def _check_type(name: str, annotation: str, value: Any) -> None:
    """A value read from a file against its field's type (``float``, ``int``, ``str``, optionally ``| None``)."""
    kinds = {part.strip() for part in annotation.split("|")}
    if value is None and "None" in kinds:
        return
    key = name.replace("_", "-")
    if "float" in kinds and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
        raise UserError(f"{key} must be a number, got {value!r}")
    if "int" in kinds and not (isinstance(value, int) and not isinstance(value, bool)):
        raise UserError(f"{key} must be a whole number, got {value!r}")
    if "str" in kinds and not isinstance(value, str):
        raise UserError(f"{key} must be a string, got {value!r}")


def _positive(name: str, value: float, hint: str = "") -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise UserError(f"{name} must be positive, got {value}" + (f"; {hint}" if hint else ""))


def _at_most(name: str, value: float, limit: float) -> None:
    if not value <= limit:  # also catches NaN
        raise UserError(f"{name} must be at most {limit:,}, got {value}")


def read_toml(path: str | Path, kind: str, *, hint: str = "") -> dict[str, Any]:
    """Parse the TOML file ``path``; a missing, unreadable, binary or malformed ``kind`` file is a
    :class:`UserError`."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{kind} file {path} is a folder; give the TOML file inside it")
    if not path.is_file():
        raise UserError(f"{kind} file {path} does not exist" + (f"; {hint}" if hint else ""))
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {kind} file {path}: {exc.strerror or exc}; check its permissions") from None
    except UnicodeDecodeError:
        raise UserError(f"{kind} file {path} is not UTF-8 text (a binary file?); give a TOML text file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{kind} file {path} is not valid TOML: {' '.join(str(exc).split())}") from None


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML configuration file of flat ``key = value`` pairs (flag names, ``-`` or ``_``)."""
    return {key.replace("-", "_"): value for key, value in read_toml(path, "configuration").items()}

"""What to probe and how often: :class:`ProbeConfig`, also parsed from ``--probe``."""
from __future__ import annotations

from dataclasses import dataclass, fields

from trainlab.errors import UserError
from trainlab.probe.stats import DEFAULT_SAMPLE

OUTPUTS = ("all", "activations")
SYNTAX = "every=N[,batch=300][,train][,jacobian][,bins=50][,saturation=0.975]"


@dataclass(frozen=True, kw_only=True)
class ProbeConfig:
    """Probe settings.

    * ``every``: record every N training steps (and at step 0 and at the end).
    * ``batch``: size of the fixed probe batch taken from the validation split
      (Glorot & Bengio 2010 used 300 held-out examples); 0 for none.
    * ``on_train_batch``: also record on the training batch of due steps, from
      the training step's own forward and backward pass (no extra pass).
    * ``jacobian``: also measure the mean singular value of each activation
      layer's Jacobian with respect to the previous one, on ``jacobian_examples``
      examples of the probe batch.
    * ``saturation_threshold``: ``|u| >= threshold`` is saturated (``u`` is the
      output rescaled to [-1, 1]); None picks the per-activation default of
      :data:`trainlab.probe.stats.SATURATION_DEFAULTS`.
    * ``bins``: histogram bins; ``sample``: tensors with more values than this
      have their percentiles and histogram estimated, and weights with more
      coordinates their update ratio measured, on a fixed subsample of this
      many values (:mod:`trainlab.probe.stats`); moments and fractions stay exact
      (except in moments-only records, :meth:`Probe.begin_step`).
    * ``outputs``: ``"all"`` reduces every probed layer's output and back-propagated
      gradient; ``"activations"`` only those of the activation layers (weight
      gradients and update ratios of every layer are still recorded), which is
      what the figures and the watcher's rules read, at about half the cost.
    * ``sampled_weight_grads``: estimate the weight gradients' moments on the same
      fixed subsample as their percentiles instead of reading every coordinate
      (for the 5x1000 MLP that saves two passes over 5M values, about 1.5 ms a record).
    """

    every: int = 50
    batch: int = 300
    on_train_batch: bool = False
    jacobian: bool = False
    saturation_threshold: float | None = None
    bins: int = 50
    sample: int = DEFAULT_SAMPLE
    jacobian_examples: int = 4
    outputs: str = "all"
    sampled_weight_grads: bool = False

    def __post_init__(self) -> None:
        for name in ("every", "bins", "sample", "jacobian_examples"):
            if getattr(self, name) < 1:
                raise UserError(f"probe {name} must be >= 1, got {getattr(self, name)}")
        if self.batch < 0:
            raise UserError(f"probe batch must be >= 0 (0 = no probe batch), got {self.batch}")
        if self.batch == 0 and not self.on_train_batch:
            raise UserError("probe batch=0 leaves nothing to probe; add 'train' to probe the training batch")
        if self.outputs not in OUTPUTS:
            raise UserError(f"probe outputs must be one of {', '.join(OUTPUTS)}, got {self.outputs!r}")
        t = self.saturation_threshold
        if t is not None and not 0 < t <= 1:
            raise UserError(f"probe saturation threshold must be in (0, 1], got {t}")

    @classmethod
    def parse(cls, text: str) -> "ProbeConfig":
        """``"every=50,batch=300,jacobian"`` -> ProbeConfig; bad syntax raises :class:`UserError`."""
        values: dict[str, object] = {}
        flags = {"train": "on_train_batch", "jacobian": "jacobian"}
        numbers = {"every": int, "batch": int, "bins": int, "sample": int, "jacobian-examples": int,
                   "saturation": float}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            key, eq, raw = item.partition("=")
            key = key.strip()
            if not eq and key in flags:
                values[flags[key]] = True
                continue
            if not eq or key not in numbers:
                raise UserError(f"bad --probe item {item!r} in {text!r}; expected {SYNTAX}")
            try:
                value = numbers[key](raw.strip())
            except ValueError:
                raise UserError(f"--probe {key} must be a number, got {raw!r}; expected {SYNTAX}") from None
            field_name = {"saturation": "saturation_threshold", "jacobian-examples": "jacobian_examples"}.get(key, key)
            values[field_name] = value
        if "every" not in values:
            raise UserError(f"--probe {text!r} has no every=N; expected {SYNTAX}")
        return cls(**values)

    def to_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

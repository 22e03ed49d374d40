"""Named preprocessing for the CLI, pipelines of transforms, and applying one to a dataset.

Grammar of ``--preprocess``: a comma-separated list of steps applied left to
right, each ``NAME[:OPTION[:OPTION...]]`` where an option is ``KEY=VALUE`` or a
bare value for the step's main option::

    mean | mean-channel | mean-global | std | minmax
    pca[:K | :F]            K components, or the fewest explaining a fraction F of the variance
    pca-white[:K | :F]      PCA whitening (options eps=E, center=yes|no)
    zca[:E]                 ZCA whitening with eps E (option center=yes|no)

e.g. ``mean,std``, ``pca:0.99``, ``pca-white:100:eps=0.01``, ``zca:0.1``.
The pipeline is fitted on the training split only (epoch 0 of an online stream)
and its fitted state is saved with the run (``preprocess.pt``, see
:meth:`trainlab.runs.RunDir.save_preprocessing`) and reloaded, not refitted, when
the run is resumed or evaluated.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from trainlab.data.base import Dataset, Split, TrainSource
from trainlab.errors import CheckpointError, UserError, choose
from trainlab.files import atomic_torch_save, load_torch_file
from trainlab.preprocess.base import Transform
from trainlab.preprocess.pca import PCA, PCAWhitening, ZCAWhitening
from trainlab.preprocess.scaling import MeanSubtraction, MinMax, Standardize

STATE_FORMAT = 1


def _components(text: str) -> int | float:
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        raise UserError(f"expected a component count (e.g. 50) or variance fraction (e.g. 0.99), "
                        f"got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UserError(f"expected a number, got {text!r}") from None


def _flag(text: str) -> bool:
    value = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}.get(text.lower())
    if value is None:
        raise UserError(f"expected yes or no, got {text!r}")
    return value


OPTION_PARSERS: dict[str, Callable[[str], Any]] = {"n_components": _components, "eps": _number, "center": _flag}


@dataclass(frozen=True)
class Entry:
    """One name of the registry: how to build it, and which options it takes."""

    build: Callable[..., Transform]
    help: str
    options: tuple[str, ...] = ()  # the first is what a bare value sets


PREPROCESSORS: dict[str, Entry] = {
    "mean": Entry(partial(MeanSubtraction, "feature"), "subtract the per-feature training mean"),
    "mean-channel": Entry(partial(MeanSubtraction, "channel"), "subtract the per-channel mean (VGG)"),
    "mean-global": Entry(partial(MeanSubtraction, "global"), "subtract one scalar mean (AlexNet)"),
    "std": Entry(Standardize, "zero mean, unit variance per feature"),
    "minmax": Entry(MinMax, "scale each feature to [-1, 1]"),
    "pca": Entry(PCA, "project onto the top principal components", ("n_components", "center")),
    "pca-white": Entry(PCAWhitening, "PCA whitening", ("n_components", "eps", "center")),
    "zca": Entry(ZCAWhitening, "ZCA whitening", ("eps", "center")),
}


def build_step(spec: str) -> Transform:
    """One ``NAME[:OPTION...]`` -> an unfitted transform."""
    name, *options = spec.strip().split(":")
    entry = PREPROCESSORS[choose("preprocessing step", name, tuple(PREPROCESSORS))]
    kwargs: dict[str, Any] = {}
    for i, option in enumerate(options):
        key, has_key, value = option.partition("=")
        if not has_key:
            if i > 0 or not entry.options:
                raise UserError(f"preprocessing step {spec!r}: unexpected value {option!r}; "
                                f"{name} takes {', '.join(k + '=...' for k in entry.options) or 'no options'}")
            key, value = entry.options[0], option
        if key not in entry.options:
            raise UserError(f"preprocessing step {spec!r}: unknown option {key!r}; "
                            f"{name} takes {', '.join(entry.options) or 'no options'}")
        kwargs[key] = OPTION_PARSERS[key](value)
    try:
        return entry.build(**kwargs)
    except TypeError as exc:  # an option the transform does not take positionally
        raise UserError(f"preprocessing step {spec!r}: {exc}") from None


class Pipeline:
    """Transforms applied in order; each is fitted on the previous one's output."""

    def __init__(self, steps: Sequence[Transform], names: Sequence[str] = ()) -> None:
        self.steps = list(steps)
        self.names = tuple(names) or tuple(type(s).__name__ for s in self.steps)

    @classmethod
    def from_names(cls, names: Sequence[str]) -> "Pipeline":
        return cls([build_step(name) for name in names], names)

    def fit(self, x: torch.Tensor) -> "Pipeline":
        for i, step in enumerate(self.steps):
            step.fit(x)
            if i + 1 < len(self.steps):
                x = step.transform(x)
        return self

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        for step in self.steps:
            x = step.transform(x)
        return x

    def fit_transform(self, x: torch.Tensor) -> torch.Tensor:
        return self.fit(x).transform(x)

    def inverse_transform(self, z: torch.Tensor) -> torch.Tensor:
        for step in reversed(self.steps):
            z = step.inverse_transform(z)
        return z

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        for step in self.steps:
            input_shape = step.output_shape(input_shape)
        return tuple(input_shape)

    # -- state ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "names": list(self.names), "steps": [s.state_dict() for s in self.steps]}

    def load_state_dict(self, state: dict[str, Any]) -> "Pipeline":
        fix = "delete the saved preprocessing (preprocess.pt) to refit it on the training data"
        if not isinstance(state, dict) or not isinstance(state.get("steps"), (list, tuple)):
            raise CheckpointError(f"the saved preprocessing is a {type(state).__name__}, not a pipeline's state; {fix}")
        if state.get("format") != STATE_FORMAT or list(state.get("names", ())) != list(self.names) \
                or len(state["steps"]) != len(self.steps):
            raise CheckpointError(f"saved preprocessing {state.get('names')} does not match the configured "
                                  f"{list(self.names)}; {fix}")
        for step, step_state in zip(self.steps, state["steps"]):
            if not isinstance(step_state, dict) or not all(isinstance(v, torch.Tensor) for v in step_state.values()):
                raise CheckpointError(f"the saved state of {type(step).__name__} is not a set of tensors; {fix}")
            if not all(bool(torch.isfinite(v).all()) for v in step_state.values() if v.is_floating_point()):
                raise CheckpointError(f"the saved state of {type(step).__name__} holds NaN or Inf; {fix}")
            step.load_state_dict(step_state)
        return self

    def save(self, path: str | Path) -> None:
        atomic_torch_save(self.state_dict(), Path(path))

    def load(self, path: str | Path) -> "Pipeline":
        state = load_torch_file(Path(path), fix="delete it to refit the preprocessing")
        try:
            return self.load_state_dict(state)
        except UserError as exc:  # CheckpointError included: name the file it came from
            raise CheckpointError(f"{path}: {exc}") from None

    def __repr__(self) -> str:
        return f"Pipeline({','.join(self.names)})"


@dataclass(frozen=True)
class TransformedSource:
    """A training source (e.g. an online stream) whose every epoch goes through ``pipeline``."""

    source: TrainSource
    pipeline: Pipeline

    def __len__(self) -> int:
        return len(self.source)

    def epoch(self, index: int) -> Split:
        data = self.source.epoch(index)
        return Split(self.pipeline.transform(data.x), data.y)


@dataclass(frozen=True)
class PreprocessedDataset(Dataset):
    """A :class:`Dataset` that remembers the fitted pipeline it went through."""

    pipeline: Pipeline | None = field(default=None, repr=False, compare=False)


def apply_pipeline(dataset: Dataset, names: Sequence[str], *, saved: str | Path | None = None) -> PreprocessedDataset:
    """Fit ``names`` on ``dataset``'s training data (or load the fitted state from the file
    ``saved`` if it exists) and return the dataset with every split transformed.
    """
    pipeline = Pipeline.from_names(names)
    if saved is not None and Path(saved).exists():
        pipeline.load(saved)
        try:  # tensors of the wrong shape only show when applied
            pipeline.transform(dataset.val.x[:1].to(torch.float32))
        except (RuntimeError, ValueError, IndexError) as exc:
            raise CheckpointError(f"{saved} does not fit {dataset.name}'s inputs ({' '.join(str(exc).split())[:150]}); "
                                  "delete it to refit the preprocessing") from None
    else:
        pipeline.fit(dataset.train.epoch(0).x)
    return transform_dataset(dataset, pipeline)


def transform_dataset(dataset: Dataset, pipeline: Pipeline) -> PreprocessedDataset:
    """``dataset`` with every split put through the already fitted ``pipeline``."""
    train = dataset.train
    if isinstance(train, Split):
        train = Split(pipeline.transform(train.x), train.y)
    else:
        train = TransformedSource(train, pipeline)
    fields = {f.name: getattr(dataset, f.name) for f in dataclasses.fields(Dataset)}
    fields.update(train=train, val=_apply(pipeline, dataset.val), test=_apply(pipeline, dataset.test),
                  input_shape=pipeline.output_shape(tuple(dataset.input_shape)),
                  notes={**dataset.notes, "preprocess": ",".join(pipeline.names)})
    return PreprocessedDataset(**fields, pipeline=pipeline)


def _apply(pipeline: Pipeline, split: Split) -> Split:
    return Split(pipeline.transform(split.x), split.y)

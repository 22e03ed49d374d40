"""What a configuration will cost, estimated from the configuration alone, before anything is allocated.

``trainlab train --width 1000000000`` used to spend minutes and gigabytes before the
allocator gave up. Here the parameter count, the memory for weights, gradients,
optimizer state, activations and data, and the floating-point work of training are
computed from the model's shape and the dataset's declared sizes (nothing is loaded),
so an impossible configuration is refused in a millisecond with the estimate, the
limit and the fix.

The estimates are deliberately lower bounds (float32 tensors, no allocator overhead,
no probes): a configuration refused here could not have run.
"""
from __future__ import annotations

import inspect
import math
import os
from dataclasses import dataclass
from typing import Sequence

from trainlab.config import TrainConfig
from trainlab.data import cifar, idx, list_datasets, resolve_data_dir
from trainlab.data.shapeset import CLASSES as SHAPESET_CLASSES, ShapesetConfig
from trainlab.data.synthetic import load_blobs, load_spirals
from trainlab.errors import UserError, choose

FLOAT_BYTES = 4
MEMORY_ENV = "TRAINLAB_MEMORY_LIMIT"
MAX_STEPS = 10**9  # the same bound TrainConfig puts on --steps, applied to steps implied by --epochs
MAX_SECONDS = 365 * 24 * 3600
# Floating-point operations per second no real machine beats for this kind of work: the
# time bound refuses only what would take over a year even at these rates.
OPTIMISTIC_FLOPS = {"cpu": 1e13, "gpu": 1e15}


@dataclass(frozen=True)
class DataShape:
    """A dataset's sizes as its loader declares them: input shape, classes, and examples
    in the training split and in memory altogether (train + validation + test)."""

    input_shape: tuple[int, ...]
    num_classes: int
    train: int
    held: int


def _defaults(loader: object) -> dict[str, object]:
    return {p.name: p.default for p in inspect.signature(loader).parameters.values()  # type: ignore[arg-type]
            if p.default is not inspect.Parameter.empty}


def data_shape(name: str, data_dir: str | None = None) -> DataShape:
    """The sizes of dataset ``name`` (loaded with its default options, as the training loop loads it),
    read from the constants of its loader's module; nothing is read from disk."""
    choose("dataset", name, list_datasets())
    if name in idx.SOURCES:
        side = idx.SIDE
        return DataShape((1, side, side), len(idx.SOURCES[name].classes),
                         idx.TRAIN_COUNT - idx.VAL_COUNT, idx.TRAIN_COUNT + idx.TEST_COUNT)
    if name == "cifar10":
        full = (resolve_data_dir(data_dir) / cifar.FULL.folder).is_dir()  # else the 4,000 + 1,000 subset
        records, test = (50_000, 10_000) if full else (4_000, 1_000)
        train = records - int(round(records * cifar.VAL_FRACTION))
        return DataShape((3, 32, 32), len(cifar.CLASSES), train, records + test)
    if name == "shapeset":
        s = ShapesetConfig()
        return DataShape((1, s.size, s.size), len(SHAPESET_CLASSES), s.epoch_size,
                         s.epoch_size + s.val_size + s.test_size)
    loader = {"synthetic-blobs": load_blobs, "synthetic-spirals": load_spirals}[name]
    d = _defaults(loader)
    dims = int(d.get("dims", 2))  # type: ignore[arg-type]
    n_train = int(d["n_train"])  # type: ignore[arg-type]
    return DataShape((dims,), int(d["classes"]), n_train,  # type: ignore[arg-type]
                     n_train + int(d["n_val"]) + int(d["n_test"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ModelCost:
    """One model's size: parameters, multiply-adds and activation values per example."""

    parameters: int
    macs: int
    activations: int


def model_cost(config: TrainConfig, shape: DataShape) -> ModelCost:
    """Parameters, multiply-adds per example and stored activation values per example of the
    configured MLP or CNN, counted layer by layer as :mod:`trainlab.nn` builds them."""
    bn = config.batch_norm != "none"
    bias = config.batch_norm != "before"
    if config.model == "cnn":
        if len(shape.input_shape) != 3:
            return ModelCost(0, 0, 0)  # the model itself refuses non-image data, with a better message
        c_in, height, width = shape.input_shape
        c_out, params, macs, acts = config.width, 0, 0, c_in * height * width
        for _ in range(config.depth):
            pixels = height * width
            params += 9 * c_in * c_out + c_out * bias + 2 * c_out * bn
            macs += 9 * c_in * c_out * pixels
            acts += c_out * pixels * (2 + bn) + c_out * pixels // 4
            c_in, c_out, height, width = c_out, 2 * c_out, max(height // 2, 1), max(width // 2, 1)
        features = c_in * height * width
        return ModelCost(params + features * shape.num_classes + shape.num_classes,
                         macs + features * shape.num_classes, acts + shape.num_classes)
    fan_in, params, macs, acts = math.prod(shape.input_shape), 0, 0, math.prod(shape.input_shape)
    for _ in range(config.depth):
        params += fan_in * config.width + config.width * bias + 2 * config.width * bn
        macs += fan_in * config.width
        acts += config.width * (2 + bn)
        fan_in = config.width
    return ModelCost(params + fan_in * shape.num_classes + shape.num_classes,
                     macs + fan_in * shape.num_classes, acts + shape.num_classes)


@dataclass(frozen=True)
class Estimate:
    """What training ``members`` models of one shape costs: bytes held at once, steps and
    floating-point operations."""

    members: int
    parameters: int
    memory_bytes: int
    steps: int
    flops: float


def estimate(configs: Sequence[TrainConfig]) -> Estimate:
    """The cost of training ``configs`` together (one run, or the members of a population)."""
    config = configs[0]
    shape = data_shape(config.dataset, config.data_dir)
    cost = model_cost(config, shape)
    batch = config.batch_size or shape.train  # 0 is full batch
    buffers = 2 if config.optimizer == "adam" else int(bool(config.effective_momentum))  # per parameter
    # weights, gradients and optimizer buffers; activations kept for backward and their gradients
    per_member = FLOAT_BYTES * (cost.parameters * (2 + buffers) + 2 * batch * cost.activations)
    data = FLOAT_BYTES * shape.held * math.prod(shape.input_shape)
    steps_per_epoch = math.ceil(shape.train / max(1, min(batch, shape.train)))
    steps = config.steps or math.ceil((config.epochs or 1.0) * steps_per_epoch)
    flops = 6.0 * cost.macs * batch * steps * len(configs)
    return Estimate(len(configs), cost.parameters, per_member * len(configs) + data, steps, flops)


def memory_limit() -> int | None:
    """Bytes a run may need: ``$TRAINLAB_MEMORY_LIMIT`` (e.g. ``64G``), else this machine's physical memory."""
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        return parse_bytes(text, MEMORY_ENV)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not every system names these
        return None


def parse_bytes(text: str, name: str) -> int:
    """``"64G"``, ``"512M"``, ``"1e9"`` -> bytes."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    scale = units.get(text[-1:].upper(), 1)
    number = text[:-1] if scale > 1 else text
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"${name} must be a size in bytes such as 64G or 512M, got {text!r}")
    return int(value * scale)


def gigabytes(n: float) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 else f"{n / 2**20:,.0f} MB"


def check(configs: Sequence[TrainConfig]) -> Estimate:
    """Refuse (:class:`UserError`) a run or population that no machine here could hold or finish."""
    est = estimate(configs)
    what = f"{est.members} models of {est.parameters:,} parameters" if est.members > 1 \
        else f"a model of {est.parameters:,} parameters"
    limit = memory_limit()
    if limit is not None and est.memory_bytes > limit:
        raise UserError(
            f"training {what} needs at least {gigabytes(est.memory_bytes)} "
            f"of memory, more than the {gigabytes(limit)} available; use a smaller --width, --depth or "
            f"--batch-size (or set ${MEMORY_ENV} if this machine can really hold it)")
    if est.steps > MAX_STEPS:
        raise UserError(f"--epochs {configs[0].epochs:g} means {est.steps:,} steps, more than {MAX_STEPS:,}; "
                        f"use fewer --epochs or a larger --batch-size")
    rate = OPTIMISTIC_FLOPS["cpu" if configs[0].device == "cpu" else "gpu"]
    if est.flops / rate > MAX_SECONDS:
        raise UserError(f"training would take over a year: about {est.flops:.1e} floating-point operations, "
                        f"{est.flops / rate / MAX_SECONDS:,.0f} years even at {rate:.0e} per second; "
                        f"use fewer --steps or --epochs, or a smaller model")
    return est


def check_evaluations(config: TrainConfig, evaluations: int, examples: int) -> None:
    """Refuse ``evaluations`` forward passes over ``examples`` examples of ``config``'s model (a loss
    landscape's grid) that would take over a year even at an optimistic rate."""
    shape = data_shape(config.dataset, config.data_dir)
    flops = 2.0 * model_cost(config, shape).macs * min(examples, shape.train) * evaluations
    rate = OPTIMISTIC_FLOPS["cpu"]  # landscapes are evaluated on the CPU
    if flops / rate > MAX_SECONDS:
        raise UserError(f"{evaluations:,} loss evaluations on {min(examples, shape.train):,} examples would take "
                        f"over a year (about {flops:.1e} floating-point operations); use fewer --points or a "
                        f"smaller --batch")

"""Shapeset-3x2 (Glorot & Bengio, 2010): an endless supply of labelled shape images.

Each 32x32 grey image holds one or two objects, each a triangle, parallelogram
or ellipse with random proportions, per-axis size (0.2-0.8 of the image),
rotation and position (the whole object stays inside the image). Objects have a
grey level in [0.55, 1] on a background in [0, 0.45], the two ranges swapped
with probability 1/2. A second object may cover at most half of the smaller
object's area (rejection sampling). The label is the unordered set of shapes:
9 classes, drawn uniformly.

Rasterizing is vectorized over a batch: every shape is the intersection of four
regions ``c . f <= 0`` over the pixel features ``f = (x^2, xy, y^2, x, y, 1)``
(half-planes for polygons, a quadratic form for the ellipse), so one batched
matrix product tests every pixel of every object at once.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import TypeVar

import torch

from trainlab.data.base import Dataset, Split, seeded_generator
from trainlab.errors import UserError
from trainlab.threads import intra_op_threads

TRIANGLE, PARALLELOGRAM, ELLIPSE = 0, 1, 2
SHAPES = ("triangle", "parallelogram", "ellipse")
# Class index -> (first shape, second shape or -1 for none).
CLASS_SHAPES = torch.tensor([
    [TRIANGLE, -1], [PARALLELOGRAM, -1], [ELLIPSE, -1],
    [TRIANGLE, TRIANGLE], [PARALLELOGRAM, PARALLELOGRAM], [ELLIPSE, ELLIPSE],
    [TRIANGLE, PARALLELOGRAM], [TRIANGLE, ELLIPSE], [PARALLELOGRAM, ELLIPSE],
])
CLASSES = (
    "triangle", "parallelogram", "ellipse",
    "two triangles", "two parallelograms", "two ellipses",
    "triangle + parallelogram", "triangle + ellipse", "parallelogram + ellipse",
)

# Canonical shapes live in the square [-1, 1]^2 of coordinates (u, v), as four
# constraints each, rows over (u^2, uv, v^2, u, v, 1). A row is
# BASE + p * LINEAR + |p| * ABS, p being the shape's form parameter: the
# triangle's apex position a in [-1, 1], the parallelogram's shear s in [-1/2, 1/2].
_BASE = torch.tensor([
    [[0, 0, 0, 0, -1, -1],      # triangle, corners (-1,-1) (1,-1) (a,1): v >= -1
     [0, 0, 0, 1, .5, -.5],     # right edge: u + (1-a)/2 v - (1+a)/2 <= 0
     [0, 0, 0, -1, .5, -.5],    # left edge: -u + (1+a)/2 v + (a-1)/2 <= 0
     [0, 0, 0, 0, 0, -1]],      # (always true)
    [[0, 0, 0, 0, 1, -1],       # parallelogram |v| <= 1, |u - s v| <= 1 - |s|: v <= 1
     [0, 0, 0, 0, -1, -1],      # v >= -1
     [0, 0, 0, 1, 0, -1],       # u - s v <= 1 - |s|
     [0, 0, 0, -1, 0, -1]],     # s v - u <= 1 - |s|
    [[1, 0, 1, 0, 0, -1],       # ellipse: u^2 + v^2 <= 1
     [0, 0, 0, 0, 0, -1],
     [0, 0, 0, 0, 0, -1],
     [0, 0, 0, 0, 0, -1]],
])
_LINEAR = torch.zeros(3, 4, 6)
_LINEAR[TRIANGLE, 1, 4:] = torch.tensor([-.5, -.5])
_LINEAR[TRIANGLE, 2, 4:] = torch.tensor([.5, .5])
_LINEAR[PARALLELOGRAM, 2, 4] = -1.0
_LINEAR[PARALLELOGRAM, 3, 4] = 1.0
_ABS = torch.zeros(3, 4, 6)
_ABS[PARALLELOGRAM, 2:, 5] = 1.0
_FORM_RANGE = torch.tensor([1.0, 0.5, 0.0])  # |p| bound per shape
BLOCK = 4096  # scenes generated together (fewer, larger rejection rounds)
T = TypeVar("T")


@dataclass(frozen=True)
class ShapesetConfig:
    """Generator settings; the defaults follow Glorot & Bengio (2010)."""

    size: int = 32
    scale: tuple[float, float] = (0.2, 0.8)  # object extent per axis, fraction of the image
    object_grey: tuple[float, float] = (0.55, 1.0)
    background_grey: tuple[float, float] = (0.0, 0.45)
    swap_probability: float = 0.5
    max_overlap: float = 0.5  # of the smaller object's area
    antialias: bool = True  # edge pixels get fractional coverage
    epoch_size: int = 50_000
    val_size: int = 10_000
    test_size: int = 10_000

    def __post_init__(self) -> None:
        for name in ("size", "epoch_size", "val_size", "test_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"shapeset option {name}={value!r} must be a positive integer")


@dataclass(frozen=True)
class Objects:
    """One object per image: geometry only, each field a tensor over the batch."""

    shape: torch.Tensor  # int64 [B]: TRIANGLE, PARALLELOGRAM or ELLIPSE
    centre: torch.Tensor  # [B, 2] pixels (x, y); the canonical origin lands here
    half: torch.Tensor  # [B, 2] pixels: half-extent along the object's own axes
    angle: torch.Tensor  # [B] radians
    form: torch.Tensor  # [B] the shape parameter p (ignored for ellipses)

    def __len__(self) -> int:
        return int(self.shape.shape[0])

    def take(self, index: torch.Tensor) -> Objects:
        """The rows ``index`` (indices or a boolean mask)."""
        return Objects(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def put(self, index: torch.Tensor, other: Objects) -> Objects:
        """A copy with rows ``index`` replaced by ``other``."""
        parts = {}
        for f in fields(self):
            column = getattr(self, f.name).clone()
            column[index] = getattr(other, f.name)
            parts[f.name] = column
        return Objects(**parts)


@dataclass(frozen=True)
class Scenes:
    """A generated batch with everything drawn, so tests can check labels against it."""

    images: torch.Tensor  # [B, 1, size, size] float32 in [0, 1]
    labels: torch.Tensor  # [B] int64 class index
    first: Objects
    second: Objects
    has_second: torch.Tensor  # [B] bool
    background: torch.Tensor  # [B] grey level
    first_grey: torch.Tensor
    second_grey: torch.Tensor


def _uniform(n: int, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


def _rotation(angle: torch.Tensor) -> torch.Tensor:
    cos, sin = angle.cos(), angle.sin()
    return torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)


def _corners(objects: Objects) -> torch.Tensor:
    """Canonical corners ``[B, 4, 2]`` of triangles and parallelograms (the apex twice)."""
    p = objects.form
    one, t = torch.ones_like(p), 1 - p.abs()

    def points(*xy: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return torch.stack([torch.stack(pair, -1) for pair in xy], 1)

    triangle = points((-one, -one), (one, -one), (p, one), (p, one))
    parallelogram = points((p + t, one), (p - t, one), (t - p, -one), (-p - t, -one))
    return torch.where((objects.shape == TRIANGLE)[:, None, None], triangle, parallelogram)


def _extent(objects: Objects) -> tuple[torch.Tensor, torch.Tensor]:
    """Lowest and highest pixel offset ``[B, 2]`` of each object from its centre."""
    rotation = _rotation(objects.angle)
    offsets = (_corners(objects) * objects.half[:, None, :]) @ rotation.transpose(1, 2)
    # An ellipse reaches sqrt((hx cos)^2 + (hy sin)^2) along x, and likewise along y.
    radius = (rotation * objects.half[:, None, :]).pow(2).sum(-1).sqrt()
    is_ellipse = (objects.shape == ELLIPSE)[:, None]
    low = torch.where(is_ellipse, -radius, offsets.amin(1))
    high = torch.where(is_ellipse, radius, offsets.amax(1))
    return low, high


def sample_objects(shape: torch.Tensor, config: ShapesetConfig, gen: torch.Generator) -> Objects:
    """Random objects of the given shapes, redrawn until each fits inside the image."""
    n, size = len(shape), config.size
    objects = Objects(shape, torch.zeros(n, 2), torch.zeros(n, 2), torch.zeros(n), torch.zeros(n))
    todo = torch.arange(n)
    while len(todo):
        kind = shape[todo]
        half = _uniform(2 * len(todo), *config.scale, gen).view(-1, 2) * (size / 2)
        angle = _uniform(len(todo), 0.0, 2 * torch.pi, gen)
        form = _uniform(len(todo), -1.0, 1.0, gen) * _FORM_RANGE[kind]
        draw = Objects(kind, torch.zeros(len(todo), 2), half, angle, form)
        low, high = _extent(draw)
        fits = ((high - low) <= size).all(1)
        # Uniform position among those that keep the object inside the image.
        centre = -low + torch.rand(len(todo), 2, generator=gen) * (size - (high - low)).clamp(min=0)
        draw = replace(draw, centre=centre)
        objects = objects.put(todo[fits], draw.take(fits))
        todo = todo[~fits]
    return objects


def _constraints(objects: Objects) -> torch.Tensor:
    """Each object's four constraints as coefficients ``[B, 4, 6]`` over pixel features,
    scaled so that a row's value is (about) the signed distance in pixels to its edge."""
    kind = objects.shape
    p = objects.form[:, None, None]
    canonical = _BASE[kind] + p * _LINEAR[kind] + p.abs() * _ABS[kind]
    # Homogeneous map pixel (x, y, 1) -> canonical (u, v, 1): undo translation,
    # rotation, then scale. A row c becomes the quadratic form K, and K -> T^T K T.
    inverse = _rotation(objects.angle).transpose(1, 2) / objects.half[:, :, None]
    to_canonical = torch.zeros(len(objects), 3, 3)
    to_canonical[:, :2, :2] = inverse
    to_canonical[:, :2, 2] = -(inverse @ objects.centre[:, :, None])[:, :, 0]
    to_canonical[:, 2, 2] = 1.0
    t = to_canonical[:, None]
    pixel = _coefficients(t.transpose(-1, -2) @ _quadratic(canonical) @ t)
    # A half-plane's value divided by its gradient norm is exactly the distance.
    # For the ellipse u^2 + v^2 - 1 the gradient at the edge lies between 2/hx and
    # 2/hy; 2/sqrt(hx hy) is their geometric mean. Always-true rows end near -inf.
    is_quadratic = canonical[..., :3].abs().sum(-1) > 0
    ellipse_scale = objects.half.prod(-1).sqrt()[:, None].expand_as(is_quadratic) / 2
    linear_scale = 1 / pixel[..., 3:5].norm(dim=-1).clamp(min=1e-9)
    return pixel * torch.where(is_quadratic, ellipse_scale, linear_scale)[..., None]


def _quadratic(c: torch.Tensor) -> torch.Tensor:
    """Coefficients over (x^2, xy, y^2, x, y, 1) -> symmetric 3x3 matrix of (x, y, 1)."""
    q1, q2, q3, l1, l2, k = c.unbind(-1)
    rows = [torch.stack([q1, q2 / 2, l1 / 2], -1),
            torch.stack([q2 / 2, q3, l2 / 2], -1),
            torch.stack([l1 / 2, l2 / 2, k], -1)]
    return torch.stack(rows, -2)


def _coefficients(m: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_quadratic`."""
    return torch.stack([m[..., 0, 0], 2 * m[..., 0, 1], m[..., 1, 1],
                        2 * m[..., 0, 2], 2 * m[..., 1, 2], m[..., 2, 2]], -1)


def _pixel_features(size: int) -> torch.Tensor:
    """Features ``[6, size * size]`` of the pixel centres, row-major."""
    axis = torch.arange(size, dtype=torch.float32) + 0.5
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    x, y = x.reshape(-1), y.reshape(-1)
    return torch.stack([x * x, x * y, y * y, x, y, torch.ones_like(x)])


def coverage(objects: Objects, size: int = 32, antialias: bool = True,
             chunk: int = 32) -> torch.Tensor:
    """Fraction ``[B, size, size]`` of each pixel that each object covers.

    A pixel is inside when all four constraints are <= 0 at its centre. With
    ``antialias`` the coverage ramps linearly over one pixel across the edge,
    ``clamp(1/2 - d, 0, 1)`` for the signed distance ``d``: exact for straight,
    axis-aligned edges, with one sample per pixel where 2x2 supersampling takes
    four (and measured 4x slower). Chunks of
    ``chunk`` objects keep the ``[chunk, 4, size^2]`` values in cache.
    """
    with intra_op_threads(1):
        return _coverage(objects, size, antialias, chunk)


def _coverage(objects: Objects, size: int, antialias: bool, chunk: int) -> torch.Tensor:
    coefficients = _constraints(objects)
    features = _pixel_features(size)
    out = torch.empty(len(objects), size * size)
    for start in range(0, len(objects), chunk):
        block = coefficients[start:start + chunk]
        distance = (block.reshape(-1, 6) @ features).view(len(block), 4, -1).amax(1)
        if antialias:
            out[start:start + chunk] = distance.neg_().add_(0.5).clamp_(0.0, 1.0)
        else:
            out[start:start + chunk] = distance.le_(0.0)
    return out.view(len(objects), size, size)


def _too_close(first: torch.Tensor, second: torch.Tensor, limit: float) -> torch.Tensor:
    """Whether the overlap exceeds ``limit`` of the smaller object's area."""
    overlap = (first * second).sum((1, 2))
    smaller = torch.minimum(first.sum((1, 2)), second.sum((1, 2)))
    return overlap > limit * smaller


def generate(n: int, gen: torch.Generator, config: ShapesetConfig = ShapesetConfig()) -> Scenes:
    """``n`` labelled images drawn with ``gen``; same generator state, same images.

    Scenes are made in blocks of ``BLOCK`` so that every intermediate stays small.
    """
    with intra_op_threads(1):
        blocks = [_block(min(BLOCK, n - start), gen, config) for start in range(0, n, BLOCK)]
    return _concat(blocks)


def _concat(parts: list[T]) -> T:
    """Concatenate dataclasses of tensors (nested ones too) along the first axis."""
    columns = {f.name: [getattr(part, f.name) for part in parts] for f in fields(parts[0])}
    return type(parts[0])(**{
        name: _concat(values) if is_dataclass(values[0]) else torch.cat(values)
        for name, values in columns.items()
    })


def _block(n: int, gen: torch.Generator, config: ShapesetConfig) -> Scenes:
    def draw(objects: Objects) -> torch.Tensor:
        return _coverage(objects, config.size, config.antialias, chunk=32)

    labels = torch.randint(len(CLASSES), (n,), generator=gen)
    kinds = CLASS_SHAPES[labels]
    has_second = kinds[:, 1] >= 0
    # Every scene draws a second object, to keep the draws aligned, but only
    # those of two-object scenes are drawn on the image.
    first = sample_objects(kinds[:, 0], config, gen)
    second = sample_objects(kinds[:, 1].clamp(min=0), config, gen)
    pairs = has_second.nonzero()[:, 0]
    first_cover, second_cover = draw(first), torch.zeros(n, config.size, config.size)
    second_cover[pairs] = draw(second.take(pairs))
    # Rejection sampling: redraw both objects of a scene whose overlap is too large.
    todo = pairs[_too_close(first_cover[pairs], second_cover[pairs], config.max_overlap)]
    while len(todo):
        first = first.put(todo, sample_objects(kinds[todo, 0], config, gen))
        second = second.put(todo, sample_objects(kinds[todo, 1], config, gen))
        first_cover[todo] = draw(first.take(todo))
        second_cover[todo] = draw(second.take(todo))
        todo = todo[_too_close(first_cover[todo], second_cover[todo], config.max_overlap)]

    swap = torch.rand(n, generator=gen) < config.swap_probability
    dark, light = config.background_grey, config.object_grey
    background = torch.where(swap, _uniform(n, *light, gen), _uniform(n, *dark, gen))
    first_grey = torch.where(swap, _uniform(n, *dark, gen), _uniform(n, *light, gen))
    second_grey = torch.where(swap, _uniform(n, *dark, gen), _uniform(n, *light, gen))
    # Paint back to front; a partly covered pixel mixes the two levels.
    image = torch.lerp(background[:, None, None], first_grey[:, None, None], first_cover)
    image = torch.lerp(image, second_grey[:, None, None], second_cover)
    return Scenes(image.unsqueeze(1).contiguous(), labels, first, second, has_second,
                  background, first_grey, second_grey)


class ShapesetStream:
    """The online train source: epoch ``e`` is a fresh sample drawn from ``(seed, e)``.

    The two most recent epochs are kept, so asking again (a resumed run, a probe
    on the current epoch) costs nothing.
    """

    KEEP = 2

    def __init__(self, seed: int, config: ShapesetConfig) -> None:
        self.seed = seed
        self.config = config
        self._recent: OrderedDict[int, Split] = OrderedDict()

    def __len__(self) -> int:
        return self.config.epoch_size

    def epoch(self, index: int) -> Split:
        if index not in self._recent:
            gen = seeded_generator(self.seed, "shapeset-train", index)
            scenes = generate(self.config.epoch_size, gen, self.config)
            self._recent[index] = Split(scenes.images, scenes.labels)
            while len(self._recent) > self.KEEP:
                self._recent.popitem(last=False)
        self._recent.move_to_end(index)
        return self._recent[index]


def _fixed_split(seed: int, name: str, n: int, config: ShapesetConfig) -> Split:
    scenes = generate(n, seeded_generator(seed, f"shapeset-{name}"), config)
    return Split(scenes.images, scenes.labels)


def load_shapeset(data_dir: Path, seed: int, *, epoch_size: int = 50_000,
                  val_size: int = 10_000, test_size: int = 10_000,
                  antialias: bool = True) -> Dataset:
    """Shapeset-3x2 with an endless train stream and fixed val/test sets.

    The train epochs, val and test are drawn from distinct random streams of
    ``seed`` (see :func:`seeded_generator`). Nothing is read from ``data_dir``.
    """
    config = ShapesetConfig(epoch_size=epoch_size, val_size=val_size,
                            test_size=test_size, antialias=antialias)
    return Dataset(
        name="shapeset",
        train=ShapesetStream(seed, config),
        val=_fixed_split(seed, "val", config.val_size, config),
        test=_fixed_split(seed, "test", config.test_size, config),
        num_classes=len(CLASSES),
        input_shape=(1, config.size, config.size),
        classes=CLASSES,
        notes={
            "source": "generated (Shapeset-3x2, Glorot & Bengio 2010)",
            "train": f"online: a fresh {config.epoch_size}-image sample every epoch",
            "seed": str(seed),
        },
    )

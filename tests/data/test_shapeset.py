"""Shapeset-3x2: the rasterizer against known areas, then the generator's promises."""
from __future__ import annotations

import math

import pytest
import torch

from trainlab.data import load
from trainlab.data.base import seeded_generator
from trainlab.data.shapeset import (
    CLASS_SHAPES,
    CLASSES,
    ELLIPSE,
    PARALLELOGRAM,
    TRIANGLE,
    Objects,
    ShapesetConfig,
    coverage,
    generate,
)
from trainlab.errors import UserError

SMALL = {"epoch_size": 300, "val_size": 200, "test_size": 200}


def one(shape: int, half: tuple[float, float], angle: float = 0.0, form: float = 0.0,
        centre: tuple[float, float] = (16.0, 16.0)) -> Objects:
    return Objects(torch.tensor([shape]), torch.tensor([centre]), torch.tensor([half]),
                   torch.tensor([angle]), torch.tensor([form]))


def exact_area(objects: Objects) -> torch.Tensor:
    """Analytic areas: ellipse pi a b, triangle half its box, parallelogram 4 (1-|s|) a b."""
    a, b = objects.half.unbind(1)
    return torch.where(objects.shape == ELLIPSE, math.pi * a * b,
                       torch.where(objects.shape == TRIANGLE, 2 * a * b,
                                   4 * (1 - objects.form.abs()) * a * b))


@pytest.fixture(scope="module")
def scenes():
    return generate(3_000, seeded_generator(11, "test"))


def test_axis_aligned_ellipse_pixel_count_is_pi_a_b() -> None:
    ellipse = one(ELLIPSE, (8.0, 5.0))
    inside = coverage(ellipse, antialias=False)[0]
    assert abs(inside.sum().item() - math.pi * 40) < 0.04 * math.pi * 40
    assert set(inside.unique().tolist()) == {0.0, 1.0}
    # Centre row spans 16 +- 8: pixel centres 8.5 .. 23.5.
    assert inside[16].nonzero()[:, 0].tolist() == list(range(8, 24))
    assert abs(coverage(ellipse)[0].sum().item() - math.pi * 40) < 0.01 * math.pi * 40


def test_rectangle_on_pixel_edges_is_exact() -> None:
    rectangle = one(PARALLELOGRAM, (6.0, 4.0))
    for antialias in (False, True):
        cover = coverage(rectangle, antialias=antialias)[0]
        assert cover.sum().item() == pytest.approx(96.0, abs=1e-3)
        assert cover[12:20, 10:22].min().item() == pytest.approx(1.0)


def test_quarter_turn_swaps_the_axes() -> None:
    wide = coverage(one(ELLIPSE, (9.0, 4.0)), antialias=False)[0]
    tall = coverage(one(ELLIPSE, (4.0, 9.0), angle=math.pi / 2), antialias=False)[0]
    assert torch.equal(wide, tall)


@pytest.mark.parametrize("shape, half, angle, form", [
    (TRIANGLE, (10.0, 6.0), 0.3, 0.4),
    (TRIANGLE, (7.0, 11.0), 2.0, -1.0),
    (PARALLELOGRAM, (8.0, 8.0), 1.0, 0.5),
    (ELLIPSE, (12.0, 3.5), 0.7, 0.0),
])
def test_rotated_shapes_cover_their_area(shape: int, half: tuple[float, float],
                                         angle: float, form: float) -> None:
    objects = one(shape, half, angle, form)
    area = exact_area(objects).item()
    assert coverage(objects)[0].sum().item() == pytest.approx(area, rel=0.03)
    assert coverage(objects, antialias=False)[0].sum().item() == pytest.approx(area, rel=0.06)


def test_labels_are_the_set_of_shapes_drawn(scenes) -> None:
    expected = CLASS_SHAPES[scenes.labels]
    assert torch.equal(scenes.has_second, expected[:, 1] >= 0)
    assert torch.equal(scenes.first.shape, expected[:, 0])
    pairs = scenes.has_second
    assert torch.equal(scenes.second.shape[pairs], expected[pairs, 1])
    assert len(CLASSES) == 9 and len(set(CLASSES)) == 9


def test_objects_lie_wholly_inside_the_image(scenes) -> None:
    for objects in (scenes.first, scenes.second):
        drawn = coverage(objects).sum((1, 2))
        ratio = drawn / exact_area(objects)
        assert ratio.min() > 0.95 and ratio.max() < 1.05  # clipping would lose area


def test_scale_stays_in_range(scenes) -> None:
    size = ShapesetConfig().size
    half = torch.cat([scenes.first.half, scenes.second.half])
    assert half.min() >= 0.2 * size / 2 and half.max() <= 0.8 * size / 2


def test_overlap_is_at_most_half_the_smaller_object(scenes) -> None:
    pairs = scenes.has_second
    first, second = coverage(scenes.first)[pairs], coverage(scenes.second)[pairs]
    overlap = (first * second).sum((1, 2))
    smaller = torch.minimum(first.sum((1, 2)), second.sum((1, 2)))
    assert (overlap <= 0.5 * smaller + 1e-3).all()
    assert (overlap > 0).any()  # overlaps do happen, they are only bounded


def test_grey_levels_and_swaps(scenes) -> None:
    swapped = scenes.background > 0.5
    dark, light = (0.0, 0.45), (0.55, 1.0)
    for level, (low, high) in ((scenes.background, dark), (scenes.first_grey, light),
                               (scenes.second_grey, light)):
        unswapped_range = level[~swapped]
        swapped_range = level[swapped]
        assert unswapped_range.min() >= low and unswapped_range.max() <= high
        other = light if (low, high) == dark else dark
        assert swapped_range.min() >= other[0] and swapped_range.max() <= other[1]
    assert 0.45 < swapped.float().mean() < 0.55
    images = scenes.images.flatten(1)
    lowest = torch.stack([scenes.background, scenes.first_grey, scenes.second_grey], 1)
    lowest = torch.where(scenes.has_second[:, None], lowest, lowest[:, :2].repeat(1, 2)[:, :3])
    assert (images.min(1).values >= lowest.min(1).values - 1e-6).all()
    assert (images.max(1).values <= lowest.max(1).values + 1e-6).all()
    # Every image shows its background somewhere.
    assert ((images - scenes.background[:, None]).abs().min(1).values < 1e-6).all()


def test_classes_are_roughly_balanced(scenes) -> None:
    counts = torch.bincount(scenes.labels, minlength=9).float()
    expected = len(scenes.labels) / 9
    chi_square = ((counts - expected) ** 2 / expected).sum().item()
    assert chi_square < 26.1  # the 0.1% point of chi-square with 8 degrees of freedom


def test_same_seed_same_tensors_and_epochs_differ() -> None:
    a, b = load("shapeset", seed=5, **SMALL), load("shapeset", seed=5, **SMALL)
    assert torch.equal(a.val.x, b.val.x) and torch.equal(a.test.y, b.test.y)
    assert torch.equal(a.train.epoch(3).x, b.train.epoch(3).x)
    assert not torch.equal(a.train.epoch(0).x, a.train.epoch(1).x)
    assert not torch.equal(a.val.x, a.test.x)
    assert not torch.equal(a.val.x, load("shapeset", seed=6, **SMALL).val.x)


def test_stream_shape_size_and_cache() -> None:
    data = load("shapeset", seed=1, **SMALL)
    assert len(data.train) == 300 and len(data.val) == 200 and len(data.test) == 200
    epoch = data.train.epoch(0)
    assert epoch.x.shape == (300, 1, 32, 32) and epoch.x.dtype == torch.float32
    assert epoch.y.dtype == torch.int64 and data.input_shape == (1, 32, 32)
    assert data.train.epoch(0) is epoch
    data.train.epoch(1)
    assert data.train.epoch(0) is epoch  # two epochs are kept
    data.train.epoch(2)
    data.train.epoch(3)
    assert data.train.epoch(0) is not epoch
    assert torch.equal(data.train.epoch(0).x, epoch.x)


def test_bad_sizes_are_user_errors() -> None:
    with pytest.raises(UserError, match="val_size=0 must be a positive integer"):
        load("shapeset", val_size=0)
    with pytest.raises(UserError, match="has no option colour; its options are: epoch_size"):
        load("shapeset", colour="red")

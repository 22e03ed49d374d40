"""Blobs and spirals: shapes, seeding, and that the labels mean what they say."""
from __future__ import annotations

import pytest
import torch

from trainlab.data import DATASETS, list_datasets, load, resolve_data_dir
from trainlab.errors import UserError


def test_blobs_shapes_and_defaults() -> None:
    data = load("synthetic-blobs", classes=4, dims=5)
    assert (len(data.train), len(data.val), len(data.test)) == (2_000, 500, 500)
    assert data.train.x.shape == (2_000, 5) and data.input_shape == (5,)
    assert data.num_classes == 4 and set(data.train.y.tolist()) == {0, 1, 2, 3}
    assert data.train.x.dtype == torch.float32 and data.train.y.dtype == torch.int64


def test_blobs_are_separable_when_spread_far() -> None:
    data = load("synthetic-blobs", seed=2, classes=3, dims=4, spread=20.0)
    centres = torch.stack([data.train.x[data.train.y == c].mean(0) for c in range(3)])
    nearest = torch.cdist(data.test.x, centres).argmin(1)
    assert (nearest == data.test.y).float().mean() > 0.99


def test_spirals_arms_and_radius() -> None:
    data = load("synthetic-spirals", seed=1, classes=3, noise=0.0)
    radius = data.train.x.norm(dim=1)
    assert radius.min() >= 0.05 - 1e-6 and radius.max() <= 1.05 + 1e-6
    assert data.num_classes == 3 and data.input_shape == (2,)
    # Noise-free points of one arm at one radius share one angle.
    arm = data.train.x[data.train.y == 0]
    t = arm.norm(dim=1) - 0.05
    expected = 2 * torch.pi * 1.5 * t
    angle = torch.atan2(arm[:, 1], arm[:, 0])
    assert torch.allclose(torch.cos(angle - expected), torch.ones_like(t), atol=1e-4)


@pytest.mark.parametrize("name", ["synthetic-blobs", "synthetic-spirals"])
def test_seeded_and_split_sizes_independent(name: str) -> None:
    a, b = load(name, seed=3), load(name, seed=3)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.equal(a.train.x, load(name, seed=4).train.x)
    assert torch.equal(a.train.x, load(name, seed=3, n_val=17).train.x)
    assert not torch.equal(a.val.x, a.test.x)


def test_bad_options_are_user_errors() -> None:
    with pytest.raises(UserError, match="n_train=0 must be a positive integer"):
        load("synthetic-blobs", n_train=0)
    with pytest.raises(UserError, match="has no option dims; its options are: classes, turns"):
        load("synthetic-spirals", dims=3)


def test_registry_and_unknown_names() -> None:
    assert list_datasets() == sorted(DATASETS)
    assert {"shapeset", "mnist", "fashion-mnist", "cifar10", "synthetic-blobs",
            "synthetic-spirals"} == set(DATASETS)
    with pytest.raises(UserError, match="unknown dataset 'svhn'; choose one of: cifar10, "):
        load("svhn")


def test_data_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("TRAINLAB_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir() == tmp_path / "xdg" / "trainlab" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_data_dir() == tmp_path / "home" / ".cache" / "trainlab" / "data"

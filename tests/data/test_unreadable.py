"""Data files that exist but cannot be read, or are folders: one DataError naming the file and the fix."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainlab.data import idx, load, paths
from trainlab.errors import DataError


def _mnist_copy(real: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for file in idx.MNIST.files:
        (folder / file.name).write_bytes((real / "mnist" / file.name).read_bytes())
    return folder


def test_a_folder_in_place_of_an_idx_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "mnist" / idx.MNIST.train_images.name).mkdir(parents=True)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz is a folder, not the data file"):
        load("mnist", data_dir=tmp_path)


def test_an_unreadable_file_is_named_when_hashing(mnist_root: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _mnist_copy(mnist_root, tmp_path)
    paths._md5_of.cache_clear()

    def denied(path: str, size: int, mtime: int) -> str:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(paths, "_md5_of", denied)
    with pytest.raises(DataError, match=r"mnist: cannot read .*\(Permission denied\); check its permissions"):
        load("mnist", data_dir=tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_file_without_read_permission_is_named(mnist_root: Path, tmp_path: Path) -> None:
    folder = _mnist_copy(mnist_root, tmp_path)
    paths._md5_of.cache_clear()
    (folder / idx.MNIST.test_labels.name).chmod(0)
    try:
        with pytest.raises(DataError, match="cannot read .*t10k-labels.*check its permissions"):
            load("mnist", data_dir=tmp_path)
    finally:
        (folder / idx.MNIST.test_labels.name).chmod(0o644)

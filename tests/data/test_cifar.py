"""CIFAR-10 binary batches: the subset's published figures, layouts and damage."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab.data import cifar, load
from trainlab.errors import DataError


def write_batch(path: Path, labels: list[int], seed: int = 0) -> Path:
    """A batch in the official record layout with random pixels."""
    rng = np.random.default_rng(seed)
    records = rng.integers(0, 256, (len(labels), cifar.RECORD_BYTES), dtype=np.uint8)
    records[:, 0] = labels
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(records.tobytes())
    return path


@pytest.fixture
def unverified_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let small hand-made batches stand in the subset folder: its known sizes and MD5s are not checked."""
    monkeypatch.setattr(cifar, "LAYOUTS", (cifar.FULL, replace(cifar.SUBSET, known=())))


def test_subset_matches_published_figures(cifar_subset_root: Path) -> None:
    data = load("cifar10", data_dir=cifar_subset_root)
    assert (len(data.train), len(data.val), len(data.test)) == (3_600, 400, 1_000)
    assert data.train.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert data.test.y[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert data.train.x.shape == (3_600, 3, 32, 32) and data.input_shape == (3, 32, 32)
    mean = torch.cat([data.train.x, data.val.x]).mean(dim=(0, 2, 3))
    assert torch.allclose(mean, torch.tensor([0.4916, 0.4818, 0.4447]), atol=6e-5)
    assert "subset" in data.notes["variant"]
    assert data.classes[6] == "frog"


def test_full_set_wins_over_subset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A "full set" of 20 records per file stands in for the real 10,000.
    monkeypatch.setattr(cifar, "LAYOUTS", (replace(cifar.FULL, records_per_file=20), cifar.SUBSET))
    write_batch(tmp_path / "cifar-10-subset" / "data_batch_1.bin", [1] * 10)
    write_batch(tmp_path / "cifar-10-subset" / "test_batch.bin", [1] * 10)
    full = tmp_path / "cifar-10-batches-bin"
    write_batch(full / "data_batch_1.bin", [c % 10 for c in range(20)])
    write_batch(full / "data_batch_2.bin", [7] * 20, seed=1)
    write_batch(full / "test_batch.bin", [3] * 20, seed=2)
    data = load("cifar10", data_dir=tmp_path)
    assert "full set" in data.notes["variant"]
    assert (len(data.train), len(data.val), len(data.test)) == (36, 4, 20)
    assert data.train.y[:3].tolist() == [0, 1, 2] and data.val.y.tolist() == [7] * 4


def test_full_set_with_short_batch_is_rejected(tmp_path: Path) -> None:
    write_batch(tmp_path / "cifar-10-batches-bin" / "data_batch_1.bin", [0] * 5)
    write_batch(tmp_path / "cifar-10-batches-bin" / "test_batch.bin", [0] * 5)
    with pytest.raises(DataError, match="data_batch_1.bin holds 5 records, expected 10000"):
        load("cifar10", data_dir=tmp_path)


def test_pixels_are_decoded_channel_planes(tmp_path: Path) -> None:
    record = np.zeros(cifar.RECORD_BYTES, dtype=np.uint8)
    record[0] = 4
    record[1 + 0 * 1024 + 5] = 255  # red, row 0, column 5
    record[1 + 2 * 1024 + 32] = 51  # blue, row 1, column 0
    path = tmp_path / "batch.bin"
    path.write_bytes(record.tobytes())
    images, labels = cifar.read_batch(path)
    assert labels.tolist() == [4]
    assert images[0, 0, 0, 5] == 255 and images[0, 2, 1, 0] == 51 and images.sum() == 306


def test_size_not_a_multiple_of_the_record_names_the_file(tmp_path: Path, unverified_subset: None) -> None:
    folder = tmp_path / "cifar-10-subset"
    write_batch(folder / "data_batch_1.bin", [0] * 3)
    write_batch(folder / "test_batch.bin", [0] * 3)
    with open(folder / "test_batch.bin", "ab") as handle:
        handle.write(b"\0" * 7)
    with pytest.raises(DataError, match="test_batch.bin is 9226 bytes, not a multiple of the 3073"):
        load("cifar10", data_dir=tmp_path)


def test_subset_sized_file_with_wrong_content_fails_md5(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-subset"
    write_batch(folder / "data_batch_1.bin", [0] * 4_000)
    write_batch(folder / "test_batch.bin", [0] * 3)
    with pytest.raises(DataError, match="data_batch_1.bin has MD5 .* expected the official 07704ae2"):
        load("cifar10", data_dir=tmp_path)


def test_label_out_of_range_is_corrupt(tmp_path: Path, unverified_subset: None) -> None:
    folder = tmp_path / "cifar-10-subset"
    write_batch(folder / "data_batch_1.bin", [0, 12, 3])
    write_batch(folder / "test_batch.bin", [0])
    with pytest.raises(DataError, match="data_batch_1.bin holds label 12"):
        load("cifar10", data_dir=tmp_path)


def test_missing_folder_message_says_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load("cifar10", data_dir=tmp_path)
    message = str(info.value)
    for part in ("test_batch.bin", str(tmp_path), cifar.URL, "trainlab data download cifar10"):
        assert part in message


def test_missing_test_batch_is_named(tmp_path: Path) -> None:
    write_batch(tmp_path / "cifar-10-subset" / "data_batch_1.bin", [0] * 3)
    with pytest.raises(DataError, match="test_batch.bin not found in .*cifar-10-subset"):
        load("cifar10", data_dir=tmp_path)


def _subset_copy(real: Path, tmp_path: Path) -> Path:
    """A writable copy of the real subset (in tmp_path, never in the repository)."""
    folder = tmp_path / cifar.SUBSET.folder
    folder.mkdir()
    for name in ("data_batch_1.bin", "test_batch.bin"):
        (folder / name).write_bytes((real / cifar.SUBSET.folder / name).read_bytes())
    return folder


@pytest.mark.parametrize("name, change, size", [
    ("data_batch_1.bin", lambda raw: raw[:1_000 * cifar.RECORD_BYTES], 1_000),
    ("data_batch_1.bin", lambda raw: raw + raw[:cifar.RECORD_BYTES], 4_001),
    ("test_batch.bin", lambda raw: raw[:-cifar.RECORD_BYTES], 999),
])
def test_subset_with_records_cut_or_appended_is_refused(cifar_subset_root: Path, tmp_path: Path,
                                                        name: str, change, size: int) -> None:
    folder = _subset_copy(cifar_subset_root, tmp_path)
    path = folder / name
    known = {n: s for n, s, _ in cifar.SUBSET.known}[name]
    path.write_bytes(change(path.read_bytes()))
    with pytest.raises(DataError, match=rf"{name} is {size * cifar.RECORD_BYTES} bytes \({size} records\), "
                                        rf"expected {known} \({known // cifar.RECORD_BYTES} records\)"):
        load("cifar10", data_dir=tmp_path)
    with pytest.raises(DataError, match="replace it with the original file"):
        cifar.verify(tmp_path)


def test_an_empty_batch_is_named(tmp_path: Path, unverified_subset: None) -> None:
    write_batch(tmp_path / "cifar-10-subset" / "test_batch.bin", [1] * 10)
    (tmp_path / "cifar-10-subset" / "data_batch_2.bin").write_bytes(b"")
    with pytest.raises(DataError, match=r"data_batch_2.bin is empty \(0 bytes\)"):
        load("cifar10", data_dir=tmp_path)


def test_a_folder_where_a_batch_should_be_is_named(tmp_path: Path, unverified_subset: None) -> None:
    write_batch(tmp_path / "cifar-10-subset" / "data_batch_2.bin", [1] * 10)
    (tmp_path / "cifar-10-subset" / "test_batch.bin").mkdir()
    with pytest.raises(DataError, match="test_batch.bin is a folder, not the data file"):
        load("cifar10", data_dir=tmp_path)
    (tmp_path / "cifar-10-subset" / "test_batch.bin").rmdir()
    write_batch(tmp_path / "cifar-10-subset" / "test_batch.bin", [1] * 10)
    (tmp_path / "cifar-10-subset" / "data_batch_3.bin").mkdir()  # before: silently left out
    with pytest.raises(DataError, match="data_batch_3.bin is a folder"):
        load("cifar10", data_dir=tmp_path)


def test_an_unreadable_batch_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      unverified_subset: None) -> None:
    write_batch(tmp_path / "cifar-10-subset" / "data_batch_2.bin", [1] * 10)
    write_batch(tmp_path / "cifar-10-subset" / "test_batch.bin", [1] * 10, seed=1)

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cifar.np, "fromfile", denied)
    with pytest.raises(DataError, match=r"cifar10: cannot read .*data_batch_2.bin \(Permission denied\); "
                                        r"check its permissions"):
        load("cifar10", data_dir=tmp_path)

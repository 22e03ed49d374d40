"""MNIST / Fashion-MNIST: known facts of the real files, and damaged files."""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import torch

from trainlab.data import idx, load
from trainlab.errors import DataError


def idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + payload


def write_gz(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data))
    return path


def test_mnist_known_labels_counts_and_split(mnist_root: Path) -> None:
    data = load("mnist", data_dir=mnist_root)
    assert (len(data.train), len(data.val), len(data.test)) == (50_000, 10_000, 10_000)
    assert data.train.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert data.test.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert data.train.x.shape == (50_000, 1, 28, 28) and data.input_shape == (1, 28, 28)
    assert data.train.x.dtype == torch.float32 and data.train.y.dtype == torch.int64
    assert data.train.x.min() == 0.0 and data.train.x.max() == 1.0
    assert data.num_classes == 10 and len(data.classes) == 10


def test_fashion_mnist_known_labels(fashion_root: Path) -> None:
    data = load("fashion-mnist", data_dir=fashion_root)
    assert data.train.y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert data.test.y[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert data.classes[9] == "Ankle boot"


def test_repeated_loads_decode_once_and_return_fresh_tensors(mnist_root: Path) -> None:
    first = load("mnist", data_dir=mnist_root)
    hits = idx._decode.cache_info().hits
    first.train.x.zero_()
    second = load("mnist", data_dir=mnist_root)
    assert idx._decode.cache_info().hits == hits + 1
    assert second.train.x.max() == 1.0


def test_missing_file_message_says_where_and_how(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load("mnist", data_dir=tmp_path)
    message = str(info.value)
    for part in ("train-images-idx3-ubyte.gz", str(tmp_path / "mnist"),
                 "https://ossci-datasets.s3.amazonaws.com/mnist/", "trainlab data download mnist",
                 "--data-dir", "TRAINLAB_DATA"):
        assert part in message
    assert "\n" not in message


def test_wrong_md5_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    for file in idx.MNIST.files:
        write_gz(folder / file.name, b"not mnist")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*MD5"):
        load("mnist", data_dir=tmp_path)


def test_truncated_gzip_names_the_file(tmp_path: Path) -> None:
    data = gzip.compress(idx_bytes(idx.LABELS_MAGIC, (1000,), bytes(1000)))
    path = tmp_path / "labels.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="labels.gz.*truncated or corrupt"):
        idx.read_idx(path, idx.LABELS_MAGIC)


def test_wrong_magic_names_the_file(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "labels.gz", idx_bytes(idx.LABELS_MAGIC, (3,), bytes(3)))
    with pytest.raises(DataError, match="labels.gz.*magic number is 2049, expected 2051"):
        idx.read_idx(path, idx.IMAGES_MAGIC)


def test_payload_shorter_than_header_claims(tmp_path: Path) -> None:
    path = write_gz(tmp_path / "images.gz", idx_bytes(idx.IMAGES_MAGIC, (2, 28, 28), bytes(100)))
    with pytest.raises(DataError, match="images.gz.*needs 1584"):
        idx.read_idx(path, idx.IMAGES_MAGIC)


def test_read_idx_decodes_a_small_file(tmp_path: Path) -> None:
    pixels = bytes(range(2 * 2 * 3))
    path = write_gz(tmp_path / "tiny.gz", idx_bytes(idx.IMAGES_MAGIC, (2, 2, 3), pixels))
    array = idx.read_idx(path, idx.IMAGES_MAGIC)
    assert array.shape == (2, 2, 3) and array.tobytes() == pixels


def test_wrong_counts_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Files that pass a (patched) MD5 check but hold too few images.
    folder = tmp_path / "mnist"
    folder.mkdir()
    contents = {
        idx.MNIST.train_images.name: idx_bytes(idx.IMAGES_MAGIC, (2, 28, 28), bytes(2 * 784)),
        idx.MNIST.train_labels.name: idx_bytes(idx.LABELS_MAGIC, (2,), bytes(2)),
        idx.MNIST.test_images.name: idx_bytes(idx.IMAGES_MAGIC, (1, 28, 28), bytes(784)),
        idx.MNIST.test_labels.name: idx_bytes(idx.LABELS_MAGIC, (1,), bytes(1)),
    }
    files = []
    for name, data in contents.items():
        path = write_gz(folder / name, data)
        files.append(idx.DataFile(name, hashlib.md5(path.read_bytes()).hexdigest()))
    fake = idx.IdxSource("mnist", idx.MNIST.url, *files, classes=idx.MNIST.classes)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*expected \\(60000, 28, 28\\)"):
        idx.load_idx(fake, tmp_path)

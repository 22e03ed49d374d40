"""MNIST and Fashion-MNIST, read from the original gzipped IDX files.

IDX (LeCun et al., http://yann.lecun.com/exdb/mnist/): a big-endian header of
two zero bytes, a type byte (0x08 = unsigned byte), a dimension count ``d``,
then ``d`` 32-bit sizes, then the data row-major. Images have magic 2051
(``0x00000803``), labels 2049 (``0x00000801``).

Split as in Glorot & Bengio (2010): train = the first 50,000 official training
images, val = the last 10,000 of them, test = the official 10,000 test images.
"""
from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from trainlab.data.base import Dataset, Split
from trainlab.data.paths import DataFile, require_file, unreadable_file_error, verify_md5
from trainlab.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
SIDE = 28
TRAIN_COUNT, TEST_COUNT, VAL_COUNT = 60_000, 10_000, 10_000


@dataclass(frozen=True)
class IdxSource:
    """Where one IDX dataset lives, where it comes from, and what its files are."""

    name: str
    url: str
    train_images: DataFile
    train_labels: DataFile
    test_images: DataFile
    test_labels: DataFile
    classes: tuple[str, ...]

    @property
    def files(self) -> tuple[DataFile, ...]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


MNIST = IdxSource(
    name="mnist",
    url="https://ossci-datasets.s3.amazonaws.com/mnist/",
    train_images=DataFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    train_labels=DataFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    test_images=DataFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    test_labels=DataFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    classes=tuple(str(digit) for digit in range(10)),
)

FASHION_MNIST = IdxSource(
    name="fashion-mnist",
    url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    train_images=DataFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    train_labels=DataFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    test_images=DataFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    test_labels=DataFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)

# Looked up at call time, so a mirror (or a test) can substitute a source.
SOURCES: dict[str, IdxSource] = {source.name: source for source in (MNIST, FASHION_MNIST)}


def folder(source: IdxSource, data_dir: Path) -> Path:
    return data_dir / source.name


def verify(source: IdxSource, data_dir: Path) -> Path:
    """Check that all four files exist and match their official MD5; return the folder."""
    for file in source.files:
        path = require_file(folder(source, data_dir) / file.name, source.name, source.url + file.name)
        if file.md5 is not None:
            verify_md5(path, file.md5, source.name)
    return folder(source, data_dir)


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Decode one gzipped IDX file of unsigned bytes; any damage is a :class:`DataError`."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (PermissionError, IsADirectoryError) as exc:
        raise unreadable_file_error(path, path.parent.name, exc) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot decompress ({exc}); the file is truncated or corrupt, "
                        "delete it and download it again") from exc
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != magic:
        found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else "nothing"
        raise DataError(f"{path}: IDX magic number is {found}, expected {magic}; "
                        "this is not the right IDX file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise DataError(f"{path}: holds {len(raw)} bytes but its header {dims} needs {expected}; "
                        "the file is truncated or corrupt")
    # A copy, because torch refuses to wrap the read-only buffer of ``raw``.
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def _read_pair(images: Path, labels: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(images, IMAGES_MAGIC)
    y = read_idx(labels, LABELS_MAGIC)
    if x.shape != (count, SIDE, SIDE):
        raise DataError(f"{images}: images have shape {x.shape}, expected ({count}, {SIDE}, {SIDE})")
    if y.shape != (count,):
        raise DataError(f"{labels}: holds {y.shape[0]} labels, expected {count}")
    if int(y.max()) > 9:
        raise DataError(f"{labels}: holds label {int(y.max())}, expected labels 0..9")
    return x, y


@lru_cache(maxsize=4)
def _decode(source: IdxSource, root: Path, stamp: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    # ``stamp`` (sizes and mtimes) is only a cache key, so rewritten files are re-read.
    train_x, train_y = _read_pair(root / source.train_images.name, root / source.train_labels.name,
                                  TRAIN_COUNT)
    test_x, test_y = _read_pair(root / source.test_images.name, root / source.test_labels.name,
                                TEST_COUNT)
    return train_x, train_y, test_x, test_y


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    # Fresh float tensors on every load: callers may modify them in place.
    x = torch.from_numpy(images).unsqueeze(1).float().div_(255.0)
    return Split(x, torch.from_numpy(labels.astype(np.int64)))


def load_idx(source: IdxSource, data_dir: Path) -> Dataset:
    """The verified, decoded dataset: x float32 in [0, 1] of shape [N, 1, 28, 28]."""
    root = verify(source, data_dir).resolve()
    stamp = tuple(v for f in source.files for v in ((root / f.name).stat().st_size,
                                                    (root / f.name).stat().st_mtime_ns))
    train_x, train_y, test_x, test_y = _decode(source, root, stamp)
    cut = TRAIN_COUNT - VAL_COUNT
    return Dataset(
        name=source.name,
        train=_split(train_x[:cut], train_y[:cut]),
        val=_split(train_x[cut:], train_y[cut:]),
        test=_split(test_x, test_y),
        num_classes=len(source.classes),
        input_shape=(1, SIDE, SIDE),
        classes=source.classes,
        notes={
            "source": str(root),
            "split": "train = first 50,000 official training images, val = last 10,000, "
                     "test = official 10,000 (Glorot & Bengio, 2010)",
        },
    )


def load_mnist(data_dir: Path, seed: int) -> Dataset:
    """MNIST (LeCun et al., 1998). The split is fixed, so ``seed`` is unused."""
    return load_idx(SOURCES["mnist"], data_dir)


def load_fashion_mnist(data_dir: Path, seed: int) -> Dataset:
    """Fashion-MNIST (Xiao et al., 2017). The split is fixed, so ``seed`` is unused."""
    return load_idx(SOURCES["fashion-mnist"], data_dir)

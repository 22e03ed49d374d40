"""CIFAR-10 from the official *binary* batches (Krizhevsky, 2009); never from pickles.

Each record is 3,073 bytes: one label byte (0-9), then the 1,024 red, 1,024
green and 1,024 blue bytes of a 32x32 image, row-major
(https://www.cs.toronto.edu/~kriz/cifar.html). Two folders are searched under
the data directory, and the full set wins when both exist:

* ``cifar-10-batches-bin/``: the full set, as the official tarball extracts;
  every batch must hold exactly 10,000 records.
* ``cifar-10-subset/``: a subset in the same layout (the shared test data: the
  first 4,000 images of batch 1 and the first 1,000 test images), MD5-verified.

Whichever ``data_batch_N.bin`` are present form the training records, and the
last 10% of them are held out as the validation split (subset: 3,600 / 400).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from trainlab.data.base import Dataset, Split
from trainlab.data.paths import missing_file_error, require_file, unreadable_file_error, verify_md5
from trainlab.errors import DataError

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
RECORD_BYTES = 1 + 3 * 32 * 32
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
VAL_FRACTION = 0.1


@dataclass(frozen=True)
class Layout:
    """One folder CIFAR-10 may be found in, and how its files are checked."""

    folder: str
    description: str
    records_per_file: int | None
    # (file name, size in bytes, MD5): a file of that name must have that size and MD5.
    known: tuple[tuple[str, int, str], ...] = ()


FULL = Layout("cifar-10-batches-bin", "full set (50,000 train / 10,000 test)", 10_000)
SUBSET = Layout(
    "cifar-10-subset",
    "subset (first 4,000 images of batch 1, first 1,000 test images)",
    None,
    (("data_batch_1.bin", 4_000 * RECORD_BYTES, "07704ae233cc40e200a600eed4f4e13c"),
     ("test_batch.bin", 1_000 * RECORD_BYTES, "371f65da31ad652f5e24b3699a3e6515")),
)
LAYOUTS = (FULL, SUBSET)


def find(data_dir: Path) -> tuple[Path, Layout]:
    """The folder to read (full set first) and its layout; missing -> :class:`DataError`."""
    for layout in LAYOUTS:
        if (data_dir / layout.folder).is_dir():
            return data_dir / layout.folder, layout
    raise missing_file_error(data_dir / FULL.folder / TEST_FILE, "cifar10", URL)


def _check(path: Path, layout: Layout) -> int:
    """Verify one batch file and return its record count."""
    size = path.stat().st_size
    if size == 0:
        raise DataError(f"cifar10: {path} is empty (0 bytes); delete it and copy or download it again")
    if size % RECORD_BYTES != 0:
        raise DataError(f"cifar10: {path} is {size} bytes, not a multiple of the "
                        f"{RECORD_BYTES}-byte record; the file is truncated or corrupt")
    for name, known_size, md5 in layout.known:
        if path.name != name:
            continue
        if size != known_size:  # truncated, or records appended: either way not the verified subset
            raise DataError(f"cifar10: {path} is {size} bytes ({size // RECORD_BYTES} records), expected "
                            f"{known_size} ({known_size // RECORD_BYTES} records) for the {layout.folder}/ "
                            f"{layout.description}; replace it with the original file, or use the full set "
                            f"(`trainlab data download cifar10`)")
        verify_md5(path, md5, "cifar10")
    records = size // RECORD_BYTES
    if layout.records_per_file is not None and records != layout.records_per_file:
        raise DataError(f"cifar10: {path} holds {records} records, expected "
                        f"{layout.records_per_file} in the full set; download it again")
    return records


def checked_files(data_dir: Path) -> tuple[Layout, tuple[Path, ...]]:
    """The layout found and its verified batch files, training batches first."""
    root, layout = find(data_dir)
    train = tuple(require_file(root / name, "cifar10", URL) for name in TRAIN_FILES if (root / name).exists())
    if not train:
        raise missing_file_error(root / TRAIN_FILES[0], "cifar10", URL)
    files = (*train, require_file(root / TEST_FILE, "cifar10", URL))
    for path in files:
        _check(path, layout)
    return layout, files


def verify(data_dir: Path) -> Path:
    """Check every batch file that would be read; return their folder."""
    _, files = checked_files(data_dir)
    return files[0].parent


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``[N, 3, 32, 32]`` uint8 and labels ``[N]`` from one binary batch."""
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise unreadable_file_error(path, "cifar10", exc) from None
    if raw.size % RECORD_BYTES != 0:
        raise DataError(f"cifar10: {path} is {raw.size} bytes, not a multiple of {RECORD_BYTES}")
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0]
    if labels.size and int(labels.max()) > 9:
        raise DataError(f"cifar10: {path} holds label {int(labels.max())}, expected 0..9; "
                        "the file is corrupt")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


@lru_cache(maxsize=2)
def _decode(files: tuple[Path, ...], stamp: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, ...]:
    # ``stamp`` (size and mtime of each file) is only a cache key.
    batches = [read_batch(path) for path in files]
    train, (test_x, test_y) = batches[:-1], batches[-1]
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
            test_x, test_y)


def _split(images: np.ndarray, labels: np.ndarray) -> Split:
    x = torch.from_numpy(images).float().div_(255.0)
    return Split(x, torch.from_numpy(labels.astype(np.int64)))


def load_cifar10(data_dir: Path, seed: int) -> Dataset:
    """CIFAR-10, x float32 in [0, 1] of shape [N, 3, 32, 32]. The split is fixed;
    ``seed`` is unused."""
    layout, files = checked_files(data_dir)
    files = tuple(path.resolve() for path in files)
    stamp = tuple((path.stat().st_size, path.stat().st_mtime_ns) for path in files)
    train_x, train_y, test_x, test_y = _decode(files, stamp)
    cut = len(train_y) - int(round(len(train_y) * VAL_FRACTION))
    return Dataset(
        name="cifar10",
        train=_split(train_x[:cut], train_y[:cut]),
        val=_split(train_x[cut:], train_y[cut:]),
        test=_split(test_x, test_y),
        num_classes=len(CLASSES),
        input_shape=(3, 32, 32),
        classes=CLASSES,
        notes={
            "variant": layout.description,
            "source": str(files[0].parent),
            "split": f"val = last 10% of the training records ({len(train_y) - cut}); "
                     f"train = the {cut} before them; test = {TEST_FILE}",
        },
    )

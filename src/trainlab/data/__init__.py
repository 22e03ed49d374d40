"""Datasets by name: ``load("mnist")``, ``load("shapeset", seed=1)``.

Every dataset comes back as a :class:`~trainlab.data.base.Dataset`. Names:

* ``shapeset``: Shapeset-3x2, generated online (options ``epoch_size``,
  ``val_size``, ``test_size``, ``antialias``).
* ``mnist``, ``fashion-mnist``: the original IDX files under ``<data_dir>/<name>/``.
* ``cifar10``: the official binary batches under ``<data_dir>/cifar-10-batches-bin/``
  (full set) or ``<data_dir>/cifar-10-subset/``.
* ``synthetic-blobs``, ``synthetic-spirals``: small generated problems, one name
  per kind (options ``classes``, ``n_train``, ``n_val``, ``n_test`` and a few more).

The data directory is ``data_dir``, else ``$TRAINLAB_DATA``, else
``~/.cache/trainlab/data`` (see :func:`resolve_data_dir`).
"""
from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from trainlab.data import cifar, idx
from trainlab.data.base import Dataset, Split, TrainSource
from trainlab.data.paths import resolve_data_dir
from trainlab.data.shapeset import load_shapeset
from trainlab.data.synthetic import load_blobs, load_spirals
from trainlab.errors import UserError, choose

__all__ = ["DATASETS", "FILE_SOURCES", "Dataset", "FileSource", "Split", "TrainSource",
           "list_datasets", "load", "resolve_data_dir", "verify"]

Loader = Callable[..., Dataset]

# name -> loader(data_dir: Path, seed: int, **options)
DATASETS: dict[str, Loader] = {
    "shapeset": load_shapeset,
    "mnist": idx.load_mnist,
    "fashion-mnist": idx.load_fashion_mnist,
    "cifar10": cifar.load_cifar10,
    "synthetic-blobs": load_blobs,
    "synthetic-spirals": load_spirals,
}


@dataclass(frozen=True)
class FileSource:
    """How a file-backed dataset is found and checked."""

    folders: Callable[[Path], tuple[Path, ...]]  # where it looks, in order of preference
    verify: Callable[[Path], Path]  # DataError unless usable; returns the folder it reads


def _idx(name: str) -> FileSource:
    return FileSource(lambda root: (idx.folder(idx.SOURCES[name], root),),
                      lambda root: idx.verify(idx.SOURCES[name], root))


# The datasets read from files; the others are generated and need nothing on disk.
FILE_SOURCES: dict[str, FileSource] = {
    "mnist": _idx("mnist"),
    "fashion-mnist": _idx("fashion-mnist"),
    "cifar10": FileSource(lambda root: tuple(root / layout.folder for layout in cifar.LAYOUTS),
                          cifar.verify),
}


def list_datasets() -> list[str]:
    """The names :func:`load` accepts, sorted."""
    return sorted(DATASETS)


def _check_options(name: str, loader: Loader, options: dict[str, object]) -> None:
    """Reject options the loader does not take, listing the ones it does."""
    parameters = inspect.signature(loader).parameters.values()
    known = [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UserError(f"dataset {name!r} has no option {', '.join(unknown)}; "
                        f"its options are: {', '.join(known) or 'none'}")


def load(name: str, *, data_dir: str | os.PathLike[str] | None = None, seed: int = 0,
         **options: object) -> Dataset:
    """Load dataset ``name``; ``seed`` fixes generated data, ``options`` are per dataset."""
    loader = DATASETS[choose("dataset", name, list_datasets())]
    _check_options(name, loader, options)
    return loader(resolve_data_dir(data_dir), seed, **options)


def verify(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Check a file-backed dataset's files (DataError if unusable) and return their
    folder; ``None`` for generated datasets, which have no files."""
    source = FILE_SOURCES.get(choose("dataset", name, list_datasets()))
    return None if source is None else source.verify(resolve_data_dir(data_dir))

"""Where data files live, and the checks every file-backed loader shares.

The data directory is a setting, never a constant: the ``data_dir`` argument
(``--data-dir`` on the command line), else ``$TRAINLAB_DATA``, else a per-user
cache folder following the XDG base-directory convention.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from trainlab.errors import DataError

ENV_VAR = "TRAINLAB_DATA"


@dataclass(frozen=True)
class DataFile:
    """One official file: its name and, where known, its MD5."""

    name: str
    md5: str | None = None


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``data_dir``, else ``$TRAINLAB_DATA``, else ``$XDG_CACHE_HOME/trainlab/data``
    (``~/.cache/trainlab/data`` when ``XDG_CACHE_HOME`` is unset)."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "trainlab" / "data"


def missing_file_error(path: Path, dataset: str, url: str) -> DataError:
    """The one message for an absent file: what, where, and the three ways to fix it."""
    return DataError(
        f"{dataset}: file {path.name} not found in {path.parent}; get it from {url} "
        f"(run `trainlab data download {dataset}`), or point --data-dir / ${ENV_VAR} "
        f"at the folder that holds {path.parent.name}/"
    )


def require_file(path: Path, dataset: str, url: str) -> Path:
    """``path`` if it is a file, else the missing-file :class:`DataError` (or one saying what is there instead)."""
    if path.is_file():
        return path
    if path.exists():
        raise DataError(f"{dataset}: {path} is {'a folder' if path.is_dir() else 'not a regular file'}, "
                        f"not the data file {path.name}; remove it and put the file there "
                        f"(`trainlab data download {dataset}`)")
    raise missing_file_error(path, dataset, url)


def unreadable_file_error(path: Path, dataset: str, exc: OSError) -> DataError:
    """The one message for a data file that exists but cannot be read (permissions, I/O errors)."""
    return DataError(f"{dataset}: cannot read {path} ({exc.strerror or exc}); check its permissions "
                     f"(e.g. chmod a+r {path}) or copy the file again")


def md5sum(path: Path, dataset: str = "data") -> str:
    """MD5 of ``path``, computed once per (path, size, mtime) in this process."""
    stat = path.stat()
    try:
        return _md5_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise unreadable_file_error(path, dataset, exc) from None


@lru_cache(maxsize=64)
def _md5_of(path: str, size: int, mtime_ns: int) -> str:
    # size and mtime_ns are only cache keys: a rewritten file is hashed again.
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_md5(path: Path, expected: str, dataset: str) -> Path:
    """``path`` if its MD5 is ``expected``, else a :class:`DataError` naming the file."""
    actual = md5sum(path, dataset)
    if actual != expected:
        raise DataError(
            f"{dataset}: {path} has MD5 {actual}, expected the official {expected}; "
            f"the file is corrupt or incomplete: delete it and run `trainlab data download {dataset}`"
        )
    return path

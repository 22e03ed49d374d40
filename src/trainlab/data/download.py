"""Fetch the official dataset files: ``trainlab data download NAME``.

Every file is written to a temporary name in its final folder and renamed into
place (``os.replace``, atomic on one file system) only after its MD5 matched,
so an interrupted or corrupt download never leaves a plausible-looking file.
``base_url`` replaces the official host, for mirrors and for tests.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from functools import partial
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from trainlab.data import DATASETS, cifar, idx
from trainlab.data.paths import md5sum, resolve_data_dir
from trainlab.errors import DataError, choose

CIFAR_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR_ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"  # published on the CIFAR page
TIMEOUT_S = 60
BLOCK = 1 << 20
SCHEMES = ("http", "https", "ftp", "file")


def _save(stream: BinaryIO, target: Path, md5: str | None, what: str, dataset: str) -> Path:
    """Copy ``stream`` to ``target`` through a temporary file, checking ``md5`` first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(handle, "wb") as out:
            for block in iter(lambda: stream.read(BLOCK), b""):
                digest.update(block)
                out.write(block)
        if md5 is not None and digest.hexdigest() != md5:
            raise DataError(f"{dataset}: {what} has MD5 {digest.hexdigest()}, expected {md5}; "
                            "the download is corrupt or the mirror serves another file: try "
                            "again, or pass another --base-url")
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def _fetch(url: str, target: Path, md5: str | None, dataset: str) -> Path:
    """Download ``url`` to ``target`` atomically, verified against ``md5``."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return _save(response, target, md5, url, dataset)
    except urllib.error.URLError as exc:
        if isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"
        else:
            reason = str(exc.reason)
        raise DataError(f"{dataset}: cannot download {url} ({reason}); check the network, "
                        f"pass --base-url for a mirror, or copy the files into {target.parent}"
                        ) from exc
    except OSError as exc:
        raise DataError(f"{dataset}: downloading {url} to {target} failed ({exc})") from exc
    except ValueError as exc:  # http.client.InvalidURL and urllib's "unknown url type"
        raise DataError(f"{dataset}: {url} is not a URL that can be fetched ({exc}); "
                        f"pass --base-url https://HOST/PATH/") from None


def check_base_url(base_url: str) -> str:
    """``base_url`` if it is an absolute http(s), ftp or file URL; refused before any request is made."""
    fix = "give a mirror's address such as https://HOST/PATH/ or file:///FOLDER/"
    if any(c.isspace() or not c.isprintable() for c in base_url):
        raise DataError(f"--base-url {base_url!r} contains spaces or control characters; {fix}")
    try:
        parts = urllib.parse.urlsplit(base_url)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise DataError(f"--base-url {base_url!r} is not a valid URL ({exc}); {fix}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise DataError(f"--base-url {base_url!r} is not a URL (it needs one of "
                        f"{', '.join(s + '://' for s in SCHEMES)}); {fix}")
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise DataError(f"--base-url {base_url!r} has no host name; {fix}")
    if parts.scheme.lower() == "file" and not parts.path:
        raise DataError(f"--base-url {base_url!r} has no folder; {fix}")
    return base_url


def _join(base_url: str, name: str) -> str:
    return base_url.rstrip("/") + "/" + name


def _download_idx(name: str, data_dir: Path, base_url: str | None) -> list[Path]:
    """The four IDX files; ones already present with the right MD5 are kept."""
    source = idx.SOURCES[name]
    folder = idx.folder(source, data_dir)
    saved = []
    for file in source.files:
        target = folder / file.name
        if not (target.is_file() and md5sum(target) == file.md5):
            _fetch(_join(base_url or source.url, file.name), target, file.md5, name)
        saved.append(target)
    return saved


def _extract_batches(archive: Path, data_dir: Path) -> list[Path]:
    """Extract the regular files of ``cifar-10-batches-bin/`` and nothing else.

    A member with an absolute path or ``..`` makes the whole archive suspect, so
    it is refused outright; links, devices and folders are skipped.
    """
    saved = []
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                path = PurePosixPath(member.name)
                if path.is_absolute() or ".." in path.parts:
                    raise DataError(f"cifar10: {archive} holds the unsafe path {member.name!r}; "
                                    "refusing to extract it, delete the archive")
                if not member.isfile() or path.parts[:-1] != (cifar.FULL.folder,):
                    continue
                stream = tar.extractfile(member)
                if stream is not None:
                    target = data_dir / cifar.FULL.folder / path.name
                    saved.append(_save(stream, target, None, member.name, "cifar10"))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"cifar10: cannot read {archive} ({exc}); delete it and download again"
                        ) from exc
    if not saved:
        raise DataError(f"cifar10: {archive} holds no {cifar.FULL.folder}/ files; "
                        "it is not the CIFAR-10 binary archive")
    return saved


def _download_cifar(data_dir: Path, base_url: str | None) -> list[Path]:
    """The official binary tarball, extracted to ``cifar-10-batches-bin/``, then deleted."""
    url = _join(base_url, CIFAR_ARCHIVE) if base_url else cifar.URL
    archive = _fetch(url, data_dir / CIFAR_ARCHIVE, CIFAR_ARCHIVE_MD5, "cifar10")
    try:
        return _extract_batches(archive, data_dir)
    finally:
        archive.unlink()


# name -> fetch(data_dir, base_url); the datasets missing here are generated.
DOWNLOADS: dict[str, Callable[[Path, str | None], list[Path]]] = {
    "mnist": partial(_download_idx, "mnist"),
    "fashion-mnist": partial(_download_idx, "fashion-mnist"),
    "cifar10": _download_cifar,
}


def download(name: str, data_dir: str | os.PathLike[str] | None = None, *,
             base_url: str | None = None) -> list[Path]:
    """Fetch dataset ``name`` into the data directory and return the files written
    or found; a generated dataset needs nothing and returns ``[]``."""
    fetch = DOWNLOADS.get(choose("dataset", name, sorted(DATASETS)))
    if base_url is not None:
        check_base_url(base_url)
    return [] if fetch is None else fetch(resolve_data_dir(data_dir), base_url)

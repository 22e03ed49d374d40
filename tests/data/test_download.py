"""Downloads from a local HTTP server: success, checksum failure, unsafe archives."""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trainlab.data import cifar, download as dl, idx, load
from trainlab.data.paths import DataFile
from trainlab.errors import DataError


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def fake_mnist(served: Path, monkeypatch: pytest.MonkeyPatch, *, wrong: str = "") -> dict:
    """Serve four small files and make them the official MNIST files (MD5s patched);
    the file named ``wrong`` is served with different bytes than its MD5 says."""
    contents = {f.name: gzip.compress(f.name.encode() * 50) for f in idx.MNIST.files}
    for name, data in contents.items():
        (served / name).write_bytes(data + b"tampered" if name == wrong else data)
    files = [DataFile(f.name, md5(contents[f.name])) for f in idx.MNIST.files]
    monkeypatch.setitem(idx.SOURCES, "mnist", replace(
        idx.MNIST, train_images=files[0], train_labels=files[1],
        test_images=files[2], test_labels=files[3]))
    return contents


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.part"))


def test_download_writes_verified_files(tmp_path: Path, http_folder, monkeypatch) -> None:
    served, url = http_folder
    contents = fake_mnist(served, monkeypatch)
    files = dl.download("mnist", tmp_path / "data", base_url=url)
    assert [f.name for f in files] == list(contents)
    for path in files:
        assert path.read_bytes() == contents[path.name]
    assert leftovers(tmp_path / "data") == []
    # Present and verified: nothing is fetched again, even with the server gone.
    assert dl.download("mnist", tmp_path / "data", base_url="http://127.0.0.1:9/") == files


def test_checksum_failure_leaves_no_file(tmp_path: Path, http_folder, monkeypatch) -> None:
    served, url = http_folder
    fake_mnist(served, monkeypatch, wrong="t10k-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz has MD5 .*expected"):
        dl.download("mnist", tmp_path, base_url=url)
    assert not (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    assert (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").exists()
    assert leftovers(tmp_path) == []


def test_http_error_is_a_data_error(tmp_path: Path, http_folder) -> None:
    _, url = http_folder
    with pytest.raises(DataError, match="cannot download .*train-images-idx3-ubyte.gz.*HTTP 404"):
        dl.download("fashion-mnist", tmp_path, base_url=url)


def test_real_mnist_round_trip(tmp_path: Path, http_folder, mnist_root: Path) -> None:
    served, url = http_folder
    for file in idx.MNIST.files:
        (served / file.name).write_bytes((mnist_root / "mnist" / file.name).read_bytes())
    dl.download("mnist", tmp_path, base_url=url)
    assert load("mnist", data_dir=tmp_path).test.y[:4].tolist() == [7, 2, 1, 0]


def tarball(members: dict[str, bytes], symlink: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buffer.getvalue()


def serve_cifar(served: Path, members: dict[str, bytes], monkeypatch, symlink: str = "") -> None:
    archive = tarball(members, symlink)
    (served / dl.CIFAR_ARCHIVE).write_bytes(archive)
    monkeypatch.setattr(dl, "CIFAR_ARCHIVE_MD5", md5(archive))


def records(labels: list[int]) -> bytes:
    data = np.zeros((len(labels), cifar.RECORD_BYTES), dtype=np.uint8)
    data[:, 0] = labels
    return data.tobytes()


def test_cifar_archive_is_extracted_and_removed(tmp_path: Path, http_folder, monkeypatch) -> None:
    served, url = http_folder
    serve_cifar(served, {
        "cifar-10-batches-bin/data_batch_1.bin": records([1, 2, 3, 4, 5]),
        "cifar-10-batches-bin/test_batch.bin": records([6, 7]),
        "cifar-10-batches-bin/readme.html": b"<html></html>",
        "elsewhere/ignored.bin": b"x",
    }, monkeypatch, symlink="cifar-10-batches-bin/link.bin")
    files = dl.download("cifar10", tmp_path, base_url=url)
    assert sorted(f.name for f in files) == ["data_batch_1.bin", "readme.html", "test_batch.bin"]
    assert not (tmp_path / dl.CIFAR_ARCHIVE).exists()
    assert not (tmp_path / "elsewhere").exists()
    assert not (tmp_path / "cifar-10-batches-bin" / "link.bin").exists()
    monkeypatch.setattr(cifar, "LAYOUTS", (replace(cifar.FULL, records_per_file=None),))
    assert load("cifar10", data_dir=tmp_path).test.y.tolist() == [6, 7]


@pytest.mark.parametrize("name", ["../evil.bin", "/tmp/evil.bin",
                                  "cifar-10-batches-bin/../../evil.bin"])
def test_unsafe_archive_paths_are_refused(tmp_path: Path, http_folder, monkeypatch,
                                          name: str) -> None:
    served, url = http_folder
    serve_cifar(served, {"cifar-10-batches-bin/test_batch.bin": records([1]), name: b"x"},
                monkeypatch)
    with pytest.raises(DataError, match="unsafe path"):
        dl.download("cifar10", tmp_path / "data", base_url=url)
    assert not (tmp_path / "evil.bin").exists() and not Path("/tmp/evil.bin").exists()
    assert not (tmp_path / "data" / dl.CIFAR_ARCHIVE).exists()


def test_cifar_archive_checksum_failure(tmp_path: Path, http_folder, monkeypatch) -> None:
    served, url = http_folder
    (served / dl.CIFAR_ARCHIVE).write_bytes(b"not a tarball")
    with pytest.raises(DataError, match="cifar-10-binary.tar.gz has MD5 .*expected c32a1d4a"):
        dl.download("cifar10", tmp_path / "data", base_url=url)
    assert list((tmp_path / "data").iterdir()) == []


def test_generated_datasets_need_no_download(tmp_path: Path) -> None:
    assert dl.download("shapeset", tmp_path) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("base_url, match", [
    ("banana", "is not a URL"),
    ("javascript:alert(1)", "is not a URL"),
    ("http://", "no host name"),
    ("https://host:99999/", "not a valid URL"),
    ("https://host/a b/", "spaces or control characters"),
    ("file://", "no folder"),
])
def test_malformed_base_url_is_refused_before_any_request(tmp_path: Path, monkeypatch, base_url: str,
                                                          match: str) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("a request was made for a malformed --base-url")

    monkeypatch.setattr(dl.urllib.request, "urlopen", no_network)
    for name in ("mnist", "cifar10"):
        with pytest.raises(DataError, match=match):
            dl.download(name, tmp_path, base_url=base_url)
    assert list(tmp_path.iterdir()) == []


def test_file_base_url_is_a_mirror(tmp_path: Path, monkeypatch) -> None:
    served = tmp_path / "mirror"
    served.mkdir()
    contents = fake_mnist(served, monkeypatch)
    files = dl.download("mnist", tmp_path / "data", base_url=served.as_uri())
    assert {f.name: f.read_bytes() for f in files} == contents

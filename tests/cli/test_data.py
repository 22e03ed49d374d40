"""``trainlab data list | verify | download``: exit codes and one-line errors."""
from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from trainlab.cli import data as cli_data
from trainlab.data import idx
from trainlab.data.paths import DataFile
from trainlab.errors import UserError


def run(argv: list[str]) -> int:
    """Parse and dispatch exactly as ``trainlab.cli.main`` does, with only ``data``."""
    parser = argparse.ArgumentParser(prog="trainlab")
    cli_data.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"trainlab {args.command}: error: {exc}", file=sys.stderr)
        return 2


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_list_shows_every_dataset_and_its_status(tmp_path: Path, capsys) -> None:
    (tmp_path / "mnist").mkdir()
    assert run(["data", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1] for line in out[2:] if line and line[0] != " "
            and len(line.split()) > 2}
    assert rows["shapeset"] == "generated" and rows["cifar10"] == "missing"
    assert rows["mnist"] == "invalid"  # folder present, files absent
    assert any("train-images-idx3-ubyte.gz not found" in line for line in out)
    header = out[1]
    assert header.index("STATUS") == out[2].index(out[2].split()[1])  # aligned columns


def test_list_real_data_is_verified(real_data_dir: Path, capsys) -> None:
    assert run(["data", "list", "--data-dir", str(real_data_dir)]) == 0
    out = capsys.readouterr().out
    for name in ("mnist", "fashion-mnist", "cifar10"):
        if (real_data_dir / ("cifar-10-subset" if name == "cifar10" else name)).is_dir():
            assert any(line.split()[:2] == [name, "verified"] for line in out.splitlines())


def test_verify_ok_and_failures(tmp_path: Path, cifar_subset_root: Path, capsys) -> None:
    assert run(["data", "verify", "cifar10", "--data-dir", str(cifar_subset_root)]) == 0
    assert "cifar10: verified" in capsys.readouterr().out
    assert run(["data", "verify", "mnist", "--data-dir", str(tmp_path)]) == 2
    assert "train-images-idx3-ubyte.gz not found" in one_line_error(capsys)
    assert run(["data", "verify", "imagenet"]) == 2
    assert "unknown dataset 'imagenet'" in one_line_error(capsys)
    assert run(["data", "verify", "shapeset"]) == 0


def test_verify_reads_trainlab_data(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TRAINLAB_DATA", str(tmp_path / "from-env"))
    assert run(["data", "verify", "cifar10"]) == 2
    assert str(tmp_path / "from-env") in one_line_error(capsys)


def test_download_success_and_checksum_failure(tmp_path: Path, http_folder, monkeypatch,
                                               capsys) -> None:
    served, url = http_folder
    files = []
    for file in idx.MNIST.files:
        data = gzip.compress(file.name.encode())
        (served / file.name).write_bytes(data)
        files.append(DataFile(file.name, hashlib.md5(data).hexdigest()))
    fake = replace(idx.MNIST, train_images=files[0], train_labels=files[1],
                   test_images=files[2], test_labels=files[3])
    monkeypatch.setitem(idx.SOURCES, "mnist", fake)
    argv = ["data", "download", "mnist", "--data-dir", str(tmp_path / "data"), "--base-url", url]
    assert run(argv) == 0
    assert "4 files ready and verified" in capsys.readouterr().out

    (served / files[1].name).write_bytes(b"corrupt")
    (tmp_path / "data" / "mnist" / files[1].name).unlink()
    assert run(argv) == 2
    assert "train-labels-idx1-ubyte.gz has MD5" in one_line_error(capsys)


def test_through_the_real_entry_point(tmp_path: Path, capsys) -> None:
    pytest.importorskip("trainlab.cli.train", reason="trainlab.cli.train not written yet")
    pytest.importorskip("trainlab.cli.resume", reason="trainlab.cli.resume not written yet")
    from trainlab.cli import main

    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    assert main(["data", "verify", "fashion-mnist", "--data-dir", str(tmp_path)]) == 2
    assert one_line_error(capsys).startswith("trainlab data: error: fashion-mnist: file ")


@pytest.mark.parametrize("base_url", ["banana", "http://", "ftp:/nowhere", "https://host:port/"])
def test_download_with_a_malformed_base_url_is_one_line(tmp_path: Path, capsys, monkeypatch,
                                                        base_url: str) -> None:
    from trainlab.cli import main
    from trainlab.data import download as dl

    monkeypatch.setattr(dl.urllib.request, "urlopen", lambda *a, **k: pytest.fail("no request may be made"))
    assert main(["data", "download", "mnist", "--data-dir", str(tmp_path), "--base-url", base_url]) == 2
    assert "--base-url" in one_line_error(capsys)


def _subset_copy(real_data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "cifar-10-subset"
    folder.mkdir()
    for name in ("data_batch_1.bin", "test_batch.bin"):
        (folder / name).write_bytes((real_data_dir / "cifar-10-subset" / name).read_bytes())
    return folder


@pytest.mark.parametrize("damage, match", [
    (lambda raw: raw[:-3073], "expected 12292000 (4000 records)"),
    (lambda raw: raw + raw[:3073 * 2], "expected 12292000 (4000 records)"),
    (lambda raw: b"", "is empty (0 bytes)"),
])
def test_damaged_cifar_subset_is_one_line(real_data_dir: Path, tmp_path: Path, capsys, damage, match) -> None:
    from trainlab.cli import main

    if not (real_data_dir / "cifar-10-subset").is_dir():
        pytest.skip("the CIFAR-10 subset is not in the shared data")
    batch = _subset_copy(real_data_dir, tmp_path) / "data_batch_1.bin"
    batch.write_bytes(damage(batch.read_bytes()))
    assert main(["data", "verify", "cifar10", "--data-dir", str(tmp_path)]) == 2
    assert match in one_line_error(capsys)
    assert main(["train", "--dataset", "cifar10", "--data-dir", str(tmp_path), "--batch-size", "full",
                 "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    assert match in one_line_error(capsys)


def test_a_folder_in_place_of_a_data_file_is_one_line(tmp_path: Path, capsys) -> None:
    from trainlab.cli import main

    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").mkdir(parents=True)
    assert main(["data", "verify", "mnist", "--data-dir", str(tmp_path)]) == 2
    assert "is a folder" in one_line_error(capsys)

"""Every subcommand against bad input: one line on stderr naming the problem, exit status 2, no traceback.

``CASES`` is the table: an argument list (``{tmp}`` stands for a folder holding ``FILES``)
and a piece of the expected message. Every row is refused from the input alone, so each
must return within a second and before any dataset is loaded (the loader is replaced by
one that fails the test). Add rows here; files a row needs go into ``FILES``.
"""
from __future__ import annotations

import os
import time

import pytest

from trainlab.cli import main

SPACE = b'[fixed]\ndataset = "synthetic-blobs"\nsteps = 5\n\n[params.lr]\ntype = "log-uniform"\nlow = 1e-3\nhigh = 1\n'

FILES: dict[str, bytes] = {
    "file": b"a file, not a folder\n",
    "space.toml": SPACE,
    "preprocess.toml": b"preprocess = 5\n",
    "preprocess-list.toml": b"preprocess = [1, 2]\n",
    "extra.toml": b"extra = 5\n",
    "extra-list.toml": b"[extra]\nnotes = [1, 2]\n",
    "latin1.toml": "lr = 0.1  # caf\u00e9\n".encode("latin-1"),
    "binary.toml": bytes(range(256)) * 4,
    "folder.toml/": b"",  # a folder
    "fixed-3.toml": b"fixed = 3\n[params.lr]\ntype = 'log-uniform'\nlow = 1e-3\nhigh = 1\n",
    "params-3.toml": b"params = 3\n",
    "points-x.toml": SPACE + b"points = 'x'\n",
    "points-neg.toml": SPACE + b"points = -3\n",
    "low-a.toml": SPACE.replace(b"low = 1e-3", b"low = 'a'"),
    "high-inf.toml": SPACE.replace(b"high = 1", b"high = inf"),
    "space-latin1.toml": SPACE + "# caf\u00e9\n".encode("latin-1"),
    "notes.txt": b"not a database\n",
    "db-folder/": b"",
    "mnist/": b"",
    "mnist/train-images-idx3-ubyte.gz/": b"",  # a folder where a data file should be
}

BLOBS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "5", "--quiet"]
GRADCHECK = ["gradcheck", "--dataset", "synthetic-blobs", "--depth", "1", "--width", "4"]
SEARCH = ["search", "{tmp}/space.toml", "--out", "{tmp}/study", "--quiet"]
MANY_SEEDS = ",".join(str(i) for i in range(5_001))

CASES: list[tuple[list[str], str]] = [
    # impossible values and counts
    (["train", *BLOBS, "--epochs", "inf"], "epochs must be at most"),
    (["train", *BLOBS, "--epochs", "nan"], "epochs must be > 0"),
    (["train", *BLOBS, "--steps", "1000000000000"], "steps must be at most"),
    (["train", *BLOBS, "--seed", "100000000000000000000"], "seed must be a whole number in [0, 2**63)"),
    (["train", *BLOBS, "--seed", "-1"], "seed must be"),
    (["train", *BLOBS, "--schedule", "step", "--lr-step-every", "2", "--lr-gamma", "-2"], "lr-gamma must be positive"),
    (["train", *BLOBS, "--lr-gamma", "nan"], "lr-gamma must be positive"),
    (["train", *BLOBS, "--lr-gamma", "inf"], "lr-gamma must be positive"),
    (["train", *BLOBS, "--depth", "100000"], "depth must be at most"),
    (["train", *BLOBS, "--batch-size", "1000000000"], "batch-size must be at most"),
    (["train", *BLOBS, "--log-every", "10000000000"], "log-every must be at most"),
    (["train", *BLOBS, "--eval-every", "10000000000"], "eval-every must be at most"),
    (["train", *BLOBS, "--probe", "every=10000000000"], "--probe every="),
    (["train", *BLOBS, "--probe", "every=5,batch=100000000"], "--probe batch="),
    (["train", *BLOBS, "--lr", "0.1,0.2", "--seed", MANY_SEEDS], "in one population"),
    (["reproduce", "he2015", "--seed", "100000000000000000000"], "--seed must be in [0, 2**63)"),
    (["reproduce", "he2015", "--seed", "-3"], "--seed must be in [0, 2**63)"),
    (["reproduce", "he2015", "--profile", "standard"], "he2015 has no profile 'standard'; choose one of: smoke"),
    ([*GRADCHECK, "--h", "inf"], "finite-difference step h"),
    ([*GRADCHECK, "--h", "nan"], "finite-difference step h"),
    ([*GRADCHECK, "--h", "10"], "finite-difference step h"),
    ([*GRADCHECK, "--batch", "1000000000"], "--batch must be between"),
    ([*GRADCHECK, "--max-coords", "1000000000"], "--max-coords must be between"),
    ([*GRADCHECK, "--weight-decay", "nan"], "--weight-decay must be"),
    ([*GRADCHECK, "--seed", "1000000000000000"], "gradient check's seed"),
    ([*SEARCH, "--heartbeat", "nan"], "--heartbeat must be"),
    ([*SEARCH, "--heartbeat", "inf"], "--heartbeat must be"),
    ([*SEARCH, "--heartbeat", "0"], "--heartbeat must be"),
    ([*SEARCH, "--trials", "1000000000000"], "--trials must be between"),
    ([*SEARCH, "--population", "1000000"], "--population must be between"),
    ([*SEARCH, "--stages", "100000"], "--stages must be between"),
    ([*SEARCH, "--folds", "0"], "--folds must be between"),
    ([*SEARCH, "--seed", "10000000000"], "--seed must be in [0, 2**32)"),
    (["landscape", "{tmp}/no-run", "--points", "1000000000", "--dims", "2"], "--points must be between 3 and"),
    (["landscape", "{tmp}/no-run", "--points", "2000", "--dims", "2"], "evaluations, more than"),
    (["landscape", "{tmp}/no-run", "--span", "inf"], "--span must be a finite number"),
    (["landscape", "{tmp}/no-run", "--span", "nan"], "--span must be a finite number"),
    (["landscape", "{tmp}/no-run", "--batch", "0"], "--batch must be between"),
    (["landscape", "{tmp}/no-run", "--seed", "-1"], "--seed must be in [0, 2**63)"),
    # sizes no machine can hold or finish
    (["train", *BLOBS, "--width", "1000000000"], "width must be at most"),
    (["doctor", "--width", "100000000000"], "width must be at most"),
    (["train", "--dataset", "mnist", "--depth", "3", "--width", "3000000", "--quiet"], "of memory, more than"),
    (["doctor", "--dataset", "cifar10", "--depth", "2", "--width", "5000000"], "of memory, more than"),
    (["train", "--dataset", "mnist", "--lr", "0.1,0.2,0.3", "--depth", "1", "--width", "9000000"], "3 models of"),
    (["train", "--dataset", "mnist", "--epochs", "100000", "--batch-size", "1"], "steps, more than"),
    (["train", "--dataset", "synthetic-blobs", "--depth", "10", "--width", "3000", "--batch-size", "2000",
      "--steps", "1000000000"], "over a year"),
    # configuration files
    (["train", *BLOBS, "--config", "{tmp}/preprocess.toml"], "preprocess must be a string"),
    (["train", *BLOBS, "--config", "{tmp}/preprocess-list.toml"], "preprocess must be a string"),
    (["train", *BLOBS, "--config", "{tmp}/extra.toml"], "extra must be a table"),
    (["train", *BLOBS, "--config", "{tmp}/extra-list.toml"], "extra.notes must be"),
    (["train", *BLOBS, "--config", "{tmp}/latin1.toml"], "is not UTF-8 text"),
    (["train", *BLOBS, "--config", "{tmp}/binary.toml"], "is not UTF-8 text"),
    (["train", *BLOBS, "--config", "{tmp}/folder.toml"], "is a folder"),
    (["doctor", *BLOBS, "--config", "{tmp}/extra.toml"], "extra must be a table"),
    # --out that cannot be a folder
    (["train", *BLOBS, "--out", "{tmp}/file"], "is an existing file"),
    (["train", *BLOBS, "--out", "{tmp}/file/run"], "which is a file"),
    (["train", *BLOBS, "--lr", "0.1,0.2", "--out", "{tmp}/file"], "is an existing file"),
    (["doctor", *BLOBS, "--out", "{tmp}/file"], "is an existing file"),
    (["doctor", *BLOBS, "--out", "{tmp}/file/a/b"], "which is a file"),
    ([*SEARCH, "--out", "{tmp}/file"], "is an existing file"),
    ([*SEARCH, "--out", "{tmp}/file/study"], "which is a file"),
    (["reproduce", "he2015", "--out", "{tmp}/file"], "is an existing file"),
    # search spaces and study storage
    (["search", "{tmp}/fixed-3.toml", "--out", "{tmp}/study", "--quiet"], "fixed"),
    (["search", "{tmp}/params-3.toml", "--out", "{tmp}/study", "--quiet"], "params"),
    (["search", "{tmp}/points-x.toml", "--out", "{tmp}/study", "--quiet"], "points"),
    (["search", "{tmp}/points-neg.toml", "--sampler", "grid", "--out", "{tmp}/study", "--quiet"], "points"),
    (["search", "{tmp}/low-a.toml", "--out", "{tmp}/study", "--quiet"], "low"),
    (["search", "{tmp}/high-inf.toml", "--out", "{tmp}/study", "--quiet"], "high"),
    (["search", "{tmp}/space-latin1.toml", "--out", "{tmp}/study", "--quiet"], "UTF-8"),
    ([*SEARCH, "--storage", "sqlite:///{tmp}/missing/study.db"], "missing"),
    ([*SEARCH, "--storage", "sqlite:///{tmp}/notes.txt"], "not"),
    ([*SEARCH, "--storage", "sqlite:///{tmp}/db-folder"], "folder"),
    ([*SEARCH, "--storage", "mysql://u@127.0.0.1:1/db"], "not supported"),
    ([*SEARCH, "--storage", "banana"], "not a database URL"),
    # downloads and data files
    (["data", "download", "mnist", "--data-dir", "{tmp}", "--base-url", "banana"], "base-url"),
    (["data", "download", "mnist", "--data-dir", "{tmp}", "--base-url", "https://host:99999/"], "base-url"),
    (["data", "verify", "mnist", "--data-dir", "{tmp}"], "folder"),
]


@pytest.fixture
def tmp(tmp_path):
    """A folder holding ``FILES``."""
    for name, content in FILES.items():
        if name.endswith("/"):
            (tmp_path / name).mkdir()
        else:
            (tmp_path / name).write_bytes(content)
    return tmp_path


@pytest.fixture(scope="module")
def warm():
    """Import what the commands import lazily, so the one-second bound times the refusal, not imports."""
    import trainlab.budget  # noqa: F401
    import trainlab.landscape  # noqa: F401
    import trainlab.loop  # noqa: F401
    import trainlab.search  # noqa: F401
    from trainlab.cli import build_parser
    from trainlab.experiments import load_all

    build_parser()
    load_all()


@pytest.fixture
def no_data(monkeypatch):
    """Loading any dataset fails the test: these refusals must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset was loaded before the bad input was refused")

    monkeypatch.setattr("trainlab.data.load", refuse)


def one_line_refusal(argv: list[str], tmp, capsys) -> tuple[str, float]:
    """Run ``argv`` and return its stderr and seconds, asserting exit 2, one line, no traceback."""
    argv = [arg.replace("{tmp}", str(tmp)) for arg in argv]
    start = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err, seconds


@pytest.mark.parametrize("argv, expected", CASES, ids=[" ".join(a)[:80] for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_before_any_work(argv, expected, tmp, warm, no_data, capsys):
    err, seconds = one_line_refusal(argv, tmp, capsys)
    assert expected in err
    assert seconds < 1.0, f"took {seconds:.2f} s to refuse"


def test_memory_refusal_names_the_estimate_the_limit_and_the_override(tmp, warm, no_data, monkeypatch, capsys):
    monkeypatch.setenv("TRAINLAB_MEMORY_LIMIT", "1G")
    err, _ = one_line_refusal(["train", "--dataset", "mnist", "--depth", "1", "--width", "200000"], tmp, capsys)
    assert "159,000,010 parameters" in err
    assert "1.0 GB available" in err and "TRAINLAB_MEMORY_LIMIT" in err and "--width" in err


def test_a_bad_memory_limit_is_refused(tmp, warm, no_data, monkeypatch, capsys):
    monkeypatch.setenv("TRAINLAB_MEMORY_LIMIT", "lots")
    err, _ = one_line_refusal(["train", *BLOBS], tmp, capsys)
    assert "TRAINLAB_MEMORY_LIMIT must be a size" in err


@pytest.mark.parametrize("command", [["train", *BLOBS], ["doctor", *BLOBS], SEARCH,
                                     ["reproduce", "he2015", "--profile", "smoke"]])
def test_read_only_out_is_refused(command, tmp, warm, no_data, monkeypatch, capsys):
    """A folder the user cannot write into. Root may write anywhere, so the permission answer is
    simulated: ``os.access`` says no for the read-only folder."""
    read_only = tmp / "read-only"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr("trainlab.cli.common.os.access",
                        lambda path, mode: False if str(path) == str(read_only) else real_access(path, mode))
    argv = [a for a in command if a not in ("--out", "{tmp}/study")] + ["--out", str(read_only / "run")]
    err, _ = one_line_refusal(argv, tmp, capsys)
    assert "read-only" in err and str(read_only) in err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_really_read_only_out_is_refused(tmp, warm, no_data, capsys):
    read_only = tmp / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        err, _ = one_line_refusal(["train", *BLOBS, "--out", str(read_only)], tmp, capsys)
    finally:
        read_only.chmod(0o755)
    assert "read-only" in err

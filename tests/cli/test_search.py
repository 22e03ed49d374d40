"""`trainlab search` on the default SQLite storage: one JSON object, a report, one-line errors."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main

SPACE = """
[fixed]
dataset = "synthetic-blobs"
depth = 1
width = 8
steps = 12
batch-size = 32
log-every = 4

[params.lr]
type = "log-uniform"
low = 0.01
high = 0.5

[params.activation]
type = "categorical"
choices = ["tanh", "relu"]
"""


def test_search_cli_end_to_end(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    out = tmp_path / "study"
    assert main(["search", str(space), "--trials", "4", "--population", "4", "--sampler", "quasi-random",
                 "--out", str(out), "--json", "--quiet"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert len(record["trials"]) == 4 and record["storage"].startswith("sqlite:///")
    assert (out / "study.db").is_file() and (out / "report.html").is_file()
    assert record["best"]["value"] == max(t["value"] for t in record["trials"] if t["value"] is not None)
    # trials with different activations cannot share a population: they train as separate groups
    assert {t["params"]["activation"] for t in record["trials"]} <= {"tanh", "relu"}


def test_search_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["search", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[params.lr]\ntype = 'log-uniform'\nlow = 0\nhigh = 1\n")
    assert main(["search", str(bad), "--out", str(tmp_path / "s")]) == 2
    assert "low > 0" in capsys.readouterr().err
    assert main(["search", str(bad), "--storage", "redis://x"]) == 2


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


RANGE = '[params.lr]\ntype = "log-uniform"\nlow = 0.01\nhigh = 0.5\n'


@pytest.mark.parametrize("content, match", [
    ("fixed = 3\n" + RANGE, "fixed = 3 must be a table"),
    ("params = 3\n", "params = 3 must be a table"),
    (RANGE + 'points = "x"\n', "points = a whole number"),
    ('[params.lr]\ntype = "uniform"\nlow = "a"\nhigh = 1\n', "low = a finite number"),
    ('[params.lr]\ntype = "uniform"\nlow = 0.1\nhigh = inf\n', "high = a finite number"),
    (b"\xff\xfe\x00\x01 binary \x80\x81", "not UTF-8 text"),
    (b"\x00\x01\x02\x03", "not valid TOML"),
])
def test_search_space_with_wrong_types_is_one_line(tmp_path, capsys, content, match):
    space = tmp_path / "space.toml"
    space.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["search", str(space), "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert match in _one_line(capsys)


def test_grid_with_negative_points_is_refused_not_zero_trials(tmp_path, capsys):
    space = tmp_path / "space.toml"
    space.write_text(SPACE.replace('high = 0.5\n', 'high = 0.5\npoints = -3\n'))
    assert main(["search", str(space), "--sampler", "grid", "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert "points" in _one_line(capsys) and not (tmp_path / "s").exists()


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("storage, match", [
    ("postgresql://user:secret@127.0.0.1:{port}/db", "server is running"),
    ("sqlite:///{tmp}/missing/study.db", "does not exist"),
    ("sqlite:///{tmp}/notes.txt", "not an SQLite database"),
    ("mysql://user@127.0.0.1:{port}/db", "use sqlite:///FILE or postgresql://"),
])
def test_bad_storage_is_one_line(tmp_path, capsys, storage, match):
    if storage.startswith("postgresql"):
        pytest.importorskip("psycopg2")
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    (tmp_path / "notes.txt").write_text("hello\n")
    url = storage.format(port=_closed_port(), tmp=tmp_path)
    assert main(["search", str(space), "--storage", url, "--out", str(tmp_path / "s"), "--quiet"]) == 2
    err = _one_line(capsys)
    assert match in err and "secret" not in err and "trainlab[postgres]" not in err

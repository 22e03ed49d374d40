"""`trainlab search` on the default SQLite storage: one JSON object, a report, one-line errors."""
from __future__ import annotations

import json

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

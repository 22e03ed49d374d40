"""``trainlab doctor``: exit 0 with no failure, 1 with one, 2 on bad input; --json prints one object."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main
from trainlab.doctor import ORDER

BLOBS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "16", "--seed", "0", "--quiet"]


def test_a_healthy_config_exits_0_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "doc"
    code = main(["doctor", *BLOBS, "--lr", "0.05", "--json", "--out", str(out)])
    printed = json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout
    assert code == 0 and printed["ok"] is True
    assert [c["id"] for c in printed["checks"]] == list(ORDER)
    assert json.loads((out / "report.json").read_text())["checks"] == printed["checks"]
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_a_failing_check_exits_1(capsys):
    code = main(["doctor", *BLOBS, "--init", "zeros", "--checks", "data,init-health"])
    assert code == 1
    assert "FAIL    init-health" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--checks", "data,nope"], "unknown doctor check 'nope'"),
    (["--checks", ","], "--checks needs at least one check id"),
    (["--lr", "-1"], "lr must be positive"),
])
def test_bad_input_exits_2_with_one_line(flags, message, capsys):
    assert main(["doctor", *BLOBS, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1

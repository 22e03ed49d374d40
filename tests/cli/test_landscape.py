"""``trainlab landscape`` on real runs: figures and JSON written, --to with --dims 2 refused."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    flags = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "30", "--quiet"]
    assert main(["train", *flags, "--out", str(root / "a")]) == 0
    assert main(["train", *flags, "--seed", "1", "--out", str(root / "b")]) == 0
    return root / "a", root / "b"


def test_cli_writes_figures_and_json(run_dirs, capsys):
    a, b = run_dirs
    assert main(["landscape", str(a), "--dims", "2", "--points", "5", "--batch", "100", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert (a / "landscape-2d.png").stat().st_size > 0 and record["figure"] == "landscape-2d.png"
    assert main(["landscape", str(a), "--points", "7", "--to", str(b)]) == 0
    assert (a / "landscape-1d.png").exists()
    assert json.loads((a / "landscape.json").read_text())["interpolation"] is True
    assert main(["landscape", str(a), "--dims", "2", "--to", str(b)]) == 2


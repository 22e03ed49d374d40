"""``trainlab landscape`` on real runs: figures and JSON written, --to with --dims 2 refused."""
from __future__ import annotations

import json

import pytest
import torch

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



@pytest.mark.parametrize("damage, needle", [
    (lambda s: [s], "holds a list"),
    (lambda s: {"step": 3}, "no model weights"),
    (lambda s: {**s, "model": {"w": torch.zeros(2)}}, "does not fit this run's model"),
    (lambda s: {**s, "model": {k: torch.zeros(1) for k in s["model"]}}, "does not fit this run's model"),
])
def test_a_checkpoint_with_the_wrong_contents_is_one_line_and_exit_2(tmp_path, capsys, damage, needle):
    run = tmp_path / "run"
    assert main(["train", "--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "10",
                 "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    state.pop("sha256")
    torch.save(damage(state), run / "checkpoint.pt")
    assert main(["landscape", str(run), "--points", "3"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = err.splitlines()  # the "evaluating N points" line comes only once the checkpoint has loaded
    assert len(errors) == 1 and str(run / "checkpoint.pt") in errors[0] and needle in errors[0]

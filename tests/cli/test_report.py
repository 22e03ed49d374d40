"""``trainlab report``: a folder that is not a run is a clear error; a population folder shows every member."""
from __future__ import annotations

import json

from trainlab.cli import main

FLAGS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "12", "--log-every", "4",
         "--batch-size", "32", "--quiet", "--json"]


def test_report_cli_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_trainlab_report_on_a_population_folder_shows_every_member(tmp_path, capsys):
    folder = tmp_path / "pop"
    assert main(["train", *FLAGS, "--lr", "0.01,0.1,500", "--eval-every", "4", "--out", str(folder)]) == 0
    statuses = [m["status"] for m in json.loads(capsys.readouterr().out)["members"]]
    assert statuses[:2] == ["completed", "completed"] and statuses[2] == "diverged"
    assert main(["report", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == str(folder / "report.html")
    html = (folder / "report.html").read_text()
    assert all(f"member-{k:03d}" in html for k in range(3)) and "diverged" in html
    assert html.count("data:image/png;base64") == 2  # the curves, and accuracy against the learning rate
    assert "Final validation accuracy against the learning rate" in html


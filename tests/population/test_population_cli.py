"""`trainlab train` with lists trains their product as one population."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main
from trainlab.runs import RunDir

FLAGS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "12", "--log-every", "4",
         "--batch-size", "32", "--quiet", "--json"]


def test_lists_train_the_product_and_single_values_keep_the_single_run_json(tmp_path, capsys):
    assert main(["train", *FLAGS, "--lr", "0.01,0.1", "--seed", "0,1,2", "--out", str(tmp_path / "pop")]) == 0
    record = json.loads(capsys.readouterr().out)
    members = record["members"]
    assert len(members) == 6
    configs = [RunDir(m["run_dir"]).config() for m in members]
    assert sorted((c.lr, c.seed) for c in configs) == sorted((lr, s) for lr in (0.01, 0.1) for s in (0, 1, 2))
    assert main(["train", *FLAGS, "--lr", "0.1", "--seed", "2", "--out", str(tmp_path / "one")]) == 0
    single = json.loads(capsys.readouterr().out)
    assert "members" not in single and set(single) == set(members[0])
    twin = members[[(c.lr, c.seed) for c in configs].index((0.1, 2))]
    assert twin["test_accuracy"] == pytest.approx(single["test_accuracy"], abs=1e-9)
    assert twin["val_loss"] == pytest.approx(single["val_loss"], rel=1e-4)


def test_init_lists_and_bad_lists(tmp_path, capsys):
    assert main(["train", *FLAGS, "--init", "glorot-uniform,he-normal", "--out", str(tmp_path / "i")]) == 0
    members = json.loads(capsys.readouterr().out)["members"]
    assert [RunDir(m["run_dir"]).config().init for m in members] == ["glorot-uniform", "he-normal"]
    assert main(["train", *FLAGS, "--lr", "0.1,fast"]) == 2
    assert "0.1,fast" in capsys.readouterr().err
    assert main(["train", *FLAGS, "--seed", "0,1", "--model", "cnn"]) == 2
    assert "--model mlp" in capsys.readouterr().err


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

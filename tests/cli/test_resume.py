"""``trainlab resume``: a clear error for a folder that is not a run; after kill -9, a run and a population
end with the numbers an uninterrupted one gives."""
from __future__ import annotations

import json

from trainlab.cli import main
from trainlab.runs import POPULATION_CHECKPOINT as CHECKPOINT

KEYS = ("status", "steps", "train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy")


def test_resume_of_a_non_run_directory_is_a_clear_error(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_kill_9_then_resume_ends_with_the_uninterrupted_numbers(tmp_path, capsys, kill_9_after):
    args = ["--dataset", "synthetic-blobs", "--depth", "2", "--width", "32", "--batch-size", "8", "--steps", "2000",
            "--log-every", "10", "--checkpoint-every", "50", "--quiet", "--json"]
    assert main(["train", *args, "--out", str(tmp_path / "full")]) == 0
    full = json.loads(capsys.readouterr().out)
    kill_9_after(["train", *args, "--out", str(tmp_path / "cut")], tmp_path / "cut" / "checkpoint.pt")
    assert not (tmp_path / "cut" / "summary.json").exists(), "run finished before it could be killed"
    assert main(["resume", str(tmp_path / "cut"), "--quiet", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    for key in ("status", "steps", "train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy"):
        assert resumed[key] == full[key], key


def test_kill_9_then_trainlab_resume_ends_with_the_uninterrupted_numbers(tmp_path, capsys, kill_9_after):
    args = ["--dataset", "synthetic-blobs", "--depth", "2", "--width", "32", "--batch-size", "8", "--steps", "3000",
            "--log-every", "10", "--checkpoint-every", "50", "--lr", "0.02,0.05", "--seed", "0,1", "--quiet", "--json"]
    assert main(["train", *args, "--out", str(tmp_path / "full")]) == 0
    full = json.loads(capsys.readouterr().out)["members"]
    kill_9_after(["train", *args, "--out", str(tmp_path / "cut")], tmp_path / "cut" / CHECKPOINT)
    assert not (tmp_path / "cut" / "population.json").exists(), "the population finished before it could be killed"
    assert main(["resume", str(tmp_path / "cut"), "--quiet", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)["members"]
    assert [{k: m[k] for k in KEYS} for m in resumed] == [{k: m[k] for k in KEYS} for m in full]


"""``trainlab train`` / ``resume`` as users run them: JSON out, clear errors, kill -9 then resume."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main

KEYS = {"run_dir", "status", "steps", "epochs", "train_loss", "val_loss", "val_accuracy", "test_loss",
        "test_accuracy", "seconds", "samples_per_second"}
FAST = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "16", "--batch-size", "32", "--quiet"]


def test_train_json_prints_exactly_one_object(tmp_path, capsys):
    assert main(["train", *FAST, "--steps", "40", "--out", str(tmp_path / "run"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == KEYS
    assert out["status"] == "completed" and out["steps"] == 40 and out["run_dir"] == str(tmp_path / "run")


def test_config_file_values_are_overridden_by_flags(tmp_path, capsys):
    (tmp_path / "c.toml").write_text('lr = 0.5\nsteps = 30\nactivation = "relu"\nbatch-size = 16\n')
    assert main(["train", *FAST, "--config", str(tmp_path / "c.toml"), "--lr", "0.02", "--out", str(tmp_path / "r")]) == 0
    saved = json.loads((tmp_path / "r" / "config.json").read_text())["config"]
    assert (saved["lr"], saved["steps"], saved["activation"], saved["batch_size"]) == (0.02, 30, "relu", 32)


@pytest.mark.parametrize("argv, needle", [
    (["--activation", "swish"], "swish"),
    (["--width", "0"], "width must be positive"),
    (["--lr", "-0.1"], "lr must be positive"),
    (["--lr", "0"], "lr must be positive"),
    (["--dataset", "imagenet"], "imagenet"),
    (["--init", "kaiming"], "kaiming"),
    (["--batch-size", "100000"], "larger than"),
    (["--batch-size", "0"], "batch size"),
    (["--config", "/nonexistent.toml"], "does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(argv, needle, tmp_path, capsys):
    code = main(["train", *FAST, "--steps", "5", "--out", str(tmp_path / "r"), *argv]) if "--config" not in argv \
        else main(["train", "--steps", "5", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_data_file_names_file_folder_and_fix(tmp_path, capsys):
    code = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--steps", "5", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and str(tmp_path) in err and "Traceback" not in err


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

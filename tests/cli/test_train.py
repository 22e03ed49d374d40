"""``trainlab train`` as users run it: JSON out, clear errors; lists train their product as one population."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main
from trainlab.runs import RunDir

KEYS = {"run_dir", "status", "steps", "epochs", "train_loss", "val_loss", "val_accuracy", "test_loss",
        "test_accuracy", "seconds", "samples_per_second"}
FAST = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "16", "--batch-size", "32", "--quiet"]
POPULATION = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "12", "--log-every", "4",
              "--batch-size", "32", "--quiet", "--json"]  # lists of values train as one population


def test_train_json_prints_exactly_one_object(tmp_path, capsys):
    assert main(["train", *FAST, "--steps", "40", "--out", str(tmp_path / "run"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == KEYS
    assert out["status"] == "completed" and out["steps"] == 40 and out["run_dir"] == str(tmp_path / "run")


def test_config_file_values_are_overridden_by_flags(tmp_path, capsys):
    (tmp_path / "c.toml").write_text('lr = 0.5\nsteps = 30\nactivation = "relu"\nbatch-size = 16\n')
    assert main(["train", *FAST, "--config", str(tmp_path / "c.toml"), "--lr", "0.02",
                 "--out", str(tmp_path / "r")]) == 0
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
    code = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--steps", "5",
                 "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and str(tmp_path) in err and "Traceback" not in err


def test_lists_train_the_product_and_single_values_keep_the_single_run_json(tmp_path, capsys):
    assert main(["train", *POPULATION, "--lr", "0.01,0.1", "--seed", "0,1,2", "--out", str(tmp_path / "pop")]) == 0
    record = json.loads(capsys.readouterr().out)
    members = record["members"]
    assert len(members) == 6
    configs = [RunDir(m["run_dir"]).config() for m in members]
    assert sorted((c.lr, c.seed) for c in configs) == sorted((lr, s) for lr in (0.01, 0.1) for s in (0, 1, 2))
    assert main(["train", *POPULATION, "--lr", "0.1", "--seed", "2", "--out", str(tmp_path / "one")]) == 0
    single = json.loads(capsys.readouterr().out)
    assert "members" not in single and set(single) == set(members[0])
    twin = members[[(c.lr, c.seed) for c in configs].index((0.1, 2))]
    assert twin["test_accuracy"] == pytest.approx(single["test_accuracy"], abs=1e-9)
    assert twin["val_loss"] == pytest.approx(single["val_loss"], rel=1e-4)


def test_init_lists_and_bad_lists(tmp_path, capsys):
    assert main(["train", *POPULATION, "--init", "glorot-uniform,he-normal", "--out", str(tmp_path / "i")]) == 0
    members = json.loads(capsys.readouterr().out)["members"]
    assert [RunDir(m["run_dir"]).config().init for m in members] == ["glorot-uniform", "he-normal"]
    assert main(["train", *POPULATION, "--lr", "0.1,fast"]) == 2
    assert "0.1,fast" in capsys.readouterr().err
    assert main(["train", *POPULATION, "--seed", "0,1", "--model", "cnn"]) == 2
    assert "--model mlp" in capsys.readouterr().err



def test_a_population_over_a_run_and_a_run_over_a_population_are_refused(tmp_path, capsys):
    assert main(["train", *POPULATION, "--out", str(tmp_path / "run")]) == 0
    assert main(["train", *POPULATION, "--lr", "0.01,0.1", "--out", str(tmp_path / "pop")]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert main(["train", *POPULATION, "--lr", "0.01,0.1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "already holds a single run" in err and "another --out" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == before  # no member-000 inside the run
    assert main(["train", *POPULATION, "--out", str(tmp_path / "pop")]) == 2
    err = capsys.readouterr().err
    assert "already holds a population" in err and "trainlab resume" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pop" / "config.json").exists()
    assert main(["train", *POPULATION, "--lr", "0.01,0.1", "--out", str(tmp_path / "pop")]) == 2
    assert "already holds a population" in capsys.readouterr().err


def test_ctrl_c_while_starting_up_is_one_line_and_exit_130(monkeypatch, capsys):
    import trainlab.cli

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(trainlab.cli, "build_parser", interrupted)  # importing torch is where Ctrl-C lands
    assert main(["train", "--steps", "5"]) == 130
    err = capsys.readouterr().err
    assert err == "trainlab train: interrupted\n"


def test_ctrl_c_while_the_data_loads_is_one_line_and_exit_130(monkeypatch, capsys, tmp_path):
    import trainlab.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainlab.train, "prepare_data", interrupted)
    assert main(["train", *FAST, "--steps", "5", "--out", str(tmp_path / "r")]) == 130
    assert capsys.readouterr().err == "trainlab train: interrupted\n"

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



# -- damaged run folders ---------------------------------------------------------------

import os  # noqa: E402
import signal  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from trainlab.runs import RunDir  # noqa: E402

FLAGS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--batch-size", "32", "--steps", "40",
         "--log-every", "5", "--eval-every", "10", "--checkpoint-every", "10", "--quiet", "--json"]


def one_line_error(err: str, *needles: str) -> str:
    """``err`` is one line holding every needle, without a traceback."""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert all(n in err for n in needles), err
    return err


@pytest.fixture
def finished(tmp_path, capsys):
    """A finished run and its JSON outcome."""
    assert main(["train", *FLAGS, "--out", str(tmp_path / "run")]) == 0
    return tmp_path / "run", json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name, content", [
    ("config.json", b""), ("config.json", b'{"config": {"lr": 0.1'), ("config.json", b"\xff\xd8\xff\xe0binary"),
    ("config.json", b"[]"), ("config.json", b'{"config": {"depth": "deep"}}'),
    ("summary.json", b""), ("summary.json", b"{\"status\": "), ("summary.json", b"\x89PNG\r\n"),
    ("summary.json", b'{"status": "completed"}'), ("summary.json", b"42"),
])
def test_a_damaged_run_file_is_one_line_and_exit_2(finished, capsys, name, content):
    run, _ = finished
    (run / name).write_bytes(content)
    assert main(["resume", str(run), "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, str(run / name))


def checkpoint_of(run):
    return torch.load(run / "checkpoint.pt", weights_only=True)


@pytest.mark.parametrize("damage, needle", [
    (lambda s: {"weights": s["model"]}, "lacks model"),
    (lambda s: {**s, "step": "ten"}, "wrong type for step"),
    (lambda s: {**s, "window_sum": 3.0}, "wrong type for window_sum"),
    (lambda s: {**s, "last_eval": {"val_loss": "low"}}, "wrong type for last_eval"),
    (lambda s: {**s, "step": 10**9}, "claims step 1000000000"),
    (lambda s: {**s, "step": -1}, "claims step -1"),
    (lambda s: {**s, "model": {k: torch.zeros(3) for k in s["model"]}}, "does not fit this run's model"),
    (lambda s: {**s, "model": {"w": torch.zeros(3)}}, "does not fit this run's model"),
    (lambda s: [1, 2, 3], "holds a list"),
])
def test_a_checkpoint_with_the_wrong_contents_is_one_line_and_exit_2(finished, capsys, damage, needle):
    run, _ = finished
    (run / "summary.json").unlink()
    state = checkpoint_of(run)
    state.pop("sha256")
    torch.save(damage(state), run / "checkpoint.pt")
    assert main(["resume", str(run), "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, str(run / "checkpoint.pt"), needle, "delete it")


def test_a_flipped_byte_in_a_checkpoint_tensor_is_refused(tmp_path, capsys):
    assert main(["train", *FLAGS, "--steps", "20", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    path = tmp_path / "run" / "checkpoint.pt"
    weight = next(iter(checkpoint_of(tmp_path / "run")["model"].values()))
    data = bytearray(path.read_bytes())
    at = bytes(data).find(weight.flatten()[:4].numpy().tobytes())
    data[at + 2] ^= 0x01
    path.write_bytes(bytes(data))
    (tmp_path / "run" / "summary.json").unlink()
    assert main(["resume", str(tmp_path / "run"), "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, str(path), "SHA-256", "delete it to restart the run from step 0")


def test_a_preprocess_pt_holding_a_list_is_one_line(tmp_path, capsys):
    assert main(["train", *FLAGS, "--preprocess", "mean,std", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    torch.save([1, 2], tmp_path / "run" / "preprocess.pt")
    (tmp_path / "run" / "summary.json").unlink()
    assert main(["resume", str(tmp_path / "run"), "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, "preprocess.pt", "not a pipeline's state", "refit")


def test_a_garbage_line_in_metrics_loses_no_record_and_is_said_once(tmp_path, capsys):
    args = [*FLAGS, "--steps", "70"]
    assert main(["train", *args, "--out", str(tmp_path / "full")]) == 0
    full = json.loads(capsys.readouterr().out)
    assert main(["train", *args, "--steps", "70", "--out", str(tmp_path / "cut")]) == 0
    capsys.readouterr()
    run = RunDir(tmp_path / "cut")
    lines = (run.path / "metrics.jsonl").read_text().splitlines(keepends=True)
    kept = [line for line in lines if '"final"' not in line]
    (run.path / "metrics.jsonl").write_text("".join(kept[:5]) + "garbage {\n" + "".join(kept[5:]))
    (run.path / "summary.json").unlink()
    state = checkpoint_of(run.path)
    state.pop("sha256")
    run.save_checkpoint({**state})  # the checkpoint of step 70 stays: resuming only has to finish
    assert main(["resume", str(run.path), "--quiet", "--json"]) == 0
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "warning" in captured.err
    assert "metrics.rejected.jsonl" in captured.err
    resumed = json.loads(captured.out)
    assert {k: resumed[k] for k in KEYS} == {k: full[k] for k in KEYS}
    records = RunDir(tmp_path / "full").metrics()
    assert [(r["kind"], r.get("step")) for r in run.metrics()] == [(r["kind"], r.get("step")) for r in records]
    assert (run.path / "metrics.rejected.jsonl").read_text() == "garbage {\n"


def test_a_finished_run_without_summary_is_finished_without_duplicate_records(finished, capsys):
    run, outcome = finished
    before = (run / "metrics.jsonl").read_text()
    (run / "summary.json").unlink()
    assert main(["resume", str(run), "--json"]) == 0
    captured = capsys.readouterr()
    assert (run / "metrics.jsonl").read_text() == before
    assert {k: json.loads(captured.out)[k] for k in KEYS} == {k: outcome[k] for k in KEYS}
    assert json.loads((run / "summary.json").read_text())["status"] == "completed"
    assert len(captured.err.strip().splitlines()) == 1 and "final record" in captured.err


def test_a_run_killed_during_its_final_evaluation_writes_it_once(finished, capsys):
    run, outcome = finished
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    assert '"final"' in lines[-1] and '"eval"' in lines[-2]
    (run / "metrics.jsonl").write_text("".join(lines[:-1]))  # killed after the final evaluation's record
    (run / "summary.json").unlink()
    assert main(["resume", str(run), "--quiet", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert {k: resumed[k] for k in KEYS} == {k: outcome[k] for k in KEYS}
    after = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(r["kind"], r.get("step")) for r in after] == [(r["kind"], r.get("step")) for r in map(json.loads, lines)]


# -- interruptions -----------------------------------------------------------------------

class SignalAt:
    """A callback sending this process ``signum`` at ``step``, as Ctrl-C or `kill` would."""

    def __init__(self, signum: int, step: int) -> None:
        self.signum, self.step = signum, step

    def __getattr__(self, name):
        return lambda *args: None

    def on_step_end(self, trainer, step, loss):
        if step + 1 == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_says_so_and_exits_with_the_signal_status(tmp_path, capsys, monkeypatch, signum, status):
    import trainlab.train

    real = trainlab.train.with_probe
    assert main(["train", *FLAGS, "--out", str(tmp_path / "full")]) == 0
    full = json.loads(capsys.readouterr().out)
    monkeypatch.setattr(trainlab.train, "with_probe", lambda config, cbs: (*real(config, cbs), SignalAt(signum, 23)))
    assert main(["train", *FLAGS, "--out", str(tmp_path / "cut")]) == status
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "interrupted"
    one_line_error(captured.err, signal.Signals(signum).name, f"trainlab resume {tmp_path / 'cut'}")
    monkeypatch.setattr(trainlab.train, "with_probe", real)
    assert main(["resume", str(tmp_path / "cut"), "--quiet", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert {k: resumed[k] for k in KEYS} == {k: full[k] for k in KEYS}


def test_an_interrupted_population_exits_130_and_resumes(tmp_path, capsys, monkeypatch):
    from trainlab.population import PopulationTrainer

    args = [*FLAGS, "--lr", "0.05,0.1"]
    assert main(["train", *args, "--out", str(tmp_path / "full")]) == 0
    full = json.loads(capsys.readouterr().out)["members"]
    real = PopulationTrainer.train_step

    def train_step(self):
        real(self)
        if self.step == 17:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(PopulationTrainer, "train_step", train_step)
    assert main(["train", *args, "--out", str(tmp_path / "cut")]) == 130
    captured = capsys.readouterr()
    assert [m["status"] for m in json.loads(captured.out)["members"]] == ["interrupted", "interrupted"]
    assert len(captured.err.strip().splitlines()) == 1 and "SIGINT" in captured.err
    assert f"trainlab resume {tmp_path / 'cut'}" in captured.err
    monkeypatch.setattr(PopulationTrainer, "train_step", real)
    assert main(["resume", str(tmp_path / "cut"), "--quiet", "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out)["members"]
    assert [{k: m[k] for k in KEYS} for m in resumed] == [{k: m[k] for k in KEYS} for m in full]


def test_a_damaged_population_checkpoint_is_one_line(tmp_path, capsys, monkeypatch):
    from trainlab.population import PopulationTrainer

    args = [*FLAGS, "--lr", "0.05,0.1"]
    real = PopulationTrainer.train_step

    def train_step(self):
        real(self)
        if self.step == 17:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(PopulationTrainer, "train_step", train_step)
    assert main(["train", *args, "--out", str(tmp_path / "cut")]) == 143
    capsys.readouterr()
    monkeypatch.setattr(PopulationTrainer, "train_step", real)
    path = tmp_path / "cut" / CHECKPOINT
    state = torch.load(path, weights_only=True)
    state.pop("sha256")
    for damage, needle in ((dict(state, step=10**9), "claims step 1000000000"),
                           (dict(state, params={}), "does not fit this population"),
                           (dict(state, alive=[5, 9]), "does not fit this population")):
        torch.save(damage, path)
        assert main(["resume", str(tmp_path / "cut"), "--quiet"]) == 2
        one_line_error(capsys.readouterr().err, str(path), needle, "delete it")
    from trainlab.files import save_checked

    save_checked(state, path)
    data = bytearray(path.read_bytes())
    at = bytes(data).find(next(iter(state["params"].values())).flatten()[:4].numpy().tobytes())
    data[at] ^= 0x40
    path.write_bytes(bytes(data))
    assert main(["resume", str(tmp_path / "cut"), "--quiet"]) == 2
    one_line_error(capsys.readouterr().err, str(path), "SHA-256", "delete it to restart the population from step 0")

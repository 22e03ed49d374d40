"""Run folders on disk: damaged files are one clear error, metric lines are never lost, checkpoints are checked."""
from __future__ import annotations

import dataclasses
import json
import warnings

import pytest
import torch

from trainlab.config import TrainConfig
from trainlab.errors import CheckpointError, UserError
from trainlab.files import DIGEST_KEY, atomic_torch_save, load_checked, save_checked
from trainlab.loop import RunResult
from trainlab.runs import (
    CONFIG,
    METRICS,
    REJECTED_METRICS,
    RESULT_NUMBERS,
    SUMMARY,
    PopulationDir,
    RunDir,
    RunDirWarning,
)

TRAIN = {"kind": "train", "step": 10, "epoch": 0.5, "train_loss": 1.0, "lr": 0.1, "samples": 80, "time": 0.1}


def record(step: int) -> str:
    return json.dumps({**TRAIN, "step": step}) + "\n"


@pytest.fixture
def run(tmp_path) -> RunDir:
    return RunDir.create(tmp_path / "run", TrainConfig(dataset="synthetic-blobs"), "cpu")


def test_the_result_fields_are_the_run_results():
    names = {f.name for f in dataclasses.fields(RunResult)} - {"stopped_by"}
    assert names == {"run_dir", "status", "steps", *RESULT_NUMBERS}


@pytest.mark.parametrize("content, problem", [
    (b"", "is empty"),
    (b'{"config": {"lr": 0.1', "not valid JSON (truncated?)"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2]", "no \"config\" object"),
    (b'{"config": 5}', "no \"config\" object"),
    (b'{"config": {"lr": "fast"}}', "cannot use"),
    (b'{"config": {"banana": 1}}', "cannot use"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_a_damaged_config_json_is_one_line_naming_the_file(run, content, problem):
    (run.path / CONFIG).write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        run.config()
    message = str(caught.value)
    assert str(run.path / CONFIG) in message and problem in message and "trainlab train" in message
    assert "\n" not in message


@pytest.mark.parametrize("content", [b"", b"{", b"\x80\x81", b"[]", b'{"status": "completed"}',
                                     b'{"run_dir": "x", "status": "completed", "steps": "many"}'])
def test_a_damaged_summary_json_is_one_line_naming_the_fix(run, content):
    (run.path / SUMMARY).write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        run.summary()
    assert str(run.path / SUMMARY) in str(caught.value) and "delete it" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_garbage_line_in_the_middle_keeps_every_other_record(run):
    good = [record(s) for s in range(10, 150, 10)]
    (run.path / METRICS).write_text("".join(good[:5]) + "this is not json\n" + '["a list"]\n' + "".join(good[5:]))
    with pytest.warns(RunDirWarning, match=r"2 line\(s\) could not be read \(line 6: not JSON\)"):
        run.truncate_metrics(1000)
    kept = (run.path / METRICS).read_text().splitlines()
    assert len(kept) == 14  # was 5: everything before the bad line
    assert (run.path / REJECTED_METRICS).read_text() == 'this is not json\n["a list"]\n'


def test_a_line_cut_short_at_the_end_is_set_aside_and_said(run):
    (run.path / METRICS).write_text(record(10) + record(20) + record(30)[:17])
    with pytest.warns(RunDirWarning, match="cut short"):
        run.truncate_metrics(1000)
    assert [r["step"] for r in run.metrics()] == [10, 20]
    assert (run.path / REJECTED_METRICS).read_text() == record(30)[:17] + "\n"


def test_non_utf8_and_wrongly_shaped_records_are_skipped_when_reading(run):
    (run.path / METRICS).write_bytes(record(10).encode() + b"\xff\xfe\n" + b'{"kind": "train", "step": "x"}\n'
                                     + b'{"kind": "eval", "step": 5, "val_loss": "low"}\n' + record(20).encode())
    with pytest.warns(RunDirWarning, match="3 line"):
        assert [r["step"] for r in run.metrics()] == [10, 20]
    assert not (run.path / REJECTED_METRICS).exists()  # reading alone changes nothing


def test_resuming_drops_the_final_evaluation_and_result_it_writes_again(run):
    final = {"kind": "final", "run_dir": "r", "status": "completed", "steps": 40, "epochs": 1.0,
             **{k: 0.5 for k in RESULT_NUMBERS if k != "epochs"}}
    lines = [record(20), record(40), json.dumps({"kind": "eval", "step": 40, "epoch": 1.0, "val_loss": 1.0,
                                                  "val_accuracy": 0.5}) + "\n", json.dumps(final) + "\n"]
    (run.path / METRICS).write_text("".join(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing damaged: no warning
        run.truncate_metrics(40, total_steps=40)
    assert (run.path / METRICS).read_text() == "".join(lines[:2])


def test_checkpoints_carry_a_digest_and_a_flipped_byte_is_refused(run):
    weights = torch.arange(1000, dtype=torch.float32) / 7
    run.save_checkpoint({"model": {"w": weights}, "step": 3, "initial_loss": 2.3, "last_eval": {}})
    loaded = run.load_checkpoint()
    assert DIGEST_KEY not in loaded and torch.equal(loaded["model"]["w"], weights) and loaded["step"] == 3
    data = bytearray(run.checkpoint_file.read_bytes())
    at = bytes(data).find(weights[100:104].numpy().tobytes())
    assert at > 0
    data[at + 1] ^= 0x10
    run.checkpoint_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="fails its SHA-256 check.*delete it to restart the run from step 0"):
        run.load_checkpoint()


def test_a_checkpoint_written_before_digests_still_loads_without_a_warning(run):
    atomic_torch_save({"model": {"w": torch.ones(3)}, "step": 1}, run.checkpoint_file)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run.load_checkpoint()["step"] == 1


def test_the_digest_covers_plain_values_too(tmp_path):
    path = tmp_path / "state.pt"
    save_checked({"step": 5, "lr": 0.1, "tensors": [torch.zeros(2)]}, path)
    state = torch.load(path, weights_only=True)
    state["step"] = 6
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checked(path, fix="delete it")


def test_a_checkpoint_that_is_not_a_dict_is_one_line(run):
    torch.save([1, 2, 3], run.checkpoint_file)
    with pytest.raises(CheckpointError, match="holds a list, not a training state"):
        run.load_checkpoint()


def test_population_checkpoints_carry_a_digest_too(tmp_path):
    folder = PopulationDir(tmp_path / "pop")
    folder.path.mkdir()
    folder.save_checkpoint({"params": {"w": torch.ones(4)}, "step": 2})
    assert torch.load(folder.checkpoint_file, weights_only=True)[DIGEST_KEY]
    assert folder.load_checkpoint()["step"] == 2


def test_a_run_and_a_population_never_share_a_folder(tmp_path, run):
    with pytest.raises(UserError, match="already holds a single run"):
        PopulationDir.check_new(run.path)
    RunDir.create(PopulationDir(tmp_path / "pop").member(0), TrainConfig(), "cpu")
    with pytest.raises(UserError, match="already holds a population.*trainlab resume"):
        RunDir.create(tmp_path / "pop", TrainConfig(), "cpu")
    with pytest.raises(UserError, match="already holds a population"):
        PopulationDir.check_new(tmp_path / "pop")

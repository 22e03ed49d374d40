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



import pytest  # noqa: E402


@pytest.fixture
def run(tmp_path, capsys):
    assert main(["train", *FLAGS, "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    return tmp_path / "run"


@pytest.mark.parametrize("name, content", [
    ("config.json", b""), ("config.json", b'{"config": '), ("config.json", b"\xfe\xff\x00\x7b"),
    ("config.json", b'"just a string"'), ("summary.json", b""), ("summary.json", b"{\"steps\": 1"),
    ("summary.json", b"\xc3\x28"), ("summary.json", b"[1]"),
    ("summary.json", b'{"run_dir": "r", "status": "completed", "steps": "twelve"}'),
])
def test_a_damaged_run_file_is_one_line_and_exit_2(run, capsys, name, content):
    (run / name).write_bytes(content)
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert str(run / name) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (run / "report.html").exists()


@pytest.mark.parametrize("content", [b"\x00\x01\x02\xff\n", b"[1, 2, 3]\n", b'{"kind": "eval", "step": null}\n'])
def test_unreadable_metric_lines_are_skipped_with_one_warning(run, capsys, content):
    metrics = run / "metrics.jsonl"
    lines = metrics.read_bytes().splitlines(keepends=True)
    metrics.write_bytes(b"".join(lines[:2]) + content + b"".join(lines[2:]))
    assert main(["report", str(run), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["report"] == str(run / "report.html")
    assert len(captured.err.strip().splitlines()) == 1 and "line 3" in captured.err and "skipped" in captured.err
    assert metrics.read_bytes() == b"".join(lines[:2]) + content + b"".join(lines[2:])  # the report changes nothing


def test_a_population_member_with_a_damaged_config_is_one_line(tmp_path, capsys):
    folder = tmp_path / "pop"
    assert main(["train", *FLAGS, "--lr", "0.01,0.1", "--out", str(folder)]) == 0
    capsys.readouterr()
    (folder / "member-001" / "config.json").write_bytes(b"\xff\xfe not text")
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "member-001" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("out", ["file", "file/report", "file/report.html"])
def test_report_out_that_cannot_be_written_is_one_line(out, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "10",
                 "--quiet", "--out", str(run)]) == 0
    (tmp_path / "file").write_text("a file, not a folder\n")
    capsys.readouterr()
    assert main(["report", str(run), "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "file" in err

"""``trainlab gradcheck`` end to end on a generated dataset."""
from __future__ import annotations

import json

from trainlab.cli import main

FLAGS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "6", "--batch", "8", "--max-coords", "10"]


def test_gradcheck_json_passes_and_compares_float32(capsys):
    code = main(["gradcheck", *FLAGS, "--activation", "relu", "--weight-decay", "0.01", "--json"])
    record = json.loads(capsys.readouterr().out)
    assert code == 0 and record["verdict"] in ("good", "acceptable")
    assert record["dtype"] == "float64" and record["regularization"]["verdict"] == "good"
    assert record["compare"]["float32"]["verdict"] in ("suspicious", "wrong")
    assert {"name", "max_rel_error", "median_rel_error", "checked", "kinks", "verdict"} <= set(record["parameters"][0])


def test_gradcheck_float32_fails_with_exit_1(capsys):
    code = main(["gradcheck", *FLAGS, "--dtype", "float32", "--no-compare"])
    out = capsys.readouterr().out
    assert code == 1 and "verdict: float32" in out


def test_gradcheck_bad_input_exit_2(capsys):
    assert main(["gradcheck", *FLAGS, "--h", "-1"]) == 2
    assert "h must be > 0" in capsys.readouterr().err

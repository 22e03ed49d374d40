"""``trainlab doctor``: exit 0 with no failure, 1 with one, 2 on bad input; --json prints one object."""
from __future__ import annotations

import json

import pytest

from trainlab.cli import main
from trainlab.doctor import ORDER

BLOBS = ["--dataset", "synthetic-blobs", "--depth", "1", "--width", "16", "--seed", "0", "--quiet"]


def test_a_healthy_config_exits_0_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "doc"
    code = main(["doctor", *BLOBS, "--lr", "0.05", "--json", "--out", str(out)])
    printed = json.loads(capsys.readouterr().out)  # exactly one JSON object on stdout
    assert code == 0 and printed["ok"] is True
    assert [c["id"] for c in printed["checks"]] == list(ORDER)
    assert json.loads((out / "report.json").read_text())["checks"] == printed["checks"]
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_a_failing_check_exits_1(capsys):
    code = main(["doctor", *BLOBS, "--init", "zeros", "--checks", "data,init-health"])
    assert code == 1
    assert "FAIL    init-health" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--checks", "data,nope"], "unknown doctor check 'nope'"),
    (["--checks", ","], "--checks needs at least one check id"),
    (["--lr", "-1"], "lr must be positive"),
])
def test_bad_input_exits_2_with_one_line(flags, message, capsys):
    assert main(["doctor", *BLOBS, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


MODEL_FILE = '''
import torch
from torch import nn

def build():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 3))

def build_with_softmax():
    return nn.Sequential(build(), nn.Softmax(dim=1))

def broken():
    raise RuntimeError("no weights here")

def not_a_module():
    return 3
'''


@pytest.fixture
def own(tmp_path):
    """A model file and the same 3-class problem as .npz and .pt."""
    import numpy as np
    import torch

    (tmp_path / "net.py").write_text(MODEL_FILE)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 8, generator=g)
    y = (x @ torch.randn(8, 3, generator=g)).argmax(1)
    np.savez(tmp_path / "data.npz", x=x.numpy(), y=y.numpy())
    torch.save({"x": x, "y": y, "x_val": x[:100], "y_val": y[:100]}, tmp_path / "data.pt")
    np.savez(tmp_path / "no-labels.npz", x=x.numpy())
    np.savez(tmp_path / "float-labels.npz", x=x.numpy(), y=y.numpy().astype("float32"))
    return tmp_path


QUICK = ["--checks", "data,loss-output,loss-reduction,initial-loss", "--quiet", "--json"]


@pytest.mark.parametrize("data", ["data.npz", "data.pt"])
def test_your_own_model_file_and_data_are_examined(own, data, capsys):
    code = main(["doctor", "--model", f"{own}/net.py:build", "--data", f"{own}/{data}", *QUICK])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and [c["status"] for c in report["checks"]] == ["pass"] * 4
    assert report["meta"]["model_file"].endswith("net.py:build") and report["meta"]["num_classes"] == 3
    assert report["meta"]["val_examples"] == (100 if data == "data.pt" else 60)


def test_a_fault_in_your_own_model_is_found(own, capsys):
    code = main(["doctor", "--model", f"{own}/net.py:build_with_softmax", "--data", f"{own}/data.npz", *QUICK])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {c["id"]: c["status"] for c in report["checks"]}["loss-output"] == "fail"


@pytest.mark.parametrize("argv, message", [
    (["doctor", "--model", "{d}/missing.py:build", "--data", "{d}/data.npz"], "there is no file"),
    (["doctor", "--model", "{d}/net.py:nope", "--data", "{d}/data.npz"], "has no function 'nope'; it defines"),
    (["doctor", "--model", "{d}/net.py:broken", "--data", "{d}/data.npz"], "broken() failed: RuntimeError"),
    (["doctor", "--model", "{d}/net.py:not_a_module", "--data", "{d}/data.npz"], "must return a torch.nn.Module"),
    (["doctor", "--model", "{d}/net.py:build", "--data", "{d}/no-labels.npz"], "has no y"),
    (["doctor", "--model", "{d}/net.py:build", "--data", "{d}/float-labels.npz"], "integer class labels"),
    (["doctor", "--model", "{d}/net.py:build", "--data", "{d}/absent.npz"], "no such file"),
    (["doctor", "--model", "{d}/net.py:build", "--data", "{d}/net.py"], "give an .npz file"),
    (["train", "--model", "{d}/net.py:build", "--dataset", "synthetic-blobs"], "taken by `trainlab doctor` only"),
])
def test_bad_model_files_and_data_exit_2_with_one_line(own, argv, message, capsys):
    assert main([a.format(d=own) for a in argv] + ["--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1

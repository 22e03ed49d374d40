"""cs231n-activations at the smoke budget: claims follow the numbers, numbers follow closed forms."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from trainlab.cli import main


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """One smoke run through the CLI; with --json stdout is exactly results.json."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("cs231n") / "o"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["reproduce", "cs231n-activations", "--profile", "smoke", "--out", str(out), "--json"]) == 0
    printed = json.loads(stdout.getvalue())
    assert printed == json.loads((out / "results.json").read_text())
    return printed, out


def _rows(record, activation, init):
    return [r for r in record["tables"]["layers"] if (r["activation"], r["init"]) == (activation, init)]


def test_layer_one_matches_closed_forms(record):
    record, _ = record
    # xavier tanh, layer 1: z ~ N(0, ~1), std of tanh(z) by quadrature
    z = np.linspace(-10, 10, 200_001)
    pdf = np.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    tanh_std = math.sqrt(np.trapezoid(np.tanh(z) ** 2 * pdf, z))
    assert _rows(record, "tanh", "xavier")[0]["std"] == pytest.approx(tanh_std, rel=0.05)
    # he relu, layer 1: z ~ N(0, 2), relu(z) has variance 2 * (1/2 - 1/(2 pi))
    assert _rows(record, "relu", "he")[0]["std"] == pytest.approx(math.sqrt(2 * (0.5 - 1 / (2 * math.pi))), rel=0.05)
    assert len(record["tables"]["layers"]) == 2 * 4 * 10


def _recompute(activation, std, seed=123, n=200, width=500, depth=10):
    """An independent float64 forward pass: (std of layer 1, std of layer 10, saturated fraction of layer 10)."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, width, generator=g, dtype=torch.float64)
    stds = []
    for _ in range(depth):
        a = getattr(torch, activation)(a @ (torch.randn(width, width, generator=g, dtype=torch.float64) * std))
        stds.append(a.std().item())
    return stds[0], stds[-1], (a.abs() >= 0.975).double().mean().item()


def test_claims_are_evaluated_from_the_numbers(record):
    record, _ = record
    claims = {c["id"]: c["holds"] for c in record["claims"]}
    first, last, _ = _recompute("tanh", 0.01)
    assert claims["tanh-small-collapses"] == (last / first < 1e-3) is True
    _, _, saturated = _recompute("tanh", 1.0)
    assert claims["tanh-large-saturates"] == (saturated > 0.9) is True
    first, last, _ = _recompute("tanh", 1 / math.sqrt(500))
    assert claims["xavier-tanh-healthy"] == (0.1 < last / first < 10) is True
    first, last, _ = _recompute("relu", math.sqrt(2 / 500))
    assert claims["he-relu-healthy"] == (0.5 < last / first < 2) is True
    ours = _rows(record, "tanh", "normal-0.01")
    assert claims["tanh-small-collapses"] == (ours[-1]["std"] / ours[0]["std"] < 1e-3)
    assert all(claims.values())


def test_report_and_figures_written(record):
    record, out = record
    assert (out / "report.html").is_file() and (out / "results.json").is_file()
    assert json.loads((out / "results.json").read_text())["experiment"] == "cs231n-activations"
    for path in record["figures"].values():
        assert (out / path).read_bytes()[:4] == b"\x89PNG"

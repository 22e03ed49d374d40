"""`trainlab report DIR` on a probed run: figures inline, verdicts that follow the numbers."""
from __future__ import annotations

import re

import torch
from torch import nn
from torch.nn import functional as F

from trainlab.cli import main
from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.probe import Probe, ProbeCallback, ProbeConfig
from trainlab.report.run_report import write_run_report
from trainlab.report.verdicts import probe_verdicts
from trainlab.runs import RunDir
from trainlab.train import Trainer


def _blobs() -> Dataset:
    g = torch.Generator().manual_seed(0)

    def split(m: int) -> Split:
        y = torch.randint(0, 3, (m,), generator=g)
        return Split(torch.randn(m, 8, generator=g) + 2 * F.one_hot(y, 8).float(), y)

    return Dataset("blobs", split(300), split(100), split(100), 3, (8,))


def probed_run(path):
    cfg = TrainConfig(dataset="blobs", depth=3, width=12, steps=20, batch_size=30, lr=0.1, log_every=5, eval_every=10)
    trainer = Trainer(cfg, callbacks=[ProbeCallback(ProbeConfig(every=10, batch=60))], progress=False, dataset=_blobs())
    trainer.run = RunDir.create(path, cfg, "cpu")
    trainer.fit()
    return path


def test_run_report_has_every_figure_inline(tmp_path):
    run = probed_run(tmp_path / "run")
    path = write_run_report(run)
    text = path.read_text()
    images = re.findall(r"<img [^>]*src='data:image/png;base64,", text)
    # curves + Figs 2, 3, 4/6 (first, last), 7, 8, 9
    assert len(images) == 8
    assert "Verdicts" in text and "test accuracy" in text
    assert main(["report", str(run), "--json"]) == 0


def _records(model, x):
    with Probe(model) as probe:
        return [probe.measure(x, torch.zeros(len(x), dtype=torch.long), F.cross_entropy)]


def test_verdicts_name_saturated_and_dead_layers():
    torch.manual_seed(0)
    x = torch.randn(100, 20)
    big = nn.Sequential(nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 2))
    with torch.no_grad():
        for m in big:
            if isinstance(m, nn.Linear):
                m.weight.mul_(20)
    text = " ".join(probe_verdicts(_records(big, x)))
    assert "layer 1 (tanh, '1') saturated at step 0" in text
    dead = nn.Sequential(nn.Linear(20, 20), nn.ReLU(), nn.Linear(20, 2))
    with torch.no_grad():
        dead[0].bias.fill_(-100.0)
    assert "dead at step 0: 100%" in " ".join(probe_verdicts(_records(dead, x)))
    healthy = nn.Sequential(nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 2))
    assert "No layer saturated" in " ".join(probe_verdicts(_records(healthy, x)))

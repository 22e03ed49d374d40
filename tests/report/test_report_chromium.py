"""Reports as users see them: headless Chromium opens report.html and every figure decodes.

Needs Debian's ``chromium``; when it is missing and we run as root the set-up
installs it with apt (about a minute, once), otherwise the tests skip with the reason.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

pytestmark = pytest.mark.slow  # still part of `make test`; marks the minute apt may take the first time

COUNT_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  var out = document.createElement('div');
  out.id = 'decoded';
  out.textContent = 'decoded ' + ok + ' of ' + imgs.length;
  document.body.appendChild(out);
});
</script>"""


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and we are not root with apt-get to install it "
                    "(apt-get install chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=300, env=env)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], check=True,
                       capture_output=True, timeout=600, env=env)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"could not install chromium with apt-get: {exc}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("apt-get installed no chromium binary")
    return found


def decoded_images(chromium: str, report: Path, tmp_path: Path) -> tuple[int, int]:
    """Open a copy of ``report`` with the counting script in headless Chromium; (decoded, total)."""
    page = tmp_path / f"seen-{report.parent.name}.html"
    page.write_text(report.read_text().replace("</body>", COUNT_SCRIPT + "</body>"))
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000",
               "--dump-dom", page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    found = re.search(r"decoded (\d+) of (\d+)", done.stdout)
    assert found, f"no count in Chromium's DOM; stderr: {done.stderr[-2000:]}"
    return int(found.group(1)), int(found.group(2))


def test_experiment_report_figures_decode_in_chromium(chromium, tmp_path):
    from trainlab.experiments.base import Context, run_experiment

    out = tmp_path / "bn"
    record = run_experiment("bn-before-after", Context(out=out, profile="smoke", progress=False))
    decoded, total = decoded_images(chromium, out / "report.html", tmp_path)
    assert total == len(record["figures"]) > 0
    assert decoded == total


def test_run_report_figures_decode_in_chromium(chromium, tmp_path):
    from trainlab.config import TrainConfig
    from trainlab.data.base import Dataset, Split
    from trainlab.probe import ProbeCallback, ProbeConfig
    from trainlab.report.run_report import write_run_report
    from trainlab.runs import RunDir
    from trainlab.train import Trainer

    g = torch.Generator().manual_seed(0)

    def split(m: int) -> Split:
        y = torch.randint(0, 3, (m,), generator=g)
        return Split(torch.randn(m, 8, generator=g) + 2 * F.one_hot(y, 8).float(), y)

    cfg = TrainConfig(dataset="blobs", depth=2, width=10, steps=10, batch_size=20, log_every=5, eval_every=5)
    data = Dataset("blobs", split(200), split(60), split(60), 3, (8,))
    trainer = Trainer(cfg, callbacks=[ProbeCallback(ProbeConfig(every=5, batch=40))], progress=False, dataset=data)
    trainer.run = RunDir.create(tmp_path / "run", cfg, "cpu")
    trainer.fit()
    report = write_run_report(tmp_path / "run")
    decoded, total = decoded_images(chromium, report, tmp_path)
    assert total == report.read_text().count("<img ") == 8
    assert decoded == total


def test_population_report_figures_decode_in_chromium(chromium, tmp_path):
    from trainlab.cli import main
    from trainlab.report.run_report import write_report

    assert main(["train", "--dataset", "synthetic-blobs", "--depth", "1", "--width", "8", "--steps", "12",
                 "--log-every", "4", "--eval-every", "4", "--lr", "0.01,0.1", "--seed", "0,1", "--quiet",
                 "--out", str(tmp_path / "pop")]) == 0
    report = write_report(tmp_path / "pop")
    decoded, total = decoded_images(chromium, report, tmp_path)
    assert total == report.read_text().count("<img ") == 2
    assert decoded == total


def test_doctor_report_shows_its_diagnosis_and_figures_in_chromium(chromium, tmp_path):
    from torch import nn

    from trainlab.doctor import Budget, examine

    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 10, generator=g) * 300 + 1_000  # inputs far from unit scale: a diagnosis to show
    y = (x[:, 0] > 1_000).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 2))
    report = examine(model, "softmax", (x, y), lr=0.05, budget=Budget.tiny(),
                     checks=["data", "init-health", "gradient-flow", "lr-range"])
    out = report.save(tmp_path / "doctor")
    decoded, total = decoded_images(chromium, out / "report.html", tmp_path)
    assert total == 3 and decoded == total  # init-health, gradient-flow and lr-range figures
    page = tmp_path / "dom.html"
    page.write_text((out / "report.html").read_text())
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert report.diagnosis[0].cause == "input-scale-large"
    assert dom.index("Diagnosis") < dom.index("Summary") and "the inputs are far above unit scale" in dom

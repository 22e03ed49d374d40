"""Probing during training: training-batch records from the step's own passes, the probe file, resume."""
from __future__ import annotations

import os
import signal

import pytest
import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.probe import ProbeCallback, ProbeConfig, read_probes
from trainlab.train import Callback, Trainer, resume


def _blobs(n: int = 400, dim: int = 10, classes: int = 3) -> Dataset:
    g = torch.Generator().manual_seed(0)

    def split(m: int) -> Split:
        y = torch.randint(0, classes, (m,), generator=g)
        return Split(torch.randn(m, dim, generator=g) + 2 * torch.nn.functional.one_hot(y, dim).float(), y)

    return Dataset("blobs", split(n), split(120), split(120), classes, (dim,))


CONFIG = TrainConfig(dataset="blobs", depth=2, width=16, activation="tanh", batch_size=32, steps=12, lr=0.1,
                     log_every=4, optimizer="momentum")


class Snapshot(Callback):
    """Keeps the weights and batch at step 5 and the weights after it, to recompute the probe's numbers."""

    def on_step_start(self, trainer, step, x, y):
        if step == 5:
            self.x, self.y = x.clone(), y.clone()
            self.before = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    def on_step_end(self, trainer, step, loss):
        if step == 5:
            self.after = {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_training_batch_records_match_a_recomputation(tmp_path):
    snap = Snapshot()
    probe = ProbeCallback(ProbeConfig(every=5, batch=50, on_train_batch=True))
    trainer = Trainer(CONFIG, callbacks=[snap, probe], progress=False, dataset=_blobs())
    trainer.fit()
    assert [(r.step, r.source) for r in probe.records] == [
        (0, "probe"), (0, "train"), (5, "probe"), (5, "train"), (10, "probe"), (10, "train"), (12, "probe")]
    record = next(r for r in probe.records if (r.step, r.source) == (5, "train"))
    model = type(trainer.model)(10, 3, depth=2, width=16, activation="tanh").double()
    model.load_state_dict({k: v.double() for k, v in snap.before.items()})
    outs = []
    for m in list(model)[1:]:  # after Flatten
        m.register_forward_hook(lambda _m, _i, o: outs.append(o) or o.retain_grad())
    torch.nn.functional.cross_entropy(model(snap.x.double()), snap.y).backward()
    layers = {l.name: l for l in record.layers}
    for i, out in enumerate(outs, start=1):
        layer = layers[str(i)]
        assert layer.activation.std == pytest.approx(out.detach().std(unbiased=False).item(), rel=1e-4)
        assert layer.backprop_grad.std == pytest.approx(out.grad.std(unbiased=False).item(), rel=1e-4)
    w0 = model[1].weight
    assert layers["1"].weight_grad.std == pytest.approx(w0.grad.std(unbiased=False).item(), rel=1e-4)
    change = (snap.after["1.weight"] - snap.before["1.weight"]).norm() / snap.before["1.weight"].norm()
    assert layers["1"].update_ratio == pytest.approx(change.item(), rel=1e-4)


def test_probe_file_round_trips_and_resume_drops_recomputed_rows(tmp_path):
    cfg = CONFIG.replace(probe="every=4,batch=40,train", checkpoint_every=4)
    out = tmp_path / "run"
    data = _blobs()

    class StopAt(Callback):
        def on_step_end(self, trainer, step, loss):
            if step == 6:
                os.kill(os.getpid(), signal.SIGINT)

    trainer = Trainer(cfg, callbacks=[StopAt()], progress=False, dataset=data)
    from trainlab.runs import RunDir
    from trainlab.train import with_probe

    trainer.callbacks = with_probe(cfg, trainer.callbacks)
    trainer.run = RunDir.create(out, cfg, "cpu")
    assert trainer.fit().status == "interrupted"
    partial = read_probes(out)
    assert [(r.step, r.source) for r in partial.records()] == [(0, "probe"), (0, "train"), (4, "probe"), (4, "train")]
    with open(out / "probes.bin", "ab") as fh:
        fh.write(b"\x00" * 13)  # a row cut short by a kill is ignored
    result = resume(out, progress=False, dataset=data)
    assert result.status == "completed"
    log = read_probes(out)
    steps = [(r.step, r.source) for r in log.records()]
    assert steps == [(0, "probe"), (0, "train"), (4, "probe"), (4, "train"), (8, "probe"), (8, "train"), (12, "probe")]
    # an uninterrupted run writes the same numbers
    fresh = ProbeCallback(ProbeConfig.parse(cfg.probe))
    Trainer(cfg.replace(probe=None), callbacks=[fresh], progress=False, dataset=data).fit()
    for stored, live in zip(log.records(), fresh.records):
        for a, b in zip(stored.to_rows(), live.to_rows()):
            assert a["std"] == pytest.approx(b["std"], rel=1e-6) and a["hist_counts"] == b["hist_counts"]

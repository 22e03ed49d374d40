"""trainlab.watch as a user meets it: it never changes the training, always takes its hooks off, refuses bad
arguments with the fix, writes a run folder the report renders, speaks on stderr, and works with closures,
models without probe-able layers and losses handed over by hand or by the model itself."""
from __future__ import annotations

import contextlib
import functools
import itertools
import json
import statistics
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import trainlab
from tests.watcher import loops
from tests.watcher.loops import batches, blobs, ids, mlp, sgd, train
from trainlab.errors import UserError
from trainlab.probe import read_probes
from trainlab.report.run_report import write_report
from trainlab.runs import RunDir
from trainlab.watcher import Watcher, watch

one_thread = loops.one_thread  # an autouse fixture: one torch thread for these tiny models


def data(n: int = 384, size: int = 32, *, shuffle: bool = True) -> Any:
    return batches(*blobs(n), size, shuffle=shuffle)


def net(**kwargs: Any) -> nn.Sequential:
    return mlp(12, 32, 32, 3, **kwargs)


# -- (a) watching never changes the training ----------------------------------------------------------
def trained(watched: bool, every: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Dropout, batch norm, Adam and an evaluation each step: the state dict and the random state afterwards."""
    m = net(dropout=0.3, batch_norm=True)
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    x_val, _ = blobs(64, seed=1)

    def evaluate(model: nn.Module) -> None:
        model.eval()
        with torch.no_grad():
            model(x_val)
        model.train()

    torch.manual_seed(1)  # dropout's masks
    train(m, opt, data(), steps=60, every=every, evaluate=evaluate, watched=watched)
    return m.state_dict(), torch.get_rng_state()


@pytest.mark.parametrize("every", [1, 50])
def test_watching_never_changes_the_training(every: int) -> None:
    (plain, plain_rng), (seen, seen_rng) = trained(False, every), trained(True, every)
    assert list(plain) == list(seen)
    assert all(torch.equal(plain[k], seen[k]) for k in plain), [k for k in plain if not torch.equal(plain[k], seen[k])]
    assert torch.equal(plain_rng, seen_rng)  # the watcher draws no random numbers


# -- (b) hooks come off -------------------------------------------------------------------------------------
def hooks_left(model: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any) -> list[str]:
    """Every hook anyone could have left on the model, its parameters, the optimizer and the scheduler."""
    left = []
    for name, m in model.named_modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                     "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs"):
            if getattr(m, attr, None):
                left.append(f"module {name or '<root>'}.{attr}")
    for name, p in model.named_parameters():
        for attr in ("_backward_hooks", "_post_accumulate_grad_hooks"):
            if getattr(p, attr, None):
                left.append(f"parameter {name}.{attr}")
    for attr in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks"):
        if getattr(optimizer, attr):
            left.append(f"optimizer.{attr}")
    if "step" in vars(scheduler):
        left.append("scheduler.step")
    module_globals = torch.nn.modules.module
    for attr in ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks"):
        if getattr(module_globals, attr, None):
            left.append(f"torch.nn.modules.module.{attr}")
    return left


@pytest.mark.parametrize("raised, status", [(None, "finished"), (ValueError, "failed"),
                                            (KeyboardInterrupt, "interrupted")])
def test_hooks_come_off(raised: type[BaseException] | None, status: str, tmp_path: Path) -> None:
    """Also when the loop stops between backward() and step() of a check step, with every hook armed."""
    m = mlp(12, 32, 32, 32, 3, dropout=0.1)
    m[4].requires_grad_(False)  # a frozen middle layer: its pre-hook is armed on check steps too
    opt = sgd(m)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5)
    criterion = nn.CrossEntropyLoss()
    armed: list[str] = []
    with pytest.raises(raised) if raised else contextlib.nullcontext():
        with watch(m, opt, every=10, criterion=criterion, scheduler=sched, status=False, out=tmp_path / "run"):
            for step, (x, y) in zip(range(11), data()):
                opt.zero_grad(set_to_none=False)  # a .grad to carry over: the gradient hooks are armed too
                criterion(m(x), y).backward()
                if step == 10:
                    armed = hooks_left(m, opt, sched)
                    if raised:
                        raise raised()
                opt.step()
                sched.step()
    assert any(a.startswith("parameter") for a in armed)  # the check step's hooks were on when it stopped
    assert hooks_left(m, opt, sched) == []
    assert criterion._forward_hooks == {}
    assert sched.step.__func__ is type(sched).step
    assert RunDir(tmp_path / "run").summary()["status"] == status


def test_a_refused_out_leaves_no_hook(tmp_path: Path) -> None:
    m, folder = net(), tmp_path / "run"
    train(m, sgd(m), data(), steps=1, out=folder)
    opt = sgd(m)
    with pytest.raises(UserError, match="already holds a run; pass another out="):
        with watch(m, opt, out=folder, scheduler=torch.optim.lr_scheduler.StepLR(opt, 1)):
            pass
    assert hooks_left(m, opt, SimpleNamespace()) == []


# -- (c) bad arguments ------------------------------------------------------------------------------------------
MODEL = net()


@pytest.mark.parametrize("args, kwargs, fix", [
    ((lambda x: x, sgd(MODEL)), {}, r"needs the model \(an nn.Module\)"),
    ((MODEL, None), {}, r"e.g. watch\(model, optimizer\)"),
    ((MODEL, MODEL.parameters()), {}, r"a torch.optim.Optimizer, or a list of them"),
    ((MODEL, []), {}, r"e.g. watch\(model, optimizer\)"),
    ((MODEL, sgd(MODEL)), {"every": 0}, r"every=\.\.\.\) must be a whole number of steps >= 1, got 0"),
    ((MODEL, sgd(MODEL)), {"every": 2.5}, r"got 2.5"),
    ((MODEL, sgd(MODEL)), {"distributions_every": 0}, r"distributions_every=\.\.\.\) must be a whole number"),
    ((MODEL, sgd(MODEL)), {"criterion": F.cross_entropy}, r"call w.loss\(loss, y\) in the loop"),
    ((MODEL, sgd(MODEL)), {"scheduler": 0.1}, r"takes a torch.optim.lr_scheduler scheduler"),
    ((MODEL, sgd(MODEL)), {"layers": ["nope"]}, r"no module named 'nope' in the model; known: 0, 1, 2"),
    ((MODEL, sgd(MODEL)), {"total_steps": 0}, r"total_steps=\.\.\.\) must be a whole number of steps >= 1"),
], ids=["not a model", "no optimizer", "parameters for an optimizer", "no optimizers", "every=0",
        "every=2.5", "distributions_every=0", "criterion a function", "scheduler a number", "unknown layer",
        "total_steps=0"])
def test_bad_arguments_name_the_fix(args: tuple[Any, ...], kwargs: dict[str, Any], fix: str) -> None:
    with pytest.raises(UserError, match=fix):
        with watch(*args, **kwargs):
            pass
    assert hooks_left(MODEL, sgd(MODEL), SimpleNamespace()) == []


def test_w_loss_takes_a_tensor_inside_the_block() -> None:
    m = net()
    w = watch(m, sgd(m), status=False)
    with pytest.raises(UserError, match="inside `with trainlab.watch"):
        w.loss(torch.tensor(3.0))
    with w:
        with pytest.raises(UserError, match="w.loss\\(\\) takes the loss tensor, got float"):
            w.loss(3.0)


def test_w_loss_after_the_block_is_refused() -> None:
    m = net()
    with watch(m, sgd(m), status=False) as w:
        pass
    with pytest.raises(UserError, match="inside `with trainlab.watch"):
        w.loss(torch.tensor(3.0))


# -- (d) the run folder -----------------------------------------------------------------------------------
def test_the_run_folder(tmp_path: Path) -> None:
    folder, losses = tmp_path / "run", []
    m = net()
    w = train(m, sgd(m), data(), steps=21, every=10, out=folder, zero_grad=False, losses=losses)
    assert ids(w) == ["grad-accumulation"]
    record = json.loads((folder / "config.json").read_text())
    assert record["kind"] == "watch"
    assert record["config"] | {"probed_layers": None} == {
        "watched": "trainlab.watch", "model": "Sequential", "parameters": 12 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3,
        "trainable_parameters": 1571, "scheduler": None, "criterion": "CrossEntropyLoss", "every": 10,
        "distributions_every": 50, "probed_layers": None, "optimizers": record["config"]["optimizers"]}
    assert record["config"]["probed_layers"] == ["0", "1", "2", "3", "4"]
    assert record["config"]["optimizers"][0]["type"] == "SGD" and record["config"]["optimizers"][0]["lr"] == 0.1
    run = RunDir(folder)
    metrics = run.metrics()
    assert [(r["kind"], r["step"], r["lr"]) for r in metrics] == [("train", 0, 0.1), ("train", 10, 0.1),
                                                                    ("train", 20, 0.1)]
    since_last = [losses[:1], losses[1:11], losses[11:21]]  # each record: the mean loss since the last check
    assert [r["train_loss"] for r in metrics] == pytest.approx([statistics.fmean(v) for v in since_last], rel=1e-9)
    assert all((folder / name).is_file() for name in ("metrics.jsonl", "probes.json", "probes.bin", "findings.json"))
    assert [r.step for r in read_probes(folder).records()] == [0]  # the figures' records: DISTRIBUTIONS_EVERY
    assert run.findings() == [f.to_dict() for f in w.findings]
    summary = run.summary()
    assert (summary["status"], summary["steps"]) == ("finished", 21)
    assert summary["train_loss"] == pytest.approx(statistics.fmean(losses[-10:]), rel=1e-9)
    report = write_report(folder)
    assert report.suffix == ".html" and "grad-accumulation" in report.read_text()
    with pytest.raises(UserError, match="cannot resume or re-run it"):
        run.config()
    with pytest.raises(UserError, match="already holds a run"):
        train(m, sgd(m), data(), steps=1, out=folder)


def test_every_step_records_moments_and_the_figures_get_distributions_every_50(tmp_path: Path) -> None:
    folder, m = tmp_path / "run", net()
    w = train(m, sgd(m), data(), steps=120, every=1, out=folder)
    assert [r["step"] for r in RunDir(folder).metrics()] == list(range(120))
    assert [r.step for r in read_probes(folder).records()] == [0, 50, 100]
    assert [(r.step, r.distributions) for r in w.observer.seen.records] == [(117, False), (118, False), (119, False)]
    assert w.observer.seen.first_record.distributions
    assert all(l.update_ratio is not None for l in w.observer.seen.records[-1].layers if l.kind == "linear")
    w = train(m, sgd(m), data(), steps=12, every=1, out=tmp_path / "again", distributions_every=5)
    assert [r.step for r in read_probes(tmp_path / "again").records()] == [0, 5, 10]


def test_a_clean_run_folder_says_no_finding(tmp_path: Path) -> None:
    m = net()
    train(m, sgd(m), data(), steps=11, out=tmp_path / "run")
    assert RunDir(tmp_path / "run").findings() == []
    assert "No finding" in write_report(tmp_path / "run").read_text()


# -- (e) the status line --------------------------------------------------------------------------------------
def test_status_prints_each_finding_once(capsys: pytest.CaptureFixture[str]) -> None:
    m = net()
    w = train(m, sgd(m), data(), steps=31, zero_grad=False, status=True)
    err = capsys.readouterr().err
    assert ids(w) == ["grad-accumulation"]  # first seen at step 10, seen again at 20 and 30
    assert err.count("watch: [grad-accumulation] step 10: ") == 1 and err.count("[grad-accumulation]") == 1
    assert "watch  step 0  loss " in err and "lr 0.1" in err


def test_status_off_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    m = net()
    train(m, sgd(m), data(), steps=11, zero_grad=False, status=False)
    assert capsys.readouterr().err == ""


# -- (f) TensorBoard ---------------------------------------------------------------------------------------------
def test_tensorboard_event_files(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    m = net()
    train(m, sgd(m), data(), steps=21, tensorboard=tmp_path / "tb")
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    events = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert [e.step for e in events.Scalars("watch/loss")] == [0, 10, 20]
    assert "update_ratio/0" in events.Tags()["scalars"] and "activation/1" in events.Tags()["histograms"]


# -- (g) a model with nothing to probe ---------------------------------------------------------------------------
class Functional(nn.Module):
    """A tanh MLP from raw parameters and functional ops: no Linear, no activation module to hook."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.w1, self.b1 = nn.Parameter(torch.randn(12, 32) / 12 ** 0.5), nn.Parameter(torch.zeros(32))
        self.w2, self.b2 = nn.Parameter(torch.randn(32, 3) / 32 ** 0.5), nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.w1 + self.b1) @ self.w2 + self.b2


@pytest.mark.parametrize("bug, finding", [(None, None), ("no zero_grad", "grad-accumulation"),
                                          ("sorted labels", "unshuffled")])
def test_a_model_with_nothing_to_probe(bug: str | None, finding: str | None, tmp_path: Path) -> None:
    x, y = blobs(192)
    if bug == "sorted labels":
        order = y.argsort(stable=True)
        x, y = x[order], y[order]
    m = Functional()
    w = train(m, sgd(m), batches(x, y, 16, shuffle=bug is None), steps=11, zero_grad=bug != "no zero_grad",
              out=tmp_path / "run")
    assert w.probe is None and w.describe()["probed_layers"] == []
    assert ids(w) == ([finding] if finding else [])
    assert RunDir(tmp_path / "run").summary()["status"] == "finished"
    assert write_report(tmp_path / "run").is_file()


# -- (h) optimizer.step(closure) -------------------------------------------------------------------------------
def closure_loop(opt_of: Callable[[nn.Module], torch.optim.Optimizer], stream: Any = None) -> Watcher:
    """11 steps of ``optimizer.step(closure)``: the forward and backward passes run inside the step."""
    m, criterion = net(), nn.CrossEntropyLoss()
    opt = opt_of(m)
    with watch(m, opt, every=5, criterion=criterion, status=False) as w:
        for _, (x, y) in zip(range(11), stream or data()):
            def closure() -> torch.Tensor:
                opt.zero_grad()
                loss = criterion(m(x), y)
                loss.backward()
                return loss
            opt.step(closure)
    return w


def lbfgs() -> Watcher:
    """Full-batch L-BFGS with a line search, as it is meant to be used: the loss falls from 1.1 below 0.001."""
    return closure_loop(lambda m: torch.optim.LBFGS(m.parameters(), lr=1, max_iter=4, line_search_fn="strong_wolfe"),
                        itertools.repeat(blobs(384)))


@pytest.mark.parametrize("run", [lbfgs, lambda: closure_loop(sgd)], ids=["LBFGS", "SGD"])
def test_closure_steps_are_seen(run: Callable[[], Watcher]) -> None:
    seen = run().observer.seen
    # one loss per step (L-BFGS evaluates the closure several times a step: the first is kept)
    assert seen.step == 11 and [s for s, _ in seen.losses] == list(range(11))
    assert seen.checks == [0, 5, 10] and [r.step for r in seen.records] == [0, 5, 10]
    for record in seen.records:  # armed before the closure ran: activations, gradients and update ratios
        assert all(l.activation is not None for l in record.layers if l.kind == "activation")
        linear = [l for l in record.layers if l.kind == "linear"]
        assert all(l.weight_grad is not None and l.update_ratio is not None for l in linear)


def test_sgd_closure_gives_no_false_finding() -> None:
    assert ids(closure_loop(sgd)) == []


def test_sgd_closure_still_catches_a_tiny_learning_rate() -> None:
    assert ids(closure_loop(lambda m: sgd(m, 1e-6))) == ["update-ratio"]


def test_lbfgs_gives_no_false_finding() -> None:
    assert ids(lbfgs()) == []


# -- (i) the loss by hand, or from the model ---------------------------------------------------------------------
def test_w_loss_without_criterion() -> None:
    x, y = blobs(192)
    order = y.argsort(stable=True)
    m, losses = net(), []
    w = train(m, sgd(m), batches(x[order], y[order], 16, shuffle=False), steps=11, loss_fn=F.cross_entropy,
              losses=losses)
    assert [v for _, v in w.observer.seen.losses] == losses
    assert ids(w) == ["unshuffled"]  # the labels came with w.loss(loss, y)


class OwnLoss(nn.Module):
    """A model that computes its own loss from ``labels=``, as Hugging Face models do."""

    def __init__(self, as_dict: bool) -> None:
        super().__init__()
        self.body, self.as_dict = net(), as_dict

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> Any:
        logits = self.body(x)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return {"logits": logits, "loss": loss} if self.as_dict else SimpleNamespace(logits=logits, loss=loss)


@pytest.mark.parametrize("as_dict", [False, True], ids=["attribute", "dict"])
def test_a_model_that_returns_its_loss(as_dict: bool) -> None:
    x, y = blobs()
    m, losses = OwnLoss(as_dict), []
    opt = sgd(m)
    with watch(m, opt, every=10, status=False) as w:
        for _, (xb, _) in zip(range(11), batches(x, y)):
            opt.zero_grad()
            out = m(xb, labels=torch.zeros_like(y[:32]))  # constant labels: seen only through labels=
            loss = out["loss"] if as_dict else out.loss
            losses.append(float(loss.detach()))
            loss.backward()
            opt.step()
    assert [v for _, v in w.observer.seen.losses] == losses
    assert ids(w) == ["constant-labels"]


# -- correct loops that must give no finding ---------------------------------------------------------------------
def accumulated(micro_batches: int) -> Watcher:
    """Gradients accumulated on purpose over micro-batches, optimizer.step() and zero_grad() after each group."""
    m, criterion = net(), nn.CrossEntropyLoss()
    opt = sgd(m)
    with watch(m, opt, every=10, criterion=criterion, status=False) as w:
        for i, (x, y) in zip(range(21 * micro_batches), data(size=8)):
            (criterion(m(x), y) / micro_batches).backward()
            if (i + 1) % micro_batches == 0:
                opt.step()
                opt.zero_grad()
    return w


def test_deliberate_gradient_accumulation_is_not_grad_accumulation() -> None:
    w = accumulated(4)
    assert w.step == 21 and ids(w) == []


def test_zero_grad_to_zeros_is_zero_grad() -> None:
    m = net()
    opt = sgd(m)
    opt.zero_grad = functools.partial(opt.zero_grad, set_to_none=False)  # .grad kept as zeros, not None
    assert ids(train(m, opt, data(), steps=21)) == []


def test_a_multi_output_regression_has_no_labels() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(384, 8, generator=g)
    y = torch.stack([x[:, 0], 100 + x[:, 1]], 1)  # e.g. (a change, a price): not one-hot, not probabilities
    m = mlp(8, 16, 2)
    assert ids(train(m, sgd(m, 0.01), batches(x, y), steps=11, criterion=nn.MSELoss())) == []


def test_two_optimizers_give_no_false_update_ratio() -> None:
    m, criterion = mlp(12, 32, 32, 32, 3), nn.CrossEntropyLoss()
    head = torch.optim.SGD(m[6].parameters(), lr=0.1)
    body = torch.optim.SGD([p for n, p in m.named_parameters() if not n.startswith("6.")], lr=0.1)
    with watch(m, [head, body], every=10, criterion=criterion, status=False) as w:
        for _, (x, y) in zip(range(21), data()):
            head.zero_grad()
            body.zero_grad()
            criterion(m(x), y).backward()
            head.step()
            body.step()
    assert ids(w) == []


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_a_per_batch_decay_over_the_run_is_not_an_epoch_schedule(kind: str) -> None:
    m = net()
    opt = sgd(m)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=120) if kind == "cosine"
             else torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / 120))
    assert ids(train(m, opt, data(), steps=120, scheduler=sched, scheduler_every=1)) == []


def test_reduce_on_plateau_that_never_reduces_is_fine() -> None:
    m, criterion = net(), nn.CrossEntropyLoss()
    opt = sgd(m)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=3)
    losses: list[float] = []
    with watch(m, opt, every=10, criterion=criterion, scheduler=sched, status=False) as w:
        for step, (x, y) in zip(range(120), data()):
            opt.zero_grad()
            loss = criterion(m(x), y)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if (step + 1) % 12 == 0:  # once per epoch, on the epoch's mean loss
                sched.step(statistics.fmean(losses[-12:]))
    assert statistics.fmean(losses[-12:]) < 0.8 * statistics.fmean(losses[:12])
    assert ids(w) == []


@pytest.mark.parametrize("under", [False, True], ids=["out= a file", "out= under a file"])
def test_out_blocked_by_a_plain_file(under: bool, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    out = tmp_path / "notes.txt" / "run" if under else tmp_path / "notes.txt"
    m = net()
    with pytest.raises(UserError, match="is a file|lies under the file"):
        train(m, sgd(m), data(), steps=1, out=out)
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


# -- (j) the package root ---------------------------------------------------------------------------------------
def test_trainlab_watch_is_the_watcher() -> None:
    m = net()
    opt = sgd(m)
    w = trainlab.watch(m, opt, every=5, status=False)
    assert isinstance(w, Watcher) and w.every == 5
    assert hooks_left(m, opt, SimpleNamespace()) == []  # nothing is installed before `with`
    with w:
        assert m._forward_pre_hooks
    assert hooks_left(m, opt, SimpleNamespace()) == [] and w.findings == []

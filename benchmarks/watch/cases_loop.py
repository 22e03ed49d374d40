"""Bugs in the loop's mechanics: zero_grad, the optimizer's parameters, requires_grad, train/eval, schedules.

Each loop is the plain MNIST loop of :mod:`cases_healthy` with one line wrong (marked ``# BUG``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from common import BATCH, EVERY, STEPS, SmallCNN, accuracy, batches, case, epochs, images, mlp, train
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import trainlab
from trainlab.watcher import Watcher


def _loader(n: int = 4096, batch: int = BATCH) -> DataLoader:
    x, y = images("mnist", n)
    return DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True, generator=torch.Generator().manual_seed(0))


# -- grad-accumulation ---------------------------------------------------------------------------
@case("missing-zero-grad", expected="grad-accumulation",
      provenance="TrainCheck stackoverflow-60335387 (https://stackoverflow.com/questions/60335387): "
                 "optimizer.zero_grad() missing in an MNIST loop")
def missing_zero_grad() -> Watcher:
    """MLP, SGD with momentum; the loop never calls optimizer.zero_grad(), so .grad sums every step so far."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            loss = criterion(model(xb), yb)  # BUG: no optimizer.zero_grad() before backward
            loss.backward()
            opt.step()
    return w


@case("zero-grad-once-per-epoch", expected="grad-accumulation",
      provenance="TrainCheck stackoverflow-60335387 (https://stackoverflow.com/questions/60335387), "
                 "variant re-created here: zero_grad() at the top of the epoch loop instead of the batch loop")
def zero_grad_once_per_epoch() -> Watcher:
    """MLP, SGD with momentum, a shuffled DataLoader of 64 batches an epoch; zero_grad() runs once an epoch."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    loader = _loader()
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        step = 0
        while step < STEPS:
            opt.zero_grad()  # BUG: belongs inside the batch loop
            for xb, yb in loader:
                if step == STEPS:
                    break
                criterion(model(xb), yb).backward()
                opt.step()
                step += 1
    return w


# -- not-in-optimizer --------------------------------------------------------------------------------
@case("head-replaced-after-optimizer", expected="not-in-optimizer",
      provenance="TrainCheck AC-2665 (https://github.com/huggingface/accelerate/issues/2665): the optimizer "
                 "kept the original parameters while the model trained new ones; re-created with a new head")
def head_replaced_after_optimizer() -> Watcher:
    """CNN; the optimizer is built, then the head is replaced "for 10 classes": the new head is in no group."""
    model = SmallCNN(classes=100)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.head = nn.Linear(model.head.in_features, 10)  # BUG: after the optimizer was built from the old head
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    return train(model, opt, criterion, x, y)


@case("optimizer-on-frozen-head", expected="not-in-optimizer",
      provenance="TrainCheck pytorch-forum-84911 (https://discuss.pytorch.org/t/obtaining-abnormal-changes-in-"
                 "loss-and-accuracy/84911): all but BN frozen, Adam built on the (frozen) head only")
def optimizer_on_frozen_head() -> Watcher:
    """CNN fine-tuned as in the forum post: every parameter but batch norm's frozen, Adam on the head alone."""
    model = SmallCNN()
    for name, p in model.named_parameters():
        if not name.startswith("features.1.") and not name.startswith("features.5."):  # the two BatchNorm2d
            p.requires_grad = False
    opt = torch.optim.Adam(model.head.parameters(), lr=1e-3)  # BUG: the head is frozen; BN is not in it
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    return train(model, opt, criterion, x, y)


# -- never-updated -------------------------------------------------------------------------------------
class DetachedFeatures(nn.Module):
    """An MLP that keeps its features for logging, and (the bug) feeds the detached copy to the head."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)
        self.last_features: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last_features = self.body(x).detach()
        return self.head(self.last_features)  # BUG: the head sees the detached features; body gets no gradient


@case("detach-in-forward", expected="never-updated",
      provenance="DeepDiagnosis (ICSE 2022) 'unchanged weight' symptom; DeepLocalize (c) dW unchanged; "
                 "bug (.detach() cutting the graph) re-created here")
def detach_in_forward() -> Watcher:
    """MLP whose forward passes detached features to the head: the body's weights never change."""
    model = DetachedFeatures()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            w.loss(loss, yb)
            loss.backward()
            opt.step()
    return w


@case("zero-grad-before-step", expected="never-updated",
      provenance="TrainCheck invariants (docs/5-min-tutorial.md: zero_grad/step order; AC-2665: step() changed "
                 "no params); bug re-created here")
def zero_grad_before_step() -> Watcher:
    """MLP; zero_grad() is called between backward() and step(), so step() finds no gradients."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.zero_grad()  # BUG: clears the gradients backward() just computed
            opt.step()
    return w


# -- frozen-by-mistake ---------------------------------------------------------------------------------
@case("frozen-wrong-index", expected="frozen-by-mistake",
      provenance="TrainCheck (OSDI 2025) 'requires_grad left off'; mmpretrain-702 (https://github.com/open-mmlab/"
                 "mmpretrain/issues/702) freezing by stage index; re-created here")
def frozen_wrong_index() -> Watcher:
    """CNN; meant to freeze the stem conv features[0], the index written is 4: the second conv, mid-network."""
    model = SmallCNN()
    for p in model.features[4].parameters():  # BUG: features[0] is the stem; features[4] is the second conv
        p.requires_grad = False
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    return train(model, opt, criterion, x, y)


# -- train / eval mode -----------------------------------------------------------------------------------
@case("eval-before-training", expected="eval-mode-training",
      provenance="TrainCheck (OSDI 2025) 'model left in eval mode'; pytorch-51800 (https://github.com/pytorch/"
                 "pytorch/issues/51800) eval() before training; re-created here")
def eval_before_training() -> Watcher:
    """CNN with dropout and BN; a validation pass before training calls model.eval(), nobody calls train()."""
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    xv, yv = images("mnist", 1000, split="val")
    model.eval()
    accuracy(model, xv, yv)  # the accuracy before training, for the log
    # BUG: no model.train() here
    return train(model, opt, criterion, x, y)


@case("validate-in-train-mode", expected="train-mode-eval",
      provenance="TrainCheck transformers-33844 (https://github.com/huggingface/transformers/pull/33844) dropout "
                 "active at evaluation; TheDeepChecker train/eval mode post-check; re-created here")
def validate_in_train_mode() -> Watcher:
    """CNN with dropout and BN; validation every 25 steps under no_grad() but without model.eval()."""
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    xv, yv = images("mnist", 1000, split="val")
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        for step, (xb, yb) in enumerate(batches(x, y), 1):
            opt.zero_grad()
            criterion(model(xb), yb).backward()
            opt.step()
            if step % 25 == 0:
                accuracy(model, xv, yv)  # BUG: still in training mode (no model.eval() / model.train())
    return w


# -- lr-schedule ---------------------------------------------------------------------------------------------
@case("steplr-per-batch", expected="lr-schedule",
      provenance="PyTorch docs (torch.optim.lr_scheduler: epoch schedules step once per epoch); catalogue "
                 "lr-schedule; an ImageNet recipe's StepLR(30, 0.1) stepped per batch, re-created here")
def steplr_per_batch() -> Watcher:
    """MLP, SGD, StepLR(step_size=30, gamma=0.1) meant in epochs, stepped after every batch."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, scheduler=sched, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            w.loss(loss, yb)
            loss.backward()
            opt.step()
            sched.step()  # BUG: per batch; the 30 is in epochs
    return w


@case("scheduler-never-stepped", expected="lr-schedule",
      provenance="PyTorch docs (torch.optim.lr_scheduler); catalogue lr-schedule; scheduler.step() "
                 "forgotten, re-created here")
def scheduler_never_stepped() -> Watcher:
    """MLP, SGD, StepLR(step_size=1, gamma=0.5) per epoch of 64 batches; scheduler.step() is never called."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, scheduler=sched, every=EVERY, status=False) as w:
        for _epoch, (xb, yb) in epochs(_loader()):
            opt.zero_grad()
            criterion(model(xb), yb).backward()
            opt.step()
        # BUG: no sched.step() at the end of each epoch
    return w


@case("scheduler-on-old-optimizer", expected="lr-schedule",
      provenance="catalogue lr-schedule ('build it on the optimizer that trains'); TrainCheck AC-2665 family "
                 "(an object holding a stale optimizer); re-created here")
def scheduler_on_old_optimizer() -> Watcher:
    """MLP; the scheduler is built, then the optimizer is re-created with momentum: the schedule drives nothing."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)  # BUG: sched still holds the first one
    criterion = nn.CrossEntropyLoss()
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, scheduler=sched, every=EVERY, status=False) as w:
        last = 0
        for epoch, (xb, yb) in epochs(_loader()):
            if epoch != last:
                sched.step()
                last = epoch
            opt.zero_grad()
            criterion(model(xb), yb).backward()
            opt.step()
    return w

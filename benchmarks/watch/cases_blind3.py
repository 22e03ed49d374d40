"""Third blind held-out set: 23 buggy loops (one real bug each) and 8 correct loops.

Written on 2026-12-02 from the catalogue of ids (``trainlab.watcher.findings``), ``common.py``, the
format of ``cases_blind2.py`` and public bug reports / papers only, without reading how the watcher
decides (its rules, its observers, the probe, the benchmark's documentation or the other case files)
and without running it on these loops for findings. Each case's ``expected`` id and provenance were
written down before the loop was first run. The ground truth was then checked (2026-12-03) with plain torch
outside the watcher, by a throwaway recorder put in place of ``watch`` that keeps only plain torch numbers (loss
per step, train/eval mode and grad mode of each forward, whether the gradients were zeroed before it,
the first layer's input std, labels per batch, dead ReLU and saturated tanh/sigmoid unit fractions,
per-layer gradient norms and |dW|/|W| per step, each group's learning rate, parameters that got a
gradient outside every optimizer, parameters that never changed). Three loops failed that check; they
were changed or dropped before the watcher was first run on them, never relabelled:

- ``b3-diverge-softmax-regression-lr`` first used lr 1.0: its loss spiked to 23, was back below its start
  by step 30 and then swung between 0.1 and 3 (an oscillation, not a divergence). At lr 10 it peaks at 215
  and ends 4.6x above its start (11.1 over the last 10 steps against 2.38; softmax regression's
  gradients are bounded, so it never reaches inf).
- ``b3-dead-relu-sgd-lr-no-bn`` first used lr 0.5: the loss reached NaN by step ~50 (a divergence, not a
  dead-unit bug). At lr 0.2 59% of the first hidden layer's units are dead at the end of the run and the
  loss stays finite.
- ``b3-oscillate-rmsprop-default-lr`` (torch's RMSprop default lr 0.01 on a tanh MLP) was dropped: its
  loss spiked once (to 32) and then sat at ~3.3 with 98-100% of the tanh units saturated; ReLU, [0, 1]
  pixels and logistic-regression variants all trained after one spike. The premise did not hold.
Besides, ``b3-gradacc-zero-grad-wrong-optimizer``'s docstring named the body's lr as 3e-4; the loop uses 1e-4.

Where a loop shows a second symptom beside its labelled bug, its docstring says so: the tiny-batch loop
saturates 92-95% of its tanh units as its loss swings, and the high-lr loops' losses spike in their first
steps.

The brief asked for 20 buggy loops spread over 19 ids with five of them twice; that is 24 loops; one
was dropped (above), so this set has 23. The bugs are written in the forms users write them, not the
textbook ones: a ``zero_grad()`` on the wrong optimizer or on the EMA copy, a classifier replaced after the optimizer
was built, layers kept in a Python list, ``.data`` inside a forward, a substring match or a 1-based
index freezing the wrong layers, ``model.train`` without its parentheses, ``eval()`` called on the
backbone only, an optimizer rebuilt after its scheduler, a label taken from the wrong CSV column, and
so on. Every loop runs ``STEPS`` optimizer steps on at most 8192 MNIST / Fashion-MNIST images.
"""
from __future__ import annotations

import copy

import torch
from common import EVERY, STEPS, BasicBlock, SmallCNN, batches, case, epochs, images, mlp
from torch import nn

from trainlab.watcher import Watcher, watch


# -- small models the loops share --------------------------------------------------------------
class ConvNet(nn.Module):
    """Two conv blocks (conv-BN-ReLU-pool), a hidden Linear layer, a head: in nn.Sequential form."""

    def __init__(self, c1: int = 16, c2: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Sequential(nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2)),
            nn.Sequential(nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU()),
            nn.Linear(hidden, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MiniResNet(nn.Module):
    """torchvision resnet naming at MNIST size: stem ``conv1``/``bn1``, ``layer1`` (two blocks), ``fc``."""

    def __init__(self, c: int = 16) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, c, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.layer1 = nn.Sequential(BasicBlock(c), BasicBlock(c))
        self.fc = nn.Linear(c, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        return self.fc(self.layer1(x).mean((2, 3)))


def _rows(x: torch.Tensor) -> torch.Tensor:
    """[N, 1, 28, 28] images as [N, 28, 28] sequences: 28 time steps (rows) of 28 features."""
    return x.reshape(len(x), 28, 28)


# == grad-accumulation =============================================================================
@case("b3-gradacc-zero-grad-wrong-optimizer", expected="grad-accumulation",
      provenance="TrainCheck (OSDI 2025) missing-zero_grad bug class; PyTorch forums threads on two optimizers "
                 "for one model (body and head at different learning rates) where only one of them is zeroed; "
                 "re-created as a copy-paste typo that zeroes the head's optimizer twice and the body's never")
def gradacc_zero_grad_wrong_optimizer() -> Watcher:
    """A 784-256-128 ReLU body and a 128-10 head in one nn.Sequential, one Adam per part (body lr 1e-4,
    head lr 1e-3). The loop calls ``opt_head.zero_grad()`` twice (a copy-paste of the line meant for
    ``opt_body``), so the body's gradients are summed over every step since the start.
    """
    x, y = images("mnist")
    body = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
    head = nn.Linear(128, 10)
    model = nn.Sequential(body, head)
    opt_body = torch.optim.Adam(body.parameters(), lr=1e-4)
    opt_head = torch.optim.Adam(head.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, [opt_body, opt_head], criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            opt_head.zero_grad()
            opt_head.zero_grad()  # the bug: meant opt_body.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt_body.step()
            opt_head.step()
    return w


@case("b3-gradacc-zero-grad-on-ema-copy", expected="grad-accumulation",
      provenance="TrainCheck (OSDI 2025) missing-zero_grad; timm/Mean-Teacher style EMA training loops where the "
                 "EMA copy (a deepcopy of the model) sits next to the model and ``ema.zero_grad()`` is written "
                 "for ``model.zero_grad()``; re-created on the MNIST BN CNN with AdamW")
def gradacc_zero_grad_on_ema_copy() -> Watcher:
    """SmallCNN with an exponential-moving-average copy (``copy.deepcopy``, decay 0.99) updated after
    every step; AdamW at lr 1e-3. The loop zeroes the gradients of ``ema`` instead of ``model``: the EMA
    copy never has gradients, and the model's gradients pile up from step to step.
    """
    x, y = images("mnist")
    model = SmallCNN(channels=(8, 16))
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            ema.zero_grad()  # the bug: the wrong module
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(0.99).add_(pm, alpha=0.01)
    return w


# == not-in-optimizer ==============================================================================
@case("b3-notinopt-head-replaced-after-optimizer", expected="not-in-optimizer",
      provenance="TrainCheck (OSDI 2025) parameters left out of the optimizer; PyTorch forums 'fine-tuning: new "
                 "classifier does not learn' (model.fc replaced after the optimizer was built from "
                 "model.parameters()); re-created as an MNIST-trained CNN reused on Fashion-MNIST whose head is "
                 "re-created after the optimizer")
def notinopt_head_replaced_after_optimizer() -> Watcher:
    """SmallCNN and an SGD (lr 0.01, momentum 0.9) over its parameters; then, for the new task
    (Fashion-MNIST), the user re-creates the classifier ``model.head = nn.Linear(...)``. The new head's
    weight and bias get gradients every step but are in no optimizer group, so they stay at their
    random init while the features train around them.
    """
    x, y = images("fashion-mnist")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.head = nn.Linear(32 * 7 * 7, 10)  # the bug: a new module after the optimizer was built
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


class ListMLP(nn.Module):
    """An MLP whose hidden layers are kept in a plain Python list (not nn.ModuleList)."""

    def __init__(self, width: int = 256, depth: int = 2) -> None:
        super().__init__()
        self.inp = nn.Linear(784, width)
        self.hidden = [nn.Linear(width, width) for _ in range(depth)]  # the bug: invisible to .parameters()
        self.out = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(x.flatten(1)))
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.out(h)


@case("b3-notinopt-python-list-layers", expected="not-in-optimizer",
      provenance="PyTorch forums / StackOverflow 'layers in a Python list are not registered (use nn.ModuleList)', "
                 "a common cause of 'some layers never train'; TrainCheck (OSDI 2025) parameters left out of the "
                 "optimizer; re-created as an MNIST MLP with its two hidden layers in a list")
def notinopt_python_list_layers() -> Watcher:
    """A 784-256-256-256-10 ReLU MLP whose two middle Linear layers live in a Python list, so
    ``model.parameters()`` (and the Adam built from it, lr 1e-3) does not contain them; they take part in
    every forward pass and get gradients, but nothing ever steps them.
    """
    x, y = images("mnist")
    model = ListMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == never-updated =================================================================================
class CosineHead(nn.Module):
    """A cosine classifier: ``scale * normalize(f) @ normalize(W).T``, W normalized through ``.data``."""

    def __init__(self, features: int, classes: int, scale: float = 16.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, features) * 0.05)
        self.scale = scale

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        w = self.weight.data / self.weight.data.norm(dim=1, keepdim=True)  # the bug: .data cuts the graph
        return self.scale * nn.functional.normalize(f, dim=1) @ w.t()


@case("b3-never-updated-cosine-head-data", expected="never-updated",
      provenance="DeepDiagnosis (ICSE 2022) 'unchanged weight'; PyTorch forums threads on ``.data`` in forward "
                 "silently detaching a parameter (weight-normalization / cosine-classifier code ported from old "
                 "tutorials); re-created as an MNIST MLP with a cosine classifier head that normalizes its "
                 "weight through ``.data``")
def never_updated_cosine_head_data() -> Watcher:
    """A 784-256-128 ReLU body and a cosine-classifier head (scale 16) whose weight is normalized as
    ``self.weight.data / self.weight.data.norm(...)``; Adam at lr 1e-3 over all parameters. The head's
    weight is in the optimizer but gets no gradient, so it never changes (Adam skips it); the body
    learns against the fixed random class directions.
    """
    x, y = images("mnist")
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), CosineHead(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == frozen-by-mistake =============================================================================
@case("b3-frozen-substring-conv1", expected="frozen-by-mistake",
      provenance="TrainCheck (OSDI 2025) requires_grad bugs; PyTorch forums threads on freezing layers by name "
                 "with ``if 'conv1' in name`` in torchvision ResNets, where every block also has a ``conv1``; "
                 "re-created as a small ResNet whose stem should stay frozen")
def frozen_substring_conv1() -> Watcher:
    """MiniResNet (stem ``conv1``/``bn1``, two basic blocks with ``conv1``/``bn1``/``conv2``/``bn2``, ``fc``).
    The user wants to keep the stem frozen and writes ``if "conv1" in name or "bn1" in name``; that also
    freezes ``layer1.0.conv1``/``bn1`` and ``layer1.1.conv1``/``bn1``, in the middle of the blocks'
    trainable ``conv2``/``bn2``. SGD lr 0.05, momentum 0.9 over the parameters that still need grad.
    """
    x, y = images("mnist")
    model = MiniResNet(16)
    for name, p in model.named_parameters():
        if "conv1" in name or "bn1" in name:  # the bug: matches the blocks' conv1/bn1 too
            p.requires_grad_(False)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


@case("b3-frozen-one-based-index", expected="frozen-by-mistake",
      provenance="TrainCheck (OSDI 2025) requires_grad left off; PyTorch forums 'freeze the first N layers' "
                 "threads indexing model.children() / nn.Sequential; re-created as an off-by-one (1-based) "
                 "index that freezes the second conv block instead of the first")
def frozen_one_based_index() -> Watcher:
    """ConvNet as nn.Sequential [block 0, block 1, hidden Linear, head]. The user means to freeze the
    first conv block and writes ``model.net[1]`` (counting from 1): the second conv block is frozen between
    the first block and the Linear layers, which all train. Adam lr 1e-3 over the trainable parameters.
    """
    x, y = images("fashion-mnist")
    model = ConvNet()
    for p in model.net[1].parameters():  # the bug: the first block is model.net[0]
        p.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == eval-mode-training ============================================================================
@case("b3-evalmode-validate-helper-no-train", expected="eval-mode-training",
      provenance="TrainCheck (OSDI 2025) model left in eval mode; PyTorch forums 'accuracy drops after the first "
                 "validation' where a validate() helper calls model.eval() and nothing calls model.train() "
                 "afterwards; re-created on the MNIST BN + dropout CNN validated every 10 steps")
def evalmode_validate_helper_no_train() -> Watcher:
    """SmallCNN (BN, dropout 0.25), SGD lr 0.01 momentum 0.9, ``model.train()`` once before the loop; a
    ``validate()`` helper, called after steps 9, 19, ..., sets ``model.eval()`` and never sets it back,
    so steps 10-99 train with batch norm on running statistics and dropout off.
    """
    x, y = images("mnist")
    xv, yv = images("mnist", 512, split="val")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()

    def validate() -> float:
        model.eval()
        with torch.no_grad():
            return float((model(xv).argmax(1) == yv).float().mean())
        # the bug: no model.train() on the way out

    accs = []
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for step, (xb, yb) in enumerate(batches(x, y)):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if (step + 1) % 10 == 0:
                accs.append(validate())
    return w


@case("b3-evalmode-train-without-parens", expected="eval-mode-training",
      provenance="TrainCheck (OSDI 2025) model left in eval mode; StackOverflow / PyTorch forums reports of "
                 "``model.train`` written without parentheses (an attribute access, no call) after a baseline "
                 "validation; re-created as an MNIST MLP with BatchNorm1d and dropout validated before training")
def evalmode_train_without_parens() -> Watcher:
    """A 784-256-10 MLP with BatchNorm1d and dropout 0.3, Adam lr 1e-3 over a shuffled DataLoader. The user
    validates once before training to log a baseline (``model.eval()``), then at the start of every epoch
    writes ``model.train`` without the call, so all 100 steps run in eval mode.
    """
    x, y = images("mnist")
    xv, yv = images("mnist", 512, split="val")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()

    def validate() -> float:
        model.eval()
        with torch.no_grad():
            return float((model(xv).argmax(1) == yv).float().mean())

    accs = [validate()]
    current = -1
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for epoch, (xb, yb) in epochs(loader):
            if epoch != current:
                current = epoch
                model.train  # the bug: no call  # noqa: B018
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    accs.append(validate())
    return w


# == train-mode-eval ===============================================================================
@case("b3-train-mode-eval-backbone-only", expected="train-mode-eval",
      provenance="TrainCheck (OSDI 2025); PyTorch forums 'eval() on a submodule only' / 'validation loss noisy "
                 "because the classifier's dropout and BN are still in train mode'; re-created as an "
                 "encoder + classifier model whose validation helper puts only the encoder in eval mode")
def train_mode_eval_backbone_only() -> Watcher:
    """An encoder (784-256 ReLU) and a classifier (Linear 256-128, BatchNorm1d, ReLU, dropout 0.5, Linear
    128-10) in one nn.Sequential, SGD lr 0.05 momentum 0.9. Every 10 steps validation runs under
    ``torch.no_grad()`` after ``encoder.eval()`` only (the user thought eval() mattered only for the part
    they called the backbone): the classifier's batch norm and dropout run in training mode, and batch
    norm's running statistics are overwritten with the validation batch's.
    """
    x, y = images("mnist")
    xv, yv = images("mnist", 1024, split="val")
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU())
    classifier = nn.Sequential(nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.5),
                               nn.Linear(128, 10))
    model = nn.Sequential(encoder, classifier)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accs = []
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for step, (xb, yb) in enumerate(batches(x, y)):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if (step + 1) % 10 == 0:
                encoder.eval()  # the bug: classifier (BN + dropout) stays in training mode
                with torch.no_grad():
                    accs.append(float((model(xv).argmax(1) == yv).float().mean()))
                encoder.train()
    return w


# == non-finite ====================================================================================
@case("b3-nonfinite-batch-standardize-zero-std", expected="non-finite",
      provenance="AUTOTRAINER (ICSE 2021) / DeepDiagnosis (ICSE 2022) NaN; StackOverflow 'loss is nan after "
                 "normalizing the inputs' (per-feature standardization dividing by a std of 0 for constant "
                 "features); re-created as per-batch, per-pixel standardization of MNIST, whose border pixels "
                 "are 0 in every image")
def nonfinite_batch_standardize_zero_std() -> Watcher:
    """A 784-256-10 ReLU MLP, SGD lr 0.05 momentum 0.9 on MNIST pixels in [0, 1]; the loop standardizes each
    batch per pixel, ``(xb - xb.mean(0)) / xb.std(0)``, without an epsilon. The border pixels are 0 in
    every image, so their std is 0 and the input holds 0/0 = NaN from the first step on.
    """
    x, y = images("mnist", standardize=False)
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            xb = (xb - xb.mean(0)) / xb.std(0)  # the bug: std 0 for constant pixels
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == diverging =====================================================================================
@case("b3-diverge-softmax-regression-lr", expected="diverging",
      provenance="AUTOTRAINER (ICSE 2021) 'explode' / CS231n 'loss exploding: learning rate too high'; "
                 "scikit-learn-style multinomial logistic regression ported to torch (nn.Linear + "
                 "CrossEntropyLoss) with SGD at lr 10 and Nesterov momentum 0.9 on unstandardized pixels")
def diverge_softmax_regression_lr() -> Watcher:
    """Multinomial logistic regression (one 784-10 Linear layer) on MNIST pixels in [0, 1], SGD lr 10 with
    Nesterov momentum 0.9. Bug: the learning rate; each step overshoots, the logits grow, and the loss
    climbs well above its start while the gradients stay bounded (|(p - y) x| <= |x|).
    """
    x, y = images("mnist", standardize=False)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=10.0, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == loss-flat =====================================================================================
@case("b3-flat-labels-from-other-split", expected="loss-flat",
      provenance="StackOverflow 'CNN loss stuck at 2.30 / accuracy 10%' threads where the images of one split "
                 "were paired with the labels of another (x_train with y_test); TheDeepChecker (TOSEM) data / "
                 "label checks; re-created as MNIST training images with the validation split's labels")
def flat_labels_from_other_split() -> Watcher:
    """SmallCNN, SGD lr 0.01 momentum 0.9 on 8192 MNIST training images whose labels are taken, by a typo,
    from the validation split (``y_val[:n]``): no label belongs to its image, so there is nothing to learn
    and the loss stays at ~ln(10). 8192 images: the 100 steps see each image at most once.
    """
    x, _ = images("mnist", 8192)
    _, y_val = images("mnist", 8192, split="val")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y_val):  # the bug: the other split's labels
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == loss-oscillating ==============================================================================
@case("b3-oscillate-tiny-batch-high-lr", expected="loss-oscillating",
      provenance="AUTOTRAINER (ICSE 2021) 'oscillating loss' (advice: lower the lr or raise the batch size); "
                 "StackOverflow 'loss fluctuates a lot with batch_size=4'; re-created as batch size 4 with the "
                 "lr and momentum tuned for batch 128 on an MNIST LeNet-style CNN with tanh")
def oscillate_tiny_batch_high_lr() -> Watcher:
    """A conv-tanh-pool x2, Linear 320-64-tanh-10 CNN (LeNet with tanh, no BN), SGD lr 0.1 momentum 0.9
    (a recipe for batch 128) with batch size 4 ("to fit memory"). Bug: the step size for so noisy a
    gradient; the loss jumps between ~0 and several nats from step to step and does not settle (checked: 0.4
    to 12 nats in the last third of the run, with 92-95% of the tanh units saturated by then).
    """
    x, y = images("fashion-mnist")
    model = nn.Sequential(nn.Conv2d(1, 10, 5), nn.Tanh(), nn.MaxPool2d(2), nn.Conv2d(10, 20, 5), nn.Tanh(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(320, 64), nn.Tanh(), nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y, batch=4):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == vanishing-gradient ============================================================================
@case("b3-vanish-deep-sigmoid-cnn", expected="vanishing-gradient",
      provenance="Glorot & Bengio (2010); AUTOTRAINER / DeepDiagnosis 'vanishing gradient'; d2l.ai's LeNet "
                 "with nn.Sigmoid made deeper (StackOverflow 'deeper sigmoid CNN does not learn'); re-created "
                 "as a 6-conv sigmoid CNN on MNIST with PyTorch's default init and SGD")
def vanish_deep_sigmoid_cnn() -> Watcher:
    """Six 3x3 conv layers (16 channels) each followed by ``nn.Sigmoid`` (pooling after the 2nd and 4th),
    then a Linear head; default init, SGD lr 0.1 momentum 0.9 on standardized MNIST. Bug: the depth of
    sigmoids without normalization; each sigmoid scales the backpropagated gradient by <= 0.25.
    """
    x, y = images("mnist")
    layers: list[nn.Module] = []
    c_in = 1
    for i in range(6):
        layers += [nn.Conv2d(c_in, 16, 3, padding=1), nn.Sigmoid()]
        if i in (1, 3):
            layers.append(nn.MaxPool2d(2))
        c_in = 16
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == exploding-gradient ============================================================================
class ResMLP(nn.Module):
    """A residual MLP with no normalization: ``h = h + W2 relu(W1 h)`` per block, He-initialized."""

    def __init__(self, width: int = 128, blocks: int = 16) -> None:
        super().__init__()
        self.inp = nn.Linear(784, width)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
                                    for _ in range(blocks))
        self.out = nn.Linear(width, 10)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x.flatten(1))
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


@case("b3-explode-resmlp-no-norm", expected="exploding-gradient",
      provenance="Zhang, Dauphin & Ma (ICLR 2019) 'Fixup initialization' (without normalization a residual "
                 "net's output variance grows exponentially with depth under He init); AUTOTRAINER / "
                 "DeepDiagnosis 'exploding gradient'; re-created as a 16-block residual MLP with the batch "
                 "norm removed ('BN hurts at small batch'), Adam at lr 1e-4")
def explode_resmlp_no_norm() -> Watcher:
    """A residual MLP (784-128 input layer, 16 blocks of Linear-ReLU-Linear added to the stream, a 128-10
    head), Kaiming-normal init, no normalization, Adam at lr 1e-4. Bug: each block roughly doubles the
    stream's variance, so the logits and every gradient (largest at the first layers) are enormous;
    Adam's normalized step keeps the run finite.
    """
    x, y = images("mnist")
    model = ResMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == dead-relu =====================================================================================
@case("b3-dead-relu-sgd-lr-no-bn", expected="dead-relu",
      provenance="CS231n ('with a learning rate set too high ... as much as 40% of your network can be dead'); "
                 "AUTOTRAINER (ICSE 2021) / DeepDiagnosis 'dying ReLU'; re-created as the CIFAR ResNet recipe "
                 "(SGD lr 0.1 momentum 0.9) doubled 'for speed' to lr 0.2 on an MNIST ReLU MLP without "
                 "batch norm")
def dead_relu_sgd_lr_no_bn() -> Watcher:
    """A 784-512-256-10 ReLU MLP on standardized MNIST, SGD lr 0.2 momentum 0.9. Bug: the learning rate;
    the first steps push over half of the first hidden layer's units below zero for every input, where they
    get no gradient again.
    """
    x, y = images("mnist")
    model = mlp((784, 512, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == saturated =====================================================================================
@case("b3-saturated-tanh-uniform-init", expected="saturated",
      provenance="Glorot & Bengio (2010), DeepDiagnosis 'saturated activation'; Lua-Torch / early Keras code "
                 "initializing every weight uniformly in a fixed range (``w.uniform_(-0.5, 0.5)``) whatever the "
                 "fan-in, ported to a PyTorch tanh MLP on MNIST")
def saturated_tanh_uniform_init() -> Watcher:
    """A 784-256-256-10 tanh MLP whose weights are all U(-0.5, 0.5) (std 0.29 whatever the fan-in; the
    default would be ~0.02 for 784 inputs), biases 0, Adam lr 1e-3 on standardized MNIST. Bug: the init;
    the hidden pre-activations have std ~8 (first layer) and ~4 (second), so most tanh units sit at +-1.
    """
    x, y = images("mnist")
    model = mlp((784, 256, 256, 10), act=nn.Tanh)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.weight.data.uniform_(-0.5, 0.5)
            m.bias.data.zero_()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == update-ratio ==================================================================================
@case("b3-ratio-layerwise-decay-typo", expected="update-ratio",
      provenance="CS231n 'babysitting the learning process' (||dW||/||W|| about 1e-3); layer-wise learning-rate "
                 "decay as in BEiT / ELECTRA fine-tuning (lr * decay ** depth, decay 0.65-0.9) written with "
                 "decay 0.1, so the lower layers' learning rates are 1e-2 ... 1e-4 of the head's; re-created on "
                 "a 5-Linear MNIST MLP with AdamW")
def ratio_layerwise_decay_typo() -> Watcher:
    """A 784-256-256-256-256-10 ReLU MLP, AdamW with one parameter group per Linear layer, the i-th layer
    from the top at lr 1e-3 * 0.1**i (meant: 0.9**i): 1e-3 for the head down to 1e-7 for the first layer.
    Bug: the decay factor; the lower layers move by 1e-5 .. 1e-4 of their size per step while the top
    layers (and the loss) move normally.
    """
    x, y = images("mnist")
    model = mlp((784, 256, 256, 256, 256, 10))
    linears = [m for m in model if isinstance(m, nn.Linear)]
    groups = [{"params": layer.parameters(), "lr": 1e-3 * 0.1 ** depth}
              for depth, layer in enumerate(reversed(linears))]  # the bug: decay 0.1 instead of 0.9
    optimizer = torch.optim.AdamW(groups, lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == lr-schedule ===================================================================================
@case("b3-lrsched-optimizer-rebuilt-after-scheduler", expected="lr-schedule",
      provenance="PyTorch docs (torch.optim.lr_scheduler: a scheduler adjusts the optimizer it was built on); "
                 "TrainCheck (OSDI 2025) scheduler bugs; PyTorch forums 'OneCycleLR has no effect' where the "
                 "optimizer was re-created (switched to AdamW) after the scheduler; re-created on the MNIST "
                 "BN CNN")
def lrsched_optimizer_rebuilt_after_scheduler() -> Watcher:
    """SmallCNN; the user builds SGD and ``OneCycleLR(max_lr=0.05, total_steps=100)`` on it, then switches
    to ``AdamW(lr=1e-3)`` by re-assigning ``optimizer`` and leaves the scheduler line alone. The scheduler is
    stepped once per batch as it should be, but it drives the old SGD: the optimizer that trains keeps
    lr 1e-3 for all 100 steps instead of warming up and annealing.
    """
    x, y = images("mnist")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=STEPS)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)  # the bug: the scheduler keeps the old one
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, scheduler=scheduler, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return w


# == unshuffled ====================================================================================
@case("b3-unshuffled-class-folder-order", expected="unshuffled",
      provenance="TheDeepChecker (TOSEM) 'unshuffled data'; PyTorch forums 'model only predicts the last "
                 "class' with ImageFolder (samples listed class folder by class folder) and "
                 "DataLoader(shuffle=False); re-created as MNIST images ordered by label, as a folder-per-class "
                 "export would list them, read by an unshuffled DataLoader")
def unshuffled_class_folder_order() -> Watcher:
    """A dataset built class by class (all 0s, then all 1s, ...: the order of a folder-per-class dataset),
    read by ``DataLoader(batch_size=64, shuffle=False)``; a 784-256-10 ReLU MLP, SGD lr 0.01 momentum 0.9.
    Bug: no shuffling; each class fills ~6 consecutive batches, and the net chases the current class.
    """
    x, y = images("mnist")
    order = torch.cat([torch.nonzero(y == c).flatten() for c in range(10)])  # how the files were listed
    dataset = torch.utils.data.TensorDataset(x[order], y[order])
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=False)  # the bug
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for _epoch, (xb, yb) in epochs(loader):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == constant-labels ===============================================================================
@case("b3-constant-labels-csv-last-column", expected="constant-labels",
      provenance="TheDeepChecker (TOSEM) data checks; Kaggle / StackOverflow 'mnist_train.csv' threads (the label "
                 "is the first column, the 784 pixels follow) where the label was read from the last column by "
                 "the scikit-learn habit of targets-last; re-created as MNIST rows [label, pixels 0-255] whose "
                 "last column (the bottom-right pixel, 0 in every image) is taken as the label")
def constant_labels_csv_last_column() -> Watcher:
    """The training set is held as CSV-like rows ``[label, 784 pixel values 0-255]``; the user splits it as
    ``features, target = rows[:, 1:] / 255, rows[:, -1]``. The last column is the bottom-right pixel, which
    is 0 in every MNIST image, so every batch's labels are all 0. A 784-256-10 ReLU MLP, Adam lr 1e-3.
    """
    x, y = images("mnist", standardize=False)
    rows = torch.cat([y[:, None].float(), (x.flatten(1) * 255).round()], dim=1)  # the CSV as loaded
    features, target = rows[:, 1:] / 255, rows[:, -1].long()  # the bug: the label is rows[:, 0]
    model = mlp((784, 256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(features, target):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == input-scale ===================================================================================
@case("b3-input-scale-divided-by-255-twice", expected="input-scale",
      provenance="LeCun et al. (1998) Efficient BackProp; TheDeepChecker 'input scale'; PyTorch forums threads "
                 "where images already scaled to [0, 1] by transforms.ToTensor() are divided by 255 again; "
                 "re-created as MNIST in [0, 1] divided by 255 before a BN CNN")
def input_scale_divided_by_255_twice() -> Watcher:
    """SmallCNN on MNIST pixels that ToTensor already put in [0, 1], divided by 255 a second time (range
    0-0.0039, std ~0.0012, ~1/800 of unit scale); Adam lr 1e-3. Bug: the inputs' scale at the first layer
    (the batch norm after the first conv hides it from the rest of the net).
    """
    x, y = images("mnist", standardize=False)
    x = x / 255  # the bug: already in [0, 1]
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == correct loops =================================================================================
class PreActBlock(nn.Module):
    """He et al. (2016b) pre-activation block: BN-ReLU-conv-BN-ReLU-conv plus the identity."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(torch.relu(self.bn1(x)))
        return x + self.conv2(torch.relu(self.bn2(out)))


class PreActNet(nn.Module):
    """A conv stem, two pre-activation blocks, BN-ReLU, global average pooling, a Linear head."""

    def __init__(self, c: int = 16) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, c, 3, stride=2, padding=1, bias=False)
        self.blocks = nn.Sequential(PreActBlock(c), PreActBlock(c))
        self.bn = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.bn(self.blocks(self.stem(x)))).mean((2, 3)))


@case("b3-ok-preact-resnet-adamw", expected=None,
      provenance="He et al. (2016) 'Identity mappings in deep residual networks' (pre-activation blocks); "
                 "AdamW lr 2e-3 weight decay 5e-2 as in timm-style recipes")
def ok_preact_resnet_adamw() -> Watcher:
    """A stride-2 stem, two pre-activation residual blocks (BN-ReLU-conv x2 + identity, 16 channels), BN-ReLU,
    global average pooling, Linear head; AdamW lr 2e-3, weight decay 0.05 on standardized MNIST: correct."""
    x, y = images("mnist")
    model = PreActNet(16)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


class RowTransformer(nn.Module):
    """A Transformer encoder classifier over image rows: Linear row embedding + learned positions,
    ``nn.TransformerEncoder`` (pre-LN), mean pooling, a Linear head."""

    def __init__(self, d: int = 64, heads: int = 4, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(28, d)
        self.pos = nn.Parameter(torch.zeros(1, 28, d))
        nn.init.normal_(self.pos, 0.0, 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=2 * d, dropout=0.1, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.embed(_rows(x)) + self.pos)
        return self.head(self.norm(h).mean(1))


@case("b3-ok-row-transformer", expected=None,
      provenance="Vaswani et al. (2017) Transformer encoder as in the PyTorch nn.TransformerEncoderLayer docs "
                 "(batch_first, pre-LN as in Xiong et al. 2020); ViT-style classification over the 28 rows of "
                 "MNIST, AdamW lr 1e-3 with gradient clipping at 1.0")
def ok_row_transformer() -> Watcher:
    """A 2-layer pre-LN Transformer encoder (d_model 64, 4 heads, feed-forward 128, dropout 0.1) over the 28
    rows of each image, mean-pooled, Linear head; AdamW lr 1e-3, weight decay 1e-2, ``clip_grad_norm_``
    1.0 between backward and step, standardized MNIST: a correct loop."""
    x, y = images("mnist")
    model = RowTransformer()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    criterion = nn.CrossEntropyLoss()
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
    return w


class RowGRU(nn.Module):
    """A one-layer GRU (hidden 96) reading the 28 rows of an image, a Linear head on the last state."""

    def __init__(self, hidden: int = 96) -> None:
        super().__init__()
        self.rnn = nn.GRU(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.rnn(_rows(x))
        return self.head(h[-1])


@case("b3-ok-row-gru-adam", expected=None,
      provenance="Sequential (row-by-row) MNIST as in the PyTorch RNN tutorials / Le et al. (2015); a GRU "
                 "(Cho et al. 2014) with Adam lr 2e-3 on Fashion-MNIST")
def ok_row_gru_adam() -> Watcher:
    """A GRU (hidden 96) over the 28 rows of standardized Fashion-MNIST images, Linear head on the final
    hidden state, Adam lr 2e-3: a correct loop."""
    x, y = images("fashion-mnist")
    model = RowGRU()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


@case("b3-ok-dropout-mlp-validated", expected=None,
      provenance="pytorch/examples mnist train()/test() pattern: model.eval() + torch.no_grad() for validation, "
                 "model.train() back before the next training step; an MLP with dropout 0.3, SGD momentum")
def ok_dropout_mlp_validated() -> Watcher:
    """A 784-256-128-10 ReLU MLP with dropout 0.3 after each hidden layer, SGD lr 0.05 momentum 0.9; every
    25 steps the loop validates on 1024 held-out images under ``model.eval()`` and ``torch.no_grad()``, then
    calls ``model.train()`` before the next step: a correct loop."""
    x, y = images("mnist")
    xv, yv = images("mnist", 1024, split="val")
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accs = []
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for step, (xb, yb) in enumerate(batches(x, y)):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if (step + 1) % 25 == 0:
                model.eval()
                with torch.no_grad():
                    accs.append(float((model(xv).argmax(1) == yv).float().mean()))
                model.train()
    return w


@case("b3-ok-adamw-cosine-per-batch", expected=None,
      provenance="PyTorch docs CosineAnnealingLR (T_max counted in scheduler.step() calls: with T_max = the "
                 "number of batches it is stepped once per batch); Loshchilov & Hutter (2017) SGDR / (2019) "
                 "AdamW; the BN CNN on Fashion-MNIST")
def ok_adamw_cosine_per_batch() -> Watcher:
    """SmallCNN on standardized Fashion-MNIST, AdamW lr 3e-3 weight decay 1e-2, ``CosineAnnealingLR(T_max=100)``
    stepped once per batch after ``optimizer.step()`` (T_max is the total number of batches): correct."""
    x, y = images("fashion-mnist")
    model = SmallCNN()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=STEPS)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, scheduler=scheduler, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return w


@case("b3-ok-grad-accumulation-k2-loader", expected=None,
      provenance="Hugging Face Accelerate / PyTorch forums gradient-accumulation recipe (loss / k, step and "
                 "zero_grad every k micro-batches) over a shuffled DataLoader; LeNet-style CNN, SGD momentum")
def ok_grad_accumulation_k2_loader() -> Watcher:
    """A conv-ReLU-pool x2, Linear 320-64-ReLU-10 CNN (no BN), SGD lr 0.02 momentum 0.9; micro-batches of 32
    from a shuffled DataLoader, the loss divided by k = 2, ``backward()`` on each, ``step()`` then
    ``zero_grad()`` after every 2nd (effective batch 64); 200 micro-batches make the 100 optimizer steps.
    Accumulation done correctly."""
    k = 2
    x, y = images("mnist")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    model = nn.Sequential(nn.Conv2d(1, 10, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(10, 20, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(320, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        optimizer.zero_grad()
        for i, (_epoch, (xb, yb)) in enumerate(epochs(loader, steps=STEPS * k)):
            loss = criterion(model(xb), yb) / k
            loss.backward()
            if (i + 1) % k == 0:
                optimizer.step()
                optimizer.zero_grad()
    return w


@case("b3-ok-freeze-first-block", expected=None,
      provenance="PyTorch transfer-learning tutorial ('ConvNet as fixed feature extractor' / partial fine-tuning: "
                 "requires_grad=False on the early layers, optimizer over the rest); here the first conv block "
                 "of the BN CNN is frozen, everything after it trains")
def ok_freeze_first_block() -> Watcher:
    """ConvNet [block 0, block 1, hidden Linear, head] with its first conv block ``model.net[0]`` frozen
    (requires_grad False) and everything after it trained by Adam lr 1e-3 over the parameters that need
    grad, standardized MNIST: partial fine-tuning done correctly (only a prefix is frozen)."""
    x, y = images("mnist")
    model = ConvNet()
    for p in model.net[0].parameters():
        p.requires_grad_(False)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


class SharedBlockNet(nn.Module):
    """An input layer, one residual MLP block (LayerNorm-Linear-ReLU-Linear) applied three times with the
    same weights (ALBERT-style sharing), a Linear head."""

    def __init__(self, width: int = 128, repeats: int = 3) -> None:
        super().__init__()
        self.inp = nn.Linear(784, width)
        self.block = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 2 * width), nn.ReLU(),
                                   nn.Linear(2 * width, width))
        self.repeats = repeats
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x.flatten(1))
        for _ in range(self.repeats):
            h = h + self.block(h)
        return self.head(h)


@case("b3-ok-shared-block-mlp", expected=None,
      provenance="Lan et al. (2020) ALBERT cross-layer parameter sharing (one block's weights used at every "
                 "depth); a pre-LN residual MLP block applied three times, Adam lr 1e-3 on Fashion-MNIST")
def ok_shared_block_mlp() -> Watcher:
    """A 784-128 input layer, one pre-LN residual block (LayerNorm, 128-256-ReLU-128) applied three times with
    shared weights, a 128-10 head; Adam lr 1e-3 on standardized Fashion-MNIST: a correct loop (the
    shared block gets the sum of three gradients, as intended)."""
    x, y = images("fashion-mnist")
    model = SharedBlockNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w

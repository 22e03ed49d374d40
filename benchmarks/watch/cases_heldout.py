"""Held-out loops, written blind to the watcher's rules and to the loops they were tuned on.

Each buggy loop holds exactly one bug, re-created in our own code from a public report (its
``provenance``); the id it must raise (``expected``) was chosen from the catalogue's meaning of the
ids and written down, with the loop, before the loop was ever run. The correct loops are realistic
healthy training runs that must give no finding. All case names start with ``heldout-`` so that
``run.py --only heldout`` selects exactly them.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from common import BATCH, EVERY, STEPS, SmallCNN, accuracy, batches, case, epochs, images, mlp, train
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader, TensorDataset

from trainlab.watcher import Watcher, watch


# -- helpers shared by several loops -----------------------------------------------------------------
def _loader(x: torch.Tensor, y: torch.Tensor, *, shuffle: bool = True, seed: int = 0) -> DataLoader:
    """A plain DataLoader over ``(x, y)`` with a seeded shuffle."""
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=shuffle, generator=gen)


def _waves(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` noisy sine waves ``[n, 1, 128]`` of three frequencies (the label), random phase and amplitude."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=gen)
    freq = torch.tensor([2.0, 5.0, 9.0])[y]
    t = torch.arange(128, dtype=torch.float32) / 128
    phase = torch.rand(n, 1, generator=gen) * 2 * math.pi
    amp = 0.5 + torch.rand(n, 1, generator=gen)
    x = amp * torch.sin(2 * math.pi * freq[:, None] * t + phase) + 0.5 * torch.randn(n, 128, generator=gen)
    return x.unsqueeze(1), y


def _topics(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Token documents ``[n, 20]`` of four topics, their labels, and a "pretrained" embedding table.

    Four tokens in five belong to a topic (``token % 5`` names it, 4 is a shared word); the table puts
    each topic's tokens around the topic's centroid, as pretrained word vectors cluster by meaning.
    """
    gen = torch.Generator().manual_seed(seed)
    vocab, dim, topics = 1000, 32, 4
    owner = torch.arange(vocab) % (topics + 1)  # topics 0..3, and 4: shared words
    table = 0.7 * torch.randn(vocab, dim, generator=gen)
    centroids = torch.randn(topics, dim, generator=gen)
    table[owner < topics] += centroids[owner[owner < topics]]
    words = torch.stack([torch.nonzero(owner == t).flatten() for t in range(topics)])  # [4, 200]
    y = torch.randint(0, topics, (n,), generator=gen)
    own = words[y[:, None], torch.randint(0, words.shape[1], (n, 8), generator=gen)]
    rest = torch.randint(0, vocab, (n, 12), generator=gen)
    return torch.cat([own, rest], 1), y, table


class _DepthwiseSeparable(nn.Module):
    """MobileNet's block: a 3x3 depthwise conv and a 1x1 pointwise conv, each with BN and ReLU6."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin),
            nn.ReLU6(),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def _vgg_block(cin: int, cout: int) -> nn.Sequential:
    """Two 3x3 conv-BN-ReLU, then a 2x2 max-pool (VGG with batch norm)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.MaxPool2d(2),
    )


# -- buggy loops ---------------------------------------------------------------------------------------
@case("heldout-loss-rewrapped-from-item", expected="never-updated",
      provenance="ronghuaiyang/arcface-pytorch#56 (loss.requires_grad = True to silence 'does not require grad': "
                 "the loss never falls); isayev/ReLeaSE#39 (loss built from .item(): every .grad is None)")
def loss_rewrapped_from_item() -> Watcher:
    """The loss is re-made as a new leaf tensor from ``loss.item()``: backward reaches no parameter."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss = torch.tensor(loss.item(), requires_grad=True)  # BUG: a fresh leaf, cut from the graph
            loss.backward()
            optimizer.step()
    return w


@case("heldout-zero-grad-before-step", expected="never-updated",
      provenance="patrickloeber/pytorchTutorial#19 and velog.io/@rhss10 (zero_grad() may go anywhere but "
                 "between backward() and step()); DeepDiagnosis (ICSE 2022): unchanged weight")
def zero_grad_before_step() -> Watcher:
    """``optimizer.zero_grad()`` "tidies up" right after ``backward()``, so ``step()`` sees no gradient."""
    x, y = images("mnist")
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.zero_grad()  # BUG: clears the gradients backward() just computed
            optimizer.step()
    return w


@case("heldout-train-not-restored-after-val", expected="eval-mode-training",
      provenance="udacity/deep-learning-v2-pytorch#3 and wolny/pytorch-3dunet#53 (model.eval() for validation, "
                 "model.train() not called again); TrainCheck (OSDI 2025): model left in eval mode")
def train_not_restored_after_val() -> Watcher:
    """``model.train()`` is called once per epoch, but validation every 20 steps switches to eval mode."""
    x, y = images("mnist")
    xv, yv = images("mnist", 1000, split="val")
    model = SmallCNN(dropout=0.3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    loader = _loader(x, y)  # 64 batches an epoch
    step = 0
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        while step < STEPS:
            model.train()  # once per epoch only
            for xb, yb in loader:
                optimizer.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                optimizer.step()
                step += 1
                if step % 20 == 0:
                    model.eval()
                    accuracy(model, xv, yv)  # BUG: no model.train() after this
                if step == STEPS:
                    break
    return w


@case("heldout-validation-in-train-mode", expected="train-mode-eval",
      provenance="pytorch/tutorials#2083, nshaud/DeepHyperX#51 and eecn/Hyperspectral-Classification#21 "
                 "(validation under torch.no_grad() without model.eval(), with dropout and batch norm)")
def validation_in_train_mode() -> Watcher:
    """Validation every 25 steps runs under ``torch.no_grad()`` but never calls ``model.eval()``."""
    x, y = images("fashion-mnist")
    xv, yv = images("fashion-mnist", 1000, split="val")
    model = SmallCNN(dropout=0.3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for i, (xb, yb) in enumerate(batches(x, y)):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if (i + 1) % 25 == 0:
                with torch.no_grad():  # BUG: no model.eval(): dropout drops, BN overwrites its running stats
                    correct = 0
                    for start in range(0, len(yv), 250):
                        correct += int((model(xv[start:start + 250]).argmax(1) == yv[start:start + 250]).sum())
    return w


@case("heldout-softmax-into-cross-entropy", expected="loss-flat",
      provenance="discuss.pytorch.org/t/cross-entropy-loss-is-not-decreasing/43814 (softmax output fed to "
                 "nn.CrossEntropyLoss, loss stays at 2.30); TheDeepChecker (TOSEM): redundant_softmax")
def softmax_into_cross_entropy() -> Watcher:
    """The model ends in ``nn.Softmax`` and its probabilities go into ``nn.CrossEntropyLoss`` (softmax twice)."""
    x, y = images("mnist")
    model = nn.Sequential(mlp((784, 256, 10)), nn.Softmax(dim=1))  # BUG: CrossEntropyLoss wants logits
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


@case("heldout-weight-decay-one", expected="loss-flat",
      provenance="TheDeepChecker (TOSEM): over_regularization; weight_decay=1.0 where 1e-4..5e-4 is meant "
                 "(the penalty lr*wd*w removes 5% of every weight each step)")
def weight_decay_one() -> Watcher:
    """SGD with ``weight_decay=1.0``: the penalty pulls every weight to zero faster than the data can move it."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1.0)  # BUG: 1.0
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


@case("heldout-labels-shuffled-separately", expected="loss-flat",
      provenance="shuffling X and y with two separate np.random.shuffle calls, which breaks the pairs "
                 "(onenoughtone 'synchronized data permutation'; datarekha 'DataLoader shuffling labels but "
                 "not inputs'); TheDeepChecker (TOSEM): wrong_labels")
def labels_shuffled_separately() -> Watcher:
    """The arrays are shuffled in place one after the other, so every image gets a random label."""
    x, y = images("mnist")
    xs, ys = x.numpy().copy(), y.numpy().copy()
    rng = np.random.default_rng(0)
    rng.shuffle(xs)  # BUG: two independent shuffles
    rng.shuffle(ys)
    x, y = torch.from_numpy(xs), torch.from_numpy(ys)
    model = mlp((784, 256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


@case("heldout-pixels-divided-by-255-twice", expected="input-scale",
      provenance="TheDeepChecker (TOSEM): double_normalization (ToTensor already gives [0, 1], the loop "
                 "divides by 255 again: inputs in [0, 0.004])")
def pixels_divided_by_255_twice() -> Watcher:
    """Images already in [0, 1] (ToTensor's scale) are divided by 255 once more in the loop."""
    x, y = images("mnist", standardize=False)
    model = mlp((784, 256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            xb = xb / 255.0  # BUG: the second division by 255
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


@case("heldout-per-class-folders-concatenated", expected="unshuffled",
      provenance="ImageFolder-style per-class datasets joined with ConcatDataset and loaded with "
                 "shuffle=False, so batches come class by class; TheDeepChecker (TOSEM): unshuffled data")
def per_class_folders_concatenated() -> Watcher:
    """One dataset per class (like one folder per class), concatenated, read by a DataLoader without shuffle."""
    x, y = images("fashion-mnist", 8000)
    per_class = [TensorDataset(x[y == c][:400], y[y == c][:400]) for c in range(10)]
    loader = DataLoader(ConcatDataset(per_class), batch_size=BATCH, shuffle=False)  # BUG: not shuffled
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for _, (xb, yb) in epochs(loader):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


@case("heldout-scheduler-on-replaced-optimizer", expected="lr-schedule",
      provenance="huggingface/transformers#24758 (scheduler kept across a rebuilt training setup); PyTorch "
                 "docs: a scheduler drives the optimizer it was built on; TrainCheck (OSDI 2025)")
def scheduler_on_replaced_optimizer() -> Watcher:
    """OneCycleLR is built on the first optimizer; the optimizer is then rebuilt and the schedule drives nothing."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))

    def make_optimizer() -> torch.optim.Optimizer:
        return torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    optimizer = make_optimizer()
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=STEPS)
    optimizer = make_optimizer()  # BUG: rebuilt (as when resuming); the scheduler still holds the first one
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, scheduler=scheduler, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return w


@case("heldout-head-as-plain-tensors", expected="not-in-optimizer",
      provenance="custom layer weights made with torch.randn(..., requires_grad=True) instead of nn.Parameter: "
                 "not in model.parameters(), never optimized (engineermaxxing 'PyTorch internals'; "
                 "theflyingbirds 'nn.Module, nn.Parameter'); TrainCheck (OSDI 2025)")
def head_as_plain_tensors() -> Watcher:
    """The output layer's weight and bias are plain tensors with requires_grad, not ``nn.Parameter``."""

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU())
            # BUG: plain tensors are not registered, so model.parameters() leaves them out
            self.w_out = (torch.randn(256, 10) / 16.0).requires_grad_()
            self.b_out = torch.zeros(10, requires_grad=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x) @ self.w_out + self.b_out

    x, y = images("mnist")
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


@case("heldout-clip-to-tiny-norm", expected="update-ratio",
      provenance="facebookresearch/detr#198 and wandb/senpai#978 (max_norm far below the gradient norm: every "
                 "step clipped, steps shrunk), taken to max_norm=1e-6; CS231n: update/weight ratio ~1e-3")
def clip_to_tiny_norm() -> Watcher:
    """Gradients are clipped to a total norm of 1e-6 before every SGD step."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e-6)  # BUG: an epsilon, not a norm
            optimizer.step()
    return w


@case("heldout-accumulation-zeroes-late", expected="grad-accumulation",
      provenance="ZiqiaoPeng/DualTalk#9, eriklindernoren/PyTorch-YOLOv3#325, huggingface/accelerate#435 "
                 "(gradient accumulation with zero_grad() and step() on different schedules)")
def accumulation_zeroes_late() -> Watcher:
    """Gradient accumulation over 4 batches, but ``step()`` was left outside the ``if``: it runs every batch."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accumulate = 4
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for i, (xb, yb) in enumerate(batches(x, y)):
            if i % accumulate == 0:
                optimizer.zero_grad()
            loss = criterion(model(xb), yb) / accumulate
            loss.backward()
            optimizer.step()  # BUG: belongs under `if (i + 1) % accumulate == 0`
    return w


@case("heldout-unfreeze-from-the-wrong-end", expected="frozen-by-mistake",
      provenance="ULMFiT (Howard & Ruder, ACL 2018) gradual unfreezing starts from the last layer; here the "
                 "first backbone block is unfrozen instead; TrainCheck (OSDI 2025): requires_grad left off")
def unfreeze_from_the_wrong_end() -> Watcher:
    """Stage one of gradual unfreezing: the backbone is frozen, then its first block (not its last) unfrozen."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()

            def block(cin: int, cout: int) -> nn.Sequential:
                return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                                     nn.ReLU(), nn.MaxPool2d(2))

            # stands in for a pretrained backbone
            self.backbone = nn.Sequential(block(1, 16), block(16, 32), block(32, 64))
            self.head = nn.Linear(64 * 3 * 3, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.backbone(x).flatten(1))

    x, y = images("fashion-mnist")
    model = Net()
    for p in model.backbone.parameters():
        p.requires_grad_(False)
    for p in model.backbone[0].parameters():  # BUG: should be model.backbone[-1], next to the head
        p.requires_grad_(True)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    return train(model, optimizer, criterion, x, y)


@case("heldout-per-pixel-std-zero", expected="non-finite",
      provenance="keras-team/keras#1880 (featurewise std normalization gives NaN on MNIST, whose border pixels "
                 "are always 0); the 'X /= np.std(X, axis=0)' recipe (kdnuggets must-know tips, CS231n)")
def per_pixel_std_zero() -> Watcher:
    """Per-pixel standardization divides by each pixel's std, which is 0 for MNIST's always-black border."""
    x, y = images("mnist", standardize=False)
    mean, std = x.mean(0, keepdim=True), x.std(0, keepdim=True)
    x = (x - mean) / std  # BUG: 0 / 0 = NaN wherever a pixel never changes
    model = mlp((784, 256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


@case("heldout-max-values-as-labels", expected="constant-labels",
      provenance="torch.max(t, 1) returns (values, indices): [0] on one-hot targets gives the values, all 1 "
                 "(the [0]/[1] pitfall explained on geekdaxue.co and nxmr.cn); TheDeepChecker (TOSEM): wrong_labels")
def max_values_as_labels() -> Watcher:
    """One-hot targets are turned into class indices with ``torch.max(...)[0]``: every label becomes 1."""
    x, y = images("mnist")
    y_onehot = nn.functional.one_hot(y, 10).float()  # the dataset stores one-hot targets
    model = mlp((784, 256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, tb in batches(x, y_onehot):
            yb = torch.max(tb, 1)[0].long()  # BUG: [0] is the max value (1.0), [1] would be the class
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


@case("heldout-sum-reduction-mean-lr", expected="diverging",
      provenance="CrossEntropyLoss(reduction='sum') with a learning rate tuned for the mean: the step is "
                 "64x larger (discuss.pytorch.org 'reduction behavior of CrossEntropyLoss'; iopenv/jishuzhan "
                 "notes on sum vs mean and the learning rate); AUTOTRAINER: explode")
def sum_reduction_mean_lr() -> Watcher:
    """The loss sums over the batch of 64 while SGD keeps the learning rate meant for the batch mean."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.CrossEntropyLoss(reduction="sum")  # BUG: sum with a mean-sized learning rate
    return train(model, optimizer, criterion, x, y)


@case("heldout-normal-init-without-std", expected="exploding-gradient",
      provenance="nn.init.normal_(m.weight) with the default std=1 in an init_weights() hook "
                 "(Pavan-Kumar-Z/GEN-AI init_scale demo; rubel.dev 'N(0, 1) grows exponentially with depth'); "
                 "AUTOTRAINER and DeepDiagnosis: exploding gradient")
def normal_init_without_std() -> Watcher:
    """A deep ReLU MLP re-initialized with ``nn.init.normal_(weight)``: std 1 instead of sqrt(2 / fan_in)."""

    def init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight)  # BUG: std defaults to 1.0
            nn.init.zeros_(m.bias)

    x, y = images("mnist")
    model = mlp((784, 256, 256, 256, 256, 10))
    model.apply(init_weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


@case("heldout-sigmoid-in-every-layer", expected="vanishing-gradient",
      provenance="a binary classifier with sigmoid in every hidden layer, not only the output (Glorot & "
                 "Bengio 2010: sigmoid's derivative <= 1/4 shrinks the gradient at each layer); AUTOTRAINER "
                 "and DeepDiagnosis: vanishing gradient")
def sigmoid_in_every_layer() -> Watcher:
    """MNIST odd vs even with six sigmoid hidden layers: the output's sigmoid was copied into every layer."""
    x, y = images("mnist")
    target = (y % 2).float().unsqueeze(1)
    model = nn.Sequential(mlp((784, 128, 128, 128, 128, 128, 128, 1), act=nn.Sigmoid),  # BUG: sigmoid hidden
                          nn.Sigmoid())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    criterion = nn.BCELoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, tb in batches(x, target):
            optimizer.zero_grad()
            loss = criterion(model(xb), tb)
            loss.backward()
            optimizer.step()
    return w


@case("heldout-randn-weights-into-tanh", expected="saturated",
      provenance="hand-written layers with W = torch.randn(fan_in, fan_out) before tanh: pre-activations of "
                 "std sqrt(fan_in) pin tanh at +-1 (Karpathy's makemore part 3; breno.bearblog.dev 'fixing "
                 "the saturated function'); DeepDiagnosis: saturated activation")
def randn_weights_into_tanh() -> Watcher:
    """A tanh MLP built from a hand-written linear layer whose weights are ``torch.randn``, unscaled."""

    class RandnLinear(nn.Module):
        def __init__(self, fan_in: int, fan_out: int) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(fan_in, fan_out))  # BUG: no 1/sqrt(fan_in) scale
            self.bias = nn.Parameter(torch.zeros(fan_out))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x @ self.weight + self.bias

    x, y = images("mnist")
    model = nn.Sequential(nn.Flatten(), RandnLinear(784, 256), nn.Tanh(), RandnLinear(256, 128), nn.Tanh(),
                          RandnLinear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    return train(model, optimizer, criterion, x, y)


# -- correct loops ---------------------------------------------------------------------------------------
@case("heldout-ok-vgg-bn-cnn", expected=None,
      provenance="VGG with batch norm (Simonyan & Zisserman 2015; Ioffe & Szegedy 2015), scaled down for "
                 "Fashion-MNIST; SGD with momentum")
def ok_vgg_bn_cnn() -> Watcher:
    """A small VGG-style CNN with batch norm on Fashion-MNIST, SGD with momentum 0.9."""
    x, y = images("fashion-mnist")
    model = nn.Sequential(_vgg_block(1, 16), _vgg_block(16, 32), nn.Flatten(), nn.Linear(32 * 7 * 7, 128),
                          nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    model.train()
    return train(model, optimizer, criterion, x, y)


@case("heldout-ok-mobilenet-style", expected=None,
      provenance="depthwise-separable blocks with BN and ReLU6 (MobileNet, Howard et al. 2017), global "
                 "average pooling; Adam")
def ok_mobilenet_style() -> Watcher:
    """A MobileNet-style CNN (depthwise-separable convs, global average pooling) on MNIST, Adam."""
    x, y = images("mnist")
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
        _DepthwiseSeparable(16, 32, 2), _DepthwiseSeparable(32, 64, 2), _DepthwiseSeparable(64, 64, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    return train(model, optimizer, criterion, x, y)


@case("heldout-ok-adamw-cosine-per-batch", expected=None,
      provenance="AdamW (Loshchilov & Hutter 2019) with cosine annealing stepped once per batch, T_max = the "
                 "run's length (PyTorch docs: CosineAnnealingLR)")
def ok_adamw_cosine_per_batch() -> Watcher:
    """An MLP with AdamW and a cosine schedule over the whole run, stepped after every optimizer step."""
    x, y = images("mnist")
    model = mlp((784, 512, 256, 10))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
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


@case("heldout-ok-gru-rows", expected=None,
      provenance="row-by-row sequential MNIST with a GRU (Cho et al. 2014), Adam and gradient clipping at 1.0 "
                 "as usual for recurrent nets")
def ok_gru_rows() -> Watcher:
    """A GRU reads each MNIST image as 28 rows of 28 pixels; its last hidden state is classified."""

    class RowGRU(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(28, 64, batch_first=True)
            self.head = nn.Linear(64, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            _, h = self.gru(x.squeeze(1))
            return self.head(h[-1])

    x, y = images("mnist")
    model = RowGRU()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
    return w


@case("heldout-ok-conv1d-waves", expected=None,
      provenance="a 1D-conv signal classifier (conv-BN-ReLU, global average pooling) on synthetic noisy "
                 "sine waves of three frequencies; Adam")
def ok_conv1d_waves() -> Watcher:
    """A 1D CNN tells three frequencies of noisy sine waves apart."""
    x, y = _waves(4096)
    model = nn.Sequential(
        nn.Conv1d(1, 16, 7, padding=3, bias=False), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 5, padding=2, bias=False), nn.BatchNorm1d(32), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, 3),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    return train(model, optimizer, criterion, x, y)


@case("heldout-ok-nesterov-wd-label-smoothing", expected=None,
      provenance="SGD with Nesterov momentum, weight decay 5e-4 and label smoothing 0.1 (Szegedy et al. 2016), "
                 "the usual image-classification recipe")
def ok_nesterov_wd_label_smoothing() -> Watcher:
    """The plain BN CNN on Fashion-MNIST with Nesterov SGD, weight decay 5e-4 and label smoothing 0.1.

    Changed on 2026-12-03, after every benchmark run since this set was written had flagged ``dead-relu``
    here: as first written (lr 0.05), a plain-torch check (hooks on ``features.6``, the same seed) found 97%
    of its 32 channels never positive on the batch at step 10, 81% at step 50 and 75% at step 99, and a loss
    of 1.45 at step 99 against 1.02 at lr 0.01 and 1.05 at 0.02 (no dead channel at either): the draft had
    the bug the watcher named, so that false alarm was not one. The loop now uses lr 0.01, its label
    unchanged; this correct loop is no longer blind.
    """
    x, y = images("fashion-mnist")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    model.train()
    return train(model, optimizer, criterion, x, y)


@case("heldout-ok-frozen-pretrained-embedding", expected=None,
      provenance="nn.Embedding.from_pretrained(..., freeze=True) under a trained classifier, the optimizer "
                 "built on the parameters that require grad (PyTorch docs; common for pretrained word vectors)")
def ok_frozen_pretrained_embedding() -> Watcher:
    """A bag-of-embeddings topic classifier over a frozen "pretrained" embedding table."""

    class BagClassifier(nn.Module):
        def __init__(self, table: torch.Tensor) -> None:
            super().__init__()
            self.embed = nn.Embedding.from_pretrained(table, freeze=True)
            self.mlp = nn.Sequential(nn.Linear(table.shape[1], 64), nn.ReLU(), nn.Linear(64, 4))

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.mlp(self.embed(tokens).mean(1))

    tokens, y, table = _topics(4096)
    model = BagClassifier(table)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for tb, yb in batches(tokens, y):
            optimizer.zero_grad()
            loss = criterion(model(tb), yb)
            loss.backward()
            optimizer.step()
    return w


@case("heldout-ok-validation-done-right", expected=None,
      provenance="validation every 25 steps with model.eval() and torch.no_grad(), then model.train() "
                 "(PyTorch tutorials), on a CNN with dropout and batch norm")
def ok_validation_done_right() -> Watcher:
    """The BN CNN validated every 25 steps, switching to eval mode and back."""
    x, y = images("mnist")
    xv, yv = images("mnist", 1000, split="val")
    model = SmallCNN(dropout=0.3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    model.train()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for i, (xb, yb) in enumerate(batches(x, y)):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if (i + 1) % 25 == 0:
                model.eval()
                accuracy(model, xv, yv)
                model.train()
    return w

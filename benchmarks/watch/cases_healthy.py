"""Correct loops: nothing may be flagged. Real (small) architectures, sensible settings, standardized data."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from common import BATCH, EVERY, STEPS, SmallCNN, accuracy, batches, case, images, mlp, train
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import trainlab
from trainlab.watcher import Watcher


# -- a ResNet-style CNN -------------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    """Two 3x3 conv-BN with an identity (or 1x1 conv-BN) shortcut; one inplace ReLU module used twice."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.layers = nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))


@case("resnet-bn-inplace-relu", expected=None, provenance="correct: residual CNN (He et al. 2016 BasicBlock), "
                                                         "BN, inplace ReLU, SGD momentum + weight decay")
def resnet_bn_inplace_relu() -> Watcher:
    """Three BasicBlocks (16-32-64 channels), SGD(0.05, momentum 0.9, weight decay 5e-4), MNIST."""
    model = ResNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    return train(model, opt, criterion, x, y)


@case("cnn-dropout-eval", expected=None, provenance="correct: dropout + BN CNN, validated under model.eval() "
                                                    "and no_grad(), then model.train()")
def cnn_dropout_eval() -> Watcher:
    """SmallCNN (BN, dropout 0.25), Adam(1e-3), validation every 25 steps done right; functional loss."""
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = images("mnist")
    xv, yv = images("mnist", 1000, split="val")
    model.train()
    with trainlab.watch(model, opt, every=EVERY, status=False) as w:
        for step, (xb, yb) in enumerate(batches(x, y), 1):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            w.loss(loss, yb)
            loss.backward()
            opt.step()
            if step % 25 == 0:
                model.eval()
                accuracy(model, xv, yv)
                model.train()
    return w


@case("mlp-adam-fashion", expected=None, provenance="correct: MLP with Adam on Fashion-MNIST")
def mlp_adam_fashion() -> Watcher:
    """784-256-128-10 ReLU MLP, Adam(1e-3), Fashion-MNIST."""
    model = mlp((784, 256, 128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    x, y = images("fashion-mnist")
    model.train()
    return train(model, opt, criterion, x, y)


@case("sgd-momentum-steplr-per-epoch", expected=None, provenance="correct: SGD + momentum, StepLR stepped once "
                                                                "per epoch after optimizer.step()")
def sgd_momentum_steplr_per_epoch() -> Watcher:
    """MLP, SGD(0.05, momentum 0.9), StepLR(step_size=1, gamma=0.7) over epochs of 32 batches."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist", 2048)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, scheduler=sched, every=EVERY, status=False) as w:
        step = 0
        while step < STEPS:
            for xb, yb in loader:
                opt.zero_grad()
                criterion(model(xb), yb).backward()
                opt.step()
                step += 1
                if step == STEPS:
                    break
            sched.step()
    return w


@case("grad-accumulation-micro-batches", expected=None, provenance="correct: gradients accumulated over 4 "
                                                                  "micro-batches per optimizer step, on purpose")
def grad_accumulation_micro_batches() -> Watcher:
    """MLP, SGD with momentum; each step sums the gradients of 4 micro-batches of 16 (loss / 4)."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    accumulate = 4
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        opt.zero_grad()
        for i, (xb, yb) in enumerate(batches(x, y, steps=STEPS * accumulate, batch=BATCH // accumulate), 1):
            (criterion(model(xb), yb) / accumulate).backward()
            if i % accumulate == 0:
                opt.step()
                opt.zero_grad()
    return w


@case("finetune-frozen-stem", expected=None, provenance="correct: fine-tuning with a frozen prefix (stem conv + "
                                                        "BN kept in eval mode), pretrained on Fashion-MNIST")
def finetune_frozen_stem() -> Watcher:
    """SmallCNN pretrained 100 steps on Fashion-MNIST (unwatched), stem frozen, the rest fine-tuned on MNIST."""
    model = SmallCNN()
    pre = torch.optim.Adam(model.parameters(), lr=1e-3)
    xf, yf = images("fashion-mnist")
    model.train()
    for xb, yb in batches(xf, yf, seed=1):
        pre.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        pre.step()
    stem = model.features[:2]  # conv + BN
    for p in stem.parameters():
        p.requires_grad = False
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    stem.eval()  # frozen BN keeps its running statistics
    return train(model, opt, criterion, x, y)


@case("lbfgs-closure", expected=None, provenance="correct: optimizer.step(closure) with LBFGS (strong Wolfe), "
                                                 "full batch")
def lbfgs_closure() -> Watcher:
    """784-64-10 tanh MLP, LBFGS(max_iter=4, history 10, strong Wolfe) on a full batch of 2048 images."""
    model = mlp((784, 64, 10), act=nn.Tanh)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=4, history_size=10, line_search_fn="strong_wolfe")
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist", 2048)
    model.train()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        for _ in range(STEPS):
            opt.step(closure)
    return w


@case("sgd-closure-dropout", expected=None, provenance="correct: optimizer.step(closure) with SGD + momentum, "
                                                       "dropout MLP")
def sgd_closure_dropout() -> Watcher:
    """784-256-10 MLP with dropout 0.2, SGD(0.01, momentum 0.9) stepped with a closure."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            def closure(xb: torch.Tensor = xb, yb: torch.Tensor = yb) -> torch.Tensor:
                opt.zero_grad()
                loss = criterion(model(xb), yb)
                loss.backward()
                return loss
            opt.step(closure)
    return w


@case("onecycle-per-batch", expected=None, provenance="correct: OneCycleLR stepped after every batch, as it "
                                                      "is meant to be")
def onecycle_per_batch() -> Watcher:
    """SmallCNN, SGD with momentum, OneCycleLR(max_lr=0.05, total_steps=100) stepped per batch."""
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=STEPS)
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, scheduler=sched, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            w.loss(loss, yb)
            loss.backward()
            opt.step()
            sched.step()
    return w


# -- a tiny Transformer encoder --------------------------------------------------------------------------------
class RowTransformer(nn.Module):
    """Each image row is a token: a linear embedding, learned positions, 2 encoder layers, mean pooling."""

    def __init__(self, d: int = 64, classes: int = 10) -> None:
        super().__init__()
        self.embed = nn.Linear(28, d)
        self.pos = nn.Parameter(torch.randn(28, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, nhead=4, dim_feedforward=2 * d, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.embed(x.flatten(1, 2)) + self.pos)
        return self.head(self.norm(h.mean(1)))


@case("tiny-transformer", expected=None, provenance="correct: Transformer-encoder classifier over image rows, "
                                                    "AdamW")
def tiny_transformer() -> Watcher:
    """RowTransformer (d=64, 4 heads, 2 layers, dropout 0.1), AdamW(1e-3, weight decay 0.01), MNIST."""
    model = RowTransformer()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist")
    model.train()
    return train(model, opt, criterion, x, y)

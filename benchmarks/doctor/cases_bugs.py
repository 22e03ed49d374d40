"""Bugs in the code of the model or its preprocessing: hand-written gradients, operations over the wrong
axis, inputs or gradients cut off, NaN made by the forward pass.

The four public benchmarks name these fault families (TheDeepChecker's hand-computed gradients and
wrong-axis reductions, DeepDiagnosis's symptoms 'unchanged weight', 'unchanged tensor in forward' and
'numerical problem', CS231n's initialization examples); the programs here are PyTorch re-creations of
the same bugs as they are written in PyTorch, each case saying which family it belongs to.
"""
from __future__ import annotations

import torch
from torch import nn

from benchmarks.doctor.common import Patient, case, generator, images, init_, mlp

TDC = "TheDeepChecker buggy_synthetic_programs/"


# -- hand-written gradients -----------------------------------------------------------------------

class _InvertedReLU(torch.autograd.Function):
    """ReLU whose hand-written backward lets the gradient through where the input was negative."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * (x < 0).to(grad.dtype)  # should be x > 0


class InvertedReLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _InvertedReLU.apply(x)


@case("bug-custom-relu-backward", faulty=True, cause="wrong-gradient", lead="gradcheck",
      source=TDC + "flipped_sign (hand-computed gradients)",
      provenance="a custom autograd.Function ReLU whose backward masks with x < 0 instead of x > 0 (the fault "
                 "family TheDeepChecker seeds as 'mistaken gradient' in hand-written gradient code)")
def bug_custom_relu_backward() -> Patient:
    """Dense 784-256-128-10 with the inverted-mask ReLU, MNIST, SGD lr 0.05, momentum 0.9."""
    train, val = images("mnist", 4000)
    model = init_(mlp([784, 256, 128, 10], InvertedReLU), "he")
    return Patient(model, train, val, lr=0.05, optimizer="momentum")


class _AveragedLinear(torch.autograd.Function):
    """``x W^T + b`` whose hand-written backward divides the weight gradient by the batch size a second time."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        return grad @ weight, grad.t() @ x / x.shape[0], grad.sum(0)  # the loss already averaged over the batch


class HandLinear(nn.Linear):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _AveragedLinear.apply(x, self.weight, self.bias)


@case("bug-custom-linear-backward", faulty=True, cause="wrong-gradient", lead="gradcheck",
      source=TDC + "flipped_sign (hand-computed gradients)",
      provenance="a hand-written linear layer (autograd.Function) whose backward averages the weight gradient over "
                 "the batch although the loss is already a batch mean: the weights get 1/N of their gradient")
def bug_custom_linear_backward() -> Patient:
    """Dense 784-128-10 (hidden layer hand-written), ReLU, Fashion-MNIST, SGD lr 0.05, momentum 0.9."""
    train, val = images("fashion-mnist", 4000)
    model = nn.Sequential(nn.Flatten(), HandLinear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    return Patient(init_(model, "he"), train, val, lr=0.05, optimizer="momentum")


# -- examples mixed across the batch --------------------------------------------------------------

class RowGRU(nn.Module):
    """Reads an image row by row with a GRU built without ``batch_first=True``, fed batch-first rows."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(28, 32)  # expects [time, batch, features]
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x.squeeze(1))  # [batch, rows, 28] read as time = batch, batch = rows
        return self.fc(out[:, -1])  # meant: the last row's state of each image


@case("bug-gru-batch-first", faulty=True, cause="batch-mixing", lead="batch-independence",
      source=TDC + "wrong_softmax_impl (an operation over the batch axis)",
      provenance="a row-by-row GRU classifier whose nn.GRU lacks batch_first=True: the batch is read as time, so "
                 "each example's score depends on the examples before it in the batch (the wrong-axis family "
                 "of TheDeepChecker, in its PyTorch form)")
def bug_gru_batch_first() -> Patient:
    """GRU(28, 32) over MNIST rows without batch_first, Linear(32, 10), Adam lr 1e-3."""
    train, val = images("mnist", 4000)
    return Patient(RowGRU(), train, val, lr=1e-3, optimizer="adam")


class BatchAxisNorm(nn.Module):
    """A hand-written 'layer norm' that normalizes over dim 0 (the batch) instead of the features."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return (h - h.mean(0, keepdim=True)) / (h.std(0, keepdim=True) + 1e-5)


@case("bug-norm-over-batch-axis", faulty=True, cause="batch-mixing", lead="batch-independence",
      source=TDC + "wrong_loss_function2 ('set wrong axis for reduction operation')",
      provenance="TheDeepChecker's wrong reduction axis, moved from the loss into a hand-written normalization "
                 "layer meant as LayerNorm: mean and std over dim 0, in training and evaluation alike")
def bug_norm_over_batch_axis() -> Patient:
    """Dense 784-256-[norm over dim 0]-ReLU-128-ReLU-10, Fashion-MNIST, Adam lr 1e-3."""
    train, val = images("fashion-mnist", 4000)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), BatchAxisNorm(), nn.ReLU(), nn.Linear(256, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    return Patient(init_(model, "he"), train, val, lr=1e-3, optimizer="adam")


# -- the input never reaches the scores -----------------------------------------------------------

@case("bug-dropout-keep-prob", faulty=True, cause="input-ignored", lead="input-independent-baseline",
      source="TheDeepChecker SO_buggy_examples/IPS_1.py (dropout by keep_prob)",
      provenance="TensorFlow's dropout takes keep_prob (1.0 = keep all) where PyTorch's nn.Dropout takes the drop "
                 "probability; a port that carries keep_prob=1.0 over as nn.Dropout(p=1.0) on the input zeroes "
                 "every input while training")
def bug_dropout_keep_prob() -> Patient:
    """Dropout(p=1.0) on the input, then Dense 784-256-10 ReLU, MNIST, Adam lr 1e-3."""
    train, val = images("mnist", 4000)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(p=1.0), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return Patient(init_(model, "he"), train, val, lr=1e-3, optimizer="adam")


class CornerCNN(nn.Module):
    """Two 3x3 convolutions, then the classifier reads the feature map's corner instead of pooling it."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1),
                                      nn.ReLU())
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x)[:, :, 0, 0])  # meant: .mean((2, 3)) (global average pooling)


@case("bug-corner-instead-of-pool", faulty=True, cause="input-ignored", lead="input-independent-baseline",
      source="DeepDiagnosis symptom 'unchanged tensor in forward'",
      provenance="a CNN head that indexes [:, :, 0, 0] where global average pooling was meant: the scores see only "
                 "the image's top-left 2x2 pixels, which are background in every MNIST digit")
def bug_corner_instead_of_pool() -> Patient:
    """conv(16)-ReLU-conv(32)-ReLU, then Linear on position (0, 0), MNIST, Adam lr 1e-3."""
    train, val = images("mnist", 4000)
    return Patient(init_(CornerCNN(), "he"), train, val, lr=1e-3, optimizer="adam")


# -- gradients cut off ----------------------------------------------------------------------------

class LoggedMLP(nn.Module):
    """Keeps the first hidden layer for a plot, detached, and then computes the rest from the detached copy."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)
        self.relu = nn.ReLU()
        self.hidden: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.hidden = self.relu(self.fc1(x.flatten(1))).detach()  # kept for plotting
        return self.fc3(self.relu(self.fc2(self.hidden)))  # meant: the attached activation


@case("bug-detach-for-logging", faulty=True, cause="detached-gradient", lead="gradient-flow",
      source="DeepDiagnosis symptom 'unchanged weight'",
      provenance="a hidden activation detached to be kept for plotting and then reused downstream: the first "
                 "layer's weights never receive a gradient and never change")
def bug_detach_for_logging() -> Patient:
    """Dense 784-256-128-10 ReLU with the first hidden layer detached, MNIST, SGD lr 0.05, momentum 0.9."""
    train, val = images("mnist", 4000)
    return Patient(init_(LoggedMLP(), "he"), train, val, lr=0.05, optimizer="momentum")


class NoGradBackbone(nn.Module):
    """A CNN whose convolutional part runs under torch.no_grad(), as a fine-tuning script freezes a backbone."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():  # copied from a script whose backbone was pretrained; this one is random
            features = self.backbone(x)
        return self.head(features)


@case("bug-no-grad-backbone", faulty=True, cause="detached-gradient", lead="gradient-flow",
      source="DeepDiagnosis symptom 'unchanged weight'",
      provenance="the convolutional layers run under torch.no_grad() (a fine-tuning script's frozen, pretrained "
                 "backbone) although they are freshly initialized and meant to be trained: they never change")
def bug_no_grad_backbone() -> Patient:
    """baseCNN-shaped network whose conv layers run under no_grad, Fashion-MNIST, SGD lr 0.05, momentum 0.9."""
    train, val = images("fashion-mnist", 4000)
    return Patient(init_(NoGradBackbone(), "he"), train, val, lr=0.05, optimizer="momentum")


# -- NaN made by the forward pass -----------------------------------------------------------------

class LogFeatures(nn.Module):
    """``log(x)`` of count features (meant: ``log1p``), then an MLP."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.net = mlp([features, 64, 64, classes])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.log(x))


def _counts(n: int, seed: int, rates: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    gen = generator(seed)
    x = torch.poisson(rates.expand(n, -1).contiguous(), generator=gen)
    y = (torch.log1p(x) @ w + 0.3 * torch.randn(n, w.shape[1], generator=gen)).argmax(1)
    return x, y


@case("bug-log-of-zero-counts", faulty=True, cause="numeric-instability", lead="initial-loss",
      source="DeepDiagnosis symptom 'numerical problem' in the forward pass",
      provenance="skewed count features log-transformed inside the model with torch.log where log1p was meant: "
                 "every zero count becomes -inf and the scores NaN")
def bug_log_of_zero_counts() -> Patient:
    """log(x) of 12 Poisson count features (rates 0.5..4), then Dense 12-64-64-3 ReLU, Adam lr 1e-3."""
    gen = generator(7)
    rates, w = 0.5 + 3.5 * torch.rand(12, generator=gen), torch.randn(12, 3, generator=gen)
    return Patient(LogFeatures(12, 3), _counts(3000, 0, rates, w), _counts(600, 1, rates, w), lr=1e-3,
                   optimizer="adam")


class CosineMLP(nn.Module):
    """Scales each bag-of-words vector to unit length, ``x / ||x||``, then an MLP."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.net = mlp([features, 64, classes])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x / x.norm(dim=1, keepdim=True))  # 0 / 0 for an empty document


def _documents(n: int, seed: int, topics: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    gen = generator(seed)
    y = torch.randint(len(topics), (n,), generator=gen)
    x = torch.poisson(topics[y], generator=gen)
    x[torch.rand(n, generator=gen) < 0.1] = 0  # empty documents (10%)
    return x, y


@case("bug-unit-norm-empty-rows", faulty=True, cause="numeric-instability", lead="initial-loss",
      source="DeepDiagnosis symptom 'numerical problem' in the forward pass",
      provenance="bag-of-words vectors scaled to unit length inside the model, x / x.norm(), on data where 10% of "
                 "the documents are empty: 0 / 0 makes their scores NaN")
def bug_unit_norm_empty_rows() -> Patient:
    """x / ||x|| of 50-word count vectors (10% empty), Dense 50-64-4 ReLU, Adam lr 1e-3."""
    topics = 0.6 * torch.rand(4, 50, generator=generator(3)) ** 3
    return Patient(CosineMLP(50, 4), _documents(3000, 0, topics), _documents(600, 1, topics), lr=1e-3,
                   optimizer="adam")


@case("bug-per-pixel-std-zero", faulty=True, cause="nan-in-data", lead="data",
      source=TDC + "(the data loader's EPSILON guard for a zero range)",
      provenance="MNIST standardized per pixel, (x - mean) / std, without the guard TheDeepChecker's data loader "
                 "keeps for a zero range: the always-black border pixels have std 0 and become 0 / 0 = NaN")
def bug_per_pixel_std_zero() -> Patient:
    """Dense 784-256-10 ReLU on per-pixel standardized MNIST whose constant pixels are NaN, Adam lr 1e-3."""
    (x, y), (xv, yv) = images("mnist", 4000, standardize=False)
    mean, std = x.mean(0, keepdim=True), x.std(0, keepdim=True)
    return Patient(init_(mlp([784, 256, 10]), "he"), ((x - mean) / std, y), ((xv - mean) / std, yv), lr=1e-3,
                   optimizer="adam")


# -- initialization ------------------------------------------------------------------------------

@case("cs231n-tanh-small-init", faulty=True, cause="bad-init-small", lead="init-health",
      source="CS231n lecture 'Training Neural Networks I' (weight initialization)",
      provenance="the lecture's example: ten tanh layers of 500 units with W ~ N(0, 0.01^2); the activations shrink "
                 "layer by layer until the top layers output ~0; re-created at width 256 on MNIST, SGD lr 0.01")
def cs231n_tanh_small_init() -> Patient:
    """Dense 784 -> 10 x 256 tanh -> 10 with N(0, 0.01) weights, MNIST, SGD lr 0.01."""
    train, val = images("mnist", 4000)
    model = init_(mlp([784] + [256] * 10 + [10], "tanh"), "normal:0.01")
    return Patient(model, train, val, lr=0.01)

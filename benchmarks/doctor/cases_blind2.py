"""A second blind set of cases: faults re-created from the public benchmarks by someone who never saw the doctor decide.

Written blind by a helper agent that never ran the doctor (neither ``trainlab doctor``, ``examine`` nor
``benchmarks/doctor/run.py``) and never read its code, its documentation, its tests or any of its results. It read
only ``common.py``, ``causes.py``, ``symptoms.py``, ``cases_blind1.py`` (as the format sample, and to pick other
bugs, models and recipes than it names), ``trainlab.nn.zoo``, the data loaders' names and split sizes, and the
list of the other files' case names and causes (not their bodies). Each case's ground truth (faulty or healthy, the
cause, the lead check) was written in its decorator before the case was first trained, and no label was changed
afterwards.

The faults are re-created, in new code, from TheDeepChecker (Braiek & Khomh, TOSEM), AUTOTRAINER (ICSE 2021),
DeepDiagnosis (ICSE 2022), DeepLocalize's StackOverflow programs (ICSE 2021), DeepFD (ICSE 2022) and TrainCheck
(OSDI 2025; its source is written ``paper: TrainCheck ...`` since it is not in ``common.SOURCES``). Five are faults of
the user's recipe (the lr too high or too low, momentum switched on at a plain-SGD lr, a batch size cut to 4 at the
old lr, an AdamW-sized decay given to Adam's L2), the others lie in the loss, the data, the initialization, the
architecture or hand-written code. Six causes absent from ``cases_blind1`` are covered (nan-in-data,
detached-gradient, numeric-instability, wrong-gradient, batch-mixing, input-ignored). The healthy cases are
ordinary setups that train: a ResNet with Adam, a GRU and a row-by-row LSTM, the PyTorch tutorial's CIFAR-10 CNN,
a batch-normalized ELU MLP, and a large-batch recipe under the linear scaling rule.

Protocol: every case was trained with ``symptoms.train_plainly`` (300 steps, seed 0, one torch thread) against a
repaired twin (the one fault undone, everything else the same), and a few quantities were read with plain torch
(the initial loss on 256 training examples, first-batch weight-gradient norms, whether the scores change with
the batch's other examples). The numbers are in each case's docstring ("Checked (plain torch, ...)"). The whole
check (cases and twins) took about 110 s of CPU on one thread; no case trains 300 steps in more than ~7 s.

Drafts changed after the plain-torch checks (the labels were never changed):

* blind2-dd-tanh-rnn-long-range (vanishing-gradient, a plain tanh nn.RNN reading 40 tokens whose class evidence
  lies in the first 6) was dropped: its repaired twin, a GRU, failed as well (val 25.8% against the RNN's 26.3%),
  and at 20 or 28 tokens the tanh RNN learned better than the GRU or the LSTM (20 tokens: RNN 100% at lr 3e-3,
  GRU 100%, LSTM 74.3%; 28 tokens: RNN 94.8%, GRU 50.3%, LSTM 51.2%), so no setup showed a vanishing gradient
  through time. It became blind2-at-allconv-sigmoid-vanish, a six-layer sigmoid all-conv net (val 10.4% against
  78.1% with ReLU, gradient norms falling 2e4-fold from the head to the first conv).
* blind2-dl-attention-batch-first-default: drafted with a mean over the positions as the readout; the layer that
  attends across the batch still learned the task (val 100%, like its batch_first=True twin), since the planted
  tokens survive a mean of per-token features; the scores did depend on the batch (up to 0.054). The readout became
  the last position's output (a causal-LM-style classifier): val 38.2% against 100% for the twin, batch dependence
  up to 0.21.
* blind2-at-unnormalized-resmlp: its lead was drafted as gradient-flow; the first-batch weight-gradient norms came
  out about equal in every layer (1.4e4 to 4.8e4: the back-propagated gradient grows towards the input while the
  activations it multiplies shrink), while the activations' std grew 4,500-fold over the 16 blocks, so the lead is
  init-health (the cause's other lead) before the label was final. Its initial loss (9.4e3) is also far above
  chance, as bad-init-large's would be; the weights themselves are He-normal, the growth comes from summing
  unscaled residual branches, hence exploding-gradient.
* blind2-at-oscillating-batch-4: the repaired twin was first batch 128 at the same lr (val 82.5%, but it sees 32x
  more examples); a second twin, batch 4 at lr 0.003, was added: val 73.6% against 9.3%.
* blind2-healthy-resnet-mnist-adam: drafted with two stages (width 8-16), which reached only val 75.9% (train 83.0%)
  in 300 steps; three stages (8-16-32): val 93.3%.
* blind2-healthy-basecnn-cifar-adam-l2 (TheDeepChecker's baseCNN, 16-32 channels, Adam lr 1e-3, L2 5e-4 on CIFAR-10
  at 16x16) trained (val 42.8%) but started at loss 4.46, twice chance (its He/Glorot init), and ended with a 17-point
  train/val gap (59.9% / 42.8%): two things a healthy patient should not show. It became
  blind2-healthy-tutorial-cnn-cifar, the PyTorch tutorial's CIFAR-10 net at 32x32 (initial loss 2.30, train 51.3%,
  val 47.2%; Adam lr 1e-3 batch 32 gave 41.0%, momentum SGD lr 0.01 batch 32 34.5%).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.doctor.common import (
    BaseCNN,
    Patient,
    case,
    generator,
    images,
    init_,
    mlp,
    one_hot,
    reseed,
    tabular,
    tokens,
)
from trainlab.nn.zoo import ResNet, ResNetConfig

TDC = "TheDeepChecker "
AT = "AUTOTRAINER "
DD = "DeepDiagnosis "
DL = "DeepLocalize "
FD = "DeepFD "
TRAINCHECK = "paper: TrainCheck (Jiang et al., OSDI 2025, 'Training with Confidence: Catching Silent Errors in Deep " \
             "Learning Training with Automated Proactive Checks') "


# -- small models ---------------------------------------------------------------------------------

class RecurrentClassifier(nn.Module):
    """Token ids -> embedding -> a one-layer ``cell`` (``gru``, ``lstm`` or tanh ``rnn``, batch first) -> the last
    hidden state -> scores."""

    def __init__(self, vocab: int = 24, classes: int = 4, *, dim: int = 16, hidden: int = 64,
                 cell: str = "gru") -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell](dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.embed(x.long()))
        return self.head(h[:, -1])


class RowLSTM(nn.Module):
    """An image read row by row (the PyTorch tutorials' sequential MNIST): rows -> LSTM -> the last state -> scores."""

    def __init__(self, width: int, classes: int = 10, *, hidden: int = 64) -> None:
        super().__init__()
        self.lstm = nn.LSTM(width, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(x.flatten(1, 2) if x.dim() == 4 else x)
        return self.head(h[:, -1])


class TutorialNet(nn.Module):
    """The CIFAR-10 network of PyTorch's "Training a Classifier" tutorial: conv 5x5 (6) -> ReLU -> pool, conv 5x5
    (16) -> ReLU -> pool, dense 120 -> ReLU, dense 84 -> ReLU, the scores; PyTorch's default init, 32x32 input."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                                 nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
                                 nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TokenEncoder(nn.Module):
    """Token embedding + learned positions, one ``nn.TransformerEncoderLayer``, the last position's output (the
    readout of a causal-LM-style classifier), scores.

    ``batch_first`` is passed to the layer as the user wrote it; the inputs are always ``[batch, time]``.
    """

    def __init__(self, vocab: int = 24, classes: int = 4, *, d: int = 32, heads: int = 2, length: int = 16,
                 batch_first: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, length, d))
        self.layer = nn.TransformerEncoderLayer(d, heads, 64, 0.0, batch_first=batch_first)
        self.head = nn.Linear(d, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layer(self.embed(x.long()) + self.pos[:, :x.shape[1]])
        return self.head(h[:, -1])


class MaskedBag(nn.Module):
    """A bag of embeddings with a padding mask: the mean of the kept tokens' embeddings, then an MLP.

    ``inverted`` writes the mask as ``ids == PAD`` (keep only the padding) instead of ``ids != PAD``.
    """

    PAD = 0

    def __init__(self, vocab: int = 24, classes: int = 4, *, d: int = 32, hidden: int = 64,
                 inverted: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, classes))
        self.inverted = inverted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = x.long()
        keep = (ids == self.PAD) if self.inverted else (ids != self.PAD)
        e = self.embed(ids) * keep[..., None]
        return self.mlp(e.sum(1) / keep.sum(1, keepdim=True).clamp(min=1))


class LogCompressed(nn.Module):
    """Dense 784-128 ReLU, then a log-compression of the activations (``log`` or ``log1p``), then the scores."""

    def __init__(self, compress: str = "log", hidden: int = 128) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 10)
        self.compress = torch.log if compress == "log" else torch.log1p
        init_(self, "he")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.compress(self.body(x)))


class NumpyReLU6(nn.Module):
    """Dense 784-256-32, a ReLU6 done by ``np.clip`` on the features (``numpy=True``) or by ``torch.clamp``, then the
    scores. The numpy round trip returns a new leaf tensor: nothing below it receives a gradient."""

    def __init__(self, numpy: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 32))
        self.head = nn.Linear(32, 10)
        self.numpy = numpy
        init_(self, "he")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x)
        if self.numpy:
            h = torch.from_numpy(np.clip(h.detach().cpu().numpy(), 0.0, 6.0)).to(x.device)
        else:
            h = torch.clamp(h, 0.0, 6.0)
        return self.head(h)


class ResidualMLP(nn.Module):
    """Dense input layer, ``blocks`` residual blocks ``h + W2 relu(W1 h)`` (He-normal, no normalization and no
    residual scaling unless ``scale``), a Glorot output layer."""

    def __init__(self, inputs: int = 784, width: int = 128, blocks: int = 16, classes: int = 10, *,
                 scale: float = 1.0) -> None:
        super().__init__()
        self.inp = nn.Linear(inputs, width)
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
                                    for _ in range(blocks))
        self.out = nn.Linear(width, classes)
        self.scale = scale
        init_(self, "he")
        nn.init.xavier_uniform_(self.out.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x.flatten(1))
        for block in self.blocks:
            h = h + self.scale * block(h)
        return self.out(h)


def all_conv(activation: str = "sigmoid", in_channels: int = 1, classes: int = 10) -> nn.Sequential:
    """An all-convolutional net (Springenberg et al. 2015): six 3x3 convs (16, 16, 32/2, 32, 32/2, 32), each followed
    by ``activation``, global average pooling, a dense layer to the scores; Glorot-uniform for sigmoid (Keras'
    default), He-normal for ReLU, zero biases."""
    make = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    c = in_channels
    for cout, stride in ((16, 1), (16, 1), (32, 2), (32, 1), (32, 2), (32, 1)):
        layers += [nn.Conv2d(c, cout, 3, stride, 1), make()]
        c = cout
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes))
    return init_(model, "glorot" if activation == "sigmoid" else "he")


class _TanhInputGrad(torch.autograd.Function):
    """tanh whose hand-written backward uses the input instead of the output: ``1 - x^2`` for ``1 - tanh(x)^2``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return torch.tanh(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * (1 - x * x)


class HandTanh(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _TanhInputGrad.apply(x)


def ratio_features(*, zero_safe: bool = False, seed: int = 11) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Eight standardized tabular features and a ninth engineered one, ``amount / count``: ``count`` is a small
    whole number (0 to 3) that is 0 in about a quarter of the rows, so the ratio is Inf there (``zero_safe``
    divides by ``max(count, 1)``)."""
    (x, y), (xv, yv) = tabular(scales=(1.0,) * 8, classes=3, seed=seed)
    gen = generator(seed + 1)

    def add(z: torch.Tensor) -> torch.Tensor:
        amount = torch.exp(0.5 * torch.randn(len(z), generator=gen))
        count = torch.floor(4 * torch.rand(len(z), generator=gen))
        ratio = amount / (count.clamp(min=1) if zero_safe else count)
        return torch.cat([z, ratio[:, None]], 1)
    return (add(x), y), (add(xv), yv)


# -- losses ---------------------------------------------------------------------------------------

def hinge_on_one_hot(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Keras' ``hinge`` written by hand against one-hot {0, 1} targets (Keras maps them to {-1, +1} first; this
    port does not): ``mean(max(0, 1 - t * s))``, so the wrong classes' terms are constant and nothing pushes their
    scores down."""
    return torch.clamp(1 - one_hot(y, scores.shape[1]) * scores, min=0).mean()


def cross_entropy_over_classes(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the batch and divided by the number of classes (the wrong axis) instead of the
    batch size: its scale follows the batch size."""
    return F.cross_entropy(scores, y, reduction="sum") / scores.shape[1]


def log_likelihood_unnegated(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A hand-written NLL that forgot its minus sign: ``mean(log_softmax(s)[y])``, the log-likelihood itself, which
    gradient descent then lowers."""
    return F.log_softmax(scores, 1).gather(1, y[:, None]).mean()


# -- the recipe: learning rate, optimizer, batch size, weight decay -------------------------------

@case("blind2-dfd-lr-high-gru-tokens", faulty=True, cause="lr-too-high", lead="lr-range",
      source=FD + "fault type 'lr' (learning rate mutated upward) on a recurrent subject",
      provenance="DeepFD (Cao et al., ICSE 2022, https://github.com/ArabelaTso/DeepFD) seeds its faults by mutating "
                 "a working program's learning rate; re-created on a GRU sequence classifier (embedding 16, GRU 64, "
                 "last state) over planted-token sequences, momentum SGD at lr 5.0 where lr ~0.1 trains")
def blind2_dfd_lr_high_gru_tokens() -> Patient:
    """Embedding 16 -> GRU 64 -> scores, planted-token sequences, momentum SGD lr 5.0.

    Checked (plain torch, 300 steps): loss 1.38 -> 21.7, val 60.0%; the same at lr 0.1: loss -> 9e-5, val 100%.
    """
    reseed()
    train, val = tokens(seed=21)
    return Patient(RecurrentClassifier(), train, val, lr=5.0, optimizer="momentum", momentum=0.9)


@case("blind2-dfd-lr-low-resnet-cifar", faulty=True, cause="lr-too-low", lead="lr-range",
      source=FD + "fault type 'lr' (learning rate mutated downward)",
      provenance="DeepFD's 'lr' mutation towards a rate orders of magnitude too small; re-created on trainlab's "
                 "batch-normalized ResNet (two stages of one BasicBlock, width 8) on CIFAR-10 at 16x16, Adam at "
                 "lr 1e-6 instead of its usual 1e-3")
def blind2_dfd_lr_low_resnet_cifar() -> Patient:
    """Zoo ResNet (1-1 blocks, width 8), standardized CIFAR-10 at 16x16, Adam lr 1e-6.

    Checked (plain torch, 300 steps): loss 2.37 -> 2.33, val 14.7%; at lr 1e-3: loss -> 1.76, val 35.7%.
    """
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    return Patient(ResNet(ResNetConfig(width=8, blocks=(1, 1))), train, val, lr=1e-6, optimizer="adam")


@case("blind2-dfd-opt-momentum-at-plain-sgd-lr", faulty=True, cause="bad-optimizer-settings", lead="recipe",
      source=FD + "fault type 'opt' (optimizer changed, the learning rate kept)",
      provenance="DeepFD's 'opt' faults swap the optimizer a program was tuned with; re-created as plain SGD tuned "
                 "at lr 0.3 on a Dense 784-256-128-10 ReLU MNIST classifier, then switched to SGD with momentum 0.9 "
                 "while the lr stays at 0.3 (the effective step grows tenfold)")
def blind2_dfd_opt_momentum_at_plain_sgd_lr() -> Patient:
    """Dense 784-256-128-10 ReLU (He), standardized MNIST, momentum 0.9 SGD at plain SGD's lr 0.3.

    Checked (plain torch, 300 steps): NaN after 25 steps, val 8.9%; plain SGD at the same lr 0.3: loss -> 0.010, val
    92.5%.
    """
    reseed()
    train, val = images("mnist", 3000)
    return Patient(init_(mlp([784, 256, 128, 10]), "he"), train, val, lr=0.3, optimizer="momentum", momentum=0.9)


@case("blind2-at-oscillating-batch-4", faulty=True, cause="lr-too-high", lead="lr-range",
      source=AT + "problem 'oscillating loss' (repairs: lower the lr, enlarge the batch)",
      provenance="AUTOTRAINER (Zhang et al., ICSE 2021, https://github.com/shiningrain/AUTOTRAINER) detects an "
                 "oscillating loss and repairs it by lowering the learning rate or changing the batch size; "
                 "re-created as TheDeepChecker's baseCNN on Fashion-MNIST whose batch size was cut to 4 while it kept "
                 "the momentum SGD lr 0.1 tuned at batch 128")
def blind2_at_oscillating_batch_4() -> Patient:
    """baseCNN (8-16, dense 64, He), standardized Fashion-MNIST, batch 4, momentum SGD lr 0.1.

    Checked (plain torch, 300 steps): loss 3.92 -> 2.35 (stuck at chance after blowing up), val 9.3%; batch 4 at lr
    0.003: val 73.6%; batch 128 at lr 0.1: val 82.5%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(BaseCNN(), train, val, lr=0.1, optimizer="momentum", momentum=0.9, batch_size=4)


@case("blind2-tdc-adamw-decay-in-adam", faulty=True, cause="too-much-regularization", lead="regularization",
      source=TDC + "fault type over_regularization",
      provenance="TheDeepChecker (Braiek & Khomh, TOSEM, 'Testing Feedforward Neural Networks Training Programs') "
                 "injects an L2 penalty that dominates the data loss; re-created as a decoupled (AdamW-style) weight "
                 "decay of 0.5 given to Adam's coupled L2 weight_decay, on a Dense 784-256-256-10 ReLU Fashion-MNIST "
                 "classifier, Adam lr 1e-3")
def blind2_tdc_adamw_decay_in_adam() -> Patient:
    """Dense 784-256-256-10 ReLU (He), standardized Fashion-MNIST, Adam lr 1e-3, weight decay 0.5.

    Checked (plain torch, 300 steps): loss 2.74 -> 1.58, train 46.1%, val 44.8%; weight decay 0: loss -> 0.24, val
    83.1%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784, 256, 256, 10]), "he"), train, val, lr=1e-3, optimizer="adam", weight_decay=0.5)


# -- the loss -------------------------------------------------------------------------------------

@case("blind2-dfd-hinge-on-one-hot", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=FD + "fault type 'loss' (loss function replaced: hinge)",
      provenance="DeepFD's 'loss' faults replace a program's loss by another Keras loss; re-created as Keras' hinge "
                 "ported by hand to PyTorch against the one-hot {0, 1} targets without Keras' mapping to {-1, +1}, "
                 "on a Dense 784-128-10 ReLU Fashion-MNIST classifier, momentum SGD lr 0.01")
def blind2_dfd_hinge_on_one_hot() -> Patient:
    """Dense 784-128-10 ReLU (He), standardized Fashion-MNIST, loss = mean(relu(1 - onehot * s)), momentum SGD 0.01.

    Checked (plain torch, 300 steps): loss 1.04 -> 0.90, val 37.0%; cross-entropy instead: loss -> 0.31, val 82.4%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784, 128, 10]), "he"), train, val, loss_fn=hinge_on_one_hot, lr=0.01,
                   optimizer="momentum", momentum=0.9)


@case("blind2-tdc-ce-divided-by-classes", faulty=True, cause="loss-reduction", lead="loss-reduction",
      source=TDC + "fault type wrong_loss_function (reduction)",
      provenance="TheDeepChecker's wrong loss reductions; re-created as a cross-entropy summed over the batch and "
                 "divided by the number of classes (the wrong axis) instead of by the batch size, on TheDeepChecker's "
                 "baseCNN on MNIST at 14x14, batch 256, plain SGD lr 0.1 (a rate meant for the mean)")
def blind2_tdc_ce_divided_by_classes() -> Patient:
    """baseCNN (8-16, dense 64) on standardized MNIST at 14x14, loss = sum CE / 10, batch 256, plain SGD lr 0.1.

    Checked (plain torch, 300 steps): loss 113 -> 59 (a batch-mean CE of ~2.3), val 10.7%; the batch-mean cross-
    entropy at the same lr: val 88.8%.
    """
    reseed()
    train, val = images("mnist", 3000, pool=2)
    return Patient(BaseCNN(image_size=14), train, val, loss_fn=cross_entropy_over_classes, lr=0.1, optimizer="sgd",
                   batch_size=256)


@case("blind2-tdc-nll-missing-minus", faulty=True, cause="loss-sign", lead="loss-output",
      source=TDC + "fault type flipped_sign",
      provenance="TheDeepChecker flips the sign of a program's objective; re-created as a hand-written negative "
                 "log-likelihood that lost its minus, mean(log_softmax(s)[y]), on trainlab's residual CNN (ResNet, "
                 "one BasicBlock per stage, width 8) on MNIST at 14x14, Adam lr 1e-3")
def blind2_tdc_nll_missing_minus() -> Patient:
    """Zoo ResNet (1-1 blocks, width 8), standardized MNIST at 14x14, loss = +mean(log p_y), Adam lr 1e-3.

    Checked (plain torch, 300 steps): loss -2.32 -> -21, val 3.4% (below chance); cross-entropy: loss 2.32 -> 0.92,
    val 75.9%.
    """
    reseed()
    train, val = images("mnist", 3000, pool=2)
    return Patient(ResNet(ResNetConfig(in_channels=1, width=8, blocks=(1, 1))), train, val,
                   loss_fn=log_likelihood_unnegated, lr=1e-3, optimizer="adam")


# -- the data -------------------------------------------------------------------------------------

@case("blind2-dd-ratio-feature-inf", faulty=True, cause="nan-in-data", lead="data",
      source=DD + "symptom 'numerical problem' at the input layer",
      provenance="DeepDiagnosis (Wardat et al., ICSE 2022) reports NaN/Inf values at layer 0 as a data problem; "
                 "re-created as an engineered tabular feature amount / count whose count is 0 in about a quarter of "
                 "the rows (Inf there), next to eight standardized features, into a Dense 9-64-64-3 ReLU network, "
                 "Adam lr 1e-3, batch 32")
def blind2_dd_ratio_feature_inf() -> Patient:
    """Dense 9-64-64-3 ReLU (He), 8 standardized features + amount/count (Inf where count = 0), Adam lr 1e-3.

    Checked (plain torch, 300 steps): 26.5% of the training rows hold Inf; the loss is NaN at the first step; with
    max(count, 1): loss -> 0.28, val 89.5%.
    """
    reseed()
    train, val = ratio_features()
    return Patient(init_(mlp([9, 64, 64, 3]), "he"), train, val, lr=1e-3, optimizer="adam", batch_size=32)


@case("blind2-dl-labels-from-test-file", faulty=True, cause="wrong-labels", lead="generalization-gap",
      source=DL + "StackOverflow programs whose labels do not match their inputs",
      provenance="DeepLocalize (Wardat et al., ICSE 2021) collects StackOverflow programs that train on labels "
                 "that do not belong to the inputs; re-created as a loader mix-up, Fashion-MNIST's training images "
                 "paired with the labels of the t10k label file, on a Dense 784-256-10 ReLU network with dropout "
                 "0.2, Adam lr 1e-3; validation labels intact")
def blind2_dl_labels_from_test_file() -> Patient:
    """Dense 784-256-10 ReLU (He) + dropout 0.2, Fashion-MNIST train images with t10k labels, Adam lr 1e-3.

    Checked (plain torch, 300 steps): 10.6% of the labels agree with the images by chance; train 30.1%, val 9.6%;
    the file's own labels: train 91.5%, val 81.9%.
    """
    from trainlab.data import load

    reseed()
    (x, _), val = images("fashion-mnist", 3000)
    wrong = load("fashion-mnist").test.y[:3000].clone()
    return Patient(init_(mlp([784, 256, 10], dropout=0.2), "he"), (x, wrong), val, lr=1e-3, optimizer="adam")


@case("blind2-tdc-rare-positive-class", faulty=True, cause="class-imbalance", lead="data",
      source=TDC + "fault type unbalanced_data",
      provenance="TheDeepChecker reduces some classes of the training set to a few examples; re-created as a binary "
                 "tabular problem (12 standardized features, a noisy linear rule) whose positive class is kept at "
                 "2% in training (~60:1), validation balanced, Dense 12-32-2 ReLU, Adam lr 1e-3")
def blind2_tdc_rare_positive_class() -> Patient:
    """Dense 12-32-2 ReLU (He), tabular binary data with the positives at 2% in training, Adam lr 1e-3.

    Checked (plain torch, 300 steps): 3,066 training rows, 51 positive (1.7%); train 98.3%, balanced val 46.8%; the
    same number of unfiltered rows: val 89.5%.
    """
    reseed()
    (x, y), val = tabular(n=6000, scales=(1.0,) * 12, classes=2, seed=13)
    keep = (y == 0) | (torch.rand(len(y), generator=generator(13)) < 0.02)
    return Patient(init_(mlp([12, 32, 2]), "he"), (x[keep], y[keep]), val, lr=1e-3, optimizer="adam")


# -- initialization, activations and gradients ----------------------------------------------------

@case("blind2-tdc-gru-zeros-init", faulty=True, cause="bad-init-zeros", lead="init-health",
      source=TDC + "fault type wrong_init (constant)",
      provenance="TheDeepChecker's constant initialization; re-created as the 'initialize the RNN to zeros' "
                 "pattern, every weight and bias of a GRU classifier's recurrent layer and head set to 0 (the "
                 "embedding left at its default), planted-token sequences, Adam lr 3e-3")
def blind2_tdc_gru_zeros_init() -> Patient:
    """Embedding 16 -> GRU 64 -> scores with GRU and head all zeros, planted-token sequences, Adam lr 3e-3.

    Checked (plain torch, 300 steps): loss stays at ln 4 = 1.386, val 27.8%; PyTorch's default init: val 100%.
    """
    reseed()
    train, val = tokens(seed=22)
    model = RecurrentClassifier()
    with torch.no_grad():
        for p in [*model.rnn.parameters(), *model.head.parameters()]:
            p.zero_()
    return Patient(model, train, val, lr=3e-3, optimizer="adam")


@case("blind2-at-allconv-sigmoid-vanish", faulty=True, cause="vanishing-gradient", lead="gradient-flow",
      source=AT + "problem 'vanishing gradient' (repairs: ReLU, batch norm)",
      provenance="AUTOTRAINER's vanishing-gradient problem in sigmoid models, repaired by switching to ReLU or adding "
                 "batch norm; re-created on an all-convolutional net (six 3x3 conv layers, no batch norm, global "
                 "average pooling) with sigmoid after every convolution, Glorot-uniform, on standardized "
                 "Fashion-MNIST at 14x14, momentum SGD lr 0.01")
def blind2_at_allconv_sigmoid_vanish() -> Patient:
    """All-conv net (6 sigmoid conv layers, Glorot), standardized Fashion-MNIST at 14x14, momentum SGD lr 0.01.

    Checked (plain torch, 300 steps): loss 2.45 -> 2.31, val 10.4%; first-batch weight-gradient norms from the first
    conv to the head 2.7e-5, 3.7e-4, 2.3e-3, 0.012, 0.062, 0.37, 0.49; the ReLU/He twin: 0.3 to 2.5, loss -> 0.56,
    val 78.1%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000, pool=2)
    return Patient(all_conv("sigmoid"), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind2-at-unnormalized-resmlp", faulty=True, cause="exploding-gradient", lead="init-health",
      source=AT + "problem 'exploding gradient'",
      provenance="AUTOTRAINER's exploding-gradient problem (activations and gradients that grow layer by layer); "
                 "re-created as a deep residual MLP without normalization or residual scaling (the setting Fixup, "
                 "Zhang et al. 2019, repairs): 16 blocks h + W2 relu(W1 h), He-normal, so the activations' variance "
                 "doubles per block, on standardized MNIST, momentum SGD lr 0.01")
def blind2_at_unnormalized_resmlp() -> Patient:
    """Dense 784-128, 16 unscaled residual blocks (He), Glorot head, standardized MNIST, momentum SGD lr 0.01.

    Checked (plain torch, 300 steps): the activations' std grows 1.4, 2.4, 4.4, 7.6, ... 3.9e3, 6.5e3 over the 16
    blocks; initial loss 9.4e3, weight gradients ~1e4 in every layer, NaN at step 2; residual branches scaled by
    0.1: initial loss 3.7, val 89.8%.
    """
    reseed()
    train, val = images("mnist", 3000)
    return Patient(ResidualMLP(), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind2-dd-log-of-relu", faulty=True, cause="numeric-instability", lead="initial-loss",
      source=DD + "symptom 'numerical problem' (NaN in a hidden layer's output)",
      provenance="DeepDiagnosis' numerical problem raised inside the network: the activations are log-compressed "
                 "with torch.log instead of log1p (or log(x + eps)), and ReLU gives exact zeros, so -Inf enters the "
                 "output layer and the scores are NaN; Dense 784-128 ReLU -> log -> Dense 10 on standardized "
                 "Fashion-MNIST, momentum SGD lr 0.01")
def blind2_dd_log_of_relu() -> Patient:
    """Dense 784-128 ReLU -> torch.log -> Dense 10 (He), standardized Fashion-MNIST, momentum SGD lr 0.01.

    Checked (plain torch, 300 steps): the scores are NaN on the first batch; log1p instead: loss 2.55 -> 0.40, val
    80.2%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(LogCompressed("log"), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


# -- bugs in the code -----------------------------------------------------------------------------

@case("blind2-tdc-tanh-backward-uses-input", faulty=True, cause="wrong-gradient", lead="gradcheck",
      source=TDC + "hand-computed gradients (flipped_sign family)",
      provenance="TheDeepChecker verifies hand-computed gradients; re-created as a custom autograd.Function for "
                 "tanh whose backward returns grad * (1 - x^2) with the input x instead of the output tanh(x) "
                 "(negative wherever |x| > 1), used in a Dense 784-128-128-10 network (Glorot) on standardized "
                 "MNIST, momentum SGD lr 0.05")
def blind2_tdc_tanh_backward_uses_input() -> Patient:
    """Dense 784-128-128-10 with a hand-written tanh (wrong backward), Glorot, standardized MNIST, momentum SGD 0.05.

    Checked (plain torch, 300 steps): NaN after 9 steps, val 10.0%; nn.Tanh: loss -> 0.011, val 91.5%.
    """
    reseed()
    train, val = images("mnist", 3000)
    return Patient(init_(mlp([784, 128, 128, 10], HandTanh), "glorot"), train, val, lr=0.05, optimizer="momentum",
                   momentum=0.9)


@case("blind2-dl-attention-batch-first-default", faulty=True, cause="batch-mixing", lead="batch-independence",
      source=DL + "StackOverflow programs with a time-major/batch-major mix-up",
      provenance="a PyTorch form of the batch/time-axis mix-ups DeepLocalize collects: nn.TransformerEncoderLayer "
                 "built with its default batch_first=False and fed [batch, time, d] tensors, so self-attention runs "
                 "across the examples of the batch at each position; embedding 32 + positions, one layer, 2 heads, "
                 "the last position's output to the scores, planted-token sequences, Adam lr 1e-3")
def blind2_dl_attention_batch_first_default() -> Patient:
    """Embedding 32 -> TransformerEncoderLayer(batch_first=False) on [N, T, d] -> last position, Adam lr 1e-3.

    Checked (plain torch, 300 steps): loss 1.54 -> 1.16, val 38.2%; the first 8 examples' scores change by up to
    0.21 when 56 others join the batch; batch_first=True: val 100%, no change.
    """
    reseed()
    train, val = tokens(seed=24)
    return Patient(TokenEncoder(batch_first=False), train, val, lr=1e-3, optimizer="adam")


@case("blind2-dd-inverted-padding-mask", faulty=True, cause="input-ignored", lead="input-independent-baseline",
      source=DD + "symptom 'unchanged tensor in forward'",
      provenance="DeepDiagnosis' forward tensors that do not change with the input; re-created as a bag-of-"
                 "embeddings classifier whose padding mask is written ids == PAD instead of ids != PAD, so only "
                 "padding (absent here) is kept and every example pools to the zero vector; embedding 32, "
                 "Dense 32-64-4, planted-token sequences, Adam lr 1e-3")
def blind2_dd_inverted_padding_mask() -> Patient:
    """Masked mean of embeddings (mask inverted) -> Dense 32-64-4 ReLU, planted-token sequences, Adam lr 1e-3.

    Checked (plain torch, 300 steps): the scores' std over the batch is 0.0 at init; loss stays at 1.39, val 24.3%;
    ids != PAD: val 100%.
    """
    reseed()
    train, val = tokens(seed=25)
    return Patient(MaskedBag(inverted=True), train, val, lr=1e-3, optimizer="adam")


@case("blind2-traincheck-numpy-round-trip", faulty=True, cause="detached-gradient", lead="gradient-flow",
      source=TRAINCHECK + "silent error: parameters that never update",
      provenance="TrainCheck's silent training errors in which some parameters stop receiving updates while the "
                 "loss still falls; re-created as a ReLU6 computed with np.clip on the features inside forward "
                 "(a numpy round trip, so the graph is cut): Dense 784-256-32 below it never learns and only the "
                 "Dense 32-10 head trains; standardized MNIST, momentum SGD lr 0.01")
def blind2_traincheck_numpy_round_trip() -> Patient:
    """Dense 784-256-32 -> np.clip(0, 6) round trip -> Dense 32-10 (He), standardized MNIST, momentum SGD lr 0.01.

    Checked (plain torch, 300 steps): the two lower layers' gradients are exactly 0; loss 3.19 -> 1.11, val 59.3%;
    torch.clamp instead: loss -> 0.047, val 90.3%.
    """
    reseed()
    train, val = images("mnist", 3000)
    return Patient(NumpyReLU6(numpy=True), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


# -- capacity -------------------------------------------------------------------------------------

@case("blind2-dl-global-pool-after-first-conv", faulty=True, cause="too-little-capacity", lead="overfit-tiny",
      source=DL + "StackOverflow programs whose model cannot fit the task",
      provenance="an architecture mistake of the kind DeepLocalize's StackOverflow programs show: a Keras-style "
                 "GlobalAveragePooling placed right after the first convolution (conv 3x3, 8 channels, ReLU), so "
                 "each CIFAR-10 image reaches the classifier as 8 numbers; CIFAR-10 at 16x16, Adam lr 3e-3")
def blind2_dl_global_pool_after_first_conv() -> Patient:
    """Conv 3x3 (8) -> ReLU -> global average pool -> Dense 8-10, standardized CIFAR-10 at 16x16, Adam lr 3e-3.

    Checked (plain torch, 300 steps): loss 2.31 -> 1.99, train 26.4%, val 26.0%; TheDeepChecker's baseCNN on the
    same data and recipe: train 60.8%, val 44.2%.
    """
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 10))
    return Patient(model, train, val, lr=3e-3, optimizer="adam")


# -- healthy patients ------------------------------------------------------------------------------

@case("blind2-healthy-resnet-mnist-adam", faulty=False, source="paper: He et al. 2016 (ResNet, CIFAR variant)",
      provenance="trainlab's batch-normalized ResNet (three stages of one BasicBlock, width 8-16-32) on MNIST at "
                 "14x14 trained by Adam at lr 1e-3, batch 64")
def blind2_healthy_resnet_mnist_adam() -> Patient:
    """Zoo ResNet (1-1-1 blocks, width 8), standardized MNIST at 14x14, Adam lr 1e-3.

    Checked (plain torch, 300 steps): loss 2.49 -> 0.23, train 96.9%, val 93.3%.
    """
    reseed()
    train, val = images("mnist", 3000, pool=2)
    return Patient(ResNet(ResNetConfig(in_channels=1, width=8, blocks=(1, 1, 1))), train, val, lr=1e-3,
                   optimizer="adam")


@case("blind2-healthy-gru-tokens", faulty=False, source="paper: Cho et al. 2014 (GRU)",
      provenance="a GRU sequence classifier (embedding 16, GRU 64 batch first, the last state) over planted-token "
                 "sequences, Adam lr 3e-3, batch 32")
def blind2_healthy_gru_tokens() -> Patient:
    """Embedding 16 -> GRU 64 -> scores, planted-token sequences, Adam lr 3e-3, batch 32.

    Checked (plain torch, 300 steps): loss 1.37 -> 6.5e-4, train and val 100%; the scores do not depend on the
    batch.
    """
    reseed()
    train, val = tokens(seed=26)
    return Patient(RecurrentClassifier(), train, val, lr=3e-3, optimizer="adam", batch_size=32)


@case("blind2-healthy-row-lstm-fashion", faulty=False, source="paper: Hochreiter & Schmidhuber 1997 (LSTM)",
      provenance="the tutorials' sequential image classifier: Fashion-MNIST at 14x14 read as 14 rows of 14 pixels by "
                 "an LSTM of 64 units, the last state to the scores, Adam lr 3e-3")
def blind2_healthy_row_lstm_fashion() -> Patient:
    """Rows of standardized Fashion-MNIST at 14x14 -> LSTM 64 -> scores, Adam lr 3e-3.

    Checked (plain torch, 300 steps): loss 2.32 -> 0.54, train 83.1%, val 76.0%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000, pool=2)
    return Patient(RowLSTM(14), train, val, lr=3e-3, optimizer="adam")


@case("blind2-healthy-tutorial-cnn-cifar", faulty=False,
      source="paper: the PyTorch tutorial 'Training a Classifier' (CIFAR-10), after LeCun et al. 1998",
      provenance="the tutorial's LeNet-style CIFAR-10 network at full 32x32 resolution with PyTorch's default init, "
                 "trained by momentum SGD (the tutorial's optimizer) at lr 0.02, batch 64")
def blind2_healthy_tutorial_cnn_cifar() -> Patient:
    """PyTorch tutorial CNN (6-16 channels, dense 120-84), standardized CIFAR-10 32x32, momentum SGD lr 0.02.

    Checked (plain torch, 300 steps): initial loss 2.30 (chance), loss -> 1.48, train 51.3%, val 47.2%.
    """
    reseed()
    train, val = images("cifar10", 3000, val=400)
    return Patient(TutorialNet(), train, val, lr=0.02, optimizer="momentum", momentum=0.9)


@case("blind2-healthy-bn-elu-mlp-fashion", faulty=False, source="paper: Ioffe & Szegedy 2015 (batch norm), "
      "Clevert et al. 2016 (ELU)",
      provenance="Dense 784-256-128-10 with batch norm and ELU after each hidden layer (PyTorch default init) on "
                 "standardized Fashion-MNIST, momentum SGD lr 0.05, batch 128")
def blind2_healthy_bn_elu_mlp_fashion() -> Patient:
    """Dense 784-256-128-10, BN + ELU, standardized Fashion-MNIST, momentum SGD lr 0.05, batch 128.

    Checked (plain torch, 300 steps): loss 2.54 -> 0.16, train 93.7%, val 79.9%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(mlp([784, 256, 128, 10], "elu", batch_norm=True), train, val, lr=0.05, optimizer="momentum",
                   momentum=0.9, batch_size=128)


@case("blind2-healthy-large-batch-linear-scaling", faulty=False,
      source="paper: Goyal et al. 2017 (large minibatch SGD, linear scaling rule)",
      provenance="a large-batch recipe that looks aggressive but is the linear scaling rule: Dense 784-512-10 ReLU "
                 "(He) with dropout 0.2 on standardized MNIST, batch 512, momentum SGD lr 0.2 (0.025 x 512/64)")
def blind2_healthy_large_batch_linear_scaling() -> Patient:
    """Dense 784-512-10 ReLU (He) + dropout 0.2, standardized MNIST, batch 512, momentum SGD lr 0.2.

    Checked (plain torch, 300 steps): loss 3.03 -> 0.0035, train 100%, val 93.3%.
    """
    reseed()
    train, val = images("mnist", 3000)
    return Patient(init_(mlp([784, 512, 10], dropout=0.2), "he"), train, val, lr=0.2, optimizer="momentum",
                   momentum=0.9, batch_size=512)

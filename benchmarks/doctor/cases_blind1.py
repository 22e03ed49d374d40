"""A blind set of cases: faults ported from the public benchmarks by someone who never saw how the doctor decides.

Written blind on 2026-12-03 by a helper agent that never ran the doctor: it read only ``common.py``,
``causes.py``, ``symptoms.py``, ``cases_deepfd.py`` (as a format sample), ``trainlab.nn.zoo`` and the
list of existing cases, never the doctor's code, its documentation or its scores. Each case's ground
truth was written in its decorator before the case was trained; every case was then checked with
plain torch only (``symptoms.train_plainly``, 300 steps, one thread), against a repaired twin where
one makes the fault visible.

The faults are re-created from TheDeepChecker (Braiek & Khomh, TOSEM), AUTOTRAINER (ICSE 2021),
DeepDiagnosis (ICSE 2022), DeepLocalize's StackOverflow programs and DeepFD (ICSE 2022), on
models, data and recipes different from the other case files; the healthy cases are realistic
setups that a detector could misread (label smoothing, a LogSoftmax head, one-vs-rest BCE, strong
dropout, weight decay with momentum) and that do train.

Changes made after the plain-torch checks (the labels were never changed):

* blind1-dfd-momentum-0999: drafted at lr 0.01, where momentum 0.999 only slowed training (val 69.1%, last
  loss 0.92, against 82.4% and 0.31 at momentum 0.9); the lr raised to 0.05, where momentum 0.999 leaves it at
  val 29.9% and loss 3.1 (momentum 0.9 at the same lr: 82.0%, 0.36).
* blind1-tdc-deepcnn-unb-data: drafted with 3% of each minority class (val 71.6% against 81.6% for a balanced
  set of the same size); cut to 1% (a ~100:1 imbalance): val 62.2% against 81.1%, a third of the validation
  images predicted as the majority class.
* blind1-at-improper-activation-relu-output: drafted on 3 blobs at the demo's Adam lr 1e-4, batch 256, where no
  output unit died and it trained like its twin without the output ReLU (val 86.0% against 85.4%); moved to 6
  blobs at Keras' Adam defaults (lr 1e-3, batch 32): 3 of the 6 scores are dead on every training input, val
  19.2% against 72.0% without the output ReLU.
* blind1-healthy-tanh-glorot-spirals (healthy) did not clearly train in 300 steps (val 35.4% on 3 spiral arms;
  also 31-37% at lr 0.1, width 128 or Adam, 59% on 2 arms) and became blind1-healthy-tanh-glorot-tabular, the
  same tanh/Glorot network and recipe on 16 standardized tabular features: val 91.8%. (A tanh MLP on flattened
  CIFAR-10 was also tried and rejected: val 35.5% but train 87.7%, an overfitting gap, not a healthy patient.)
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.doctor.common import (
    LeNet,
    Patient,
    case,
    generated,
    images,
    init_,
    mlp,
    one_hot,
    reseed,
    tabular,
    tokens,
    xor,
)
from trainlab.nn.zoo import (
    VGG,
    MobileNet,
    MobileNetConfig,
    ResNet,
    ResNetConfig,
    TransformerClassifier,
    TransformerConfig,
    VGGConfig,
)

TDC = "TheDeepChecker "
AT = "AUTOTRAINER "
DD = "DeepDiagnosis "
DL = "DeepLocalize "
FD = "DeepFD "


# -- small models and losses ----------------------------------------------------------------------

class ConvNet(nn.Module):
    """A plain (no batch norm) conv 3x3 -> ReLU -> pool, conv 3x3 -> ReLU -> pool, dense, scores network
    for 16x16 images: TheDeepChecker's deepCNN reduced to two conv stages."""

    def __init__(self, in_channels: int = 3, classes: int = 10, *, channels: tuple[int, int] = (16, 32),
                 hidden: int = 64, side: int = 16) -> None:
        super().__init__()
        c1, c2 = channels
        self.net = nn.Sequential(nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(c2 * (side // 4) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Scaled(nn.Module):
    """``factor * model(x)``: scores multiplied by a constant (an over-scaled output layer)."""

    def __init__(self, model: nn.Module, factor: float) -> None:
        super().__init__()
        self.model, self.factor = model, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * self.model(x)


class ReluRNN(nn.Module):
    """Token ids -> embedding -> a one-layer ReLU ``nn.RNN`` (batch first) -> the last hidden state -> scores."""

    def __init__(self, vocab: int, classes: int, *, dim: int = 16, hidden: int = 64, recurrent_std: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.rnn = nn.RNN(dim, hidden, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(hidden, classes)
        with torch.no_grad():
            nn.init.normal_(self.rnn.weight_hh_l0, std=recurrent_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.rnn(self.embed(x.long()))
        return self.head(h[:, -1])


def nll_on_scores(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``F.nll_loss`` on raw scores: the log-softmax left out, so the loss is ``-mean(s_y)``."""
    return F.nll_loss(scores, y)


def summed_cross_entropy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over the batch instead of averaged."""
    return F.cross_entropy(scores, y, reduction="sum")


def negated_cross_entropy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with its sign flipped (training maximizes it)."""
    return -F.cross_entropy(scores, y)


def smoothed_cross_entropy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with label smoothing 0.1 (its minimum is well above 0)."""
    return F.cross_entropy(scores, y, label_smoothing=0.1)


def one_vs_rest_bce(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits against one-hot targets (one-vs-rest), a sound multi-class loss."""
    return F.binary_cross_entropy_with_logits(scores, one_hot(y, scores.shape[1]))


# -- the learning rate ----------------------------------------------------------------------------

@case("blind1-tdc-regrnn-high-lr-sgd", faulty=True, cause="lr-too-high", lead="lr-range",
      source=TDC + "buggy_synthetic_programs/high_lr/regrNN_high_lr.py",
      provenance="the dense program (two hidden layers of 64, He-normal) with its learning rate raised until it "
                 "hinders learning; ported as a Fashion-MNIST classifier, Dense 784-64-64-10 ReLU, plain SGD at "
                 "lr 1.5 (a rate that trains this network is ~0.05)")
def blind1_tdc_regrnn_high_lr_sgd() -> Patient:
    """Dense 784-64-64-10 ReLU (He), standardized Fashion-MNIST, plain SGD lr 1.5."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784, 64, 64, 10]), "he"), train, val, lr=1.5, optimizer="sgd")


@case("blind1-tdc-deepcnn-high-lr-adam", faulty=True, cause="lr-too-high", lead="lr-range",
      source=TDC + "buggy_synthetic_programs/high_lr/deepCNN_high_lr.py",
      provenance="the VGG-like deepCNN (conv-BN-ReLU pairs, CIFAR-10) with its learning rate raised far above the "
                 "clean program's; ported with trainlab's batch-normalized VGG (one conv per stage, 16-32-64) on "
                 "CIFAR-10 at 16x16, trained by Adam at lr 0.5 instead of a rate near 1e-3")
def blind1_tdc_deepcnn_high_lr_adam() -> Patient:
    """Zoo VGG (16-32-64, BN), CIFAR-10 at 16x16, Adam lr 0.5."""
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    model = VGG(VGGConfig(stages=((16,), (32,), (64,)), hidden=64))
    return Patient(model, train, val, lr=0.5, optimizer="adam")


@case("blind1-dl-55328966-sgd-1e-4", faulty=True, cause="lr-too-low", lead="lr-range",
      source=DL + "Benchmark/StackOverflow/55328966",
      provenance="a Keras MNIST network (Dense 784 linear, Dense 50 ReLU, Dense 10) trained by TensorFlow's "
                 "GradientDescentOptimizer at alpha = 0.0001, batch 32, for 10 epochs; ported with the same "
                 "layers (Glorot-uniform, Keras' default) and the same plain SGD at 1e-4 on standardized pixels "
                 "(the program's unscaled CSV pixels and sigmoid output are left out: one fault per case)")
def blind1_dl_55328966_sgd_1e_4() -> Patient:
    """Dense 784-784(linear)-50-10 (Glorot), standardized MNIST, plain SGD lr 1e-4, batch 32."""
    reseed()
    train, val = images("mnist", 3000)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))
    return Patient(init_(model, "glorot"), train, val, lr=1e-4, optimizer="sgd", batch_size=32)


@case("blind1-tdc-deepcnn-low-lr", faulty=True, cause="lr-too-low", lead="lr-range",
      source=TDC + "buggy_synthetic_programs/low_lr/deepCNN_low_lr.py",
      provenance="the VGG-like deepCNN (conv-BN-ReLU, momentum 0.9) with its learning rate lowered 100x below the "
                 "clean program's; ported with trainlab's batch-normalized VGG (16-16, 32-32) on CIFAR-10 at 16x16, "
                 "momentum SGD at lr 1e-5")
def blind1_tdc_deepcnn_low_lr() -> Patient:
    """Zoo VGG (16-16, 32-32, BN), CIFAR-10 at 16x16, momentum SGD lr 1e-5."""
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    model = VGG(VGGConfig(stages=((16, 16), (32, 32)), hidden=64))
    return Patient(model, train, val, lr=1e-5, optimizer="momentum", momentum=0.9)


# -- the optimizer's other settings ---------------------------------------------------------------

@case("blind1-dfd-opt-adam-at-sgd-lr", faulty=True, cause="bad-optimizer-settings", lead="lr-range",
      source=FD + "fault type 'opt' (optimizer swapped, SGD -> Adam)",
      provenance="DeepFD's 'opt' mutation the other way round from dfd-opt-sgd-at-adam-lr: an AUTOTRAINER LeNet-5 "
                 "tuned for SGD at lr 0.1 gets Adam while the learning rate stays at 0.1; re-created on trainlab's "
                 "ReLU LeNet-5 on standardized MNIST")
def blind1_dfd_opt_adam_at_sgd_lr() -> Patient:
    """LeNet-5 (ReLU, He), standardized MNIST, Adam at SGD's lr 0.1."""
    reseed()
    train, val = images("mnist", 3000)
    return Patient(LeNet(), train, val, lr=0.1, optimizer="adam")


@case("blind1-dfd-momentum-0999", faulty=True, cause="bad-optimizer-settings", lead="recipe",
      source=FD + "fault type 'opt' (optimizer settings)",
      provenance="DeepFD's 'opt' faults change the optimizer a program was tuned with; re-created as a setting of the "
                 "optimizer other than the lr gone wrong: SGD momentum 0.999 (effective step 1000x the lr) "
                 "at lr 0.05 on a Dense 784-128-10 ReLU Fashion-MNIST classifier that trains at momentum 0.9")
def blind1_dfd_momentum_0999() -> Patient:
    """Dense 784-128-10 ReLU (He), standardized Fashion-MNIST, SGD lr 0.05 with momentum 0.999."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784, 128, 10]), "he"), train, val, lr=0.05, optimizer="momentum", momentum=0.999)


# -- regularization and capacity ------------------------------------------------------------------

@case("blind1-tdc-deepcnn-over-reg", faulty=True, cause="too-much-regularization", lead="regularization",
      source=TDC + "buggy_synthetic_programs/over_regulariaztion/deepCNN_over_reg.py",
      provenance="the deepCNN's L2 penalty raised until it dominates the data loss; ported on trainlab's LeNet-5 "
                 "(ReLU, He, no batch norm) on standardized Fashion-MNIST, momentum SGD lr 0.01, weight decay 1.0")
def blind1_tdc_deepcnn_over_reg() -> Patient:
    """LeNet-5 (ReLU, He), standardized Fashion-MNIST, momentum SGD lr 0.01, weight decay 1.0."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(LeNet(), train, val, lr=0.01, optimizer="momentum", momentum=0.9, weight_decay=1.0)


@case("blind1-tdc-basecnn-miss-reg-cifar", faulty=True, cause="overfitting", lead="generalization-gap",
      source=TDC + "buggy_synthetic_programs/missing_regulariaztion/baseCNN_miss_reg.py",
      provenance="baseCNN with its L2 and dropout removed; ported as a wide two-stage conv net (32-64 channels, "
                 "dense 256) without any regularization on only 256 CIFAR-10 images at 16x16 (validated on 400 "
                 "others), Adam lr 1e-3, batch 32")
def blind1_tdc_basecnn_miss_reg_cifar() -> Patient:
    """Conv 32-64 + dense 256, no regularization, 256 CIFAR-10 images at 16x16, Adam lr 1e-3, batch 32."""
    reseed()
    train, val = images("cifar10", 256, val=400, pool=2)
    model = init_(ConvNet(channels=(32, 64), hidden=256), "he")
    return Patient(model, train, val, lr=1e-3, optimizer="adam", batch_size=32)


@case("blind1-dfd-act-linear-xor", faulty=True, cause="too-little-capacity", lead="overfit-tiny",
      source=FD + "fault type 'act' on Benchmark/Subjects/31556268 (XOR)",
      provenance="DeepFD's 'act' mutation to 'linear' applied to its XOR subject: the hidden activations become "
                 "the identity, so the network is linear and XOR is out of reach; ported as Dense 2-8-8-2 with "
                 "identity activations on noisy XOR clusters, Adam lr 0.01")
def blind1_dfd_act_linear_xor() -> Patient:
    """Dense 2-8-8-2 with identity activations (Glorot), noisy XOR, Adam lr 0.01."""
    reseed()
    train, val = xor()
    return Patient(init_(mlp([2, 8, 8, 2], "identity"), "glorot"), train, val, lr=0.01, optimizer="adam",
                   batch_size=32)


# -- the loss -------------------------------------------------------------------------------------

@case("blind1-tdc-deepcnn-miss-softmax-nll", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=TDC + "buggy_synthetic_programs/missing_softmax/deepCNN_miss_soft.py",
      provenance="the cross-entropy fed the logits with the softmax left out; ported as its PyTorch form, "
                 "F.nll_loss on raw scores (log_softmax forgotten), which is -mean(s_y) and unbounded below; on a "
                 "Dense 784-256-10 ReLU MNIST classifier, momentum SGD lr 0.01")
def blind1_tdc_deepcnn_miss_softmax_nll() -> Patient:
    """Dense 784-256-10 ReLU (He), standardized MNIST, loss = F.nll_loss(raw scores), momentum SGD lr 0.01."""
    reseed()
    train, val = images("mnist", 3000)
    return Patient(init_(mlp([784, 256, 10]), "he"), train, val, loss_fn=nll_on_scores, lr=0.01,
                   optimizer="momentum", momentum=0.9)


@case("blind1-tdc-deepcnn-red-softmax", faulty=True, cause="double-softmax", lead="loss-output",
      source=TDC + "buggy_synthetic_programs/redundant_softmax/deepCNN_red_soft.py",
      provenance="the deepCNN's outputs passed through softmax and then given to softmax_cross_entropy; ported as "
                 "trainlab's batch-normalized VGG (16-32-64) ending in nn.Softmax(dim=1), trained with "
                 "F.cross_entropy, momentum SGD lr 0.01 on CIFAR-10 at 16x16")
def blind1_tdc_deepcnn_red_softmax() -> Patient:
    """Zoo VGG (16-32-64, BN) + Softmax, CIFAR-10 at 16x16, cross-entropy, momentum SGD lr 0.01."""
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    model = nn.Sequential(VGG(VGGConfig(stages=((16,), (32,), (64,)), hidden=64)), nn.Softmax(dim=1))
    return Patient(model, train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind1-tdc-deepcnn-wrong-loss-sum", faulty=True, cause="loss-reduction", lead="loss-reduction",
      source=TDC + "buggy_synthetic_programs/wrong_loss_function/deepCNN_wrong_loss.py",
      provenance="the cross-entropy reduced with a sum over the batch instead of a mean; ported on a Dense "
                 "784-256-10 ReLU Fashion-MNIST classifier with batch 128 and plain SGD at lr 0.05 (a rate meant "
                 "for the mean, so each step is 128x too large)")
def blind1_tdc_deepcnn_wrong_loss_sum() -> Patient:
    """Dense 784-256-10 ReLU (He), standardized Fashion-MNIST, summed cross-entropy, batch 128, SGD lr 0.05."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784, 256, 10]), "he"), train, val, loss_fn=summed_cross_entropy, lr=0.05,
                   optimizer="sgd", batch_size=128)


@case("blind1-tdc-regrnn-flip-sign", faulty=True, cause="loss-sign", lead="loss-output",
      source=TDC + "buggy_synthetic_programs/flipped_sign/regrNN_flip_sign.py",
      provenance="the dense program (64-64, He, Adam 1e-3) with the sign of its objective flipped, so training "
                 "maximizes the loss; ported as a classifier of 12 standardized tabular features into 4 classes, "
                 "loss = -cross-entropy")
def blind1_tdc_regrnn_flip_sign() -> Patient:
    """Dense 12-64-64-4 ReLU (He), tabular features, loss = -cross-entropy, Adam lr 1e-3."""
    reseed()
    train, val = tabular(scales=(1.0,) * 12, classes=4, seed=3)
    return Patient(init_(mlp([12, 64, 64, 4]), "he"), train, val, loss_fn=negated_cross_entropy, lr=1e-3,
                   optimizer="adam", batch_size=32)


# -- initialization -------------------------------------------------------------------------------

@case("blind1-tdc-deepcnn-zeros-init", faulty=True, cause="bad-init-zeros", lead="init-health",
      source=TDC + "buggy_synthetic_programs/wrong_init/deepCNN_constant.py",
      provenance="the deepCNN's kernels set to one constant, which never breaks the units' symmetry; ported "
                 "with the constant 0 (tf.zeros_initializer, the commonest form) for every kernel and bias of a "
                 "plain two-stage conv net on CIFAR-10 at 16x16, momentum SGD lr 0.01")
def blind1_tdc_deepcnn_zeros_init() -> Patient:
    """Conv 16-32 + dense 64, every weight and bias 0, CIFAR-10 at 16x16, momentum SGD lr 0.01."""
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    return Patient(init_(ConvNet(), "zeros"), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind1-tdc-deepcnn-random-init", faulty=True, cause="bad-init-large", lead="initial-loss",
      source=TDC + "buggy_synthetic_programs/wrong_init/deepCNN_random.py",
      provenance="the deepCNN's kernels drawn with an arbitrary standard deviation; ported as N(0, 1) for every "
                 "kernel of a plain two-stage conv net (fan-ins 27 to 512) on standardized CIFAR-10 at 16x16, "
                 "momentum SGD lr 0.01")
def blind1_tdc_deepcnn_random_init() -> Patient:
    """Conv 16-32 + dense 64, weights N(0, 1), CIFAR-10 at 16x16, momentum SGD lr 0.01."""
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    return Patient(init_(ConvNet(), "normal:1.0"), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind1-tdc-over-scaled-outputs", faulty=True, cause="bad-init-large", lead="initial-loss",
      source=TDC + "buggy_synthetic_programs/over_scaled_outputs/regrNN_over_scaled_outputs.py",
      provenance="the program's outputs scaled up far beyond the targets' range; ported as a Dense 784-128-10 ReLU "
                 "Fashion-MNIST classifier whose scores are multiplied by 100 before the softmax loss (a misplaced "
                 "temperature), plain SGD lr 0.01")
def blind1_tdc_over_scaled_outputs() -> Patient:
    """100 x Dense 784-128-10 ReLU (He), standardized Fashion-MNIST, plain SGD lr 0.01."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(Scaled(init_(mlp([784, 128, 10]), "he"), 100.0), train, val, lr=0.01, optimizer="sgd")


@case("blind1-at-deep-relu-small-init", faulty=True, cause="bad-init-small", lead="init-health",
      source=AT + "model set (deep Dense ReLU models, kernel_initializer RandomNormal with a small stddev)",
      provenance="AUTOTRAINER's deep Dense ReLU models whose kernels are drawn too small for their depth; "
                 "re-created as eight hidden ReLU layers of 128 units with weights N(0, 0.01^2) on standardized "
                 "Fashion-MNIST, momentum SGD lr 0.01: the activations shrink ~10x per layer")
def blind1_at_deep_relu_small_init() -> Patient:
    """Dense 784-128x8-10 ReLU, weights N(0, 0.01^2), standardized Fashion-MNIST, momentum SGD lr 0.01."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784] + [128] * 8 + [10]), "normal:0.01"), train, val, lr=0.01,
                   optimizer="momentum", momentum=0.9)


# -- activations and gradients --------------------------------------------------------------------

@case("blind1-dd-tanh-normal-init-saturated", faulty=True, cause="saturating-activation", lead="init-health",
      source=DD + "symptom 'saturated activation' (AUTOTRAINER model set, tanh models)",
      provenance="DeepDiagnosis flags tanh/sigmoid layers whose units sit at +-1; re-created as three hidden tanh "
                 "layers of 64 units whose weights are N(0, 1) (pre-activations of std 8 to 28, so nearly every "
                 "unit is saturated), a Glorot output layer, standardized Fashion-MNIST, plain SGD lr 0.01")
def blind1_dd_tanh_normal_init_saturated() -> Patient:
    """Dense 784-64-64-64-10 tanh, hidden weights N(0, 1), Glorot output, Fashion-MNIST, SGD lr 0.01."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    model = init_(mlp([784, 64, 64, 64, 10], "tanh"), "normal:1.0")
    nn.init.xavier_uniform_(model[-1].weight)
    nn.init.zeros_(model[-1].bias)
    return Patient(model, train, val, lr=0.01, optimizer="sgd")


@case("blind1-at-improper-activation-relu-output", faulty=True, cause="dead-relu", lead="init-health",
      source=AT + "AutoTrainer/demo_case/Improper_Activation_case/demo_activation.py",
      provenance="AUTOTRAINER's improper-activation demo: Dense 2-50-50-50-50 ReLU (He-uniform) whose output layer "
                 "Dense(3) also has a ReLU, trained with categorical cross-entropy by Adam lr 1e-4, batch 256, on "
                 "its blob data; ported with the ReLU kept on the scores (a class whose score is negative for every "
                 "input is dead and never recovers) on trainlab's blobs with 6 classes, Adam at Keras' defaults "
                 "(lr 1e-3, batch 32)")
def blind1_at_improper_activation_relu_output() -> Patient:
    """Dense 2-50x4-6 ReLU (He-uniform) with a ReLU on the scores, 6 blobs, Adam lr 1e-3, batch 32."""
    reseed()
    train, val = generated("synthetic-blobs", classes=6, dims=2, seed=4)
    model = nn.Sequential(init_(mlp([2, 50, 50, 50, 50, 6]), "he-uniform"), nn.ReLU())
    return Patient(model, train, val, lr=1e-3, optimizer="adam", batch_size=32)


@case("blind1-at-gradient-vanish-sigmoid-spirals", faulty=True, cause="vanishing-gradient", lead="gradient-flow",
      source=AT + "AutoTrainer/demo_case/Gradient_Vanish_Case",
      provenance="AUTOTRAINER's gradient-vanish demo (a deep sigmoid Dense model, repaired by ReLU, BN or SELU); "
                 "its model is an .h5 file, so re-created as eight hidden sigmoid layers of 32 units (Glorot) on "
                 "trainlab's 3-arm spirals, SGD lr 0.05, momentum 0.9")
def blind1_at_gradient_vanish_sigmoid_spirals() -> Patient:
    """Dense 2-32x8-3 sigmoid (Glorot), 3-arm spirals, momentum SGD lr 0.05."""
    reseed()
    train, val = generated("synthetic-spirals", classes=3)
    return Patient(init_(mlp([2] + [32] * 8 + [3], "sigmoid"), "glorot"), train, val, lr=0.05,
                   optimizer="momentum", momentum=0.9, batch_size=32)


@case("blind1-at-relu-rnn-exploding", faulty=True, cause="exploding-gradient", lead="gradient-flow",
      source=AT + "model set (RNN models; 'exploding gradient', repaired by gradient clipping)",
      provenance="AUTOTRAINER's 'exploding gradient' problem in recurrent models, one of whose repairs is gradient "
                 "clipping; re-created as a ReLU nn.RNN (hidden 64) over token sequences of length 16 whose "
                 "recurrent matrix is drawn N(0, 0.2^2) (spectral radius ~1.6), momentum SGD lr 0.01")
def blind1_at_relu_rnn_exploding() -> Patient:
    """Embedding 16 -> ReLU RNN 64 (W_hh ~ N(0, 0.2^2)) -> scores, planted-token sequences, momentum SGD lr 0.01."""
    reseed()
    train, val = tokens()
    return Patient(ReluRNN(24, 4, recurrent_std=0.2), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


# -- the data -------------------------------------------------------------------------------------

@case("blind1-dl-33969059-unscaled-features", faulty=True, cause="input-scale-large", lead="data",
      source=DL + "Benchmark/StackOverflow/33969059",
      provenance="three raw features drawn up to 10,000 (bounds=10000) fed to a Dense 3-3-2 tanh network "
                 "('uniform' init, dropout 0.5) with momentum SGD lr 0.1; re-created as three columns of mean 5,000 "
                 "and std 2,900 with a label from the standardized columns, Dense 3-16-16-2 tanh (Glorot), the "
                 "program's momentum SGD lr 0.1 (its one-unit softmax output and MSE are left out)")
def blind1_dl_33969059_unscaled_features() -> Patient:
    """Dense 3-16-16-2 tanh (Glorot), raw features ~5e3 +- 2.9e3, momentum SGD lr 0.1, batch 32."""
    reseed()
    train, val = tabular(scales=(2900.0,) * 3, offsets=(5000.0,) * 3, seed=5)
    return Patient(init_(mlp([3, 16, 16, 2], "tanh"), "glorot"), train, val, lr=0.1, optimizer="momentum",
                   momentum=0.9, batch_size=32)


@case("blind1-tdc-regrnn-dbl-norm", faulty=True, cause="input-scale-small", lead="data",
      source=TDC + "buggy_synthetic_programs/double_normalization/regrNN_dbl_norm.py",
      provenance="the dense program's inputs normalized twice; ported as Fashion-MNIST pixels already in [0, 1] "
                 "divided by 255 again (so in [0, 1/255]) into a Dense 784-256-10 ReLU network (He), plain SGD "
                 "lr 0.01")
def blind1_tdc_regrnn_dbl_norm() -> Patient:
    """Dense 784-256-10 ReLU (He), Fashion-MNIST pixels / 255 / 255, plain SGD lr 0.01."""
    reseed()
    (x, y), (xv, yv) = images("fashion-mnist", 3000, standardize=False)
    return Patient(init_(mlp([784, 256, 10]), "he"), (x / 255, y), (xv / 255, yv), lr=0.01, optimizer="sgd")


@case("blind1-dl-59325381-labels-div255", faulty=True, cause="wrong-labels", lead="generalization-gap",
      source=DL + "Benchmark/StackOverflow/59325381",
      provenance="an MNIST CNN (conv 64, conv 32, dense 128, Adam, sparse categorical cross-entropy) whose script "
                 "scales the labels with the pixels, y_train = y_train / 255, so every integer label becomes 0; "
                 "ported with the labels (y / 255) truncated to integers as the loss does, on trainlab's ReLU "
                 "LeNet-5 on standardized MNIST, Adam lr 1e-3; validation labels intact")
def blind1_dl_59325381_labels_div255() -> Patient:
    """LeNet-5 (ReLU, He), standardized MNIST with training labels (y / 255).long() == 0, Adam lr 1e-3."""
    reseed()
    (x, y), val = images("mnist", 3000)
    return Patient(LeNet(), (x, (y / 255).long()), val, lr=1e-3, optimizer="adam")


@case("blind1-tdc-wrong-lbl-off-by-one", faulty=True, cause="wrong-labels", lead="generalization-gap",
      source=TDC + "buggy_synthetic_programs/wrong_labels/deepCNN_wrong_lbl.py",
      provenance="features and labels that no longer correspond (TheDeepChecker shuffles one without the other); "
                 "re-created as the common off-by-one form, labels shifted one row against the images (y[i] is "
                 "image i+1's label), on a Dense 784-256-10 ReLU Fashion-MNIST classifier, Adam lr 1e-3; "
                 "validation labels intact")
def blind1_tdc_wrong_lbl_off_by_one() -> Patient:
    """Dense 784-256-10 ReLU (He), standardized Fashion-MNIST with labels rolled by one, Adam lr 1e-3."""
    reseed()
    (x, y), val = images("fashion-mnist", 3000)
    return Patient(init_(mlp([784, 256, 10]), "he"), (x, torch.roll(y, 1)), val, lr=1e-3, optimizer="adam")


@case("blind1-tdc-deepcnn-unb-data", faulty=True, cause="class-imbalance", lead="data",
      source=TDC + "buggy_synthetic_programs/unbalanced_data/deepCNN_unb_data.py",
      provenance="the training set reduced to a few percent of most classes; re-created with one dominant class: "
                 "all Fashion-MNIST T-shirts of the first 12,000 training images and 1% of every other class (a "
                 "~100:1 imbalance), validation balanced, Dense 784-128-10 ReLU, Adam lr 1e-3")
def blind1_tdc_deepcnn_unb_data() -> Patient:
    """Dense 784-128-10 ReLU (He), Fashion-MNIST with class 0 at 100% and the others at 1%, Adam lr 1e-3."""
    reseed()
    (x, y), val = images("fashion-mnist", 12000)
    keep = (y == 0) | (torch.rand(len(y), generator=torch.Generator().manual_seed(0)) < 0.01)
    return Patient(init_(mlp([784, 128, 10]), "he"), (x[keep], y[keep]), val, lr=1e-3, optimizer="adam")


# -- healthy patients ------------------------------------------------------------------------------

@case("blind1-healthy-mobilenet-cifar", faulty=False, source="paper: Howard et al. 2017 (MobileNet v1)",
      provenance="trainlab's MobileNet (stem 16, depthwise-separable blocks 32, 64/2, 64, 128/2) on CIFAR-10 at "
                 "16x16; the usual CIFAR recipe: momentum SGD lr 0.05, weight decay 5e-4")
def blind1_healthy_mobilenet_cifar() -> Patient:
    """Zoo MobileNet (16 -> 32 -> 64 -> 64 -> 128), CIFAR-10 at 16x16, momentum SGD lr 0.05, weight decay 5e-4."""
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    model = MobileNet(MobileNetConfig(stem=16, blocks=((32, 1), (64, 2), (64, 1), (128, 2))))
    return Patient(model, train, val, lr=0.05, optimizer="momentum", momentum=0.9, weight_decay=5e-4)


@case("blind1-healthy-resnet-fashion", faulty=False, source="paper: He et al. 2016 (ResNet, CIFAR variant)",
      provenance="trainlab's ResNet with three stages of one BasicBlock (width 8-16-32) on Fashion-MNIST at 14x14, "
                 "the paper's recipe: momentum SGD lr 0.05, weight decay 5e-4")
def blind1_healthy_resnet_fashion() -> Patient:
    """Zoo ResNet (1-1-1 blocks, width 8), Fashion-MNIST at 14x14, momentum SGD lr 0.05, weight decay 5e-4."""
    reseed()
    train, val = images("fashion-mnist", 3000, pool=2)
    model = ResNet(ResNetConfig(in_channels=1, width=8, blocks=(1, 1, 1)))
    return Patient(model, train, val, lr=0.05, optimizer="momentum", momentum=0.9, weight_decay=5e-4)


@case("blind1-healthy-mlp-dropout-smoothing", faulty=False, source="paper: Srivastava et al. 2014 (dropout), "
      "Szegedy et al. 2016 (label smoothing)",
      provenance="Dense 784-512-256-10 ReLU (He) with dropout 0.5 after each hidden layer, cross-entropy with "
                 "label smoothing 0.1 (the loss cannot fall below ~0.5), Adam lr 3e-4, on standardized MNIST")
def blind1_healthy_mlp_dropout_smoothing() -> Patient:
    """Dense 784-512-256-10 ReLU (He), dropout 0.5, label smoothing 0.1, standardized MNIST, Adam lr 3e-4."""
    reseed()
    train, val = images("mnist", 3000)
    model = init_(mlp([784, 512, 256, 10], dropout=0.5), "he")
    return Patient(model, train, val, loss_fn=smoothed_cross_entropy, lr=3e-4, optimizer="adam")


@case("blind1-healthy-tanh-glorot-tabular", faulty=False, source="paper: Glorot & Bengio 2010 (normalized init)",
      provenance="Dense 16-64-64-3 tanh with Glorot-uniform weights on 16 standardized tabular features with a "
                 "noisy linear label rule, momentum SGD lr 0.05, batch 32")
def blind1_healthy_tanh_glorot_tabular() -> Patient:
    """Dense 16-64-64-3 tanh (Glorot), standardized tabular features, momentum SGD lr 0.05, batch 32."""
    reseed()
    train, val = tabular(scales=(1.0,) * 16, classes=3, seed=7)
    return Patient(init_(mlp([16, 64, 64, 3], "tanh"), "glorot"), train, val, lr=0.05, optimizer="momentum",
                   momentum=0.9, batch_size=32)


@case("blind1-healthy-gelu-tabular", faulty=False, source="paper: Hendrycks & Gimpel 2016 (GELU)",
      provenance="Dense 12-64-64-4 with GELU activations (PyTorch default init) on 12 standardized tabular "
                 "features with a noisy linear label rule, Adam lr 1e-3, batch 32")
def blind1_healthy_gelu_tabular() -> Patient:
    """Dense 12-64-64-4 GELU (PyTorch init), standardized tabular features, Adam lr 1e-3, batch 32."""
    reseed()
    train, val = tabular(scales=(1.0,) * 12, classes=4, seed=6)
    return Patient(mlp([12, 64, 64, 4], nn.GELU), train, val, lr=1e-3, optimizer="adam", batch_size=32)


@case("blind1-healthy-transformer-dropout-tokens", faulty=False,
      source="paper: Vaswani et al. 2017 (Transformer encoder)",
      provenance="trainlab's pre-norm Transformer encoder (one layer, d 32, 2 heads, dropout 0.1) over token "
                 "sequences whose class is a token planted three times; Adam lr 1e-3, weight decay 1e-4")
def blind1_healthy_transformer_dropout_tokens() -> Patient:
    """Zoo Transformer (1 layer, d 32, 2 heads, dropout 0.1), planted-token sequences, Adam lr 1e-3."""
    reseed()
    train, val = tokens()
    config = TransformerConfig(num_classes=4, d_model=32, heads=2, layers=1, ff=64, dropout=0.1, vocab_size=24,
                               max_len=16)
    return Patient(TransformerClassifier(config), train, val, lr=1e-3, optimizer="adam", weight_decay=1e-4)


@case("blind1-healthy-logsoftmax-head", faulty=False, source="CS231n (softmax classifier; log-softmax scores)",
      provenance="a PyTorch idiom that looks like a double softmax but is not one: the model ends in "
                 "nn.LogSoftmax(dim=1) and is trained with F.cross_entropy, whose softmax of log-probabilities "
                 "gives them back unchanged; Dense 784-256-10 ReLU (He), Fashion-MNIST, momentum SGD lr 0.01")
def blind1_healthy_logsoftmax_head() -> Patient:
    """Dense 784-256-10 ReLU (He) + LogSoftmax, standardized Fashion-MNIST, cross-entropy, momentum SGD lr 0.01."""
    reseed()
    train, val = images("fashion-mnist", 3000)
    model = nn.Sequential(init_(mlp([784, 256, 10]), "he"), nn.LogSoftmax(dim=1))
    return Patient(model, train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind1-healthy-lenet-ovr-bce", faulty=False, source="CS231n (one-vs-all classifiers)",
      provenance="trainlab's ReLU LeNet-5 on standardized MNIST trained one-vs-rest: binary cross-entropy with "
                 "logits against one-hot targets (Keras' sigmoid + binary_crossentropy done right), Adam lr 1e-3")
def blind1_healthy_lenet_ovr_bce() -> Patient:
    """LeNet-5 (ReLU, He), standardized MNIST, BCE-with-logits on one-hot targets, Adam lr 1e-3."""
    reseed()
    train, val = images("mnist", 3000)
    return Patient(LeNet(), train, val, loss_fn=one_vs_rest_bce, lr=1e-3, optimizer="adam")

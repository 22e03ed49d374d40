"""Faults from DeepLocalize's StackOverflow programs (Wardat et al., ICSE 2021:
``Benchmark/StackOverflow/<question id>/Buggy Code``), Keras programs re-created in PyTorch.

Where a program's data is a CSV that is not public here, or a regression target, the port keeps
the program's model, recipe and fault and draws a small synthetic classification set of the
same shape (said per case). Keras' ``init='uniform'`` is U[-0.05, 0.05].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.doctor.common import Patient, case, generated, generator, images, init_, mlp, one_hot, tabular, xor

DL = "DeepLocalize Benchmark/StackOverflow/"


def bce_on_one_softmax(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Keras ``Dense(1) + Activation('softmax')`` trained with ``binary_crossentropy``: the softmax of one
    score is 1 for every example, so the loss is a constant and its gradient zero."""
    return F.binary_cross_entropy(scores.softmax(1)[:, 0], y.to(scores.dtype))


@case("dl-31880720-one-output-softmax", faulty=True, cause="loss-output-mismatch", lead="data",
      source=DL + "31880720",
      provenance="128 binary features, two classes (all ones / all zeros), Dense 50-50 ReLU with dropout 0.2, "
                 "then Dense(1) + softmax trained with binary_crossentropy: the softmax of a single score is always "
                 "1, so nothing is learned; ported with one output score, the softmax over it and PyTorch's binary "
                 "cross-entropy (num_classes=2), RMSprop replaced by Adam (lr 1e-3), batch 32 instead of 1")
def dl_31880720_one_output_softmax() -> Patient:
    """Dense 128-50-50-1 ReLU, dropout 0.2, BCE on the softmax of one score, 2 classes."""
    def draw(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, 2, (n,), generator=generator(seed))
        return y[:, None].float().expand(-1, 128).clone(), y
    model = mlp([128, 50, 50, 1], dropout=0.2)
    return Patient(model, draw(2000, 0), draw(200, 1), loss_fn=bce_on_one_softmax, lr=1e-3, optimizer="adam",
                   batch_size=32, num_classes=2)


@case("dl-39525358-unscaled-inputs", faulty=True, cause="input-scale-large", lead="data",
      source=DL + "39525358",
      provenance="three raw columns fed to a Dense 12-3 ReLU network ('uniform' init, Adam, batch 10) with the "
                 "StandardScaler lines commented out; the CSV is not here, so the columns are drawn at scales "
                 "1e3, 1e2 and 1e4 (offsets 5e3, 5e2, 5e4) with a label that depends on the standardized columns; "
                 "the sigmoid + binary cross-entropy output ported as two scores and the softmax loss")
def dl_39525358_unscaled_inputs() -> Patient:
    """Dense 3-12-3-2 ReLU, U[-0.05, 0.05] init, raw columns at scales 1e2..1e4, Adam lr 1e-3, batch 10."""
    train, val = tabular(scales=(1000.0, 100.0, 10000.0), offsets=(5000.0, 500.0, 50000.0), seed=3)
    return Patient(init_(mlp([3, 12, 3, 2]), "uniform:0.05"), train, val, lr=1e-3, optimizer="adam", batch_size=10)


@case("dl-34311586-xor-low-lr", faulty=True, cause="lr-too-low", lead="lr-range",
      source=DL + "34311586",
      provenance="XOR learned by a 2-2-3 sigmoid network with SGD at lr 0.001 (momentum 0.9) for 20 epochs; "
                 "ported on noisy XOR clusters with a 2-8-8-2 sigmoid network and the same optimizer (the "
                 "program's one-unit softmax output and MSE are left out: one fault per case)")
def dl_34311586_xor_low_lr() -> Patient:
    """Dense 2-8-8-2 sigmoid, noisy XOR, SGD lr 0.001, momentum 0.9."""
    train, val = xor()
    return Patient(mlp([2, 8, 8, 2], "sigmoid"), train, val, lr=0.001, optimizer="momentum", momentum=0.9,
                   batch_size=32)


def mse_on_softmax(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Keras ``loss='mean_squared_error'`` after a softmax output layer."""
    return F.mse_loss(scores.softmax(1), one_hot(y, scores.shape[1]))


@case("dl-38648195-mse-softmax", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=DL + "38648195",
      provenance="20 features, 3 classes (make_multilabel_classification), Dense 20-20 ReLU with dropout 0.5 and "
                 "a softmax output trained with mean_squared_error by SGD (Keras default lr 0.01); ported on 20-D "
                 "Gaussian blobs with one label each")
def dl_38648195_mse_softmax() -> Patient:
    """Dense 20-20-20-3 ReLU, dropout 0.5, loss = MSE(softmax, one-hot), SGD lr 0.01, batch 20."""
    train, val = generated("synthetic-blobs", classes=3, dims=20, spread=1.0)
    return Patient(mlp([20, 20, 20, 3], dropout=0.5), train, val, loss_fn=mse_on_softmax, lr=0.01, batch_size=20)


@case("dl-48385830-normal-init-sigmoid", faulty=True, cause="saturating-activation", lead="init-health",
      source=DL + "48385830",
      provenance="a Keras re-implementation of Nielsen's 784-30-10 MNIST network with RandomNormal(std 1) weights "
                 "and biases: with 784 inputs in [0, 1] the hidden pre-activations have std ~9 and sigmoid units "
                 "saturate (Nielsen's own diagnosis of this init); ported with the sigmoid hidden layer of "
                 "Nielsen's network, the softmax loss and SGD lr 0.1 (the program's lr 3.0 with MSE and its "
                 "missing activation are left out)")
def dl_48385830_normal_init_sigmoid() -> Patient:
    """Dense 784-30-10, sigmoid, N(0, 1) weights and biases, MNIST in [0, 1], SGD lr 0.1, batch 10."""
    train, val = images("mnist", 4000, standardize=False)
    model = init_(mlp([784, 30, 10], "sigmoid"), "normal:1", bias="normal:1")
    return Patient(model, train, val, lr=0.1, batch_size=10)


ADULT_SCALES = (13.6, 2.0, 105550.0, 3.9, 2.6, 1.5, 4.2, 1.6, 0.8, 0.5, 7385.0, 403.0, 12.3, 6.0)
ADULT_OFFSETS = (38.6, 3.0, 189778.0, 10.0, 10.1, 2.6, 6.0, 1.4, 3.7, 0.7, 1078.0, 87.0, 40.4, 36.0)
"""The UCI Adult columns' standard deviations and means (age, workclass code, fnlwgt, education code,
education-num, marital code, occupation code, relationship code, race code, sex, capital-gain,
capital-loss, hours-per-week, country code)."""


@case("dl-47724077-adult-unscaled", faulty=True, cause="input-scale-large", lead="data",
      source=DL + "47724077",
      provenance="the UCI Adult census table (age, fnlwgt ~1.9e5, capital-gain ...) fed unscaled to a Dense 14-21 "
                 "ReLU network (Adam, batch 100); the CSV is not here, so 14 columns are drawn with Adult's means "
                 "and standard deviations and a label that depends on the standardized columns")
def dl_47724077_adult_unscaled() -> Patient:
    """Dense 14-21-2 ReLU on raw Adult-like columns, Adam lr 1e-3, batch 100."""
    train, val = tabular(scales=ADULT_SCALES, offsets=ADULT_OFFSETS)
    return Patient(mlp([14, 21, 2]), train, val, lr=1e-3, optimizer="adam", batch_size=100)


@case("dl-31627380-titanic-nan", faulty=True, cause="nan-in-data", lead="data",
      source=DL + "31627380",
      provenance="the Titanic table fed to a Dense 512 ReLU network (Adam, batch 4); the program fills the missing "
                 "Age and Fare values with their means: re-created without that line, so ~20% NaN ages reach the "
                 "model (columns standardized, drawn with Titanic-like statistics since the CSV is not here)")
def dl_31627380_titanic_nan() -> Patient:
    """Dense 10-512-2 ReLU, dropout 0.5, ~20% of the Age column NaN, Adam lr 1e-3, batch 4."""
    (x, y), (xv, yv) = tabular(n=800, val=90, scales=(1.0,) * 10)
    for data, seed in ((x, 0), (xv, 1)):
        missing = torch.rand(len(data), generator=generator(seed)) < 0.2
        data[missing, 2] = float("nan")
    return Patient(mlp([10, 512, 2], dropout=0.5), (x, y), (xv, yv), lr=1e-3, optimizer="adam", batch_size=4)


@case("dl-39217567-shuffled-targets", faulty=True, cause="wrong-labels", lead="generalization-gap",
      source=DL + "39217567",
      provenance="8-bit patterns mapped to a random shuffle of the same patterns (y = X[:] then random.shuffle(y)): "
                 "the targets have nothing to do with the inputs; ported as 10-bit patterns with random class "
                 "labels, 800 patterns for training and the other 224 for validation, sigmoid 10-16-16-4 "
                 "(Keras 'normal' init, std 0.05), SGD lr 0.01, batch 50")
def dl_39217567_shuffled_targets() -> Patient:
    """Dense 10-16-16-4 sigmoid on 10-bit patterns with random labels."""
    codes = torch.arange(1024)
    bits = ((codes[:, None] >> torch.arange(10)) & 1).float()
    labels = torch.randint(0, 4, (1024,), generator=generator(0))
    perm = torch.randperm(1024, generator=generator(1))
    train, val = perm[:800], perm[800:]
    model = init_(mlp([10, 16, 16, 4], "sigmoid"), "normal:0.05")
    return Patient(model, (bits[train], labels[train]), (bits[val], labels[val]), lr=0.01, batch_size=50)


@case("dl-45442843-one-unit-bottleneck", faulty=True, cause="too-little-capacity", lead="overfit-tiny",
      source=DL + "45442843",
      provenance="a network whose only hidden layer is Dense(1) + sigmoid (then a one-unit softmax output); "
                 "ported as a 784-1-10 MNIST network, sigmoid bottleneck of one unit, softmax loss over 10 "
                 "scores, RMSprop replaced by Adam (lr 1e-3), batch 200")
def dl_45442843_one_unit_bottleneck() -> Patient:
    """Dense 784-1-10 with one sigmoid hidden unit, MNIST, Adam lr 1e-3, batch 200."""
    train, val = images("mnist", 4000)
    return Patient(mlp([784, 1, 10], "sigmoid"), train, val, lr=1e-3, optimizer="adam", batch_size=200)

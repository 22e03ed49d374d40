"""Faults from DeepFD (Cao et al., ICSE 2022): its StackOverflow subjects and its fault seeding.

DeepFD seeds five fault types into AUTOTRAINER's models (``CodeBook/Config.py``: ``FAULT_TYPE =
['opt', 'lr', 'act', 'loss', 'epoch']``, activations drawn from relu ... linear, optimizers from SGD
... Adagrad, probabilistic losses swapped for regression ones). Four of them are re-created here on
small models; 'epoch' (too few epochs) is a property of a whole run, not of a model and its recipe,
and is left out.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.doctor.common import Patient, case, generated, images, init_, mlp, one_hot, xor

FD = "DeepFD "


def mae_on_softmax(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Keras ``loss='mean_absolute_error'`` on a probability output."""
    return F.l1_loss(scores.softmax(1), one_hot(y, scores.shape[1]))


@case("dfd-31556268-xor-mae", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=FD + "Benchmark/Subjects/31556268",
      provenance="XOR by a 2-4-1 sigmoid network trained with mean_absolute_error and SGD (lr 0.05, momentum 0.11); "
                 "DeepFD labels the loss (and the lr, epochs) faulty, the repair uses MSE and Adam; ported: noisy "
                 "XOR clusters, 2-4-2 sigmoid (Glorot), MAE between the softmax and one-hot labels, the "
                 "program's SGD")
def dfd_31556268_xor_mae() -> Patient:
    """Dense 2-4-2 sigmoid (Glorot), noisy XOR, loss = MAE(softmax, one-hot), SGD lr 0.05, momentum 0.11."""
    train, val = xor()
    model = init_(mlp([2, 4, 2], "sigmoid"), "glorot")
    return Patient(model, train, val, loss_fn=mae_on_softmax, lr=0.05, optimizer="momentum", momentum=0.11,
                   batch_size=4)


@case("dfd-act-linear", faulty=True, cause="too-little-capacity", lead="overfit-tiny",
      source=FD + "fault type 'act' (activation replaced by 'linear')",
      provenance="DeepFD's 'act' mutation with the 'linear' activation: every hidden activation of an AUTOTRAINER "
                 "Circle-style model becomes the identity, so the network is linear; re-created on trainlab's "
                 "3-arm spirals (not linearly separable), Dense 2-64-64-3, Adam lr 0.01")
def dfd_act_linear() -> Patient:
    """Dense 2-64-64-3 with identity activations, 3-arm spirals, Adam lr 0.01."""
    train, val = generated("synthetic-spirals", classes=3)
    return Patient(mlp([2, 64, 64, 3], "identity"), train, val, lr=0.01, optimizer="adam", batch_size=32)


@case("dfd-lr-high", faulty=True, cause="lr-too-high", lead="lr-range",
      source=FD + "fault type 'lr' (learning rate raised)",
      provenance="DeepFD's 'lr' mutation raising the learning rate of an AUTOTRAINER Blob model; re-created as a "
                 "Dense 2-32-32-3 ReLU blob classifier trained by Adam at lr 1.0")
def dfd_lr_high() -> Patient:
    """Dense 2-32-32-3 ReLU (He), 3 Gaussian blobs, Adam lr 1.0."""
    train, val = generated("synthetic-blobs", classes=3, dims=2, seed=1)
    return Patient(init_(mlp([2, 32, 32, 3]), "he"), train, val, lr=1.0, optimizer="adam", batch_size=32)


@case("dfd-lr-low", faulty=True, cause="lr-too-low", lead="lr-range",
      source=FD + "fault type 'lr' (learning rate lowered)",
      provenance="DeepFD's 'lr' mutation lowering the learning rate of an AUTOTRAINER MNIST model; re-created as "
                 "a Dense 784-128-10 ReLU MNIST classifier trained by Adam at lr 1e-6")
def dfd_lr_low() -> Patient:
    """Dense 784-128-10 ReLU (He), MNIST, Adam lr 1e-6."""
    train, val = images("mnist", 4000)
    return Patient(init_(mlp([784, 128, 10]), "he"), train, val, lr=1e-6, optimizer="adam")


@case("dfd-opt-sgd-at-adam-lr", faulty=True, cause="bad-optimizer-settings", lead="lr-range",
      source=FD + "fault type 'opt' (optimizer swapped)",
      provenance="DeepFD's 'opt' mutation: the optimizer swapped (Adam -> SGD) while the learning rate tuned for "
                 "Adam (1e-3) stays; re-created on a Dense 784-256-10 ReLU Fashion-MNIST classifier")
def dfd_opt_sgd_at_adam_lr() -> Patient:
    """Dense 784-256-10 ReLU (He), Fashion-MNIST, plain SGD at Adam's lr 1e-3."""
    train, val = images("fashion-mnist", 4000)
    return Patient(init_(mlp([784, 256, 10]), "he"), train, val, lr=1e-3, optimizer="sgd")

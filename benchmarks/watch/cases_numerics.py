"""Bugs in the numbers: learning rates, initializations, activations, optimizer settings, the loss.

Each loop is the plain MNIST loop of :mod:`cases_healthy` with one setting wrong (marked ``# BUG``).
DeepFD's learning-rate faults are drawn as its seeding rule does (``CodeBook/SeedFaults/seedFaults.py``):
a random integer 1..10 for too high, 1e-10..1e-15 for too low.
"""
from __future__ import annotations

import random

import torch
import torch.nn.functional as F
from common import EVERY, SmallCNN, batches, case, images, mlp, train
from torch import nn

import trainlab
from trainlab.watcher import Watcher


def _sgd_loop(model: nn.Module, opt: torch.optim.Optimizer, *, standardize: bool = True) -> Watcher:
    """The plain loop: shuffled MNIST batches, cross-entropy, zero_grad / backward / step."""
    criterion = nn.CrossEntropyLoss()
    x, y = images("mnist", standardize=standardize)
    model.train()
    return train(model, opt, criterion, x, y)


def _init_weights(model: nn.Module, init) -> nn.Module:
    for m in model.modules():
        if isinstance(m, nn.Linear):
            init(m.weight)
    return model


# -- non-finite ------------------------------------------------------------------------------------
@case("adam-eps-zero", expected="non-finite",
      provenance="TheDeepChecker fault folder low_adam_epsilon (eps at its limit, 0)")
def adam_eps_zero() -> Watcher:
    """MLP on MNIST in [0, 1] (ToTensor only), Adam(eps=0): a weight whose gradient is exactly 0 (the
    always-black border pixels) gets 0 / 0."""
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=0.0)  # BUG: eps=0
    return _sgd_loop(model, opt, standardize=False)


# -- diverging -------------------------------------------------------------------------------------
@case("deepfd-lr-too-high", expected="diverging",
      provenance="DeepFD fault type 'lr' (too high: a random integer 1..10, seedFaults.py)")
def deepfd_lr_too_high() -> Watcher:
    """MLP, plain SGD with DeepFD's too-high learning rate (a random integer in 1..10, drawn with seed 0)."""
    lr = random.Random(0).randint(1, 10)  # BUG: DeepFD's seeded too-high rate
    model = mlp()
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=lr))


@case("flipped-sign-nll", expected="diverging",
      provenance="TheDeepChecker fault folder flipped_sign (sign error in the loss)")
def flipped_sign_nll() -> Watcher:
    """MLP with log_softmax; NLLLoss already negates, and the loop negates it again: gradient ascent."""
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    nll = nn.NLLLoss()
    x, y = images("mnist")
    model.train()
    with trainlab.watch(model, opt, criterion=nll, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            opt.zero_grad()
            loss = -nll(F.log_softmax(model(xb), dim=1), yb)  # BUG: NLLLoss is already the *negative* log-lik.
            loss.backward()
            opt.step()
    return w


# -- loss-flat -------------------------------------------------------------------------------------
@case("redundant-softmax", expected="loss-flat",
      provenance="TheDeepChecker fault folder redundant_softmax (softmax before a loss that applies it again)")
def redundant_softmax() -> Watcher:
    """MLP ending in nn.Softmax, trained with CrossEntropyLoss (which applies log_softmax itself)."""
    model = nn.Sequential(*mlp(), nn.Softmax(dim=1))  # BUG: CrossEntropyLoss wants logits
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


# -- loss-oscillating ------------------------------------------------------------------------------
@case("high-lr-linear", expected="loss-oscillating",
      provenance="TheDeepChecker fault folder high_lr; AUTOTRAINER 'unstable' (oscillating) symptom")
def high_lr_linear() -> Watcher:
    """A linear softmax classifier (convex: it cannot blow up the way a deep net does), SGD lr=1.0."""
    model = mlp((784, 10))
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=1.0))  # BUG: 100x the usual 0.01


# -- vanishing / exploding gradients ---------------------------------------------------------------
@case("deep-sigmoid", expected="vanishing-gradient",
      provenance="TheDeepChecker fault folder wrong_activation; Glorot & Bengio (2010); AUTOTRAINER/DeepDiagnosis "
                 "vanishing gradient")
def deep_sigmoid() -> Watcher:
    """Six sigmoid hidden layers of 256 with PyTorch's default ('standard') init, SGD with momentum."""
    model = mlp((784,) + (256,) * 6 + (10,), act=nn.Sigmoid)  # BUG: sigmoid in a deep net
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


@case("deep-tanh-uniform-init", expected="exploding-gradient",
      provenance="TheDeepChecker fault folder wrong_init (bad random init); AUTOTRAINER/DeepDiagnosis exploding "
                 "gradient")
def deep_tanh_uniform_init() -> Watcher:
    """Seven tanh hidden layers of 256, weights U(-1, 1) (std 0.58 instead of about 1/16): the chaotic regime,
    where back-propagated gradients grow layer by layer."""
    model = _init_weights(mlp((784,) + (256,) * 7 + (10,), act=nn.Tanh),
                          lambda w: nn.init.uniform_(w, -1.0, 1.0))  # BUG: not scaled by the fan-in
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


# -- dead-relu -------------------------------------------------------------------------------------
@case("high-lr-dying-relu", expected="dead-relu",
      provenance="TheDeepChecker fault folder high_lr; AUTOTRAINER 'dying ReLU'; CS231n (a too-high rate can "
                 "leave much of a ReLU network dead)")
def high_lr_dying_relu() -> Watcher:
    """MLP with two ReLU layers of 256, SGD with momentum at lr=0.5 (50x the usual 0.01)."""
    model = mlp((784, 256, 256, 10))
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9))  # BUG: lr


@case("bn-gamma-zero-everywhere", expected="dead-relu",
      provenance="TheDeepChecker fault folder wrong_init (constant); DeepDiagnosis 'dead node'; the zero-init-"
                 "last-BN trick of Goyal et al. (2017) applied to every BN of a plain CNN, re-created here")
def bn_gamma_zero_everywhere() -> Watcher:
    """CNN whose every BatchNorm weight starts at 0: each ReLU sees exactly 0 and gets no gradient."""
    model = SmallCNN()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.zeros_(m.weight)  # BUG: meant for the last BN of residual blocks only
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


# -- saturated -------------------------------------------------------------------------------------
@case("tanh-normal-std1", expected="saturated",
      provenance="TheDeepChecker fault folder wrong_init (bad random init); DeepDiagnosis saturated activation")
def tanh_normal_std1() -> Watcher:
    """One tanh hidden layer of 256; weights by nn.init.normal_(w), whose std defaults to 1."""
    model = _init_weights(mlp((784, 256, 10), act=nn.Tanh), nn.init.normal_)  # BUG: std=1 for fan-in 784
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


# -- update-ratio ----------------------------------------------------------------------------------
@case("deepfd-lr-too-low", expected="update-ratio",
      provenance="DeepFD fault type 'lr' (too low: 1e-10..1e-15, seedFaults.py)")
def deepfd_lr_too_low() -> Watcher:
    """MLP, SGD with momentum at DeepFD's too-low learning rate (10**-k, k a random integer in 10..15, seed 0)."""
    lr = 10.0 ** -random.Random(0).randint(10, 15)  # BUG: DeepFD's seeded too-low rate
    model = mlp()
    return _sgd_loop(model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))


@case("adam-lr-typo", expected="update-ratio",
      provenance="DeepFD fault type 'lr' / TheDeepChecker high_lr: Adam at 1e-1 where 1e-3 was meant")
def adam_lr_typo() -> Watcher:
    """MLP, Adam(lr=1e-1): every weight moves by about 0.1 a step, several times its own size."""
    model = mlp()
    return _sgd_loop(model, torch.optim.Adam(model.parameters(), lr=1e-1))  # BUG: 1e-1 for 1e-3

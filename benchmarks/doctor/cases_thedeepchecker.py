"""Faults from TheDeepChecker (Ben Braiek & Khomh): its synthetic programs (one fault seeded into a
clean baseCNN / deepCNN / regrNN each), its GitHub (TFE_*) and StackOverflow (IPS_*) programs.

Re-created in PyTorch: baseCNN is :class:`~benchmarks.doctor.common.BaseCNN` (the same layers at a
width two CPU cores train in seconds), on the first 4,000 MNIST training images, SGD at lr 0.1 with
the programs' L2 of 1e-5 (``tf.keras.regularizers.l2``, lambda ||W||^2) as ``weight_decay`` 2e-5
(trainlab's 0.5 lambda ||W||^2). The programs' data loader scales pixels to [0, 1]; here they are
standardized, as ``transforms.Normalize`` would, except where the fault is the scaling itself.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.doctor.common import BaseCNN, Patient, case, images, init_, mlp, one_hot

TDC = "TheDeepChecker buggy_synthetic_programs/"
L2 = 2e-5  # the programs' l2=1e-5 in trainlab's convention


def _mnist(**options) -> tuple:
    return images("mnist", 4000, **options)


# -- the learning rate and the optimizer ------------------------------------------------------------

@case("tdc-high-lr", faulty=True, cause="lr-too-high", lead="lr-range", source=TDC + "high_lr/baseCNN_high_lr.py",
      provenance="baseCNN trained by SGD at lr 0.5 instead of the clean program's 0.1 ('hinders the learning and "
                 "the accuracy drops'); ported as is")
def tdc_high_lr() -> Patient:
    """baseCNN, MNIST, SGD lr 0.5."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, lr=0.5, weight_decay=L2)


@case("tdc-low-lr", faulty=True, cause="lr-too-low", lead="lr-range", source=TDC + "low_lr/baseCNN_low_lr.py",
      provenance="baseCNN trained by SGD at lr 0.001, 100x below the clean program's 0.1; ported as is")
def tdc_low_lr() -> Patient:
    """baseCNN, MNIST, SGD lr 0.001."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, lr=0.001, weight_decay=L2)


@case("tdc-low-adam-epsilon", faulty=True, cause="bad-optimizer-settings", lead="lr-range",
      source=TDC + "low_adam_epsilon/baseCNN_low_eps.py",
      provenance="baseCNN trained by Adam at lr 0.1 with epsilon 1e-16; ported with Adam at lr 0.1 (today's "
                 "examine takes no epsilon: it is recorded in Patient.extra for the recipe-aware doctor)")
def tdc_low_adam_epsilon() -> Patient:
    """baseCNN, MNIST, Adam lr 0.1, eps 1e-16 (extra)."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, lr=0.1, optimizer="adam", weight_decay=L2, extra={"adam_eps": 1e-16})


# -- the data -------------------------------------------------------------------------------------

@case("tdc-missing-normalization", faulty=True, cause="input-scale-large", lead="data",
      source=TDC + "missing_normalization/baseCNN_miss_norm.py",
      provenance="the data loader's normalization turned off, raw 0..255 pixels reach the CNN; ported as is")
def tdc_missing_normalization() -> Patient:
    """baseCNN on raw 0..255 MNIST pixels, SGD lr 0.1."""
    train, val = _mnist(pixels=True)
    return Patient(BaseCNN(), train, val, lr=0.1, weight_decay=L2)


@case("tdc-double-normalization", faulty=True, cause="input-scale-small", lead="data",
      source=TDC + "double_normalization/baseCNN_dbl_norm.py",
      provenance="the loader divides by the range twice, as when images already decoded to [0, 1] are divided "
                 "by 255 again: pixels in [0, 1/255]; ported as is")
def tdc_double_normalization() -> Patient:
    """baseCNN on MNIST pixels / 255 / 255, SGD lr 0.1."""
    train, val = _mnist(standardize=False)
    train, val = (train[0] / 255, train[1]), (val[0] / 255, val[1])
    return Patient(BaseCNN(), train, val, lr=0.1, weight_decay=L2)


@case("tdc-double-normalization-cifar", faulty=True, cause="input-scale-small", lead="data",
      source=TDC + "double_normalization/deepCNN_dbl_norm.py",
      provenance="the deepCNN (CIFAR-10) program with the same doubled normalization; ported with baseCNN on "
                 "3-channel CIFAR-10 images (the first 3,600 of the subset) and deepCNN's momentum 0.9, at lr 0.01 "
                 "(deepCNN's 0.001 is for its batch-normalized VGG-like layers, which baseCNN does not have)")
def tdc_double_normalization_cifar() -> Patient:
    """baseCNN on CIFAR-10 pixels / 255 / 255, momentum SGD lr 0.01."""
    train, val = images("cifar10", 3600, val=400, standardize=False)
    train, val = (train[0] / 255, train[1]), (val[0] / 255, val[1])
    return Patient(BaseCNN(3, 32), train, val, lr=0.01, optimizer="momentum")


@case("tdc-wrong-labels", faulty=True, cause="wrong-labels", lead="generalization-gap",
      source=TDC + "wrong_labels/baseCNN_wrong_lbl.py",
      provenance="the loader shuffles the features but not the labels; ported: the training images permuted, "
                 "their labels kept in place (validation data intact)")
def tdc_wrong_labels() -> Patient:
    """baseCNN, MNIST with the training images shuffled away from their labels."""
    (x, y), val = _mnist()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
    return Patient(BaseCNN(), (x[perm], y), val, lr=0.1, weight_decay=L2)


@case("tdc-unbalanced-data", faulty=True, cause="class-imbalance", lead="data",
      source=TDC + "unbalanced_data/baseCNN_unb_data.py",
      provenance="the loader keeps 1% of classes 0 and 1, 2-5% of classes 2-5 and all of 6-9; ported with the "
                 "same fractions of the first 12,000 MNIST training images (validation balanced)")
def tdc_unbalanced_data() -> Patient:
    """baseCNN on MNIST where classes 0..5 keep 1, 1, 2, 3, 4, 5 % of their examples."""
    (x, y), val = images("mnist", 12000)
    keep = torch.zeros(len(y), dtype=torch.bool)
    for c in range(10):
        idx = (y == c).nonzero().flatten()
        fraction = 1.0 if c > 5 else 0.01 * max(c, 1)
        keep[idx[:max(1, int(len(idx) * fraction))]] = True
    return Patient(BaseCNN(), (x[keep], y[keep]), val, lr=0.1, weight_decay=L2)


# -- regularization -------------------------------------------------------------------------------

@case("tdc-over-regularization", faulty=True, cause="too-much-regularization", lead="regularization",
      source=TDC + "over_regulariaztion/baseCNN_over_reg.py",
      provenance="L2 raised from 1e-5 to 0.1 ('in a way that hinders the learning'); ported as weight decay 0.2 "
                 "(0.1 lambda ||W||^2 in trainlab's 0.5 lambda convention)")
def tdc_over_regularization() -> Patient:
    """baseCNN, MNIST, SGD lr 0.1, weight decay 0.2."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, lr=0.1, weight_decay=0.2)


@case("tdc-over-regularization-dense", faulty=True, cause="too-much-regularization", lead="regularization",
      source=TDC + "over_regulariaztion/regrNN_over_reg.py",
      provenance="the dense network (64-64, He-normal, Adam 1e-3) with its L2 raised to 0.1; the program regresses "
                 "auto-mpg, ported as a Fashion-MNIST classifier with weight decay 0.2")
def tdc_over_regularization_dense() -> Patient:
    """Dense 784-64-64-10 ReLU (He init), Fashion-MNIST, Adam lr 1e-3, weight decay 0.2."""
    train, val = images("fashion-mnist", 4000)
    model = init_(mlp([784, 64, 64, 10]), "he")
    nn.init.xavier_uniform_(model[-1].weight)  # the output layer names no initializer: TensorFlow's Glorot-uniform
    return Patient(model, train, val, lr=1e-3, optimizer="adam", weight_decay=0.2)


@case("tdc-missing-regularization", faulty=True, cause="overfitting", lead="generalization-gap",
      source=TDC + "missing_regulariaztion/deepCNN_miss_reg.py",
      provenance="dropout and L2 removed from a network with far more capacity than its data need; ported: a "
                 "dense 784-1024-1024-10 network without dropout or weight decay on 300 Fashion-MNIST images "
                 "(validated on 1,000 others)")
def tdc_missing_regularization() -> Patient:
    """Dense 784-1024-1024-10 ReLU, 300 Fashion-MNIST images, Adam lr 1e-3, no regularization."""
    train, val = images("fashion-mnist", 300)
    return Patient(init_(mlp([784, 1024, 1024, 10]), "he"), train, val, lr=1e-3, optimizer="adam")


# -- initialization -------------------------------------------------------------------------------

@case("tdc-wrong-init-constant", faulty=True, cause="bad-init-zeros", lead="init-health",
      source=TDC + "wrong_init/baseCNN_constant.py",
      provenance="every kernel initialized to the constant 0.01 ('unbreak the neurons symmetry'); ported as is")
def tdc_wrong_init_constant() -> Patient:
    """baseCNN with every weight 0.01 and zero biases, SGD lr 0.1."""
    train, val = _mnist()
    return Patient(init_(BaseCNN(), "constant:0.01"), train, val, lr=0.1, weight_decay=L2)


@case("tdc-wrong-init-constant-dense", faulty=True, cause="bad-init-zeros", lead="init-health",
      source=TDC + "wrong_init/regrNN_constant.py",
      provenance="the dense regression network (64-64) with constant kernels; ported as a classifier of "
                 "Fashion-MNIST with every weight 0.01")
def tdc_wrong_init_constant_dense() -> Patient:
    """Dense 784-64-64-10 ReLU with every weight 0.01, Fashion-MNIST, Adam lr 1e-3."""
    train, val = images("fashion-mnist", 4000)
    return Patient(init_(mlp([784, 64, 64, 10]), "constant:0.01"), train, val, lr=1e-3, optimizer="adam")


@case("tdc-wrong-init-random", faulty=True, cause="bad-init-large", lead="initial-loss",
      source=TDC + "wrong_init/baseCNN_random.py",
      provenance="'a dummy initialization with arbitrary standard deviation': N(0, 0.1) for every kernel of a "
                 "network whose dense layer has 1,024 units; ported on the program's dense part, 784-1024-1024-10, "
                 "so that the fan-ins (784, 1,024) match the ones that std 0.1 is wrong for")
def tdc_wrong_init_random() -> Patient:
    """Dense 784-1024-1024-10 ReLU with N(0, 0.1) weights, MNIST, SGD lr 0.1."""
    train, val = _mnist()
    return Patient(init_(mlp([784, 1024, 1024, 10]), "normal:0.1"), train, val, lr=0.1, weight_decay=L2)


@case("tdc-so-ips4-normal-init", faulty=True, cause="bad-init-large", lead="initial-loss",
      source="TheDeepChecker SO_buggy_examples/IPS_4.py",
      provenance="StackOverflow MLP 784-500-500-500-10 (ReLU) with tf.random_normal weights and biases (std 1), "
                 "Adam 0.003, pixels in [0, 1]; ported as is")
def tdc_so_ips4_normal_init() -> Patient:
    """Dense 784-500-500-500-10 ReLU, N(0, 1) weights and biases, MNIST in [0, 1], Adam lr 0.003."""
    train, val = _mnist(standardize=False)
    model = init_(mlp([784, 500, 500, 500, 10]), "normal:1", bias="normal:1")
    return Patient(model, train, val, lr=0.003, optimizer="adam", batch_size=100)


@case("tdc-gh-tfe333-normal-init", faulty=True, cause="bad-init-large", lead="initial-loss",
      source="TheDeepChecker GH_buggy_examples/TFE_333",
      provenance="TensorFlow-Examples' logistic regression with W and b drawn from np.random.randn (std 1), "
                 "SGD lr 0.001, batch 100, pixels in [0, 1]; ported with the softmax loss on the scores (the "
                 "program's hand-written log(softmax) is left out: one fault per case)")
def tdc_gh_tfe333_normal_init() -> Patient:
    """Linear 784 -> 10 with N(0, 1) weights and biases, MNIST in [0, 1], SGD lr 0.001."""
    train, val = _mnist(standardize=False)
    model = init_(mlp([784, 10]), "normal:1", bias="normal:1")
    return Patient(model, train, val, lr=0.001, batch_size=100)


@case("tdc-so-ips7-sigmoid-saturated", faulty=True, cause="saturating-activation", lead="init-health",
      source="TheDeepChecker SO_buggy_examples/IPS_7.py",
      provenance="StackOverflow one-hidden-layer MLP: 512 sigmoid units, tf.random_normal weights (std 1), no "
                 "biases, SGD lr 0.05; ported with the softmax loss (the program's cross-entropy on unsquashed "
                 "outputs is a second fault, left out)")
def tdc_so_ips7_sigmoid_saturated() -> Patient:
    """Dense 784-512-10, sigmoid, N(0, 1) weights, no biases, MNIST in [0, 1], SGD lr 0.05."""
    train, val = _mnist(standardize=False)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512, bias=False), nn.Sigmoid(), nn.Linear(512, 10, bias=False))
    return Patient(init_(model, "normal:1"), train, val, lr=0.05)


# -- the loss -------------------------------------------------------------------------------------

def sum_over_batch_mean_over_classes(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """TheDeepChecker wrong_loss_function: reduce_mean over the classes, then reduce_sum over the batch."""
    return -(one_hot(y, scores.shape[1]) * F.log_softmax(scores, 1)).mean(1).sum()


@case("tdc-wrong-loss-reduction", faulty=True, cause="loss-reduction", lead="loss-reduction",
      source=TDC + "wrong_loss_function/baseCNN_wrong_loss.py",
      provenance="the cross-entropy averaged over the classes and summed over the batch (mean and sum swapped); "
                 "ported as is, SGD lr 0.1")
def tdc_wrong_loss_reduction() -> Patient:
    """baseCNN, MNIST, loss = sum over the batch of the class-mean of -y log p."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, loss_fn=sum_over_batch_mean_over_classes, lr=0.1, weight_decay=L2)


def summed_cross_entropy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``tf.reduce_sum(softmax_cross_entropy_with_logits(...))``: the batch's total, not its mean."""
    return F.cross_entropy(scores, y, reduction="sum")


@case("tdc-gh-tfe-bc09f95-summed-loss", faulty=True, cause="loss-reduction", lead="loss-reduction",
      source="TheDeepChecker GH_buggy_examples/TFE_bc09f95",
      provenance="TensorFlow-Examples' 784-256-256-10 ReLU MLP whose loss is reduce_sum instead of reduce_mean of "
                 "the cross-entropy, SGD lr 0.01, batch 100; ported with He initialization (the program's "
                 "random_normal init is a second fault, left out)")
def tdc_gh_tfe_bc09f95_summed_loss() -> Patient:
    """Dense 784-256-256-10 ReLU, MNIST, summed cross-entropy, SGD lr 0.01, batch 100."""
    train, val = _mnist()
    return Patient(init_(mlp([784, 256, 256, 10]), "he"), train, val, loss_fn=summed_cross_entropy, lr=0.01,
                   batch_size=100)


def mse_on_probabilities(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``tf.losses.mean_squared_error(labels, softmax(logits))``: a regression loss on class probabilities."""
    return F.mse_loss(scores.softmax(1), one_hot(y, scores.shape[1]))


@case("tdc-wrong-loss-selection", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=TDC + "wrong_loss_selection/baseCNN_inap_loss.py",
      provenance="'a common beginner fault is to use MSE for classification': MSE between the softmax "
                 "probabilities and one-hot labels; ported as is, SGD lr 0.1")
def tdc_wrong_loss_selection() -> Patient:
    """baseCNN, MNIST, loss = MSE(softmax(scores), one_hot(y))."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, loss_fn=mse_on_probabilities, lr=0.1, weight_decay=L2)


def log_of_scores(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy written for probabilities (``-sum y log p``) applied to raw scores: no softmax anywhere."""
    return -(one_hot(y, scores.shape[1]) * torch.log(scores)).sum(1).mean()


@case("tdc-missing-softmax", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=TDC + "missing_softmax/baseCNN_miss_soft.py",
      provenance="the hand-written cross-entropy -sum y log p is fed the logits, the softmax left out; ported as is")
def tdc_missing_softmax() -> Patient:
    """baseCNN, MNIST, loss = -sum y log(scores) on unsquashed scores."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, loss_fn=log_of_scores, lr=0.1, weight_decay=L2)


@case("tdc-redundant-softmax", faulty=True, cause="double-softmax", lead="loss-output",
      source=TDC + "redundant_softmax/baseCNN_red_soft.py",
      provenance="softmax applied to the outputs and again by softmax_cross_entropy_with_logits; ported as a "
                 "final nn.Softmax(dim=1) in the model, trained with the softmax loss (F.cross_entropy)")
def tdc_redundant_softmax() -> Patient:
    """baseCNN ending in nn.Softmax(dim=1), softmax loss, SGD lr 0.1."""
    train, val = _mnist()
    return Patient(BaseCNN(head=nn.Softmax(dim=1)), train, val, lr=0.1, weight_decay=L2)


def nll_of_probabilities(probabilities: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """-log p_y for a model that outputs probabilities."""
    return F.nll_loss(torch.log(probabilities), y)


@case("tdc-wrong-softmax-axis", faulty=True, cause="batch-mixing", lead="batch-independence",
      source=TDC + "wrong_softmax_impl/baseCNN_wrong_soft.py",
      provenance="a hand-written softmax that subtracts the max and normalizes over axis 0 (the batch) instead of "
                 "axis 1; ported as the model's final layer, with -log p_y as the loss")
def tdc_wrong_softmax_axis() -> Patient:
    """baseCNN ending in a softmax over dim 0, loss = -log p_y."""
    train, val = _mnist()
    return Patient(BaseCNN(head=nn.Softmax(dim=0)), train, val, loss_fn=nll_of_probabilities, lr=0.1,
                   weight_decay=L2)


def negated_cross_entropy(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The cross-entropy with its sign flipped: minimizing it maximizes the loss."""
    return -F.cross_entropy(scores, y)


@case("tdc-flipped-sign-loss", faulty=True, cause="loss-sign", lead="loss-output",
      source=TDC + "flipped_sign/baseCNN_flip_sign.py",
      provenance="the gradients' sign flipped, which 'inverses the problem to maximization'; ported as the "
                 "PyTorch form of the same mistake, a loss written with the wrong sign")
def tdc_flipped_sign_loss() -> Patient:
    """baseCNN, MNIST, loss = -cross_entropy."""
    train, val = _mnist()
    return Patient(BaseCNN(), train, val, loss_fn=negated_cross_entropy, lr=0.1, weight_decay=L2)


class _FlipGradient(torch.autograd.Function):
    """Identity forward; a hand-written backward that returns the negated gradient."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return -grad


class FlipGradient(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _FlipGradient.apply(x)


@case("tdc-flipped-sign-gradient", faulty=True, cause="wrong-gradient", lead="gradcheck",
      source=TDC + "flipped_sign/baseCNN_flip_sign.py",
      provenance="'in case of implementing the gradient calculation from scratch, there is a risk of mistaken "
                 "gradient direction': every gradient negated; ported as a custom autograd.Function on the scores "
                 "whose backward returns -grad (so every parameter's gradient is negated)")
def tdc_flipped_sign_gradient() -> Patient:
    """baseCNN whose scores pass through a Function with a negated backward, softmax loss."""
    train, val = _mnist()
    return Patient(BaseCNN(head=FlipGradient()), train, val, lr=0.1, weight_decay=L2)

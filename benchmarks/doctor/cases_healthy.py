"""Healthy patients: real architectures and the benchmarks' own clean programs, trained the way their
papers and programs train them, on standardized data. The doctor should fail none of them and warn
at most once on each.

Convolutional cases on CIFAR-10 and Fashion-MNIST use images average-pooled to 16x16 / 14x14 so
that the doctor's float64 gradient check (one coordinate at a time, about 4,000 of them for a
ResNet-18) stays within a minute on two cores.
"""
from __future__ import annotations

from torch import nn

from benchmarks.doctor.common import BaseCNN, LeNet, Patient, case, generated, images, init_, mlp, tokens, xor
from trainlab.nn import MLP, SmallCNN
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

# -- real architectures (trainlab.nn.zoo) -----------------------------------------------------------

@case("healthy-resnet18-cifar", faulty=False, source="paper: He et al. 2016 (ResNet-18, CIFAR variant)",
      provenance="ResNet-18-style (four stages of two BasicBlocks, batch norm, width 8-64) on CIFAR-10 at 16x16; "
                 "the paper's CIFAR recipe: SGD momentum 0.9, weight decay 5e-4, lr 0.05 for batch 64")
def healthy_resnet18_cifar() -> Patient:
    """ResNet-18-style, width 8, CIFAR-10 (3,600 / 400) pooled to 16x16, momentum SGD lr 0.05, wd 5e-4."""
    train, val = images("cifar10", 3600, val=400, pool=2)
    return Patient(ResNet(ResNetConfig(in_channels=3, width=8)), train, val, lr=0.05, optimizer="momentum",
                   weight_decay=5e-4)


@case("healthy-vgg-bn-cifar", faulty=False, source="paper: Simonyan & Zisserman 2015 (VGG) with batch norm",
      provenance="VGG-style conv-BN-ReLU stages (16-16, 32-32, 64-64) and a 64-unit classifier on CIFAR-10 at "
                 "16x16; SGD momentum 0.9, weight decay 5e-4, lr 0.05")
def healthy_vgg_bn_cifar() -> Patient:
    """VGG-BN, CIFAR-10 (3,600 / 400) pooled to 16x16, momentum SGD lr 0.05, wd 5e-4."""
    train, val = images("cifar10", 3600, val=400, pool=2)
    return Patient(VGG(VGGConfig(in_channels=3)), train, val, lr=0.05, optimizer="momentum", weight_decay=5e-4)


@case("healthy-mobilenet-fashion", faulty=False, source="paper: Howard et al. 2017 (MobileNet v1)",
      provenance="depthwise-separable conv-BN-ReLU blocks (16 -> 32 -> 64 -> 64 -> 128 -> 128 channels) on "
                 "Fashion-MNIST at 14x14; the paper's small weight decay (4e-5), momentum SGD lr 0.05")
def healthy_mobilenet_fashion() -> Patient:
    """MobileNet-style, Fashion-MNIST pooled to 14x14, momentum SGD lr 0.05, wd 4e-5."""
    train, val = images("fashion-mnist", 4000, pool=2)
    return Patient(MobileNet(MobileNetConfig(in_channels=1)), train, val, lr=0.05, optimizer="momentum",
                   weight_decay=4e-5)


@case("healthy-vit-mnist", faulty=False, source="paper: Dosovitskiy et al. 2021 (ViT), Vaswani et al. 2017",
      provenance="a two-layer pre-norm Transformer encoder (d 32, 4 heads) with a zero-initialized class token, "
                 "over 7x7 patches of MNIST digits; Adam lr 1e-3")
def healthy_vit_mnist() -> Patient:
    """Transformer encoder over 16 patches of 7x7, MNIST, Adam lr 1e-3."""
    train, val = images("mnist", 4000)
    model = TransformerClassifier(TransformerConfig(in_channels=1, image_size=28, patch=7))
    return Patient(model, train, val, lr=1e-3, optimizer="adam")


@case("healthy-transformer-tokens", faulty=False, source="paper: Vaswani et al. 2017 (Transformer encoder)",
      provenance="the same encoder over token sequences (vocabulary 24, length 16): the class is the token planted "
                 "three times among random filler tokens; Adam lr 1e-3")
def healthy_transformer_tokens() -> Patient:
    """Transformer encoder over token ids, 4 classes, Adam lr 1e-3."""
    train, val = tokens()
    model = TransformerClassifier(TransformerConfig(num_classes=4, vocab_size=24, max_len=16))
    return Patient(model, train, val, lr=1e-3, optimizer="adam")


# -- MLPs and small CNNs --------------------------------------------------------------------------

@case("healthy-mlp-relu-mnist", faulty=False, source="CS231n (ReLU with He initialization)",
      provenance="Dense 784-256-128-10 ReLU with He-normal weights on standardized MNIST; momentum SGD lr 0.01")
def healthy_mlp_relu_mnist() -> Patient:
    """Dense 784-256-128-10 ReLU (He), MNIST, momentum SGD lr 0.01."""
    train, val = images("mnist", 4000)
    return Patient(init_(mlp([784, 256, 128, 10]), "he"), train, val, lr=0.01, optimizer="momentum")


@case("healthy-mlp-tanh-fashion", faulty=False, source="paper: Glorot & Bengio 2010 (normalized initialization)",
      provenance="Dense 784-200-200-10 tanh with Glorot-uniform weights on standardized Fashion-MNIST; SGD lr 0.05")
def healthy_mlp_tanh_fashion() -> Patient:
    """Dense 784-200-200-10 tanh (Glorot), Fashion-MNIST, SGD lr 0.05."""
    train, val = images("fashion-mnist", 4000)
    return Patient(init_(mlp([784, 200, 200, 10], "tanh"), "glorot"), train, val, lr=0.05)


@case("healthy-mlp-batchnorm-mnist", faulty=False, source="paper: Ioffe & Szegedy 2015 (batch normalization)",
      provenance="trainlab's own MLP, three hidden layers of 100 ReLU units with batch norm before each activation, "
                 "on standardized MNIST; Adam lr 1e-3")
def healthy_mlp_batchnorm_mnist() -> Patient:
    """trainlab.nn.MLP(784, 10, depth 3, width 100, relu, batch norm before), MNIST, Adam lr 1e-3."""
    train, val = images("mnist", 4000)
    return Patient(MLP(784, 10, depth=3, width=100, activation="relu", batch_norm="before"), train, val, lr=1e-3,
                   optimizer="adam")


@case("healthy-smallcnn-fashion", faulty=False, source="CS231n (conv-BN-ReLU-pool)",
      provenance="trainlab's own SmallCNN, two conv-BN-ReLU-pool blocks of 16 and 32 channels, on standardized "
                 "Fashion-MNIST; Adam lr 1e-3")
def healthy_smallcnn_fashion() -> Patient:
    """trainlab.nn.SmallCNN((1, 28, 28), 10, depth 2, width 16, relu, BN before), Fashion-MNIST, Adam lr 1e-3."""
    train, val = images("fashion-mnist", 4000)
    return Patient(SmallCNN((1, 28, 28), 10, depth=2, width=16, activation="relu", batch_norm="before"), train, val,
                   lr=1e-3, optimizer="adam")


@case("healthy-mlp-spirals", faulty=False, source="CS231n (the spiral-data network case study)",
      provenance="Dense 2-64-64-3 ReLU (He) on trainlab's 3-arm spirals; Adam lr 0.01")
def healthy_mlp_spirals() -> Patient:
    """Dense 2-64-64-3 ReLU (He), 3-arm spirals, Adam lr 0.01."""
    train, val = generated("synthetic-spirals", classes=3)
    return Patient(init_(mlp([2, 64, 64, 3]), "he"), train, val, lr=0.01, optimizer="adam", batch_size=32)


@case("healthy-linear-svm-mnist", faulty=False, source="CS231n (linear classification, multiclass SVM)",
      provenance="a linear classifier 784 -> 10 trained with the multiclass SVM loss and a little L2 on "
                 "standardized MNIST; SGD lr 0.01, weight decay 1e-3")
def healthy_linear_svm_mnist() -> Patient:
    """Linear 784 -> 10, SVM loss, MNIST, SGD lr 0.01, wd 1e-3."""
    train, val = images("mnist", 4000)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.normal_(model[1].weight, std=1e-3)
    nn.init.zeros_(model[1].bias)
    return Patient(model, train, val, loss_fn="svm", lr=0.01, weight_decay=1e-3)


@case("healthy-mlp-dropout-cifar", faulty=False, source="CS231n (dropout)",
      provenance="Dense 3072-512-256-10 ReLU (He) with dropout 0.3 on flattened, standardized CIFAR-10; Adam lr 1e-3")
def healthy_mlp_dropout_cifar() -> Patient:
    """Dense 3072-512-256-10 ReLU, dropout 0.3, CIFAR-10 (3,600 / 400), Adam lr 1e-3."""
    train, val = images("cifar10", 3600, val=400)
    return Patient(init_(mlp([3072, 512, 256, 10], dropout=0.3), "he"), train, val, lr=1e-3, optimizer="adam")


# -- the benchmarks' clean and repaired programs ----------------------------------------------------

@case("healthy-tdc-base-cnn", faulty=False, source="TheDeepChecker clean_base_programs/baseCNN.py",
      provenance="TheDeepChecker's clean baseCNN (the program every synthetic fault is seeded into): SGD lr 0.1, "
                 "L2 1e-5 (weight decay 2e-5), on standardized MNIST")
def healthy_tdc_base_cnn() -> Patient:
    """baseCNN, MNIST, SGD lr 0.1, wd 2e-5."""
    train, val = images("mnist", 4000)
    return Patient(BaseCNN(), train, val, lr=0.1, weight_decay=2e-5)


@case("healthy-at-lenet-relu", faulty=False, source="AUTOTRAINER model set (LeNet-5, repaired to ReLU)",
      provenance="the AUTOTRAINER LeNet-5 after its 'vanishing gradient' repair (sigmoid -> ReLU, one Dense(84) "
                 "layer), He init, on standardized MNIST; momentum SGD lr 0.01")
def healthy_at_lenet_relu() -> Patient:
    """LeNet-5 (ReLU, He), MNIST, momentum SGD lr 0.01."""
    train, val = images("mnist", 4000)
    return Patient(LeNet(activation=nn.ReLU, extra=1, init="he"), train, val, lr=0.01, optimizer="momentum")


@case("healthy-dfd-xor-repaired", faulty=False, source="DeepFD Benchmark/Subjects/31556268 (repair.py)",
      provenance="DeepFD's repaired XOR program (loss fixed, Adam); ported: noisy XOR clusters, Dense 2-8-2 tanh, "
                 "the softmax loss, Adam lr 0.01")
def healthy_dfd_xor_repaired() -> Patient:
    """Dense 2-8-2 tanh, noisy XOR, Adam lr 0.01."""
    train, val = xor()
    return Patient(mlp([2, 8, 2], "tanh"), train, val, lr=0.01, optimizer="adam", batch_size=32)


@case("healthy-dl-38648195-fixed", faulty=False, source="DeepLocalize Benchmark/StackOverflow/38648195 (fixed)",
      provenance="the StackOverflow 20-feature, 3-class program with its fault fixed: cross-entropy on the scores "
                 "instead of MSE on a softmax; Dense 20-20-20-3 ReLU, dropout 0.5, Adam lr 1e-3, batch 20")
def healthy_dl_38648195_fixed() -> Patient:
    """Dense 20-20-20-3 ReLU, dropout 0.5, 20-D blobs, softmax loss, Adam lr 1e-3, batch 20."""
    train, val = generated("synthetic-blobs", classes=3, dims=20, spread=1.0)
    return Patient(mlp([20, 20, 20, 3], dropout=0.5), train, val, lr=1e-3, optimizer="adam", batch_size=20)


@case("healthy-at-blob-relu-shallow", faulty=False, source="AUTOTRAINER model set (Blob, 'normal' models)",
      provenance="a shallow AUTOTRAINER-style blob classifier that trains: Dense 2-16-16-3 ReLU (He-uniform); "
                 "SGD lr 0.1")
def healthy_at_blob_relu_shallow() -> Patient:
    """Dense 2-16-16-3 ReLU (He-uniform), 3 Gaussian blobs, SGD lr 0.1."""
    train, val = generated("synthetic-blobs", classes=3, dims=2)
    return Patient(init_(mlp([2, 16, 16, 3]), "he-uniform"), train, val, lr=0.1, batch_size=32)

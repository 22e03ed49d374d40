"""Faults from the AUTOTRAINER model set (Zhang et al., ICSE 2021), as copied into the DeepDiagnosis
repository (``AUTOTRAINER Model Code/Models_*.py``), and from AUTOTRAINER's demo cases.

The Keras models are re-created layer for layer at the same depths; convolution widths are cut where
the CPU budget needs it (said per case). Keras' ``VarianceScaling(scale=2, fan_in)`` is He
initialization; ``RandomUniform()`` is U[-0.05, 0.05]; Keras biases start at zero. Where the Keras
model ends in a sigmoid or softmax trained with a cross-entropy on probabilities, the port ends in
logits with the softmax loss (F.cross_entropy), the equivalent PyTorch form, so that each case keeps
the one fault AUTOTRAINER labelled it with.
"""
from __future__ import annotations

from torch import nn

from benchmarks.doctor.common import Exp, LeNet, Patient, case, generated, images, init_, mlp

AT = "AUTOTRAINER model set (DeepDiagnosis 'AUTOTRAINER Model Code/"


def _dense_chain(sizes: list[int], activation: type[nn.Module], init: str) -> nn.Sequential:
    return init_(mlp(sizes, activation), init)


@case("at-mnist-lenet-deep-sigmoid", faulty=True, cause="vanishing-gradient", lead="gradient-flow",
      source=AT + "Models_MNIST.py', model_2af630c4)",
      provenance="LeNet-5 with sigmoid everywhere and eight extra Dense(84) sigmoid layers, He-normal init, L2 "
                 "1e-4; AUTOTRAINER's 'gradient vanish' model; ported layer for layer (SGD lr 0.01, momentum 0.9)")
def at_mnist_lenet_deep_sigmoid() -> Patient:
    """LeNet-5 (sigmoid) + 8 x Dense(84, sigmoid), He init, MNIST, momentum SGD lr 0.01."""
    train, val = images("mnist", 4000)
    model = LeNet(activation=nn.Sigmoid, extra=8, init="he")
    return Patient(model, train, val, lr=0.01, optimizer="momentum", weight_decay=2e-4)


@case("at-mnist-lenet-uniform-relu", faulty=True, cause="bad-init-small", lead="init-health",
      source=AT + "Models_MNIST.py', tmp_lenet5)",
      provenance="two conv layers and seventeen Dense ReLU layers (16 x 64, then 32) initialized RandomUniform "
                 "(U[-0.05, 0.05]): the signal shrinks ~30x per layer; ported with 8 and 16 conv filters "
                 "instead of 32 and 64 (the dense chain as in Keras), SGD lr 0.01, momentum 0.9")
def at_mnist_lenet_uniform_relu() -> Patient:
    """conv(8, 5x5)-ReLU-pool, conv(16, 5x5)-ReLU, 16 x Dense(64)-ReLU, Dense(32)-ReLU, U[-0.05, 0.05] weights."""
    train, val = images("mnist", 4000)
    layers: list[nn.Module] = [nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                               nn.Flatten()]
    width = 16 * 8 * 8
    for out in [64] * 16 + [32]:
        layers += [nn.Linear(width, out), nn.ReLU()]
        width = out
    layers.append(nn.Linear(width, 10))
    model = init_(nn.Sequential(*layers), "uniform:0.05")
    return Patient(model, train, val, lr=0.01, optimizer="momentum")


@case("at-blob-exponential", faulty=True, cause="exploding-gradient", lead="gradient-flow",
      source=AT + "Models_Blob.py', model_0b6f114d)",
      provenance="nine Dense(5) layers with Keras' 'exponential' activation (He-uniform) on the 2-D, 3-class "
                 "blob data; DeepDiagnosis stops it at batch 0 with a numerical problem in the forward pass; "
                 "ported layer for layer on trainlab's synthetic blobs (SGD lr 0.01)")
def at_blob_exponential() -> Patient:
    """Dense 2-5x9-3 with exp activations, He-uniform, 3 Gaussian blobs, SGD lr 0.01."""
    train, val = generated("synthetic-blobs", classes=3, dims=2)
    return Patient(_dense_chain([2] + [5] * 9 + [3], Exp, "he-uniform"), train, val, lr=0.01, batch_size=32)


@case("at-blob-deep-relu", faulty=True, cause="dead-relu", lead="init-health",
      source=AT + "Models_Blob.py', model_84c77206)",
      provenance="sixteen Dense(5) ReLU layers (He-uniform) on the 3-class blobs: too narrow for its depth, units "
                 "die layer after layer (AUTOTRAINER's 'dying ReLU'); ported layer for layer (SGD lr 0.01)")
def at_blob_deep_relu() -> Patient:
    """Dense 2-5x16-3 ReLU, He-uniform, 3 Gaussian blobs, SGD lr 0.01."""
    train, val = generated("synthetic-blobs", classes=3, dims=2)
    return Patient(_dense_chain([2] + [5] * 16 + [3], nn.ReLU, "he-uniform"), train, val, lr=0.01, batch_size=32)


@case("at-blob-deep-sigmoid", faulty=True, cause="vanishing-gradient", lead="gradient-flow",
      source=AT + "Models_Blob.py', model_2569b90f)",
      provenance="ten Dense(5) sigmoid layers (He-uniform) on the 3-class blobs, AUTOTRAINER's 'gradient "
                 "vanish' (DeepDiagnosis: vanishing gradient at batch 0); ported layer for layer (SGD lr 0.01)")
def at_blob_deep_sigmoid() -> Patient:
    """Dense 2-5x10-3 sigmoid, He-uniform, 3 Gaussian blobs, SGD lr 0.01."""
    train, val = generated("synthetic-blobs", classes=3, dims=2)
    return Patient(_dense_chain([2] + [5] * 10 + [3], nn.Sigmoid, "he-uniform"), train, val, lr=0.01, batch_size=32)


@case("at-cifar-lenet-deep-sigmoid", faulty=True, cause="vanishing-gradient", lead="gradient-flow",
      source=AT + "Models_CIFAR_10.py', model_1d575a45)",
      provenance="LeNet with sigmoid everywhere plus eight Dense(84) sigmoid layers, He-normal init, L2 0.01, on "
                 "CIFAR-10; ported with LeNet-5's 6 and 16 filters instead of 32 and 64, L2 as weight decay "
                 "0.02, momentum SGD lr 0.01")
def at_cifar_lenet_deep_sigmoid() -> Patient:
    """LeNet-5 (sigmoid, 3-channel 32x32) + 8 x Dense(84, sigmoid), He init, CIFAR-10, momentum SGD lr 0.01."""
    train, val = images("cifar10", 3600, val=400)
    model = LeNet(3, 32, activation=nn.Sigmoid, extra=8, init="he")
    return Patient(model, train, val, lr=0.01, optimizer="momentum", weight_decay=0.02)


@case("at-cifar-lenet-exponential", faulty=True, cause="exploding-gradient", lead="gradient-flow",
      source=AT + "Models_CIFAR_10.py', model_4bc5fb07)",
      provenance="LeNet with the 'exponential' activation after every conv and dense layer (He-normal) on "
                 "CIFAR-10; ported with 6 and 16 filters instead of 32 and 64 and three Dense(84) layers as in "
                 "Keras, momentum SGD lr 0.01")
def at_cifar_lenet_exponential() -> Patient:
    """LeNet-5 with exp activations (3-channel 32x32) + 3 x Dense(84, exp), He init, CIFAR-10."""
    train, val = images("cifar10", 3600, val=400)
    model = LeNet(3, 32, activation=Exp, extra=3, init="he")
    return Patient(model, train, val, lr=0.01, optimizer="momentum")


@case("at-demo-data-issue", faulty=True, cause="input-scale-large", lead="data",
      source="AUTOTRAINER AutoTrainer/demo_case/Data_Issue_case/demo_data.py",
      provenance="AUTOTRAINER's data-issue demo: a CIFAR-10 CNN (conv 16, conv 36, dense 256, 128, dropout 0.25, "
                 "He-uniform, Adam 1e-3, batch 32) with the preprocessing commented out, raw 0..255 pixels; "
                 "ported with 8 and 16 filters and dense 128, 64")
def at_demo_data_issue() -> Patient:
    """conv(8)-pool-drop, conv(16)-pool-drop, dense 128, 64, dropout; raw CIFAR-10 pixels; Adam lr 1e-3."""
    train, val = images("cifar10", 3600, val=400, pixels=True)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                          nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                          nn.Linear(16 * 6 * 6, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.25),
                          nn.Linear(64, 10))
    init_(model, "he-uniform")
    nn.init.xavier_uniform_(model[-1].weight)  # the output Dense names no initializer: Keras' Glorot-uniform
    return Patient(model, train, val, lr=1e-3, optimizer="adam", batch_size=32)


@case("at-demo-oscillating-loss", faulty=True, cause="lr-too-high", lead="lr-range",
      source="AUTOTRAINER AutoTrainer/demo_case/Oscillating_Loss_Case",
      provenance="AUTOTRAINER's 'training unstable' (oscillating loss) demo, repaired by switching to Adam; "
                 "re-created as a Fashion-MNIST MLP trained by momentum SGD at lr 1.0 (the demo's own model and "
                 "config are pickles, not readable here)")
def at_demo_oscillating_loss() -> Patient:
    """Dense 784-256-128-10 ReLU (He), Fashion-MNIST, SGD lr 1.0, momentum 0.9."""
    train, val = images("fashion-mnist", 4000)
    return Patient(init_(mlp([784, 256, 128, 10]), "he"), train, val, lr=1.0, optimizer="momentum")


@case("dd-dead-relu-negative-bias", faulty=True, cause="dead-relu", lead="init-health",
      source="DeepDiagnosis MOTIVATING EXAMPLE/31880720 (dying ReLU, repaired by 'relu_initial')",
      provenance="DeepDiagnosis's motivating example is diagnosed 'dying ReLU' and repaired by changing the "
                 "initialization; re-created as ReLU layers whose biases start at -2 (a hand-written init), "
                 "on standardized MNIST, Adam lr 1e-3")
def dd_dead_relu_negative_bias() -> Patient:
    """Dense 784-100-100-100-10 ReLU, He weights, biases -2, MNIST, Adam lr 1e-3."""
    train, val = images("mnist", 4000)
    model = init_(mlp([784, 100, 100, 100, 10]), "he", bias="constant:-2")
    return Patient(model, train, val, lr=1e-3, optimizer="adam")


@case("at-keras-softmax-literal-port", faulty=True, cause="double-softmax", lead="loss-output",
      source=AT + "Models_MNIST.py', every model)",
      provenance="every AUTOTRAINER model ends in Activation('softmax') trained with categorical_crossentropy, "
                 "which is right in Keras; ported literally to PyTorch, the softmax layer stays and "
                 "F.cross_entropy applies a second one (here on the model set's ReLU LeNet-5)")
def at_keras_softmax_literal_port() -> Patient:
    """LeNet-5 (ReLU, He) ending in nn.Softmax(dim=1), softmax loss, MNIST, momentum SGD lr 0.01."""
    train, val = images("mnist", 4000)
    model = nn.Sequential(LeNet(activation=nn.ReLU, extra=1, init="he"), nn.Softmax(dim=1))
    return Patient(model, train, val, lr=0.01, optimizer="momentum")

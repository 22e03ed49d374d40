"""Second blind held-out set: 16 buggy loops (one real bug each) and 8 correct loops.

Written from the catalogue of ids (``trainlab.watcher.findings``) and public bug reports only,
without reading how the watcher decides or running it on these loops for findings. Each case's
``expected`` id and provenance were written down before the loop was first run. The ground truth was
then checked with plain torch outside the watcher (loss, gradient norms, |dW|/|W|, the fraction of
dead or saturated units, seeds 0-2); the numbers are in the docstrings. Where that check showed a
first draft not to have its labelled bug (or to have a second one), the loop was changed, never the
label, and its provenance says what the first draft was. Every loop runs ``STEPS`` optimizer steps on
a few thousand MNIST / Fashion-MNIST images.
"""
from __future__ import annotations

import torch
from common import EVERY, STEPS, BasicBlock, SmallCNN, batches, case, epochs, images, mlp
from torch import nn

from trainlab.watcher import Watcher, watch


# -- small models the loops share --------------------------------------------------------------
def _init_linear(model: nn.Module, std: float) -> nn.Module:
    """Every Linear's weight drawn from N(0, std^2), biases 0 (what "init from a normal" code does)."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
    return model


class RowRNN(nn.Module):
    """Sequential MNIST: the 28 rows of an image are 28 time steps of a one-layer RNN, then a linear head."""

    def __init__(self, hidden: int = 64, cell: str = "rnn") -> None:
        super().__init__()
        if cell == "lstm":
            self.rnn: nn.Module = nn.LSTM(28, hidden, batch_first=True)
        else:
            self.rnn = nn.RNN(28, hidden, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.flatten(1, 2).view(len(x), 28, 28))
        return self.head(out[:, -1])


class TempClassifier(nn.Module):
    """An MLP whose logits are divided by a temperature (``logits / T``) before the softmax."""

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.net = mlp((784, 128, 10))
        self.temperature = temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) / self.temperature


class LeNet(nn.Module):
    """conv-ReLU-pool twice, then two Linear layers: the classic MNIST example net, no batch norm."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 10, 5), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(10, 20, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.fc1 = nn.Linear(320, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(self.features(x).flatten(1))))


class TinyResNet(nn.Module):
    """A stride-2 conv stem with BN, two residual blocks, global average pooling, a linear head."""

    def __init__(self, c: int = 16) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU())
        self.blocks = nn.Sequential(BasicBlock(c), BasicBlock(c))
        self.head = nn.Linear(c, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


def _loop(model: nn.Module, optimizer: torch.optim.Optimizer, criterion: nn.Module, x: torch.Tensor,
          y: torch.Tensor, *, batch: int = 64) -> Watcher:
    """The plain watched loop (zero_grad, forward, loss, backward, step), written out for each case below."""
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y, batch=batch):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return w


# == exploding-gradient ============================================================================
@case("b2-explode-randn-deep-mlp", expected="exploding-gradient",
      provenance="TheDeepChecker (TOSEM) and AUTOTRAINER (ICSE 2021) 'exploding gradient' from a poor weight "
                 "initialization; the from-scratch tutorials' `W = torch.randn(n_in, n_out)` (std 1, no "
                 "1/sqrt(fan_in)) ported to a 5-Linear ReLU MLP on MNIST trained with Adam")
def explode_randn_deep_mlp() -> Watcher:
    """A 784-256-256-256-256-10 ReLU MLP whose Linear weights are all drawn from N(0, 1) (``torch.randn``
    style, no 1/sqrt(fan_in) scaling), trained with Adam at lr 1e-4 on standardized MNIST.

    Bug: the init. Each layer multiplies the activations' scale by about sqrt(fan_in/2) (~11-20), so
    the loss is ~5e5 and the gradients are enormous; Adam normalizes the step, so nothing turns NaN.
    Measured with plain torch (seeds 0-2): total gradient norm 3e5-4.6e5 at step 0, 1.6e5-1.9e5 at
    step 99 (never below ~1.5e5); every Linear's weight gradient 7e4-2.5e5; loss 5e5 -> 2.5e5, finite.
    """
    x, y = images("mnist")
    model = _init_linear(mlp((784, 256, 256, 256, 256, 10)), std=1.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-explode-relu-rnn", expected="exploding-gradient",
      provenance="Pascanu, Mikolov & Bengio (2013), 'On the difficulty of training recurrent neural networks'; "
                 "StackOverflow/PyTorch-forum reports of a ReLU nn.RNN whose loss jumps and gradients blow up; "
                 "ported as a ReLU RNN on row-by-row MNIST whose recurrent matrix is drawn with too large a std")
def explode_relu_rnn() -> Watcher:
    """A one-layer ReLU ``nn.RNN`` (hidden 64) reading MNIST row by row (28 time steps), its recurrent
    weight ``weight_hh_l0`` drawn from N(0, 0.3^2), trained with Adam at lr 1e-4.

    Bug: the recurrent matrix's spectral radius is about 0.3 * sqrt(64) = 2.4 > 1, and through ReLU the
    hidden state and the backpropagated gradient grow step after step over the 28 steps.
    Measured with plain torch (seeds 0-5): total gradient norm 5.6e5-3.9e7 at step 0, 3e4-1.2e6 at
    step 99, never below 2e4 in any step of any seed; loss 1e4-2e6 at step 0, finite throughout.
    """
    x, y = images("mnist")
    model = RowRNN(64)
    nn.init.normal_(model.rnn.weight_hh_l0, 0.0, 0.3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-explode-sum-mse-autoencoder", expected="exploding-gradient",
      provenance="StackOverflow 'Are individual gradients in a batch summed or averaged' (summing the loss "
                 "makes the gradients scale with the batch and number of outputs, 'exploding gradient issues'); "
                 "ported as an MNIST autoencoder whose MSE is summed over 256 x 784 pixels, trained with Adam")
def explode_sum_mse_autoencoder() -> Watcher:
    """A 784-128-784 ReLU autoencoder on MNIST pixels in [0, 1], ``nn.MSELoss(reduction="sum")`` over the
    whole batch (256 images x 784 pixels = 200,704 terms), Adam at lr 1e-3.

    Bug: the summed loss. The gradient is 200,704 times the per-element mean's; Adam's normalized step
    hides it from the loss curve (which falls), but every gradient is huge.
    Measured with plain torch (seeds 0-2): total gradient norm 1.1e4-1.4e4 at step 0,
    1.6e3-1.8e3 at steps 50 and 99 (run median 1.7e3), i.e. ~0.01 per element of the mean-reduced loss
    times 200,704; loss 2.5e4 -> 5.4e3-5.8e3 (per pixel 0.12 -> 0.03), finite.
    """
    x, _ = images("mnist", standardize=False)
    flat = x.flatten(1)
    model = mlp((784, 128, 784))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss(reduction="sum")
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, tb in batches(x, flat, batch=256):
            optimizer.zero_grad()
            loss = criterion(model(xb), tb)
            loss.backward()
            optimizer.step()
    return w


@case("b2-explode-temperature-scale", expected="exploding-gradient",
      provenance="PyTorch forums / StackOverflow on softmax temperature ('logits / T' with a tiny T makes "
                 "huge losses and gradients); ported as an MNIST MLP whose logits are divided by T = 1e-3, "
                 "i.e. a custom layer multiplying by 1000")
def explode_temperature_scale() -> Watcher:
    """A 784-128-10 ReLU MLP whose forward returns ``logits / T`` with T = 0.001 (the user wanted a "sharp"
    softmax), cross-entropy, Adam at lr 1e-3 on standardized MNIST.

    Bug: the temperature. Dividing by 1e-3 multiplies every gradient by 1000 on its way back through
    the network (the softmax saturates, so misclassified samples contribute O(1000) per logit).
    Measured with plain torch (seeds 0-2): total gradient norm 2.5e3-4.3e3 at step 0, 220-560 at step 99
    (median over the run 340-560), vs ~1-2 for a plain MLP under the same optimizer without a
    temperature (b2-ok-adam-mlp: 0.8 at step 0, 1.6 at step 99); loss 185-456 at step 0, finite.
    """
    x, y = images("mnist")
    model = TempClassifier(temperature=1e-3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


# == loss-flat =====================================================================================
@case("b2-flat-lr-1e-6", expected="loss-flat",
      provenance="AUTOTRAINER (ICSE 2021) 'slow convergence' from a too-small learning rate; CS231n "
                 "'loss not going down: learning rate too low'; ported as SGD at lr 1e-6 on an MNIST MLP")
def flat_lr_1e6() -> Watcher:
    """A 784-128-10 ReLU MLP on standardized MNIST, SGD with momentum 0.9 at lr 1e-6 (an exponent typo
    for 1e-2). Bug: the learning rate; the loss stays at ~2.30 for all 100 steps (measured, seeds 0-2:
    2.28-2.34 at step 0, 2.29-2.33 over the last 10; |dW|/|W| ~2e-6 per step).
    """
    x, y = images("mnist")
    model = mlp((784, 128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6, momentum=0.9)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-flat-labels-permuted-apart", expected="loss-flat",
      provenance="StackOverflow 'model does not learn, loss stuck at 2.30' where inputs and labels were "
                 "shuffled with two different permutations; TheDeepChecker (TOSEM) data/label checks; "
                 "ported as MNIST images and labels shuffled independently before training")
def flat_labels_permuted_apart() -> Watcher:
    """The user shuffles the training set once before training, but shuffles the images and the labels
    with two separate ``torch.randperm`` calls, so no label belongs to its image any more. A 784-256-10
    ReLU MLP, SGD with momentum 0.9 at lr 0.01. Bug: the pairing; there is nothing to learn and the
    loss stays at ~2.30 (measured, seeds 0-2: 2.31-2.34 at step 0, 2.305-2.309 over the last 10 steps).
    """
    x, y = images("mnist", 8192)  # 8192 images: the 100 steps do not revisit any, so nothing is memorized
    x = x[torch.randperm(len(x))]
    y = y[torch.randperm(len(y))]
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-flat-double-softmax", expected="loss-flat",
      provenance="StackOverflow / PyTorch forums 'loss stuck at 2.30 with nn.Softmax before "
                 "nn.CrossEntropyLoss' (the loss applies log-softmax itself); ported as an MNIST MLP ending "
                 "in nn.Softmax, trained with plain SGD at lr 0.01")
def flat_double_softmax() -> Watcher:
    """A 784-128-10 ReLU MLP that ends in ``nn.Softmax(dim=1)``, fed to ``nn.CrossEntropyLoss`` (which
    applies log-softmax again), plain SGD at lr 0.01.

    Bug: the output layer. The "logits" CrossEntropyLoss sees are probabilities squashed into [0, 1],
    and the gradient through the extra softmax is ~p(1-p) ~ 0.1 of the usual, so the loss hardly
    leaves ~2.30 in 100 steps (measured, seeds 0-2: 2.300-2.304 at step 0, 2.272-2.284 over the last
    10 steps; total gradient norm ~0.2 throughout).
    """
    x, y = images("mnist")
    model = nn.Sequential(mlp((784, 128, 10)), nn.Softmax(dim=1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


# == vanishing-gradient ============================================================================
@case("b2-vanish-deep-sigmoid", expected="vanishing-gradient",
      provenance="Glorot & Bengio (2010) and AUTOTRAINER / DeepDiagnosis 'vanishing gradient': a deep "
                 "sigmoid network; ported as a 10-hidden-layer sigmoid MLP on MNIST with PyTorch's default "
                 "init and SGD")
def vanish_deep_sigmoid() -> Watcher:
    """A 784-(128 x 10)-10 MLP with ``nn.Sigmoid`` after each of its 10 hidden layers (PyTorch default
    init), SGD with momentum 0.9 at lr 0.1 on standardized MNIST.

    Bug: the depth of sigmoids. Each sigmoid multiplies the backpropagated gradient by at most 0.25 and
    the default init's gain is ~0.6, so the first layers get almost nothing.
    Measured with plain torch (seed 0): weight-gradient norms from the first to the last Linear
    1.4e-8, 1.4e-8, 8e-8, 6e-7, 5e-6, 3e-5, 2.5e-4, 1.8e-3, 1.3e-2, 0.11, 0.67 at step 0 (first/last
    2e-8), the same at steps 50 and 99; the loss stays at 2.30.
    """
    x, y = images("mnist")
    model = mlp((784,) + (128,) * 10 + (10,), act=nn.Sigmoid)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-vanish-sigmoid-xavier", expected="vanishing-gradient",
      provenance="Glorot & Bengio (2010): even with their normalized (Xavier) initialization a deep sigmoid "
                 "net's lower layers get far smaller gradients than its top; AUTOTRAINER / DeepDiagnosis "
                 "'vanishing gradient'; ported as a 6-hidden-layer sigmoid MLP on MNIST with Xavier-uniform "
                 "init and SGD with momentum (replaces a first draft, a tiny-init tanh net whose measured "
                 "per-layer weight gradients turned out equal across layers, so not vanishing)")
def vanish_sigmoid_xavier() -> Watcher:
    """A 784-(256 x 6)-10 MLP with ``nn.Sigmoid`` after each hidden layer, weights Xavier-uniform, biases
    0, SGD with momentum 0.9 at lr 0.1 on standardized MNIST.

    Bug: sigmoid activations in a deep net; the sigmoid's slope is at most 0.25, so each layer shrinks
    the backpropagated gradient ~4x even with an init matched to tanh.
    Measured with plain torch (seeds 0-2): weight-gradient norms first -> last Linear at step 0
    1e-3, 1.6e-3, 6.4e-3, 3e-2, 0.13, 0.57, 1.7 (first/last 6e-4); median over steps 50-99
    2.4e-4 ... 0.15 (first/last 1.6e-3). The loss ends at 2.31.
    """
    x, y = images("mnist")
    model = mlp((784,) + (256,) * 6 + (10,), act=nn.Sigmoid)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


# == update-ratio ==================================================================================
@case("b2-ratio-huge-lr-behind-clip", expected="update-ratio",
      provenance="CS231n 'babysitting the learning process' (||dW||/||W|| should be ~1e-3); the PyTorch "
                 "word_language_model example's SGD lr=20 with clip_grad_norm_ 0.25, ported to an MNIST MLP "
                 "as SGD lr=5 behind clip 0.25: clipping keeps it finite, so the loss still falls, but every "
                 "step moves the weights by ~10% (replaces a first draft, Adam 1e-2 on a BN CNN, whose "
                 "measured ratio ~1e-2 was no larger than that of correct loops early in training)")
def ratio_huge_lr_behind_clip() -> Watcher:
    """A 784-256-10 ReLU MLP, plain SGD at lr 5.0, gradients clipped to norm 0.25 before each step.

    Bug: the learning rate. The clip makes every update ~lr * 0.25 = 1.25 in norm whatever the
    gradient, against a total weight norm of ~9-13, so each step changes the weights by about a tenth.
    Measured with plain torch (seeds 0-2): |dW|/|W| (first, second Linear) 0.12 / 0.32-0.35 at step 0,
    0.09-0.10 / 0.11-0.15 at step 50, 0.08 / 0.12-0.13 at step 99 (correct loops here: 2e-3 to 2e-2);
    loss 2.34-2.39 -> 0.34-0.36 (last 10 steps), 11-14% of hidden units dead, finite.
    """
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.25)
            optimizer.step()
    return w


@case("b2-ratio-bn-conv-normal-init", expected="update-ratio",
      provenance="The DCGAN tutorial's weights_init (nn.init.normal_(m.weight, 0.0, 0.02)) written with the "
                 "std left out, so conv weights are N(0, 1); with batch norm after each conv the forward pass "
                 "is unchanged but the gradient scales as 1/||W||; CS231n update/weight ratio ~1e-3. Ported to "
                 "the MNIST BN CNN with plain SGD (replaces a first draft, plain SGD at lr 3e-4 on an MLP, "
                 "whose measured ratio 6e-5 came with a loss that hardly moved)")
def ratio_bn_conv_normal_init() -> Watcher:
    """SmallCNN (conv-BN-ReLU x2, dropout, linear head) whose conv weights are re-initialized with
    ``nn.init.normal_(m.weight)`` (std 1, ~5x and ~20x PyTorch's default), plain SGD at lr 0.01.

    Bug: the conv init. Batch norm hides the scale in the forward pass, but the convs' gradients shrink
    as 1/||W||, so their updates are 1e-5..1e-4 of their size: the convs barely train while the head
    (default init) does, and the loss still falls.
    Measured with plain torch (seeds 0-2): median |dW|/|W| over steps 50-99: conv1 6e-5..9e-5, conv2
    8e-6..9e-6, head 1.7e-2; loss 2.4-2.6 -> 0.43-0.45; finite. The same net and optimizer with
    PyTorch's default conv init: conv1 1.3e-3..1.9e-3, conv2 2.7e-3..2.9e-3 (20x and 300x larger).
    """
    x, y = images("mnist")
    model = SmallCNN()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


# == dead-relu =====================================================================================
@case("b2-dead-relu-adam-lr-5e-2", expected="dead-relu",
      provenance="CS231n ('with a learning rate set too high ... as much as 40% of your network can be dead'); "
                 "AUTOTRAINER / DeepDiagnosis 'dying ReLU'; ported as an MNIST ReLU MLP trained with Adam at "
                 "lr 5e-2, 50x its default (replaces a first draft with SGD lr 0.5, momentum 0.9, which went "
                 "NaN within 50 steps)")
def dead_relu_adam_high_lr() -> Watcher:
    """A 784-256-10 ReLU MLP on standardized MNIST, Adam at lr 0.05.

    Bug: the learning rate. The first large Adam steps push most hidden pre-activations below zero
    for every input; those units get no gradient again and stay dead, while the rest still learn.
    Measured with plain torch (seeds 0-2): fraction of the 256 hidden units inactive on the whole
    batch 0.91-0.93 at step 50 and 0.91-0.94 at step 99; loss 2.34-2.39 -> 0.50-0.76, finite.
    """
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)

# == saturated =====================================================================================
@case("b2-saturated-tanh-randn", expected="saturated",
      provenance="Glorot & Bengio (2010), DeepDiagnosis 'saturated activation': tanh units driven into "
                 "their flat part by a too-large init; ported as an MNIST tanh MLP with N(0, 1) weights")
def saturated_tanh_randn() -> Watcher:
    """A 784-256-256-10 tanh MLP whose weights are all N(0, 1) (no 1/sqrt(fan_in)), Adam at lr 1e-3.

    Bug: the init; the first hidden layer's pre-activations have std ~sqrt(784) = 28, so nearly every
    tanh unit sits at +-1 where its derivative is ~0.
    """
    x, y = images("mnist")
    model = _init_linear(mlp((784, 256, 256, 10), act=nn.Tanh), std=1.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


# == lr-schedule ===================================================================================
@case("b2-lrsched-exponential-per-batch", expected="lr-schedule",
      provenance="PyTorch docs (torch.optim.lr_scheduler: epoch schedulers are stepped once per epoch); "
                 "PyTorch forums 'loss stops decreasing after a few iterations' where ExponentialLR was "
                 "stepped inside the batch loop; ported to an MNIST MLP over a DataLoader")
def lrsched_exponential_per_batch() -> Watcher:
    """A 784-256-10 ReLU MLP over a shuffled DataLoader, SGD momentum 0.9 at lr 0.05 with
    ``ExponentialLR(gamma=0.9)`` meant per epoch, but ``scheduler.step()`` is called after every batch.

    Bug: the scheduler's cadence; the learning rate is 0.05 * 0.9^t after t batches, ~1e-3 of its
    start by step 65 and ~1e-6 by step 100, so training stops well before the first epoch ends.
    """
    x, y = images("mnist")
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for _epoch, (xb, yb) in epochs(loader):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()  # the bug: an epoch schedule stepped once per batch
    return w


# == input-scale ===================================================================================
@case("b2-input-scale-raw-uint8", expected="input-scale",
      provenance="LeCun et al. (1998) Efficient BackProp; TheDeepChecker 'input scale'; StackOverflow "
                 "'forgot ToTensor / divide by 255' reports; ported as MNIST pixels cast to float in "
                 "[0, 255] without scaling, fed to a CNN trained by Adam")
def input_scale_raw_uint8() -> Watcher:
    """LeNet on MNIST images taken as raw 8-bit values (``uint8 -> float``, range 0-255, mean ~33,
    std ~79), never divided by 255 nor standardized; Adam at lr 1e-3.

    Bug: the inputs' scale, ~80x unit scale at the first layer.
    """
    x, y = images("mnist", standardize=False)
    x = (x * 255).round()
    model = LeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


# == train-mode-eval ===============================================================================
@case("b2-train-mode-eval-midrun", expected="train-mode-eval",
      provenance="TrainCheck (OSDI 2025) and PyTorch forums 'validation accuracy fluctuates / BN running stats "
                 "corrupted': evaluating under torch.no_grad() without model.eval(); ported as an MNIST CNN "
                 "with BN and dropout validated every 20 steps in training mode (SGD lr lowered from the first "
                 "draft's 0.05 to 0.01: at 0.05 most of the second block's ReLUs died, a second bug)")
def train_mode_eval_midrun() -> Watcher:
    """SmallCNN (BN + dropout), SGD momentum 0.9 at lr 0.01; every 20 steps it measures validation
    accuracy on 512 held-out images under ``torch.no_grad()`` but never calls ``model.eval()``.

    Bug: the evaluation runs in training mode; dropout drops units and batch norm uses (and
    overwrites its running statistics with) the validation batch's statistics.
    """
    x, y = images("mnist")
    xv, yv = images("mnist", 512, split="val")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accs = []
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for step, (xb, yb) in enumerate(batches(x, y)):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            if (step + 1) % 20 == 0:
                with torch.no_grad():  # the bug: no model.eval() before, so BN/dropout stay in train mode
                    accs.append(float((model(xv).argmax(1) == yv).float().mean()))
    return w


# == correct loops =================================================================================
@case("b2-ok-adam-mlp", expected=None,
      provenance="PyTorch tutorials / Keras MNIST MLP example: a two-hidden-layer ReLU MLP with Adam at its "
                 "default lr 1e-3 on standardized MNIST")
def ok_adam_mlp() -> Watcher:
    """A 784-256-128-10 ReLU MLP, Adam at lr 1e-3, batch 64, standardized MNIST: a correct loop."""
    x, y = images("mnist")
    model = mlp((784, 256, 128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-ok-sgd-momentum-lenet", expected=None,
      provenance="pytorch/examples mnist (LeNet-style conv net) with SGD lr 0.01 and momentum 0.9")
def ok_sgd_momentum_lenet() -> Watcher:
    """LeNet (two conv-ReLU-pool stages, two Linear layers, no BN), SGD lr 0.01 momentum 0.9: correct."""
    x, y = images("mnist")
    model = LeNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-ok-lstm-grad-clip", expected=None,
      provenance="PyTorch word_language_model example (clip_grad_norm_ between backward and step); "
                 "sequential (row-by-row) MNIST with an LSTM, Adam lr 1e-3, clipping at norm 1")
def ok_lstm_grad_clip() -> Watcher:
    """An LSTM (hidden 64) reading MNIST row by row, Adam at lr 1e-3, gradients clipped to norm 1.0 with
    ``clip_grad_norm_`` after ``backward()`` and before ``step()``: a correct loop."""
    x, y = images("mnist")
    model = RowRNN(64, cell="lstm")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
    return w


@case("b2-ok-onecycle-per-batch", expected=None,
      provenance="PyTorch docs OneCycleLR example (scheduler.step() after optimizer.step() in the batch loop, "
                 "total_steps = number of batches); Smith & Topin (2018) super-convergence")
def ok_onecycle_per_batch() -> Watcher:
    """A 784-256-10 ReLU MLP, SGD momentum 0.9 with ``OneCycleLR(max_lr=0.1, total_steps=100)`` stepped
    once per batch after ``optimizer.step()``, as intended: a correct loop."""
    x, y = images("mnist")
    model = mlp((784, 256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=STEPS)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        for xb, yb in batches(x, y):
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
    return w


@case("b2-ok-tiny-resnet-bn", expected=None,
      provenance="He et al. (2016) ResNet basic block (conv-BN-ReLU-conv-BN + identity), "
                 "torchvision resnet style, SGD lr 0.05 momentum 0.9 weight decay 1e-4")
def ok_tiny_resnet_bn() -> Watcher:
    """A stride-2 conv stem with BN, two residual basic blocks (16 channels), global average pooling and
    a linear head; SGD lr 0.05, momentum 0.9, weight decay 1e-4 on standardized MNIST: correct."""
    x, y = images("mnist")
    model = TinyResNet(16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)


@case("b2-ok-label-smoothing", expected=None,
      provenance="Szegedy et al. (2016) label smoothing 0.1 via nn.CrossEntropyLoss(label_smoothing=0.1); "
                 "AdamW lr 1e-3 weight decay 1e-2 (its defaults) on an MLP with dropout")
def ok_label_smoothing() -> Watcher:
    """A 784-256-10 ReLU MLP with dropout 0.2, ``CrossEntropyLoss(label_smoothing=0.1)``, AdamW at lr 1e-3,
    weight decay 1e-2, standardized MNIST: a correct loop."""
    x, y = images("mnist")
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    return _loop(model, optimizer, nn.CrossEntropyLoss(label_smoothing=0.1), x, y)


@case("b2-ok-grad-accumulation-k4", expected=None,
      provenance="Hugging Face / PyTorch forums gradient-accumulation recipe: loss / k, backward every "
                 "micro-batch, optimizer.step() and zero_grad() every k micro-batches")
def ok_grad_accumulation_k4() -> Watcher:
    """SmallCNN, Adam at lr 1e-3; micro-batches of 16, the loss divided by k = 4, ``backward()`` on every
    micro-batch, ``step()`` then ``zero_grad()`` every 4th (an effective batch of 64); 400 micro-batches
    make the 100 optimizer steps. Accumulation done correctly."""
    k = 4
    x, y = images("mnist")
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    with watch(model, optimizer, criterion=criterion, every=EVERY, status=False) as w:
        optimizer.zero_grad()
        for i, (xb, yb) in enumerate(batches(x, y, steps=STEPS * k, batch=16)):
            loss = criterion(model(xb), yb) / k
            loss.backward()
            if (i + 1) % k == 0:
                optimizer.step()
                optimizer.zero_grad()
    return w


@case("b2-ok-fashion-weight-decay", expected=None,
      provenance="Fashion-MNIST benchmark CNNs (Xiao et al. 2017 repo), SGD lr 0.01 momentum 0.9 nesterov, "
                 "weight decay 5e-4 (the usual CIFAR/ResNet recipe; the first draft's lr 0.05 killed most of "
                 "the second block's ReLUs when measured, so it was not a correct loop)")
def ok_fashion_weight_decay() -> Watcher:
    """SmallCNN on standardized Fashion-MNIST, SGD lr 0.01, Nesterov momentum 0.9, weight decay 5e-4:
    a correct loop."""
    x, y = images("fashion-mnist")
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    return _loop(model, optimizer, nn.CrossEntropyLoss(), x, y)

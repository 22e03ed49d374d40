"""A third blind set of cases: faults re-created from the public benchmarks by someone who never saw the doctor decide.

Written blind by a helper agent that never ran the doctor (neither ``trainlab doctor``, ``examine`` nor
``benchmarks/doctor/run.py`` beyond ``run.py --list``, which only prints the existing cases' names, causes and
provenance) and never read its code, its documentation, its tests, the benchmark harness or any of its results.
It read only ``common.py``, ``causes.py``, ``symptoms.py``, ``cases_blind2.py`` (as the format sample),
``trainlab.nn.zoo``, ``trainlab.losses``, the data loaders' names and split sizes, and ``run.py --list`` (to pick
other bugs, models and recipes than the other files use). Each case's ground truth (faulty or healthy, the cause,
the lead check) was written in its decorator before the case was first trained, and no label was changed afterwards.

The faults are re-created, in new code, from TheDeepChecker (Braiek & Khomh, TOSEM), AUTOTRAINER (ICSE 2021),
DeepDiagnosis (ICSE 2022), DeepLocalize's StackOverflow programs (ICSE 2021), DeepFD (ICSE 2022) and TrainCheck
(OSDI 2025; its source is written ``paper: TrainCheck ...`` since it is not in ``common.SOURCES``). 22 faulty cases
cover 22 causes; four are faults of the user's recipe (the lr far too high for a Transformer, far too low for an
LSTM, SGD momentum 1.0, a weight decay of 0.1), five lie in hand-written modules (a Grad-CAM forward that detaches its
feature map, a masked softmax filled with -inf over empty documents, a SiLU autograd.Function without the product rule,
attention weights normalized over the batch, positions written over the token embeddings), the others in the loss,
the data, the initialization or the architecture. The models are chosen away from the earlier sets: a post-norm
``nn.TransformerEncoderLayer``, attention pooling, a text CNN (Conv1d), GRU/LSTM token and row readers, trainlab's
VGG and ResNet, plain CNNs, MLPs on tabular data and XOR. The six healthy cases are ordinary setups that train:
a Transformer with dropout at batch 32, a text CNN by momentum SGD, attention pooling over padded sequences, a
VGG with dropout, a ReLU XOR net, a SiLU MLP by plain SGD at batch 16.

Every faulty builder takes ``repaired=False``; ``build(repaired=True)`` gives its repaired twin (the one fault undone,
everything else the same), which the plain-torch checks compared it with.

Protocol: every case and twin was trained with ``symptoms.train_plainly`` (300 steps, seed 0, one torch thread,
``torch.manual_seed(0)`` before the build), and a few quantities were read with plain torch (the initial loss on the
first 256 training examples, first-batch weight-gradient norms per layer, the scores' spread over the batch, how much
the scores change when other examples join the batch, the fraction of active ReLUs, the NaN share of the data). The
numbers are in each case's docstring ("Checked (plain torch, ...)"). The whole check (22 cases, their twins and the
six healthy ones) took about 60 s on one thread; no case trains 300 steps in more than ~3.5 s.

Drafts changed after the plain-torch checks (the labels were never changed):

* blind3-dfd-lr-high-transformer-sgd was drafted as blind3-dfd-lr-high-transformer-adam, Adam at lr 0.1 against
  1e-3: the post-norm encoder trained regardless (val 100%, like the twin; lr 0.3: 97.2%, lr 1.0: 78.8%), so no
  Adam rate showed the fault clearly. The recipe became momentum SGD at lr 2.0 (NaN after 13 steps) against lr 0.1
  (val 100%; lr 0.5 also trains).
* blind3-tdc-decay-01-cifar-cnn was drafted as blind3-tdc-decay-005-cifar-cnn, weight decay 0.05: val 30.5% against
  47.5%, loss 1.81 against 1.29, a weak symptom; 0.1 gives val 27.3% and loss 2.14 (0.2: val 8.0%).
* blind3-at-raw-pixels-row-lstm was drafted with Adam lr 3e-3: the LSTM's bounded gates absorbed the raw 0..255 rows
  (val 75.0% against 76.0% standardized). With momentum SGD lr 0.05 the gap was 66.8% against 73.2%, at lr 0.2 it is
  59.1% against 79.4% (loss 1.13 against 0.53), the recipe kept.
* blind3-healthy-text-cnn-sgd was drafted with 64 filters: it trained (val 100%) but started at loss 1.67, 1.2 times
  chance (ln 4 = 1.39); 32 filters start at 1.54 and train as well.
* blind3-healthy-vgg-mnist-dropout-batch-32 was drafted as blind3-healthy-vgg-fashion-adam, which trained (val 79.9%)
  but was the very patient of blind3-tdc-labels-sorted-alone's repaired twin; it became the same VGG with dropout 0.2
  on MNIST at batch 32 (initial loss 2.35, train 94.9%, val 91.2%).
* Planned but never written (so never trained), to keep the set near 26 cases: a class-imbalance case (an
  EmbeddingBag over tokens with one dominant class) and a saturating-activation case (a tanh CNN with N(0, 1)
  kernels).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.doctor.common import (
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
    xor,
)
from trainlab.nn.zoo import VGG, ResNet, ResNetConfig, VGGConfig

TDC = "TheDeepChecker "
AT = "AUTOTRAINER "
DD = "DeepDiagnosis "
DL = "DeepLocalize "
FD = "DeepFD "
TRAINCHECK = "paper: TrainCheck (Jiang et al., OSDI 2025, 'Training with Confidence: Catching Silent Errors in Deep " \
             "Learning Training with Automated Proactive Checks') "


# -- data -----------------------------------------------------------------------------------------

PAD = 0
"""The padding id of the variable-length token data (``tokens`` never draws it: its ids start at 1)."""


def padded_tokens(*, seed: int, empty: float = 0.0, n: int = 3000, val: int = 600) -> tuple[tuple, tuple]:
    """Planted-token sequences (vocabulary 24, length 16, 4 classes) cut to a random length of 6 to 16 and padded
    with :data:`PAD`; the class token is put at position 0 so that every kept sequence still shows it. A fraction
    ``empty`` of the sequences (in training and validation) are empty documents: all padding."""
    (x, y), (xv, yv) = tokens(n, val=val, seed=seed)
    gen = generator(seed + 100)

    def cut(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        z = z.clone()
        z[:, 0] = (labels + 1).float()
        length = torch.randint(6, 17, (len(z),), generator=gen)
        length[torch.rand(len(z), generator=gen) < empty] = 0
        z[torch.arange(z.shape[1])[None, :] >= length[:, None]] = PAD
        return z
    return (cut(x, y), y), (cut(xv, yv), yv)


def one_hot_series(*, seed: int, pad_value: float) -> tuple[tuple, tuple]:
    """A multichannel 'sensor' series: each position of a planted-token sequence as a one-hot vector of 24
    channels, [N, 16, 24]; every series is recorded for 8 to 16 steps and the rest padded with ``pad_value``
    (a pandas reindex gives NaN there)."""
    (x, y), (xv, yv) = tokens(seed=seed)
    gen = generator(seed + 200)

    def series(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        z = z.clone()
        z[:, 0] = (labels + 1).float()
        s = F.one_hot(z.long(), 24).float()
        length = torch.randint(8, 17, (len(z),), generator=gen)
        s[torch.arange(16)[None, :] >= length[:, None]] = pad_value
        return s
    return (series(x, y), y), (series(xv, yv), yv)


# -- small models ---------------------------------------------------------------------------------

class TokenTransformer(nn.Module):
    """Token embedding + learned positions, one post-norm ``nn.TransformerEncoderLayer`` (batch first), the mean
    over the positions, scores.

    ``pos_typo`` writes ``h = self.pos`` where ``h = h + self.pos`` was meant: the token embeddings are thrown away.
    """

    def __init__(self, vocab: int = 24, classes: int = 4, *, d: int = 32, heads: int = 4, length: int = 16,
                 dropout: float = 0.0, pos_typo: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, length, d))
        self.layer = nn.TransformerEncoderLayer(d, heads, 64, dropout, batch_first=True)
        self.head = nn.Linear(d, classes)
        self.pos_typo = pos_typo

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x.long())
        pos = self.pos[:, :x.shape[1]]
        h = pos.expand(len(x), -1, -1) if self.pos_typo else h + pos
        return self.head(self.layer(h).mean(1))


class AttentionPool(nn.Module):
    """Embedding -> one attention score per token (Linear d-1) -> softmax over the tokens, padding masked ->
    the attention-weighted sum of the embeddings -> Dense d-64-classes ReLU.

    ``softmax_dim`` 0 normalizes the weights over the batch instead of over the tokens; ``fill`` is what the
    padding's scores are set to before the softmax (``-inf``, or a large finite negative number).
    """

    def __init__(self, vocab: int = 24, classes: int = 4, *, d: int = 32, softmax_dim: int = 1,
                 fill: float = -1e9) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.score = nn.Linear(d, 1)
        self.mlp = nn.Sequential(nn.Linear(d, 64), nn.ReLU(), nn.Linear(64, classes))
        self.softmax_dim, self.fill = softmax_dim, fill

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ids = x.long()
        e = self.embed(ids)
        scores = self.score(e).squeeze(-1).masked_fill(ids == PAD, self.fill)  # [N, T]
        weights = torch.softmax(scores, dim=self.softmax_dim)
        return self.mlp((weights[..., None] * e).sum(1))


class ConvTokens(nn.Module):
    """Embedding 16 -> Conv1d (64 filters, width 3) -> ReLU -> max over time -> scores (Kim 2014's text CNN)."""

    def __init__(self, vocab: int = 24, classes: int = 4, *, d: int = 16, filters: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.conv = nn.Conv1d(d, filters, 3, padding=1)
        self.head = nn.Linear(filters, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv(self.embed(x.long()).transpose(1, 2)))
        return self.head(h.amax(2))


class SeqClassifier(nn.Module):
    """A one-layer recurrent classifier (``gru`` or ``lstm``, batch first), the last hidden state to the scores.

    Token ids are embedded first (``vocab``); otherwise each step's features go in as they are (``inputs`` of
    them; image rows when given [N, 1, H, W]). ``softmax`` ends the model in ``nn.Softmax(dim=1)``.
    """

    def __init__(self, cell: str = "gru", *, inputs: int = 16, vocab: int | None = None, hidden: int = 64,
                 classes: int = 4, softmax: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, inputs) if vocab else None
        self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell](inputs, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, classes), *([nn.Softmax(dim=1)] if softmax else []))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            x = self.embed(x.long())
        elif x.dim() == 4:
            x = x.flatten(1, 2)
        h, _ = self.rnn(x)
        return self.head(h[:, -1])


class PlainCNN(nn.Module):
    """conv 3x3 (c1) -> act -> max-pool, conv 3x3 (c2) -> act -> max-pool, dense ``hidden`` -> act, scores (no
    normalization); PyTorch's default init unless re-initialized."""

    def __init__(self, in_channels: int = 3, image_size: int = 16, classes: int = 10, *,
                 channels: tuple[int, int] = (16, 32), hidden: int = 64,
                 activation: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        c1, c2 = channels
        side = image_size // 4
        self.features = nn.Sequential(nn.Conv2d(in_channels, c1, 3, padding=1), activation(), nn.MaxPool2d(2),
                                      nn.Conv2d(c1, c2, 3, padding=1), activation(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * side * side, hidden), activation(),
                                        nn.Linear(hidden, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class GradCamResNet(nn.Module):
    """Trainlab's ResNet whose forward keeps the last feature map for a Grad-CAM overlay.

    ``detached`` stores it as ``feats.detach()`` and, as the user's code does, feeds the stored tensor on to the
    pooling and the classifier, so nothing below the classifier receives a gradient.
    """

    def __init__(self, config: ResNetConfig, *, detached: bool = True) -> None:
        super().__init__()
        self.net = ResNet(config)
        self.detached = detached
        self.feature_map: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.net.stages(self.net.stem(x))
        self.feature_map = feats.detach() if self.detached else feats
        if self.detached:
            feats = self.feature_map
        return self.net.fc(self.net.pool(feats).flatten(1))


class _SiLUSigmoidGrad(torch.autograd.Function):
    """SiLU, ``x * sigmoid(x)``, whose hand-written backward forgets the product rule: it returns
    ``grad * sigmoid(x)`` instead of ``grad * sigmoid(x) * (1 + x * (1 - sigmoid(x)))``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(x)


class HandSiLU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _SiLUSigmoidGrad.apply(x)


def reinit(model: nn.Module, how: str, *, keep_last: bool = False) -> nn.Module:
    """``init_`` on every Linear/Conv layer (zero biases), optionally leaving the last Linear at PyTorch's default."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    saved = {k: v.clone() for k, v in last.state_dict().items()}
    init_(model, how)
    if keep_last:
        last.load_state_dict(saved)
    return model


# -- losses ---------------------------------------------------------------------------------------

def kl_div_on_scores(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``F.kl_div(scores, one_hot(y))`` with the raw scores where kl_div expects log-probabilities: it equals
    ``-mean(s_y)`` (the 0 log 0 terms vanish), unbounded below and blind to the other classes' scores."""
    return F.kl_div(scores, one_hot(y, scores.shape[1]), reduction="batchmean")


def kl_div_on_log_softmax(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The repair: kl_div on ``log_softmax(scores)`` (the cross-entropy)."""
    return F.kl_div(F.log_softmax(scores, 1), one_hot(y, scores.shape[1]), reduction="batchmean")


def ce_times_batch(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The batch-mean cross-entropy multiplied by the batch size ("to undo the averaging" before gradient
    accumulation): a sum over the batch."""
    return F.cross_entropy(scores, y) * len(y)


def focal_no_minus(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """A hand-written focal loss (gamma 2) that lost its minus: ``mean((1 - p_y)^2 * log p_y)``."""
    logp = F.log_softmax(scores, 1).gather(1, y[:, None]).squeeze(1)
    return ((1 - logp.exp()) ** 2 * logp).mean()


def focal(scores: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The focal loss (Lin et al. 2017, gamma 2): ``-mean((1 - p_y)^2 * log p_y)``."""
    return -focal_no_minus(scores, y)


# -- the recipe: learning rate, optimizer, weight decay -------------------------------------------

@case("blind3-dfd-lr-high-transformer-sgd", faulty=True, cause="lr-too-high", lead="lr-range",
      source=FD + "fault type 'lr' (learning rate mutated upward) on an attention model",
      provenance="DeepFD (Cao et al., ICSE 2022, https://github.com/ArabelaTso/DeepFD) seeds faults by mutating a "
                 "working program's learning rate; re-created on a post-norm Transformer encoder (token embedding 32 + "
                 "positions, one nn.TransformerEncoderLayer with 4 heads, mean over positions) over planted-token "
                 "sequences, trained by momentum SGD at lr 2.0 where lr 0.1 trains")
def blind3_dfd_lr_high_transformer_sgd(repaired: bool = False) -> Patient:
    """Embedding 32 -> TransformerEncoderLayer (post-norm, 4 heads) -> mean -> scores, tokens, momentum SGD lr 2.0.

    Checked (plain torch, 300 steps): initial loss 1.36 (chance 1.39); NaN after 13 steps, val 26.2%; the same at
    lr 0.1: loss 1.40 -> 2.4e-5, val 100%.
    """
    reseed()
    train, val = tokens(seed=31)
    return Patient(TokenTransformer(), train, val, lr=0.1 if repaired else 2.0, optimizer="momentum", momentum=0.9)


@case("blind3-at-lr-low-lstm-sgd", faulty=True, cause="lr-too-low", lead="lr-range",
      source=AT + "problem 'slow convergence' (repair: raise the learning rate)",
      provenance="AUTOTRAINER (Zhang et al., ICSE 2021, https://github.com/shiningrain/AUTOTRAINER) flags a loss that "
                 "barely moves and repairs it by raising the learning rate; re-created as an LSTM sequence classifier "
                 "(embedding 16, LSTM 64, last state) over planted-token sequences trained by momentum SGD at lr "
                 "1e-5, four orders of magnitude below the rate that trains it")
def blind3_at_lr_low_lstm_sgd(repaired: bool = False) -> Patient:
    """Embedding 16 -> LSTM 64 -> scores, tokens, momentum SGD lr 1e-5, batch 32.

    Checked (plain torch, 300 steps): loss 1.38 -> 1.39, train 20.1%, val 20.2%; the same at lr 0.3: loss -> 1.2e-4,
    val 100%.
    """
    reseed()
    train, val = tokens(seed=32)
    return Patient(SeqClassifier("lstm", vocab=24), train, val, lr=0.3 if repaired else 1e-5, optimizer="momentum",
                   momentum=0.9, batch_size=32)


@case("blind3-dfd-momentum-one", faulty=True, cause="bad-optimizer-settings", lead="recipe",
      source=FD + "fault type 'opt' (an optimizer hyperparameter mutated)",
      provenance="DeepFD's 'opt' faults break the optimizer a program was tuned with; re-created as SGD given "
                 "momentum=1.0 (read as 'momentum on'), so the velocity never forgets a gradient, on a small plain "
                 "CNN (conv 8-16, dense 64) on standardized MNIST at 14x14 at the lr 0.01 tuned for momentum 0.9")
def blind3_dfd_momentum_one(repaired: bool = False) -> Patient:
    """Plain CNN (8-16, dense 64), standardized MNIST 14x14, SGD lr 0.01 with momentum 1.0.

    Checked (plain torch, 300 steps): loss 2.32 -> 1.57, train 54.9%, val 50.8%; momentum 0.9 at the same lr: loss ->
    0.18, val 90.9%.
    """
    reseed()
    train, val = images("mnist", 3000, pool=2)
    return Patient(PlainCNN(1, 14, channels=(8, 16)), train, val, lr=0.01, optimizer="momentum",
                   momentum=0.9 if repaired else 1.0)


@case("blind3-tdc-decay-01-cifar-cnn", faulty=True, cause="too-much-regularization", lead="regularization",
      source=TDC + "fault type over_regularization",
      provenance="TheDeepChecker (Braiek & Khomh, TOSEM) raises a program's L2 penalty until it dominates the data "
                 "loss; re-created as a CIFAR-10 recipe whose weight decay is 0.1, 200 times the usual 5e-4, on a "
                 "plain CNN (conv 16-32, dense 64, no normalization) on CIFAR-10 at 16x16, momentum SGD lr 0.02")
def blind3_tdc_decay_01_cifar_cnn(repaired: bool = False) -> Patient:
    """Plain CNN (16-32, dense 64), standardized CIFAR-10 16x16, momentum SGD lr 0.02, weight decay 0.1.

    Checked (plain torch, 300 steps): the penalty 0.5 * 0.1 * ||w||^2 is 2.04 at init (the data loss 2.31); loss 2.31
    -> 2.14, train 25.2%, val 27.3%; weight decay 5e-4 (penalty 0.010): loss -> 1.29, train 55.8%, val 47.5%.
    """
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    return Patient(PlainCNN(), train, val, lr=0.02, optimizer="momentum", momentum=0.9,
                   weight_decay=5e-4 if repaired else 0.1)


# -- the data -------------------------------------------------------------------------------------

@case("blind3-at-raw-pixels-row-lstm", faulty=True, cause="input-scale-large", lead="data",
      source=AT + "problem 'data issue' (unnormalized inputs)",
      provenance="AUTOTRAINER's data-issue problem (inputs left unnormalized); re-created on a recurrent model: "
                 "Fashion-MNIST at 14x14 read row by row by an LSTM of 64 units as raw 0..255 pixels (the /255 and "
                 "standardization left out), momentum SGD lr 0.2")
def blind3_at_raw_pixels_row_lstm(repaired: bool = False) -> Patient:
    """Rows of raw 0..255 Fashion-MNIST at 14x14 -> LSTM 64 -> scores, momentum SGD lr 0.2.

    Checked (plain torch, 300 steps): inputs 0..255 (std 84); first-batch gradient of the LSTM's input weights 2.3
    (0.21 standardized); loss 2.31 -> 1.13, train 64.8%, val 59.1%; standardized pixels at the same lr: loss -> 0.53,
    train 83.6%, val 79.4%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000, pool=2, pixels=not repaired)
    return Patient(SeqClassifier("lstm", inputs=14, classes=10), train, val, lr=0.2, optimizer="momentum",
                   momentum=0.9)


@case("blind3-dl-features-in-wrong-units", faulty=True, cause="input-scale-small", lead="data",
      source=DL + "StackOverflow programs with badly scaled inputs",
      provenance="DeepLocalize's StackOverflow programs feed features at the wrong scale; re-created as ten "
                 "standardized tabular features that a conversion step divided by 1,000 again (metres already "
                 "in kilometres converted once more), into a Dense 10-64-64-3 ReLU network, momentum SGD lr 0.01")
def blind3_dl_features_in_wrong_units(repaired: bool = False) -> Patient:
    """Dense 10-64-64-3 ReLU (PyTorch default init), ten features of scale 1e-3, momentum SGD lr 0.01.

    Checked (plain torch, 300 steps): the features' std is 1.0e-3, the scores' std over the batch 1e-4; first-layer
    weight gradient 1.2e-4 (0.078 at unit scale); loss 1.11 -> 1.09, val 39.3%; unit-scale features: loss -> 0.20,
    val 89.3%.
    """
    reseed()
    scale = 1.0 if repaired else 1e-3
    train, val = tabular(scales=(scale,) * 10, classes=3, seed=33)
    return Patient(mlp([10, 64, 64, 3]), train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind3-dd-nan-padded-series", faulty=True, cause="nan-in-data", lead="data",
      source=DD + "symptom 'numerical problem' at the input layer",
      provenance="DeepDiagnosis (Wardat et al., ICSE 2022) reports NaN values entering at layer 0 as a data problem; "
                 "re-created as variable-length multichannel series (8 to 16 steps of 24 one-hot channels) aligned "
                 "to 16 steps by a pandas-style reindex that pads with NaN, read by a GRU of 64 units, Adam lr 3e-3")
def blind3_dd_nan_padded_series(repaired: bool = False) -> Patient:
    """[N, 16, 24] series padded with NaN after 8 to 16 steps -> GRU 64 -> last state -> scores, Adam lr 3e-3.

    Checked (plain torch, 300 steps): 88% of the training series hold NaN (25% of all values); the loss is NaN at
    the first step; padded with 0: loss 1.37 -> 8.3e-4, val 100%.
    """
    reseed()
    train, val = one_hot_series(seed=34, pad_value=0.0 if repaired else float("nan"))
    return Patient(SeqClassifier("gru", inputs=24), train, val, lr=3e-3, optimizer="adam")


@case("blind3-tdc-labels-sorted-alone", faulty=True, cause="wrong-labels", lead="generalization-gap",
      source=TDC + "fault type wrong_labels (features and labels no longer correspond)",
      provenance="TheDeepChecker's wrong_labels shuffles the features without their labels; re-created as a loader "
                 "that sorts the label array on its own (y = np.sort(y), meant to sort the examples by class), "
                 "so the labels run 0, 0, ..., 9 against images in their original order; trainlab's batch-normalized "
                 "VGG (8, 16, 32 channels) on Fashion-MNIST at 14x14, Adam lr 1e-3; validation labels intact")
def blind3_tdc_labels_sorted_alone(repaired: bool = False) -> Patient:
    """Zoo VGG (one conv per stage, 8-16-32, BN), standardized Fashion-MNIST 14x14, labels sorted alone, Adam 1e-3.

    Checked (plain torch, 300 steps): 9.8% of the sorted labels agree with the images; loss 2.35 -> 2.27, train
    18.0%, val 11.1%; the labels in their order: loss -> 0.46, train 85.0%, val 79.9%.
    """
    reseed()
    (x, y), val = images("fashion-mnist", 3000, pool=2)
    labels = y if repaired else torch.sort(y).values
    model = VGG(VGGConfig(in_channels=1, stages=((8,), (16,), (32,)), hidden=32))
    return Patient(model, (x, labels), val, lr=1e-3, optimizer="adam")


# -- the loss -------------------------------------------------------------------------------------

@case("blind3-dl-kl-div-on-raw-scores", faulty=True, cause="loss-output-mismatch", lead="loss-output",
      source=DL + "StackOverflow programs whose loss does not fit the outputs",
      provenance="DeepLocalize's StackOverflow programs pair a loss with outputs it does not expect; re-created as "
                 "PyTorch's F.kl_div(scores, one_hot(y)) given raw scores where it expects log-probabilities "
                 "(log_softmax forgotten), on a text CNN (embedding 16, Conv1d 64 filters, max over time) over "
                 "planted-token sequences, momentum SGD lr 0.01")
def blind3_dl_kl_div_on_raw_scores(repaired: bool = False) -> Patient:
    """Embedding 16 -> Conv1d(64, 3) -> ReLU -> max -> scores, tokens, loss kl_div(scores, onehot), momentum SGD.

    Checked (plain torch, 300 steps): the loss equals -mean(s_y) (0.335 on 256 examples, where a cross-entropy would
    be 1.67); it falls without bound and is NaN after 52 steps, val 27.0%; kl_div on log_softmax: loss 1.60 -> 2.7e-3,
    val 100%.
    """
    reseed()
    train, val = tokens(seed=35)
    return Patient(ConvTokens(), train, val, loss_fn=kl_div_on_log_softmax if repaired else kl_div_on_scores,
                   lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind3-tdc-softmax-head-row-gru", faulty=True, cause="double-softmax", lead="loss-output",
      source=TDC + "fault type redundant_softmax",
      provenance="TheDeepChecker's redundant softmax (softmax in the model, then a loss that applies it again); "
                 "re-created on a recurrent model: MNIST at 14x14 read row by row by a GRU of 64 units whose head "
                 "ends in nn.Softmax(dim=1), trained with F.cross_entropy by momentum SGD lr 0.05")
def blind3_tdc_softmax_head_row_gru(repaired: bool = False) -> Patient:
    """Rows of standardized MNIST 14x14 -> GRU 64 -> Linear -> Softmax, cross-entropy, momentum SGD lr 0.05.

    Checked (plain torch, 300 steps): the scores are probabilities (largest 0.14 at init), first-batch gradients
    10x smaller than the twin's (0.012, 0.006, 0.012 against 0.12, 0.063, 0.12); loss 2.30 -> 2.14, val 32.6%;
    without the softmax: loss -> 0.23, val 88.6%.
    """
    reseed()
    train, val = images("mnist", 3000, pool=2)
    return Patient(SeqClassifier("gru", inputs=14, classes=10, softmax=not repaired), train, val, lr=0.05,
                   optimizer="momentum", momentum=0.9)


@case("blind3-tdc-loss-times-batch-gru", faulty=True, cause="loss-reduction", lead="loss-reduction",
      source=TDC + "fault type wrong_loss_function (reduction)",
      provenance="TheDeepChecker's wrong loss reductions; re-created as a batch-mean cross-entropy multiplied by the "
                 "batch size ('to undo the averaging' before gradient accumulation), i.e. a sum over the batch, on a "
                 "GRU token classifier (embedding 16, GRU 64) at batch 128, momentum SGD lr 0.05 (a rate for the mean)")
def blind3_tdc_loss_times_batch_gru(repaired: bool = False) -> Patient:
    """Embedding 16 -> GRU 64 -> scores, tokens, loss = mean CE x 128, batch 128, momentum SGD lr 0.05.

    Checked (plain torch, 300 steps): initial loss 352 on 256 examples (a mean of 1.37 x 256); first-batch gradients
    ~128x the twin's; loss 177 -> 1.5e3, train 65.6%, val 61.2%; the batch mean: loss 1.38 -> 4e-4, val 100%.
    """
    reseed()
    train, val = tokens(seed=36)
    return Patient(SeqClassifier("gru", vocab=24), train, val, loss_fn="softmax" if repaired else ce_times_batch,
                   lr=0.05, optimizer="momentum", momentum=0.9, batch_size=128)


@case("blind3-tdc-focal-missing-minus", faulty=True, cause="loss-sign", lead="loss-output",
      source=TDC + "fault type flipped_sign",
      provenance="TheDeepChecker flips the sign of a program's objective; re-created as a hand-written focal loss "
                 "(Lin et al. 2017, gamma 2) that lost its leading minus, mean((1 - p_y)^2 log p_y), on a plain CNN "
                 "(conv 16-32, dense 64) on CIFAR-10 at 16x16, Adam lr 1e-3")
def blind3_tdc_focal_missing_minus(repaired: bool = False) -> Patient:
    """Plain CNN (16-32, dense 64), standardized CIFAR-10 16x16, loss = +mean((1-p_y)^2 log p_y), Adam lr 1e-3.

    Checked (plain torch, 300 steps): initial loss -1.87; loss -> -6.8e6, train 10.1%, val 9.7%; with the minus:
    loss 1.87 -> 0.89, train 52.8%, val 44.2%.
    """
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    return Patient(PlainCNN(), train, val, loss_fn=focal if repaired else focal_no_minus, lr=1e-3,
                   optimizer="adam")


# -- initialization and activations ---------------------------------------------------------------

@case("blind3-tdc-constant-half-xor", faulty=True, cause="bad-init-zeros", lead="init-health",
      source=TDC + "fault type wrong_init (constant)",
      provenance="TheDeepChecker's constant initialization, which never breaks the units' symmetry; re-created as "
                 "Keras' Constant(0.5) kernel initializer (zero biases) on a Dense 2-16-16-2 tanh XOR network: every "
                 "hidden unit of a layer computes the same function of x1 + x2, which cannot separate XOR's middle "
                 "from its two ends; Adam lr 0.01")
def blind3_tdc_constant_half_xor(repaired: bool = False) -> Patient:
    """Dense 2-16-16-2 tanh, every weight 0.5 and bias 0, noisy XOR, Adam lr 0.01.

    Checked (plain torch, 300 steps): the first-batch gradients of both hidden layers are exactly 0 (the two class
    scores are equal, so their gradients cancel at every hidden unit); loss 0.693 -> 0.48, train 74.0%, val 75.2%;
    PyTorch's default init: loss -> 0.004, val 99.8%.
    """
    reseed()
    train, val = xor(seed=37)
    model = mlp([2, 16, 16, 2], "tanh")
    if not repaired:
        init_(model, "constant:0.5")
    return Patient(model, train, val, lr=0.01, optimizer="adam")


@case("blind3-at-uniform-one-cnn", faulty=True, cause="bad-init-large", lead="initial-loss",
      source=AT + "problem 'improper initialization' (Keras RandomUniform(-1, 1))",
      provenance="AUTOTRAINER's models initialized with Keras' RandomUniform, here with minval -1 and maxval 1 "
                 "(the scale meant for a unit-free toy) on every kernel of a plain CNN (conv 16-32, dense 64) on "
                 "CIFAR-10 at 16x16: the scores start in the hundreds; momentum SGD lr 0.01")
def blind3_at_uniform_one_cnn(repaired: bool = False) -> Patient:
    """Plain CNN (16-32, dense 64), every weight U(-1, 1), biases 0, standardized CIFAR-10 16x16, momentum SGD 0.01.

    Checked (plain torch, 300 steps): initial loss 782 (chance 2.30), scores' std 448; weight gradients 380 to 680;
    loss 780 -> 2.30 (stuck at chance), train 10.1%, val 8.0%; PyTorch's default init: initial loss 2.31, loss ->
    1.48, val 44.7%.
    """
    reseed()
    train, val = images("cifar10", 3000, val=400, pool=2)
    model = PlainCNN()
    if not repaired:
        init_(model, "uniform:1.0")
    return Patient(model, train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind3-dd-negative-only-uniform-init", faulty=True, cause="dead-relu", lead="init-health",
      source=DD + "symptom 'dying ReLU'",
      provenance="DeepDiagnosis' dying-ReLU diagnosis, repaired by changing the initialization; re-created as a "
                 "hand-written He-uniform init with a typo, nn.init.uniform_(w, -bound, 0) for (-bound, bound), on a "
                 "Dense 784-256-256-10 ReLU network fed MNIST pixels in [0, 1] (non-negative): every pre-activation "
                 "is <= 0, so every ReLU is dead from the first step; momentum SGD lr 0.01")
def blind3_dd_negative_only_uniform_init(repaired: bool = False) -> Patient:
    """Dense 784-256-256-10 ReLU, weights U(-sqrt(6/fan_in), 0), biases 0, MNIST pixels in [0, 1], momentum SGD.

    Checked (plain torch, 300 steps): 0.0% of the first layer's ReLUs are active (52% with U(-b, b)); every weight
    gradient is exactly 0; loss stays at 2.30, val 10.7%; U(-b, b): loss -> 0.16, val 90.1%.
    """
    reseed()
    train, val = images("mnist", 3000, standardize=False)
    model = mlp([784, 256, 256, 10])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                bound = (6 / m.in_features) ** 0.5
                nn.init.uniform_(m.weight, -bound, bound if repaired else 0.0)
                nn.init.zeros_(m.bias)
    return Patient(model, train, val, lr=0.01, optimizer="momentum", momentum=0.9)


@case("blind3-at-deep-hardsigmoid", faulty=True, cause="vanishing-gradient", lead="gradient-flow",
      source=AT + "problem 'vanishing gradient' (repairs: ReLU, batch norm)",
      provenance="AUTOTRAINER's vanishing gradient in deep models of squashing activations; re-created with Keras' "
                 "hard_sigmoid (nn.Hardsigmoid, slope 1/6, outputs in [0, 1]) after each of eight Dense(64) layers "
                 "(Glorot-uniform, Keras' default) on twelve standardized tabular features, 4 classes, momentum SGD "
                 "lr 0.05")
def blind3_at_deep_hardsigmoid(repaired: bool = False) -> Patient:
    """Dense 12-64x8-4 with Hardsigmoid (Glorot), twelve standardized features, momentum SGD lr 0.05.

    Checked (plain torch, 300 steps): the units' std over the batch falls 0.095, 0.015, 0.0026, 4e-4, 1e-4, ~0 over
    the eight layers; first-batch weight-gradient norms from the first layer to the head 5.4e-7, 6.0e-6, 3.3e-5,
    1.8e-4, 9.8e-4, 5.2e-3, 0.034, 0.22, 0.96; loss 1.41 -> 1.38, val 33.0%; the ReLU/He twin: gradients 0.5 to 1.4,
    loss -> 0.17, val 86.3%.
    """
    reseed()
    train, val = tabular(scales=(1.0,) * 12, classes=4, seed=38)
    sizes = [12] + [64] * 8 + [4]
    model = init_(mlp(sizes, "relu"), "he") if repaired else init_(mlp(sizes, nn.Hardsigmoid), "glorot")
    return Patient(model, train, val, lr=0.05, optimizer="momentum", momentum=0.9)


# -- bugs in the code -----------------------------------------------------------------------------

@case("blind3-traincheck-gradcam-detach", faulty=True, cause="detached-gradient", lead="gradient-flow",
      source=TRAINCHECK + "silent error: parameters that never update",
      provenance="TrainCheck's silent training errors in which some layers stop updating while the loss still "
                 "falls; re-created as a ResNet whose forward keeps its last feature map for a Grad-CAM overlay as "
                 "feats.detach() and then pools the stored, detached tensor: the stem and both residual stages never "
                 "receive a gradient and only the final Linear trains; trainlab's ResNet (1-1 blocks, width 8) on "
                 "Fashion-MNIST at 14x14, momentum SGD lr 0.05")
def blind3_traincheck_gradcam_detach(repaired: bool = False) -> Patient:
    """Zoo ResNet (1-1 blocks, width 8) with feats.detach() before pooling, Fashion-MNIST 14x14, momentum SGD 0.05.

    Checked (plain torch, 300 steps): every conv and BN parameter's gradient is None, only fc's is set (0.40); loss
    2.31 -> 1.67, train 50.8%, val 50.2%; without the detach: loss -> 0.65, train 72.0%, val 69.0%.
    """
    reseed()
    train, val = images("fashion-mnist", 3000, pool=2)
    model = GradCamResNet(ResNetConfig(in_channels=1, width=8, blocks=(1, 1)), detached=not repaired)
    return Patient(model, train, val, lr=0.05, optimizer="momentum", momentum=0.9)


@case("blind3-dd-attention-mask-empty-docs", faulty=True, cause="numeric-instability", lead="initial-loss",
      source=DD + "symptom 'numerical problem' (NaN in a hidden layer's output)",
      provenance="DeepDiagnosis' numerical problems raised inside the network; re-created as the classic masked "
                 "softmax over an all-padding row: an attention-pooling text classifier fills the padding's scores "
                 "with -inf before the softmax, and 4% of the documents are empty, so their weights are "
                 "exp(-inf) / 0 = NaN and so are their scores; embedding 32, Dense 32-64-4, Adam lr 3e-3")
def blind3_dd_attention_mask_empty_docs(repaired: bool = False) -> Patient:
    """Attention pooling (padding filled with -inf), variable-length tokens with 4% empty documents, Adam 3e-3.

    Checked (plain torch, 300 steps): 4.4% of the training documents are empty, 17 of the first 256 examples' scores
    are NaN; the loss is NaN at the first step, val 25.3%; fill -1e9: loss 1.38 -> 0.057, val 96.8%.
    """
    reseed()
    train, val = padded_tokens(seed=39, empty=0.04)
    return Patient(AttentionPool(fill=-1e9 if repaired else float("-inf")), train, val, lr=3e-3, optimizer="adam")


@case("blind3-tdc-silu-backward-no-product-rule", faulty=True, cause="wrong-gradient", lead="gradcheck",
      source=TDC + "hand-computed gradients (flipped_sign family)",
      provenance="TheDeepChecker verifies hand-computed gradients; re-created as a custom autograd.Function for "
                 "SiLU (x * sigmoid(x)) whose backward forgets the product rule and returns grad * sigmoid(x), "
                 "in a Dense 784-128-128-10 network (He) on standardized Fashion-MNIST, Adam lr 1e-3")
def blind3_tdc_silu_backward_no_product_rule(repaired: bool = False) -> Patient:
    """Dense 784-128-128-10 with a hand-written SiLU (backward sigmoid(x) only), He, Fashion-MNIST, Adam 1e-3.

    Checked (plain torch, 300 steps): the hand-written gradient is off by 25% (relative norm, 1,000 N(0, 1) inputs)
    and fails torch.autograd.gradcheck; the first layer's first-batch gradient is 5.1 against 6.4; it still trains
    (loss 2.80 -> 0.28, val 82.9%; nn.SiLU: loss -> 0.27, val 83.0%): a structural fault.
    """
    reseed()
    train, val = images("fashion-mnist", 3000)
    model = init_(mlp([784, 128, 128, 10], nn.SiLU if repaired else HandSiLU), "he")
    return Patient(model, train, val, lr=1e-3, optimizer="adam")


@case("blind3-tdc-attention-softmax-over-batch", faulty=True, cause="batch-mixing", lead="batch-independence",
      source=TDC + "fault type wrong_softmax_impl (normalized over the wrong axis)",
      provenance="TheDeepChecker's softmax normalized over the batch axis instead of the classes; re-created inside "
                 "an attention-pooling text classifier whose attention weights are torch.softmax(scores, dim=0) on "
                 "[batch, tokens] scores (dim=1 meant), so each token's weight is shared out over the batch; "
                 "embedding 32, Dense 32-64-4, planted-token sequences, Adam lr 3e-3")
def blind3_tdc_attention_softmax_over_batch(repaired: bool = False) -> Patient:
    """Attention pooling with softmax over dim 0 (the batch), planted-token sequences, Adam lr 3e-3.

    Checked (plain torch, 300 steps): the first 8 examples' scores change by up to 0.34 when 56 others join the batch
    (0.0 for the twin); the training loss falls to 1.8e-4 on batches of 64, but evaluated on 2,000 at once the model
    gets train 24.5%, val 24.8%; softmax over dim 1: loss -> 2.1e-4, val 100%.
    """
    reseed()
    train, val = tokens(seed=40)
    return Patient(AttentionPool(softmax_dim=1 if repaired else 0), train, val, lr=3e-3, optimizer="adam")


@case("blind3-dd-positions-overwrite-tokens", faulty=True, cause="input-ignored", lead="input-independent-baseline",
      source=DD + "symptom 'unchanged tensor in forward'",
      provenance="DeepDiagnosis' forward tensors that do not change with the input; re-created as a Transformer "
                 "encoder whose forward writes h = self.pos where h = h + self.pos was meant, so the learned "
                 "positions replace the token embeddings and every sequence gives the same scores; embedding 32, "
                 "one post-norm nn.TransformerEncoderLayer, mean over positions, Adam lr 1e-3")
def blind3_dd_positions_overwrite_tokens(repaired: bool = False) -> Patient:
    """TransformerEncoderLayer over positions only (token embeddings overwritten), tokens, Adam lr 1e-3.

    Checked (plain torch, 300 steps): the scores' std over the batch is 0.0 (0.19 for the twin) and the embedding's
    gradient is None; loss 1.41 -> 1.39, train 27.3%, val 23.3%; h + self.pos: loss -> 3.6e-3, val 100%.
    """
    reseed()
    train, val = tokens(seed=41)
    return Patient(TokenTransformer(pos_typo=not repaired), train, val, lr=1e-3, optimizer="adam")


# -- capacity and regularization ------------------------------------------------------------------

@case("blind3-tdc-wide-mlp-120-rows", faulty=True, cause="overfitting", lead="generalization-gap",
      source=TDC + "fault type missing_regularization",
      provenance="TheDeepChecker removes the regularization from a network with far more capacity than its data; "
                 "re-created as a tabular problem with 100 standardized features and only 120 training rows (a "
                 "noisy linear rule, 2 classes), a Dense 100-512-512-2 ReLU network without dropout or weight decay, "
                 "Adam lr 1e-3, batch 32; validated on 600 other rows")
def blind3_tdc_wide_mlp_120_rows(repaired: bool = False) -> Patient:
    """Dense 100-512-512-2 ReLU, 120 training rows of 100 standardized features, Adam lr 1e-3, batch 32.

    Checked (plain torch, 300 steps): 315k parameters for 120 rows; loss 0.71 -> 2.6e-5, train 100%, val 68.8%;
    3,000 rows: train 98.9%, val 94.3%.
    """
    reseed()
    (x, y), val = tabular(3000, scales=(1.0,) * 100, classes=2, seed=42)
    n = 3000 if repaired else 120
    return Patient(mlp([100, 512, 512, 2]), (x[:n], y[:n]), val, lr=1e-3, optimizer="adam", batch_size=32)


# -- healthy patients ------------------------------------------------------------------------------

@case("blind3-healthy-transformer-dropout-batch-32", faulty=False,
      source="paper: Vaswani et al. 2017 (Transformer encoder, post-norm)",
      provenance="token embedding 32 + learned positions, one post-norm nn.TransformerEncoderLayer (4 heads, "
                 "feed-forward 64, dropout 0.1), the mean over positions, over planted-token sequences; Adam lr 5e-4, "
                 "batch 32")
def blind3_healthy_transformer_dropout_batch_32() -> Patient:
    """Embedding 32 -> TransformerEncoderLayer (post-norm, dropout 0.1) -> mean -> scores, Adam lr 5e-4, batch 32.

    Checked (plain torch, 300 steps): initial loss 1.37 (chance 1.39), loss -> 0.014, train and val 100%.
    """
    reseed()
    train, val = tokens(seed=43)
    return Patient(TokenTransformer(dropout=0.1), train, val, lr=5e-4, optimizer="adam", batch_size=32)


@case("blind3-healthy-text-cnn-sgd", faulty=False, source="paper: Kim 2014 (CNN for sentence classification)",
      provenance="a text CNN (embedding 16, Conv1d 32 filters of width 3, ReLU, max over time) over planted-token "
                 "sequences, momentum SGD lr 0.05, batch 64")
def blind3_healthy_text_cnn_sgd() -> Patient:
    """Embedding 16 -> Conv1d(32, 3) -> ReLU -> max -> scores, tokens, momentum SGD lr 0.05.

    Checked (plain torch, 300 steps): initial loss 1.54 (chance 1.39), loss 1.47 -> 3.9e-5, train and val 100%.
    """
    reseed()
    train, val = tokens(seed=44)
    return Patient(ConvTokens(filters=32), train, val, lr=0.05, optimizer="momentum", momentum=0.9)


@case("blind3-healthy-attention-pool-padded", faulty=False,
      source="paper: Bahdanau et al. 2015 / Yang et al. 2016 (attention pooling)",
      provenance="an attention-pooling text classifier with a correct padding mask (the padding's scores filled "
                 "with -1e9, softmax over the tokens) over variable-length planted-token sequences (6 to 16 tokens, "
                 "no empty document); embedding 32, Dense 32-64-4, Adam lr 3e-3")
def blind3_healthy_attention_pool_padded() -> Patient:
    """Attention pooling (mask fill -1e9, softmax over tokens), variable-length padded tokens, Adam lr 3e-3.

    Checked (plain torch, 300 steps): initial loss 1.39 (chance 1.39), loss -> 2.2e-4, train and val 100%.
    """
    reseed()
    train, val = padded_tokens(seed=45)
    return Patient(AttentionPool(), train, val, lr=3e-3, optimizer="adam")


@case("blind3-healthy-vgg-mnist-dropout-batch-32", faulty=False,
      source="paper: Simonyan & Zisserman 2015 (VGG), Ioffe & Szegedy 2015 (batch norm)",
      provenance="trainlab's batch-normalized VGG with one conv per stage (8, 16, 32 channels) and a 32-unit "
                 "classifier with dropout 0.2 on MNIST at 14x14, Adam lr 1e-3, batch 32")
def blind3_healthy_vgg_mnist_dropout_batch_32() -> Patient:
    """Zoo VGG (8-16-32, BN, hidden 32, dropout 0.2), standardized MNIST 14x14, Adam lr 1e-3, batch 32.

    Checked (plain torch, 300 steps): initial loss 2.35 (chance 2.30), loss -> 0.35, train 94.9%, val 91.2%.
    """
    reseed()
    train, val = images("mnist", 3000, pool=2)
    model = VGG(VGGConfig(in_channels=1, stages=((8,), (16,), (32,)), hidden=32, dropout=0.2))
    return Patient(model, train, val, lr=1e-3, optimizer="adam", batch_size=32)


@case("blind3-healthy-xor-relu-momentum", faulty=False, source="CS231n (a small ReLU network on a nonlinear toy)",
      provenance="the XOR problem (four noisy clusters) learned by a Dense 2-16-16-2 ReLU network with PyTorch's "
                 "default init, momentum SGD lr 0.05, batch 32")
def blind3_healthy_xor_relu_momentum() -> Patient:
    """Dense 2-16-16-2 ReLU (default init), noisy XOR, momentum SGD lr 0.05, batch 32.

    Checked (plain torch, 300 steps): initial loss 0.692 (chance 0.693), loss -> 2.9e-3, train 99.9%, val 100%.
    """
    reseed()
    train, val = xor(seed=46)
    return Patient(mlp([2, 16, 16, 2]), train, val, lr=0.05, optimizer="momentum", momentum=0.9, batch_size=32)


@case("blind3-healthy-silu-tabular-sgd-batch-16", faulty=False,
      source="paper: Elfwing et al. 2018 / Ramachandran et al. 2017 (SiLU / Swish)",
      provenance="Dense 16-64-64-3 with nn.SiLU (PyTorch default init) on sixteen standardized tabular features "
                 "with a noisy linear label rule, plain SGD lr 0.1, batch 16")
def blind3_healthy_silu_tabular_sgd_batch_16() -> Patient:
    """Dense 16-64-64-3 SiLU (default init), standardized tabular features, plain SGD lr 0.1, batch 16.

    Checked (plain torch, 300 steps): initial loss 1.12 (chance 1.10), loss -> 0.26, train 87.2%, val 89.0%.
    """
    reseed()
    train, val = tabular(scales=(1.0,) * 16, classes=3, seed=47)
    return Patient(mlp([16, 64, 64, 3], nn.SiLU), train, val, lr=0.1, optimizer="sgd", batch_size=16)

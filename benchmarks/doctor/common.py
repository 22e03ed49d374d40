"""What every case of the doctor's fault benchmark shares: the registry, the patient, data and small models.

A case is a function that builds a *patient*: a fresh, seeded model, the loss the user trains it
with, training and validation data, and the user's recipe (learning rate, optimizer, momentum,
weight decay, batch size). Its ground truth (faulty or not, the cause, the check that should lead)
and its provenance are written in the :func:`case` decorator, before the doctor ever saw it.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.doctor.causes import CAUSES

Data = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

SOURCES = ("TheDeepChecker", "AUTOTRAINER", "DeepDiagnosis", "DeepLocalize", "DeepFD", "CS231n", "paper")
"""Where the cases come from: a case's ``source`` starts with one of these (``paper``: a healthy
architecture as its paper describes it)."""


@dataclass
class Patient:
    """What the doctor is given: the model, its loss, the data and the user's recipe.

    ``loss_fn`` is the doctor's ``'softmax'``/``'svm'`` or a callable ``(scores, y) -> scalar``.
    ``extra`` holds recipe settings today's ``examine`` cannot take (Adam's epsilon, say); the
    parts that train the user's own recipe may read them.
    """

    model: nn.Module
    train: Data
    val: Data
    loss_fn: str | LossFn = "softmax"
    lr: float = 0.01
    optimizer: str = "sgd"
    momentum: float | None = None
    weight_decay: float = 0.0
    batch_size: int = 64
    num_classes: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def examine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``trainlab.doctor.examine(model, loss_fn, train, **these)``."""
        return {"val_data": self.val, "num_classes": self.num_classes, "lr": self.lr, "optimizer": self.optimizer,
                "momentum": self.momentum, "weight_decay": self.weight_decay, "batch_size": self.batch_size}


@dataclass(frozen=True)
class Case:
    """One patient and its ground truth: ``cause`` and ``lead`` are None for a healthy case."""

    name: str
    faulty: bool
    cause: str | None
    lead: str | None
    source: str
    provenance: str
    build: Callable[[], Patient]
    group: str = ""
    seed: int = 0

    @property
    def doc(self) -> str:
        return (self.build.__doc__ or "").strip()


CASES: list[Case] = []


def case(name: str, *, faulty: bool, source: str, provenance: str, cause: str | None = None,
         lead: str | None = None, seed: int = 0) -> Callable[[Callable[[], Patient]], Callable[[], Patient]]:
    """Register ``build`` under ``name`` with its ground truth and provenance (checked against ``causes.py``)."""
    if not source.startswith(SOURCES):
        raise ValueError(f"case {name!r}: source must start with one of {SOURCES}, got {source!r}")
    if faulty:
        if cause not in CAUSES:
            raise ValueError(f"case {name!r}: unknown cause {cause!r}")
        if lead not in CAUSES[cause].leads:
            raise ValueError(f"case {name!r}: lead {lead!r} is not one of {cause}'s leads {CAUSES[cause].leads}")
    elif cause is not None or lead is not None:
        raise ValueError(f"case {name!r}: a healthy case has no cause and no lead")

    def register(build: Callable[[], Patient]) -> Callable[[], Patient]:
        if any(c.name == name for c in CASES):
            raise ValueError(f"case {name!r} registered twice")
        group = build.__module__.rsplit(".", 1)[-1].removeprefix("cases_")
        CASES.append(Case(name, faulty, cause, lead, source, provenance, build, group, seed))
        return build
    return register


# -- data ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _dataset(name: str):  # -> trainlab.data.Dataset
    from trainlab.data import load

    return load(name)  # from $TRAINLAB_DATA (see trainlab.data.resolve_data_dir)


def images(name: str = "mnist", n: int = 4000, *, val: int = 1000, pool: int = 1, standardize: bool = True,
           pixels: bool = False, flat: bool = False) -> tuple[Data, Data]:
    """The first ``n`` training and ``val`` validation images of MNIST, Fashion-MNIST or CIFAR-10.

    The loader gives pixels in [0, 1]. ``pool`` average-pools k x k (so a CNN case stays fast on two
    cores); ``standardize`` subtracts the training subset's mean and divides by its std (per channel
    for colour images); ``pixels`` gives the raw 0..255 bytes instead; ``flat`` flattens each image.
    """
    data = _dataset(name)
    x, y = data.train.x[:n].clone(), data.train.y[:n].clone()
    xv, yv = data.val.x[:val].clone(), data.val.y[:val].clone()
    if pool > 1:
        x, xv = F.avg_pool2d(x, pool), F.avg_pool2d(xv, pool)
    if pixels:
        x, xv = x * 255, xv * 255
    elif standardize:
        dims = (0, 2, 3)
        mean, std = x.mean(dims, keepdim=True), x.std(dims, keepdim=True)
        x, xv = (x - mean) / std, (xv - mean) / std
    if flat:
        x, xv = x.flatten(1), xv.flatten(1)
    return (x, y), (xv, yv)


def generated(name: str, *, seed: int = 0, n: int = 2000, val: int = 500, **options: Any) -> tuple[Data, Data]:
    """A trainlab generated dataset (``synthetic-blobs``, ``synthetic-spirals``) as (train, val)."""
    from trainlab.data import load

    data = load(name, seed=seed, n_train=n, n_val=val, n_test=1, **options)
    return (data.train.x, data.train.y), (data.val.x, data.val.y)


def reseed(seed: int = 0) -> None:
    """Seed torch's global generator at the start of a case that builds its model or data from it."""
    torch.manual_seed(seed)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def xor(n: int = 2000, *, val: int = 500, noise: float = 0.3, seed: int = 0) -> tuple[Data, Data]:
    """The XOR problem as four Gaussian clusters at (+-1, +-1): class 1 where the signs differ."""
    def draw(m: int, gen: torch.Generator) -> Data:
        corners = torch.randint(0, 2, (m, 2), generator=gen)
        x = (2 * corners - 1).float() + noise * torch.randn(m, 2, generator=gen)
        return x, (corners[:, 0] != corners[:, 1]).long()
    return draw(n, generator(seed)), draw(val, generator(seed + 1))


def tabular(n: int = 3000, *, val: int = 600, scales: tuple[float, ...], offsets: tuple[float, ...] | None = None,
            classes: int = 2, seed: int = 0) -> tuple[Data, Data]:
    """Raw tabular features ``offset + scale * z`` (z standard normal), as read from a CSV before any
    scaling; the label depends on the standardized features through a random linear rule."""
    offsets = offsets or tuple(0.0 for _ in scales)
    gen = generator(seed)
    w = torch.randn(len(scales), classes, generator=gen)

    def draw(m: int) -> Data:
        z = torch.randn(m, len(scales), generator=gen)
        y = (z @ w + 0.5 * torch.randn(m, classes, generator=gen)).argmax(1)
        return torch.tensor(offsets) + torch.tensor(scales) * z, y
    return draw(n), draw(val)


def tokens(n: int = 3000, *, val: int = 600, vocab: int = 24, length: int = 16, classes: int = 4,
           seed: int = 0) -> tuple[Data, Data]:
    """Token sequences: random filler tokens (ids >= ``classes`` + 1) with three copies of token ``c + 1``
    planted at random positions; the class is ``c``. Returned as float tensors of whole numbers."""
    gen = generator(seed)

    def draw(m: int) -> Data:
        y = torch.randint(classes, (m,), generator=gen)
        x = torch.randint(classes + 1, vocab, (m, length), generator=gen)
        where = torch.rand(m, length, generator=gen).argsort(1)[:, :3]
        x.scatter_(1, where, (y + 1)[:, None].expand(-1, 3))
        return x.float(), y
    return draw(n), draw(val)


def one_hot(y: torch.Tensor, classes: int) -> torch.Tensor:
    return F.one_hot(y, classes).to(torch.get_default_dtype())


# -- models -------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity, "elu": nn.ELU,
}


class Exp(nn.Module):
    """Keras's ``exponential`` activation, ``e^x``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


def mlp(sizes: list[int] | tuple[int, ...], activation: str | Callable[[], nn.Module] = "relu", *,
        batch_norm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """Flatten, then Linear(sizes[i], sizes[i+1]) with ``activation`` (and BN, dropout) between them."""
    make = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    layers: list[nn.Module] = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(make())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def init_(model: nn.Module, weight: str, bias: str = "zeros") -> nn.Module:
    """Re-initialize every Linear/Conv weight and bias: ``he``, ``glorot``, ``zeros``, ``constant:V``,
    ``normal:STD``, ``uniform:A`` (U[-A, A]) or ``keep`` (PyTorch's default)."""
    def apply(t: torch.Tensor, how: str) -> None:
        kind, _, value = how.partition(":")
        if kind == "he":
            nn.init.kaiming_normal_(t, nonlinearity="relu")
        elif kind == "he-uniform":
            nn.init.kaiming_uniform_(t, nonlinearity="relu")
        elif kind == "glorot":
            nn.init.xavier_uniform_(t)
        elif kind == "zeros":
            nn.init.zeros_(t)
        elif kind == "constant":
            nn.init.constant_(t, float(value))
        elif kind == "normal":
            nn.init.normal_(t, std=float(value))
        elif kind == "uniform":
            nn.init.uniform_(t, -float(value), float(value))
        elif kind != "keep":
            raise ValueError(f"unknown init {how!r}")

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                apply(m.weight, weight)
                if m.bias is not None:
                    apply(m.bias, bias)
    return model


class BaseCNN(nn.Module):
    """TheDeepChecker's ``baseCNN`` at a width two CPU cores train in seconds: conv 5x5 -> act -> max-pool,
    conv 3x3 -> act -> max-pool, a hidden dense layer, the class scores (He-normal kernels, the output layer
    Glorot-uniform, TensorFlow's default where the program names no initializer; zero biases)."""

    def __init__(self, in_channels: int = 1, image_size: int = 28, classes: int = 10, *,
                 channels: tuple[int, int] = (8, 16), hidden: int = 64, activation: Callable[[], nn.Module] = nn.ReLU,
                 head: nn.Module | None = None) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(nn.Conv2d(in_channels, c1, 5, padding=2), activation(), nn.MaxPool2d(2),
                                      nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        side = image_size // 4
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * side * side, hidden), nn.ReLU(),
                                        nn.Linear(hidden, classes))
        self.head = head if head is not None else nn.Identity()
        init_(self, "he")
        nn.init.xavier_uniform_(self.classifier[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.classifier(self.features(x)))


class LeNet(nn.Module):
    """AUTOTRAINER's LeNet-5 variants: conv 5x5 (6) -> act -> max-pool, conv 5x5 (16) -> act -> max-pool,
    dense 120 -> act, ``extra`` dense 84 -> act layers, the class scores."""

    def __init__(self, in_channels: int = 1, image_size: int = 28, classes: int = 10, *,
                 activation: Callable[[], nn.Module] = nn.ReLU, extra: int = 1, init: str = "he") -> None:
        super().__init__()
        side = ((image_size - 4) // 2 - 4) // 2
        layers: list[nn.Module] = [nn.Conv2d(in_channels, 6, 5), activation(), nn.MaxPool2d(2),
                                   nn.Conv2d(6, 16, 5), activation(), nn.MaxPool2d(2), nn.Flatten(),
                                   nn.Linear(16 * side * side, 120), activation()]
        width = 120
        for _ in range(extra):
            layers += [nn.Linear(width, 84), activation()]
            width = 84
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)
        init_(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)



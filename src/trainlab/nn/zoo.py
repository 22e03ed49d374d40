"""Small versions of well-known architectures, for tests, benchmarks and the doctor.

Each model is built from a frozen config dataclass whose defaults keep it small enough to train on
two CPU cores in seconds; the in/out sizes (channels, classes, image size) are configurable.

* :class:`ResNet`: He et al. (2016), "Deep Residual Learning for Image Recognition", the CIFAR
  variant (3x3 stem, no max-pool) of ResNet-18: four stages of two BasicBlocks with batch norm.
* :class:`VGG`: Simonyan & Zisserman (2015), "Very Deep Convolutional Networks for Large-Scale
  Image Recognition", with batch norm after every convolution (Ioffe & Szegedy 2015).
* :class:`MobileNet`: Howard et al. (2017), "MobileNets: Efficient Convolutional Neural Networks
  for Mobile Vision Applications": depthwise-separable convolutions with batch norm.
* :class:`TransformerClassifier`: a pre-norm Transformer encoder (Vaswani et al. 2017) with a
  class token, over image patches (Dosovitskiy et al. 2021, ViT) or over token ids.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.nn.norm import make_batch_norm


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    """A bias-free convolution followed by batch norm (BN's shift replaces the bias)."""
    return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            make_batch_norm(cout, conv=True)]


def _init_convs(model: nn.Module) -> None:
    """He-normal (fan-out) convolutions, BN at gamma 1 and beta 0, as the papers' reference code does."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


# -- ResNet ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResNetConfig:
    """``blocks[i]`` BasicBlocks in stage ``i``, ``width * 2**i`` channels; stages after the first halve the map."""

    in_channels: int = 3
    num_classes: int = 10
    width: int = 8
    blocks: tuple[int, ...] = (2, 2, 2, 2)  # ResNet-18

    def __post_init__(self) -> None:
        if min(self.in_channels, self.num_classes, self.width) < 1 or not self.blocks or min(self.blocks) < 1:
            raise UserError(f"ResNetConfig needs positive sizes and at least one block per stage, got {self}")


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut (identity, or 1x1 conv-BN when the shape changes); ReLU after the sum."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv_bn(cin, cout, 3, stride), nn.ReLU(), *_conv_bn(cout, cout, 3))
        self.shortcut = (nn.Identity() if stride == 1 and cin == cout
                         else nn.Sequential(*_conv_bn(cin, cout, 1, stride)))
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """3x3 conv-BN-ReLU stem, the residual stages, global average pooling, a linear classifier."""

    def __init__(self, config: ResNetConfig = ResNetConfig()) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.stem = nn.Sequential(*_conv_bn(config.in_channels, w, 3), nn.ReLU())
        stages, cin = [], w
        for i, count in enumerate(config.blocks):
            cout = w * 2 ** i
            stages.append(nn.Sequential(*(BasicBlock(cin if j == 0 else cout, cout, 2 if i and j == 0 else 1)
                                          for j in range(count))))
            cin = cout
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, config.num_classes)
        _init_convs(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))).flatten(1))


# -- VGG ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VGGConfig:
    """Stage ``i`` has one 3x3 conv-BN-ReLU per entry of ``stages[i]`` (its channels), then a 2x2 max-pool."""

    in_channels: int = 3
    num_classes: int = 10
    stages: tuple[tuple[int, ...], ...] = ((16, 16), (32, 32), (64, 64))
    hidden: int = 64  # the classifier's hidden layer
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if (min(self.in_channels, self.num_classes, self.hidden) < 1 or not self.stages
                or not all(self.stages) or min(c for s in self.stages for c in s) < 1):
            raise UserError(f"VGGConfig needs positive sizes and at least one conv per stage, got {self}")
        if not 0 <= self.dropout < 1:
            raise UserError(f"VGGConfig dropout must be in [0, 1), got {self.dropout}")


class VGG(nn.Module):
    """The conv-BN-ReLU stages, global average pooling, then Linear-ReLU-(Dropout)-Linear."""

    def __init__(self, config: VGGConfig = VGGConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        cin = config.in_channels
        for stage in config.stages:
            for cout in stage:
                layers += [*_conv_bn(cin, cout, 3), nn.ReLU()]
                cin = cout
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(cin, config.hidden), nn.ReLU(), nn.Dropout(config.dropout),
                                        nn.Linear(config.hidden, config.num_classes))
        _init_convs(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


# -- MobileNet ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MobileNetConfig:
    """A 3x3 conv-BN-ReLU stem of ``stem`` channels, then one depthwise-separable block per ``(channels, stride)``."""

    in_channels: int = 3
    num_classes: int = 10
    stem: int = 16
    blocks: tuple[tuple[int, int], ...] = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))

    def __post_init__(self) -> None:
        if min(self.in_channels, self.num_classes, self.stem) < 1 or not self.blocks or any(
                c < 1 or s not in (1, 2) for c, s in self.blocks):
            raise UserError(f"MobileNetConfig needs positive sizes and strides of 1 or 2, got {self}")


class DepthwiseSeparable(nn.Module):
    """A 3x3 depthwise conv-BN-ReLU (one filter per channel, ``groups=cin``), then a 1x1 pointwise conv-BN-ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Sequential(*_conv_bn(cin, cin, 3, stride, groups=cin), nn.ReLU())
        self.pointwise = nn.Sequential(*_conv_bn(cin, cout, 1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class MobileNet(nn.Module):
    def __init__(self, config: MobileNetConfig = MobileNetConfig()) -> None:
        super().__init__()
        self.config = config
        self.stem = nn.Sequential(*_conv_bn(config.in_channels, config.stem, 3), nn.ReLU())
        blocks, cin = [], config.stem
        for cout, stride in config.blocks:
            blocks.append(DepthwiseSeparable(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, config.num_classes)
        _init_convs(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


# -- Transformer encoder --------------------------------------------------------------------------

@dataclass(frozen=True)
class TransformerConfig:
    """A classifier over ``image_size``-square images cut into ``patch``-square patches, or, when
    ``vocab_size`` is set, over sequences of up to ``max_len`` token ids (floats holding whole numbers
    are accepted: the doctor hands every input over as floats)."""

    num_classes: int = 10
    d_model: int = 32
    heads: int = 4
    layers: int = 2
    ff: int = 64
    dropout: float = 0.0
    in_channels: int = 1
    image_size: int = 28
    patch: int = 7
    vocab_size: int | None = None
    max_len: int = 64

    def __post_init__(self) -> None:
        if min(self.num_classes, self.d_model, self.heads, self.layers, self.ff, self.max_len) < 1:
            raise UserError(f"TransformerConfig needs positive sizes, got {self}")
        if self.d_model % self.heads:
            raise UserError(f"d_model {self.d_model} must be a multiple of heads {self.heads}")
        if self.vocab_size is None and (self.patch < 1 or self.image_size % self.patch):
            raise UserError(f"image_size {self.image_size} must be a multiple of patch {self.patch}")
        if self.vocab_size is not None and self.vocab_size < 2:
            raise UserError(f"vocab_size must be >= 2, got {self.vocab_size}")

    @property
    def tokens(self) -> int:
        """Sequence length before the class token: patches per image, or ``max_len``."""
        return self.max_len if self.vocab_size is not None else (self.image_size // self.patch) ** 2


class TransformerClassifier(nn.Module):
    """Tokens (patch embedding or token embedding) + learned positions, a class token, ``layers``
    pre-norm encoder layers, a final LayerNorm, and a linear head on the class token."""

    def __init__(self, config: TransformerConfig = TransformerConfig()) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        if config.vocab_size is None:
            self.embed: nn.Module = nn.Conv2d(config.in_channels, d, config.patch, config.patch)
        else:
            self.embed = nn.Embedding(config.vocab_size, d)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, config.tokens + 1, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, config.heads, config.ff, config.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.vocab_size is None:
            tokens = self.embed(x).flatten(2).transpose(1, 2)  # [N, patches, d]
        else:
            tokens = self.embed(x.long())
        tokens = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], 1)
        h = self.encoder(tokens + self.pos[:, :tokens.shape[1]])
        return self.head(self.norm(h[:, 0]))


__all__ = ["BasicBlock", "DepthwiseSeparable", "MobileNet", "MobileNetConfig", "ResNet", "ResNetConfig",
           "TransformerClassifier", "TransformerConfig", "VGG", "VGGConfig"]

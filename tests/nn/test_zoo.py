"""The zoo: output shapes for any in/out size, parameter counts against hand counts, train/eval behaviour."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
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


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# -- hand counts ------------------------------------------------------------------------------------
# Convolutions have no bias (batch norm's shift replaces it); batch norm has 2 parameters per channel.

def resnet_count(c: int, classes: int, w: int, blocks: tuple[int, ...]) -> int:
    total = 9 * c * w + 2 * w  # stem conv + BN
    cin = w
    for i, n in enumerate(blocks):
        cout = w * 2 ** i
        for j in range(n):
            a = cin if j == 0 else cout
            total += 9 * a * cout + 2 * cout + 9 * cout * cout + 2 * cout  # two 3x3 conv-BN
            if a != cout or (i and j == 0):
                total += a * cout + 2 * cout  # 1x1 conv-BN shortcut
        cin = cout
    return total + cin * classes + classes


def test_resnet18_width_64_has_the_cifar_resnet18_parameter_count():
    # 11,173,962: the CIFAR ResNet-18 (3x3 stem, 64-128-256-512, 10 classes) of the common reference code
    assert count(ResNet(ResNetConfig(width=64))) == 11_173_962 == resnet_count(3, 10, 64, (2, 2, 2, 2))


@pytest.mark.parametrize("c, classes, w, blocks", [(3, 10, 8, (2, 2, 2, 2)), (1, 7, 4, (1, 2)), (2, 3, 5, (3,))])
def test_resnet_parameter_count(c, classes, w, blocks):
    assert count(ResNet(ResNetConfig(in_channels=c, num_classes=classes, width=w, blocks=blocks))) == \
        resnet_count(c, classes, w, blocks)


def test_resnet_default_count_by_hand():
    # stem 232, stages 2,368 + 8,352 + 33,088 + 131,712, classifier 650
    assert count(ResNet()) == 176_402


def test_vgg_count_by_hand():
    # convs (+BN): 3-16: 464, 16-16: 2,336, 16-32: 4,672, 32-32: 9,280, 32-64: 18,560, 64-64: 36,992;
    # classifier 64-64-10: 4,160 + 650
    assert count(VGG()) == 77_114
    config = VGGConfig(in_channels=1, num_classes=5, stages=((4,), (8, 8)), hidden=16)
    convs = (9 * 1 * 4 + 8) + (9 * 4 * 8 + 16) + (9 * 8 * 8 + 16)
    assert count(VGG(config)) == convs + (8 * 16 + 16) + (16 * 5 + 5)


def test_mobilenet_count_by_hand():
    # stem 464; blocks (depthwise 9 cin + 2 cin, pointwise cin cout + 2 cout): 752, 2,528, 4,928, 9,152,
    # 18,048; fc 1,290
    assert count(MobileNet()) == 37_162
    config = MobileNetConfig(in_channels=1, num_classes=4, stem=8, blocks=((16, 2),))
    assert count(MobileNet(config)) == (9 * 8 + 16) + (9 * 8 + 16 + 8 * 16 + 32) + (16 * 4 + 4)


def transformer_count(cfg: TransformerConfig) -> int:
    d, ff = cfg.d_model, cfg.ff
    embed = cfg.vocab_size * d if cfg.vocab_size else cfg.in_channels * cfg.patch ** 2 * d + d
    layer = (3 * d * d + 3 * d) + (d * d + d) + (d * ff + ff) + (ff * d + d) + 4 * d  # attention, MLP, 2 LayerNorms
    return embed + d + (cfg.tokens + 1) * d + cfg.layers * layer + 2 * d + d * cfg.num_classes + cfg.num_classes


@pytest.mark.parametrize("cfg", [TransformerConfig(),
                                 TransformerConfig(num_classes=3, in_channels=3, image_size=32, patch=8, layers=1),
                                 TransformerConfig(num_classes=4, vocab_size=24, max_len=16, d_model=16, heads=2)])
def test_transformer_parameter_count(cfg):
    assert count(TransformerClassifier(cfg)) == transformer_count(cfg)


def test_transformer_default_count_by_hand():
    # patches 1,600, class token 32, positions 544, two layers of 8,544, final norm 64, head 330
    assert count(TransformerClassifier()) == 19_658


# -- shapes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, shape", [
    (lambda: ResNet(ResNetConfig(in_channels=1, num_classes=7, width=4)), (1, 28, 28)),
    (lambda: ResNet(ResNetConfig(in_channels=3, num_classes=7, width=4)), (3, 16, 16)),
    (lambda: VGG(VGGConfig(in_channels=1, num_classes=7)), (1, 28, 28)),
    (lambda: VGG(VGGConfig(in_channels=3, num_classes=7, dropout=0.5)), (3, 32, 32)),
    (lambda: MobileNet(MobileNetConfig(in_channels=1, num_classes=7)), (1, 14, 14)),
    (lambda: MobileNet(MobileNetConfig(in_channels=3, num_classes=7)), (3, 32, 32)),
    (lambda: TransformerClassifier(TransformerConfig(num_classes=7)), (1, 28, 28)),
    (lambda: TransformerClassifier(TransformerConfig(num_classes=7, in_channels=3, image_size=16, patch=4)),
     (3, 16, 16)),
])
def test_scores_have_one_row_per_example_and_one_column_per_class(make, shape):
    assert make()(torch.randn(8, *shape)).shape == (8, 7)


def test_transformer_over_tokens_takes_integer_or_whole_float_ids_and_shorter_sequences():
    model = TransformerClassifier(TransformerConfig(num_classes=3, vocab_size=10, max_len=12)).eval()
    ids = torch.randint(0, 10, (4, 12))
    assert torch.equal(model(ids), model(ids.float()))
    assert model(ids[:, :5]).shape == (4, 3)


def test_resnet_stages_halve_the_map_and_double_the_channels():
    model = ResNet(ResNetConfig(in_channels=3, width=4))
    shapes = []
    x = model.stem(torch.randn(8, 3, 32, 32))
    for stage in model.stages:
        x = stage(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(4, 32, 32), (8, 16, 16), (16, 8, 8), (32, 4, 4)]


def test_mobilenet_depthwise_convolutions_have_one_filter_per_channel():
    model = MobileNet()
    depthwise = [b.depthwise[0] for b in model.blocks]
    assert all(conv.groups == conv.in_channels == conv.out_channels for conv in depthwise)
    assert all(conv.weight.shape[1:] == (1, 3, 3) for conv in depthwise)


@pytest.mark.parametrize("bad", [
    lambda: ResNetConfig(blocks=()), lambda: ResNetConfig(width=0), lambda: VGGConfig(stages=((),)),
    lambda: VGGConfig(dropout=1.0), lambda: MobileNetConfig(blocks=((8, 3),)),
    lambda: TransformerConfig(d_model=30, heads=4), lambda: TransformerConfig(image_size=28, patch=5),
    lambda: TransformerConfig(vocab_size=1),
])
def test_bad_configs_are_refused(bad):
    with pytest.raises(UserError):
        bad()


# -- training and evaluation --------------------------------------------------------------------------

SMALL = [
    (lambda: ResNet(ResNetConfig(in_channels=1, num_classes=3, width=4, blocks=(1, 1))), (1, 8, 8)),
    (lambda: VGG(VGGConfig(in_channels=1, num_classes=3, stages=((4,), (8,)), hidden=8)), (1, 8, 8)),
    (lambda: MobileNet(MobileNetConfig(in_channels=1, num_classes=3, stem=4, blocks=((8, 2),))), (1, 8, 8)),
]


@pytest.mark.parametrize("make, shape", SMALL)
def test_batch_norm_models_use_batch_statistics_in_training_and_running_ones_in_evaluation(make, shape):
    torch.manual_seed(0)
    model = make()
    x = torch.randn(8, *shape)
    model.train()
    alone, together = model(x[:1].repeat(8, 1, 1, 1)), model(x)
    assert not torch.allclose(alone[1], together[1])  # training: an example's scores depend on its batch
    model.eval()
    buffers = [b.clone() for b in model.buffers()]
    assert torch.allclose(model(x[:2])[0], model(x[:1])[0], atol=1e-6)  # evaluation: they do not
    assert all(torch.equal(a, b) for a, b in zip(buffers, model.buffers()))  # nor do the running statistics move


def test_transformer_dropout_only_in_training():
    torch.manual_seed(0)
    model = TransformerClassifier(TransformerConfig(num_classes=3, dropout=0.5))
    x = torch.randn(4, 1, 28, 28)
    assert not torch.equal(model.train()(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


@pytest.mark.parametrize("make, shape", SMALL + [
    (lambda: TransformerClassifier(TransformerConfig(num_classes=3, image_size=8, patch=4)), (1, 8, 8))])
def test_every_parameter_gets_a_gradient_and_a_few_steps_fit_a_small_batch(make, shape):
    torch.manual_seed(0)
    model = make().train()
    x, y = torch.randn(16, *shape), torch.randint(0, 3, (16,))
    nn.functional.cross_entropy(model(x), y).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        first = float(loss.detach()) if first is None else first
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first

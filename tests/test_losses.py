"""Training losses against independent references."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from trainlab.errors import UserError
from trainlab.losses import are_probabilities, expected_initial_loss, get_loss, svm_loss


def test_svm_loss_matches_explicit_double_loop():
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(7, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (7,), generator=g)
    expected = sum(max(0.0, float(scores[i, j] - scores[i, y[i]] + 1))
                   for i in range(7) for j in range(5) if j != y[i]) / 7
    assert float(svm_loss(scores, y)) == pytest.approx(expected, rel=1e-12)


def test_svm_loss_is_torch_multi_margin_times_classes():
    """torch's multi_margin_loss divides by C; ours is the notes' sum over j != y."""
    g = torch.Generator().manual_seed(2)
    scores = torch.randn(16, 10, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (16,), generator=g)
    assert float(svm_loss(scores, y)) == pytest.approx(10 * float(F.multi_margin_loss(scores, y)), rel=1e-12)


@pytest.mark.parametrize("name, classes", [("softmax", 10), ("svm", 10), ("softmax", 3), ("svm", 3)])
def test_initial_loss_at_small_weights_matches_closed_form(name, classes):
    g = torch.Generator().manual_seed(3)
    scores = 1e-6 * torch.randn(4000, classes, generator=g, dtype=torch.float64)
    y = torch.randint(0, classes, (4000,), generator=g)
    value = float(get_loss(name)(scores, y))
    assert value == pytest.approx(expected_initial_loss(name, classes), rel=1e-4)
    assert expected_initial_loss("softmax", classes) == pytest.approx(math.log(classes))


def test_unknown_loss_names_the_choices():
    with pytest.raises(UserError, match="softmax, svm"):
        get_loss("hinge")


def test_probabilities_are_softmax_rows_and_nothing_else():
    scores = torch.randn(16, 10, generator=torch.Generator().manual_seed(0))
    assert are_probabilities(scores.softmax(1), 1)
    assert not are_probabilities(scores, 1)  # logits
    assert not are_probabilities(scores.log_softmax(1), 1)  # log-probabilities: negative
    assert not are_probabilities(scores.sigmoid(), 1)  # in [0, 1], rows not summing to 1
    assert are_probabilities(scores.softmax(0), 0) and not are_probabilities(scores.softmax(0), 1)

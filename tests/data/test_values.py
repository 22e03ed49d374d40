"""Data values are checked once, when a Dataset is made: NaN/Inf inputs and labels outside the classes
are one-line UserErrors naming the dataset, the split, the count and the fix."""
from __future__ import annotations

import pytest
import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split, check_split
from trainlab.errors import UserError
from trainlab.train import train


def split(n: int = 40, d: int = 6, classes: int = 3, seed: int = 0) -> Split:
    g = torch.Generator().manual_seed(seed)
    return Split(torch.randn(n, d, generator=g), torch.randint(0, classes, (n,), generator=g))


def dataset(train: Split | None = None, val: Split | None = None, test: Split | None = None,
            classes: int = 3, **kw) -> Dataset:
    return Dataset("toy", train or split(), val or split(seed=1), test or split(seed=2), classes, (6,), **kw)


def poisoned(value: float, rows: tuple[int, ...] = (3,), seed: int = 0) -> Split:
    s = split(seed=seed)
    x = s.x.clone()
    for r in rows:
        x[r, 2] = value
    return Split(x, s.y)


def test_clean_data_passes_and_is_untouched() -> None:
    train = split()
    before = train.x.clone()
    data = dataset(train)
    assert data.train is train and torch.equal(data.train.x, before)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nonfinite_training_inputs_name_the_split_and_the_count(value: float) -> None:
    with pytest.raises(UserError, match=r"dataset 'toy': the training split holds 2 NaN/Inf input value\(s\) "
                                        r"in 2 of 40 examples; drop or repair"):
        dataset(poisoned(value, rows=(3, 7)))


def test_nan_only_in_validation_or_test_is_refused_too() -> None:
    with pytest.raises(UserError, match="the validation split holds 1 NaN/Inf"):
        dataset(val=poisoned(float("nan"), seed=1))
    with pytest.raises(UserError, match="the test split holds 1 NaN/Inf"):
        dataset(test=poisoned(float("inf"), seed=2))


def test_labels_outside_the_classes_are_named_with_the_fix() -> None:
    s = split()
    y = s.y.clone()
    y[:3] = 7
    with pytest.raises(UserError, match=r"training split holds 3 label\(s\) outside 0..2 \(labels span 0..7\) "
                                        r"for 3 classes; remap the labels to 0..2, or declare 8 classes"):
        dataset(Split(s.x, y))
    y[:3] = -1
    with pytest.raises(UserError, match="validation split holds 3 label"):
        dataset(val=Split(s.x, y))
    with pytest.raises(UserError, match="labels must be integer class indices"):
        dataset(Split(s.x, s.y.float()))
    with pytest.raises(UserError, match="num_classes must be a whole number"):
        dataset(classes=0)


def test_finite_values_whose_sum_overflows_pass() -> None:
    s = split()
    check_split(Split(torch.full((4, 3), 3e38), s.y[:4]), "big", 3)  # float32 sum is inf, every value finite
    check_split(Split(torch.empty(0, 3), torch.empty(0, dtype=torch.long)), "empty", 3)


def test_preprocessing_that_produces_nan_is_named() -> None:
    with pytest.raises(UserError, match=r"training split after --preprocess std holds"):
        dataset(poisoned(float("nan")), notes={"preprocess": "std"})


def test_training_on_nan_data_is_refused_not_diverged(tmp_path) -> None:
    """Before, this ran and ended as "diverged, try a smaller --lr"."""
    config = TrainConfig(dataset="toy", depth=1, width=8, steps=5, log_every=5)
    with pytest.raises(UserError, match="NaN/Inf"):
        train(config, out=tmp_path / "run", dataset=dataset(poisoned(float("nan"))), progress=False)
    assert not (tmp_path / "run").exists()

"""Table 1's datasets at a profile's budget, each with a note the report shows."""
from __future__ import annotations

from dataclasses import dataclass, replace

from trainlab.data.base import Dataset, Split
from trainlab.errors import DataError
from trainlab.experiments.glorot2010.profiles import DATASET_LABELS, DataBudget


class AllEpochs:
    """A train source that keeps every epoch it has produced.

    Shapeset-3x2 is generated online, a fresh sample every epoch; several models
    trained one after another on the same stream would otherwise regenerate
    the same epochs. The data are exactly the stream's.
    """

    def __init__(self, source) -> None:
        self.source = source
        self._epochs: dict[int, Split] = {}

    def __len__(self) -> int:
        return len(self.source)

    def epoch(self, index: int) -> Split:
        if index not in self._epochs:
            self._epochs[index] = self.source.epoch(index)
        return self._epochs[index]


@dataclass(frozen=True)
class LoadedData:
    budget: DataBudget
    dataset: Dataset
    label: str  # the paper's name
    note: str


def _limit(split: Split, n: int | None) -> Split:
    return split if n is None or n >= len(split) else split.subset(n)


def load_budgeted(budget: DataBudget, *, data_dir: str | None, seed: int, cache_epochs: bool) -> LoadedData:
    """Load one dataset and cut it to the budget; :class:`DataError` if it is absent."""
    from trainlab.data import load

    dataset = load(budget.name, data_dir=data_dir, seed=seed, **budget.options)
    train = dataset.train
    if budget.train_limit is not None:
        train = _limit(train.epoch(0), budget.train_limit)
    elif cache_epochs and not isinstance(train, Split):
        train = AllEpochs(train)
    dataset = replace(dataset, train=train, val=_limit(dataset.val, budget.val_limit),
                      test=_limit(dataset.test, budget.test_limit))
    variant = dataset.notes.get("variant") or dataset.notes.get("train") or dataset.notes.get("split", "")
    note = (f"{DATASET_LABELS[budget.name]}: {len(dataset.train):,} train examples per epoch, "
            f"{len(dataset.val):,} validation, {len(dataset.test):,} test" + (f"; {variant}" if variant else ""))
    return LoadedData(budget, dataset, DATASET_LABELS[budget.name], note)


def load_all(budgets: tuple[DataBudget, ...], *, data_dir: str | None, seed: int,
             cache_epochs: bool) -> tuple[list[LoadedData], list[str]]:
    """Every dataset that can be found, and a note for each that cannot."""
    loaded, missing = [], []
    for budget in budgets:
        try:
            loaded.append(load_budgeted(budget, data_dir=data_dir, seed=seed, cache_epochs=cache_epochs))
        except DataError as exc:
            missing.append(f"{DATASET_LABELS[budget.name]} not run: {exc}")
    missing.append("Small-ImageNet not run: the paper's reduced ImageNet is not available here; "
                   "its published column is shown for reference only.")
    return loaded, missing

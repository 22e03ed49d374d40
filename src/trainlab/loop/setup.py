"""The pieces every loop starts from: the device, the data, the model, and evaluation."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.errors import UserError
from trainlab.init import InitConfig, initialize_, needs_data
from trainlab.nn import build_model
from trainlab.nn.modes import eval_mode
from trainlab.runs import RunDir

EVAL_BATCH = 2048
DATA_INIT_EXAMPLES = 500
"""Training examples a data-driven initialization (LSUV) sees."""
INITIAL_LOSS_EXAMPLES = 1000
"""Validation examples whose loss at step 0 is the reference of the divergence rule."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device mps was asked for but MPS is not available; use --device cpu")
    return torch.device(name)


def prepare_data(config: TrainConfig, *, run_dir: str | Path | None = None) -> Dataset:
    """Load the dataset and apply the configured preprocessing (fit on training data only,
    or reloaded from the run directory's saved ``preprocess.pt`` when there is one)."""
    from trainlab.data import load as load_dataset

    dataset = load_dataset(config.dataset, data_dir=config.data_dir, seed=0)
    if config.preprocess:
        from trainlab.preprocess import apply_pipeline

        saved = RunDir(run_dir).preprocess_file if run_dir is not None else None
        dataset = apply_pipeline(dataset, config.preprocess, saved=saved)
    return dataset


def make_model(config: TrainConfig, dataset: Dataset, *, data: torch.Tensor | None = None) -> nn.Module:
    """Build and initialize the configured model, seeded by ``config.seed``.

    A data-driven initialization (LSUV) sees ``data``, by default the first
    :data:`DATA_INIT_EXAMPLES` training examples of epoch 0.
    """
    model = build_model(config.model, dataset.input_shape, dataset.num_classes, depth=config.depth,
                        width=config.width, activation=config.activation, batch_norm=config.batch_norm)
    if data is None and needs_data(config.init):
        data = dataset.train.epoch(0).x[:DATA_INIT_EXAMPLES]
    generator = torch.Generator().manual_seed(config.seed)
    init = InitConfig(scheme=config.init, std=config.init_std, scale=config.init_scale)
    return initialize_(model, init, data=data, generator=generator)


def initial_loss_split(dataset: Dataset) -> Split:
    return dataset.val.subset(min(len(dataset.val), INITIAL_LOSS_EXAMPLES))


Scores = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def evaluate_scores(scores_of: Scores, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], split: Split,
                    device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and accuracy (float64) of the scores ``[..., B, C]`` that ``scores_of`` gives ``split``'s inputs.

    Works for one model (scalars) and for a population (one value per member):
    losses are summed in float64, weighted by each chunk's size.
    """
    total, correct, n = None, None, len(split)
    for start in range(0, n, EVAL_BATCH):
        x = split.x[start:start + EVAL_BATCH].to(device)
        y = split.y[start:start + EVAL_BATCH].to(device)
        scores = scores_of(x)
        loss = loss_fn(scores, y.expand(*scores.shape[:-2], -1)).double() * len(y)
        hits = (scores.argmax(-1) == y).sum(-1)
        total, correct = (loss, hits) if total is None else (total + loss, correct + hits)
    if total is None:
        return torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    return total / max(n, 1), correct.double() / max(n, 1)


def evaluate(model: nn.Module, split: Split, loss_fn, device: torch.device) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``split`` in evaluation mode (each module's mode is restored)."""
    with eval_mode(model):
        loss, accuracy = evaluate_scores(model, loss_fn, split, device)
    return float(loss), float(accuracy)

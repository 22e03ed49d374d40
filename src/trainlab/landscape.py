"""Loss landscapes: the loss along one or two directions around trained weights.

Random directions are *filter-normalized* (Li, Xu, Taylor, Studer & Goldstein,
"Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018): for every weight
tensor, each output filter (row of a Linear weight, output channel of a conv
kernel) of a Gaussian direction is rescaled to the norm of the same filter of
the weights, ``d_i <- d_i * ||theta_i|| / ||d_i||``; 1-D parameters (biases,
batch-norm scales and shifts) get direction 0. Then ``f(a, b) = L(theta + a d1 +
b d2)`` on a grid, with the model in eval mode (batch norm uses its running
statistics) on a fixed subset of training examples. Between two checkpoints the
1-D path is ``theta(t) = (1 - t) theta_A + t theta_B``.

Also the CS231n notes' own pictures: :func:`linear_slice` gives the per-example
losses of a linear classifier along ``W + a * dW``; the multiclass SVM's slices
are piecewise linear, with a kink wherever a margin crosses zero.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
from torch import nn

from trainlab.errors import CheckpointError, UserError
from trainlab.files import atomic_write_text
from trainlab.linear.losses import SCORE_LOSSES
from trainlab.nn.modes import eval_mode

EVAL_CHUNK = 1000
MAX_POINTS = 10_001  # per axis
MAX_GRID = 1001 ** 2  # loss evaluations in all
MAX_EXAMPLES = 10**7


@dataclass(frozen=True, kw_only=True)
class LandscapeConfig:
    """Grid settings: ``points`` per axis on ``[-span, span]`` (or ``[-span/2, 1 + span/2]``
    for interpolation), ``examples`` evaluated, and the direction ``seed``."""

    dims: int = 1
    points: int = 51
    span: float = 1.0
    examples: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.dims not in (1, 2):
            raise UserError(f"--dims must be 1 or 2, got {self.dims}")
        if not 3 <= self.points <= MAX_POINTS:
            raise UserError(f"--points must be between 3 and {MAX_POINTS:,}, got {self.points}")
        if self.points ** self.dims > MAX_GRID:
            raise UserError(f"--points {self.points} with --dims 2 is {self.points ** 2:,} evaluations, more than "
                            f"{MAX_GRID:,}; use --points <= {math.isqrt(MAX_GRID)}")
        if not (math.isfinite(self.span) and self.span > 0):
            raise UserError(f"--span must be a finite number > 0, got {self.span}")
        if not 1 <= self.examples <= MAX_EXAMPLES:
            raise UserError(f"--batch must be between 1 and {MAX_EXAMPLES:,}, got {self.examples}")
        if not 0 <= self.seed < 2**63:
            raise UserError(f"--seed must be in [0, 2**63), got {self.seed}")

    def axis(self) -> torch.Tensor:
        return torch.linspace(-self.span, self.span, self.points, dtype=torch.float64)

    def path(self) -> torch.Tensor:
        return torch.linspace(-self.span / 2, 1 + self.span / 2, self.points, dtype=torch.float64)


def filter_normalized_direction(model: nn.Module, generator: torch.Generator) -> list[torch.Tensor]:
    """One random direction per parameter, filter-normalized as in Li et al. (2018)."""
    out = []
    for p in model.parameters():
        if p.dim() <= 1:
            out.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype)
        w_norm = p.detach().flatten(1).norm(dim=1)
        d_norm = d.flatten(1).norm(dim=1)
        scale = (w_norm / d_norm.clamp_min(1e-12)).reshape(-1, *([1] * (p.dim() - 1)))
        out.append(d * scale)
    return out


@torch.no_grad()
def mean_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable) -> float:
    total = 0.0
    for start in range(0, len(y), EVAL_CHUNK):
        xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
        total += float(loss_fn(model(xb), yb)) * len(yb)
    return total / len(y)


@torch.no_grad()
def loss_surface(model: nn.Module, points: Iterable[Sequence[torch.Tensor]], x: torch.Tensor, y: torch.Tensor,
                 loss_fn: Callable) -> list[float]:
    """The loss with the model's parameters set to each point (one tensor per parameter);
    the model is evaluated in eval mode and restored afterwards. ``points`` may be a
    generator, so a grid never holds more than one copy of the weights at a time."""
    params = list(model.parameters())
    saved = [p.detach().clone() for p in params]
    with eval_mode(model):
        try:
            values = []
            for point in points:
                for p, v in zip(params, point):
                    p.copy_(v)
                values.append(mean_loss(model, x, y, loss_fn))
            return values
        finally:
            for p, v in zip(params, saved):
                p.copy_(v)


def random_slices(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: Callable,
                  config: LandscapeConfig) -> dict:
    """Losses on a 1-D line or 2-D grid of filter-normalized directions around the model."""
    g = torch.Generator().manual_seed(config.seed)
    theta = [p.detach().clone() for p in model.parameters()]
    d1 = filter_normalized_direction(model, g)
    axis = config.axis()
    if config.dims == 1:
        points = ([t + float(a) * d for t, d in zip(theta, d1)] for a in axis)
        return {"dims": 1, "alpha": axis.tolist(), "loss": loss_surface(model, points, x, y, loss_fn)}
    d2 = filter_normalized_direction(model, g)
    points = ([t + float(a) * u + float(b) * v for t, u, v in zip(theta, d1, d2)] for b in axis for a in axis)
    flat = loss_surface(model, points, x, y, loss_fn)
    n = len(axis)
    return {"dims": 2, "alpha": axis.tolist(), "beta": axis.tolist(),
            "loss": [flat[i * n:(i + 1) * n] for i in range(n)]}  # loss[beta index][alpha index]


def interpolation(model: nn.Module, other: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                  loss_fn: Callable, config: LandscapeConfig) -> dict:
    """Losses along ``(1 - t) theta_model + t theta_other`` (Goodfellow et al. 2015's 1-D path)."""
    theta = [p.detach().clone() for p in model.parameters()]
    if [t.shape for t in theta] != [o.shape for o in other]:
        raise UserError("the two checkpoints hold different architectures; interpolate between runs of one model")
    path = config.path()
    points = ([(1 - float(t)) * a + float(t) * b for a, b in zip(theta, other)] for t in path)
    return {"dims": 1, "alpha": path.tolist(), "loss": loss_surface(model, points, x, y, loss_fn),
            "interpolation": True}


def linear_slice(W: torch.Tensor, X: torch.Tensor, y: torch.Tensor, direction: torch.Tensor,
                 alphas: torch.Tensor, loss: str = "svm") -> torch.Tensor:
    """Per-example losses ``[A, N]`` of ``scores = X (W + a * direction)`` for each ``a``."""
    Ws = W[None] + alphas.to(W.dtype)[:, None, None] * direction[None]
    scores = torch.einsum("nd,adc->anc", X, Ws)
    return SCORE_LOSSES[loss](scores.unsqueeze(-2), y[:, None])  # a batch of one per example


# -- a run directory ---------------------------------------------------------------

def load_run_model(run_dir: str | Path) -> tuple[nn.Module, object, object]:
    """The run's model with its checkpointed weights, its configuration and its dataset."""
    from trainlab.loop import make_model, prepare_data
    from trainlab.runs import RunDir

    run = RunDir(run_dir)
    config = run.config()
    state = run.load_checkpoint()
    if state is None:
        raise CheckpointError(f"{run.path} has no checkpoint.pt; train it first (or resume it)")
    fix = "it does not hold this run's trained weights: resume or retrain the run to write it again"
    if not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{run.checkpoint_file} has no model weights; {fix}")
    dataset = prepare_data(config, run_dir=run.path)  # the run's own fitted preprocessing
    model = make_model(config, dataset)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, ValueError, AttributeError, KeyError) as exc:
        text = " ".join(str(exc).split())
        raise CheckpointError(f"{run.checkpoint_file} does not fit this run's model "
                              f"({text[:200] or type(exc).__name__}); {fix}") from None
    return model, config, dataset


def landscape(run_dir: str | Path, config: LandscapeConfig, *, to: str | Path | None = None,
              on_start: Callable[[], None] | None = None) -> dict:
    """Compute a run's landscape and write ``landscape-1d.png`` or ``landscape-2d.png`` and
    ``landscape.json`` into the run directory; returns the JSON record. ``on_start`` is called
    once the checkpoints have loaded, before the evaluations."""
    from trainlab.losses import get_loss
    from trainlab.report.plots import save_png

    model, train_config, dataset = load_run_model(run_dir)
    other = load_run_model(to)[0] if to is not None else None
    if on_start is not None:
        on_start()
    data = dataset.train.epoch(0)
    x, y = data.x[:config.examples], data.y[:config.examples]
    loss_fn = get_loss(train_config.loss)
    if to is not None:
        if config.dims != 1:
            raise UserError("--to interpolates along one line between two checkpoints: use --dims 1")
        record = interpolation(model, [p.detach() for p in other.parameters()], x, y, loss_fn, config)
        record["to"] = str(to)
    else:
        record = random_slices(model, x, y, loss_fn, config)
    record.update(run_dir=str(run_dir), loss=record["loss"], loss_name=train_config.loss, examples=len(y),
                  points=config.points, span=config.span, seed=config.seed,
                  directions="interpolation" if to is not None else "filter-normalized (Li et al. 2018)")
    out = Path(run_dir)
    name = f"landscape-{config.dims}d.png"
    save_png(plot_line(record) if config.dims == 1 else plot_contour(record), out / name, dpi=110)
    record["figure"] = name
    atomic_write_text(out / "landscape.json", json.dumps(record) + "\n")
    return record


def plot_line(record: dict):
    from trainlab.report.plots import plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(record["alpha"], record["loss"], color="C0")
    if record.get("interpolation"):
        ax.axvline(0, color="grey", lw=0.8, ls=":")
        ax.axvline(1, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("t: (1 - t) * this run + t * other run")
    else:
        ax.set_xlabel("alpha (filter-normalized direction)")
    ax.set_ylabel(f"{record.get('loss_name', '')} loss")
    ax.set_title(f"Loss along one line ({record.get('examples', '?')} training examples)")
    return fig


def plot_contour(record: dict):
    from trainlab.report.plots import plt

    fig, ax = plt.subplots(figsize=(5.2, 4.5))
    grid = torch.tensor(record["loss"]).clamp_max(1e6)
    levels = 30
    contour = ax.contour(record["alpha"], record["beta"], grid.numpy(), levels=levels, cmap="viridis")
    fig.colorbar(contour, ax=ax, label=f"{record.get('loss_name', '')} loss")
    ax.plot([0], [0], "k+", ms=10)
    ax.set_xlabel("alpha (direction 1)")
    ax.set_ylabel("beta (direction 2)")
    ax.set_title("Loss around the trained weights (filter-normalized)")
    return fig

"""Optional TensorBoard output of a watched run: scalars and histograms from the probes' own reductions.

Histograms are written with ``add_histogram_raw`` from the counts the probes already made, so
TensorBoard adds no pass over the tensors (its ``add_histogram`` would copy and bin each one).
"""
from __future__ import annotations

import math
from pathlib import Path

from trainlab.errors import UserError
from trainlab.probe.records import ProbeRecord
from trainlab.probe.stats import TensorStats


class TensorBoardWriter:
    def __init__(self, logdir: str | Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError("tensorboard= needs the tensorboard package: pip install 'trainlab[tensorboard]' "
                            "(or pip install tensorboard)") from None
        self.writer = SummaryWriter(log_dir=str(logdir))

    def check(self, step: int, *, loss: float | None, lr: float, record: ProbeRecord | None) -> None:
        w = self.writer
        if loss is not None and math.isfinite(loss):
            w.add_scalar("watch/loss", loss, step)
        if math.isfinite(lr):
            w.add_scalar("watch/lr", lr, step)
        if record is None:
            return
        for layer in record.layers:
            if layer.update_ratio is not None and math.isfinite(layer.update_ratio):
                w.add_scalar(f"update_ratio/{layer.name}", layer.update_ratio, step)
            for quantity in ("activation", "backprop_grad", "weight_grad"):
                stats = layer.quantity(quantity)
                if stats is not None:
                    if math.isfinite(stats.std):
                        w.add_scalar(f"{quantity}_std/{layer.name}", stats.std, step)
                    if stats.histogram is not None:
                        self._histogram(f"{quantity}/{layer.name}", stats, step)

    def _histogram(self, tag: str, stats: TensorStats, step: int) -> None:
        counts, edges = stats.histogram.counts, stats.histogram.edges
        num = sum(counts)
        if not num or not all(math.isfinite(e) for e in edges):
            return
        self.writer.add_histogram_raw(tag, min=edges[0], max=edges[-1], num=num, sum=stats.mean * num,
                                      sum_squares=(stats.var + stats.mean ** 2) * num, bucket_limits=edges[1:],
                                      bucket_counts=counts, global_step=step)

    def close(self) -> None:
        self.writer.close()

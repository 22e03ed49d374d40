"""The probe file in a run directory: a JSON header and fixed-width binary rows.

::

    probes.json   layers (name, kind, activation function, saturation rule), bins, row layout
    probes.bin    one little-endian float64 row per (record, layer), appended as training goes:
                  [step, source (0 probe batch, 1 training batch), layer index, *layer row]

Fixed-width rows make the file columnar in effect (``np.fromfile(...).reshape(-1, width)``
gives every statistic as a column), cheap to append, and safe to cut short: a
partial last row left by a kill is ignored. Resuming drops rows from steps that
will be recomputed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from trainlab.errors import CheckpointError
from trainlab.files import atomic_write_text
from trainlab.probe.hooks import decode_layer
from trainlab.probe.records import LayerStats, ProbeRecord
from trainlab.probe.stats import Spec

HEADER, DATA = "probes.json", "probes.bin"
SOURCES = ("probe", "train")
PREFIX = 3  # step, source, layer index
VERSION = 1


@dataclass(frozen=True)
class StoredLayer:
    name: str
    index: int
    kind: str
    activation_fn: str | None


def header_for(probe: Any) -> dict[str, Any]:
    return {
        "version": VERSION,
        "bins": probe.config.bins,
        "row_width": PREFIX + probe.row_width,
        "config": probe.config.to_dict(),
        "layers": [{"name": l.name, "index": l.index, "kind": l.kind, "activation_fn": l.activation_fn,
                    "spec": spec.__dict__ | {"fixed_range": list(spec.fixed_range)}}
                   for l, spec in zip(probe.layers, probe.specs)],
    }


class ProbeWriter:
    """Appends records to ``probes.bin`` in ``folder``; ``start_step`` drops rows at or after it."""

    def __init__(self, folder: str | Path, header: dict[str, Any], *, start_step: int = 0) -> None:
        self.folder = Path(folder)
        self.width = int(header["row_width"])
        head, data = self.folder / HEADER, self.folder / DATA
        if head.exists() and data.exists() and json.loads(head.read_text()).get("layers") == header["layers"] \
                and start_step > 0:
            rows = _read_rows(data, self.width)
            keep = rows[rows[:, 0] < start_step] if len(rows) else rows
            tmp = data.with_name(f".{DATA}.tmp")
            keep.astype("<f8").tofile(tmp)
            tmp.replace(data)
        else:
            data.write_bytes(b"")
        atomic_write_text(head, json.dumps(header, indent=1) + "\n")
        self._fh = open(data, "ab")

    def append(self, record: ProbeRecord, rows: Sequence[Sequence[float]]) -> None:
        source = float(SOURCES.index(record.source))
        block = np.array([[record.step, source, i, *row] for i, row in enumerate(rows)], dtype="<f8")
        self._fh.write(block.tobytes())
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def _read_rows(path: Path, width: int) -> np.ndarray:
    raw = np.fromfile(path, dtype="<f8")
    n = len(raw) // width
    return raw[: n * width].reshape(n, width)


class ProbeLog:
    """A run's probe records, read back from ``probes.json`` + ``probes.bin``."""

    def __init__(self, header: dict[str, Any], rows: np.ndarray) -> None:
        self.header = header
        self.bins = int(header["bins"])
        self.layers = [StoredLayer(l["name"], l["index"], l["kind"], l["activation_fn"]) for l in header["layers"]]
        self.specs = [Spec(**{**l["spec"], "fixed_range": tuple(l["spec"]["fixed_range"])}) for l in header["layers"]]
        self.rows = rows  # [n, PREFIX + layer row]

    def __len__(self) -> int:
        return len(self.records())

    def records(self, source: str | None = None) -> list[ProbeRecord]:
        """Records in file order; ``source`` ``"probe"`` or ``"train"`` keeps one kind."""
        out: list[ProbeRecord] = []
        current: tuple[float, float] | None = None
        layers: list[LayerStats] = []
        for row in self.rows:
            key = (row[0], row[1])
            if current is not None and (key != current or int(row[2]) == 0):
                out.append(ProbeRecord(int(current[0]), SOURCES[int(current[1])], layers))
                layers = []
            current = key
            i = int(row[2])
            layers.append(decode_layer(self.layers[i], self.specs[i], row[PREFIX:].tolist(), self.bins))
        if current is not None:
            out.append(ProbeRecord(int(current[0]), SOURCES[int(current[1])], layers))
        return [r for r in out if source is None or r.source == source]

    def to_rows(self) -> list[dict[str, Any]]:
        return [row for record in self.records() for row in record.to_rows()]


def read_probes(run_dir: str | Path) -> ProbeLog:
    """The probe log of a run directory (raises :class:`CheckpointError` if it has none)."""
    folder = Path(run_dir)
    head = folder / HEADER
    if not head.is_file():
        raise CheckpointError(f"{folder} has no {HEADER}; train with --probe every=N to record probes")
    try:
        header = json.loads(head.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{head} is corrupt ({exc})") from None
    data = folder / DATA
    rows = _read_rows(data, int(header["row_width"])) if data.exists() else np.zeros((0, int(header["row_width"])))
    return ProbeLog(header, rows)


def has_probes(run_dir: str | Path) -> bool:
    return (Path(run_dir) / HEADER).is_file()

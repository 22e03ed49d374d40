"""The watcher's voice on stderr: one live status line, and each finding once, when first seen."""
from __future__ import annotations

import math
import sys
import time
from typing import IO

from trainlab.watcher.findings import Finding

QUIET_SECONDS = 10.0
"""Off a terminal (a log file, CI), the status is written as a line at most this often."""


class StatusLine:
    """``watch  step 1,250  loss 0.412  lr 0.01  no findings``, rewritten in place on a terminal."""

    def __init__(self, *, enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.live = enabled and self.stream.isatty()
        self._width = 0
        self._last = -math.inf

    def update(self, step: int, loss: float | None, lr: float, findings: int) -> None:
        if not self.enabled:
            return
        parts = [f"watch  step {step:,}"]
        parts.append(f"loss {loss:.4g}" if loss is not None else "loss not seen (pass criterion= or call w.loss)")
        if math.isfinite(lr):
            parts.append(f"lr {lr:.3g}")
        parts.append(f"{findings} finding{'s' if findings != 1 else ''}" if findings else "no findings")
        text = "  ".join(parts)
        if self.live:
            self.stream.write("\r" + text.ljust(self._width))
            self.stream.flush()
            self._width = len(text)
            return
        now = time.monotonic()
        if now - self._last >= QUIET_SECONDS:
            self._last = now
            print(text, file=self.stream, flush=True)

    def finding(self, finding: Finding) -> None:
        if not self.enabled:
            return
        self._clear()
        print(f"watch: {finding.line()}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.live and self._width:
            self.stream.write("\n")
            self.stream.flush()
        self._width = 0

    def _clear(self) -> None:
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0

"""Progress on stderr: a tqdm bar on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys
import time


class Progress:
    """Reports steps, loss and samples/s. Updated once per logging window, never per step."""

    def __init__(self, total: int, *, initial: int = 0, desc: str = "train", enabled: bool = True) -> None:
        self.total, self.enabled = total, enabled
        self.bar = None
        self._last_line = time.perf_counter()
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="step", file=sys.stderr, dynamic_ncols=True)

    def update(self, step: int, *, loss: float, samples_per_second: float, lr: float) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.n = step
            self.bar.set_postfix(loss=f"{loss:.4f}", samples_s=f"{samples_per_second:,.0f}", refresh=False)
            self.bar.refresh()
            return
        now = time.perf_counter()
        if now - self._last_line >= 5.0 or step >= self.total:
            self._last_line = now
            print(f"step {step}/{self.total}  loss {loss:.4f}  lr {lr:.3g}  {samples_per_second:,.0f} samples/s",
                  file=sys.stderr, flush=True)

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

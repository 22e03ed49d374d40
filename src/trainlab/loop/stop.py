"""Ctrl-C and SIGTERM as a flag the loop checks between steps, so it can checkpoint first."""
from __future__ import annotations

import signal
import threading
from typing import Any


class StopFlag:
    """While entered, SIGINT/SIGTERM set ``raised`` (the signal's name) instead of stopping the process."""

    def __init__(self) -> None:
        self.raised: str | None = None
        self._saved: dict[int, Any] = {}

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.raised = signal.Signals(signum).name

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)

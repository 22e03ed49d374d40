"""trainlab: see why neural networks train, and why yours does not."""
from __future__ import annotations

__version__ = "0.1.0"

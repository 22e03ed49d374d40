"""The package's version, in one place under every other module."""
from __future__ import annotations

__version__ = "0.1.0"

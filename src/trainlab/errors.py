"""Errors that mean "the user asked for something impossible".

The CLI turns a :class:`UserError` into one line on stderr and exit status 2,
with no traceback. Library code raises it (or a ``ValueError``) for bad input;
``assert`` is never used for input checking.
"""
from __future__ import annotations


class UserError(ValueError):
    """Bad input from the user: the message names the value and the fix."""


class DataError(UserError):
    """A data file is missing, truncated or fails its checksum."""


class CheckpointError(UserError):
    """A checkpoint or run directory cannot be read."""


def choose(kind: str, name: str, allowed: "list[str] | tuple[str, ...]") -> str:
    """Return ``name`` if it is one of ``allowed``, else raise a message listing them."""
    if name not in allowed:
        raise UserError(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(allowed))}")
    return name

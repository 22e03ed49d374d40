"""Small helpers for the batch-normalization reproductions."""
from __future__ import annotations


def total_variation(values: list[float]) -> float:
    """``sum_t |v_{t+1} - v_t|``: how far a trajectory travels."""
    return float(sum(abs(b - a) for a, b in zip(values, values[1:])))

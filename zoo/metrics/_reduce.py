"""Reductions shared by the metric modules: order-independent means (numpy only)."""

from __future__ import annotations

import math

import numpy as np


def fsum_mean(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Mean with exactly rounded sums, so the result does not depend on the order values arrive in (DDP
    ranks deliver sequences in any order). ``axis=0`` reduces each column of a 2-D array; empty -> NaN."""
    values = np.asarray(values, dtype=np.float64)
    if axis is None:
        flat = values.ravel()
        return math.fsum(flat.tolist()) / flat.size if flat.size else float("nan")
    if axis != 0:
        raise ValueError(f"fsum_mean supports axis=None or 0, got {axis}")
    if values.shape[0] == 0:
        return np.full(values.shape[1:], np.nan)
    return np.array([math.fsum(col.tolist()) for col in values.T]) / values.shape[0]

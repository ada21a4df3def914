"""Linear assignment (Hungarian / Jonker-Volgenant) — the zoo's one solver for track-detection matching.

Built on :func:`scipy.optimize.linear_sum_assignment` (re-exported here as :func:`linear_sum_assignment`, the
one raw solver every zoo module calls: it loads SciPy's compiled ``_lsap`` extension directly, because
``import scipy.optimize`` costs about 0.6 s on these machines and re-scoring needs nothing else from it). Two
threshold semantics are offered because the two
classic trackers differ:

- ``gate="solve"`` (default, ByteTrack): pairs with cost > ``thresh`` are forbidden *before* solving, and the
  solver picks the partial matching that minimises ``sum(cost - thresh)`` over matched pairs. This is exactly
  the problem ``lap.lapjv(cost, extend_cost=True, cost_limit=thresh)`` solves in ByteTrack: each unmatched
  row or column costs ``thresh / 2``, so a pair is worth matching only if its cost is at most ``thresh``.
- ``gate="after"`` (SORT): solve the full problem, then drop matched pairs whose cost > ``thresh``.

Forbidden entries: ``+inf`` marks a pair that may never be matched (e.g. outside a Kalman gate). Without a
threshold the result is then a maximum-cardinality matching over the finite entries with minimum total cost
among those. ``NaN`` and ``-inf`` entries are rejected with ``ValueError`` (they have no meaningful optimum).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = ["linear_assignment", "linear_sum_assignment"]

_lsap: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None


def _load_lsap() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """SciPy's compiled solver without running ``scipy/optimize/__init__.py`` (the same function object
    ``scipy.optimize.linear_sum_assignment`` is); the public import wherever the layout differs."""
    try:
        spec = importlib.util.find_spec("scipy")
        folder = Path(next(iter(spec.submodule_search_locations or ()))) / "optimize"
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = folder / f"_lsap{suffix}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("scipy.optimize._lsap", str(path))
                module = importlib.util.module_from_spec(
                    importlib.util.spec_from_file_location("scipy.optimize._lsap", path, loader=loader)
                )
                loader.exec_module(module)
                return module.linear_sum_assignment
    except Exception:  # noqa: BLE001 - any surprise in SciPy's layout: take the documented route
        pass
    from scipy.optimize import linear_sum_assignment as solver

    return solver


def linear_sum_assignment(cost: np.ndarray, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`scipy.optimize.linear_sum_assignment` exactly (same solver, same tie-breaking).

    Args:
        cost: (R, C) float cost matrix.
        maximize: maximise the total instead.

    Returns:
        (rows, cols): (min(R, C),) int arrays of the optimal pairs, rows ascending.
    """
    global _lsap
    if _lsap is None:
        _lsap = _load_lsap()
    return _lsap(cost, maximize)


def _empty(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros((0, 2), dtype=np.int64), np.arange(n, dtype=np.int64), np.arange(m, dtype=np.int64)


def _solve_forbidding(cost: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Min-cost maximum-cardinality matching using only ``allowed`` entries; returns (K, 2) pairs."""
    if not allowed.any():
        return np.zeros((0, 2), dtype=np.int64)
    finite = cost[allowed]
    shifted = np.where(allowed, cost - finite.min(), 0.0)
    # One forbidden pair must cost more than any spread of finite costs over a full assignment, so the
    # solver first minimises the number of forbidden pairs, then the cost among allowed ones.
    k = min(cost.shape)
    big = (float(shifted.max()) + 1.0) * (k + 1)
    work = np.where(allowed, shifted, big)
    rows, cols = linear_sum_assignment(work)
    keep = allowed[rows, cols]
    return np.stack([rows[keep], cols[keep]], axis=1).astype(np.int64)


def linear_assignment(
    cost: np.ndarray,
    thresh: float | None = None,
    *,
    gate: Literal["solve", "after"] = "solve",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match rows to columns of a cost matrix at minimum total cost.

    Args:
        cost: (N, M) float cost matrix (lower is better, e.g. ``1 - IoU``); ``+inf`` entries are forbidden.
        thresh: optional maximum cost of a kept pair; pairs with cost > ``thresh`` are never returned
            (pairs with cost == ``thresh`` may be).
        gate: ``"solve"`` forbids pairs above ``thresh`` before solving (ByteTrack / ``lap.lapjv`` with
            ``cost_limit``); ``"after"`` solves without the threshold and drops such pairs afterwards (SORT).

    Returns:
        ``(matches, unmatched_rows, unmatched_cols)``: ``matches`` is (K, 2) int64 ``(row, col)`` sorted by
        row; the unmatched index arrays are int64, sorted ascending.

    Raises:
        ValueError: if ``cost`` is not 2-D, or holds NaN or ``-inf``.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a 2-D (N, M) matrix, got shape {cost.shape}")
    if gate not in ("solve", "after"):
        raise ValueError(f"gate must be 'solve' or 'after', got {gate!r}")
    n, m = cost.shape
    if n == 0 or m == 0:
        return _empty(n, m)
    if np.isnan(cost).any():
        raise ValueError("cost matrix contains NaN; use +inf to forbid a pair")
    if np.isneginf(cost).any():
        raise ValueError("cost matrix contains -inf; costs must be finite or +inf (forbidden)")
    if thresh is not None and np.isnan(thresh):
        raise ValueError("thresh is NaN")
    if thresh is not None and thresh == np.inf:
        thresh = None  # no limit: lap.lapjv with cost_limit=inf is the plain full assignment

    allowed = np.isfinite(cost)
    if thresh is None:
        matches = _solve_forbidding(cost, allowed)
    elif gate == "after":
        matches = _solve_forbidding(cost, allowed)
        matches = matches[cost[matches[:, 0], matches[:, 1]] <= thresh]
    else:
        allowed &= cost <= thresh
        if allowed.any():
            # Max-weight matching with weights (thresh - cost) >= 0 on allowed pairs. A full rectangular
            # assignment over the matrix (cost - thresh on allowed, 0 elsewhere) has the same optimum: any
            # partial matching extends to a full one by adding pairs that cost <= 0, so nothing is lost.
            work = np.where(allowed, cost - thresh, 0.0)
            rows, cols = linear_sum_assignment(work)
            keep = allowed[rows, cols]
            matches = np.stack([rows[keep], cols[keep]], axis=1).astype(np.int64)
        else:
            matches = np.zeros((0, 2), dtype=np.int64)

    matches = matches[np.argsort(matches[:, 0], kind="stable")]
    unmatched_rows = np.setdiff1d(np.arange(n, dtype=np.int64), matches[:, 0]).astype(np.int64)
    unmatched_cols = np.setdiff1d(np.arange(m, dtype=np.int64), matches[:, 1]).astype(np.int64)
    return matches, unmatched_rows, unmatched_cols

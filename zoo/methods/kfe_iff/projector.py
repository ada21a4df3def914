"""Rounding edge probabilities to a valid set of trajectories: every node keeps at most one selected edge
into its past and one into its future (flow conservation with unit capacities).

Edges with probability above the threshold are selected. Where that leaves a node with two or more past
(or future) edges, the conflicting part of the graph is re-solved: choose the edge subset of maximum total
``p - threshold`` under the flow constraints. SUSHI solves this with a small LP; here it is an exact MILP
(``scipy.optimize.milp``, HiGHS) per conflicting component, or a greedy projector (highest probability
first). Edges are time-ordered, so the selection is always a set of disjoint paths.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["PROJECTORS", "flow_violations", "project_flow"]

PROJECTORS = ("lp", "greedy")


def flow_violations(src: np.ndarray, dst: np.ndarray, selected: np.ndarray, num_nodes: int) -> int:
    """Number of nodes with more than one selected future (as ``src``) or past (as ``dst``) edge."""
    out_deg = np.bincount(src[selected], minlength=num_nodes)
    in_deg = np.bincount(dst[selected], minlength=num_nodes)
    return int((out_deg > 1).sum() + (in_deg > 1).sum())


def _greedy(src: np.ndarray, dst: np.ndarray, prob: np.ndarray, num_nodes: int) -> np.ndarray:
    keep = np.zeros(src.size, bool)
    out_used = np.zeros(num_nodes, bool)
    in_used = np.zeros(num_nodes, bool)
    for e in np.argsort(-prob, kind="stable"):
        if not out_used[src[e]] and not in_used[dst[e]]:
            keep[e] = True
            out_used[src[e]] = True
            in_used[dst[e]] = True
    return keep


def _milp(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, num_nodes: int) -> np.ndarray:
    """Exact: maximise ``sum w_e x_e`` over binary x with out- and in-degree <= 1 per node."""
    e = src.size
    rows = np.concatenate([src, num_nodes + dst])
    a = csr_matrix((np.ones(2 * e), (rows, np.tile(np.arange(e), 2))), shape=(2 * num_nodes, e))
    used = np.flatnonzero(np.diff(a.indptr) > 0)
    res = milp(c=-weight, constraints=LinearConstraint(a[used], -np.inf, 1.0), integrality=np.ones(e),
               bounds=Bounds(0.0, 1.0))
    if res.x is None:  # cannot happen (x = 0 is feasible); keep the greedy answer rather than fail
        return _greedy(src, dst, weight, num_nodes)
    return res.x > 0.5


def project_flow(
    src: np.ndarray,
    dst: np.ndarray,
    prob: np.ndarray,
    num_nodes: int,
    *,
    threshold: float = 0.5,
    method: str = "lp",
) -> np.ndarray:
    """(E,) bool: the selected edges, satisfying the flow constraints.

    Args:
        src, dst: (E,) int time-ordered edges; prob: (E,) probabilities; num_nodes: M.
        threshold: an edge is a candidate when ``prob > threshold``.
        method: ``lp`` (exact, per conflicting component) or ``greedy``.
    """
    if method not in PROJECTORS:
        raise ValueError(f"projector must be one of {PROJECTORS}, got {method!r}")
    src, dst, prob = np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(prob, np.float64)
    selected = prob > threshold
    if flow_violations(src, dst, selected, num_nodes) == 0:
        return selected
    cand = np.flatnonzero(selected)
    # ports: node k's future side is k, its past side is num_nodes + k; candidate edges join ports
    a, b = src[cand], num_nodes + dst[cand]
    ports = coo_matrix((np.ones(cand.size), (a, b)), shape=(2 * num_nodes, 2 * num_nodes))
    _, comp = connected_components(ports, directed=False)
    out_deg = np.bincount(a, minlength=2 * num_nodes)
    in_deg = np.bincount(b, minlength=2 * num_nodes)
    bad_port = (out_deg > 1) | (in_deg > 1)
    bad_comp = np.zeros(comp.max() + 1, bool)
    bad_comp[comp[bad_port]] = True
    result = selected.copy()
    edge_comp = comp[a]
    for c in np.flatnonzero(bad_comp):
        idx = cand[edge_comp == c]
        if method == "greedy":
            keep = _greedy(src[idx], dst[idx], prob[idx], num_nodes)
        else:
            keep = _milp(src[idx], dst[idx], prob[idx] - threshold, num_nodes)
        result[idx] = keep
    return result

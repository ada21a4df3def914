"""Identity metrics (Ristani et al. 2016: IDF1, IDR, IDP) of one sequence, as TrackEval 1.3.0 computes them.

Co-occurrence counts (IoU >= 0.5, no eps) over the whole sequence, then one Hungarian on the
(G+T) x (G+T) false-negative + false-positive cost with dummy rows/columns (1e10 off their diagonal) so an
id may stay unmatched. The cost matrix is built entry for entry as TrackEval builds it (ties break alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.core.assignment import linear_sum_assignment
from zoo.metrics._mot_preprocess import MOTEvalData

THRESHOLD = 0.5


@dataclass
class IdentityStats:
    """IDTP / IDFN / IDFP of one sequence."""

    idtp: int
    idfn: int
    idfp: int


def identity_stats(d: MOTEvalData) -> IdentityStats:
    """Identity counts of one preprocessed sequence (see module docstring)."""
    if d.num_tr_dets == 0:
        return IdentityStats(0, d.num_gt_dets, 0)
    if d.num_gt_dets == 0:
        return IdentityStats(0, 0, d.num_tr_dets)
    n_g, n_t = d.num_gt_ids, d.num_tr_ids
    hit = d.pair_sim >= THRESHOLD
    keys = d.gt_ids[d.pair_gt[hit]] * n_t + d.tr_ids[d.pair_tr[hit]]
    potential = np.bincount(keys, minlength=n_g * n_t).reshape(n_g, n_t).astype(np.float64)
    gt_count = np.bincount(d.gt_ids, minlength=n_g).astype(np.float64)
    tr_count = np.bincount(d.tr_ids, minlength=n_t).astype(np.float64)
    n = n_g + n_t
    fn_mat = np.zeros((n, n))
    fp_mat = np.zeros((n, n))
    fp_mat[n_g:, :n_t] = 1e10
    fn_mat[:n_g, n_t:] = 1e10
    fn_mat[:n_g, :n_t] = gt_count[:, None]
    fn_mat[np.arange(n_g), n_t + np.arange(n_g)] = gt_count
    fp_mat[:n_g, :n_t] = tr_count[None, :]
    fp_mat[n_g + np.arange(n_t), np.arange(n_t)] = tr_count
    fn_mat[:n_g, :n_t] -= potential
    fp_mat[:n_g, :n_t] -= potential
    rows, cols = linear_sum_assignment(fn_mat + fp_mat)
    idfn = int(fn_mat[rows, cols].sum())
    idfp = int(fp_mat[rows, cols].sum())
    return IdentityStats(int(gt_count.sum()) - idfn, idfn, idfp)


def identity_fields(c: IdentityStats) -> dict[str, float | int]:
    """TrackEval's Identity fields from (summed) counts."""
    tp, fn, fp = c.idtp, c.idfn, c.idfp
    return {
        "IDTP": tp,
        "IDFN": fn,
        "IDFP": fp,
        "IDR": tp / max(1.0, tp + fn),
        "IDP": tp / max(1.0, tp + fp),
        "IDF1": tp / max(1.0, tp + 0.5 * fp + 0.5 * fn),
    }

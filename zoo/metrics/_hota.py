"""HOTA (Luiten et al., IJCV 2020) sufficient statistics of one sequence, as TrackEval 1.3.0 computes them.

Per alpha in :data:`ALPHAS`: TP/FN/FP counts, the un-normalised association sums
``sum(M * M / max(1, gt_count + tr_count - M))`` (AssA), ``sum(M * M / max(1, gt_count))`` (AssRe),
``sum(M * M / max(1, tr_count))`` (AssPr) over (gt id, tracker id) pairs matched M times, and the sum of
the matched IoUs (LocA). The per-frame matching is one Hungarian on ``-(alignment * IoU)`` (not one per
alpha), solved as TrackEval solves it (:func:`zoo.metrics._mot_assign.matched_pairs`). The alignment's
per-frame normalisation uses the dense matrices' row and column sums kept bit-exact by preprocessing, so
the solver sees TrackEval's matrix to the last bit and breaks ties the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.metrics._mot_assign import matched_pairs
from zoo.metrics._mot_pairs import EPS, fsum_by
from zoo.metrics._mot_preprocess import MOTEvalData

#: TrackEval's alpha thresholds: ``np.arange(0.05, 0.99, 0.05)`` (19 values; keep the exact array)
ALPHAS = np.arange(0.05, 0.99, 0.05)

#: dense (num_gt_ids x num_tr_ids) accumulators up to this size, sparse (np.unique) beyond
_DENSE_LIMIT = 1 << 24


@dataclass
class HOTAStats:
    """HOTA sufficient statistics of one sequence; all arrays are (19,) over :data:`ALPHAS`.

    Attributes:
        tp, fn, fp: int64 detection counts.
        ass_a, ass_re, ass_pr: float64 un-normalised association sums (divide by max(1, tp)).
        loc: float64 sum of the IoU of the true positives.
    """

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    ass_a: np.ndarray
    ass_re: np.ndarray
    ass_pr: np.ndarray
    loc: np.ndarray


def _accumulate(keys: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Per-entry sum over equal keys, added in input order (as TrackEval's frame-by-frame ``+=``);
    returns the sum at each entry's key."""
    if size <= _DENSE_LIMIT:
        return fsum_by(keys, weights, size)[keys]
    _, inv = np.unique(keys, return_inverse=True)
    return fsum_by(inv, weights, 0)[inv]


def hota_stats(d: MOTEvalData) -> HOTAStats:
    """HOTA sufficient statistics of one preprocessed sequence (see module docstring)."""
    n_a = ALPHAS.shape[0]
    zeros = np.zeros(n_a)
    if d.num_tr_dets == 0 or d.num_gt_dets == 0:
        tp = np.zeros(n_a, np.int64)
        return HOTAStats(
            tp, tp + d.num_gt_dets, tp + d.num_tr_dets, zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy()
        )
    s = d.pair_sim
    gl = d.gt_ids[d.pair_gt]
    tl = d.tr_ids[d.pair_tr]
    n_t = d.num_tr_ids
    # global pass: per-frame normalised similarity accumulated per id pair
    denom = d.tr_sim_sum[d.pair_tr] + d.gt_sim_sum[d.pair_gt] - s
    sim_iou = np.zeros_like(s)
    np.divide(s, denom, out=sim_iou, where=denom > 0 + EPS)
    keys = gl * n_t + tl
    potential = _accumulate(keys, sim_iou, d.num_gt_ids * n_t)
    gt_count = np.bincount(d.gt_ids, minlength=d.num_gt_ids).astype(np.float64)
    tr_count = np.bincount(d.tr_ids, minlength=n_t).astype(np.float64)
    align = potential / (gt_count[gl] + tr_count[tl] - potential)
    score = align * s

    m = matched_pairs(d, score, score > 0)
    sm = s[m]
    hit = sm[None, :] >= (ALPHAS - EPS)[:, None]  # (19, M)
    tp = hit.sum(1).astype(np.int64)
    # summation order differs from TrackEval's frame-by-frame sums by rounding only (LocA is a ratio)
    loc = np.where(hit, sm[None, :], 0.0).sum(1)
    uniq, inv = np.unique(keys[m], return_inverse=True)
    a_idx, j = np.nonzero(hit)
    counts = np.bincount(a_idx * uniq.size + inv[j], minlength=n_a * uniq.size).reshape(n_a, uniq.size)
    counts = counts.astype(np.float64)
    gc = gt_count[uniq // n_t][None, :]
    tc = tr_count[uniq % n_t][None, :]
    ass_a = (counts * (counts / np.maximum(1, gc + tc - counts))).sum(1)
    ass_re = (counts * (counts / np.maximum(1, gc))).sum(1)
    ass_pr = (counts * (counts / np.maximum(1, tc))).sum(1)
    return HOTAStats(tp, d.num_gt_dets - tp, d.num_tr_dets - tp, ass_a, ass_re, ass_pr, loc)


def hota_fields(tp, fn, fp, ass_a_w, ass_re_w, ass_pr_w, loc_w, weight) -> dict[str, np.ndarray | float]:
    """TrackEval's final HOTA fields from (19,) arrays.

    ``ass_*_w`` and ``loc_w`` are divided by ``max(1, weight)`` (association) and ``max(1e-10, weight)``
    after ``max(1e-10, loc_w)`` (localisation): for one sequence pass the raw sums and ``weight = tp``; for
    combined sequences pass the TP-weighted sums of the per-sequence values and the summed tp.
    """
    tp = np.asarray(tp, dtype=np.float64)
    fn = np.asarray(fn, dtype=np.float64)
    fp = np.asarray(fp, dtype=np.float64)
    out: dict[str, np.ndarray | float] = {}
    out["AssA"] = ass_a_w / np.maximum(1.0, weight)
    out["AssRe"] = ass_re_w / np.maximum(1.0, weight)
    out["AssPr"] = ass_pr_w / np.maximum(1.0, weight)
    out["LocA"] = np.maximum(1e-10, loc_w) / np.maximum(1e-10, weight)
    out["DetRe"] = tp / np.maximum(1, tp + fn)
    out["DetPr"] = tp / np.maximum(1, tp + fp)
    out["DetA"] = tp / np.maximum(1, tp + fn + fp)
    out["HOTA"] = np.sqrt(out["DetA"] * out["AssA"])
    out["OWTA"] = np.sqrt(out["DetRe"] * out["AssA"])
    out["HOTA(0)"] = float(out["HOTA"][0])
    out["LocA(0)"] = float(out["LocA"][0])
    out["HOTALocA(0)"] = out["HOTA(0)"] * out["LocA(0)"]
    return out

"""CLEAR-MOT (Bernardin & Stiefelhagen 2008) counts of one sequence, as TrackEval 1.3.0 computes them.

Per frame with both gt and tracker boxes, the matching maximises ``1000 * continues + IoU`` over pairs with
IoU >= 0.5 - eps, where ``continues`` says the tracker id is the one this gt id was matched to in the
previous *processed* frame. The bonus can only change the outcome in frames where some box has two
candidates, so only those frames run the Hungarian (scipy, on TrackEval's dense matrix); the others take
their candidates as matches. Quirks reproduced: frames without gt or without tracker boxes are skipped
before continuity is reset (they break no track and count no fragmentation); MT is a strict > 0.8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.core.assignment import linear_sum_assignment
from zoo.metrics._mot_assign import busy_frames, dense_layout, framewise_sum
from zoo.metrics._mot_pairs import EPS
from zoo.metrics._mot_preprocess import MOTEvalData

THRESHOLD = 0.5


@dataclass
class CLEARStats:
    """CLEAR counts of one sequence (TrackEval's summed fields).

    ``frames`` is ``CLR_Frames``: TrackEval leaves it 0 for a sequence without gt or tracker boxes.
    ``motp_sum`` is the summed IoU of the true positives.
    """

    tp: int
    fn: int
    fp: int
    idsw: int
    mt: int
    pt: int
    ml: int
    frag: int
    frames: int
    motp_sum: float


def clear_stats(d: MOTEvalData) -> CLEARStats:
    """CLEAR counts of one preprocessed sequence (see module docstring)."""
    if d.num_tr_dets == 0:
        return CLEARStats(0, d.num_gt_dets, 0, 0, 0, 0, d.num_gt_ids, 0, 0, 0.0)
    if d.num_gt_dets == 0:
        return CLEARStats(0, 0, d.num_tr_dets, 0, 0, 0, 0, 0, 0, 0.0)
    s = d.pair_sim
    cand_idx = np.flatnonzero(s >= THRESHOLD - EPS)
    cand = np.zeros(s.size, dtype=bool)
    cand[cand_idx] = True
    conflict = busy_frames(d, cand)
    pframe = d.pair_frame
    n_g = np.diff(d.gt_offsets)
    n_k = np.diff(d.tr_offsets)
    rank = np.cumsum((n_g > 0) & (n_k > 0)) - 1  # index among processed frames (both sides present)
    cf = pframe[cand_idx]
    # a candidate continues a track when the same (gt id, tracker id) pair was matched in the previous
    # processed frame; conflict-free frames match all their candidates, so only the loop below is sequential
    matched = np.append(~conflict[cf], False)  # trailing False: "no predecessor"
    conf_c = np.flatnonzero(conflict[cf])
    if conf_c.size:
        n_t, n_gi = np.int64(d.num_tr_ids), np.int64(d.num_gt_ids)
        gl, tl = d.gt_ids[d.pair_gt[cand_idx]], d.tr_ids[d.pair_tr[cand_idx]]
        key = (rank[cf] * n_gi + gl) * n_t + tl
        order = np.argsort(key)
        want = key[conf_c] - n_gi * n_t  # same ids, one processed frame earlier
        j = np.minimum(np.searchsorted(key[order], want), key.size - 1)
        pred = np.where(key[order][j] == want, order[j], -1)
        frames = np.flatnonzero(conflict)
        for size, blocks, sl, pos in dense_layout(d, frames, cand_idx[conf_c]):
            buf = np.full(size, -0.0)
            lookup = np.full(size, -1, dtype=np.int64)
            cc = conf_c[sl]
            lookup[pos] = cc
            sc = s[cand_idx[cc]]
            pr = pred[sl]
            bounds = np.searchsorted(pos, [b for b, _, _ in blocks] + [size])
            for (b, r, c), q0, q1 in zip(blocks, bounds[:-1].tolist(), bounds[1:].tolist()):
                buf[pos[q0:q1]] = -(1000 * matched[pr[q0:q1]] + sc[q0:q1])
                rows, cols = linear_sum_assignment(buf[b : b + r * c].reshape(r, c))
                hit = lookup[b + rows * c + cols]
                matched[hit[hit >= 0]] = True
    m = cand_idx[matched[:-1]]

    tp = int(m.size)
    gl = d.gt_ids[d.pair_gt[m]]
    tl = d.tr_ids[d.pair_tr[m]]
    order = np.argsort(gl, kind="stable")  # per gt id, in time order
    gs, ts, rs = gl[order], tl[order], rank[pframe[m]][order]
    same = gs[1:] == gs[:-1]
    idsw = int(np.sum(same & (ts[1:] != ts[:-1])))
    # a (re)start: first match of a gt id, or not matched in the previous processed frame
    start = np.ones(gs.size, dtype=bool)
    start[1:] = ~same | (rs[1:] != rs[:-1] + 1)
    starts = np.bincount(gs[start], minlength=d.num_gt_ids)
    frag = int(np.sum(starts[starts > 0] - 1))
    gt_count = np.bincount(d.gt_ids, minlength=d.num_gt_ids).astype(np.float64)
    n_matched = np.bincount(gl, minlength=d.num_gt_ids).astype(np.float64)
    present = gt_count > 0
    ratio = n_matched[present] / gt_count[present]
    mt = int(np.sum(ratio > 0.8))
    pt_ = int(np.sum(ratio >= 0.2)) - mt
    ml = d.num_gt_ids - mt - pt_
    return CLEARStats(
        tp=tp,
        fn=d.num_gt_dets - tp,
        fp=d.num_tr_dets - tp,
        idsw=idsw,
        mt=mt,
        pt=pt_,
        ml=ml,
        frag=frag,
        frames=d.num_timesteps,
        motp_sum=float(framewise_sum(pframe[m], s[m])[0]),
    )


def clear_fields(c: CLEARStats) -> dict[str, float | int]:
    """TrackEval's CLEAR fields from (summed) counts."""
    tp, fn, fp, idsw = c.tp, c.fn, c.fp, c.idsw
    n_ids = c.mt + c.ml + c.pt
    out: dict[str, float | int] = {
        "CLR_TP": tp, "CLR_FN": fn, "CLR_FP": fp, "IDSW": idsw, "MT": c.mt, "PT": c.pt, "ML": c.ml,
        "Frag": c.frag, "CLR_Frames": c.frames, "MOTP_sum": float(c.motp_sum),
    }  # fmt: skip
    out["MTR"] = c.mt / max(1.0, n_ids)
    out["MLR"] = c.ml / max(1.0, n_ids)
    out["PTR"] = c.pt / max(1.0, n_ids)
    out["CLR_Re"] = tp / max(1.0, tp + fn)
    out["CLR_Pr"] = tp / max(1.0, tp + fp)
    out["MODA"] = (tp - fp) / max(1.0, tp + fn)
    out["MOTA"] = (tp - fp - idsw) / max(1.0, tp + fn)
    out["MOTP"] = c.motp_sum / max(1.0, tp)
    out["sMOTA"] = (c.motp_sum - fp - idsw) / max(1.0, tp + fn)
    out["CLR_F1"] = tp / max(1.0, tp + 0.5 * fn + 0.5 * fp)
    out["FP_per_frame"] = fp / max(1.0, c.frames)
    safe_log_idsw = np.log10(idsw) if idsw > 0 else idsw
    out["MOTAL"] = float((tp - fp - safe_log_idsw) / max(1.0, tp + fn))
    return out

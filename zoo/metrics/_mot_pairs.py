"""Sparse per-frame geometry for the MOT metrics: same-frame box pairs with IoU > 0 and exact sums.

TrackEval works on one dense (G_t, T_t) IoU matrix per frame. Here only the non-zero entries are formed
(:func:`overlapping_pairs`, a sort-and-search on box edges), and what TrackEval derives from the dense
matrices is reproduced from them bit for bit: the IoU values (:func:`pair_iou`, same operations in the same
order) and numpy's pairwise-summation row sums (:func:`pairwise_row_sums`, which only needs the positions of
the non-zero values).
"""

from __future__ import annotations

import numpy as np

EPS = float(np.finfo(float).eps)


def pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of paired 0-based ``xyxy`` boxes (P, 4) x (P, 4) -> (P,) with TrackEval's conventions: no +1
    pixel; intersection 0 where either area is <= eps; union 1 where it is <= eps. Bit-identical to
    TrackEval's ``_calculate_box_ious`` entry for entry (the same operations in the same order)."""
    inter = np.maximum(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0) * np.maximum(
        np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0
    )
    return _iou_from_parts(inter, _area(a), _area(b))


def _area(boxes: np.ndarray) -> np.ndarray:
    # TrackEval's signed area (a negative width stays negative and counts as degenerate)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _iou_from_parts(inter: np.ndarray, area_a: np.ndarray, area_b: np.ndarray) -> np.ndarray:
    union = area_a + area_b - inter
    inter = np.where((area_a <= 0 + EPS) | (area_b <= 0 + EPS) | (union <= 0 + EPS), 0.0, inter)
    return inter / np.where(union <= 0 + EPS, 1.0, union)


def overlapping_pairs(
    g_frames: np.ndarray, g_boxes: np.ndarray, k_frames: np.ndarray, k_boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All same-frame (gt row, tracker row) pairs with IoU > 0, without dense frame matrices.

    Two boxes overlap in x iff one's left edge lies inside the other's x-range; each side's left edges are
    sorted on a (frame, x) key and searched with a 1-pixel margin (a superset), then every candidate is
    tested exactly and assigned to the one search that owns it (no duplicates).

    Args:
        g_frames / k_frames: (Ng,) / (Nt,) int64 frame numbers, sorted.
        g_boxes / k_boxes: (Ng, 4) / (Nt, 4) float64 ``xyxy``.

    Returns:
        gt rows (P,), tracker rows (P,) sorted by gt row then tracker row, and their IoU (P,) > 0
        (TrackEval's value, see :func:`pair_iou`).
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if g_frames.size == 0 or k_frames.size == 0:
        return empty
    gx0, gy0, gx1, gy1 = (np.ascontiguousarray(g_boxes[:, i]) for i in range(4))
    kx0, ky0, kx1, ky1 = (np.ascontiguousarray(k_boxes[:, i]) for i in range(4))
    with np.errstate(invalid="ignore"):
        lo_x = float(min(np.nanmin(gx0), np.nanmin(kx0)))
        hi_x = float(max(np.nanmax(gx1), np.nanmax(kx1)))
    if not (np.isfinite(lo_x) and np.isfinite(hi_x)):
        return empty
    span = (hi_x - lo_x) + 4.0  # frames never share a key range (margins are 1 pixel)

    def search(qf, q0, q1, rf, r0):
        """Rows r whose left edge r0 lies in [q0 - 1, q1 + 1) of a query row q of the same frame."""
        key = rf * span + (r0 - lo_x)
        order = np.argsort(key, kind="stable")
        key = key[order]
        base = qf * span - lo_x
        lo = np.searchsorted(key, base + q0 - 1.0, side="left")
        cnt = np.maximum(np.searchsorted(key, base + q1 + 1.0, side="left") - lo, 0)
        return np.repeat(np.arange(qf.size), cnt), order[_ranges(lo, cnt)]

    ga, ka = search(g_frames, gx0, gx1, k_frames, kx0)  # tracker starts inside gt: gx0 <= kx0 < gx1
    kb, gb = search(k_frames, kx0, kx1, g_frames, gx0)  # gt starts inside tracker: kx0 < gx0 < kx1
    ok_a = (g_frames[ga] == k_frames[ka]) & (gx0[ga] <= kx0[ka]) & (kx0[ka] < gx1[ga])
    ok_b = (g_frames[gb] == k_frames[kb]) & (kx0[kb] < gx0[gb]) & (gx0[gb] < kx1[kb])
    gi = np.concatenate([ga[ok_a], gb[ok_b]])
    ki = np.concatenate([ka[ok_a], kb[ok_b]])
    iw = np.minimum(gx1[gi], kx1[ki]) - np.maximum(gx0[gi], kx0[ki])
    ih = np.minimum(gy1[gi], ky1[ki]) - np.maximum(gy0[gi], ky0[ki])
    ok = (iw > 0) & (ih > 0)
    gi, ki = gi[ok], ki[ok]
    iou = _iou_from_parts(iw[ok] * ih[ok], _area(g_boxes)[gi], _area(k_boxes)[ki])
    ok = iou > 0
    gi, ki, iou = gi[ok], ki[ok], iou[ok]
    srt = np.argsort(gi * np.int64(k_frames.size) + ki, kind="stable")
    return gi[srt], ki[srt], iou[srt]


def fsum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """(size,) float64 sums of ``values`` per ``index``, added in input order (``np.bincount``, which
    returns an integer array for empty input)."""
    return np.bincount(index, weights=values, minlength=size).astype(np.float64, copy=False)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each (s, n), vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + shift


def _pairwise_block(sid: np.ndarray, pos: np.ndarray, val: np.ndarray, n: int, nseg: int) -> np.ndarray:
    """numpy's pairwise summation of ``nseg`` rows of length ``n`` given only their non-zero entries.

    numpy sums a contiguous run of n values as: n < 8 sequentially; n <= 128 in 8 interleaved sequential
    accumulators combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the last n % 8 values sequentially;
    larger n as the sum of its two halves (split at a multiple of 8). Zeros add nothing, so only the
    positions of the non-zero values matter. Entries must be sorted by (sid, pos).
    """
    if n > 128:
        n2 = n // 2
        n2 -= n2 % 8
        left = pos < n2
        right = ~left
        return _pairwise_block(sid[left], pos[left], val[left], n2, nseg) + _pairwise_block(
            sid[right], pos[right] - n2, val[right], n - n2, nseg
        )
    m = n - n % 8 if n >= 8 else 0
    if m:
        blk = pos < m
        acc = fsum_by(sid[blk] * 8 + pos[blk] % 8, val[blk], nseg * 8).reshape(nseg, 8)
        res = ((acc[:, 0] + acc[:, 1]) + (acc[:, 2] + acc[:, 3])) + (
            (acc[:, 4] + acc[:, 5]) + (acc[:, 6] + acc[:, 7])
        )
        rest = ~blk
        sid, val = sid[rest], val[rest]
    else:
        res = np.zeros(nseg)
    if sid.size:
        idx = np.arange(sid.size)
        first = np.r_[True, sid[1:] != sid[:-1]]
        rank = idx - np.maximum.accumulate(np.where(first, idx, 0))
        for k in range(int(rank.max()) + 1):
            sel = rank == k
            res[sid[sel]] += val[sel]
    return res


def pairwise_row_sums(seg: np.ndarray, pos: np.ndarray, val: np.ndarray, seg_len: np.ndarray) -> np.ndarray:
    """Bit-exact ``dense_row.sum()`` of sparse rows.

    Args:
        seg: (E,) int64 row of each non-zero entry, sorted, then ``pos`` (E,) its column, sorted within a row.
        val: (E,) float64 values.
        seg_len: (R,) int64 dense length of each row.

    Returns:
        (R,) float64, equal to numpy's ``.sum()`` of each dense C-contiguous row.
    """
    out = np.zeros(seg_len.shape[0])
    if seg.size == 0:
        return out
    cnt = np.bincount(seg, minlength=seg_len.shape[0])
    one = cnt[seg] == 1  # a lone non-zero is its own sum, whatever the summation tree
    out[seg[one]] = val[one]
    seg, pos, val = seg[~one], pos[~one], val[~one]
    lens = seg_len[seg]
    for n in np.unique(lens).tolist():
        e = lens == n
        se = seg[e]
        first = np.r_[True, se[1:] != se[:-1]]
        out[se[first]] = _pairwise_block(np.cumsum(first) - 1, pos[e], val[e], int(n), int(first.sum()))
    return out

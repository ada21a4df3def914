"""Per-frame maximum-score assignments over the sparse pairs of a :class:`MOTEvalData`.

TrackEval runs ``scipy.optimize.linear_sum_assignment`` on a dense score matrix in every frame. Where the
positive scores of a frame already form a one-to-one matching, that matching is the unique optimum and the
solver is skipped; every other frame gets scipy's solver on the same dense matrix TrackEval builds (same
rows, columns and values, zeros negated to -0.0), so ties break identically. Dense matrices of many frames
are laid end to end in one buffer, in chunks of at most ``_CHUNK`` entries.
"""

from __future__ import annotations

import numpy as np

from zoo.core.assignment import linear_sum_assignment
from zoo.metrics._mot_preprocess import MOTEvalData

#: entries of dense per-frame score matrices held at once
_CHUNK = 1 << 22


def busy_frames(d: MOTEvalData, sel: np.ndarray) -> np.ndarray:
    """(T,) bool: frames where a gt or tracker row has two or more of the selected pairs (``sel`` (P,) bool),
    i.e. where the selected pairs are not already a one-to-one matching."""
    busy = np.zeros(d.num_timesteps, dtype=bool)
    busy[d.gt_frame[np.bincount(d.pair_gt[sel], minlength=d.num_gt_dets) >= 2]] = True
    busy[d.tr_frame[np.bincount(d.pair_tr[sel], minlength=d.num_tr_dets) >= 2]] = True
    return busy


def dense_layout(d: MOTEvalData, frames: np.ndarray, pairs: np.ndarray, limit: int | None = None):
    """Flat positions of ``pairs`` in the row-major dense matrices of ``frames`` laid end to end, in chunks.

    Args:
        frames: (F,) sorted 0-based frames; pairs: (Q,) sorted pair indices, all inside ``frames``.

    Yields:
        per chunk of frames holding at most ``limit`` entries (a larger frame alone): the chunk's buffer size,
        the per-frame (start, rows, cols) lists, the chunk's slice of ``pairs`` and their positions.
    """
    limit = _CHUNK if limit is None else limit
    n_r = (d.gt_offsets[frames + 1] - d.gt_offsets[frames]).astype(np.int64)
    n_c = (d.tr_offsets[frames + 1] - d.tr_offsets[frames]).astype(np.int64)
    size = n_r * n_c
    start = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    fi = np.searchsorted(frames, d.pair_frame[pairs])
    f = frames[fi]
    pos = start[fi] + (d.pair_gt[pairs] - d.gt_offsets[f]) * n_c[fi] + (d.pair_tr[pairs] - d.tr_offsets[f])
    i0 = 0
    while i0 < frames.size:
        i1 = max(i0 + 1, int(np.searchsorted(start, start[i0] + limit, side="right")) - 1)
        i1 = min(i1, frames.size)
        q0, q1 = np.searchsorted(pos, [start[i0], start[i1]])
        base = int(start[i0])
        yield (
            int(start[i1]) - base,
            list(zip((start[i0:i1] - base).tolist(), n_r[i0:i1].tolist(), n_c[i0:i1].tolist())),
            slice(int(q0), int(q1)),
            pos[q0:q1] - base,
        )
        i0 = i1


def matched_pairs(d: MOTEvalData, score: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Indices of the pairs a per-frame maximum-score assignment matches, among pairs with ``positive``
    score (score > 0). Frames where some row or column holds two positive scores run scipy's
    ``linear_sum_assignment(-dense_score)``; elsewhere the positive pairs are the unique optimum.

    Args:
        d: the sequence; ``score`` (P,) float64 is the score of each stored pair (zero elsewhere).
        positive: (P,) bool, the pairs that may be matched (``score > 0``).

    Returns:
        (M,) int64 pair indices in frame order.
    """
    conflict = busy_frames(d, positive)
    pframe = d.pair_frame
    pos_idx = np.flatnonzero(positive)
    out = [pos_idx[~conflict[pframe[pos_idx]]]]
    frames = np.flatnonzero(conflict)
    pairs = np.flatnonzero(conflict[pframe])
    for size, blocks, sl, pos in dense_layout(d, frames, pairs):
        buf = np.full(size, -0.0)  # TrackEval negates a dense score matrix: zeros become -0.0
        buf[pos] = -score[pairs[sl]]
        hits = []
        for b, r, c in blocks:
            rows, cols = linear_sum_assignment(buf[b : b + r * c].reshape(r, c))
            hits.append(b + rows * c + cols)
        got = pairs[sl][_lookup(pos, np.concatenate(hits))]
        out.append(got[positive[got]])
    return np.sort(np.concatenate(out))


def _lookup(pos: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Indices into sorted ``pos`` of the entries of ``flat`` present there (others, zero-score cells, drop)."""
    j = np.minimum(np.searchsorted(pos, flat), max(pos.size - 1, 0))
    return j[pos[j] == flat] if pos.size else j[:0]


def framewise_sum(frame: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``sum`` per frame (sequential, in the given order) accumulated frame after frame: TrackEval's
    ``total += sum(similarity[rows, cols])`` order, reproduced to the last bit.

    Args:
        frame: (M,) sorted frame of each value; values: (M,) float64 or (A, M) for A independent sums.

    Returns:
        (A,) float64 totals (A = 1 for 1-D ``values``).
    """
    values = np.atleast_2d(values)
    out = np.zeros(values.shape[0])
    if frame.size == 0:
        return out
    first = np.r_[True, frame[1:] != frame[:-1]]
    row = np.cumsum(first) - 1
    col = np.arange(frame.size) - np.flatnonzero(first)[row]
    grid = np.zeros((int(row[-1]) + 1, int(col.max()) + 1))
    for a in range(values.shape[0]):
        grid[row, col] = values[a]
        out[a] = np.cumsum(np.cumsum(grid, axis=1)[:, -1])[-1]
    return out

"""MOTChallenge preprocessing and the per-frame similarity data every MOT metric reads.

The output, :class:`MOTEvalData`, is TrackEval's per-sequence ``data`` dict in flat array form: rows of
every frame concatenated in time order, ids relabelled to ``0..N-1`` (sorted by original id, as TrackEval
does) and only the non-zero entries of each frame's ``(G_t, T_t)`` IoU matrix stored, together with the row
and column sums of those dense matrices (HOTA's per-frame normalisation needs them bit-exact).

Bit-exactness: IoU is computed elementwise exactly as TrackEval computes it from ``xywh`` (no +1 pixel,
intersection zeroed where an area is <= eps; see :mod:`zoo.metrics._mot_pairs`). The inputs here are
0-based ``xyxy``; the 1-pixel shift a reader applies is exact for every coordinate >= 0.5 (and for all
float32-printed values), and IoU is shift-invariant in exact arithmetic, so for such inputs every IoU
equals TrackEval's to the last bit (elsewhere they may differ in the last bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from zoo.core.assignment import linear_sum_assignment
from zoo.metrics._mot_pairs import EPS, fsum_by, overlapping_pairs, pairwise_row_sums

#: benchmarks whose evaluation uses MOTChallenge distractor preprocessing (TrackEval ``DO_PREPROC``)
PREPROCESSED_BENCHMARKS = ("MOT16", "MOT17", "MOT20")
#: benchmarks evaluated on all gt rows with a non-zero "consider" flag and no distractor removal
PLAIN_BENCHMARKS = ("MOT15", "DanceTrack", "ZooSynth")
BENCHMARKS = PREPROCESSED_BENCHMARKS + PLAIN_BENCHMARKS

PEDESTRIAN = 1
#: person_on_vehicle, static_person, distractor, reflection; MOT20 adds non_mot_vehicle (6)
_DISTRACTORS = {"MOT16": (2, 7, 8, 12), "MOT17": (2, 7, 8, 12), "MOT20": (2, 6, 7, 8, 12)}
_VALID_GT_CLASSES = (1, 13)


class RowsLike(Protocol):
    """What is read from a :class:`zoo.data.types.MOTRows` (see there for shapes and dtypes)."""

    frames: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


@dataclass
class MOTEvalData:
    """One sequence ready for HOTA / CLEAR / Identity (TrackEval's preprocessed ``data``).

    Attributes:
        num_timesteps: number of frames T.
        gt_ids: (Ng,) int64 gt labels in ``0..num_gt_ids-1``, rows of frame 0, then frame 1, ...
        tr_ids: (Nt,) int64 tracker labels in ``0..num_tr_ids-1``, same layout.
        gt_offsets: (T+1,) int64, rows of 0-based frame t are ``gt_offsets[t]:gt_offsets[t+1]``.
        tr_offsets: (T+1,) int64, likewise for tracker rows.
        num_gt_ids / num_tr_ids: number of distinct labels.
        pair_gt / pair_tr: (P,) int64 row indices (into ``gt_ids`` / ``tr_ids``) of the non-zero similarities,
            ordered by frame, then gt row, then tracker row (row-major within each frame's matrix).
        pair_sim: (P,) float64 IoU of those pairs, all > 0.
        gt_sim_sum: (Ng,) float64 row sums of each frame's dense (G_t, T_t) IoU matrix (numpy's order).
        tr_sim_sum: (Nt,) float64 column sums, likewise.
    """

    num_timesteps: int
    gt_ids: np.ndarray
    tr_ids: np.ndarray
    gt_offsets: np.ndarray
    tr_offsets: np.ndarray
    num_gt_ids: int
    num_tr_ids: int
    pair_gt: np.ndarray
    pair_tr: np.ndarray
    pair_sim: np.ndarray
    gt_sim_sum: np.ndarray
    tr_sim_sum: np.ndarray

    @property
    def num_gt_dets(self) -> int:
        return int(self.gt_ids.shape[0])

    @property
    def num_tr_dets(self) -> int:
        return int(self.tr_ids.shape[0])

    @cached_property
    def gt_frame(self) -> np.ndarray:
        """(Ng,) int64 0-based frame of each gt row."""
        return np.repeat(np.arange(self.num_timesteps), np.diff(self.gt_offsets))

    @cached_property
    def tr_frame(self) -> np.ndarray:
        """(Nt,) int64 0-based frame of each tracker row."""
        return np.repeat(np.arange(self.num_timesteps), np.diff(self.tr_offsets))

    @cached_property
    def pair_frame(self) -> np.ndarray:
        """(P,) int64 0-based frame of each stored pair (sorted)."""
        return self.gt_frame[self.pair_gt]

    def per_frame(self) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """TrackEval's per-frame lists: gt labels (G_t,), tracker labels (T_t,), dense IoU (G_t, T_t)."""
        gts, trs, sims = [], [], []
        bounds = np.searchsorted(self.pair_frame, np.arange(self.num_timesteps + 1))
        for t in range(self.num_timesteps):
            g0, g1 = self.gt_offsets[t], self.gt_offsets[t + 1]
            k0, k1 = self.tr_offsets[t], self.tr_offsets[t + 1]
            sim = np.zeros((g1 - g0, k1 - k0))
            p = slice(bounds[t], bounds[t + 1])
            sim[self.pair_gt[p] - g0, self.pair_tr[p] - k0] = self.pair_sim[p]
            gts.append(self.gt_ids[g0:g1].copy())
            trs.append(self.tr_ids[k0:k1].copy())
            sims.append(sim)
        return gts, trs, sims

    @classmethod
    def from_per_frame(
        cls, gt_ids: list[np.ndarray], tr_ids: list[np.ndarray], similarity: list[np.ndarray]
    ) -> MOTEvalData:
        """Build from TrackEval-style per-frame lists (ids: any ints, unique within a frame; similarity
        (G_t, T_t) float in [0, 1]). Ids are relabelled to ``0..N-1`` in sorted order."""
        if not len(gt_ids) == len(tr_ids) == len(similarity):
            raise ValueError("gt_ids, tr_ids and similarity must have one entry per frame")
        num_t = len(gt_ids)
        g_all = [np.asarray(g, dtype=np.int64).reshape(-1) for g in gt_ids]
        k_all = [np.asarray(k, dtype=np.int64).reshape(-1) for k in tr_ids]
        g_off = np.concatenate([[0], np.cumsum([len(g) for g in g_all])]).astype(np.int64)
        k_off = np.concatenate([[0], np.cumsum([len(k) for k in k_all])]).astype(np.int64)
        gsum = np.zeros(g_off[-1])
        ksum = np.zeros(k_off[-1])
        pg, pk, ps = [], [], []
        for t in range(num_t):
            sim = np.asarray(similarity[t], dtype=np.float64)
            if sim.shape != (len(g_all[t]), len(k_all[t])):
                raise ValueError(
                    f"frame {t}: similarity shape {sim.shape} != ({len(g_all[t])}, {len(k_all[t])})"
                )
            _check_unique(g_all[t], "gt", t + 1)
            _check_unique(k_all[t], "tracker", t + 1)
            if sim.size == 0:
                continue
            sim = np.ascontiguousarray(sim)
            gsum[g_off[t] : g_off[t + 1]] = sim.sum(1)
            ksum[k_off[t] : k_off[t + 1]] = sim.sum(0)
            r, c = np.nonzero(sim > 0)
            pg.append(r + g_off[t])
            pk.append(c + k_off[t])
            ps.append(sim[r, c])
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
        g_lab, n_g = _relabel(cat(g_all, np.int64))
        k_lab, n_k = _relabel(cat(k_all, np.int64))
        return cls(
            num_t, g_lab, k_lab, g_off, k_off, n_g, n_k,
            cat(pg, np.int64), cat(pk, np.int64), cat(ps, np.float64), gsum, ksum,
        )  # fmt: skip


def _check_unique(ids: np.ndarray, what: str, frame: int) -> None:
    if ids.size > 1:
        s = np.sort(ids)
        dup = s[1:][s[1:] == s[:-1]]
        if dup.size:
            raise ValueError(f"{what} id {int(dup[0])} appears more than once in frame {frame}")


def _relabel(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Map ids to ``0..N-1`` by sorted value (TrackEval's contiguous relabelling)."""
    if ids.size == 0:
        return ids.astype(np.int64), 0
    uniq, inv = np.unique(ids, return_inverse=True)
    return inv.astype(np.int64).reshape(-1), int(uniq.size)


def _sorted_rows(rows: RowsLike, what: str, seq_length: int) -> dict[str, np.ndarray]:
    """Rows as plain arrays, stably sorted by frame (file order kept within a frame), validated."""
    frames = np.asarray(rows.frames, dtype=np.int64).reshape(-1)
    n = frames.shape[0]
    out = {
        "frames": frames,
        "ids": np.asarray(rows.ids, dtype=np.int64).reshape(-1),
        "boxes": np.asarray(rows.boxes, dtype=np.float64).reshape(-1, 4),
        "scores": np.asarray(rows.scores, dtype=np.float64).reshape(-1),
        "classes": np.asarray(rows.classes, dtype=np.int64).reshape(-1),
    }
    for k, v in out.items():
        if v.shape[0] != n:
            raise ValueError(f"{what} rows: '{k}' has {v.shape[0]} entries, 'frames' has {n}")
    if n and (frames.min() < 1 or frames.max() > seq_length):
        bad = frames[(frames < 1) | (frames > seq_length)][0]
        raise ValueError(f"{what} rows: frame {int(bad)} is outside the sequence (1..{seq_length})")
    if n > 1 and np.any(frames[1:] < frames[:-1]):
        order = np.argsort(frames, kind="stable")
        out = {k: v[order] for k, v in out.items()}
    if n > 1:
        _check_unique_per_frame(out["frames"], out["ids"], what)
    return out


def _check_unique_per_frame(frames: np.ndarray, ids: np.ndarray, what: str) -> None:
    """Raise on an id given twice in one frame (frames sorted)."""
    lo, hi = int(ids.min()), int(ids.max())
    span = hi - lo + 1
    if span * (int(frames[-1]) + 1) <= 4 * frames.size + (1 << 16):  # counting on a small (frame, id) grid
        key = frames * span + (ids - lo)
        dup = np.flatnonzero(np.bincount(key) > 1)
        if dup.size == 0:
            return
        f, i = divmod(int(dup[0]), span)
        i += lo
    else:
        o = np.lexsort((ids, frames))
        same = np.flatnonzero((frames[o][1:] == frames[o][:-1]) & (ids[o][1:] == ids[o][:-1]))
        if same.size == 0:
            return
        f, i = int(frames[o][same[0]]), int(ids[o][same[0]])
    raise ValueError(f"{what} rows: id {i} appears more than once in frame {f}")


def _offsets(frames: np.ndarray, num_t: int) -> np.ndarray:
    """(T+1,) row offsets per 0-based frame of frame-sorted 1-based ``frames``."""
    return np.concatenate([[0], np.cumsum(np.bincount(frames - 1, minlength=num_t))]).astype(np.int64)


def _drop_distractor_matches(gi, ki, sim, g_off, k_off, g_frame, distractor, tr_keep) -> None:
    """MOTChallenge step 2: per frame, Hungarian-match all gt to tracker boxes on IoU >= 0.5 - eps and clear
    ``tr_keep`` of tracker boxes matched to a distractor. Only frames where a distractor has a candidate
    can lose a box; those run scipy on TrackEval's dense matrix."""
    cand = sim >= 0.5 - EPS
    frames = np.unique(g_frame[gi[cand & distractor[gi]]])
    if frames.size == 0:
        return
    cg, ck, cs = gi[cand], ki[cand], sim[cand]
    cf = g_frame[cg]
    bounds = np.searchsorted(cf, np.stack([frames, frames + 1]))
    for f, p0, p1 in zip(frames.tolist(), bounds[0].tolist(), bounds[1].tolist()):
        g0, k0 = int(g_off[f]), int(k_off[f])
        m = np.zeros((int(g_off[f + 1]) - g0, int(k_off[f + 1]) - k0))
        m[cg[p0:p1] - g0, ck[p0:p1] - k0] = cs[p0:p1]
        rows, cols = linear_sum_assignment(-m)
        ok = m[rows, cols] > 0 + EPS
        rows, cols = rows[ok], cols[ok]
        tr_keep[k0 + cols[distractor[g0 + rows]]] = False


def preprocess_mot_challenge(
    gt: RowsLike, tr: RowsLike, seq_length: int, benchmark: str = "MOT17"
) -> MOTEvalData:
    """TrackEval's ``MotChallenge2DBox`` loading checks and preprocessing, on already-parsed rows.

    Args:
        gt: ground-truth rows (:class:`zoo.data.types.MOTRows`): ``scores`` holds the "consider" flag
            (column 7, truncated to int as TrackEval does), ``classes`` column 8.
        tr: tracker rows; ``classes`` must be <= 1 (MOTChallenge files carry -1 there).
        seq_length: number of frames (``seqLength`` of ``seqinfo.ini``); rows outside 1..seq_length are errors.
        benchmark: one of :data:`BENCHMARKS`. MOT16/17/20: per frame, Hungarian-match all gt to tracker
            boxes on IoU >= 0.5 - eps, drop tracker boxes matched to distractor classes {2, 7, 8, 12}
            (MOT20 adds 6), keep gt of class 1 with the consider flag set. Other benchmarks keep gt rows
            whose consider flag is set and drop no tracker box.

    Row order within a frame is the input order (a stable sort by frame): it decides Hungarian
    tie-breaks exactly as TrackEval's file order does.

    Raises:
        ValueError: unknown benchmark, rows outside the sequence, an id twice in one frame, a tracker class
            above 1, or (with preprocessing) a gt class outside 1..13 — TrackEval checks the last only in
            frames that also hold tracker boxes; here every frame is checked.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; expected one of {BENCHMARKS}")
    num_t = int(seq_length)
    if num_t < 0:
        raise ValueError(f"seq_length must be >= 0, got {num_t}")
    g = _sorted_rows(gt, "gt", num_t)
    k = _sorted_rows(tr, "tracker", num_t)
    if k["classes"].size and k["classes"].max() > 1:
        j = int(np.argmax(k["classes"]))
        raise ValueError(
            f"tracker rows: class {int(k['classes'][j])} in frame {int(k['frames'][j])}; "
            "evaluation is only defined for the pedestrian class (class column must be <= 1)"
        )
    preproc = benchmark in PREPROCESSED_BENCHMARKS
    consider = g["scores"].astype(np.int64) != 0
    if preproc:
        cls_ = g["classes"]
        bad = (cls_ < _VALID_GT_CLASSES[0]) | (cls_ > _VALID_GT_CLASSES[1])
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"gt rows: class {int(cls_[j])} in frame {int(g['frames'][j])} is not a MOTChallenge class "
                f"(1..13); use benchmark='MOT15' (no preprocessing) for files without classes"
            )
        gt_keep = consider & (cls_ == PEDESTRIAN)
        distractor = np.isin(cls_, _DISTRACTORS[benchmark])
    else:
        gt_keep = consider
        distractor = np.zeros_like(consider)

    g_off = _offsets(g["frames"], num_t)
    k_off = _offsets(k["frames"], num_t)
    gi, ki, sim = overlapping_pairs(g["frames"], g["boxes"], k["frames"], k["boxes"])
    tr_keep = np.ones(k["frames"].shape[0], dtype=bool)
    if preproc:
        _drop_distractor_matches(gi, ki, sim, g_off, k_off, g["frames"] - 1, distractor, tr_keep)

    # the filtered frames: kept rows re-indexed, pairs restricted to kept rows (order preserved)
    keep = gt_keep[gi] & tr_keep[ki]
    g_new = np.cumsum(gt_keep) - 1
    k_new = np.cumsum(tr_keep) - 1
    gi, ki, sim = g_new[gi[keep]], k_new[ki[keep]], sim[keep]
    g_frames = g["frames"][gt_keep]
    k_frames = k["frames"][tr_keep]
    g_off = _offsets(g_frames, num_t)
    k_off = _offsets(k_frames, num_t)
    ng, nk = np.diff(g_off), np.diff(k_off)
    g_t, k_t = g_frames - 1, k_frames - 1
    # row sums of each frame's dense (G, T) matrix: rows of length T, pairwise
    gsum = pairwise_row_sums(gi, ki - k_off[g_t[gi]], sim, nk[g_t])
    # column sums: numpy reduces axis 0 of a (G, T >= 2) matrix row after row (sequential, i.e. in pair
    # order), but a (G, 1) matrix as one contiguous pairwise run
    single = nk[k_t[ki]] == 1
    ksum = fsum_by(ki[~single], sim[~single], k_frames.size)
    if single.any():
        col = pairwise_row_sums(ki[single], gi[single] - g_off[k_t[ki[single]]], sim[single], ng[k_t])
        ksum[nk[k_t] == 1] = col[nk[k_t] == 1]
    g_lab, num_g_ids = _relabel(g["ids"][gt_keep])
    k_lab, num_k_ids = _relabel(k["ids"][tr_keep])
    return MOTEvalData(
        num_timesteps=num_t,
        gt_ids=g_lab,
        tr_ids=k_lab,
        gt_offsets=g_off,
        tr_offsets=k_off,
        num_gt_ids=num_g_ids,
        num_tr_ids=num_k_ids,
        pair_gt=gi,
        pair_tr=ki,
        pair_sim=sim,
        gt_sim_sum=gsum,
        tr_sim_sum=ksum,
    )

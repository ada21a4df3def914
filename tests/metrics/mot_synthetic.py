"""Seeded synthetic MOTChallenge sequences that stress every corner of the MOT metrics.

Each sequence has: crowding (boxes on a small canvas, duplicate tracker boxes around one object), gt gaps,
frames without gt and frames without tracker boxes, tracker id switches and id reuse, MOT17 distractor
classes (2, 7, 8, 12), MOT20's extra distractor (6), other classes and consider = 0 rows, arbitrary large ids
shuffled row order within frames, and distractors lying exactly on a pedestrian (ties). Coordinates lie on a 0.25-pixel grid, so exact IoU ties and IoUs of
exactly 0.5 occur, and every value is exactly representable (file round trips and the 1-pixel MOTChallenge
shift are exact).
"""

from __future__ import annotations

import numpy as np

from zoo.data.types import MOTRows

_OTHER_CLASSES = (3, 4, 5, 9, 10, 11, 13)


def _rows(frames, ids, boxes, scores, classes, vis) -> MOTRows:
    n = len(frames)
    return MOTRows(
        frames=np.asarray(frames, np.int64).reshape(n),
        ids=np.asarray(ids, np.int64).reshape(n),
        boxes=np.asarray(boxes, np.float64).reshape(n, 4),
        scores=np.asarray(scores, np.float64).reshape(n),
        classes=np.asarray(classes, np.int64).reshape(n),
        visibility=np.asarray(vis, np.float64).reshape(n),
    )


def _shuffle_within_frames(rows: MOTRows, rng: np.random.Generator) -> MOTRows:
    order = np.lexsort((rng.random(len(rows)), rows.frames))
    return rows.select(order)


def synthetic_sequence(seed: int) -> tuple[MOTRows, MOTRows, int]:
    """One random sequence: (gt rows, tracker rows, seq_length); boxes ``xyxy`` 0-based."""
    rng = np.random.default_rng(seed)
    num_t = int(rng.integers(6, 36))
    canvas = float(rng.choice([24.0, 40.0, 64.0]))  # small canvases are crowded
    q = 0.25

    def snap(v):
        return np.round(np.asarray(v) / q) * q

    g = {"f": [], "id": [], "box": [], "cons": [], "cls": []}
    k = {"f": [], "id": [], "box": []}
    gt_id_pool = rng.permutation(np.arange(1, 5000))[:40] * int(rng.choice([1, 7, 1000]))
    next_tr_id = [int(rng.integers(1, 3000))]
    free_tr_ids: list[tuple[int, int]] = []  # (id, last frame used) for id reuse

    def new_tr_id(frame: int) -> int:
        reusable = [i for i, (tid, last) in enumerate(free_tr_ids) if last < frame]
        if reusable and rng.random() < 0.5:
            return free_tr_ids.pop(reusable[0])[0]
        next_tr_id[0] += int(rng.integers(1, 50))
        return next_tr_id[0]

    n_tracks = int(rng.integers(0, 14))
    for j in range(n_tracks):
        cls_draw = rng.random()
        if cls_draw < 0.7:
            cls = 1
        elif cls_draw < 0.85:
            cls = int(rng.choice([2, 7, 8, 12, 6]))
        else:
            cls = int(rng.choice(_OTHER_CLASSES))
        consider = 0 if (cls == 1 and rng.random() < 0.1) else 1
        t0 = int(rng.integers(1, num_t + 1))
        t1 = int(rng.integers(t0, num_t + 1))
        w, h = snap(rng.uniform(2, canvas / 3, 2)) + q
        x, y = snap(rng.uniform(-4, canvas, 2))
        vx, vy = snap(rng.normal(0, 1.0, 2))
        tid = new_tr_id(t0)
        last_tr = -1
        for t in range(t0, t1 + 1):
            x, y = x + vx, y + vy
            if rng.random() < 0.15:  # gt gap
                continue
            box = np.array([x, y, x + w, y + h])
            g["f"].append(t)
            g["id"].append(gt_id_pool[j])
            g["box"].append(box)
            g["cons"].append(consider)
            g["cls"].append(cls)
            if rng.random() < 0.8:  # detected
                if rng.random() < 0.08:  # id switch; the old id may come back later on another object
                    free_tr_ids.append((tid, t - 1))
                    tid = new_tr_id(t)
                jit = snap(rng.normal(0, 0.6, 4))
                tb = box + jit
                tb[2:] = np.maximum(tb[2:], tb[:2] + q)
                k["f"].append(t)
                k["id"].append(tid)
                k["box"].append(tb)
                last_tr = t
                if rng.random() < 0.1:  # a duplicate around the same object (crowding, conflicts)
                    db = box + snap(rng.normal(0, 1.0, 4))
                    db[2:] = np.maximum(db[2:], db[:2] + q)
                    k["f"].append(t)
                    k["id"].append(-(len(k["f"])))  # placeholder, replaced by a fresh id below
                    k["box"].append(db)
        if last_tr >= 0:
            free_tr_ids.append((tid, last_tr))
    # reflections / static persons exactly on top of a pedestrian: equal-IoU ties in the preprocessing match
    if g["f"]:
        n0 = len(g["f"])
        for r in np.flatnonzero(rng.random(n0) < 0.06).tolist():
            g["f"].append(g["f"][r])
            g["id"].append(int(g["id"][r]) + 10_000_000)
            g["box"].append(g["box"][r].copy())
            g["cons"].append(1)
            g["cls"].append(int(rng.choice([7, 12])))
    # false positives
    for _ in range(int(rng.integers(0, 3 * num_t))):
        t = int(rng.integers(1, num_t + 1))
        wh = snap(rng.uniform(1, canvas / 3, 2)) + q
        xy = snap(rng.uniform(-4, canvas, 2))
        k["f"].append(t)
        k["id"].append(-(len(k["f"])))
        k["box"].append(np.concatenate([xy, xy + wh]))
    k_ids = np.asarray(k["id"], np.int64)
    fresh = k_ids < 0
    k_ids[fresh] = 100000 + np.arange(int(fresh.sum())) * int(rng.integers(1, 4))
    # empty frames: drop all gt rows of some frames and all tracker rows of others
    g_f = np.asarray(g["f"], np.int64)
    k_f = np.asarray(k["f"], np.int64)
    no_gt = rng.random(num_t + 1) < 0.1
    no_tr = rng.random(num_t + 1) < 0.1
    g_keep = ~no_gt[g_f]
    k_keep = ~no_tr[k_f]
    if seed % 23 == 5:  # a tracker that outputs nothing
        k_keep[:] = False
    if seed % 29 == 7:  # a sequence whose evaluated gt is empty
        g_keep[:] = False
    ng = int(g_keep.sum())
    gt = _rows(
        g_f[g_keep],
        np.asarray(g["id"], np.int64)[g_keep],
        np.asarray(g["box"]).reshape(-1, 4)[g_keep] if g["box"] else np.zeros((0, 4)),
        np.asarray(g["cons"], np.float64)[g_keep],
        np.asarray(g["cls"], np.int64)[g_keep],
        np.ones(ng),
    )
    nk = int(k_keep.sum())
    tr = _rows(
        k_f[k_keep],
        k_ids[k_keep],
        np.asarray(k["box"]).reshape(-1, 4)[k_keep] if k["box"] else np.zeros((0, 4)),
        np.ones(nk),
        -np.ones(nk, np.int64),
        -np.ones(nk),
    )
    return _shuffle_within_frames(gt, rng), _shuffle_within_frames(tr, rng), num_t


def tie_heavy_frames(seed: int) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """TrackEval-style per-frame data (contiguous ids, dense similarity) whose similarities come from a
    small set of values, so Hungarian ties are everywhere: gt ids (G_t,), tracker ids (T_t,), sim (G_t, T_t)."""
    rng = np.random.default_rng(10_000 + seed)
    num_t = int(rng.integers(3, 25))
    n_g, n_k = int(rng.integers(1, 10)), int(rng.integers(1, 12))
    levels = np.array([0.0, 0.0, 0.25, 0.5, 0.5 - 1e-17, 0.75, 1.0, 0.05, 0.95])
    gts, trs, sims = [], [], []
    for _ in range(num_t):
        g = rng.permutation(n_g)[: int(rng.integers(0, n_g + 1))]
        k = rng.permutation(n_k)[: int(rng.integers(0, n_k + 1))]
        sim = rng.choice(levels, size=(g.size, k.size))
        gts.append(g.astype(np.int64))
        trs.append(k.astype(np.int64))
        sims.append(sim)
    # ids must all occur (TrackEval's num_*_ids counts ids, not the label range)
    used_g = np.unique(np.concatenate(gts)) if gts else np.zeros(0, np.int64)
    used_k = np.unique(np.concatenate(trs)) if trs else np.zeros(0, np.int64)
    gts = [np.searchsorted(used_g, g) for g in gts]
    trs = [np.searchsorted(used_k, k) for k in trs]
    return gts, trs, sims

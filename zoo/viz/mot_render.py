"""Render a MOT sequence's tracks as a video: boxes in id colours, FP, FN and identity switches marked.

Per frame, the tracks are matched to the ground truth the way CLEAR-MOT counts (TrackEval's rules, see
``../shared/design/metrics.md``): IoU >= 0.5, one assignment maximising ``1000 * continues + IoU`` where
``continues`` says the pair was matched in the previous frame that had both gt and tracks; an identity switch is a
matched gt whose last matched track id differs. For MOT16/17/20, tracks matched to distractor gt
(static person, reflection...) are ignored, as the metric ignores them. The totals therefore equal the metric's
CLR_TP / CLR_FP / CLR_FN / IDSW (up to exact ties in the assignment).

Drawing: true positives in their track's colour with the id; identity switches thick magenta with ``IDSW``;
false positives red dashed; missed gt boxes (FN) orange dashed; ignored tracks grey.
"""

from __future__ import annotations

import colorsys
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from zoo.core.assignment import linear_assignment
from zoo.core.boxes import box_iou
from zoo.core.video import read_image, write_video
from zoo.data.types import MOTRows, MOTSequence

__all__ = ["FrameEvents", "frame_events", "id_color", "render_tracks"]

_EPS = float(np.finfo(float).eps)
_THRESHOLD = 0.5
_PREPROCESSED = {"MOT16": (2, 7, 8, 12), "MOT17": (2, 7, 8, 12), "MOT20": (2, 6, 7, 8, 12)}
_RED, _ORANGE, _MAGENTA, _GREY, _WHITE = (
    (230, 40, 40),
    (255, 150, 0),
    (255, 0, 255),
    (150, 150, 150),
    (255, 255, 255),
)


@dataclass
class FrameEvents:
    """Matching outcome of one frame (indices are row positions within the frame's gt / tracker rows).

    Attributes:
        frame: 1-based frame number.
        tp: (K, 2) int64 ``(gt row, tracker row)`` matches.
        idsw: (K,) bool, the match is an identity switch.
        fp: (F,) int64 unmatched tracker rows.
        fn: (N,) int64 unmatched evaluated gt rows.
        ignored: (I,) int64 tracker rows matched to distractor gt (not counted).
    """

    frame: int
    tp: np.ndarray
    idsw: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    ignored: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def _by_frame(rows: MOTRows, seq_length: int) -> list[np.ndarray]:
    order = np.argsort(rows.frames, kind="stable")
    bounds = np.searchsorted(rows.frames[order], np.arange(1, seq_length + 2))
    return [order[bounds[t] : bounds[t + 1]] for t in range(seq_length)]


def _max_score_matches(score: np.ndarray) -> np.ndarray:
    """(K, 2) pairs of the assignment maximising the total score, pairs scoring <= eps dropped.

    Non-candidate pairs score 0 and are *not* forbidden, as in TrackEval: forbidding them would make the
    solver maximise the number of matches first, which changes the outcome when continuing a track
    competes with two new matches.
    """
    m, _, _ = linear_assignment(-score)
    return m[score[m[:, 0], m[:, 1]] > _EPS]


def frame_events(
    gt: MOTRows, tracks: MOTRows, seq_length: int, benchmark: str = "ZooSynth"
) -> list[FrameEvents]:
    """CLEAR-style events of every frame (see the module docstring).

    Args:
        gt: gt rows (``scores`` = consider flag, ``classes`` = class).
        tracks: tracker rows.
        seq_length: number of frames.
        benchmark: metric benchmark name (``MOT17``...); MOT16/17/20 ignore tracks on distractors.

    Returns:
        one :class:`FrameEvents` per frame, in order; row indices refer to the frame's rows in file order.
    """
    distractors = _PREPROCESSED.get(benchmark)
    gt_rows, tr_rows = _by_frame(gt, seq_length), _by_frame(tracks, seq_length)
    prev_step: dict[int, int] = {}  # gt id -> track id matched in the previous processed frame
    last_ever: dict[int, int] = {}  # gt id -> last track id ever matched
    out = []
    empty = np.zeros(0, np.int64)
    for t in range(seq_length):
        gi, ti = gt_rows[t], tr_rows[t]
        consider = gt.scores[gi].astype(np.int64) != 0
        ignored = empty
        tr_keep = np.arange(ti.size)
        if distractors is not None:
            keep_gt = consider & (gt.classes[gi] == 1)
            if gi.size and ti.size:
                iou = box_iou(gt.boxes[gi], tracks.boxes[ti])
                m = _max_score_matches(np.where(iou >= _THRESHOLD - _EPS, iou, 0.0))
                hit = np.isin(gt.classes[gi[m[:, 0]]], distractors)
                ignored = np.sort(m[hit, 1])
                tr_keep = np.setdiff1d(tr_keep, ignored)
        else:
            keep_gt = consider
        g_idx = np.flatnonzero(keep_gt)
        if g_idx.size == 0 or tr_keep.size == 0:
            out.append(
                FrameEvents(t + 1, np.zeros((0, 2), np.int64), np.zeros(0, bool), tr_keep, g_idx, ignored)
            )
            continue
        g_ids, k_ids = gt.ids[gi[g_idx]], tracks.ids[ti[tr_keep]]
        iou = box_iou(gt.boxes[gi[g_idx]], tracks.boxes[ti[tr_keep]])
        prev = np.array([prev_step.get(int(g), -(2**62)) for g in g_ids], np.int64)
        score = 1000.0 * (prev[:, None] == k_ids[None, :]) + iou
        m = _max_score_matches(np.where(iou >= _THRESHOLD - _EPS, score, 0.0))
        ug = np.setdiff1d(np.arange(g_idx.size), m[:, 0])
        uk = np.setdiff1d(np.arange(tr_keep.size), m[:, 1])
        mg, mk = g_ids[m[:, 0]], k_ids[m[:, 1]]
        idsw = np.array([int(g) in last_ever and last_ever[int(g)] != int(k) for g, k in zip(mg, mk)], bool)
        prev_step = {int(g): int(k) for g, k in zip(mg, mk)}
        last_ever.update(prev_step)
        tp = np.stack([g_idx[m[:, 0]], tr_keep[m[:, 1]]], axis=1).astype(np.int64)
        out.append(FrameEvents(t + 1, tp, idsw, tr_keep[uk], g_idx[ug], ignored))
    return out


def id_color(track_id: int) -> tuple[int, int, int]:
    """A stable, well-spread RGB colour for a track id (golden-ratio hue steps)."""
    hue = (int(track_id) * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 0.95)
    return int(255 * r), int(255 * g), int(255 * b)


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x)), int(round(y))


def _dashed_rect(
    img: np.ndarray, box: np.ndarray, color: tuple[int, int, int], thickness: int = 1, dash: int = 6
) -> None:
    x0, y0, x1, y1 = (float(v) for v in box)
    for a, b, horizontal, fixed in (
        (x0, x1, True, y0),
        (x0, x1, True, y1),
        (y0, y1, False, x0),
        (y0, y1, False, x1),
    ):
        for s in np.arange(a, b, 2 * dash):
            e = min(s + dash, b)
            p, q = ((s, fixed), (e, fixed)) if horizontal else ((fixed, s), (fixed, e))
            cv2.line(img, _pt(*p), _pt(*q), color, thickness, cv2.LINE_AA)


def _label(img: np.ndarray, text: str, x: float, y: float, color: tuple[int, int, int]) -> None:
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.4
    (w, h), base = cv2.getTextSize(text, font, scale, 1)
    x0, y0 = int(max(0, x)), int(max(h + base, y))
    cv2.rectangle(img, (x0, y0 - h - base), (x0 + w + 2, y0), color, -1)
    cv2.putText(img, text, (x0 + 1, y0 - base), font, scale, (0, 0, 0), 1, cv2.LINE_AA)


def _draw(
    img: np.ndarray, ev: FrameEvents, gt: MOTRows, gi: np.ndarray, tr: MOTRows, ti: np.ndarray, total: int
) -> np.ndarray:
    for k in ev.ignored:
        cv2.rectangle(img, _pt(*tr.boxes[ti[k], :2]), _pt(*tr.boxes[ti[k], 2:]), _GREY, 1)
    for g in ev.fn:
        _dashed_rect(img, gt.boxes[gi[g]], _ORANGE, 1)
        _label(img, "FN", gt.boxes[gi[g], 0], gt.boxes[gi[g], 3] + 12, _ORANGE)
    for k in ev.fp:
        _dashed_rect(img, tr.boxes[ti[k]], _RED, 2)
        _label(img, f"FP {int(tr.ids[ti[k]])}", tr.boxes[ti[k], 0], tr.boxes[ti[k], 1], _RED)
    for (_g, k), switched in zip(ev.tp, ev.idsw):
        box, tid = tr.boxes[ti[k]], int(tr.ids[ti[k]])
        color = id_color(tid)
        if switched:
            cv2.rectangle(img, _pt(*box[:2]), _pt(*box[2:]), _MAGENTA, 4)
        cv2.rectangle(img, _pt(*box[:2]), _pt(*box[2:]), color, 2)
        _label(img, f"{tid} IDSW" if switched else str(tid), box[0], box[1], _MAGENTA if switched else color)
    header = f"frame {ev.frame}/{total}  TP {len(ev.tp)}  FP {len(ev.fp)}  FN {len(ev.fn)}  IDSW {int(ev.idsw.sum())}"
    _label(img, header, 2, 14, _WHITE)
    return img


def _even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return (
        cv2.copyMakeBorder(img, 0, h % 2, 0, w % 2, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        if (h | w) % 2
        else img
    )


def render_tracks(
    seq: MOTSequence,
    tracks: MOTRows,
    out_path: str | os.PathLike,
    *,
    benchmark: str = "ZooSynth",
    fps: float | None = None,
    max_frames: int | None = None,
) -> tuple[Path, dict[str, int]]:
    """Write a video of ``tracks`` over ``seq``'s frames with FP/FN/IDSW marked (needs the images).

    Args:
        seq: the sequence (images and gt; without gt only the tracks are drawn).
        tracks: the tracker's rows (e.g. read back from ``<seq>.txt``).
        out_path: ``.mp4`` or ``.gif``.
        benchmark: metric benchmark name (``MOT17`` ignores tracks on distractors).
        fps: video frame rate (default the sequence's).
        max_frames: render only the first frames.

    Returns:
        (path, totals ``{"TP", "FP", "FN", "IDSW", "frames"}`` over the rendered frames).
    """
    n = seq.info.seq_length if max_frames is None else min(int(max_frames), seq.info.seq_length)
    gt = seq.gt if seq.gt is not None else MOTRows.empty()
    events = frame_events(gt, tracks, seq.info.seq_length, benchmark)[:n]
    gt_rows, tr_rows = _by_frame(gt, seq.info.seq_length), _by_frame(tracks, seq.info.seq_length)
    totals = {
        "TP": sum(len(e.tp) for e in events),
        "FP": sum(len(e.fp) for e in events),
        "FN": sum(len(e.fn) for e in events),
        "IDSW": int(sum(e.idsw.sum() for e in events)),
        "frames": n,
    }
    if seq.gt is None:  # no ground truth (test split): draw every track in its colour, judge nothing
        totals = {"TP": 0, "FP": 0, "FN": 0, "IDSW": 0, "frames": n}
        for ev, ti in zip(events, tr_rows):
            ev.tp = np.stack([np.full(ti.size, -1), np.arange(ti.size)], axis=1).astype(np.int64)
            ev.idsw = np.zeros(ti.size, bool)
            ev.fp = np.zeros(0, np.int64)

    def frames() -> Iterator[np.ndarray]:
        for ev in events:
            img = read_image(seq.image_path(ev.frame)).copy()
            t = ev.frame - 1
            yield _even(_draw(img, ev, gt, gt_rows[t], tracks, tr_rows[t], seq.info.seq_length))

    path = write_video(out_path, frames(), fps=float(fps or seq.info.frame_rate))
    return path, totals

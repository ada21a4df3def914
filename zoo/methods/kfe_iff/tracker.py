"""The offline tracker: a whole sequence cut into clips, each solved by the SUSHI hierarchy, clips merged
into sequence-long identities, short tracks dropped and gaps interpolated.

Clips: SUSHI's fixed clips (``clip_len`` frames, consecutive clips overlapping by ``clip_overlap`` of their
length), or KFE's key-frame segments (``kfe.mode="clip"``: clip k is segment k plus the first
``clip_overlap`` of segment k + 1, so neighbours still share detections), or fixed clips whose level-0
windows are KFE's segments (``kfe.mode="level0"``). Consecutive clips are merged by Hungarian matching of
their trajectories on the detections both contain; in the overlap, the earlier clip decides the first half
and the later clip the second. Memory: one clip's graphs at a time plus (N,) arrays for the sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from zoo.core.assignment import linear_assignment
from zoo.data.graphs import detection_table, match_identities
from zoo.data.types import MOTRows, MOTSequence
from zoo.methods.kfe_iff.kfe import KFEConfig, frame_descriptors, key_frame_segments, segments_to_slots
from zoo.methods.kfe_iff.model import Clip, SushiNet, fixed_slots
from zoo.tasks.protocols import Detections

__all__ = ["TRACKER_DEFAULTS", "SushiTracker", "clip_spans", "interpolate_tracks"]

#: tracker settings (config keys) and SUSHI's values
TRACKER_DEFAULTS: dict[str, Any] = {
    "clip_len": 512,
    "clip_overlap": 0.5,
    "min_score": 0.5,
    "min_track_len": 2,
    "interpolate": True,
    "interpolate_max_gap": None,
    # upper bound: edges classified by the GT (detections matched to gt.txt by IoU >= 0.5), not the MPN
    "oracle": False,
}


def check_tracker_settings(settings: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(settings) - set(TRACKER_DEFAULTS))
    if unknown:
        raise ValueError(f"{where}: unknown tracker settings {unknown}; known: {sorted(TRACKER_DEFAULTS)}")


def clip_spans(length: int, clip_len: int, overlap: float) -> list[tuple[int, int]]:
    """Fixed clips ``[(start, end)]`` (1-based, inclusive) covering frames 1..length; consecutive clips
    share ``round(overlap * clip_len)`` frames."""
    if clip_len < 2:
        raise ValueError(f"clip_len must be >= 2, got {clip_len}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"clip_overlap must be in [0, 1), got {overlap}")
    stride = max(1, clip_len - int(round(overlap * clip_len)))
    spans, s = [], 1
    while True:
        e = min(length, s + clip_len - 1)
        spans.append((s, e))
        if e >= length:
            return spans
        s += stride


def kfe_clip_spans(segments: np.ndarray, overlap: float) -> list[tuple[int, int]]:
    """KFE clips: segment k (0-based frames) plus the first ``ceil(overlap * len)`` frames of segment k+1;
    returned 1-based, inclusive."""
    spans = []
    for k, (s, e) in enumerate(segments):
        end = int(e)
        if k + 1 < len(segments):
            ns, ne = segments[k + 1]
            end = int(min(ne, ns - 1 + int(np.ceil(overlap * (ne - ns + 1)))))
        spans.append((int(s) + 1, end + 1))
    return spans


def interpolate_tracks(frames: np.ndarray, ids: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
                       max_gap: int | None = None) -> tuple[np.ndarray, ...]:
    """Fill each track's missing frames by linear interpolation of boxes and scores (gaps of at most
    ``max_gap`` missing frames; all when None). Returns (frames, ids, boxes, scores) sorted by (id, frame)."""
    order = np.lexsort((frames, ids))
    f, i, b, s = frames[order], ids[order], boxes[order], scores[order]
    same = i[1:] == i[:-1]
    gap = f[1:] - f[:-1] - 1
    fill = np.flatnonzero(same & (gap > 0) & ((gap <= max_gap) if max_gap is not None else True))
    if fill.size == 0:
        return f, i, b, s
    new_f, new_i, new_b, new_s = [f], [i], [b], [s]
    for k in fill:
        g = int(gap[k])
        w = (np.arange(1, g + 1) / (g + 1))[:, None]
        new_f.append(f[k] + np.arange(1, g + 1))
        new_i.append(np.full(g, i[k]))
        new_b.append(b[k] * (1 - w) + b[k + 1] * w)
        new_s.append(s[k] * (1 - w[:, 0]) + s[k + 1] * w[:, 0])
    f, i = np.concatenate(new_f), np.concatenate(new_i)
    b, s = np.concatenate(new_b), np.concatenate(new_s)
    order = np.lexsort((f, i))
    return f[order], i[order], b[order], s[order]


def detection_rows(detections: Mapping[int, Detections], min_score: float) -> MOTRows:
    """The runner's per-frame detections as MOTRows (ids -1) in :func:`zoo.data.graphs.detection_table`
    order, scores >= ``min_score`` kept: the rows the training data module computed features for."""
    frames, boxes, scores = [], [], []
    for t in sorted(detections):
        d = detections[t]
        if len(d):
            frames.append(np.full(len(d), int(t), np.int64))
            boxes.append(np.asarray(d.boxes, np.float64).reshape(-1, 4))
            scores.append(np.asarray(d.scores, np.float64))
    if not frames:
        return MOTRows.empty()
    n = sum(len(f) for f in frames)
    rows = MOTRows(np.concatenate(frames), np.full(n, -1, np.int64), np.concatenate(boxes).reshape(n, 4),
                   np.concatenate(scores), np.full(n, -1, np.int64), np.full(n, -1.0))
    return detection_table(rows, min_score)


class SushiTracker:
    """Offline MOT protocol (``track_sequence``) over a :class:`SushiNet`.

    Args:
        net: the network (shared with the LightningModule; run in eval mode under ``no_grad``).
        extractor: appearance extractor (``zoo.appearance``) giving one vector per detection.
        kfe: None (SUSHI's fixed clips) or KFE settings plus ``mode`` (``clip`` or ``level0``).
        feature_cache: folder of the per-sequence appearance cache (None: the zoo default).
        device: where the network runs (default: its parameters' device).
        **settings: :data:`TRACKER_DEFAULTS` keys.
    """

    needs_frames = False

    def __init__(self, net: SushiNet, extractor: Any, *, kfe: Mapping[str, Any] | None = None,
                 feature_cache: str | None = None, device: str | torch.device | None = None,
                 **settings: Any) -> None:
        check_tracker_settings(settings, "SushiTracker")
        self.net = net
        self.extractor = extractor
        self.settings = {**TRACKER_DEFAULTS, **settings}
        kfe = dict(kfe or {})
        self.kfe_mode = kfe.pop("mode", "clip") if kfe else None
        if self.kfe_mode not in (None, "clip", "level0"):
            raise ValueError(f"kfe.mode must be 'clip' or 'level0', got {self.kfe_mode!r}")
        self.kfe = KFEConfig(**kfe) if self.kfe_mode is not None else None
        self.feature_cache = feature_cache
        self.device = device
        self.last_segments: np.ndarray | None = None
        self._det_gt: np.ndarray | None = None

    # -------------------------------------------------------------------------------------------- features
    def sequence_features(self, seq: MOTSequence, rows: MOTRows) -> np.ndarray:
        """(N, D) appearance of ``rows`` (cached on disk per extractor and sequence content)."""
        from zoo.appearance import sequence_features

        return sequence_features(seq, rows, self.extractor, cache_dir=self.feature_cache)

    # --------------------------------------------------------------------------------------------- clips
    def plan(self, frames: np.ndarray, feats: np.ndarray, length: int) -> list[tuple[tuple[int, int], np.ndarray | None]]:
        """The clips of a sequence: ``[((start, end), segments or None)]``; segments (K, 2) 0-based frames
        are given in ``level0`` mode for the slots."""
        s = self.settings
        if self.kfe is None:
            return [(span, None) for span in clip_spans(length, int(s["clip_len"]), float(s["clip_overlap"]))]
        phi = frame_descriptors(frames, feats, 1, length)
        segments = key_frame_segments(phi, self.kfe)
        self.last_segments = segments
        if self.kfe_mode == "clip":
            return [(span, None) for span in kfe_clip_spans(segments, float(s["clip_overlap"]))]
        return [(span, segments) for span in clip_spans(length, int(s["clip_len"]), float(s["clip_overlap"]))]

    def _solve(self, frames, boxes, feats, span, segments, fps, device) -> np.ndarray:
        start, end = span
        sel = np.flatnonzero((frames >= start) & (frames <= end))
        if sel.size == 0:
            return sel, np.zeros(0, np.int64)
        f = frames[sel]
        gt = None if self._det_gt is None else self._det_gt[sel]
        if segments is None:
            slots = fixed_slots(f, start)
        else:
            seg = segments_to_slots(segments, f, 1)
            slots = seg - seg.min()
        feat = torch.as_tensor(np.asarray(feats[sel]), dtype=torch.float32, device=device)
        clip = Clip(f, boxes[sel], feat, slots, fps, start, end - start + 1, gt)
        if gt is not None:
            return sel, self.net.oracle(clip)
        det_track, _, _ = self.net.solve(clip)
        return sel, det_track

    @torch.no_grad()
    def track_sequence(self, seq: MOTSequence, detections: Mapping[int, Detections]) -> MOTRows:
        """Tracks of a whole sequence (MOTChallenge rows, 1-based frames, ``xyxy`` boxes)."""
        s = self.settings
        rows = detection_rows(detections, float(s["min_score"]))
        if len(rows) == 0:
            return MOTRows.empty()
        feats = self.sequence_features(seq, rows)
        self._det_gt = None
        if s["oracle"]:
            if seq.gt is None:
                raise ValueError(f"tracker.oracle=true needs ground truth: sequence {seq.name} has no gt.txt")
            self._det_gt = match_identities(rows, seq.gt)
        device = self.device or next(self.net.parameters()).device
        was_training = self.net.training
        self.net.eval()
        try:
            ids = self._assign(rows, feats, seq.info.seq_length, float(seq.info.frame_rate), device)
        finally:
            self.net.train(was_training)
        keep = ids >= 0
        counts = np.bincount(ids[keep]) if keep.any() else np.zeros(0, np.int64)
        long_enough = keep.copy()
        long_enough[keep] = counts[ids[keep]] >= int(s["min_track_len"])
        f, i = rows.frames[long_enough], ids[long_enough]
        b, sc = rows.boxes[long_enough], rows.scores[long_enough]
        if s["interpolate"] and f.size:
            f, i, b, sc = interpolate_tracks(f, i, b, sc, s["interpolate_max_gap"])
        # renumber to 1..K in order of first appearance
        order = np.lexsort((i, f))
        _, first = np.unique(i[order], return_index=True)
        rank = np.empty(first.size, np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(1, first.size + 1)
        uniq = np.unique(i)
        new_ids = rank[np.searchsorted(uniq, i)]
        n = f.size
        return MOTRows(f.astype(np.int64), new_ids, b.reshape(n, 4), sc, np.full(n, -1, np.int64), np.full(n, -1.0))

    def _assign(self, rows: MOTRows, feats: np.ndarray, length: int, fps: float, device) -> np.ndarray:
        """(N,) sequence-level trajectory id of every detection row (-1 never happens: singletons get ids)."""
        frames, boxes = rows.frames, rows.boxes
        ids = np.full(len(rows), -1, np.int64)
        next_id = 0
        prev_sel, prev_ids, prev_span = None, None, None
        for span, segments in self.plan(frames, feats, length):
            sel, local = self._solve(frames, boxes, feats, span, segments, fps, device)
            if sel.size == 0:
                prev_sel, prev_ids, prev_span = None, None, None
                continue
            k = int(local.max()) + 1
            mapping = np.full(k, -1, np.int64)
            if prev_sel is not None:
                shared, a_pos, b_pos = np.intersect1d(prev_sel, sel, return_indices=True)
                if shared.size:
                    prev_global = prev_ids[a_pos]
                    cur_local = local[b_pos]
                    gl, g_inv = np.unique(prev_global, return_inverse=True)
                    counts = np.zeros((gl.size, k))
                    np.add.at(counts, (g_inv, cur_local), 1.0)
                    cost = np.where(counts > 0, -counts, np.inf)
                    matches, _, _ = linear_assignment(cost)
                    mapping[matches[:, 1]] = gl[matches[:, 0]]
            new = mapping < 0
            mapping[new] = next_id + np.arange(int(new.sum()))
            next_id += int(new.sum())
            cur = mapping[local]
            if prev_span is not None and prev_sel is not None:
                # overlap: the earlier clip keeps the first half, this clip decides the rest
                o_start, o_end = span[0], prev_span[1]
                mid = (o_start + o_end + 1) / 2.0
                decide = rows.frames[sel] >= mid
                unset = ids[sel] < 0
                write = decide | unset
                ids[sel[write]] = cur[write]
            else:
                ids[sel] = cur
            prev_sel, prev_ids, prev_span = sel, cur, span
        return ids

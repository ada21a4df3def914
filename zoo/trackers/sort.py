"""SORT (Bewley et al., ICIP 2016): Kalman filter + Hungarian matching on IoU, as a zoo baseline.

Follows the authors' reference ``sort.py``: a 7-D constant-velocity Kalman filter on ``(u, v, s, r)``
(``zoo.core.kalman.KalmanFilterXYSR``, SORT's noise matrices); one IoU association per frame (when every
detection and every track has at most one partner above the IoU threshold, those pairs are taken directly,
otherwise a Hungarian assignment maximising total IoU, then pairs below the threshold are dropped); a track
dies after ``max_age`` frames without a match; a track is reported on the frames it is matched, once its
run of consecutive matches reaches ``min_hits`` (or during the first ``min_hits`` frames of a sequence).

All tracks live in numpy arrays, so prediction, association and update are batched array operations.
Differences from the reference code: ids restart at 1 on every :meth:`Sort.reset` (the reference keeps a
global counter), and detections of a frame keep their input order in the output rather than reversed
creation order (row order carries no meaning in MOTChallenge files).
"""

from __future__ import annotations

import numpy as np

from zoo.core.assignment import linear_assignment
from zoo.core.boxes import box_iou
from zoo.core.kalman import KalmanFilterXYSR, xysr_to_xyxy, xyxy_to_xysr
from zoo.data.types import SeqInfo
from zoo.registry import register
from zoo.tasks.protocols import Detections, Tracks
from zoo.trackers.association import detection_arrays

__all__ = ["Sort", "sort_associate"]


def sort_associate(iou: np.ndarray, iou_threshold: float) -> np.ndarray:
    """SORT's association of detections (rows) to tracks (columns).

    Args:
        iou: (D, T) IoU between detection boxes and predicted track boxes.
        iou_threshold: minimum IoU of a kept pair.

    Returns:
        (K, 2) int64 ``(detection, track)`` pairs, sorted by detection.
    """
    if iou.size == 0:
        return np.zeros((0, 2), np.int64)
    above = iou > iou_threshold
    if above.sum(axis=1).max() == 1 and above.sum(axis=0).max() == 1:
        # Unambiguous: every row/column has at most one candidate, no solver needed (as the reference).
        pairs = np.argwhere(above).astype(np.int64)
    else:
        pairs, _, _ = linear_assignment(-iou)
    return pairs[iou[pairs[:, 0], pairs[:, 1]] >= iou_threshold]


@register(
    "sort",
    task="mot",
    kind="baseline",
    paper="Simple Online and Realtime Tracking (Bewley et al., ICIP 2016)",
)
class Sort:
    """SORT: Kalman filter + Hungarian IoU matching, no appearance.

    Args:
        max_age: frames a track survives without a match (reference default 1).
        min_hits: consecutive matches before a track is reported (reference default 3).
        iou_threshold: minimum IoU of a detection/track match (reference default 0.3).
        min_score: detections scoring below it are ignored (0 keeps all, as the reference, which feeds
            every row of the detection file).

    Implements the ``MOTTracker`` protocol (``reset(seq_info)``, ``step(frame, detections) -> Tracks``);
    the frame image is not used.
    """

    #: motion and boxes only: the runner skips decoding frames for it
    needs_frames = False

    def __init__(
        self, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3, min_score: float = 0.0
    ) -> None:
        if max_age < 0 or min_hits < 0:
            raise ValueError(f"max_age and min_hits must be >= 0, got {max_age} and {min_hits}")
        if not 0.0 <= iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in [0, 1], got {iou_threshold}")
        self.max_age = int(max_age)
        self.min_hits = int(min_hits)
        self.iou_threshold = float(iou_threshold)
        self.min_score = float(min_score)
        self.kalman = KalmanFilterXYSR()
        self.reset(None)

    def reset(self, seq_info: SeqInfo | None = None) -> None:
        """Forget all tracks; ids restart at 1. SORT has no frame-rate dependent constant."""
        self.frame_count = 0
        self._next_id = 1
        self.ids = np.zeros(0, np.int64)
        self.mean = np.zeros((0, 7))
        self.cov = np.zeros((0, 7, 7))
        self.time_since_update = np.zeros(0, np.int64)
        self.hit_streak = np.zeros(0, np.int64)
        self.hits = np.zeros(0, np.int64)
        self.score = np.zeros(0)

    def _take(self, idx: np.ndarray) -> None:
        for name in ("ids", "mean", "cov", "time_since_update", "hit_streak", "hits", "score"):
            setattr(self, name, getattr(self, name)[idx])

    def step(self, frame: np.ndarray | None, detections: Detections) -> Tracks:
        """Advance one frame.

        Args:
            frame: the (H, W, 3) image; unused (any value, None included).
            detections: (D, 4) ``xyxy`` boxes and (D,) scores.

        Returns:
            Tracks matched on this frame whose hit streak reached ``min_hits`` (all matched or new tracks
            during the first ``min_hits`` frames); boxes are the Kalman posterior.
        """
        boxes, scores = detection_arrays(detections)
        if self.min_score > 0:
            keep = scores >= self.min_score
            boxes, scores = boxes[keep], scores[keep]
        self.frame_count += 1

        # Predict every track; the reference drops tracks whose predicted box is NaN (area * aspect <= 0).
        if self.ids.size:
            self.mean, self.cov = self.kalman.multi_predict(self.mean, self.cov)
            self.hit_streak[self.time_since_update > 0] = 0
            self.time_since_update += 1
            valid = np.isfinite(self.mean).all(axis=1) & (self.mean[:, 2] * self.mean[:, 3] > 0)
            if not valid.all():
                self._take(np.flatnonzero(valid))

        pairs = sort_associate(box_iou(boxes, xysr_to_xyxy(self.mean[:, :4])), self.iou_threshold)
        d, t = pairs[:, 0], pairs[:, 1]
        if t.size:
            self.mean[t], self.cov[t] = self.kalman.update(self.mean[t], self.cov[t], xyxy_to_xysr(boxes[d]))
            self.time_since_update[t] = 0
            self.hits[t] += 1
            self.hit_streak[t] += 1
            self.score[t] = scores[d]

        unmatched = np.ones(boxes.shape[0], bool)
        unmatched[d] = False
        new = np.flatnonzero(unmatched)
        if new.size:
            mean, cov = self.kalman.initiate(xyxy_to_xysr(boxes[new]))
            n = new.size
            self.ids = np.concatenate([self.ids, np.arange(self._next_id, self._next_id + n, dtype=np.int64)])
            self._next_id += n
            self.mean = np.concatenate([self.mean, mean])
            self.cov = np.concatenate([self.cov, cov])
            # A new track has no hits yet: the reference counts only matches after creation.
            self.time_since_update = np.concatenate([self.time_since_update, np.zeros(n, np.int64)])
            self.hit_streak = np.concatenate([self.hit_streak, np.zeros(n, np.int64)])
            self.hits = np.concatenate([self.hits, np.zeros(n, np.int64)])
            self.score = np.concatenate([self.score, scores[new]])

        report = (self.time_since_update < 1) & (
            (self.hit_streak >= self.min_hits) | (self.frame_count <= self.min_hits)
        )
        sel = np.flatnonzero(report)
        out = Tracks(
            ids=self.ids[sel].copy(), boxes=xysr_to_xyxy(self.mean[sel, :4]), scores=self.score[sel].copy()
        )
        self._take(np.flatnonzero(self.time_since_update <= self.max_age))
        return out

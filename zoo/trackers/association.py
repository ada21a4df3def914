"""BYTE association engine (Zhang et al., ECCV 2022) with a pluggable first-stage cost.

One engine serves ByteTrack (stage-1 cost ``1 - IoU``) and the learned trackers built on BYTE (FineTrack
passes its fused appearance/IoU distance and per-detection embeddings). Per frame, with detections split by
score into high (``s > track_thresh``) and low (``low_thresh < s <= track_thresh``):

1. Kalman-predict every tracked and lost track (one batched call; lost tracks get zero height velocity),
   match tracked+lost tracks to high detections with the pluggable cost, gated at ``match_thresh``;
2. match the still-unmatched *tracked* tracks to low detections with ``1 - IoU``, gated at
   ``second_match_thresh``; tracked tracks left over become lost;
3. match unconfirmed tracks (started last frame, never matched since) to the leftover high detections with
   ``1 - IoU`` (or the stage-1 cost with ``unconfirmed_cost="stage1"``), gated at
   ``unconfirmed_match_thresh``; unconfirmed tracks left over are removed;
4. start a track from each leftover high detection with ``s > new_track_thresh`` (confirmed at once on the
   first frame of a sequence, unconfirmed otherwise); remove lost tracks unseen for more than
   ``int(frame_rate / 30 * track_buffer)`` frames; between a tracked and a lost track whose boxes overlap
   with ``1 - IoU < duplicate_thresh`` keep the one tracked for longer.

Low detections only ever extend tracked tracks: they never start, confirm or revive a track.

Track state lives in numpy arrays (struct of arrays) so each stage is a handful of array operations and one
batched Kalman call, whatever the number of tracks. The array order mirrors ByteTrack's track lists (tracked
list, then lost list), which fixes the order of cost-matrix rows and so the solver's tie-breaking.

Deviations from the released ByteTrack code (``yolox/tracker/byte_tracker.py``), all deliberate:

- score boundaries follow the zoo design: a detection scoring exactly ``track_thresh`` is *low* (the code
  drops it), one scoring exactly ``new_track_thresh`` does not start a track (the code starts it);
- IoU is the zoo's continuous IoU (``zoo.core.boxes.box_iou``), not ``cython_bbox``'s ``+1``-pixel one;
- ids restart at 1 on every :meth:`ByteAssociator.reset` (the code keeps one global counter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from zoo.core.assignment import linear_assignment
from zoo.core.boxes import box_iou
from zoo.core.kalman import KalmanFilterXYAH, xyah_to_xyxy, xyxy_to_xyah
from zoo.data.types import SeqInfo
from zoo.tasks.protocols import Detections, Tracks

__all__ = [
    "ByteAssociator",
    "CostFn",
    "TrackBatch",
    "TrackState",
    "detection_arrays",
    "duplicate_survivors",
    "fuse_score",
    "iou_cost",
    "l2_normalize",
]


class TrackState(IntEnum):
    """ByteTrack's track states. ``New`` tracks exist only inside one frame's step; ``Removed`` tracks are
    dropped from the arrays at once (ids are never reused, so nothing needs to remember them)."""

    New = 0
    Tracked = 1
    Lost = 2
    Removed = 3


@dataclass(frozen=True)
class TrackBatch:
    """The tracks one cost matrix is computed for (its rows), as read-only views.

    Attributes:
        ids: (T,) int64 track ids.
        boxes: (T, 4) float64 ``xyxy`` pixels: the Kalman prediction for this frame.
        scores: (T,) float64 score of the detection each track was last matched to.
        lost: (T,) bool, the track was not matched on the previous frame.
        features: (T, F) float64 unit-norm appearance features (EMA over matches), or None when the
            tracker is fed no detection features.
    """

    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    lost: np.ndarray
    features: np.ndarray | None

    def __len__(self) -> int:
        return int(self.ids.shape[0])


#: Stage-1 cost: ``(tracks, detections, det_features) -> (T, D)`` float cost in [0, 1] (lower = better;
#: ``+inf`` forbids a pair). ``det_features`` is (D, F) or None.
CostFn = Callable[[TrackBatch, Detections, "np.ndarray | None"], np.ndarray]


def iou_cost(
    tracks: TrackBatch, detections: Detections, det_features: np.ndarray | None = None
) -> np.ndarray:
    """ByteTrack's stage-1 cost ``1 - IoU(predicted track box, detection box)``: (T, D) float64."""
    return 1.0 - box_iou(tracks.boxes, detections.boxes).astype(np.float64)


def fuse_score(cost: np.ndarray, det_scores: np.ndarray) -> np.ndarray:
    """ByteTrack's ``fuse_score``: ``1 - (1 - cost) * score_det``, so a confident detection looks closer.

    Args:
        cost: (T, D) cost in [0, 1]; ``+inf`` entries stay ``+inf``.
        det_scores: (D,) detection scores in [0, 1].
    """
    fused = 1.0 - (1.0 - cost) * det_scores[None, :]
    return np.where(np.isposinf(cost), np.inf, fused)


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of (N, F) scaled to unit L2 norm (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, eps)


def duplicate_survivors(
    dist: np.ndarray, age_tracked: np.ndarray, age_lost: np.ndarray, thresh: float
) -> tuple[np.ndarray, np.ndarray]:
    """ByteTrack's duplicate rule between tracked (rows) and lost (columns) tracks.

    Every pair with ``dist < thresh`` loses one member: the lost one if the tracked one has the greater
    age (frames from start to last match), else the tracked one (ties drop the tracked track).

    Args:
        dist: (T, L) ``1 - IoU`` between tracked and lost boxes.
        age_tracked: (T,) int ages; age_lost: (L,) int ages.
        thresh: duplicate threshold (ByteTrack 0.15).

    Returns:
        ``(keep_tracked (T,) bool, keep_lost (L,) bool)``.
    """
    p, q = np.nonzero(dist < thresh)
    keep_t = np.ones(dist.shape[0], bool)
    keep_l = np.ones(dist.shape[1], bool)
    drop_lost = age_tracked[p] > age_lost[q]
    keep_l[q[drop_lost]] = False
    keep_t[p[~drop_lost]] = False
    return keep_t, keep_l


class _Store:
    """Struct of arrays holding the live (tracked or lost) tracks, in ByteTrack's list order."""

    __slots__ = ("ids", "mean", "cov", "state", "activated", "score", "last_frame", "start_frame", "feat")

    def __init__(self, feat_dim: int | None = None) -> None:
        self.ids = np.zeros(0, np.int64)
        self.mean = np.zeros((0, 8))
        self.cov = np.zeros((0, 8, 8))
        self.state = np.zeros(0, np.int8)
        self.activated = np.zeros(0, bool)
        self.score = np.zeros(0)
        self.last_frame = np.zeros(0, np.int64)  # frame of the last match (ByteTrack's frame_id/end_frame)
        self.start_frame = np.zeros(0, np.int64)
        self.feat = None if feat_dim is None else np.zeros((0, feat_dim))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def take(self, idx: np.ndarray) -> None:
        """Keep the tracks at ``idx`` (int array), in that order."""
        for name in self.__slots__:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, value[idx])

    def append(self, other: _Store) -> None:
        for name in self.__slots__:
            a, b = getattr(self, name), getattr(other, name)
            if a is not None:
                setattr(self, name, np.concatenate([a, b]))

    def boxes(self, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(K, 4) ``xyxy`` boxes of the current Kalman means."""
        return xyah_to_xyxy(self.mean[idx, :4])


def detection_arrays(detections: Detections) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(boxes (D, 4) float64 xyxy, scores (D,) float64)`` of one frame's detections.

    Raises:
        ValueError: mismatched lengths, non-finite values, or a box with non-positive width or height
            (the message gives the detection's index and box).
    """
    boxes = np.asarray(detections.boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(detections.scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"detections have {boxes.shape[0]} boxes but {scores.shape[0]} scores")
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError("detection boxes and scores must be finite")
    bad = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"detection {i} has non-positive width or height: xyxy {boxes[i].tolist()}")
    return boxes, scores


def _check_features(det_features: np.ndarray | None, n_det: int) -> np.ndarray | None:
    if det_features is None:
        return None
    det_features = np.asarray(det_features, dtype=np.float64)
    if det_features.ndim != 2 or det_features.shape[0] != n_det:
        raise ValueError(f"det_features must be (D, F) with D = {n_det} detections, got {det_features.shape}")
    return det_features


class ByteAssociator:
    """BYTE multi-object tracker with a pluggable stage-1 cost (see the module docstring for the stages).

    Implements the ``MOTTracker`` protocol; :meth:`step` also takes optional per-detection features, which
    tracks then carry as an EMA ``f <- m f + (1 - m) f_det`` (re-normalised) for the cost to use.

    Args:
        track_thresh: detections scoring above it are *high* (stage 1); paper 0.6.
        low_thresh: detections scoring in ``(low_thresh, track_thresh]`` are *low* (stage 2); 0.1.
        new_track_thresh: a leftover high detection starts a track if its score is above it; 0.7.
        track_buffer: frames a lost track is kept at 30 fps; scaled by ``frame_rate / 30``; 30.
        match_thresh: stage-1 gate on the cost (pairs with cost > it never match); 0.8.
        second_match_thresh: stage-2 gate on ``1 - IoU`` (IoU >= 0.5); 0.5.
        unconfirmed_match_thresh: stage-3 gate on its cost (possibly score-fused); 0.7.
        duplicate_thresh: tracked/lost pairs with ``1 - IoU`` below it are duplicates; 0.15.
        fuse_score: multiply the stage-1 and stage-3 similarities by the detection score (ByteTrack's
            ``fuse_score``, which the released code applies on MOT17/DanceTrack and skips with ``--mot20``).
            Default True, the MOT17 setting.
        min_box_area: output filter, drop boxes with ``w * h <= min_box_area`` (pixels^2) from the returned
            tracks (not from the tracker state); ByteTrack's MOT17 evaluation uses 10; 0 turns it off.
        max_aspect_ratio: output filter, drop boxes with ``w / h > max_aspect_ratio`` (ByteTrack's MOT17
            evaluation drops "vertical" = wider than 1.6 h; pedestrians are tall); None turns it off.
        feature_momentum: EMA momentum ``m`` of track features (FairMOT/FineTrack 0.9).
        cost: stage-1 cost callable (:data:`CostFn`); None means :func:`iou_cost`.
        frame_rate: frame rate used until :meth:`reset` gives the sequence's own.
        unconfirmed_cost: stage-3 cost: ``"iou"`` (``1 - IoU``, ByteTrack and FineTrack's choice) or
            ``"stage1"`` (the pluggable cost, e.g. FineTrack's fused distance). Stage 2 is always IoU-only:
            low-score boxes are mostly occluded people, whose appearance is unreliable.
    """

    def __init__(
        self,
        track_thresh: float = 0.6,
        low_thresh: float = 0.1,
        new_track_thresh: float = 0.7,
        track_buffer: int = 30,
        match_thresh: float = 0.8,
        second_match_thresh: float = 0.5,
        unconfirmed_match_thresh: float = 0.7,
        duplicate_thresh: float = 0.15,
        fuse_score: bool = True,
        min_box_area: float = 10.0,
        max_aspect_ratio: float | None = 1.6,
        feature_momentum: float = 0.9,
        cost: CostFn | None = None,
        frame_rate: float = 30.0,
        unconfirmed_cost: str = "iou",
    ) -> None:
        if not 0.0 <= low_thresh <= track_thresh:
            raise ValueError(f"need 0 <= low_thresh <= track_thresh, got {low_thresh} and {track_thresh}")
        if track_buffer < 0:
            raise ValueError(f"track_buffer must be >= 0, got {track_buffer}")
        if not 0.0 <= feature_momentum <= 1.0:
            raise ValueError(f"feature_momentum must be in [0, 1], got {feature_momentum}")
        if unconfirmed_cost not in ("iou", "stage1"):
            raise ValueError(f"unconfirmed_cost must be 'iou' or 'stage1', got {unconfirmed_cost!r}")
        self.unconfirmed_cost = unconfirmed_cost
        self.track_thresh = float(track_thresh)
        self.low_thresh = float(low_thresh)
        self.new_track_thresh = float(new_track_thresh)
        self.track_buffer = int(track_buffer)
        self.match_thresh = float(match_thresh)
        self.second_match_thresh = float(second_match_thresh)
        self.unconfirmed_match_thresh = float(unconfirmed_match_thresh)
        self.duplicate_thresh = float(duplicate_thresh)
        self.fuse_score = bool(fuse_score)
        self.min_box_area = float(min_box_area)
        self.max_aspect_ratio = None if max_aspect_ratio is None else float(max_aspect_ratio)
        self.feature_momentum = float(feature_momentum)
        self.cost = iou_cost if cost is None else cost
        self.kalman = KalmanFilterXYAH()
        self._default_frame_rate = float(frame_rate)
        self.reset(None)

    # ------------------------------------------------------------------------------------------ protocol
    def reset(self, seq_info: SeqInfo | None = None) -> None:
        """Forget all tracks; ids restart at 1. ``seq_info.frame_rate`` scales the lost-track buffer."""
        frame_rate = self._default_frame_rate if seq_info is None else float(seq_info.frame_rate)
        if not frame_rate > 0:
            raise ValueError(f"frame_rate must be positive, got {frame_rate}")
        self.frame_rate = frame_rate
        self.max_time_lost = int(frame_rate / 30.0 * self.track_buffer)
        self.frame_id = 0
        self._next_id = 1
        self._store = _Store()
        self._uses_features: bool | None = None

    def step(
        self, frame: np.ndarray | None, detections: Detections, det_features: np.ndarray | None = None
    ) -> Tracks:
        """Advance one frame.

        Args:
            frame: the (H, W, 3) uint8 image; unused by BYTE itself (any value, None included).
            detections: this frame's detections (``xyxy`` boxes (D, 4), scores (D,) in [0, 1]).
            det_features: optional (D, F) appearance features, one per detection (normalised here).
                Give them on every frame with detections or on none.

        Returns:
            Confirmed tracks matched or started on this frame, after the output filters.
        """
        boxes, scores = detection_arrays(detections)
        det_features = self._check_feature_use(_check_features(det_features, boxes.shape[0]), boxes.shape[0])
        self.frame_id += 1
        st = self._store
        n_before = len(st)

        high = np.flatnonzero(scores > self.track_thresh)
        low = np.flatnonzero((scores > self.low_thresh) & (scores <= self.track_thresh))

        tracked = st.state == TrackState.Tracked
        lost_before = st.state == TrackState.Lost
        pool = np.flatnonzero((tracked & st.activated) | lost_before)
        unconfirmed = np.flatnonzero(tracked & ~st.activated)

        # Stage 0: one batched Kalman prediction of the pool (unconfirmed tracks are not predicted, as in
        # ByteTrack: their velocity is still zero, only their covariance would grow).
        if pool.size:
            mean = st.mean[pool].copy()
            mean[lost_before[pool], 7] = 0.0  # a lost track stops changing height
            st.mean[pool], st.cov[pool] = self.kalman.multi_predict(mean, st.cov[pool])
        prior_boxes = st.boxes()  # stages 1-3 read only rows that no stage has updated yet

        # Stage 1: tracked + lost tracks vs high detections, pluggable cost.
        cost1 = self._stage1_cost(
            pool,
            prior_boxes[pool],
            boxes[high],
            scores[high],
            None if det_features is None else det_features[high],
        )
        m1, um_pool, um_high = linear_assignment(cost1, self.match_thresh)
        t1, d1 = pool[m1[:, 0]], high[m1[:, 1]]

        # Stage 2: still-unmatched tracked tracks vs low detections, IoU only.
        rest = pool[um_pool]
        rest = rest[st.state[rest] == TrackState.Tracked]
        cost2 = self._iou_cost(prior_boxes[rest], boxes[low])
        m2, um_rest, _ = linear_assignment(cost2, self.second_match_thresh)
        t2, d2 = rest[m2[:, 0]], low[m2[:, 1]]
        newly_lost = rest[um_rest]

        # Stage 3: unconfirmed tracks vs high detections left by stage 1.
        left_high = high[um_high]
        if self.unconfirmed_cost == "stage1":  # score fusion included
            cost3 = self._stage1_cost(
                unconfirmed,
                prior_boxes[unconfirmed],
                boxes[left_high],
                scores[left_high],
                None if det_features is None else det_features[left_high],
            )
        else:
            cost3 = self._iou_cost(prior_boxes[unconfirmed], boxes[left_high])
            if self.fuse_score:
                cost3 = fuse_score(cost3, scores[left_high])
        m3, um_unconf, um_left = linear_assignment(cost3, self.unconfirmed_match_thresh)
        t3, d3 = unconfirmed[m3[:, 0]], left_high[m3[:, 1]]
        starters = left_high[um_left]
        starters = starters[scores[starters] > self.new_track_thresh]

        # All matches at once: Kalman update, state, score, feature EMA.
        t_all = np.concatenate([t1, t2, t3])
        d_all = np.concatenate([d1, d2, d3])
        if t_all.size:
            st.mean[t_all], st.cov[t_all] = self.kalman.update(
                st.mean[t_all], st.cov[t_all], xyxy_to_xyah(boxes[d_all])
            )
            st.state[t_all] = TrackState.Tracked
            st.activated[t_all] = True
            st.score[t_all] = scores[d_all]
            st.last_frame[t_all] = self.frame_id
            if det_features is not None:
                m = self.feature_momentum
                st.feat[t_all] = l2_normalize(m * st.feat[t_all] + (1.0 - m) * det_features[d_all])

        removed = np.zeros(n_before, bool)
        removed[unconfirmed[um_unconf]] = True
        st.state[newly_lost] = TrackState.Lost
        refound = np.zeros(n_before, bool)
        refound[t1] = lost_before[t1]
        expired = lost_before & ~refound & (self.frame_id - st.last_frame > self.max_time_lost)
        removed |= expired

        # Rebuild ByteTrack's list order: tracked list = surviving old tracked, new tracks, re-found
        # tracks; lost list = surviving old lost, newly lost.
        idx = np.arange(n_before)
        still_tracked = tracked.copy()
        still_tracked[newly_lost] = False
        keep_tracked = idx[still_tracked & ~removed]
        keep_lost = idx[lost_before & ~refound & ~removed]
        n_new = starters.size
        new = self._new_tracks(
            boxes[starters], scores[starters], None if det_features is None else det_features[starters]
        )
        st.append(new)
        new_idx = np.arange(n_before, n_before + n_new)
        tracked_list = np.concatenate([keep_tracked, new_idx, idx[refound]])
        lost_list = np.concatenate([keep_lost, newly_lost])

        tracked_list, lost_list = self._remove_duplicates(tracked_list, lost_list)
        st.take(np.concatenate([tracked_list, lost_list]))
        return self._output(len(tracked_list))

    def track_features(self) -> dict[int, np.ndarray]:
        """Current (EMA) feature of every live track (tracked, unconfirmed and lost), by id; empty when the
        tracker runs without features."""
        st = self._store
        if st.feat is None:
            return {}
        return {int(i): st.feat[k].copy() for k, i in enumerate(st.ids)}

    # --------------------------------------------------------------------------------------------- parts
    def _check_feature_use(self, det_features: np.ndarray | None, n_det: int) -> np.ndarray | None:
        if det_features is None and n_det == 0:
            return None if not self._uses_features else np.zeros((0, self._store.feat.shape[1]))
        uses = det_features is not None
        if self._uses_features is None:
            self._uses_features = uses
            if uses:
                self._store = _Store(feat_dim=det_features.shape[1])
        elif uses != self._uses_features:
            raise ValueError(
                "det_features must be given on every frame with detections or on none "
                f"(frame {self.frame_id + 1} {'has' if uses else 'lacks'} them, earlier frames "
                f"{'did not' if uses else 'did'})"
            )
        if uses and det_features.shape[1] != self._store.feat.shape[1]:
            raise ValueError(
                f"det_features have {det_features.shape[1]} channels, earlier frames had "
                f"{self._store.feat.shape[1]}"
            )
        return None if not uses else l2_normalize(det_features)

    def _stage1_cost(
        self,
        pool: np.ndarray,
        pool_boxes: np.ndarray,
        boxes: np.ndarray,
        scores: np.ndarray,
        feats: np.ndarray | None,
    ) -> np.ndarray:
        n_t, n_d = pool.size, boxes.shape[0]
        if n_t == 0 or n_d == 0:
            return np.zeros((n_t, n_d))
        st = self._store
        batch = TrackBatch(
            ids=st.ids[pool],
            boxes=pool_boxes,
            scores=st.score[pool],
            lost=st.state[pool] == TrackState.Lost,
            features=None if st.feat is None else st.feat[pool],
        )
        cost = np.asarray(self.cost(batch, Detections(boxes, scores), feats), dtype=np.float64)
        if cost.shape != (n_t, n_d):
            raise ValueError(
                f"stage-1 cost returned shape {cost.shape}, expected (tracks, dets) = {(n_t, n_d)}"
            )
        if self.fuse_score:
            cost = fuse_score(cost, scores)
        return cost

    @staticmethod
    def _iou_cost(track_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
        if track_boxes.shape[0] == 0 or det_boxes.shape[0] == 0:
            return np.zeros((track_boxes.shape[0], det_boxes.shape[0]))
        return 1.0 - box_iou(track_boxes, det_boxes).astype(np.float64)

    def _new_tracks(self, boxes: np.ndarray, scores: np.ndarray, feats: np.ndarray | None) -> _Store:
        n = boxes.shape[0]
        new = _Store(None if self._store.feat is None else self._store.feat.shape[1])
        if n == 0:
            return new
        new.ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        self._next_id += n
        new.mean, new.cov = self.kalman.initiate(xyxy_to_xyah(boxes))
        new.state = np.full(n, TrackState.Tracked, np.int8)
        # ByteTrack confirms tracks born on the first frame at once; later ones need a second match.
        new.activated = np.full(n, self.frame_id == 1)
        new.score = scores.copy()
        new.last_frame = np.full(n, self.frame_id, np.int64)
        new.start_frame = np.full(n, self.frame_id, np.int64)
        if new.feat is not None:
            new.feat = feats.copy()
        return new

    def _remove_duplicates(self, tracked: np.ndarray, lost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drop, of each tracked/lost pair with ``1 - IoU < duplicate_thresh``, the shorter-lived one (the
        tracked one on ties, as ByteTrack)."""
        if tracked.size == 0 or lost.size == 0:
            return tracked, lost
        st = self._store
        dist = 1.0 - box_iou(st.boxes(tracked), st.boxes(lost))
        age_t = st.last_frame[tracked] - st.start_frame[tracked]
        age_l = st.last_frame[lost] - st.start_frame[lost]
        keep_t, keep_l = duplicate_survivors(dist, age_t, age_l, self.duplicate_thresh)
        return tracked[keep_t], lost[keep_l]

    def _output(self, n_tracked: int) -> Tracks:
        st = self._store
        sel = np.flatnonzero(st.activated[:n_tracked])
        boxes = st.boxes(sel)
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        keep = w * h > self.min_box_area
        if self.max_aspect_ratio is not None:
            keep &= ~(w > self.max_aspect_ratio * h)
        sel = sel[keep]
        return Tracks(ids=st.ids[sel].copy(), boxes=boxes[keep], scores=st.score[sel].copy())

    # ------------------------------------------------------------------------------------------ inspection
    def track_states(self) -> dict[int, TrackState]:
        """Current state of every live track, by id (for tests and debugging)."""
        st = self._store
        out = {}
        for i in range(len(st)):
            s = TrackState(int(st.state[i]))
            out[int(st.ids[i])] = TrackState.New if (s == TrackState.Tracked and not st.activated[i]) else s
        return out

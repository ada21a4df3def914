"""FineTrackTracker: BYTE association with FineTrack's fused appearance/IoU distance (MOT protocol).

Per frame: one network forward embeds every usable detection (ROI Align on the FAFPN map of the letterboxed
frame), then :class:`~zoo.trackers.association.ByteAssociator` associates with the stage-1 cost
:func:`fused_distance`; stage 2 is IoU-only, stage 3 IoU-only by default (``unconfirmed_cost``). Track
features are an EMA ``f <- 0.9 f + 0.1 f_det``, re-normalised (done by the engine).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from zoo.core.boxes import box_iou
from zoo.data.transforms import IMAGENET_MEAN, IMAGENET_STD, eval_transform
from zoo.data.types import SeqInfo
from zoo.methods.finetrack.model import FineTrackNet
from zoo.tasks.protocols import Detections, Tracks
from zoo.trackers.association import ByteAssociator, TrackBatch, detection_arrays

__all__ = ["ASSOCIATION_DEFAULTS", "FineTrackTracker", "check_settings", "fused_distance", "sequence_config"]

#: BYTE settings of FineTrack (ByteTrack's MOT17 values); any key can be overridden per tracker or sequence.
ASSOCIATION_DEFAULTS: dict[str, Any] = {
    "track_thresh": 0.6,
    "low_thresh": 0.1,
    "new_track_thresh": 0.7,
    "track_buffer": 30,
    "match_thresh": 0.8,
    "second_match_thresh": 0.5,
    "unconfirmed_match_thresh": 0.7,
    "duplicate_thresh": 0.15,
    "fuse_score": True,
    "min_box_area": 10.0,
    "max_aspect_ratio": 1.6,
    "feature_momentum": 0.9,
    # stage 3 (unconfirmed tracks vs leftover high detections): "iou" or "stage1" (the fused distance);
    # the paper gives no stage-3 cost: IoU as ByteTrack is the zoo's choice
    "unconfirmed_cost": "iou",
}


def fused_distance(tracks: TrackBatch, detections: Detections, det_features: np.ndarray | None) -> np.ndarray:
    """FineTrack's stage-1 cost between tracks and detections, (T, D) float64.

    ``d_feat = 1 - cos(f_track, f_det)``, ``d_iou = 1 - IoU(b_det, b_pred)`` (Kalman prediction),
    ``d_feat~ = 1 - (1 - d_feat) [d_iou < 1]`` (appearance counts only where the boxes overlap),
    ``d = sqrt(d_feat~ * d_iou)``. Pairs without overlap get ``d = 1`` whatever their appearance.

    Args:
        tracks: rows; ``tracks.features`` (T, F) unit-norm EMA features.
        detections: columns, ``boxes`` (D, 4) ``xyxy``.
        det_features: (D, F) unit-norm detection features.

    Raises:
        ValueError: no features on either side (FineTrack always embeds its detections).
    """
    if tracks.features is None or det_features is None:
        raise ValueError("fused_distance needs track and detection features (got None)")
    d_iou = 1.0 - box_iou(tracks.boxes, detections.boxes).astype(np.float64)
    # cosine of unit vectors; rounding can push it a hair past 1, which would make sqrt see a negative
    d_feat = np.maximum(1.0 - tracks.features @ np.asarray(det_features, np.float64).T, 0.0)
    gated = np.where(d_iou < 1.0, d_feat, 1.0)
    return np.sqrt(gated * d_iou)


def check_settings(settings: Mapping[str, Any], where: str) -> None:
    """Raise ``ValueError`` naming ``where`` if ``settings`` has a key that is no association setting."""
    unknown = set(settings) - set(ASSOCIATION_DEFAULTS) - {"frame_rate"}
    if unknown:
        raise ValueError(
            f"{where}: unknown association settings {sorted(unknown)}; valid: {sorted(ASSOCIATION_DEFAULTS)}"
        )


def sequence_config(
    base: Mapping[str, Any], per_sequence: Mapping[str, Mapping[str, Any]] | None, name: str | None
) -> dict[str, Any]:
    """Association settings of one sequence: ``base`` updated by every ``per_sequence`` entry whose key is
    the sequence name or a prefix of it ending before a ``-`` (``MOT17-05`` covers ``MOT17-05-FRCNN``,
    ``-DPM`` and ``-SDP``). Shorter (more general) keys apply first, so the most specific key wins."""
    cfg = dict(base)
    if not per_sequence or not name:
        return cfg
    for key in sorted(per_sequence, key=len):
        if name == key or name.startswith(f"{key}-"):
            cfg.update(per_sequence[key])
    return cfg


class FineTrackTracker:
    """Online MOT tracker (``reset``/``step``) running a :class:`FineTrackNet` on every frame.

    Args:
        net: the trained network (its device is used; it is switched to eval mode while embedding and
            put back in its previous mode afterwards).
        input_size: (H, W) the frame is letterboxed (or resized) to before the network (paper 608x1088).
        resize_mode: ``letterbox`` (keep aspect, pad bottom/right) or ``resize``, as in training.
        per_sequence: sequence name (or ``-``-separated prefix) -> association overrides, e.g.
            ByteTrack's ``{"MOT17-05": {"track_buffer": 14}}`` (see :func:`sequence_config`).
        mean, std: the trunk's input normalisation (ImageNet).
        **association: :data:`ASSOCIATION_DEFAULTS` overrides (any :class:`ByteAssociator` argument but
            ``cost``).

    Attributes:
        timings: cumulative ``{"frames", "embed_s", "assoc_s"}`` since construction: wall seconds spent in
            preprocessing + network (``embed_s``) and in BYTE association (``assoc_s``).
    """

    def __init__(
        self,
        net: FineTrackNet,
        input_size: Sequence[int] = (608, 1088),
        resize_mode: str = "letterbox",
        per_sequence: Mapping[str, Mapping[str, Any]] | None = None,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        **association: Any,
    ) -> None:
        check_settings(association, "FineTrackTracker")
        for name, overrides in (per_sequence or {}).items():
            check_settings(overrides, f"FineTrackTracker per_sequence[{name!r}]")
        if resize_mode not in ("letterbox", "resize"):
            raise ValueError(f"resize_mode must be 'letterbox' or 'resize', got {resize_mode!r}")
        self.net = net
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.resize_mode = resize_mode
        self.transform = eval_transform(self.input_size, mode=resize_mode, mean=mean, std=std)
        self.config = {**ASSOCIATION_DEFAULTS, **association}
        self.per_sequence = {str(k): dict(v) for k, v in (per_sequence or {}).items()}
        self.timings = {"frames": 0, "embed_s": 0.0, "assoc_s": 0.0}
        self.reset(None)

    def reset(self, seq_info: SeqInfo | None) -> None:
        """Start a sequence: fresh tracks (ids from 1) with this sequence's association settings."""
        cfg = sequence_config(self.config, self.per_sequence, None if seq_info is None else seq_info.name)
        self.active_config = cfg
        self.associator = ByteAssociator(cost=fused_distance, **cfg)
        self.associator.reset(seq_info)

    def _scales(self, frame_hw: tuple[int, int]) -> tuple[float, float]:
        (h, w), (oh, ow) = frame_hw, self.input_size
        if self.resize_mode == "letterbox":
            s = min(oh / h, ow / w)
            return s, s
        return ow / w, oh / h

    def embed(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(D, F) float64 unit-norm features of ``boxes`` (D, 4) ``xyxy`` frame pixels, one forward pass."""
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
        if boxes.shape[0] == 0:
            return np.zeros((0, self.net.embedding_dim))
        sx, sy = self._scales(frame.shape[:2])
        param = next(self.net.parameters())
        image = self.transform(frame[None]).images.to(device=param.device, dtype=param.dtype)
        rois = torch.as_tensor(boxes * np.array([sx, sy, sx, sy]), dtype=param.dtype, device=param.device)
        was_training = self.net.training
        self.net.eval()
        try:
            feats = self.net.embed(image, [rois])
        finally:
            self.net.train(was_training)
        return feats.double().cpu().numpy()

    def step(self, frame: np.ndarray, detections: Detections) -> Tracks:
        """Track one frame: embed the detections BYTE can use (score above ``low_thresh``), associate.

        Args:
            frame: (H, W, 3) uint8 RGB.
            detections: ``xyxy`` boxes (D, 4) in frame pixels, scores (D,).
        """
        boxes, scores = detection_arrays(detections)
        t0 = time.perf_counter()
        used = scores > self.active_config["low_thresh"]
        feats = np.zeros((boxes.shape[0], self.net.embedding_dim))
        if used.any():
            feats[used] = self.embed(frame, boxes[used])
        t1 = time.perf_counter()
        # rows below low_thresh stay zero: BYTE discards those detections before any stage reads them
        tracks = self.associator.step(frame, Detections(boxes, scores), feats)
        t2 = time.perf_counter()
        self.timings["frames"] += 1
        self.timings["embed_s"] += t1 - t0
        self.timings["assoc_s"] += t2 - t1
        return tracks

    def parameters(self):
        """The network's parameters (the runner counts them for results.json)."""
        return self.net.parameters()

    def track_features(self) -> dict[int, np.ndarray]:
        """Current EMA feature of every live track, by id (inspection and tests)."""
        return self.associator.track_features()

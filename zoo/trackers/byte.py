"""ByteTrack (Zhang et al., ECCV 2022): the BYTE association engine with the IoU cost, as a zoo baseline.

Motion-only tracker: Kalman filter in ``(cx, cy, a, h)`` and IoU matching of high- then low-score
detections. All logic lives in :mod:`zoo.trackers.association`; this class fixes the stage-1 cost to
``1 - IoU`` and exposes the paper's constants as plain keyword arguments (Hydra ``_target_`` friendly).
"""

from __future__ import annotations

from zoo.registry import register
from zoo.trackers.association import ByteAssociator

__all__ = ["ByteTrack"]


@register("bytetrack", task="mot", kind="baseline", paper="ByteTrack (Zhang et al., ECCV 2022)")
class ByteTrack(ByteAssociator):
    """ByteTrack: Kalman + IoU association of every detection box, low-score boxes included.

    Defaults are the paper's MOT17 setting: high threshold 0.6, low 0.1, new-track 0.7, buffer 30 frames
    at 30 fps (scaled by the sequence frame rate), gates 0.8 / 0.5 / 0.7, duplicates below 0.15 IoU
    distance, score fusion on (pass ``fuse_score=False`` for the released code's ``--mot20`` behaviour),
    and the MOT17 evaluation's output filters ``min_box_area=10`` and ``max_aspect_ratio=1.6`` (pass
    ``0`` / ``None`` to turn them off). ByteTrack's per-sequence threshold overrides for MOT17/MOT20 belong
    in recipes, not here. See :class:`~zoo.trackers.association.ByteAssociator` for each argument.
    """

    #: motion and boxes only: the runner skips decoding frames for it
    needs_frames = False

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
        frame_rate: float = 30.0,
    ) -> None:
        super().__init__(
            track_thresh=track_thresh,
            low_thresh=low_thresh,
            new_track_thresh=new_track_thresh,
            track_buffer=track_buffer,
            match_thresh=match_thresh,
            second_match_thresh=second_match_thresh,
            unconfirmed_match_thresh=unconfirmed_match_thresh,
            duplicate_thresh=duplicate_thresh,
            fuse_score=fuse_score,
            min_box_area=min_box_area,
            max_aspect_ratio=max_aspect_ratio,
            cost=None,
            frame_rate=frame_rate,
        )

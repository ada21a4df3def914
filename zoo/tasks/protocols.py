"""The three tracker protocols every method and baseline implements, and the values they exchange.

Frames are ``(H, W, 3)`` uint8 RGB numpy arrays; boxes are float64 ``xyxy`` 0-based pixels
(``zoo.core.boxes``). The runners in ``zoo.tasks`` are the only code that drives these protocols over a
benchmark, so a tracker that satisfies one is evaluated, logged and ranked like every other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from zoo.data.types import MOTRows, MOTSequence, SeqInfo


@dataclass
class Detections:
    """Detections of one frame.

    Attributes:
        boxes: (N, 4) float64 ``xyxy`` pixels.
        scores: (N,) float64 confidences in [0, 1] (or the detector's own scale; ByteTrack thresholds
            assume [0, 1]).
    """

    boxes: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float64), np.zeros(0, np.float64))


@dataclass
class Tracks:
    """Output tracks of one frame.

    Attributes:
        ids: (N,) int64 track identities, positive and unique within the frame.
        boxes: (N, 4) float64 ``xyxy`` pixels.
        scores: (N,) float64 confidences.
    """

    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def empty(cls) -> Tracks:
        return cls(np.zeros(0, np.int64), np.zeros((0, 4), np.float64), np.zeros(0, np.float64))


@runtime_checkable
class MOTTracker(Protocol):
    """Online multi-object tracker: ``reset`` once per sequence, then ``step`` on every frame in order."""

    def reset(self, seq_info: SeqInfo) -> None: ...

    def step(self, frame: np.ndarray, detections: Detections) -> Tracks: ...


@runtime_checkable
class OfflineMOTTracker(Protocol):
    """Offline multi-object tracker (e.g. KFE+IFF): sees the whole sequence at once.

    ``detections`` maps 1-based frame numbers to that frame's detections. Returns MOTChallenge rows
    (frames 1-based, boxes ``xyxy``).
    """

    def track_sequence(self, seq: MOTSequence, detections: dict[int, Detections]) -> MOTRows: ...


@runtime_checkable
class VOSTracker(Protocol):
    """Label propagation from the first frame.

    ``labels0`` is either an ``(H, W)`` uint8 mask of object ids (0 = background) or a ``(J, 2)`` float64
    array of keypoints ``(x, y)`` in pixels (negative = invisible). ``step`` returns labels of the same
    kind for the next frame.
    """

    def init(self, frame0: np.ndarray, labels0: np.ndarray) -> None: ...

    def step(self, frame: np.ndarray) -> np.ndarray: ...


@dataclass
class SOTOutput:
    """One frame's single-object prediction: a (4,) float64 ``xyxy`` box, optionally a (H, W) bool mask
    and a confidence."""

    box: np.ndarray
    mask: np.ndarray | None = None
    score: float | None = None


@runtime_checkable
class SOTTracker(Protocol):
    """Single-object tracker: ``init`` with the first frame and box, then ``step`` on every later frame."""

    def init(self, frame0: np.ndarray, box0: np.ndarray) -> None: ...

    def step(self, frame: np.ndarray) -> SOTOutput: ...

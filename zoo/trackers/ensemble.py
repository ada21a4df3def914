"""The basic ensemble of SOT trackers: every base tracker stepped live, their boxes averaged per frame.

SFTrack++'s pre-registration compares against this "basic ensemble over the trackers". A base tracker that
reports failure (score 0, its last box carried) still votes with that box, as a plain average does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.registry import register
from zoo.tasks.protocols import SOTOutput
from zoo.trackers.cache import TrackerSource

__all__ = ["BoxAverageTracker"]

DEFAULT_TRACKERS = ("csrt", "kcf", "mil", "mosse", "medianflow", "boosting", "tld")


@register(
    "box_average", task="sot", kind="baseline", paper="the basic ensemble of SFTrack++'s pre-registration"
)
class BoxAverageTracker:
    """Per-frame mean of the base trackers' ``xyxy`` boxes (score: the mean of their scores).

    Args:
        trackers: registered SOT baselines to average (default: the seven OpenCV trackers).
    """

    def __init__(self, trackers: Sequence[str] = DEFAULT_TRACKERS) -> None:
        self.sources = [TrackerSource(str(t)) for t in trackers]
        if not self.sources:
            raise ValueError("box_average needs at least one base tracker")
        self._trackers: list[Any] = []

    def init(self, frame0: np.ndarray, box0: np.ndarray) -> None:
        self._trackers = [s.build() for s in self.sources]
        for t in self._trackers:
            t.init(frame0, box0)

    def step(self, frame: np.ndarray) -> SOTOutput:
        if not self._trackers:
            raise RuntimeError("BoxAverageTracker.step called before init")
        outs = [t.step(frame) for t in self._trackers]
        box = np.mean([np.asarray(o.box, np.float64) for o in outs], 0)
        score = float(np.mean([1.0 if o.score is None else float(o.score) for o in outs]))
        return SOTOutput(box=box, score=score)

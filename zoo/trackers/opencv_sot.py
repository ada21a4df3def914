"""The seven model-free OpenCV single-object trackers behind the zoo's SOT protocol.

CSRT, KCF and MIL live at the top level of ``cv2`` (the "new" tracker API: integer ``Rect`` boxes,
optional ``Params`` objects); MOSSE, MedianFlow, Boosting and TLD only survive in ``cv2.legacy`` (``Rect2d``
float boxes, no parameters from Python). All seven ship with ``opencv-contrib-python-headless`` only; the
plain ``opencv-python-headless`` wheel (pulled by albumentations) writes the same ``cv2/`` folder and lacks
them, so a missing factory raises an ``ImportError`` that says which package to reinstall.

The zoo's boxes are float ``xyxy`` pixels (``zoo.core.boxes``); this module converts to OpenCV's
``(x, y, w, h)`` and back. When a tracker reports failure the last good box is carried forward with score 0,
so a benchmark run always gets one box per frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from zoo.registry import register
from zoo.tasks.protocols import SOTOutput

_CONTRIB_HINT = (
    "the classic OpenCV trackers ship only with opencv-contrib-python-headless; a plain "
    "opencv-python(-headless) install (e.g. pulled in by albumentations) overwrote cv2. Fix with: "
    "pip install --no-deps --force-reinstall opencv-contrib-python-headless"
)


@dataclass(frozen=True)
class _Factory:
    """Where one tracker's constructor lives and which box API it speaks.

    Attributes:
        module: ``"cv2"`` or ``"cv2.legacy"``.
        create: name of the factory function in that module.
        params: name of the ``Params`` class (new API only), None where Python cannot pass parameters.
        legacy: True for the ``cv2.legacy`` API (float ``Rect2d`` boxes, ``init`` returns a bool).
    """

    module: str
    create: str
    params: str | None
    legacy: bool


FACTORIES: dict[str, _Factory] = {
    "csrt": _Factory("cv2", "TrackerCSRT_create", "TrackerCSRT_Params", legacy=False),
    "kcf": _Factory("cv2", "TrackerKCF_create", "TrackerKCF_Params", legacy=False),
    "mil": _Factory("cv2", "TrackerMIL_create", "TrackerMIL_Params", legacy=False),
    "mosse": _Factory("cv2.legacy", "TrackerMOSSE_create", None, legacy=True),
    "medianflow": _Factory("cv2.legacy", "TrackerMedianFlow_create", None, legacy=True),
    "boosting": _Factory("cv2.legacy", "TrackerBoosting_create", None, legacy=True),
    "tld": _Factory("cv2.legacy", "TrackerTLD_create", None, legacy=True),
}


def _resolve(module: str, attr: str, kind: str) -> Any:
    """``cv2.<attr>`` or ``cv2.legacy.<attr>``, looked up at call time (so a reinstalled cv2 is seen)."""
    owner: Any = cv2
    if module == "cv2.legacy":
        owner = getattr(cv2, "legacy", None)
        if owner is None:
            raise ImportError(
                f"OpenCV tracker {kind!r} needs cv2.legacy, which this cv2 lacks: {_CONTRIB_HINT}"
            )
    obj = getattr(owner, attr, None)
    if obj is None:
        raise ImportError(
            f"OpenCV tracker {kind!r} needs {module}.{attr}, which this cv2 lacks: {_CONTRIB_HINT}"
        )
    return obj


def xyxy_to_cv_rect(
    box: np.ndarray, legacy: bool
) -> tuple[int, int, int, int] | tuple[float, float, float, float]:
    """A (4,) ``xyxy`` box as the ``(x, y, w, h)`` tuple an OpenCV tracker expects.

    The new API takes an integer ``Rect``: the corners are rounded (not the width), so a box's pixel
    footprint is what it covers, and width/height are at least 1. The legacy API takes a float ``Rect2d``.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    if legacy:
        return (x0, y0, x1 - x0, y1 - y0)
    # Round half up (not Python's half-to-even) so a box shifted by whole pixels keeps its integer size.
    ix, iy, jx, jy = (math.floor(v + 0.5) for v in (x0, y0, x1, y1))
    return (ix, iy, max(1, jx - ix), max(1, jy - iy))


def cv_rect_to_xyxy(rect: Any) -> np.ndarray:
    """OpenCV ``(x, y, w, h)`` (ints or floats) -> (4,) float64 ``xyxy``."""
    x, y, w, h = (float(v) for v in rect)
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def _check_frame(frame: np.ndarray, what: str) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        desc = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame)
        raise ValueError(f"{what} must be an (H, W, 3) uint8 RGB array, got {desc}")


class OpenCVTracker:
    """A model-free OpenCV tracker (CSRT, KCF, MIL, MOSSE, MedianFlow, Boosting or TLD) as an SOT tracker.

    Args:
        kind: one of :data:`FACTORIES` (case-insensitive).
        **params: fields of the tracker's OpenCV ``Params`` (CSRT, KCF, MIL only; e.g. ``padding=2.0``
            for CSRT, ``detect_thresh=0.4`` for KCF). The legacy trackers accept none from Python.

    ``step`` returns an :class:`SOTOutput` with a (4,) float64 ``xyxy`` box and ``score`` 1.0 when OpenCV
    reports success, or the last successful box and score 0.0 when it reports failure.

    Raises:
        ValueError: unknown ``kind``, or ``params`` the tracker does not have.
        ImportError: the factory is missing from ``cv2`` (opencv-contrib not installed or overwritten).
    """

    kind: str = ""

    def __init__(self, kind: str, **params: Any) -> None:
        key = kind.lower()
        if key not in FACTORIES:
            raise ValueError(f"unknown OpenCV tracker {kind!r}; choose one of {sorted(FACTORIES)}")
        self.kind = key
        self._spec = FACTORIES[key]
        # Resolve now so a broken install fails at construction, not at the first sequence.
        self._create: Callable[..., Any] = _resolve(self._spec.module, self._spec.create, key)
        self._params = dict(params)
        if self._params:
            self._build_params()  # validate the names now
        self._tracker: Any = None
        self._box: np.ndarray | None = None
        self._size: tuple[int, int] = (0, 0)

    def _build_params(self) -> Any:
        if self._spec.params is None:
            raise ValueError(
                f"OpenCV tracker {self.kind!r} (cv2.legacy) takes no parameters from Python; got {sorted(self._params)}"
            )
        params = _resolve(self._spec.module, self._spec.params, self.kind)()
        valid = sorted(a for a in dir(params) if not a.startswith("_"))
        for name, value in self._params.items():
            if name not in valid:
                raise ValueError(f"OpenCV tracker {self.kind!r} has no parameter {name!r}; valid: {valid}")
            setattr(params, name, value)
        return params

    def _new_tracker(self) -> Any:
        if self._params:
            return self._create(self._build_params())
        return self._create()

    def init(self, frame0: np.ndarray, box0: np.ndarray) -> None:
        """Start on ``frame0`` ((H, W, 3) uint8 RGB) at ``box0`` ((4,) ``xyxy`` pixels).

        The box is clipped to the image; a fresh OpenCV tracker is built, so one object can track many
        sequences.

        Raises:
            ValueError: bad frame, or a box that is not finite, is empty or lies outside the image.
        """
        _check_frame(frame0, "frame0")
        box = np.asarray(box0, dtype=np.float64).reshape(-1)
        if box.shape != (4,) or not np.all(np.isfinite(box)):
            raise ValueError(f"box0 must be 4 finite xyxy numbers, got {box0!r}")
        h, w = frame0.shape[:2]
        clipped = np.clip(box, 0.0, [w, h, w, h])
        if clipped[2] - clipped[0] < 1.0 or clipped[3] - clipped[1] < 1.0:
            raise ValueError(f"box0 {box.tolist()} covers less than one pixel of the {w}x{h} frame")
        self._size = (h, w)
        self._tracker = self._new_tracker()
        bgr = cv2.cvtColor(frame0, cv2.COLOR_RGB2BGR)
        ok = self._tracker.init(bgr, xyxy_to_cv_rect(clipped, self._spec.legacy))
        if self._spec.legacy and ok is False:
            raise RuntimeError(
                f"OpenCV tracker {self.kind!r} refused to initialise on box {clipped.tolist()}"
            )
        self._box = clipped

    def step(self, frame: np.ndarray) -> SOTOutput:
        """Track into the next ``frame`` ((H, W, 3) uint8 RGB, same size as ``frame0``)."""
        if self._tracker is None or self._box is None:
            raise RuntimeError(f"{type(self).__name__}.step called before init")
        _check_frame(frame, "frame")
        if frame.shape[:2] != self._size:
            raise ValueError(f"frame size {frame.shape[:2]} differs from the first frame's {self._size}")
        ok, rect = self._tracker.update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if ok:
            box = cv_rect_to_xyxy(rect)
            # A "successful" box with NaN or no area is a failure in disguise: carry the last one instead.
            if all(math.isfinite(v) for v in box) and box[2] > box[0] and box[3] > box[1]:
                self._box = box
                return SOTOutput(box=box.copy(), score=1.0)
        return SOTOutput(box=self._box.copy(), score=0.0)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}(kind={self.kind!r}{extra})"


_PAPER = {
    "csrt": "Lukezic et al., Discriminative Correlation Filter with Channel and Spatial Reliability, CVPR 2017",
    "kcf": "Henriques et al., High-Speed Tracking with Kernelized Correlation Filters, TPAMI 2015",
    "mil": "Babenko et al., Visual Tracking with Online Multiple Instance Learning, CVPR 2009",
    "mosse": "Bolme et al., Visual Object Tracking using Adaptive Correlation Filters, CVPR 2010",
    "medianflow": "Kalal et al., Forward-Backward Error: Automatic Detection of Tracking Failures, ICPR 2010",
    "boosting": "Grabner et al., Real-Time Tracking via On-line Boosting, BMVC 2006",
    "tld": "Kalal et al., Tracking-Learning-Detection, TPAMI 2012",
}


# One small class per tracker so the registry holds classes that build with no arguments.
@register("csrt", task="sot", kind="baseline", paper=_PAPER["csrt"])
class CSRTTracker(OpenCVTracker):
    """OpenCV CSRT: correlation filter with channel and spatial reliability (HOG + colour names)."""

    def __init__(self, **params: Any) -> None:
        super().__init__("csrt", **params)


@register("kcf", task="sot", kind="baseline", paper=_PAPER["kcf"])
class KCFTracker(OpenCVTracker):
    """OpenCV KCF: kernelized correlation filter."""

    def __init__(self, **params: Any) -> None:
        super().__init__("kcf", **params)


@register("mil", task="sot", kind="baseline", paper=_PAPER["mil"])
class MILTracker(OpenCVTracker):
    """OpenCV MIL: online multiple-instance boosting."""

    def __init__(self, **params: Any) -> None:
        super().__init__("mil", **params)


@register("mosse", task="sot", kind="baseline", paper=_PAPER["mosse"])
class MOSSETracker(OpenCVTracker):
    """OpenCV MOSSE: minimum output sum of squared error correlation filter (cv2.legacy)."""

    def __init__(self, **params: Any) -> None:
        super().__init__("mosse", **params)


@register("medianflow", task="sot", kind="baseline", paper=_PAPER["medianflow"])
class MedianFlowTracker(OpenCVTracker):
    """OpenCV MedianFlow: forward-backward Lucas-Kanade point tracking (cv2.legacy)."""

    def __init__(self, **params: Any) -> None:
        super().__init__("medianflow", **params)


@register("boosting", task="sot", kind="baseline", paper=_PAPER["boosting"])
class BoostingTracker(OpenCVTracker):
    """OpenCV Boosting: online AdaBoost on Haar features (cv2.legacy)."""

    def __init__(self, **params: Any) -> None:
        super().__init__("boosting", **params)


@register("tld", task="sot", kind="baseline", paper=_PAPER["tld"])
class TLDTracker(OpenCVTracker):
    """OpenCV TLD: tracking-learning-detection (cv2.legacy)."""

    def __init__(self, **params: Any) -> None:
        super().__init__("tld", **params)


TRACKER_CLASSES: dict[str, type[OpenCVTracker]] = {
    "csrt": CSRTTracker,
    "kcf": KCFTracker,
    "mil": MILTracker,
    "mosse": MOSSETracker,
    "medianflow": MedianFlowTracker,
    "boosting": BoostingTracker,
    "tld": TLDTracker,
}

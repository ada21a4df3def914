"""Shared geometry and tensor primitives: boxes, Kalman filters, linear assignment, ROI align, Lab colour,
image/video I/O. One implementation of each; everything else in the zoo imports them from here.

Names are re-exported lazily (PEP 562) so that ``import zoo.core.boxes`` (used by the metrics) does not
pay for importing torchvision and OpenCV, and so that ``zoo.data`` and ``zoo.core`` can import each other's
submodules without an import cycle.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, tuple[str, ...]] = {
    "zoo.core.assignment": ("linear_assignment",),
    "zoo.core.boxes": (
        "box_area",
        "box_giou",
        "box_iou",
        "clip_boxes",
        "convert",
        "cxcywh_to_xyxy",
        "mot_to_xyxy",
        "xywh_to_xyxy",
        "xyxy_to_cxcywh",
        "xyxy_to_mot",
        "xyxy_to_xywh",
    ),
    "zoo.core.color": ("lab_to_rgb", "rgb_to_lab"),
    "zoo.core.kalman": (
        "CHI2INV95",
        "KalmanFilterXYAH",
        "KalmanFilterXYSR",
        "LinearKalman",
        "xyah_to_xyxy",
        "xysr_to_xyxy",
        "xyxy_to_xyah",
        "xyxy_to_xysr",
    ),
    "zoo.core.roi": ("boxes_to_rois", "roi_align"),
    "zoo.core.video": (
        "list_frames",
        "read_frames",
        "read_image",
        "write_frame_folder",
        "write_image",
        "write_video",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = [
    "CHI2INV95",
    "KalmanFilterXYAH",
    "KalmanFilterXYSR",
    "LinearKalman",
    "box_area",
    "box_giou",
    "box_iou",
    "boxes_to_rois",
    "clip_boxes",
    "convert",
    "cxcywh_to_xyxy",
    "lab_to_rgb",
    "linear_assignment",
    "list_frames",
    "mot_to_xyxy",
    "read_frames",
    "read_image",
    "rgb_to_lab",
    "roi_align",
    "write_frame_folder",
    "write_image",
    "write_video",
    "xyah_to_xyxy",
    "xysr_to_xyxy",
    "xywh_to_xyxy",
    "xyxy_to_cxcywh",
    "xyxy_to_mot",
    "xyxy_to_xyah",
    "xyxy_to_xysr",
    "xyxy_to_xywh",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from zoo.core.assignment import linear_assignment
    from zoo.core.boxes import (
        box_area,
        box_giou,
        box_iou,
        clip_boxes,
        convert,
        cxcywh_to_xyxy,
        mot_to_xyxy,
        xywh_to_xyxy,
        xyxy_to_cxcywh,
        xyxy_to_mot,
        xyxy_to_xywh,
    )
    from zoo.core.color import lab_to_rgb, rgb_to_lab
    from zoo.core.kalman import (
        CHI2INV95,
        KalmanFilterXYAH,
        KalmanFilterXYSR,
        LinearKalman,
        xyah_to_xyxy,
        xysr_to_xyxy,
        xyxy_to_xyah,
        xyxy_to_xysr,
    )
    from zoo.core.roi import boxes_to_rois, roi_align
    from zoo.core.video import (
        list_frames,
        read_frames,
        read_image,
        write_frame_folder,
        write_image,
        write_video,
    )

"""Draw VOS masks over frames: each object id filled in its colour (:func:`zoo.viz.mot_render.id_color`),
optionally the ground truth's outline on top, and a strip of such frames with captions.

OpenCV is imported here (not in ``zoo.viz``); frames are (H, W, 3) uint8 RGB, masks (H, W) integer ids
(0 = background).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from zoo.viz.mot_render import id_color

__all__ = ["overlay_masks", "strip"]


def overlay_masks(
    frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5, gt: np.ndarray | None = None, thickness: int = 1
) -> np.ndarray:
    """``frame`` with every object of ``mask`` blended in its id colour (``alpha``) and, when ``gt`` is given,
    every ground-truth object outlined in white (``thickness`` pixels). Returns a new uint8 RGB image.

    Raises:
        ValueError: the mask (or gt) is not the frame's (H, W).
    """
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"frame must be (H, W, 3) RGB, got {frame.shape}")
    for name, m in (("mask", mask), ("gt", gt)):
        if m is not None and m.shape != frame.shape[:2]:
            raise ValueError(f"{name} has shape {m.shape}, the frame is {frame.shape[:2]}")
    out = frame.astype(np.float32).copy()
    for obj in np.unique(mask):
        if obj == 0:
            continue
        sel = mask == obj
        out[sel] = (1 - alpha) * out[sel] + alpha * np.array(id_color(int(obj)), np.float32)
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if gt is not None:
        for obj in np.unique(gt):
            if obj == 0:
                continue
            contours, _ = cv2.findContours(
                (gt == obj).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
            )
            cv2.drawContours(out, contours, -1, (255, 255, 255), thickness)
    return out


def strip(
    images: Sequence[np.ndarray],
    captions: Sequence[str] | None = None,
    columns: int | None = None,
    scale: float = 1.0,
    gap: int = 4,
    caption_height: int = 18,
) -> np.ndarray:
    """Tile same-size RGB images in a grid of ``columns`` (default: one row), each resized by ``scale`` with a
    caption line above it, on a white background."""
    if not images:
        raise ValueError("strip needs at least one image")
    h, w = images[0].shape[:2]
    h, w = max(1, round(h * scale)), max(1, round(w * scale))
    columns = len(images) if columns is None else max(1, int(columns))
    rows = -(-len(images) // columns)
    cap = caption_height if captions else 0
    canvas = np.full((rows * (h + cap + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        y, x = r * (h + cap + gap), c * (w + gap)
        canvas[y + cap : y + cap + h, x : x + w] = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        if captions:
            cv2.putText(canvas, str(captions[i]), (x + 2, y + cap - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                        (20, 20, 20), 1, cv2.LINE_AA)  # fmt: skip
    return canvas

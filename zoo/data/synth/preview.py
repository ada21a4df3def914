"""Preview videos of ZooSynth: the first val sequence of each task with its ground truth drawn.

MOT: boxes in per-identity colours with their ids (consider-0 distractors dashed grey); VOS: masks blended
in the DAVIS palette colours; SOT: the target box and its mask outline. Read back through the format
readers, so a preview shows exactly what the benchmarks contain.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from zoo.core.video import read_image, write_video
from zoo.data.formats.davis import DAVIS_PALETTE, load_davis, read_palette_mask
from zoo.data.formats.got10k import load_got10k
from zoo.data.formats.motchallenge import load_split


def id_color(identity: int) -> tuple[int, int, int]:
    """A stable, saturated RGB colour per identity (golden-ratio hue steps)."""
    hue = int((identity * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 220, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def _box(img: np.ndarray, box: np.ndarray, color: tuple[int, int, int], label: str | None = None,
         thickness: int = 2) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    cv2.rectangle(img, (x0, y0), (x1, y1), color, thickness)
    if label:
        cv2.putText(img, label, (x0 + 2, max(y0 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)


def _mot_frames(split_dir: Path):
    seq = load_split(split_dir)[0]
    for t in range(1, len(seq) + 1):
        img = read_image(seq.image_path(t)).copy()
        rows = seq.gt.frame(t)
        for box, ident, consider in zip(rows.boxes, rows.ids, rows.scores):
            color = id_color(int(ident)) if consider > 0 else (160, 160, 160)
            _box(img, box, color, str(int(ident)) if consider > 0 else None, 2 if consider > 0 else 1)
        yield img


def _vos_frames(root: Path):
    seq = load_davis(root, split="val")[0]
    for i, path in enumerate(seq.frames):
        img = read_image(path).astype(np.float32)
        labels = read_palette_mask(seq.annotations[i])
        colour = DAVIS_PALETTE[labels].astype(np.float32)
        on = (labels > 0)[..., None]
        out = np.where(on, 0.4 * img + 0.6 * colour, img).astype(np.uint8)
        for k in np.unique(labels[labels > 0]):
            contours, _ = cv2.findContours((labels == k).astype(np.uint8), cv2.RETR_EXTERNAL,
                                           cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, (255, 255, 255), 1)
        yield out


def _sot_frames(root: Path):
    seq = load_got10k(root, split="val")[0]
    for i, path in enumerate(seq.frames):
        img = read_image(path).copy()
        if seq.masks is not None:
            mask = (read_palette_mask(seq.masks[i]) > 0).astype(np.uint8)
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(img, contours, -1, (255, 255, 0), 1)
        if not seq.absent[i]:
            _box(img, seq.boxes[i], (0, 255, 0), "target")
        yield img


def render_preview(dataset_dir: str | Path, out_dir: str | Path, fps: float = 10.0) -> dict[str, Path]:
    """Write ``<out_dir>/zoosynth_{mot,vos,sot}.mp4``; returns task -> video path."""
    root, out = Path(dataset_dir), Path(out_dir)
    return {
        "mot": write_video(out / "zoosynth_mot.mp4", _mot_frames(root / "mot" / "val"), fps),
        "vos": write_video(out / "zoosynth_vos.mp4", _vos_frames(root / "vos"), fps),
        "sot": write_video(out / "zoosynth_sot.mp4", _sot_frames(root / "sot"), fps),
    }

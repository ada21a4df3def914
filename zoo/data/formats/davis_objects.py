"""DAVIS-layout VOS benchmarks seen as single-object tracking: one :class:`~zoo.data.types.SOTSequence` per
object, its box the bounding rectangle of its mask.

The folders are read by :func:`zoo.data.formats.davis.load_davis` (same layout, same checks); this module
only turns each video's annotations into per-object box tracks. Each annotation is decoded once
(:func:`~zoo.data.formats.davis.read_palette_mask`, ~0.35 ms at 480p) and every object's box in it taken with
``cv2.boundingRect`` (~0.1 ms an object): about 1 ms a 480p mask with 3 objects, so DAVIS-2017 train (~4,200
masks) loads in about 5 s on one core.

OpenCV is imported here, so :mod:`zoo.data.formats` does not re-export this loader (re-scoring imports the
formats package and stays free of OpenCV).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from zoo.data.formats.davis import load_davis, read_palette_mask
from zoo.data.formats.errors import FormatError
from zoo.data.types import SOTSequence, VOSSequence

__all__ = ["load_davis_objects", "object_boxes"]

#: object labels of DAVIS-2017 palette masks (0 is background, 255 void)
_FIRST_LABEL, _LAST_LABEL = 1, 254


def _rect(mask: np.ndarray) -> np.ndarray | None:
    """(4,) float64 ``xyxy`` bounding rectangle of the nonzero pixels of a (H, W) uint8/bool mask, None when
    it has none. ``x, y, w, h = cv2.boundingRect(mask)`` gives ``(x, y, x + w, y + h)``: pixel edges, so a
    one-pixel object at (x, y) is the box ``(x, y, x + 1, y + 1)`` (continuous boxes, ``zoo.core.boxes``)."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8) if mask.dtype == np.bool_ else mask)
    if w == 0 or h == 0:
        return None
    return np.array([x, y, x + w, y + h], np.float64)


def object_boxes(labels: np.ndarray) -> dict[int, np.ndarray]:
    """Bounding boxes of every object of one DAVIS-2017 annotation.

    Args:
        labels: (H, W) uint8 palette indices (0 background, 1..254 objects, 255 void), as
            :func:`~zoo.data.formats.davis.read_palette_mask` returns them.

    Returns:
        object label -> (4,) float64 ``xyxy`` 0-based pixel box, for each label with at least one pixel
        (void pixels belong to no object).

    Raises:
        ValueError: ``labels`` is not a 2-D uint8 array.
    """
    if labels.dtype != np.uint8 or labels.ndim != 2:
        raise ValueError(f"labels must be a (H, W) uint8 array, got {labels.dtype} {labels.shape}")
    # the highest object label: +1 wraps void 255 to 0 (~20x faster than a max with where=labels != 255)
    top = int((labels + np.uint8(1)).max()) - 1
    out: dict[int, np.ndarray] = {}
    for label in range(_FIRST_LABEL, min(top, _LAST_LABEL) + 1):
        box = _rect(labels == label)
        if box is not None:
            out[label] = box
    return out


def _merged_box(labels: np.ndarray) -> np.ndarray | None:
    """Box of all objects merged (DAVIS-2016 view): labels 1..254, void excluded."""
    return _rect((labels >= _FIRST_LABEL) & (labels <= _LAST_LABEL))


def _check_every_frame_annotated(video: VOSSequence, root: Path, resolution: str) -> list[Path]:
    annotations = [video.annotations.get(i) for i in range(len(video))]
    if any(a is None for a in annotations):
        folder = root / "Annotations" / resolution / video.name
        raise FormatError(
            folder,
            f"sequence {video.name!r}: {len(video.annotations)} of {len(video)} frames annotated; the SOT "
            "view needs every frame's mask (a box per frame): train/val splits annotate every frame, test-dev "
            "and challenge splits only the first",
        )
    return [Path(a) for a in annotations if a is not None]


def _track(
    name: str,
    frames: list[Path],
    masks: list[Path],
    boxes: np.ndarray,
    label: int | None,
    size: tuple[int, int],
) -> SOTSequence | None:
    """The SOT sequence of one object from its (T, 4) boxes (NaN rows where it has no pixel), starting at its
    first visible frame; None (with a warning) when it is visible in fewer than 2 frames."""
    visible = np.isfinite(boxes).all(1)
    if int(visible.sum()) < 2:
        warnings.warn(
            f"DAVIS objects: skipping {name}: the object is visible in {int(visible.sum())} frame(s), "
            "an SOT sequence needs at least 2",
            stacklevel=3,
        )
        return None
    first = int(np.argmax(visible))
    return SOTSequence(
        name=name,
        frames=frames[first:],
        boxes=boxes[first:].copy(),
        absent=~visible[first:],
        masks=masks[first:],
        image_size=size,
        mask_label=label,
    )


def load_davis_objects(
    root: str | Path,
    split: str = "train",
    year: str = "2017",
    resolution: str = "480p",
    sequences: Iterable[str] | None = None,
    check_images: bool = True,
) -> list[SOTSequence]:
    """Load a DAVIS-layout split (DAVIS-2016/2017, ZooSynth-VOS) as single-object tracking sequences.

    ``year="2017"``: one sequence per object label (1..254) found in any of a video's annotations, named
    ``f"{video}_obj{label}"``, with ``mask_label=label`` (its mask is ``labels == label``; void 255 and the
    other objects are background). ``year="2016"``: one sequence per video, named as the video, with
    ``mask_label=None``: the target is every object merged (DAVIS-2016 is DAVIS-2017's objects merged; its
    own 0/255 files read as object 1).

    Per sequence:
        boxes: (T, 4) float64 ``xyxy`` 0-based pixels, the bounding rectangle of the target's pixels
            (``x, y, w, h = cv2.boundingRect(mask)`` -> ``(x, y, x + w, y + h)``); NaN where the target has
            no pixel, where also ``absent`` is True.
        frames, masks: image and annotation paths (same length); ``masks`` are the video's palette PNGs.
        image_size: (width, height) of the video (its first annotation's size, which equals the frames'
            size; :func:`~zoo.data.formats.davis.load_davis` checks that with ``check_images``).

    A sequence starts at the target's first visible frame (earlier frames are dropped: SOT starts from a
    first-frame box). A target visible in fewer than 2 frames, or a video without any object pixel, gives no
    sequence (a ``UserWarning`` names it).

    Args:
        root: the DAVIS folder (``JPEGImages/``, ``Annotations/``, ``ImageSets/``).
        split: ``ImageSets/<year>/<split>.txt`` (``train``/``val``); ignored when ``sequences`` is given.
        year: ``"2017"`` (objects) or ``"2016"`` (merged objects); also which ImageSets list.
        resolution: ``480p`` or ``Full-Resolution``.
        sequences: explicit video names.
        check_images: as :func:`~zoo.data.formats.davis.load_davis` (open every frame and annotation header).

    Returns:
        the SOT sequences, videos in list order and objects by ascending label.

    Raises:
        FormatError: anything :func:`~zoo.data.formats.davis.load_davis` or
            :func:`~zoo.data.formats.davis.read_palette_mask` rejects; a video with unannotated frames
            (test-dev style, first frame only), naming its annotation folder.
        ValueError: ``year`` is neither ``"2016"`` nor ``"2017"``.
    """
    root = Path(root)
    year = str(year)
    if year not in ("2016", "2017"):
        raise ValueError(f"year must be '2016' or '2017', got {year!r}")
    videos = load_davis(
        root, split, year=year, resolution=resolution, sequences=sequences, check_images=check_images
    )
    out: list[SOTSequence] = []
    for video in videos:
        masks = _check_every_frame_annotated(video, root, resolution)
        frames = [Path(f) for f in video.frames]
        n = len(frames)
        tracks: dict[int | None, np.ndarray] = {}  # object label (None: all merged) -> (T, 4) boxes
        size = (0, 0)
        for t, path in enumerate(masks):
            labels = read_palette_mask(path)
            if t == 0:
                size = (int(labels.shape[1]), int(labels.shape[0]))
            if year == "2016":
                box = _merged_box(labels)
                found: dict[int | None, np.ndarray] = {} if box is None else {None: box}
            else:
                found = dict(object_boxes(labels))
            for label, box in found.items():
                if label not in tracks:
                    tracks[label] = np.full((n, 4), np.nan)
                tracks[label][t] = box
        if not tracks:
            warnings.warn(
                f"DAVIS objects: skipping {video.name}: no annotation has an object pixel", stacklevel=2
            )
        for label in sorted(tracks, key=lambda k: -1 if k is None else k):
            name = video.name if label is None else f"{video.name}_obj{label}"
            seq = _track(name, frames, masks, tracks[label], label, size)
            if seq is not None:
                out.append(seq)
    return out

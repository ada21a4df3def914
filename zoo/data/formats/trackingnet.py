"""TrackingNet layout: sequence loading.

Layout::

    <root>/TRAIN_0 ... TRAIN_11/anno/<seq>.txt     x,y,w,h per frame
    <root>/TRAIN_<i>/frames/<seq>/0.jpg 1.jpg ...   frames, 0-based, unpadded numbers
    <root>/TEST/anno/<seq>.txt                      the first frame's box only
    <root>/TEST/frames/<seq>/0.jpg ...

Boxes are used as the files give them (continuous ``xywh``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from zoo.data.formats._layout import list_dir, list_numbered
from zoo.data.formats._text import read_xywh_boxes
from zoo.data.formats.errors import FormatError
from zoo.data.types import SOTSequence

__all__ = ["load_trackingnet"]

LAYOUT = "expected a TrackingNet root: <root>/<TRAIN_i|TEST>/{anno/<seq>.txt, frames/<seq>/0.jpg...}"
_CHUNK = re.compile(r"TRAIN_([0-9]+)")


def _chunk_dirs(root: Path, split: str, chunks: Iterable[int | str] | None) -> list[Path]:
    if split == "TEST":
        if chunks is not None:
            raise ValueError("chunks apply to split='TRAIN' only")
        return [root / "TEST"]
    if split != "TRAIN":
        raise ValueError(f"split must be 'TRAIN' or 'TEST', got {split!r}")
    if chunks is None:
        found = [
            (int(m.group(1)), n) for n in list_dir(root, "TrackingNet root") if (m := _CHUNK.fullmatch(n))
        ]
        if not found:
            raise FormatError(root, f"no TRAIN_<i> folders; {LAYOUT}")
        return [root / n for _, n in sorted(found)]
    return [root / (f"TRAIN_{c}" if isinstance(c, int) else str(c)) for c in chunks]


def _load_one(chunk: Path, name: str, test: bool, check_images: bool) -> SOTSequence:
    anno = chunk / "anno" / f"{name}.txt"
    boxes = read_xywh_boxes(anno, what="annotation file")
    if len(boxes) == 0 or np.isnan(boxes[0]).any():
        raise FormatError(anno, "the first frame has no box", line=1 if len(boxes) else None)
    frame_dir = chunk / "frames" / name
    if test or check_images:
        frames = list_numbered(frame_dir, ".jpg", start=0, digits=None)
        if not frames:
            raise FormatError(frame_dir / "0.jpg", "no frames")
    else:
        frames = [frame_dir / f"{i}.jpg" for i in range(len(boxes))]
    n = len(frames)
    if test and len(boxes) == 1:
        boxes = np.concatenate([boxes, np.full((n - 1, 4), np.nan)])
    elif len(boxes) != n:
        raise FormatError(anno, f"{len(boxes)} boxes for {n} frames")
    return SOTSequence(name=name, frames=frames, boxes=boxes, absent=np.zeros(n, bool))


def load_trackingnet(
    root: str | Path,
    split: str = "TEST",
    chunks: Iterable[int | str] | None = None,
    sequences: Iterable[str] | None = None,
    check_images: bool = True,
) -> list[SOTSequence]:
    """Load TrackingNet sequences.

    Args:
        root: the TrackingNet folder.
        split: ``"TEST"`` or ``"TRAIN"``.
        chunks: TRAIN chunks as numbers (``[0, 1]`` -> ``TRAIN_0``, ``TRAIN_1``) or folder names; default all
            ``TRAIN_<i>`` folders present.
        sequences: explicit sequence names (looked up in every chunk); default every ``anno/*.txt``.
        check_images: list every frame folder: frames ``0.jpg`` .. without gaps, as many as boxes.

    Returns:
        :class:`SOTSequence` per sequence (TEST: boxes NaN after the first frame); ``absent`` all False.
    """
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, f"TrackingNet root not found; {LAYOUT}")
    test = split == "TEST"
    wanted = None if sequences is None else [str(s) for s in sequences]
    out = []
    found: set[str] = set()
    for chunk in _chunk_dirs(root, split, chunks):
        names = sorted(n[:-4] for n in list_dir(chunk / "anno", "annotation") if n.endswith(".txt"))
        if wanted is not None:
            present = set(names)
            names = [n for n in wanted if n in present]
        for name in names:
            out.append(_load_one(chunk, name, test, check_images))
            found.add(name)
    if wanted is not None and (missing := [w for w in wanted if w not in found]):
        raise FormatError(root, f"sequence {missing[0]!r} not found in any chunk; {LAYOUT}")
    return out

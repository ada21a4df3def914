"""OTB-100 (OTB-2015) layout: box files and sequence loading.

Layout::

    <root>/<Seq>/img/0001.jpg ...               frames, 1-based, 4 digits (Board: 5)
    <root>/<Seq>/groundtruth_rect.txt           x,y,w,h per frame; tab, comma or whitespace separated
    <root>/<Seq>/groundtruth_rect.<k>.txt       multi-target sequences (Jogging, Skating2): one file a target,
                                                loaded as sequences "<Seq>.<k>" ("Jogging.1", "Jogging.2")

Boxes are used as the files give them (continuous ``xywh``, as the got10k toolkit does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from zoo.data.formats._layout import check_exist
from zoo.data.formats._text import format_xywh, read_xywh_boxes, write_text
from zoo.data.formats.errors import FormatError
from zoo.data.types import SOTSequence

__all__ = ["OTB_FRAME_RANGES", "OTB_NAME_DIGITS", "load_otb", "read_otb_boxes", "write_otb_boxes"]

#: Sequences whose annotation does not cover frames 1..len(groundtruth), as (first, last) 1-based frame
#: numbers from the OTB toolkit's ``configSeqs.m``. For all of them but Tiger1 the file holds one box per
#: frame of the range; Tiger1's file starts at frame 1 and its first five boxes are skipped.
OTB_FRAME_RANGES: dict[str, tuple[int, int]] = {
    "BlurCar1": (247, 988),
    "BlurCar3": (3, 359),
    "BlurCar4": (18, 397),
    "David": (300, 770),
    "Diving": (1, 215),
    "Football1": (1, 74),
    "Freeman3": (1, 460),
    "Freeman4": (1, 283),
    "Tiger1": (6, 354),
}
#: Frame-name widths other than the default 4 digits.
OTB_NAME_DIGITS: dict[str, int] = {"Board": 5}

LAYOUT = (
    "expected an OTB root: <root>/<Seq>/{img/0001.jpg..., groundtruth_rect.txt or groundtruth_rect.<k>.txt}"
)
_GT = re.compile(r"groundtruth_rect(?:\.([0-9]+))?\.txt")


def read_otb_boxes(path: str | Path) -> np.ndarray:
    """An OTB ``groundtruth_rect*.txt`` (tab, comma and/or whitespace delimited) as (N, 4) float64 ``xyxy``."""
    return read_xywh_boxes(path, what="OTB groundtruth file")


def write_otb_boxes(path: str | Path, boxes_xyxy: np.ndarray) -> Path:
    """Write (N, 4) ``xyxy`` boxes as comma-separated ``x,y,w,h`` lines (atomically)."""
    return write_text(path, format_xywh(boxes_xyxy))


def _targets(seq_dir: Path) -> list[tuple[str, Path]]:
    """(sequence name, annotation file) pairs of one OTB folder."""
    files = []
    for p in seq_dir.iterdir():
        m = _GT.fullmatch(p.name)
        if m:
            files.append((int(m.group(1)) if m.group(1) else 0, p))
    single = [p for k, p in files if k == 0]
    if single:
        return [(seq_dir.name, single[0])]
    return [(f"{seq_dir.name}.{k}", p) for k, p in sorted(files)]


def _frame_range(name: str, gt_path: Path, n: int) -> tuple[int, int, int]:
    """(first frame, last frame, boxes to skip) for a base sequence ``name`` with ``n`` boxes."""
    if name not in OTB_FRAME_RANGES:
        return 1, n, 0
    first, last = OTB_FRAME_RANGES[name]
    if n == last - first + 1:
        return first, last, 0
    if n == last and first > 1:  # the file starts at frame 1 (Tiger1)
        return first, last, first - 1
    raise FormatError(
        gt_path,
        f"{n} boxes; the OTB toolkit annotates frames {first}..{last} of {name} ({last - first + 1} boxes)",
    )


def load_otb(
    root: str | Path, sequences: Iterable[str] | None = None, check_images: bool = True
) -> list[SOTSequence]:
    """Load OTB sequences.

    Args:
        root: the OTB folder (one sub-folder a sequence).
        sequences: names to load: a folder name loads all its targets ("Jogging" -> "Jogging.1",
            "Jogging.2"), a "<Seq>.<k>" name one target. Default every folder with an ``img/`` folder and an
            annotation, sorted.
        check_images: require every frame of the annotated range to exist.

    Returns:
        :class:`SOTSequence` per target; frames cover the range of :data:`OTB_FRAME_RANGES` where listed.
    """
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, f"OTB root not found; {LAYOUT}")
    if sequences is None:
        folders = sorted(p.name for p in root.iterdir() if (p / "img").is_dir())
        wanted = None
        if not folders:
            raise FormatError(root, f"no sequence folders; {LAYOUT}")
    else:
        wanted = [str(s) for s in sequences]
        folders = list(dict.fromkeys(w if (root / w).is_dir() else w.rsplit(".", 1)[0] for w in wanted))
    out = []
    for folder in folders:
        seq_dir = root / folder
        if not seq_dir.is_dir():
            raise FormatError(seq_dir, f"sequence folder missing; {LAYOUT}")
        targets = _targets(seq_dir)
        if not targets:
            raise FormatError(seq_dir / "groundtruth_rect.txt", f"no annotation file; {LAYOUT}")
        for name, gt_path in targets:
            if wanted is not None and name not in wanted and folder not in wanted:
                continue
            out.append(_load_target(seq_dir, name, gt_path, check_images))
    if wanted is not None:
        missing = [w for w in wanted if not any(s.name == w or s.name.rsplit(".", 1)[0] == w for s in out)]
        if missing:
            raise FormatError(root / missing[0], f"no such OTB sequence or target; {LAYOUT}")
    return out


def _load_target(seq_dir: Path, name: str, gt_path: Path, check_images: bool) -> SOTSequence:
    boxes = read_otb_boxes(gt_path)
    if len(boxes) == 0:
        raise FormatError(gt_path, "no boxes")
    first, last, skip = _frame_range(seq_dir.name, gt_path, len(boxes))
    boxes = boxes[skip:]
    digits = OTB_NAME_DIGITS.get(seq_dir.name, 4)
    frames = [seq_dir / "img" / f"{t:0{digits}d}.jpg" for t in range(first, last + 1)]
    if check_images:
        check_exist(frames, first=first)
    return SOTSequence(name=name, frames=frames, boxes=boxes, absent=np.isnan(boxes).any(1))

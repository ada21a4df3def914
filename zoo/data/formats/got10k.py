"""GOT-10k layout: sequence loading, annotation writers and the result layout of the GOT-10k toolkit.

Layout::

    <root>/<split>/list.txt                       one sequence a line (GOT-10k_Val_000001 ...)
    <root>/<split>/<seq>/00000001.jpg ...         frames, 1-based, 8 digits
    <root>/<split>/<seq>/groundtruth.txt          x,y,w,h per frame (test split: only the first frame)
    <root>/<split>/<seq>/absence.label            0/1 per frame (train/val only)
    <root>/<split>/<seq>/cover.label              0..8 visible-fraction level per frame (0 = fully occluded)
    <root>/<split>/<seq>/cut_by_image.label       0/1 per frame
    <root>/<split>/<seq>/meta_info.ini            [METAINFO] then "key: value" lines (resolution: (W, H))
    <root>/<split>/<seq>/masks/00000001.png ...   ZooSynth-SOT only: palette masks of the target

Boxes are continuous ``xywh`` pixels in the files (no 1-based shift, as the GOT-10k toolkit uses them) and
``xyxy`` in :class:`~zoo.data.types.SOTSequence`.

Results (``write_results``): ``<out_dir>/<name>/<name>_001.txt`` (x,y,w,h per frame) and
``<out_dir>/<name>/<name>_time.txt`` (seconds per frame), as ``got10k.experiments.ExperimentGOT10k`` reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from zoo.data.formats._layout import check_exist, list_numbered
from zoo.data.formats._text import (
    format_rows,
    format_xywh,
    read_flags,
    read_name_list,
    read_table,
    read_xywh_boxes,
    write_name_list,
    write_text,
)
from zoo.data.formats.errors import FormatError
from zoo.data.types import SOTSequence

__all__ = [
    "load_got10k",
    "read_meta_info",
    "read_results",
    "write_groundtruth",
    "write_labels",
    "write_list",
    "write_meta_info",
    "write_results",
]

LAYOUT = (
    "expected a GOT-10k root: <root>/<split>/list.txt and <root>/<split>/<seq>/{00000001.jpg..., "
    "groundtruth.txt, absence.label, cover.label, cut_by_image.label, meta_info.ini}"
)
_RESOLUTION = re.compile(r"\(\s*([0-9]+)\s*,\s*([0-9]+)\s*\)")


def read_meta_info(path: str | Path) -> dict[str, str]:
    """``meta_info.ini`` as a dict (``[METAINFO]`` header, then ``key: value`` lines)."""
    path = Path(path)
    lines = read_name_list(path, "meta_info.ini")
    if not lines or lines[0][1] != "[METAINFO]":
        raise FormatError(path, "expected the header line [METAINFO]", line=lines[0][0] if lines else None)
    out = {}
    for lineno, s in lines[1:]:
        key, sep, value = s.partition(":")
        if not sep or not key.strip():
            raise FormatError(path, f"expected 'key: value', got {s[:60]!r}", line=lineno)
        out[key.strip()] = value.strip()
    return out


def _image_size(path: Path, meta: dict[str, str]) -> tuple[int, int] | None:
    if "resolution" not in meta:
        return None
    m = _RESOLUTION.fullmatch(meta["resolution"])
    if m is None or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise FormatError(path, f"resolution must read '(width, height)', got {meta['resolution']!r}")
    return int(m.group(1)), int(m.group(2))


def _load_one(seq_dir: Path, split: str, check_images: bool) -> SOTSequence:
    name = seq_dir.name
    if not seq_dir.is_dir():
        raise FormatError(seq_dir, f"sequence {name!r} is listed but its folder is missing; {LAYOUT}")
    gt_path = seq_dir / "groundtruth.txt"
    boxes = read_xywh_boxes(gt_path, what="groundtruth.txt")
    if len(boxes) == 0:
        raise FormatError(gt_path, "no boxes (the first frame's box is required)")
    if np.isnan(boxes[0]).any():
        raise FormatError(gt_path, "the first frame has no box", line=1)
    first_only = split == "test" or (len(boxes) == 1 and not (seq_dir / "absence.label").exists())
    if first_only or check_images:
        frames = list_numbered(seq_dir, ".jpg", start=1, digits=8)
        if not frames:
            raise FormatError(seq_dir / "00000001.jpg", "no frames")
        n = len(frames)
    else:
        n = len(boxes)
        frames = [seq_dir / f"{i:08d}.jpg" for i in range(1, n + 1)]
    if len(boxes) != n and not (first_only and len(boxes) == 1):
        raise FormatError(gt_path, f"{len(boxes)} boxes for {n} frames")
    if len(boxes) < n:
        boxes = np.concatenate([boxes, np.full((n - len(boxes), 4), np.nan)])

    def label(fname: str, high: int) -> np.ndarray | None:
        p = seq_dir / fname
        return read_flags(p, n, high=high, what=fname) if p.exists() else None

    absence = label("absence.label", 1)
    cover = label("cover.label", 8)
    label("cut_by_image.label", 1)  # validated only: SOTSequence has no field for it
    meta_path = seq_dir / "meta_info.ini"
    size = _image_size(meta_path, read_meta_info(meta_path)) if meta_path.exists() else None

    masks = None
    mask_dir = seq_dir / "masks"
    if mask_dir.is_dir():
        masks = [mask_dir / f"{i:08d}.png" for i in range(1, n + 1)]
        if check_images:
            check_exist(masks, "mask")
    return SOTSequence(
        name=name,
        frames=frames,
        boxes=boxes,
        absent=absence.astype(bool) if absence is not None else np.zeros(n, bool),
        cover=cover,
        masks=masks,
        image_size=size,
    )


def load_got10k(
    root: str | Path,
    split: str = "val",
    sequences: Iterable[str] | None = None,
    check_images: bool = True,
) -> list[SOTSequence]:
    """Load GOT-10k sequences.

    Args:
        root: the GOT-10k folder (holding ``train/``, ``val/``, ``test/``).
        split: sub-folder name.
        sequences: explicit names; default the split's ``list.txt`` (or, without one, every sub-folder that
            holds a ``groundtruth.txt``, sorted).
        check_images: list each sequence folder and require frames ``00000001.jpg`` .. without gaps, as many
            as boxes (and every mask when ``masks/`` exists).

    Returns:
        :class:`SOTSequence` per sequence: ``boxes`` NaN beyond the file's last row (test split: every frame
        but the first), ``absent`` from ``absence.label``, ``cover`` from ``cover.label`` (None without one),
        ``image_size`` from ``meta_info.ini``'s ``resolution``.
    """
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise FormatError(split_dir, f"split folder not found; {LAYOUT}")
    if sequences is not None:
        names = [str(s) for s in sequences]
    elif (split_dir / "list.txt").exists():
        names = [s for _, s in read_name_list(split_dir / "list.txt", "list.txt")]
    else:
        names = sorted(p.name for p in split_dir.iterdir() if (p / "groundtruth.txt").is_file())
        if not names:
            raise FormatError(split_dir, f"no list.txt and no sequence folders; {LAYOUT}")
    return [_load_one(split_dir / name, split, check_images) for name in names]


# ------------------------------------------------------------------------------------------------ writers
def write_groundtruth(path: str | Path, boxes_xyxy: np.ndarray) -> Path:
    """Write (N, 4) ``xyxy`` boxes as ``x,y,w,h`` lines (NaN rows as ``nan,nan,nan,nan``)."""
    return write_text(path, format_xywh(boxes_xyxy))


def write_labels(path: str | Path, values: Iterable[int] | np.ndarray) -> Path:
    """Write per-frame integer labels, one a line (``absence.label``, ``cover.label``...)."""
    v = np.asarray(values)
    if v.ndim != 1 or (v.size and (v.dtype.kind not in "iub" and not np.array_equal(v, np.round(v)))):
        raise ValueError("labels must be a 1-D sequence of integers")
    return write_text(path, format_rows([v.astype(np.int64)]))


def write_meta_info(path: str | Path, meta: Mapping[str, object]) -> Path:
    """Write ``meta_info.ini``: ``[METAINFO]`` then ``key: value`` lines (tuples as ``(a, b)``)."""
    lines = ["[METAINFO]"]
    for key, value in meta.items():
        k, v = str(key), str(value)
        if not k or ":" in k or "\n" in k + v:
            raise ValueError(f"meta keys must be non-empty without ':' and single-line, got {k!r}: {v!r}")
        lines.append(f"{k}: {v}")
    return write_text(path, "\n".join(lines) + "\n")


def write_list(path: str | Path, names: Iterable[str]) -> Path:
    """Write ``list.txt``: one sequence a line."""
    return write_name_list(path, names)


def write_results(
    out_dir: str | Path, name: str, boxes_xyxy: np.ndarray, times_s: Iterable[float] | np.ndarray
) -> Path:
    """Write one sequence's tracker output in the GOT-10k toolkit layout; returns ``<out_dir>/<name>``.

    Args:
        out_dir: the tracker's result folder.
        name: sequence name.
        boxes_xyxy: (T, 4) predicted boxes.
        times_s: (T,) seconds spent per frame.
    """
    boxes = np.asarray(boxes_xyxy, np.float64)
    times = np.asarray(times_s, np.float64).reshape(-1)
    if len(times) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(times)} times")
    if not np.isfinite(times).all() or (times < 0).any():
        raise ValueError("times must be finite and >= 0")
    seq_dir = Path(out_dir) / name
    write_text(seq_dir / f"{name}_001.txt", format_xywh(boxes))
    write_text(seq_dir / f"{name}_time.txt", format_rows([times]))
    return seq_dir


def read_results(out_dir: str | Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read back :func:`write_results`: (T, 4) ``xyxy`` boxes and (T,) seconds per frame."""
    seq_dir = Path(out_dir) / name
    boxes = read_xywh_boxes(seq_dir / f"{name}_001.txt", what="result file")
    times = read_table(seq_dir / f"{name}_time.txt", columns=(1,), what="time file").values[:, 0]
    if len(times) != len(boxes):
        raise FormatError(seq_dir / f"{name}_time.txt", f"{len(times)} times for {len(boxes)} boxes")
    return boxes, times

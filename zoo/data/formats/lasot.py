"""LaSOT layout: sequence loading.

Layout::

    <root>/<category>/<category>-<n>/img/00000001.jpg ...
    <root>/<category>/<category>-<n>/groundtruth.txt     x,y,w,h per frame
    <root>/<category>/<category>-<n>/full_occlusion.txt  one line of comma-separated 0/1 per frame
    <root>/<category>/<category>-<n>/out_of_view.txt     likewise
    <root>/testing_set.txt, <root>/training_set.txt      optional split lists (one sequence a line)

Boxes are used as the files give them (continuous ``xywh``, as the got10k toolkit and pytracking do).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from zoo.data.formats._layout import check_exist
from zoo.data.formats._text import read_flags, read_name_list, read_xywh_boxes
from zoo.data.formats.errors import FormatError
from zoo.data.types import SOTSequence

__all__ = ["SPLIT_LISTS", "load_lasot"]

SPLIT_LISTS = {"test": "testing_set.txt", "train": "training_set.txt"}
LAYOUT = (
    "expected a LaSOT root: <root>/<category>/<category>-<n>/{img/00000001.jpg..., groundtruth.txt, "
    "full_occlusion.txt, out_of_view.txt}, optional <root>/testing_set.txt and training_set.txt"
)
_NAME = re.compile(r"(.+)-([0-9]+)")


def _seq_dir(root: Path, name: str, listing: Path | None) -> Path:
    m = _NAME.fullmatch(name)
    if m is None:
        raise FormatError(listing or root, f"LaSOT sequence names read '<category>-<n>', got {name!r}")
    return root / m.group(1) / name


def _discover(root: Path) -> list[str]:
    found = []
    for cat in root.iterdir():
        if not cat.is_dir():
            continue
        for seq in cat.iterdir():
            m = _NAME.fullmatch(seq.name)
            if m and m.group(1) == cat.name and (seq / "groundtruth.txt").is_file():
                found.append((cat.name, int(m.group(2)), seq.name))
    return [name for *_, name in sorted(found)]


def _load_one(seq_dir: Path, check_images: bool) -> SOTSequence:
    if not seq_dir.is_dir():
        raise FormatError(seq_dir, f"sequence folder missing; {LAYOUT}")
    gt_path = seq_dir / "groundtruth.txt"
    boxes = read_xywh_boxes(gt_path, what="groundtruth.txt")
    n = len(boxes)
    if n == 0:
        raise FormatError(gt_path, "no boxes")
    occlusion = read_flags(seq_dir / "full_occlusion.txt", n, what="full_occlusion.txt")
    out_of_view = read_flags(seq_dir / "out_of_view.txt", n, what="out_of_view.txt")
    frames = [seq_dir / "img" / f"{i:08d}.jpg" for i in range(1, n + 1)]
    if check_images:
        check_exist(frames)
    return SOTSequence(
        name=seq_dir.name,
        frames=frames,
        boxes=boxes,
        absent=(occlusion | out_of_view).astype(bool),
    )


def load_lasot(
    root: str | Path,
    split: str | None = "test",
    sequences: Iterable[str] | None = None,
    check_images: bool = True,
) -> list[SOTSequence]:
    """Load LaSOT sequences.

    Args:
        root: the LaSOT folder (category sub-folders).
        split: ``"test"`` or ``"train"``: the sequences of ``testing_set.txt`` / ``training_set.txt`` when that
            list exists at the root; without the list (or with None) every sequence found, sorted by category
            and number.
        sequences: explicit ``<category>-<n>`` names (overrides ``split``).
        check_images: require ``img/%08d.jpg`` for every box (the error names the first missing frame).

    Returns:
        :class:`SOTSequence` per sequence; ``absent`` = full occlusion or out of view.
    """
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, f"LaSOT root not found; {LAYOUT}")
    if split is not None and split not in SPLIT_LISTS:
        raise ValueError(f"split must be 'test', 'train' or None, got {split!r}")
    listing = None
    if sequences is not None:
        names = [str(s) for s in sequences]
    elif split is not None and (root / SPLIT_LISTS[split]).is_file():
        listing = root / SPLIT_LISTS[split]
        names = [s for _, s in read_name_list(listing, SPLIT_LISTS[split])]
    else:
        names = _discover(root)
        if not names:
            raise FormatError(root, f"no sequences found; {LAYOUT}")
    return [_load_one(_seq_dir(root, name, listing), check_images) for name in names]

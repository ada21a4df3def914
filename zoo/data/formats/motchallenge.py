"""MOTChallenge layout (MOT15/16/17/20, DanceTrack, ZooSynth-MOT): readers and writers with validation.

Layout::

    <split_dir>/<seq>/seqinfo.ini        [Sequence] name, imDir, frameRate, seqLength, imWidth, imHeight, imExt
    <split_dir>/<seq>/img1/000001.jpg    frames, 1-based, 6 digits, extension from imExt
    <split_dir>/<seq>/gt/gt.txt          frame,id,left,top,width,height,consider,class,visibility
    <split_dir>/<seq>/det/det.txt        frame,-1,left,top,width,height,score,-1,-1,-1
    <seqmaps>/<name>.txt                 header line "name", then one sequence a line

Tracker results: ``frame,id,left,top,width,height,score,-1,-1,-1`` (6 to 10 columns). Left/top are 1-based
pixels in the files; :class:`~zoo.data.types.MOTRows` holds 0-based ``xyxy`` (``zoo.core.boxes.mot_to_xyxy``).

Validation (:func:`read_mot_file`) follows what TrackEval refuses or silently mishandles: column counts,
non-numbers, NaN/inf, non-integer frames/ids, width or height <= 0, frames < 1 or beyond ``seqLength``,
duplicate ids within a frame (gt, results), gt classes outside 1..13, gt visibility outside [0, 1].
MOT15-style 10-column gt carries no class/visibility (its columns 8-10 are world coordinates).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Literal

import numpy as np

from zoo.core.boxes import mot_to_xyxy, xyxy_to_mot
from zoo.core.parallel import parallel_map
from zoo.data.formats._text import (
    Table,
    check_integral,
    fail_first,
    format_rows,
    read_bytes,
    read_name_list,
    read_table,
    read_text,
    write_name_list,
    write_text,
)
from zoo.data.formats.errors import FormatError
from zoo.data.types import MOTRows, MOTSequence, SeqInfo

__all__ = [
    "GT_CLASSES",
    "MOTKind",
    "load_sequence",
    "load_split",
    "read_mot_file",
    "read_seqinfo",
    "read_seqmap",
    "write_mot_file",
    "write_seqinfo",
    "write_seqmap",
]

MOTKind = Literal["gt", "det", "results"]

#: MOTChallenge gt classes (MOT16/17/20 paper, Table 2): 1 pedestrian, 2 person on vehicle, 3 car, 4 bicycle,
#: 5 motorbike, 6 non-motorized vehicle, 7 static person, 8 distractor, 9 occluder, 10 occluder on the
#: ground, 11 occluder full, 12 reflection, 13 crowd.
GT_CLASSES = range(1, 14)

_COLUMNS: dict[str, tuple[int, ...]] = {"gt": (9, 10), "det": (7, 10), "results": (6, 7, 8, 9, 10)}

_SEQINFO_KEYS = {  # ini key -> (SeqInfo field, parser)
    "name": ("name", str),
    "imDir": ("im_dir", str),
    "frameRate": ("frame_rate", float),
    "seqLength": ("seq_length", int),
    "imWidth": ("im_width", int),
    "imHeight": ("im_height", int),
    "imExt": ("im_ext", str),
}

SEQUENCE_LAYOUT = (
    "expected a MOTChallenge sequence folder: <seq>/seqinfo.ini ([Sequence] name, imDir, frameRate, "
    "seqLength, imWidth, imHeight, imExt), <seq>/img1/000001.jpg..., optional gt/gt.txt and det/det.txt"
)
SPLIT_LAYOUT = (
    "expected a MOTChallenge split folder <split>/<seq>/{seqinfo.ini, img1/, gt/gt.txt, det/det.txt}"
)


# ---------------------------------------------------------------------------------------------- seqinfo
def read_seqinfo(path: str | Path) -> SeqInfo:
    """Parse a ``seqinfo.ini``.

    Keys are matched case-insensitively (``key=value`` or ``key: value``); other sections and keys are
    ignored. Raises :class:`FormatError` naming the key for a missing ``[Sequence]`` section, a missing key,
    or a value that is not a positive number where one is required.
    """
    path = Path(path)
    text = read_text(path, "seqinfo.ini")
    section = None
    found: dict[str, tuple[str, int]] = {}
    seen_section = False
    wanted = {k.lower(): k for k in _SEQINFO_KEYS}
    for lineno, raw in enumerate(text.split("\n"), 1):
        s = raw.strip()
        if not s or s[0] in ";#":
            continue
        if s.startswith("["):
            if not s.endswith("]"):
                raise FormatError(path, f"malformed section header {s[:40]!r}", line=lineno)
            section = s[1:-1].strip().lower()
            seen_section |= section == "sequence"
            continue
        if section != "sequence":
            continue
        key, sep, value = s.partition("=")
        if not sep:
            key, sep, value = s.partition(":")
        if not sep:
            raise FormatError(path, f"expected 'key=value', got {s[:60]!r}", line=lineno)
        k = key.strip().lower()
        if k in wanted:
            if k in found:
                raise FormatError(path, f"key {wanted[k]!r} given twice", line=lineno)
            found[k] = (value.strip(), lineno)
    if not seen_section:
        raise FormatError(path, "no [Sequence] section")
    kwargs = {}
    for key, (field, parse) in _SEQINFO_KEYS.items():
        if key.lower() not in found:
            raise FormatError(path, f"[Sequence] lacks the key {key!r}")
        value, lineno = found[key.lower()]
        if not value:
            raise FormatError(path, f"{key} is empty", line=lineno)
        if parse is str:
            kwargs[field] = value
            continue
        try:
            number = float(value)
        except ValueError:
            raise FormatError(path, f"{key} must be a number, got {value!r}", line=lineno) from None
        if not np.isfinite(number) or number <= 0:
            raise FormatError(path, f"{key} must be a positive number, got {value!r}", line=lineno)
        if parse is int:
            if number != int(number):
                raise FormatError(path, f"{key} must be an integer, got {value!r}", line=lineno)
            number = int(number)
        kwargs[field] = number
    if not kwargs["im_ext"].startswith("."):
        raise FormatError(
            path, f"imExt must start with '.', got {kwargs['im_ext']!r}", line=found["imext"][1]
        )
    return SeqInfo(**kwargs)


def write_seqinfo(path: str | Path, info: SeqInfo) -> Path:
    """Write ``info`` as a MOTChallenge ``seqinfo.ini`` (atomically)."""
    rate = info.frame_rate
    rate_s = str(int(rate)) if float(rate).is_integer() else repr(float(rate))
    text = (
        "[Sequence]\n"
        f"name={info.name}\n"
        f"imDir={info.im_dir}\n"
        f"frameRate={rate_s}\n"
        f"seqLength={int(info.seq_length)}\n"
        f"imWidth={int(info.im_width)}\n"
        f"imHeight={int(info.im_height)}\n"
        f"imExt={info.im_ext}\n"
    )
    return write_text(path, text)


# -------------------------------------------------------------------------------------------- rows files
def read_mot_file(path: str | Path, kind: MOTKind, seq_info: SeqInfo | None = None) -> MOTRows:
    """Read a MOTChallenge gt, det or tracker-results text file.

    Args:
        path: the text file (comma- or whitespace-separated).
        kind: ``"gt"`` (9 columns, or 10 for MOT15-style), ``"det"`` (10, or 7) or ``"results"`` (6..10).
        seq_info: when given, frames beyond ``seq_info.seq_length`` are errors.

    Returns:
        :class:`MOTRows` in file order: boxes 0-based ``xyxy`` float64; ``scores`` = column 7 (1.0 where a
        results file has only 6 columns); ``classes`` = gt column 8 / results column 8, else -1;
        ``visibility`` = 9-column gt column 9, else -1. An empty file gives zero rows.

    Raises:
        FormatError: see the module docstring; the message names the file, line and problem.
    """
    if kind not in _COLUMNS:
        raise ValueError(f"kind must be 'gt', 'det' or 'results', got {kind!r}")
    path = Path(path)
    what = f"MOT {kind} file"
    data = read_bytes(path, what)
    # MOT17 ships every sequence's gt.txt three times (one folder per public detector): identical bytes
    # parse to identical rows, so they are parsed and validated once per process.
    key = (hashlib.blake2b(data, digest_size=16).digest(), kind, None if seq_info is None else seq_info.seq_length)
    cached = _PARSED.get(key)
    if cached is not None:
        _PARSED.move_to_end(key)
        return _copy_rows(cached)
    rows = _parse_mot_rows(path, read_table(path, columns=_COLUMNS[kind], what=what, data=data), kind, seq_info)
    _remember(key, rows)
    return _copy_rows(rows)


# Parsed files by (content digest, kind, seqLength), least recently used first, bounded in rows.
_PARSED: OrderedDict[tuple[bytes, str, int | None], MOTRows] = OrderedDict()
_PARSED_MAX_ROWS = 2_000_000  # about 160 MB of arrays


def _remember(key: tuple[bytes, str, int | None], rows: MOTRows) -> None:
    _PARSED[key] = rows
    while len(_PARSED) > 1 and sum(len(r) for r in _PARSED.values()) > _PARSED_MAX_ROWS:
        _PARSED.popitem(last=False)


def _copy_rows(rows: MOTRows) -> MOTRows:
    """A private copy (callers may edit their arrays in place)."""
    return MOTRows(**{f.name: getattr(rows, f.name).copy() for f in dataclasses.fields(rows)})


def _parse_mot_rows(path: Path, table: Table, kind: MOTKind, seq_info: SeqInfo | None) -> MOTRows:
    n = len(table)
    if n == 0:
        return MOTRows.empty()
    v = table.values
    frames = check_integral(path, table, 0, "frame")
    ids = check_integral(path, table, 1, "id")
    fail_first(path, table, frames < 1, lambda i: f"frame {frames[i]} < 1 (frames are 1-based)")
    if seq_info is not None:
        fail_first(
            path,
            table,
            frames > seq_info.seq_length,
            lambda i: f"frame {frames[i]} is beyond seqLength={seq_info.seq_length}",
        )
    w, h = v[:, 4], v[:, 5]
    fail_first(path, table, w <= 0, lambda i: f"width must be > 0, got {float(w[i])!r}")
    fail_first(path, table, h <= 0, lambda i: f"height must be > 0, got {float(h[i])!r}")

    ncols = table.ncols
    scores = v[:, 6].copy() if ncols >= 7 else np.ones(n, np.float64)
    classes = np.full(n, -1, np.int64)
    visibility = np.full(n, -1.0, np.float64)
    if kind == "gt" and ncols == 9:
        classes = check_integral(path, table, 7, "class")
        fail_first(
            path,
            table,
            (classes < GT_CLASSES.start) | (classes >= GT_CLASSES.stop),
            lambda i: f"gt class {classes[i]} is outside 1..13",
        )
        visibility = v[:, 8].copy()
        fail_first(
            path,
            table,
            (visibility < 0) | (visibility > 1),
            lambda i: f"visibility {float(visibility[i])!r} is outside [0, 1]",
        )
    elif kind == "results" and ncols >= 8:
        classes = check_integral(path, table, 7, "class")
    if kind in ("gt", "results"):
        _check_unique_ids(path, table, frames, ids)
    return MOTRows(
        frames=frames,
        ids=ids,
        boxes=mot_to_xyxy(np.ascontiguousarray(v[:, 2:6])),
        scores=scores,
        classes=classes,
        visibility=visibility,
    )


def _check_unique_ids(path: Path, table: Table, frames: np.ndarray, ids: np.ndarray) -> None:
    order = np.lexsort((table.lines, ids, frames))
    f, t = frames[order], ids[order]
    dup = np.flatnonzero((f[1:] == f[:-1]) & (t[1:] == t[:-1]))
    if dup.size:
        # Report the later of the two lines: the one a user would delete.
        first, second = order[dup[0]], order[dup[0] + 1]
        bad = np.zeros(len(table), bool)
        bad[second] = True
        fail_first(
            path,
            table,
            bad,
            f"duplicate id {ids[second]} in frame {frames[second]} (also on line {table.lines[first]})",
        )


def write_mot_file(path: str | Path, rows: MOTRows, kind: MOTKind) -> Path:
    """Write ``rows`` in the official MOTChallenge layout for ``kind`` (atomically).

    - gt: ``frame,id,left,top,w,h,consider,class,visibility`` (consider = ``rows.scores``);
    - det: ``frame,-1,left,top,w,h,score,-1,-1,-1``;
    - results: ``frame,id,left,top,w,h,score,-1,-1,-1``.

    Left/top are 1-based. Numbers are written in shortest round-trip form, so :func:`read_mot_file`
    parses exactly the numbers written; box coordinates themselves pass through ``xyxy <-> xywh``
    float arithmetic, which can move the last bit (a file read and written back may differ by 1 ulp). Raises ``ValueError`` for rows that would not read back (non-finite
    numbers, width/height <= 0, frame < 1).
    """
    if kind not in _COLUMNS:
        raise ValueError(f"kind must be 'gt', 'det' or 'results', got {kind!r}")
    n = len(rows)
    xywh = xyxy_to_mot(np.asarray(rows.boxes, np.float64).reshape(n, 4))
    if not np.isfinite(xywh).all() or not np.isfinite(np.asarray(rows.scores, np.float64)).all():
        raise ValueError("rows contain NaN or inf")
    if n and (xywh[:, 2:] <= 0).any():
        raise ValueError("rows contain boxes with width or height <= 0")
    frames = np.asarray(rows.frames, np.int64)
    if n and frames.min() < 1:
        raise ValueError("frames must be >= 1")
    if kind == "gt" and n:
        classes, vis = np.asarray(rows.classes), np.asarray(rows.visibility, np.float64)
        if ((classes < GT_CLASSES.start) | (classes >= GT_CLASSES.stop)).any():
            raise ValueError("gt classes must lie in 1..13")
        if not ((vis >= 0) & (vis <= 1)).all():
            raise ValueError("gt visibility must lie in [0, 1]")
    minus = np.full(n, -1, np.int64)
    if kind == "gt":
        cols = [frames, rows.ids, *xywh.T, rows.scores, rows.classes, rows.visibility]
    elif kind == "det":
        cols = [frames, minus, *xywh.T, rows.scores, minus, minus, minus]
    else:
        cols = [frames, rows.ids, *xywh.T, rows.scores, minus, minus, minus]
    return write_text(path, format_rows(cols))


# ---------------------------------------------------------------------------------------------- seqmaps
def read_seqmap(path: str | Path) -> list[str]:
    """Sequence names of a TrackEval seqmap (first line the header ``name``)."""
    path = Path(path)
    lines = read_name_list(path, "seqmap")
    if not lines or lines[0][1].lower() != "name":
        raise FormatError(
            path, "a seqmap starts with the header line 'name'", line=lines[0][0] if lines else None
        )
    names = []
    seen: dict[str, int] = {}
    for lineno, s in lines[1:]:
        name = s.split(",")[0].strip()
        if not name or any(c.isspace() for c in name):
            raise FormatError(path, f"not a sequence name: {s[:60]!r}", line=lineno)
        if name in seen:
            raise FormatError(
                path, f"sequence {name!r} listed twice (first on line {seen[name]})", line=lineno
            )
        seen[name] = lineno
        names.append(name)
    if not names:
        raise FormatError(path, "the seqmap lists no sequences")
    return names


def write_seqmap(path: str | Path, names: list[str]) -> Path:
    """Write a TrackEval seqmap: ``name`` header, then one sequence a line."""
    return write_name_list(path, names, header="name")


# --------------------------------------------------------------------------------------------- sequences
def _frame_digits(folder: Path, info: SeqInfo) -> int:
    """6 for MOTChallenge (``000001.jpg``), 8 for DanceTrack (``00000001.jpg``): whichever first frame exists."""
    for digits in (6, 8):
        if (folder / f"{1:0{digits}d}{info.im_ext}").exists():
            return digits
    return 6


def _check_frames(folder: Path, info: SeqInfo, seqinfo_path: Path, digits: int) -> None:
    if not folder.is_dir():
        raise FormatError(folder, f"image folder (imDir={info.im_dir!r}) not found; {SEQUENCE_LAYOUT}")
    try:
        present = set(p.name for p in folder.iterdir())
    except OSError as exc:
        raise FormatError(folder, f"cannot list image folder: {exc.strerror or exc}") from exc
    for t in range(1, info.seq_length + 1):
        name = f"{t:0{digits}d}{info.im_ext}"
        if name not in present:
            raise FormatError(
                folder / name, f"missing image (seqLength={info.seq_length} in {seqinfo_path.name})", frame=t
            )


def load_sequence(
    seq_dir: str | Path, *, load_gt: bool = True, load_det: bool = True, check_images: bool = True
) -> MOTSequence:
    """Load one sequence folder.

    ``gt`` / ``det`` are None when not requested or when ``gt/gt.txt`` / ``det/det.txt`` do not exist (test
    splits). Rows are validated against ``seqLength``. With ``check_images`` every frame
    ``<imDir>/%06d<imExt>`` (``%08d`` for DanceTrack) for 1..seqLength must exist (the error names the first missing frame).
    """
    seq_dir = Path(seq_dir)
    ini = seq_dir / "seqinfo.ini"
    if not ini.is_file():
        raise FormatError(ini, f"missing seqinfo.ini; {SEQUENCE_LAYOUT}")
    info = read_seqinfo(ini)
    gt_path, det_path = seq_dir / "gt" / "gt.txt", seq_dir / "det" / "det.txt"
    gt = read_mot_file(gt_path, "gt", info) if load_gt and gt_path.exists() else None
    det = read_mot_file(det_path, "det", info) if load_det and det_path.exists() else None
    digits = _frame_digits(seq_dir / info.im_dir, info)
    if check_images:
        _check_frames(seq_dir / info.im_dir, info, ini, digits)
    return MOTSequence(root=seq_dir, info=info, gt=gt, det=det, frame_digits=digits)


def load_split(
    split_dir: str | Path, seqmap: str | Path | list[str] | None = None, *, workers: int = 1, **kw: bool
) -> list[MOTSequence]:
    """Load the sequences of a split folder.

    Args:
        split_dir: e.g. ``MOT17/train``.
        seqmap: a seqmap file, a list of sequence names, or None for every sub-folder holding a
            ``seqinfo.ini`` (sorted by name).
        workers: processes reading the sequences' files (:func:`zoo.core.parallel.parallel_map`).
        **kw: passed to :func:`load_sequence` (``load_gt``, ``load_det``, ``check_images``).
    """
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise FormatError(split_dir, f"split folder not found; {SPLIT_LAYOUT}")
    if seqmap is None:
        names = sorted(p.name for p in split_dir.iterdir() if (p / "seqinfo.ini").is_file())
        if not names:
            raise FormatError(split_dir, f"no sequence folders (none holds a seqinfo.ini); {SPLIT_LAYOUT}")
    elif isinstance(seqmap, (str, Path)):
        names = read_seqmap(seqmap)
    else:
        names = [str(n) for n in seqmap]
    for name in names:
        if not (split_dir / name).is_dir():
            raise FormatError(
                split_dir / name, f"sequence {name!r} is listed but its folder is missing; {SPLIT_LAYOUT}"
            )
    return parallel_map(lambda _, name: load_sequence(split_dir / name, **kw), names, workers)

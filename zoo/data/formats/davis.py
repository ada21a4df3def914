"""DAVIS 2016/2017 layout: palette masks, ImageSets lists and sequence loading.

Layout::

    <root>/JPEGImages/{480p,Full-Resolution}/<seq>/00000.jpg ...
    <root>/Annotations/{480p,Full-Resolution}/<seq>/00000.png ...   palette PNGs: 0 background, k object k,
                                                                       255 void (2017); 2016 files are 0/255
    <root>/ImageSets/{2016,2017}/{train,val,test-dev}.txt           one sequence a line

Train/val sequences annotate every frame; test-dev/challenge sequences only frame 0.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from zoo.core.atomic import atomic_save
from zoo.data.formats._text import read_name_list, write_name_list
from zoo.data.formats.errors import FormatError
from zoo.data.types import VOSSequence

__all__ = [
    "DAVIS_PALETTE",
    "load_davis",
    "load_davis_frames",
    "read_imageset",
    "read_palette_mask",
    "PaletteMaskFrames",
    "write_imageset",
    "write_palette_mask",
]


def _voc_palette() -> np.ndarray:
    """The PASCAL VOC colour map that DAVIS ships in its PNGs: bit k of the label goes to bit 7 - k // 3 of
    channel k % 3 (1 -> (128, 0, 0), 2 -> (0, 128, 0), 255 -> (224, 224, 192))."""
    labels = np.arange(256)
    pal = np.zeros((256, 3), np.int64)
    for k in range(8):
        for ch in range(3):
            pal[:, ch] |= ((labels >> (3 * k + ch)) & 1) << (7 - k)
    return pal.astype(np.uint8)


#: (256, 3) uint8 palette of the DAVIS annotation PNGs.
DAVIS_PALETTE: np.ndarray = _voc_palette()
DAVIS_PALETTE.setflags(write=False)

LAYOUT = (
    "expected a DAVIS root: JPEGImages/<resolution>/<seq>/00000.jpg, Annotations/<resolution>/<seq>/00000.png, "
    "ImageSets/<year>/<split>.txt"
)


# ------------------------------------------------------------------------------------------------- masks
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

try:  # zlib-ng's inflate: ~4x zlib's, 1.5x ISA-L's on mask PNGs (1.06 / 0.39 -> 0.25 ms at 480x854), same bytes
    from zlib_ng.zlib_ng import decompress as _inflate
except ImportError:  # a platform without zlib-ng wheels
    _inflate = zlib.decompress


def _plain_palette_png(data: bytes) -> np.ndarray | None:
    """:func:`_plain_palette_view` as a writable, contiguous array of its own."""
    view = _plain_palette_view(data)
    return None if view is None else view.copy()


def _plain_palette_view(data: bytes) -> np.ndarray | None:
    """(H, W) palette indices of an 8-bit, non-interlaced palette PNG whose rows all use filter 0, else None;
    a read-only view into the inflated buffer.

    That is how Pillow writes DAVIS-style masks, and decoding it is one inflate and a reshape: about 0.3 ms
    at 480x854 with zlib-ng (1.2 ms with zlib) against Pillow's 1.75 ms; decoding was most of the time
    re-scoring a VOS benchmark took. Chunk CRCs are checked as Pillow checks them; anything else (other bit depths or colour types,
    interlacing, other row filters, a truncated or corrupt file) returns None and Pillow reads the file.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    pos, size, idat, header = 8, len(data), [], None
    while pos + 12 <= size:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        end = pos + 8 + length
        if end + 4 > size:
            return None
        body = data[pos + 8 : end]
        if zlib.crc32(body, zlib.crc32(kind)) != struct.unpack_from(">I", data, end)[0]:
            return None
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos = end + 4
    else:
        return None  # no IEND: truncated
    if header is None or not idat:
        return None
    width, height, depth, colour, compression, filtering, interlace = header
    if (depth, colour, compression, filtering, interlace) != (8, 3, 0, 0, 0) or width == 0 or height == 0:
        return None
    try:
        raw = _inflate(b"".join(idat), bufsize=height * (width + 1))  # one allocation, no regrowth
    except Exception:  # noqa: BLE001 - zlib.error / zlib-ng's error: a corrupt stream is Pillow's to report
        return None
    if len(raw) != height * (width + 1):
        return None
    rows = np.frombuffer(raw, np.uint8).reshape(height, width + 1)
    if rows[:, 0].any():
        return None  # Sub/Up/Average/Paeth rows: Pillow undoes them
    return rows[:, 1:]  # a read-only view of the inflated rows: callers copy it where they keep it


def _open(path: Path) -> Image.Image:
    if not path.is_file():
        raise FormatError(path, "mask file not found")
    try:
        img = Image.open(path)
        img.load()
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... for broken files
        raise FormatError(path, f"unreadable image: {exc}") from exc
    return img


def read_palette_mask(path: str | Path, *, merge_objects: bool = False) -> np.ndarray:
    """Read a DAVIS annotation as label indices.

    Args:
        path: a palette (``P``) PNG; a binary grey (``L`` with only 0/255, or ``1``) PNG as in DAVIS 2016 is
            read as object 1 on background 0.
        merge_objects: map every object label (1..254) to 1, keeping 0 and void 255 (DAVIS 2016 evaluation on
            2017 multi-object files).

    Returns:
        (H, W) uint8 labels (0 background, 255 void).

    Raises:
        FormatError: missing/unreadable/truncated file, an RGB or other non-palette mode, or a grey image that
        is not binary.
    """
    path = Path(path)
    try:
        mask = _plain_palette_png(path.read_bytes())
    except OSError:
        mask = None  # missing or unreadable: _open names the problem
    if mask is not None:
        return np.where((mask > 0) & (mask < 255), np.uint8(1), mask) if merge_objects else mask
    img = _open(path)
    if img.mode == "P":
        mask = np.asarray(img, dtype=np.uint8)
    elif img.mode in ("L", "1"):
        raw = np.asarray(img.convert("L"), dtype=np.uint8)
        bad = (raw != 0) & (raw != 255)
        if bad.any():
            y, x = np.argwhere(bad)[0]
            raise FormatError(
                path,
                f"grey mask is not binary 0/255 (value {raw[y, x]} at x={x}, y={y}); expected a palette PNG",
            )
        mask = (raw == 255).astype(np.uint8)
    else:
        raise FormatError(path, f"expected a palette ('P') PNG mask, got mode {img.mode!r}")
    if mask.ndim != 2:
        raise FormatError(path, f"expected a 2-D mask, got shape {mask.shape}")
    if merge_objects:
        mask = np.where((mask > 0) & (mask < 255), np.uint8(1), mask)
    return mask


def _read_palette_view(path: str) -> np.ndarray:
    """:func:`read_palette_mask` without its copy where the fast path applies (a read-only view)."""
    try:
        with open(path, "rb") as handle:  # builtin open on a str: pathlib's own overhead was ~10 % here
            mask = _plain_palette_view(handle.read())
    except OSError:
        mask = None  # missing or unreadable: read_palette_mask names the problem
    return read_palette_mask(path) if mask is None else mask


class PaletteMaskFrames(Sequence[np.ndarray]):
    """DAVIS annotations read lazily: indexing frame t reads and decodes its file then, as
    :func:`read_palette_mask` does (merging nothing), into a read-only (H, W) uint8 array; slices stay lazy.

    Re-scoring reads each mask of a benchmark once and drops it after scoring its frame: a per-frame copy
    plus a ``np.stack`` (or holding every inflated buffer alive, each on fresh pages) cost a quarter of the
    time the whole scoring took at 480p. :func:`zoo.metrics.vos.jf_sequence` takes this as it is.

    Raises (on indexing):
        FormatError: as :func:`read_palette_mask`.
    """

    def __init__(self, paths: Sequence[str | os.PathLike]) -> None:
        self.paths = [os.fspath(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index):  # type: ignore[override]  # int -> array, slice -> PaletteMaskFrames
        if isinstance(index, slice):
            return PaletteMaskFrames(self.paths[index])
        return _read_palette_view(self.paths[index])


def write_palette_mask(path: str | Path, mask: np.ndarray, palette: np.ndarray = DAVIS_PALETTE) -> Path:
    """Write (H, W) integer labels in 0..255 as a palette PNG (atomically)."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype.kind not in "iub":
        raise ValueError(f"mask must be a 2-D integer array, got {mask.dtype} {mask.shape}")
    if mask.size and (mask.min() < 0 or mask.max() > 255):
        raise ValueError("mask labels must lie in 0..255")
    palette = np.asarray(palette, np.uint8)
    if palette.ndim != 2 or palette.shape[1] != 3 or not 1 <= palette.shape[0] <= 256:
        raise ValueError(f"palette must be (K<=256, 3) uint8, got {palette.shape}")
    img = Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8))  # mode L ...
    img.putpalette(palette.tobytes())  # ... becomes P
    return atomic_save(path, lambda handle: img.save(handle, format="PNG"))


# -------------------------------------------------------------------------------------------- imagesets
def read_imageset(path: str | Path) -> list[str]:
    """Sequence names of an ``ImageSets/<year>/<split>.txt``.

    Accepts the 2017 form (one name a line) and the original 2016 form (per-frame lines
    ``/JPEGImages/480p/<seq>/00000.jpg /Annotations/480p/<seq>/00000.png``), whose names are deduplicated
    in order of appearance.
    """
    path = Path(path)
    names: list[str] = []
    seen: set[str] = set()
    for lineno, s in read_name_list(path, "ImageSets file"):
        first = s.split()[0]
        if "/" in first:
            parts = [p for p in first.split("/") if p]
            if len(parts) < 3 or parts[0] != "JPEGImages":
                raise FormatError(
                    path, f"expected '/JPEGImages/<res>/<seq>/<frame>' or a name, got {s[:80]!r}", line=lineno
                )
            name = parts[2]
        else:
            if len(s.split()) != 1:
                raise FormatError(path, f"expected one sequence name, got {s[:80]!r}", line=lineno)
            name = first
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def write_imageset(path: str | Path, names: Iterable[str]) -> Path:
    """Write a 2017-style ImageSets list (one sequence a line)."""
    return write_name_list(path, names)


# ---------------------------------------------------------------------------------------------- loading
def _numbered(folder: Path, ext: str, what: str) -> list[Path]:
    """Files ``00000<ext>, 00001<ext>...`` of ``folder``; gaps and stray names are errors."""
    try:
        names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ext)
    except OSError as exc:
        raise FormatError(folder, f"cannot list {what} folder: {exc.strerror or exc}") from exc
    for i, name in enumerate(names):
        stem = name[: -len(ext)]
        if not stem.isascii() or not stem.isdigit():
            raise FormatError(folder / name, f"{what} file names must be frame numbers like 00000{ext}")
        if int(stem) != i:
            raise FormatError(folder / f"{i:05d}{ext}", f"missing {what} (the folder jumps to {name})")
    return [folder / n for n in names]


def _size(path: Path) -> tuple[tuple[int, int], str]:
    try:
        with Image.open(path) as img:  # reads the header only
            return img.size, img.mode
    except Exception as exc:  # Pillow's error types vary by format
        raise FormatError(path, f"unreadable image: {exc}") from exc


def _load_one(root: Path, name: str, resolution: str, check_images: bool) -> VOSSequence:
    img_dir = root / "JPEGImages" / resolution / name
    ann_dir = root / "Annotations" / resolution / name
    if not img_dir.is_dir():
        raise FormatError(img_dir, f"sequence {name!r}: frame folder not found; {LAYOUT}")
    if not ann_dir.is_dir():
        raise FormatError(ann_dir, f"sequence {name!r}: annotation folder not found; {LAYOUT}")
    frames = _numbered(img_dir, ".jpg", "frame")
    if not frames:
        raise FormatError(img_dir, "no frames (00000.jpg ...)")
    anns = _numbered(ann_dir, ".png", "annotation")
    if not anns:
        raise FormatError(ann_dir / "00000.png", "the first frame has no annotation")
    if len(anns) > len(frames):
        raise FormatError(anns[len(frames)], f"annotation beyond the last frame ({len(frames)} frames)")
    if 1 < len(anns) < len(frames):
        raise FormatError(
            ann_dir / f"{len(anns):05d}.png",
            f"missing annotation: {len(anns)} of {len(frames)} frames annotated "
            "(expected all, or only frame 00000)",
        )
    if check_images:
        size0 = None
        for i, f in enumerate(frames):
            size, _ = _size(f)
            if size0 is None:
                size0 = size
            elif size != size0:
                raise FormatError(f, f"frame size {size} differs from the first frame's {size0}")
            if i < len(anns):
                asize, mode = _size(anns[i])
                if mode not in ("P", "L", "1"):
                    raise FormatError(anns[i], f"expected a palette ('P') PNG, got mode {mode!r}")
                if asize != size:
                    raise FormatError(anns[i], f"annotation size {asize} differs from the frame's {size}")
    return VOSSequence(name=name, frames=frames, annotations=dict(enumerate(anns)))


def load_davis(
    root: str | Path,
    split: str = "val",
    year: str = "2017",
    resolution: str = "480p",
    sequences: Iterable[str] | None = None,
    check_images: bool = True,
) -> list[VOSSequence]:
    """Load DAVIS sequences.

    Args:
        root: the DAVIS folder.
        split: ``train``, ``val``, ``test-dev``... (``ImageSets/<year>/<split>.txt``); ignored when
            ``sequences`` is given.
        year: ``"2016"`` or ``"2017"`` (which ImageSets list). For 2016 evaluation on 2017 multi-object files,
            read masks with ``read_palette_mask(path, merge_objects=True)``.
        resolution: ``480p`` or ``Full-Resolution``.
        sequences: explicit sequence names.
        check_images: open every frame and annotation header: sizes must agree, masks must be palette PNGs.

    Returns:
        one :class:`VOSSequence` per sequence, ``annotations`` keyed by 0-based frame index.
    """
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, f"DAVIS root not found; {LAYOUT}")
    if sequences is None:
        imageset = root / "ImageSets" / str(year) / f"{split}.txt"
        if not imageset.is_file():
            raise FormatError(imageset, f"ImageSets list not found; {LAYOUT}")
        names = read_imageset(imageset)
    else:
        names = [str(s) for s in sequences]
    return [_load_one(root, name, resolution, check_images) for name in names]


def load_davis_frames(
    root: str | Path, split: str = "train", year: str = "2017", resolution: str = "480p"
) -> list[VOSSequence]:
    """Frames of a DAVIS split without annotations, for unlabelled training.

    Reads only ``ImageSets/<year>/<split>.txt`` and lists ``JPEGImages/<resolution>/<seq>/``: no mask file
    is opened, not even its header (:func:`load_davis` checks masks), so training provably sees no label.

    Returns:
        one :class:`VOSSequence` per listed sequence, ``annotations`` empty.

    Raises:
        FormatError: missing root, ImageSets list or frame folder, or a frame folder without frames.
    """
    root = Path(root)
    if not root.is_dir():
        raise FormatError(root, f"DAVIS root not found; {LAYOUT}")
    imageset = root / "ImageSets" / str(year) / f"{split}.txt"
    if not imageset.is_file():
        raise FormatError(imageset, f"ImageSets list not found; {LAYOUT}")
    out = []
    for name in read_imageset(imageset):
        img_dir = root / "JPEGImages" / resolution / name
        if not img_dir.is_dir():
            raise FormatError(img_dir, f"sequence {name!r}: frame folder not found; {LAYOUT}")
        frames = _numbered(img_dir, ".jpg", "frame")
        if not frames:
            raise FormatError(img_dir, "no frames (00000.jpg ...)")
        out.append(VOSSequence(name=name, frames=frames))
    return out

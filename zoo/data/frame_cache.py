"""Decoded-frame cache for video files: each file is decoded once into a folder of JPEG frames, reused for as
long as the file is unchanged.

Training clips read a handful of frames out of a video at random positions, thousands of times an epoch;
seeking in a compressed stream for every clip would decode whole groups of pictures per frame (or a long
video from its start). So a video file is decoded once, streamed frame by frame (memory: one frame), into
``<cache>/<file name>-<key>/`` holding ``000000.jpg, 000001.jpg ...`` and ``frames.json``:
``{"source", "size", "mtime_ns", "frames", "version"}``.

The key is the first 12 hex digits of SHA-1 over (cache format version, file size in bytes, modification
time in ns), the change test ``make`` and ``rsync`` use: a re-encoded or replaced video gets a new key and is
decoded again, and the entries of its older versions are removed. Hashing the contents would read every
byte of every video at every start. A file rewritten with the same size and mtime is not noticed (delete its
entry to force a re-decode).

An entry is written to a hidden temporary folder beside it and renamed into place when complete (frames
written with :func:`zoo.core.video.write_frame_folder`, manifest last), so an interrupted decode never leaves
a half-filled entry under the final name, and ranks decoding the same file at once all end up with one
complete copy. JPEG quality 95: the source is lossy already and frames feed random crops and colour
augmentation.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from zoo.core.atomic import atomic_write_text
from zoo.core.video import list_frames, read_frames, write_frame_folder
from zoo.data.formats.errors import FormatError

__all__ = ["CACHE_VERSION", "MANIFEST", "cached_frames", "content_key", "decode_to_cache", "entry_dir"]

#: bump when the decoded output changes (pattern, quality, colour handling): every entry is then re-decoded
CACHE_VERSION = 1
MANIFEST = "frames.json"
_PATTERN = "{:06d}.jpg"
_KEY_HEX = 12


def content_key(video: Path) -> str:
    """12 hex digits identifying the current version of ``video`` (size and mtime; see the module doc)."""
    st = video.stat()
    return hashlib.sha1(f"{CACHE_VERSION}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:_KEY_HEX]


def entry_dir(cache: Path, video: Path) -> Path:
    """The cache folder of the current version of ``video``."""
    return cache / f"{video.name}-{content_key(video)}"


def _read_manifest(entry: Path) -> dict | None:
    try:
        doc = json.loads((entry / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def cached_frames(cache: Path, video: Path) -> list[Path] | None:
    """Frame paths of a complete entry for the current version of ``video``, else None (not decoded yet,
    or an entry whose frame count disagrees with its manifest, e.g. frames deleted by hand)."""
    entry = entry_dir(cache, video)
    doc = _read_manifest(entry)
    if doc is None or doc.get("version") != CACHE_VERSION:
        return None
    frames = list_frames(entry)
    return frames if len(frames) == doc.get("frames") else None


def _counted(frames: Iterator[np.ndarray], on_frame: Callable[[int], None] | None) -> Iterator[np.ndarray]:
    for n, frame in enumerate(frames, start=1):
        yield frame
        if on_frame is not None:
            on_frame(n)


def _remove_stale(cache: Path, video: Path, keep: Path) -> None:
    """Delete entries of older versions of ``video`` (same file name, another key)."""
    stale = re.compile(re.escape(video.name) + f"-[0-9a-f]{{{_KEY_HEX}}}")
    for entry in cache.iterdir():
        if entry != keep and entry.is_dir() and stale.fullmatch(entry.name):
            shutil.rmtree(entry, ignore_errors=True)


def decode_to_cache(
    video: Path, cache: Path, *, on_frame: Callable[[int], None] | None = None
) -> tuple[list[Path], bool]:
    """The decoded frames of ``video``, decoding it into ``cache`` unless a complete entry exists.

    Args:
        video: a video file OpenCV (or, for .gif, Pillow) decodes.
        cache: the cache folder (created if missing).
        on_frame: called with the running frame count after each decoded frame (progress display).

    Returns:
        (frame paths in temporal order, whether the file was decoded now (False: cache hit)).

    Raises:
        FormatError: the file cannot be opened or holds no decodable frame (nothing is cached then).
        OSError: the cache cannot be written (disk full, read-only folder).
    """
    hit = cached_frames(cache, video)
    if hit is not None:
        return hit, False
    entry = entry_dir(cache, video)
    st = video.stat()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=cache))
    try:
        frames = write_frame_folder(tmp, _counted(read_frames(video), on_frame), pattern=_PATTERN)
        if not frames:  # read_frames raises for an empty video; a GIF without frames ends up here
            raise FormatError(video, "video contains no decodable frames")
        doc = {
            "source": video.name,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "frames": len(frames),
            "version": CACHE_VERSION,
        }
        atomic_write_text(tmp / MANIFEST, json.dumps(doc, indent=1) + "\n")
        if cached_frames(cache, video) is None:  # not installed by another process meanwhile
            if entry.exists():  # a broken entry (no manifest, frames deleted by hand): replace it
                shutil.rmtree(entry)
            try:
                os.replace(tmp, entry)
            except OSError:
                # another process installed the same entry between the check and the rename: use theirs
                if cached_frames(cache, video) is None:
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _remove_stale(cache, video, entry)
    frames = cached_frames(cache, video)
    if frames is None:
        raise OSError(f"frame cache entry {entry} vanished right after it was written")
    return frames, True

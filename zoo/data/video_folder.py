"""A plain folder of a user's own videos as unlabelled training sequences (benchmarks ``videos``/``folder``).

Layout: ``<root>/<name>.{mp4,avi,mov,mkv,webm,gif}`` video files (extension case-insensitive) and/or
``<root>/<video>/<frames>.{jpg,jpeg,png}`` sub-folders of frames (naturally sorted: ``2.jpg`` before
``10.jpg``). Hidden entries (``.name``) and other files are ignored; nothing below the first level is read.

Video files are decoded once into the frame cache (:mod:`zoo.data.frame_cache`; default
``<root>/.zoo_frames/``, or ``<frame_cache>/<root name>-<hash of its path>/`` so that one cache folder can
serve several roots), so every source ends up as a folder of frames that
:class:`~zoo.data.datasets.VideoClipDataset` reads a few frames of at a time.

Bad sources are skipped with a :class:`SkippedVideoWarning` naming the file: a video OpenCV cannot open
(corrupt, truncated before its first frame, unsupported codec), one with no decodable frame, and any source
with fewer than :data:`MIN_FRAMES` frames, which cannot give a clip of two different frames (a frame gap
needs two). Frame folders are not decoded up front (a broken image raises when a clip reads it). When no
source is usable, :func:`load_video_folder` raises a :class:`~zoo.data.formats.errors.FormatError` naming
the folder and why each entry was rejected.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from zoo.core.video import IMAGE_EXTS, list_frames
from zoo.data.formats.errors import FormatError
from zoo.data.frame_cache import cached_frames, decode_to_cache
from zoo.data.types import VOSSequence

__all__ = [
    "CACHE_DIRNAME",
    "LAYOUT",
    "MIN_FRAMES",
    "VIDEO_FILE_EXTS",
    "Rejected",
    "SkippedVideoWarning",
    "frame_cache_dir",
    "has_sources",
    "load_video_folder",
]

VIDEO_FILE_EXTS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
#: fewest frames a usable source has: a training clip needs two different frames (one gap)
MIN_FRAMES = 2
CACHE_DIRNAME = ".zoo_frames"
LAYOUT = (
    f"<root>/<name>{{{','.join(VIDEO_FILE_EXTS)}}} video files and/or <root>/<video>/<frames>"
    f"{{{','.join(IMAGE_EXTS)}}} folders of frames (unlabelled, training only; at least {MIN_FRAMES} frames "
    "a video)"
)


class SkippedVideoWarning(UserWarning):
    """A video file or frame folder of a videos root was left out of training."""


@dataclass(frozen=True)
class Rejected:
    """A source left out: the file or folder and why."""

    path: Path
    reason: str


def frame_cache_dir(root: Path, frame_cache: str | os.PathLike | None = None) -> Path:
    """Where the decoded frames of ``root``'s video files go (see the module doc)."""
    if frame_cache is None:
        return root / CACHE_DIRNAME
    tag = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
    return Path(os.path.expanduser(str(frame_cache))) / f"{root.name}-{tag}"


def _entries(root: Path) -> list[Path]:
    return sorted((p for p in root.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def _is_video(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in VIDEO_FILE_EXTS


def has_sources(root: Path) -> bool:
    """Whether ``root`` holds a candidate source: a video file or a sub-folder (cheap: decodes nothing)."""
    return any(p.is_dir() or _is_video(p) for p in root.iterdir() if not p.name.startswith("."))


def _names(sources: list[Path]) -> list[str]:
    """Sequence names: folder names and file stems; a stem shared by two entries keeps its extension."""
    stems = Counter(p.stem if p.is_file() else p.name for p in sources)
    return [p.name if p.is_dir() or stems[p.stem] > 1 else p.stem for p in sources]


def _too_short(n: int, min_frames: int) -> str | None:
    return f"too short: {n} frame(s), a clip needs at least {min_frames}" if n < min_frames else None


def _folder_reason(folder: Path, n: int, min_frames: int) -> str | None:
    """Why a frame folder of ``n`` images is rejected (None: usable)."""
    if n > 0:
        return _too_short(n, min_frames)
    reason = f"frame folder holds no images ({', '.join(IMAGE_EXTS)})"
    if any(_is_video(p) for p in folder.iterdir()):
        reason += "; it holds video files, but only videos directly in the root are read"
    return reason


class _Decoder:
    """Decodes video files into the cache with a Rich progress bar and one line per decoded video; the bar
    only appears once a file actually needs decoding (cache hits are silent)."""

    def __init__(self, cache: Path, total: int, progress: bool) -> None:
        self.cache, self.total, self.progress = cache, total, progress
        self._bar = None
        self._task = None
        self._done = 0  # files handled before the bar appeared (cache hits)

    def __enter__(self) -> _Decoder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]decoding videos"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("", total=self.total, completed=self._done)

    def __call__(self, video: Path) -> list[Path]:
        if self.progress and self._bar is None and cached_frames(self.cache, video) is None:
            self._start()
        on_frame = None
        if self._bar is not None:
            bar, task = self._bar, self._task

            def on_frame(n: int) -> None:
                bar.update(task, description=f"{video.name}: {n} frames")

        frames, decoded = decode_to_cache(video, self.cache, on_frame=on_frame)
        self._done += 1
        if self._bar is not None:
            self._bar.advance(self._task)
            if decoded:
                # no markup (a file name may hold [brackets]) and no wrapping (paths stay copyable)
                line = f"decoded {video} ({len(frames)} frames) -> {frames[0].parent}"
                self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        return frames


def _cache_ready(cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(
            f"cannot create the frame cache {cache} ({exc.strerror or exc}): set data.frame_cache to a "
            "writable folder"
        ) from exc


def load_video_folder(
    root: str | os.PathLike,
    *,
    frame_cache: str | os.PathLike | None = None,
    min_frames: int = MIN_FRAMES,
    progress: bool = True,
) -> list[VOSSequence]:
    """Every usable video file and frame folder of ``root`` as a frames-only sequence, in name order.

    Args:
        root: the videos folder (layout: :data:`LAYOUT`).
        frame_cache: cache folder for decoded frames (None: ``<root>/.zoo_frames``).
        min_frames: sources with fewer frames are skipped.
        progress: show a progress bar while decoding video files.

    Returns:
        sequences named after the folder or file (stem; the full name where two files share a stem), with
        ``frames`` pointing into the frame folder or the cache and no annotations.

    Raises:
        FormatError: ``root`` is not a folder, or no source in it is usable (every rejection listed).
        OSError: the frame cache cannot be written.
    """
    root = Path(os.path.expanduser(str(root)))
    if not root.is_dir():
        raise FormatError(root, f"videos folder not found; expected {LAYOUT}")
    sources = [p for p in _entries(root) if p.is_dir() or _is_video(p)]
    cache = frame_cache_dir(root, frame_cache)
    files = [p for p in sources if p.is_file()]
    if files:
        _cache_ready(cache)
    kept: list[VOSSequence] = []
    rejected: list[Rejected] = []
    with _Decoder(cache, len(files), progress) as decode:
        for path, name in zip(sources, _names(sources)):
            if path.is_dir():
                frames = list_frames(path)
                reason = _folder_reason(path, len(frames), min_frames)
            else:
                try:
                    frames = decode(path)
                except FormatError as exc:
                    frames, reason = [], exc.reason
                else:
                    reason = _too_short(len(frames), min_frames)
            if reason is None:
                kept.append(VOSSequence(name, frames))
            else:
                rejected.append(Rejected(path, reason))
                warnings.warn(f"videos: skipping {path}: {reason}", SkippedVideoWarning, stacklevel=2)
    if not kept:
        why = "; ".join(f"{r.path.name}: {r.reason}" for r in rejected) or "it holds no video file or folder"
        raise FormatError(root, f"no usable video ({why}); expected {LAYOUT}")
    return kept

"""Image and video I/O — RGB uint8 numpy arrays in, files out, and back.

Every frame in the zoo is an (H, W, 3) uint8 array in RGB order (OpenCV's BGR never leaks out of this
module). Reading problems raise :class:`~zoo.data.formats.errors.FormatError` naming the file; writes are
atomic (a temporary file in the target folder, then ``os.replace``), so an interrupted run never leaves a
half-written image or video behind under the final name.

Images are decoded ignoring EXIF orientation: benchmark annotations index the stored pixel grid.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import cv2
import numpy as np
from PIL import Image, ImageSequence

from zoo.core.atomic import atomic_save, atomic_write_bytes, default_file_mode
from zoo.data.formats.errors import FormatError

__all__ = [
    "IMAGE_EXTS",
    "VIDEO_EXTS",
    "list_frames",
    "natural_key",
    "read_frames",
    "read_image",
    "write_frame_folder",
    "write_image",
    "write_video",
]

IMAGE_EXTS: tuple[str, ...] = (".jpg", ".jpeg", ".png")
VIDEO_EXTS: tuple[str, ...] = (".mp4", ".avi", ".gif")
_JPEG_QUALITY = 95


# ---------------------------------------------------------------------------------------------------- images
def _truncation_reason(data: bytes) -> str | None:
    """Why an encoded file is incomplete, for formats whose decoders silently accept truncation."""
    if data[:2] == b"\xff\xd8":
        # libjpeg pads a truncated scan with grey and only warns. A complete JPEG has its end-of-image
        # marker after the last start-of-scan; entropy-coded data cannot contain either marker (0xFF is
        # byte-stuffed), and an EXIF thumbnail's markers come before the main scan.
        if data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):
            return "truncated JPEG (no end-of-image marker after the last scan)"
    elif data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-64:]:
        return "truncated PNG (no IEND chunk)"
    return None


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB.

    Args:
        path: image file (any format OpenCV decodes: jpg, png, bmp, webp...). Grey and 16-bit images are
            converted to 8-bit RGB, alpha is dropped.

    Returns:
        (H, W, 3) uint8 RGB.

    Raises:
        FormatError: the file is missing, not an image, or truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "image file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(path, f"cannot read image file: {exc}") from exc
    if not data:
        raise FormatError(path, "image file is empty")
    reason = _truncation_reason(data)
    if reason is not None:
        raise FormatError(path, reason)
    # imdecode on the bytes (not imread) also handles non-ASCII paths on every platform.
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None:
        raise FormatError(path, "cannot decode image (corrupt, truncated or unsupported format)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _as_rgb_frame(img: np.ndarray, what: str) -> np.ndarray:
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise ValueError(f"{what}: expected uint8 pixels, got {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"{what}: expected an (H, W, 3) RGB or (H, W) grey image, got shape {img.shape}")
    return img


def _atomic_write_named(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary sibling of ``path``, then move it into place.

    Unlike :func:`zoo.core.atomic.atomic_save` the temp file keeps ``path``'s suffix and is written by
    name: OpenCV's VideoWriter opens the file itself and picks the container from the extension.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb") as handle:  # flush to disk before the rename, as zoo.core.atomic does
            os.fsync(handle.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_image(path: str | Path, img_rgb: np.ndarray, *, quality: int = _JPEG_QUALITY) -> Path:
    """Write an RGB image atomically; the format follows the extension (.jpg/.jpeg, .png lossless).

    Args:
        path: destination; parent folders are created.
        img_rgb: (H, W, 3) uint8 RGB, or (H, W) uint8 grey.
        quality: JPEG quality (OpenCV scale 0-100), ignored for PNG.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    elif ext == ".png":
        params = []
    else:
        raise ValueError(f"{path}: unsupported image extension {ext!r} (use .jpg, .jpeg or .png)")
    bgr = cv2.cvtColor(_as_rgb_frame(img_rgb, str(path)), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:
        raise OSError(f"{path}: OpenCV failed to encode the image")
    return atomic_write_bytes(path, buf.tobytes())


# ----------------------------------------------------------------------------------------------- frame folders
def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value: ``img2.jpg`` before ``img10.jpg``."""
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def list_frames(folder: str | Path, exts: Sequence[str] = IMAGE_EXTS) -> list[Path]:
    """Image files directly inside ``folder`` with one of ``exts`` (case-insensitive), naturally sorted.

    Raises:
        FormatError: ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(folder, "frame folder not found")
    wanted = {e.lower() if e.startswith(".") else f".{e.lower()}" for e in exts}
    frames = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in wanted]
    return sorted(frames, key=lambda p: natural_key(p.name))


def write_frame_folder(
    folder: str | Path, frames: Iterable[np.ndarray], pattern: str = "{:05d}.jpg", start: int = 0
) -> list[Path]:
    """Write frames as numbered images ``folder / pattern.format(start + i)``; returns the paths."""
    folder = Path(folder)
    return [write_image(folder / pattern.format(start + i), f) for i, f in enumerate(frames)]


# ------------------------------------------------------------------------------------------------------ video
def _read_video_cv2(path: Path) -> Iterator[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise FormatError(path, "cannot open video (corrupt or unsupported codec)")
        n = 0
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            n += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if n == 0:
            raise FormatError(path, "video contains no decodable frames")
    finally:
        cap.release()


def _read_gif(path: Path) -> Iterator[np.ndarray]:
    try:
        with Image.open(path) as im:
            for frame in ImageSequence.Iterator(im):
                yield np.asarray(frame.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise FormatError(path, f"cannot decode GIF: {exc}") from exc


def read_frames(source: str | Path) -> Iterator[np.ndarray]:
    """Iterate the frames of a video file (.mp4, .avi, .gif, or anything OpenCV opens) or a frame folder.

    Yields:
        (H, W, 3) uint8 RGB frames, in order (natural filename order for a folder).

    Raises:
        FormatError: missing source, empty frame folder, or (when iterated) an undecodable file or a video
            without frames.
    """
    source = Path(source)
    if source.is_dir():
        paths = list_frames(source)
        if not paths:
            raise FormatError(source, f"frame folder holds no images ({', '.join(IMAGE_EXTS)})")
        return (read_image(p) for p in paths)
    if not source.is_file():
        raise FormatError(source, "video file or frame folder not found")
    if source.suffix.lower() == ".gif":
        return _read_gif(source)
    return _read_video_cv2(source)


def _write_mp4(tmp: Path, first: np.ndarray, rest: Iterator[np.ndarray], fps: float, dest: Path) -> None:
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise OSError(f"{dest}: OpenCV cannot open an mp4v video writer")
    try:
        writer.write(cv2.cvtColor(first, cv2.COLOR_RGB2BGR))
        for i, frame in enumerate(rest, start=1):
            frame = _as_rgb_frame(frame, f"{dest} frame {i}")
            if frame.shape[:2] != (h, w):
                raise ValueError(f"{dest}: frame {i} has size {frame.shape[:2]}, expected {(h, w)}")
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


def _write_gif(
    handle: IO[bytes], first: np.ndarray, rest: Iterator[np.ndarray], fps: float, dest: Path
) -> None:
    images = [Image.fromarray(first)]
    for i, frame in enumerate(rest, start=1):
        frame = _as_rgb_frame(frame, f"{dest} frame {i}")
        if frame.shape != first.shape:
            raise ValueError(f"{dest}: frame {i} has size {frame.shape[:2]}, expected {first.shape[:2]}")
        images.append(Image.fromarray(frame))
    # GIF stores delays in 1/100 s; Pillow merges identical consecutive frames (summing their delays), so
    # playback timing is kept even when the frame count is not.
    images[0].save(
        handle, format="GIF", save_all=True, append_images=images[1:], duration=1000.0 / fps, loop=0
    )


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = 10.0) -> Path:
    """Encode RGB frames as a video, atomically.

    Args:
        path: ``.mp4`` (OpenCV, MPEG-4 Part 2 'mp4v', lossy) or ``.gif`` (Pillow, looping, palette-quantised;
            identical consecutive frames are merged into one longer frame). Parent folders are created.
        frames: (H, W, 3) uint8 RGB arrays of one size (H, W even is safest for players).
        fps: frames per second.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".mp4", ".gif"):
        raise ValueError(f"{path}: unsupported video extension {ext!r} (use .mp4 or .gif)")
    if not fps > 0:
        raise ValueError(f"{path}: fps must be positive, got {fps}")
    it = iter(frames)
    try:
        first = _as_rgb_frame(next(it), f"{path} frame 0")
    except StopIteration:
        raise ValueError(f"{path}: no frames to write") from None
    if ext == ".gif":
        return atomic_save(path, lambda handle: _write_gif(handle, first, it, fps, path))
    return _atomic_write_named(path, lambda tmp: _write_mp4(tmp, first, it, fps, path))

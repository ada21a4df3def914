"""JHMDB keypoint clips (the CRW/UVC label-propagation setting).

Layout::

    <split_file>                         one clip folder a line (absolute, or relative to root)
    <clip>/00001.png 00002.png ...       frames, 1-based, 5 digits
    <clip>/joint_positions.mat           pos_img: (2, 15, T) 1-based (x, y) pixel positions

The original release keeps the ``.mat`` files apart (``Rename_Images/<action>/<clip>/`` for frames,
``joint_positions/<action>/<clip>/joint_positions.mat``); that layout is found too, and a split line may
name the ``.mat`` folder explicitly as a second whitespace-separated field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.data.formats._layout import check_exist
from zoo.data.formats._mat import read_mat_numeric
from zoo.data.formats._text import read_name_list
from zoo.data.formats.errors import FormatError
from zoo.data.types import VOSSequence

__all__ = ["NUM_JOINTS", "load_jhmdb", "read_joint_positions"]

#: Joints of the JHMDB 2-D puppet, per frame.
NUM_JOINTS = 15
MAT_NAME = "joint_positions.mat"


def read_joint_positions(path: str | Path) -> np.ndarray:
    """``pos_img`` of a ``joint_positions.mat`` as (T, 15, 2) float64 0-based pixel (x, y).

    Read with :func:`~zoo.data.formats._mat.read_mat_numeric` rather than ``scipy.io.loadmat``, which can
    crash the interpreter on a corrupted file.
    """
    path = Path(path)
    pos = read_mat_numeric(path, "pos_img")
    if pos.ndim == 2 and pos.shape == (2, NUM_JOINTS):  # MATLAB drops a trailing singleton: one frame
        pos = pos[:, :, None]
    if pos.ndim != 3 or pos.shape[:2] != (2, NUM_JOINTS):
        raise FormatError(
            path, f"pos_img must be a numeric (2, {NUM_JOINTS}, T) array, got shape {pos.shape}"
        )
    if pos.shape[2] == 0:
        raise FormatError(path, "pos_img has no frames")
    bad = ~np.isfinite(pos)
    if bad.any():
        t = int(np.argwhere(bad)[0][2])
        raise FormatError(path, "pos_img holds NaN or inf", frame=t + 1)
    return pos.transpose(2, 1, 0) - 1.0


def _mat_for(clip: Path) -> Path:
    own = clip / MAT_NAME
    if own.exists():
        return own
    parts = clip.parts
    if "Rename_Images" in parts:
        i = len(parts) - 1 - parts[::-1].index("Rename_Images")
        return Path(*parts[:i], "joint_positions", *parts[i + 1 :]) / MAT_NAME
    return own


def load_jhmdb(root: str | Path, split_file: str | Path, check_images: bool = True) -> list[VOSSequence]:
    """Load the JHMDB clips listed in ``split_file``.

    Returns:
        :class:`VOSSequence` per clip (name = clip folder name) with ``keypoints`` (T, 15, 2) float64
        0-based pixels and ``frames`` ``<clip>/%05d.png`` for 1..T (checked to exist with ``check_images``).
    """
    root = Path(root)
    split_file = Path(split_file)
    out = []
    for lineno, s in read_name_list(split_file, "JHMDB split file"):
        fields = s.split()
        if len(fields) > 2:
            raise FormatError(
                split_file, f"expected '<clip folder> [<mat folder>]', got {s[:80]!r}", line=lineno
            )
        clip = Path(fields[0]) if Path(fields[0]).is_absolute() else root / fields[0]
        if not clip.is_dir():
            raise FormatError(split_file, f"clip folder {str(clip)!r} not found", line=lineno)
        if len(fields) == 2:
            mat_dir = Path(fields[1]) if Path(fields[1]).is_absolute() else root / fields[1]
            mat = mat_dir / MAT_NAME
        else:
            mat = _mat_for(clip)
        keypoints = read_joint_positions(mat)
        frames = [clip / f"{t:05d}.png" for t in range(1, keypoints.shape[0] + 1)]
        if check_images:
            check_exist(frames)
        out.append(VOSSequence(name=clip.name, frames=frames, keypoints=keypoints))
    return out

"""JHMDB keypoint clips (the CRW/UVC label-propagation setting).

Layout::

    <split_file>                         one clip folder a line (absolute, or relative to root)
    <clip>/00001.png 00002.png ...       frames, 1-based, 5 digits
    <clip>/joint_positions.mat           pos_img: (2, 15, T) 1-based (x, y) pixel positions

The original release keeps the ``.mat`` files apart (``Rename_Images/<action>/<clip>/`` for frames,
``joint_positions/<action>/<clip>/joint_positions.mat``); that layout is found too, and a split line may
name the ``.mat`` folder explicitly as a second whitespace-separated field.

JHMDB annotates every joint on every frame (its puppet has no visibility flag). ZooSynth's keypoint clips
add one optional variable to the same ``.mat``: ``visibility`` (15, T) 0/1, 0 where a joint is hidden (behind
an occluder or outside the frame). The reader turns those joints into NaN, which the PCK metric leaves
unscored (:mod:`zoo.metrics.keypoints`); ``pos_img`` still holds their true positions, so tools that read
``pos_img`` alone (the CRW/UVC scripts) load the clips as plain JHMDB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.data.formats._layout import check_exist
from zoo.data.formats._mat import read_mat_numeric, write_mat_numeric
from zoo.data.formats._text import read_name_list, write_name_list
from zoo.data.formats.errors import FormatError
from zoo.data.types import VOSSequence

__all__ = [
    "JOINT_NAMES", "NUM_JOINTS", "load_jhmdb", "read_joint_positions", "read_joint_visibility", "split_path",
    "write_joint_positions", "write_split",
]  # fmt: skip

#: Joints of the JHMDB 2-D puppet, per frame.
NUM_JOINTS = 15
#: their order in ``pos_img`` (the JHMDB puppet's; "right" is the person's own right)
JOINT_NAMES = (
    "neck", "belly", "face", "right_shoulder", "left_shoulder", "right_hip", "left_hip", "right_elbow",
    "left_elbow", "right_knee", "left_knee", "right_wrist", "left_wrist", "right_ankle", "left_ankle",
)  # fmt: skip
MAT_NAME = "joint_positions.mat"
#: ZooSynth's optional per-joint visibility variable in ``joint_positions.mat`` (absent from JHMDB)
VISIBILITY = "visibility"


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


def read_joint_visibility(path: str | Path, frames: int) -> np.ndarray | None:
    """The optional ``visibility`` (15, T) variable of a ``joint_positions.mat`` as (T, 15) bool, or None
    when the file has none (JHMDB's own files).

    Raises:
        FormatError: a ``visibility`` that is not (15, ``frames``) zeros and ones.
    """
    path = Path(path)
    vis = read_mat_numeric(path, VISIBILITY, required=False)
    if vis is None:
        return None
    if vis.shape != (NUM_JOINTS, frames):
        raise FormatError(
            path, f"{VISIBILITY} must be ({NUM_JOINTS}, {frames}) like pos_img, got {vis.shape}"
        )
    if not np.isin(vis, (0.0, 1.0)).all():
        raise FormatError(path, f"{VISIBILITY} must hold 0 (hidden) or 1 (visible)")
    return vis.T.reshape(frames, NUM_JOINTS) > 0.5


def write_joint_positions(path: str | Path, keypoints: np.ndarray, visible: np.ndarray | None = None) -> Path:
    """Write (T, 15, 2) 0-based pixel (x, y) joints as ``pos_img`` (2, 15, T), 1-based, and, when given, the
    (T, 15) bool ``visible`` as ``visibility`` (15, T) uint8 (a deterministic level-5 MAT-file).

    Raises:
        ValueError: wrong shapes or non-finite positions (``pos_img`` holds every joint, hidden ones too).
    """
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (NUM_JOINTS, 2) or kp.shape[0] == 0:
        raise ValueError(f"keypoints must be (T, {NUM_JOINTS}, 2) with T >= 1, got {kp.shape}")
    if not np.isfinite(kp).all():
        raise ValueError("keypoints must be finite: pos_img holds hidden joints' positions too")
    arrays = {"pos_img": np.ascontiguousarray(kp.transpose(2, 1, 0) + 1.0)}
    if visible is not None:
        vis = np.asarray(visible, bool)
        if vis.shape != kp.shape[:2]:
            raise ValueError(f"visible must be (T, {NUM_JOINTS}) = {kp.shape[:2]}, got {vis.shape}")
        arrays[VISIBILITY] = np.ascontiguousarray(vis.T.astype(np.uint8))
    return write_mat_numeric(path, arrays)


def write_split(path: str | Path, clips: list[str]) -> Path:
    """A split file: one clip folder a line (relative to the benchmark root)."""
    return write_name_list(path, clips)


def split_path(root: str | Path, split: str) -> Path:
    """The split file of ``split``: an absolute path, a file relative to ``root``, or a split name
    (``val`` -> ``<root>/val_list.txt``, ZooSynth's names) when no such file exists."""
    path = Path(split)
    if path.is_absolute():
        return path
    direct = Path(root) / path
    if direct.exists() or path.suffix:
        return direct
    return Path(root) / f"{split}_list.txt"


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
        0-based pixels (NaN where a ``visibility`` variable marks a joint hidden) and ``frames`` ``<clip>/%05d.png`` for 1..T (checked to exist with ``check_images``).
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
        visible = read_joint_visibility(mat, keypoints.shape[0])
        if visible is not None:
            keypoints[~visible] = np.nan
        frames = [clip / f"{t:05d}.png" for t in range(1, keypoints.shape[0] + 1)]
        if check_images:
            check_exist(frames)
        out.append(VOSSequence(name=clip.name, frames=frames, keypoints=keypoints))
    return out

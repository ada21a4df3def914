"""Keypoint propagation on JHMDB: PCK@alpha per joint and its mean.

Two conventions (``../shared/design/metrics.md``), named in every result:

- ``"crw"`` (the CRW / UVC evaluation script): a joint is invisible in a frame when its *predicted* x is
  negative; frame 0 (the given annotation) is not scored; the reference length of a frame is 0.6 x the
  diagonal of the tight box around the ground-truth joints that are visible in that frame; a joint is
  correct when ``distance / reference <= alpha``. The script starts its box from min = 1e6 and
  max = -1, so a box edge never passes below -1 (reproduced: it only matters for joints left of or
  above the image).
- ``"later"``: visible when the predicted x is positive (``> 0``), frame 0 scored, box from the visible
  joints alone.

In both, a ground-truth joint that is NaN (not annotated: hidden behind an occluder in ZooSynth's keypoint
clips, see :mod:`zoo.data.formats.jhmdb`) is neither scored nor part of its frame's reference box. JHMDB
annotates every joint, so its numbers are those of the script.

PCK of a joint = 100 x correct / visible, pooled over all frames of all videos; the reported number is
the mean over joints (a joint never visible is NaN and left out of the mean; the script would fail there).
Coordinates are (x, y) pixels, 0-based (JHMDB's ``pos_img`` minus 1). Trackers that predict on a feature
grid must scale to pixels first (the CRW script multiplies x by W / grid and y by H / grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np

from zoo.core.arrays import is_tensor, to_numpy

if TYPE_CHECKING:
    import torch

JHMDB_NUM_JOINTS = 15
DEFAULT_ALPHAS = (0.1, 0.2)
Convention = Literal["crw", "later"]
CONVENTIONS = ("crw", "later")

ArrayLike = Union[np.ndarray, "torch.Tensor"]


def _as_points(x: ArrayLike, what: str) -> np.ndarray:
    x = to_numpy(x)
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(f"{what} must be (T, J, 2) (x, y) pixel coordinates, got shape {arr.shape}")
    return arr


def reference_lengths(gt: np.ndarray, visible: np.ndarray, convention: Convention = "crw") -> np.ndarray:
    """0.6 x the diagonal of the box around each frame's visible GT joints: (T, J, 2), (T, J) -> (T,).

    Frames without a visible joint get a value that is never used (no joint of theirs is scored).
    """
    xy = gt
    lo = np.where(visible[..., None], xy, np.inf).min(axis=1)
    hi = np.where(visible[..., None], xy, -np.inf).max(axis=1)
    if convention == "crw":
        lo = np.minimum(lo, 1e6)
        hi = np.maximum(hi, -1.0)
    with np.errstate(invalid="ignore"):
        d = hi - lo
    return 0.6 * np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])


def pck_statistics(
    pred: ArrayLike,
    gt: ArrayLike,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    convention: Convention = "crw",
) -> tuple[np.ndarray, np.ndarray]:
    """Sufficient statistics of PCK for one video.

    Args:
        pred: (T, J, 2) predicted (x, y) in pixels.
        gt: (T, J, 2) ground-truth (x, y) in pixels, 0-based; NaN for a joint that is not annotated.
        alphas: PCK thresholds (fractions of the reference length).
        convention: "crw" or "later" (see the module docstring).

    Returns:
        hits (A, J) int64 (correct joints per alpha), counts (J,) int64 (scored joints).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"PCK convention must be one of {CONVENTIONS}, got {convention!r}")
    p = _as_points(pred, "predicted keypoints")
    g = _as_points(gt, "ground-truth keypoints")
    if p.shape != g.shape:
        raise ValueError(f"predicted {p.shape} and ground-truth {g.shape} keypoints differ in shape")
    # Written as the script tests it: crw drops x < 0 (so a NaN x stays "visible"); later keeps x > 0.
    visible = ~(p[..., 0] < 0) if convention == "crw" else p[..., 0] > 0
    visible &= np.isfinite(g).all(axis=2)  # not-annotated ground truth (NaN) is not scored
    ref = reference_lengths(g, visible, convention)
    d = p - g
    with np.errstate(divide="ignore", invalid="ignore"):
        # distance / reference, compared with alpha, in the script's order of operations.
        norm = np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]) / ref[:, None]
    scored = visible.copy()
    if convention == "crw":
        scored[:1] = False
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    hits = ((norm[None] <= a[:, None, None]) & scored[None]).sum(axis=1)
    return hits.astype(np.int64), scored.sum(axis=0).astype(np.int64)


def pck_from_statistics(
    hits: np.ndarray,
    counts: np.ndarray,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    convention: Convention = "crw",
) -> dict[str, Any]:
    """PCK numbers from pooled statistics.

    Returns:
        ``{"convention", "alphas", "PCK@<alpha>": mean over joints (percent), "per_joint":
        {"PCK@<alpha>": (J,) percent}, "counts": (J,)}``.
    """
    hits = np.asarray(hits, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_joint = 100.0 * hits / counts
    per_joint[:, counts == 0] = np.nan
    out: dict[str, Any] = {"convention": convention, "alphas": [float(a) for a in alphas], "per_joint": {}}
    for i, alpha in enumerate(alphas):
        key = f"PCK@{alpha:g}"
        row = per_joint[i]
        out[key] = float(np.mean(row[counts > 0])) if (counts > 0).any() else float("nan")
        out["per_joint"][key] = row
    out["counts"] = counts
    return out


def pck(
    pred: ArrayLike | Sequence[ArrayLike],
    gt: ArrayLike | Sequence[ArrayLike],
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    convention: Convention = "crw",
) -> dict[str, Any]:
    """JHMDB PCK of one video ((T, J, 2) arrays) or of many (sequences of them, pooled per joint).

    See :func:`pck_statistics` and :func:`pck_from_statistics`.
    """
    preds = [pred] if _is_single(pred) else list(pred)
    gts = [gt] if _is_single(gt) else list(gt)
    if len(preds) != len(gts):
        raise ValueError(f"got {len(preds)} predicted videos for {len(gts)} ground-truth videos")
    if not preds:
        raise ValueError("no video to evaluate")
    stats = [pck_statistics(p, g, alphas, convention) for p, g in zip(preds, gts)]
    hits = np.sum([s[0] for s in stats], axis=0)
    counts = np.sum([s[1] for s in stats], axis=0)
    return pck_from_statistics(hits, counts, alphas, convention)


def _is_single(x: Any) -> bool:
    return (isinstance(x, np.ndarray) or is_tensor(x)) and x.ndim == 3

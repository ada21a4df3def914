"""DAVIS-2017 semi-supervised video object segmentation metrics: J (region), F (boundary) and J&F.

Same algorithm as the DAVIS-2017 evaluator (see ``../shared/design/metrics.md``), computed on integer label
maps in memory:

- objects are ``1..K`` with ``K`` the largest id of the first ground-truth frame (void excluded); ground
  truth ids above ``K`` are background; a predicted id above ``K`` is an error; a missing object is an
  empty mask;
- the first and the last frame are not scored;
- J = |G and P| / |G or P|, 1 when the union is empty;
- F = 2PR / (P + R) on 1-pixel boundary maps matched within a Euclidean disk of radius
  ``ceil(0.008 * sqrt(H^2 + W^2))`` (8 px at 480x854); see :func:`boundary_map` and :func:`frame_f`;
- per object: mean, recall = mean(v > 0.5), decay = mean(first bin) - mean(last bin) over 4 overlapping
  bins; the global numbers average over all objects of all sequences; J&F = (J-Mean + F-Mean) / 2.

Void (label 255): in the semi-supervised protocol void pixels are plain background (``void_mode=
"background"``, the default). ``void_mode="ignore"`` removes them from both masks before J and F, as the
DAVIS functions do when they are given void pixels (the unsupervised protocol).

Speed: the boundary and matching work runs on the bounding box of the two masks only (exact: boundary
pixels lie within one pixel of the masks and OpenCV's constant border never wins a dilation), with
vectorised boundary maps and ``cv2.dilate`` (this module imports OpenCV for that dilation).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import cv2
import numpy as np

from zoo.core.arrays import to_numpy
from zoo.metrics._reduce import fsum_mean

BOUND_TH = 0.008
VOID = 255
SUMMARY_KEYS = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
VoidMode = Literal["background", "ignore"]
# T label maps: a (T, H, W) array or tensor, or a sequence of (H, W) arrays (read lazily, frame by frame).
LabelFrames = Any


def boundary_radius(height: int, width: int, bound_th: float = BOUND_TH) -> int:
    """Matching tolerance in pixels: ``bound_th`` itself when >= 1, else ``ceil(bound_th * diagonal)``."""
    if bound_th >= 1:
        if bound_th != int(bound_th):
            raise ValueError(f"a pixel tolerance (bound_th >= 1) must be an integer, got {bound_th}")
        return int(bound_th)
    return int(math.ceil(bound_th * math.sqrt(height * height + width * width)))


def disk(radius: int) -> np.ndarray:
    """(2r+1, 2r+1) uint8 structuring element: 1 where ``dx^2 + dy^2 <= r^2``."""
    offsets = np.arange(-radius, radius + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius * radius).astype(np.uint8)


def boundary_map(masks: np.ndarray) -> np.ndarray:
    """1-pixel boundary of binary masks, offset half a pixel towards the origin.

    A pixel is on the boundary when it differs from its right, lower or lower-right neighbour; the last
    row compares with the right neighbour only, the last column with the lower one, and the bottom-right
    corner is never a boundary pixel.

    Args:
        masks: (..., H, W) bool.

    Returns:
        (..., H, W) bool.
    """
    m = np.asarray(masks, dtype=bool)
    b = np.zeros_like(m)
    centre = m[..., :-1, :-1]
    b[..., :-1, :-1] = (centre ^ m[..., :-1, 1:]) | (centre ^ m[..., 1:, :-1]) | (centre ^ m[..., 1:, 1:])
    b[..., -1, :-1] = m[..., -1, :-1] ^ m[..., -1, 1:]
    b[..., :-1, -1] = m[..., :-1, -1] ^ m[..., 1:, -1]
    return b


def _f_crop(gt: np.ndarray, pred: np.ndarray, kernel: np.ndarray) -> float:
    """F of one frame from (h, w) bool crops that contain both masks with a 1-pixel margin."""
    gt_b = boundary_map(gt)
    pred_b = boundary_map(pred)
    n_gt = np.count_nonzero(gt_b)
    n_pred = np.count_nonzero(pred_b)
    if n_gt == 0 or n_pred == 0:
        # Empty-boundary rules: both empty -> P = R = 1 (F = 1); exactly one empty -> P or R is 0 (F = 0).
        return 1.0 if n_gt == n_pred else 0.0
    gt_dil = cv2.dilate(gt_b.view(np.uint8), kernel).view(bool)
    pred_dil = cv2.dilate(pred_b.view(np.uint8), kernel).view(bool)
    precision = np.count_nonzero(pred_b & gt_dil) / float(n_pred)
    recall = np.count_nonzero(gt_b & pred_dil) / float(n_gt)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _crop_bounds(
    rows: np.ndarray, cols: np.ndarray, height: int, width: int
) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the occupied rows/cols with one pixel of margin, clipped to the frame; None if
    nothing is occupied.

    One pixel of margin on every side: boundary pixels sit up to one pixel above/left of a mask, and an
    all-background last row/column makes the crop's border rule agree with the full frame's."""
    ys = np.flatnonzero(rows)
    if ys.size == 0:
        return None
    xs = np.flatnonzero(cols)
    return (
        max(int(ys[0]) - 1, 0),
        min(int(ys[-1]) + 2, height),
        max(int(xs[0]) - 1, 0),
        min(int(xs[-1]) + 2, width),
    )


def _occupied_box(
    a: np.ndarray, b: np.ndarray, scratch: list[np.ndarray] | None = None
) -> tuple[int, int, int, int] | None:
    """:func:`_crop_bounds` of the pixels that are non-zero in either of two (H, W) maps.

    ``scratch``: a one-slot list holding a reusable (H, W) uint8 buffer for the OR (filled on first use): a
    fresh 480p array per frame costs its page faults again each time."""
    height, width = a.shape
    if height == 0 or width == 0:
        return None  # an empty frame: nothing labelled
    if a.dtype == b.dtype and a.dtype in (np.uint8, np.bool_):
        # OpenCV: one vectorised OR and one bounding-rectangle pass (numpy's any() per axis is several
        # passes); bool shares uint8's layout, and a row stride other than the width is fine.
        dst = None
        if scratch is not None:
            if not scratch or scratch[0].shape != a.shape:
                scratch[:] = [np.empty(a.shape, np.uint8)]
            dst = scratch[0]
        x, y, w, h = cv2.boundingRect(cv2.bitwise_or(a.view(np.uint8), b.view(np.uint8), dst=dst))
        if w == 0:
            return None
        return max(y - 1, 0), min(y + h + 1, height), max(x - 1, 0), min(x + w + 1, width)
    union = (a != 0) | (b != 0)
    return _crop_bounds(union.any(axis=1), union.any(axis=0), height, width)


def _pair_scores(g: np.ndarray, p: np.ndarray, kernel: np.ndarray) -> tuple[float, float]:
    """J and F of one object on one frame from (h, w) bool maps that hold both masks with a 1-pixel margin
    (or reach the frame's edge)."""
    union = g | p
    x, y, w, h = cv2.boundingRect(union.view(np.uint8))
    if w == 0:
        return 1.0, 1.0  # both empty
    height, width = g.shape
    y0, y1, x0, x1 = max(y - 1, 0), min(y + h + 1, height), max(x - 1, 0), min(x + w + 1, width)
    g = g[y0:y1, x0:x1]
    p = p[y0:y1, x0:x1]
    j = np.count_nonzero(g & p) / np.count_nonzero(union[y0:y1, x0:x1])
    return j, _f_crop(g, p, kernel)


def _scores_chunk(gt: np.ndarray, pred: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame J and F for (t, H, W) bool masks of one object."""
    t = gt.shape[0]
    j = np.ones(t)
    f = np.ones(t)
    for i in range(t):
        j[i], f[i] = _pair_scores(gt[i], pred[i], kernel)
    return j, f


def frame_j(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Region similarity of binary masks: (T, H, W) bool x 2 -> (T,) float64; 1 where the union is empty."""
    gt, pred = _check_pair(gt, pred)
    inter = np.count_nonzero(gt & pred, axis=(1, 2))
    union = np.count_nonzero(gt | pred, axis=(1, 2))
    out = np.ones(gt.shape[0])
    np.divide(inter, union, out=out, where=union > 0)
    return out


def frame_f(gt: np.ndarray, pred: np.ndarray, bound_th: float = BOUND_TH) -> np.ndarray:
    """Boundary F-measure of binary masks: (T, H, W) bool x 2 -> (T,) float64."""
    gt, pred = _check_pair(gt, pred)
    kernel = disk(boundary_radius(gt.shape[1], gt.shape[2], bound_th))
    return _scores_chunk(gt, pred, kernel)[1]


def _check_pair(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.ndim == 2:
        gt, pred = gt[None], pred[None]
    if gt.ndim != 3 or gt.shape != pred.shape:
        raise ValueError(f"masks must be (T, H, W) of equal shapes, got {gt.shape} and {pred.shape}")
    return gt.astype(bool, copy=False), pred.astype(bool, copy=False)


def object_scores(
    gt_labels: LabelFrames,
    pred_labels: LabelFrames,
    num_objects: int,
    void: int | None = VOID,
    void_mode: VoidMode = "background",
    bound_th: float = BOUND_TH,
    *,
    first_frame: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-object, per-frame J and F on every given frame (no frame is dropped here).

    Args:
        gt_labels: T integer label maps of one (H, W) size: a (T, H, W) array or tensor, or any sequence of
            (H, W) arrays, indexed once per frame in order (a lazy reader's frames are decoded one at a time
            and never stacked); 0 background, 1..K objects, ``void`` void, ids > K ignored.
        pred_labels: the same for the prediction, values in 0..K.
        num_objects: K.
        void: the void label (None: no void label).
        void_mode: "background" (void is background) or "ignore" (void pixels leave both masks).
        bound_th: boundary tolerance, a fraction of the diagonal (< 1) or pixels (>= 1).
        first_frame: index of ``gt_labels[0]`` in its sequence, for error messages.

    Returns:
        J, F: (K, T) float64 each.
    """
    gt_labels, pred_labels = _check_labels(gt_labels, pred_labels)
    if void_mode not in ("background", "ignore"):
        raise ValueError(f"void_mode must be 'background' or 'ignore', got {void_mode!r}")
    if void is not None and 0 < void <= num_objects:
        raise ValueError(f"void label {void} collides with object ids 1..{num_objects}")
    t_total = len(gt_labels)
    j = np.ones((num_objects, t_total))
    f = np.ones((num_objects, t_total))
    ignore_void = void_mode == "ignore" and void is not None
    shape, kernel = None, None
    scratch: list[np.ndarray] = []
    for t in range(t_total):
        gt_t, pred_t = gt_labels[t], pred_labels[t]
        if shape is None:
            shape = gt_t.shape
            kernel = disk(boundary_radius(*shape, bound_th))
        if gt_t.shape != shape or pred_t.shape != shape:
            raise ValueError(
                f"label maps must be (T, H, W) of equal shapes: frame {t + first_frame} has gt {gt_t.shape}, "
                f"pred {pred_t.shape}, the first frame {shape}"
            )
        _check_pred_ids(pred_t, num_objects, t + first_frame)
        # Every object lies inside the box of all labelled pixels of either map (void and ids above K
        # included: a larger crop with the margin is still exact), so the per-object masks are built on
        # that crop only, not on the whole frame.
        box = _occupied_box(gt_t, pred_t, scratch)
        if box is None:
            continue  # nothing labelled: every object scores 1 (empty union)
        y0, y1, x0, x1 = box
        gt_c = gt_t[y0:y1, x0:x1]
        pred_c = pred_t[y0:y1, x0:x1]
        valid = gt_c != void if ignore_void else None
        for k in range(num_objects):
            g = gt_c == k + 1
            p = pred_c == k + 1
            if valid is not None:
                p &= valid
            j[k, t], f[k, t] = _pair_scores(g, p, kernel)
    return j, f


def _label_frame(frame: Any, name: str) -> np.ndarray:
    """One (H, W) integer label map whose rows are contiguous (OpenCV takes any row stride, not a column
    stride); not copied otherwise."""
    m = np.asarray(to_numpy(frame))
    if m.ndim != 2:
        raise ValueError(f"label maps must be (T, H, W): a {name} frame has shape {m.shape}")
    if m.dtype.kind not in "biu":
        raise ValueError(f"{name} label maps must be integer (or bool), got dtype {m.dtype}")
    return m if m.strides[-1] == m.itemsize else np.ascontiguousarray(m)


class _Frames(Sequence):
    """A sequence of label maps checked as each frame is read (:func:`_label_frame`); slicing stays lazy."""

    def __init__(self, frames: Sequence[Any], name: str) -> None:
        self._frames, self._name = frames, name

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return _Frames(self._frames[index], self._name)
        return _label_frame(self._frames[index], self._name)


def _frames(labels: LabelFrames, name: str) -> Sequence[np.ndarray]:
    if isinstance(labels, _Frames):
        return labels
    if isinstance(labels, Sequence) and not isinstance(labels, (str, bytes)):
        return _Frames(labels, name)
    arr = np.asarray(to_numpy(labels))
    if arr.ndim != 3:
        raise ValueError(f"label maps must be (T, H, W), got {name} {arr.shape}")
    if arr.dtype.kind not in "biu":
        raise ValueError(f"{name} label maps must be integer (or bool), got dtype {arr.dtype}")
    return _Frames(arr, name)


def _check_labels(gt: LabelFrames, pred: LabelFrames) -> tuple[Sequence[np.ndarray], Sequence[np.ndarray]]:
    gt_frames, pred_frames = _frames(gt, "gt"), _frames(pred, "pred")
    if len(gt_frames) != len(pred_frames):
        raise ValueError(
            f"label maps must be (T, H, W) of equal shapes, got {len(gt_frames)} gt and {len(pred_frames)} "
            "pred frames"
        )
    return gt_frames, pred_frames


def _check_pred_ids(pred: np.ndarray, num_objects: int, frame: int) -> None:
    if pred.size == 0:
        return
    high = int(pred.max())
    low = int(pred.min()) if pred.dtype.kind == "i" else 0
    if high > num_objects or low < 0:
        raise ValueError(
            f"prediction frame {frame} holds object id {high} (min {low}) "
            f"but the ground truth has {num_objects} objects (ids 1..{num_objects})"
        )


def decay_bins(n: int, uint8_bins: bool = False) -> np.ndarray:
    """The 5 edges of the 4 overlapping decay bins over ``n`` frames (bin i = frames edge[i]..edge[i+1]).

    ``uint8_bins=True`` reproduces the DAVIS evaluator's cast of the edges to uint8, which wraps them
    modulo 256 for sequences longer than 256 scored frames (the slice end ``edge + 1`` is then formed in
    int, as on numpy 1.x where the evaluator was written). The default keeps the correct edges.
    """
    edges = (np.round(np.linspace(1, n, 5) + 1e-10) - 1).astype(np.int64)
    # The float -> uint8 cast wraps on the platforms the evaluator ran on; modulo makes that explicit.
    return edges % 256 if uint8_bins else edges


def statistics(values: np.ndarray, uint8_bins: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DAVIS per-object statistics of per-frame scores.

    Args:
        values: (K, N) float64, one row per object.
        uint8_bins: reproduce the evaluator's uint8 decay-bin edges (see :func:`decay_bins`).

    Returns:
        mean, recall (fraction of frames > 0.5), decay (first-bin mean minus last-bin mean): (K,) each.
    """
    values = np.asarray(values, dtype=np.float64)
    k, n = values.shape
    if n == 0:
        raise ValueError("no frames to score (DAVIS drops the first and last frame: need at least 3)")
    edges = decay_bins(n, uint8_bins)
    with warnings.catch_warnings():
        # An empty uint8-wrapped bin gives NaN, as in the evaluator.
        warnings.simplefilter("ignore", category=RuntimeWarning)
        mean = np.nanmean(values, axis=1)
        recall = np.nanmean(values > 0.5, axis=1)
        first = np.nanmean(values[:, edges[0] : edges[1] + 1], axis=1)
        last = np.nanmean(values[:, edges[3] : edges[4] + 1], axis=1)
    return mean, recall, first - last


def jf_sequence(
    gt_masks: np.ndarray,
    pred_masks: np.ndarray,
    num_objects: int | None = None,
    void: int | None = VOID,
    void_mode: VoidMode = "background",
    bound_th: float = BOUND_TH,
    uint8_bins: bool = False,
) -> dict[str, Any]:
    """J and F of one DAVIS sequence, per object.

    Args:
        gt_masks: (T, H, W) integer label maps (palette indices), T >= 3; an array, a tensor, or a sequence
            of (H, W) arrays.
        pred_masks: the same for the prediction; frame 0 and frame T-1 are not scored.
        num_objects: K; default: the largest id of the first ground-truth frame (void excluded).
        void, void_mode, bound_th: see :func:`object_scores`.
        uint8_bins: reproduce the evaluator's uint8 decay bins (see :func:`decay_bins`).

    Returns:
        ``{"num_objects": K, "J": {"mean", "recall", "decay"}, "F": {...}, "J&F": ...}`` with (K,) float64
        arrays, ``"J_per_frame"``/``"F_per_frame"`` (K, T-2) and ``"sequence"``: this sequence's
        object-averaged summary (keys of :data:`SUMMARY_KEYS`).
    """
    gt_masks, pred_masks = _check_labels(gt_masks, pred_masks)
    if len(gt_masks) < 3:
        raise ValueError(
            f"a DAVIS sequence needs at least 3 frames (first and last are not scored), got {len(gt_masks)}"
        )
    first = gt_masks[0]
    last = len(gt_masks) - 1
    # Frames 0 and T-1 are not scored, but a map of another size there is still an error (the evaluator
    # stacks every frame); frames 1..T-2 are checked against frame 1 while they are scored.
    for name, t, m in (("pred", 0, pred_masks[0]), ("gt", 1, gt_masks[1]), ("gt", last, gt_masks[last]),
                       ("pred", last, pred_masks[last])):  # fmt: skip
        if m.shape != first.shape:
            raise ValueError(
                f"label maps must be (T, H, W) of equal shapes: frame {t} has {name} {m.shape}, gt frame 0 "
                f"{first.shape}"
            )
    if num_objects is None:
        if void is not None:
            first = np.where(first == void, 0, first)
        num_objects = int(first.max()) if first.size else 0
    j, f = object_scores(
        gt_masks[1:-1], pred_masks[1:-1], num_objects, void, void_mode, bound_th, first_frame=1
    )
    j_stats = statistics(j, uint8_bins) if num_objects else (np.zeros(0),) * 3
    f_stats = statistics(f, uint8_bins) if num_objects else (np.zeros(0),) * 3
    out: dict[str, Any] = {
        "num_objects": num_objects,
        "J": dict(zip(("mean", "recall", "decay"), j_stats)),
        "F": dict(zip(("mean", "recall", "decay"), f_stats)),
        "J&F": (j_stats[0] + f_stats[0]) / 2,
        "J_per_frame": j,
        "F_per_frame": f,
    }
    out["sequence"] = _summary(np.stack(j_stats, 1), np.stack(f_stats, 1))
    return out


def _summary(j_stats: np.ndarray, f_stats: np.ndarray) -> dict[str, float]:
    """Global numbers from (N_objects, 3) [mean, recall, decay] arrays of J and F."""
    out = {}
    for name, stats in (("J", j_stats), ("F", f_stats)):
        for col, key in enumerate(("Mean", "Recall", "Decay")):
            out[f"{name}-{key}"] = fsum_mean(stats[:, col])
    out["J&F-Mean"] = (out["J-Mean"] + out["F-Mean"]) / 2
    return {key: out[key] for key in SUMMARY_KEYS}


def conventions(
    void_mode: VoidMode = "background", bound_th: float = BOUND_TH, uint8_bins: bool = False
) -> dict:
    """What results.json records under ``evaluator.conventions`` for these settings."""
    return {
        "protocol": "davis2017-semi-supervised",
        "void": void_mode,
        "bound_th": bound_th,
        "first_last_frames": "dropped",
        "decay_bins": "uint8 edges (reference quirk)"
        if uint8_bins
        else "int edges (uint8 quirk not reproduced)",
        "global_average": "over objects",
    }


def davis_summary(seq_results: Mapping[str, dict] | Sequence[dict]) -> dict[str, Any]:
    """Benchmark summary from :func:`jf_sequence` results, averaged over all objects as the evaluator does.

    Args:
        seq_results: ``{sequence name: jf_sequence(...)}`` (a list is named by index).

    Returns:
        The keys of :data:`SUMMARY_KEYS` (floats), ``"num_objects"`` and ``"per_object"``:
        ``{"<seq>_<k>": {"J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay", "J&F-Mean"}}``.
    """
    if not isinstance(seq_results, Mapping):
        seq_results = {str(i): r for i, r in enumerate(seq_results)}
    j_rows, f_rows, per_object = [], [], {}
    for name, res in seq_results.items():
        js = np.stack([res["J"][key] for key in ("mean", "recall", "decay")], 1)
        fs = np.stack([res["F"][key] for key in ("mean", "recall", "decay")], 1)
        j_rows.append(js)
        f_rows.append(fs)
        for k in range(js.shape[0]):
            row = {f"J-{key}": float(js[k, c]) for c, key in enumerate(("Mean", "Recall", "Decay"))}
            row.update({f"F-{key}": float(fs[k, c]) for c, key in enumerate(("Mean", "Recall", "Decay"))})
            row["J&F-Mean"] = (row["J-Mean"] + row["F-Mean"]) / 2
            per_object[f"{name}_{k + 1}"] = row
    j_all = np.concatenate(j_rows) if j_rows else np.zeros((0, 3))
    f_all = np.concatenate(f_rows) if f_rows else np.zeros((0, 3))
    out: dict[str, Any] = _summary(j_all, f_all)
    out["num_objects"] = int(j_all.shape[0])
    out["per_object"] = per_object
    return out

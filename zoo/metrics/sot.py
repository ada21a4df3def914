"""Single-object tracking metrics: OTB OPE, LaSOT (normalised precision, two conventions), GOT-10k AO/SR.

Boxes come in as (T, 4) float arrays in the zoo's ``xyxy`` pixels (``box_format`` converts others through
``zoo.core.boxes``). Per-frame quantities follow the got10k toolkit (``../shared/design/metrics.md``):

- IoU: continuous boxes, ``inter / (union + eps)`` with ``eps = np.finfo(float).eps``, clipped to [0, 1]
  (computed by ``zoo.core.boxes.box_iou``; a box with negative width or height has area 0 here);
- centre error: Euclidean distance of the centres ``xy + (wh - 1) / 2``;
- normalised centre error (LaSOT): ``|(c_pred - c_gt) / max(1, wh_gt)|`` (got10k convention) or
  ``|(c_pred - c_gt) / wh_gt|`` (pytracking convention).

Every metric is reduced from per-frame values plus sequence lengths, which is what the Metric classes keep
as states (``cat``); means over sequences or frames use an exactly rounded sum, so results do not depend on
the order in which DDP ranks deliver sequences. Results are fractions in [0, 1] (not percent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

import numpy as np

from zoo.core.arrays import to_numpy
from zoo.core.boxes import box_iou, convert
from zoo.metrics._reduce import fsum_mean

if TYPE_CHECKING:
    import torch

EPS = float(np.finfo(float).eps)
SUCCESS_THRESHOLDS = np.linspace(0, 1, 21)
PRECISION_THRESHOLDS = np.arange(0, 51).astype(np.float64)
NORM_THRESHOLDS = np.linspace(0, 0.5, 51)
# pytracking's threshold grids (step times index, as torch.arange builds them).
PYTRACKING_SUCCESS_THRESHOLDS = np.arange(21) * 0.05
PYTRACKING_NORM_THRESHOLDS = np.arange(51) / 100.0
LaSOTConvention = Literal["got10k", "pytracking"]
LASOT_CONVENTIONS = ("got10k", "pytracking")

BoxesLike = Union[np.ndarray, "torch.Tensor"]


# ---------------------------------------------------------------------------------------------- per frame


def _to_xyxy(boxes: BoxesLike, box_format: str, what: str) -> np.ndarray:
    boxes = to_numpy(boxes)
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{what} must be (T, 4) boxes, got shape {arr.shape}")
    return convert(arr, box_format, "xyxy")


def frame_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """got10k IoU of paired ``xyxy`` boxes: (T, 4) x (T, 4) -> (T,) float64 in [0, 1]."""
    iou = box_iou(pred[:, None, :], gt[:, None, :], eps=EPS)[:, 0, 0]
    return np.clip(iou, 0.0, 1.0)


def _centres(boxes: np.ndarray) -> np.ndarray:
    # got10k's pixel-centre convention on xywh: xy + (wh - 1) / 2.
    return boxes[:, :2] + ((boxes[:, 2:] - boxes[:, :2]) - 1) / 2


def centre_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre distance in pixels of paired ``xyxy`` boxes: (T, 4) x (T, 4) -> (T,) float64."""
    return np.sqrt(np.sum((_centres(pred) - _centres(gt)) ** 2, axis=-1))


def normalized_centre_error(
    pred: np.ndarray, gt: np.ndarray, convention: LaSOTConvention = "got10k"
) -> np.ndarray:
    """Centre error in units of the ground-truth size: (T, 4) x (T, 4) ``xyxy`` -> (T,) float64.

    ``got10k`` divides by ``max(1, wh_gt)``; ``pytracking`` by ``wh_gt`` itself (inf/NaN where it is 0).
    """
    wh = gt[:, 2:] - gt[:, :2]
    scale = np.maximum(1.0, wh) if convention == "got10k" else wh
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(np.sum(((_centres(pred) - _centres(gt)) / scale) ** 2, axis=-1))


# ------------------------------------------------------------------------------------------- reductions


def _split(values: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    return np.split(values, np.cumsum(lengths)[:-1]) if len(lengths) else []


def _curve(values: np.ndarray, thresholds: np.ndarray, above: bool) -> np.ndarray:
    """Fraction of frames with value > t (``above``) or <= t, for each threshold: (n,) -> (len(t),)."""
    hit = (
        np.greater(values[:, None], thresholds[None])
        if above
        else np.less_equal(values[:, None], thresholds[None])
    )
    return np.mean(hit, axis=0)


def _ope_reduce(
    ious: np.ndarray,
    errors: np.ndarray,
    norm_errors: np.ndarray | None,
    lengths: np.ndarray,
    convention: str = "got10k",
) -> dict[str, Any]:
    """OPE numbers from pooled per-frame values and per-sequence lengths.

    Each sequence gives a success, precision (and normalised precision) curve; curves are averaged over
    sequences; success AUC = mean of the success curve; precision = curve at 20 px; normalised precision =
    mean of its curve (got10k) or the curve at 0.20 (pytracking).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.size == 0:
        raise ValueError("no sequence to evaluate")
    succ_t = PYTRACKING_SUCCESS_THRESHOLDS if convention == "pytracking" else SUCCESS_THRESHOLDS
    seq_succ = np.stack([_curve(v, succ_t, True) for v in _split(ious, lengths)])
    seq_prec = np.stack([_curve(v, PRECISION_THRESHOLDS, False) for v in _split(errors, lengths)])
    succ, prec = fsum_mean(seq_succ, 0), fsum_mean(seq_prec, 0)
    out: dict[str, Any] = {
        "success_curve": succ,
        "precision_curve": prec,
        "success_auc": float(np.mean(succ)),
        "precision_20": float(prec[20]),
        "per_sequence": {
            "success_auc": seq_succ.mean(axis=1),
            "precision_20": seq_prec[:, 20],
            "num_frames": lengths,
        },
    }
    if norm_errors is not None:
        norm_t = PYTRACKING_NORM_THRESHOLDS if convention == "pytracking" else NORM_THRESHOLDS
        seq_norm = np.stack([_curve(v, norm_t, False) for v in _split(norm_errors, lengths)])
        norm = fsum_mean(seq_norm, 0)
        out["norm_precision_curve"] = norm
        if convention == "pytracking":
            out["norm_precision"] = float(norm[20])
            out["per_sequence"]["norm_precision"] = seq_norm[:, 20]
        else:
            out["norm_precision"] = float(np.mean(norm))
            out["per_sequence"]["norm_precision"] = seq_norm.mean(axis=1)
    return out


# ------------------------------------------------------------------------------------------ OTB (OPE)


def otb_frames(pred: BoxesLike, gt: BoxesLike, box_format: str = "xyxy") -> tuple[np.ndarray, np.ndarray]:
    """Per-frame IoU and centre error of one OTB sequence, frame 1's prediction replaced by the GT.

    Args:
        pred, gt: (T, 4) boxes in ``box_format``; ``gt`` must not hold NaN (OTB has a box in every frame).

    Returns:
        ious, centre errors: (T,) float64 each.
    """
    p = _to_xyxy(pred, box_format, "predicted boxes")
    g = _to_xyxy(gt, box_format, "ground-truth boxes")
    _check_lengths(p, g)
    if np.isnan(g).any():
        raise ValueError(f"OTB ground truth holds NaN in frame {int(np.flatnonzero(np.isnan(g).any(1))[0])}")
    p = p.copy()
    p[0] = g[0]
    return frame_iou(p, g), centre_error(p, g)


def _check_lengths(p: np.ndarray, g: np.ndarray) -> None:
    if p.shape[0] != g.shape[0] or p.shape[0] == 0:
        raise ValueError(
            f"predicted and ground-truth boxes must have the same non-zero length, got "
            f"{p.shape[0]} and {g.shape[0]}"
        )


def otb_ope(pred_boxes: Sequence[BoxesLike], gt_boxes: Sequence[BoxesLike], box_format: str = "xyxy") -> dict:
    """OTB one-pass evaluation over sequences (got10k's ExperimentOTB report).

    Args:
        pred_boxes, gt_boxes: per sequence, (T_i, 4) boxes in ``box_format``.

    Returns:
        ``success_curve`` (21,) for IoU thresholds linspace(0, 1, 21) (IoU > t), ``precision_curve`` (51,)
        for 0..50 px (error <= t), ``success_auc``, ``precision_20`` and ``per_sequence`` arrays.
    """
    _check_count(pred_boxes, gt_boxes)
    frames = [otb_frames(p, g, box_format) for p, g in zip(pred_boxes, gt_boxes)]
    lengths = np.array([f[0].size for f in frames], dtype=np.int64)
    ious = np.concatenate([f[0] for f in frames])
    errors = np.concatenate([f[1] for f in frames])
    out = _ope_reduce(ious, errors, None, lengths)
    out["convention"] = "otb-ope (got10k toolkit)"
    return out


def _check_count(pred: Sequence, gt: Sequence) -> None:
    if len(pred) != len(gt):
        raise ValueError(f"got {len(pred)} predicted sequences for {len(gt)} ground-truth sequences")
    if len(gt) == 0:
        raise ValueError("no sequence to evaluate")


# -------------------------------------------------------------------------------------------------- LaSOT


def lasot_frames(
    pred: BoxesLike,
    gt: BoxesLike,
    visible: np.ndarray | None = None,
    convention: LaSOTConvention = "got10k",
    box_format: str = "xyxy",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame IoU, centre error and normalised centre error of one LaSOT sequence.

    ``got10k``: frame 1's prediction is the GT; frames whose GT holds NaN are dropped; ``visible`` unused.

    ``pytracking`` (coded so that every frame is kept and a sequence's curves are fractions of all its
    frames): a zero-width/height prediction after frame 1 repeats the previous prediction; frame 1's
    prediction is the GT; a frame is valid when the GT has positive width and height and the target is
    visible; invalid frames get IoU -1 (a failure) and centre error inf (a failure); their normalised
    error is -1 (counted as a hit, the reference's quirk, reproduced) except for invisible frames, which
    get inf (failures).

    Args:
        pred, gt: (T, 4) boxes in ``box_format``.
        visible: (T,) bool target visibility (LaSOT: not full_occlusion and not out_of_view); default all.

    Returns:
        ious, centre errors, normalised centre errors: (n,) float64 each (n = kept frames).
    """
    if convention not in LASOT_CONVENTIONS:
        raise ValueError(f"LaSOT convention must be one of {LASOT_CONVENTIONS}, got {convention!r}")
    p = _to_xyxy(pred, box_format, "predicted boxes")
    g = _to_xyxy(gt, box_format, "ground-truth boxes")
    _check_lengths(p, g)
    p = p.copy()
    if convention == "got10k":
        p[0] = g[0]
        keep = ~np.isnan(g).any(axis=1)
        if not keep.any():
            raise ValueError("LaSOT sequence has no frame with a ground-truth box")
        p, g = p[keep], g[keep]
        return frame_iou(p, g), centre_error(p, g), normalized_centre_error(p, g, "got10k")
    vis = np.ones(len(g), bool) if visible is None else np.asarray(visible, dtype=bool).reshape(-1)
    if vis.shape[0] != g.shape[0]:
        raise ValueError(f"visible has {vis.shape[0]} frames, the boxes {g.shape[0]}")
    if np.isnan(p).any() or np.isnan(g).any():
        raise ValueError("pytracking convention: NaN in predicted or ground-truth boxes")
    wh = p[:, 2:] - p[:, :2]
    if (wh < 0).any():
        raise ValueError(
            f"pytracking convention: negative box size in frame {int(np.flatnonzero((wh < 0).any(1))[0])}"
        )
    empty = (wh == 0).any(axis=1)
    empty[0] = False
    # Forward fill: each empty prediction takes the last non-empty one before it.
    source = np.maximum.accumulate(np.where(empty, 0, np.arange(len(p))))
    p = p[source]
    p[0] = g[0]
    gwh = g[:, 2:] - g[:, :2]
    valid = (gwh > 0).all(axis=1) & vis
    iou = np.where(valid, frame_iou(p, g), -1.0)
    err = np.where(valid, centre_error(p, g), np.inf)
    norm = np.where(valid, normalized_centre_error(p, g, "pytracking"), -1.0)
    norm[~vis] = np.inf
    return iou, err, norm


def lasot_ope(
    pred_boxes: Sequence[BoxesLike],
    gt_boxes: Sequence[BoxesLike],
    visible: Sequence[np.ndarray] | None = None,
    convention: LaSOTConvention = "got10k",
    box_format: str = "xyxy",
) -> dict:
    """LaSOT success AUC, precision@20 and normalised precision over sequences.

    ``got10k`` (the got10k toolkit's ExperimentLaSOT): 21 IoU thresholds linspace(0, 1, 21); normalised
    precision = mean over t in linspace(0, 0.5, 51) of the curve. ``pytracking``: see :func:`lasot_frames`;
    normalised precision = the curve at 0.20. Both average per-sequence curves over sequences.

    Returns:
        ``success_curve``, ``precision_curve``, ``norm_precision_curve``, ``success_auc``,
        ``precision_20``, ``norm_precision``, ``per_sequence`` and ``convention``.
    """
    _check_count(pred_boxes, gt_boxes)
    vis = visible if visible is not None else [None] * len(gt_boxes)
    frames = [lasot_frames(p, g, v, convention, box_format) for p, g, v in zip(pred_boxes, gt_boxes, vis)]
    lengths = np.array([f[0].size for f in frames], dtype=np.int64)
    out = _ope_reduce(*(np.concatenate([f[i] for f in frames]) for i in range(3)), lengths, convention)
    out["convention"] = f"lasot-{convention}"
    return out


def lasot_norm_precision(
    pred_boxes: Sequence[BoxesLike],
    gt_boxes: Sequence[BoxesLike],
    visible: Sequence[np.ndarray] | None = None,
    convention: LaSOTConvention = "got10k",
    box_format: str = "xyxy",
) -> dict:
    """Only the normalised-precision part of :func:`lasot_ope`: ``norm_precision``, its curve, convention."""
    res = lasot_ope(pred_boxes, gt_boxes, visible, convention, box_format)
    return {key: res[key] for key in ("norm_precision", "norm_precision_curve", "convention")}


# ------------------------------------------------------------------------------------------------ GOT-10k


def got10k_clip(boxes: np.ndarray, image_size: tuple[float, float]) -> np.ndarray:
    """got10k's image bound on ``xyxy`` boxes: (T, 4) -> (T, 4).

    As the toolkit does on ``xywh``: ``x = clip(x, 0, W)``, ``w = clip(w, 0, W - x)`` (likewise y, h). A box
    that starts left of (above) the image keeps its width (height): it is shifted in, not cut.
    """
    width, height = float(image_size[0]), float(image_size[1])
    xywh = convert(boxes, "xyxy", "xywh")
    x = np.clip(xywh[:, 0], 0, width)
    y = np.clip(xywh[:, 1], 0, height)
    w = np.clip(xywh[:, 2], 0, width - x)
    h = np.clip(xywh[:, 3], 0, height - y)
    return convert(np.stack([x, y, w, h], axis=1), "xywh", "xyxy")


def got10k_frames(
    pred: BoxesLike,
    gt: BoxesLike,
    image_size: tuple[float, float],
    cover: np.ndarray | None = None,
    box_format: str = "xyxy",
) -> np.ndarray:
    """IoUs that GOT-10k scores for one sequence: frame 1 dropped, boxes bounded to the image, only frames
    with ``cover > 0``; repetitions pooled.

    Args:
        pred: (T, 4) or (R, T, 4) boxes (R repetitions) in ``box_format``.
        gt: (T, 4) boxes.
        image_size: (width, height) in pixels.
        cover: (T,) cover level (0 = invisible); default: every frame visible.

    Returns:
        (n,) float64 IoUs, repetition-major.
    """
    pred = to_numpy(pred)
    reps = np.asarray(pred, dtype=np.float64)
    reps = reps[None] if reps.ndim == 2 else reps
    g = _to_xyxy(gt, box_format, "ground-truth boxes")
    keep = np.ones(len(g), bool) if cover is None else np.asarray(cover).reshape(-1) > 0
    if keep.shape[0] != g.shape[0]:
        raise ValueError(f"cover has {keep.shape[0]} frames, the boxes {g.shape[0]}")
    out = []
    for r in range(reps.shape[0]):
        p = _to_xyxy(reps[r], box_format, "predicted boxes")
        _check_lengths(p, g)
        out.append(frame_iou(got10k_clip(p[1:], image_size), got10k_clip(g[1:], image_size))[keep[1:]])
    return np.concatenate(out)


def _ao_sr(ious: np.ndarray) -> dict[str, float]:
    n = ious.size
    return {
        "AO": fsum_mean(ious),
        "SR0.5": np.count_nonzero(ious > 0.5) / n if n else float("nan"),
        "SR0.75": np.count_nonzero(ious > 0.75) / n if n else float("nan"),
    }


def got10k_ao(
    pred_boxes: Sequence[BoxesLike],
    gt_boxes: Sequence[BoxesLike],
    image_sizes: Sequence[tuple[float, float]],
    covers: Sequence[np.ndarray | None] | None = None,
    box_format: str = "xyxy",
) -> dict:
    """GOT-10k average overlap and success rates (IoU > 0.5, > 0.75), pooled over all scored frames.

    Args:
        pred_boxes: per sequence, (T_i, 4) or (R, T_i, 4) boxes.
        gt_boxes: per sequence, (T_i, 4).
        image_sizes: per sequence, (width, height).
        covers: per sequence, (T_i,) cover levels (``cover.label``), or None.

    Returns:
        ``AO``, ``SR0.5``, ``SR0.75``, ``num_frames`` and ``per_sequence`` (same keys per sequence).
    """
    _check_count(pred_boxes, gt_boxes)
    if len(image_sizes) != len(gt_boxes):
        raise ValueError(f"got {len(image_sizes)} image sizes for {len(gt_boxes)} sequences")
    cov = covers if covers is not None else [None] * len(gt_boxes)
    seq = [
        got10k_frames(p, g, s, c, box_format) for p, g, s, c in zip(pred_boxes, gt_boxes, image_sizes, cov)
    ]
    ious = np.concatenate(seq)
    out: dict[str, Any] = _ao_sr(ious)
    out["num_frames"] = int(ious.size)
    out["per_sequence"] = [dict(_ao_sr(s), num_frames=int(s.size)) for s in seq]
    out["convention"] = "got10k (frame 1 dropped, cover > 0, got10k image bound)"
    return out

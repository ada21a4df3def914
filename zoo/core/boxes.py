"""Box formats, conversions and overlap matrices — the zoo's one implementation of each.

Formats (all in pixels, 0-based, float):
- ``xyxy``: (x0, y0, x1, y1), the internal format everywhere in the zoo;
- ``xywh``: (left, top, width, height), as OTB / GOT-10k / LaSOT files;
- ``cxcywh``: (centre x, centre y, width, height);
- MOTChallenge files are ``xywh`` with 1-based left/top: :func:`mot_to_xyxy` / :func:`xyxy_to_mot`.

Every function accepts numpy arrays or torch tensors of shape (..., 4) and returns the same type, so the
same code serves metric (numpy, float64) and model (torch, any device, differentiable) paths. A box is
continuous: width = x1 - x0 (no +1 pixel), as TrackEval and got10k compute it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np

from zoo.core.arrays import is_tensor

if TYPE_CHECKING:
    import torch

# torch is imported by the model paths only: metric code (re-scoring) stays numpy-only and starts fast
# (:func:`zoo.core.arrays.is_tensor` never imports it).
Boxes = TypeVar("Boxes", np.ndarray, "torch.Tensor")

FORMATS = ("xyxy", "xywh", "cxcywh")


def _stack(parts: list, like: Boxes) -> Boxes:
    if is_tensor(like):
        import torch

        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def _check(boxes: Boxes) -> None:
    if boxes.shape[-1] != 4:
        raise ValueError(f"boxes must have shape (..., 4), got {tuple(boxes.shape)}")


def xywh_to_xyxy(boxes: Boxes) -> Boxes:
    """(..., 4) ``xywh`` -> ``xyxy``."""
    _check(boxes)
    x, y, w, h = (boxes[..., i] for i in range(4))
    return _stack([x, y, x + w, y + h], boxes)


def xyxy_to_xywh(boxes: Boxes) -> Boxes:
    """(..., 4) ``xyxy`` -> ``xywh``."""
    _check(boxes)
    x0, y0, x1, y1 = (boxes[..., i] for i in range(4))
    return _stack([x0, y0, x1 - x0, y1 - y0], boxes)


def cxcywh_to_xyxy(boxes: Boxes) -> Boxes:
    """(..., 4) ``cxcywh`` -> ``xyxy``."""
    _check(boxes)
    cx, cy, w, h = (boxes[..., i] for i in range(4))
    return _stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], boxes)


def xyxy_to_cxcywh(boxes: Boxes) -> Boxes:
    """(..., 4) ``xyxy`` -> ``cxcywh``."""
    _check(boxes)
    x0, y0, x1, y1 = (boxes[..., i] for i in range(4))
    return _stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], boxes)


def mot_to_xyxy(boxes: Boxes) -> Boxes:
    """MOTChallenge (..., 4) ``xywh`` with 1-based left/top -> 0-based ``xyxy``."""
    out = xywh_to_xyxy(boxes)
    return out - 1 if is_tensor(out) else out - 1.0


def xyxy_to_mot(boxes: Boxes) -> Boxes:
    """0-based ``xyxy`` -> MOTChallenge ``xywh`` with 1-based left/top."""
    out = xyxy_to_xywh(boxes)
    shift = [1.0, 1.0, 0.0, 0.0]
    if is_tensor(out):
        import torch

        return out + torch.tensor(shift, dtype=out.dtype, device=out.device)
    return out + np.asarray(shift, dtype=out.dtype if out.dtype.kind == "f" else np.float64)


_TO_XYXY = {"xyxy": lambda b: b, "xywh": xywh_to_xyxy, "cxcywh": cxcywh_to_xyxy}
_FROM_XYXY = {"xyxy": lambda b: b, "xywh": xyxy_to_xywh, "cxcywh": xyxy_to_cxcywh}


def convert(boxes: Boxes, src: str, dst: str) -> Boxes:
    """Convert (..., 4) boxes between ``xyxy``, ``xywh`` and ``cxcywh``."""
    if src not in _TO_XYXY or dst not in _FROM_XYXY:
        raise ValueError(f"box formats must be among {FORMATS}, got {src!r} -> {dst!r}")
    return _FROM_XYXY[dst](_TO_XYXY[src](boxes))


def box_area(boxes: Boxes) -> Boxes:
    """(..., 4) ``xyxy`` -> (...,) area; degenerate boxes have area 0 (never negative)."""
    _check(boxes)
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    if is_tensor(boxes):
        return w.clamp(min=0) * h.clamp(min=0)
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def _pairwise(a: Boxes, b: Boxes, enclosing: bool = False) -> tuple[Boxes, Boxes, Boxes | None]:
    """Intersection (..., N, M), union (..., N, M) and, with ``enclosing``, the enclosing-box area (GIoU
    only: skipping it keeps IoU, the trackers' hot path, cheaper)."""
    _check(a)
    _check(b)
    torch_in = is_tensor(a)
    if torch_in:
        import torch
    if torch_in and not (a.is_floating_point() and b.is_floating_point()):
        # Integer pixel boxes: ratios need a float dtype (torch.finfo below rejects integer tensors).
        dtype = torch.promote_types(torch.promote_types(a.dtype, b.dtype), torch.get_default_dtype())
        a, b = a.to(dtype), b.to(dtype)
    maximum = torch.maximum if torch_in else np.maximum
    minimum = torch.minimum if torch_in else np.minimum
    a1 = a[..., :, None, :]
    b1 = b[..., None, :, :]
    lt = maximum(a1[..., :2], b1[..., :2])
    rb = minimum(a1[..., 2:], b1[..., 2:])
    wh = (rb - lt).clamp(min=0) if torch_in else np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[..., :, None] + box_area(b)[..., None, :] - inter
    if not enclosing:
        return inter, union, None
    elt = minimum(a1[..., :2], b1[..., :2])
    erb = maximum(a1[..., 2:], b1[..., 2:])
    ewh = (erb - elt).clamp(min=0) if torch_in else np.clip(erb - elt, 0, None)
    return inter, union, ewh[..., 0] * ewh[..., 1]


def box_iou(a: Boxes, b: Boxes, eps: float = 0.0) -> Boxes:
    """Pairwise IoU of ``xyxy`` boxes.

    Args:
        a: (..., N, 4), b: (..., M, 4) with the same leading (batch) dims.
        eps: added to the union; 0 gives IoU 0 where the union is 0 (no NaN either way).

    Returns:
        (..., N, M) IoU in [0, 1].
    """
    inter, union, _ = _pairwise(a, b)
    if is_tensor(inter):
        import torch

        denom = union + eps
        return torch.where(denom > 0, inter / denom.clamp(min=torch.finfo(inter.dtype).tiny), 0.0)
    denom = union + eps
    out = np.zeros_like(inter, dtype=np.result_type(inter, np.float32))
    np.divide(inter, denom, out=out, where=denom > 0)
    return out


def box_giou(a: Boxes, b: Boxes) -> Boxes:
    """Pairwise generalised IoU (Rezatofighi et al. 2019) of ``xyxy`` boxes: (..., N, 4) x (..., M, 4) -> (..., N, M)
    in [-1, 1]."""
    inter, union, enclose = _pairwise(a, b, enclosing=True)
    iou = box_iou(a, b)
    if is_tensor(inter):
        import torch

        tiny = torch.finfo(inter.dtype).tiny
        penalty = torch.where(enclose > 0, (enclose - union) / enclose.clamp(min=tiny), 0.0)
        return iou - penalty
    penalty = np.zeros_like(iou)
    np.divide(enclose - union, enclose, out=penalty, where=enclose > 0)
    return iou - penalty


def clip_boxes(boxes: Boxes, width: float, height: float) -> Boxes:
    """Clip (..., 4) ``xyxy`` boxes to the image [0, width] x [0, height]."""
    _check(boxes)
    if is_tensor(boxes):
        import torch

        lo = torch.zeros(4, dtype=boxes.dtype, device=boxes.device)
        hi = torch.tensor([width, height, width, height], dtype=boxes.dtype, device=boxes.device)
        return torch.minimum(torch.maximum(boxes, lo), hi)
    # Keep a float32 input float32 (a float64 bound array would silently upcast it).
    dtype = boxes.dtype if boxes.dtype.kind == "f" else np.float64
    return np.clip(boxes.astype(dtype, copy=False), 0, np.array([width, height, width, height], dtype=dtype))


def box_masks(boxes: Boxes, height: int, width: int) -> Boxes:
    """(..., 4) ``xyxy`` boxes -> (..., height, width) float masks, 1 at pixels whose centre lies in the box.

    Pixel (y, x) has centre (x + 0.5, y + 0.5). A box with a NaN coordinate (an absent target) gives an
    empty mask.
    """
    _check(boxes)
    if is_tensor(boxes):
        import torch

        xs = torch.arange(width, dtype=boxes.dtype, device=boxes.device) + 0.5
        ys = torch.arange(height, dtype=boxes.dtype, device=boxes.device) + 0.5
        b = boxes[..., None]
        inx = (xs >= b[..., 0, :]) & (xs < b[..., 2, :])
        iny = (ys >= b[..., 1, :]) & (ys < b[..., 3, :])
        return (iny[..., :, None] & inx[..., None, :]).to(boxes.dtype)
    b = np.asarray(boxes, np.float64)[..., None]
    xs = np.arange(width) + 0.5
    ys = np.arange(height) + 0.5
    with np.errstate(invalid="ignore"):
        inx = (xs >= b[..., 0, :]) & (xs < b[..., 2, :])
        iny = (ys >= b[..., 1, :]) & (ys < b[..., 3, :])
    return (iny[..., :, None] & inx[..., None, :]).astype(np.float32)

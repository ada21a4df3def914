"""ROI Align over feature maps — a thin, checked wrapper of :func:`torchvision.ops.roi_align`.

Coordinates: boxes are ``xyxy`` in *input-image* pixels (0-based, continuous, the zoo's internal format);
``spatial_scale`` maps them onto the feature map (1 / stride, e.g. 1/8 for a stride-8 map). With
``aligned=True`` (the default here, Detectron2's convention) the scaled box is shifted by -0.5 so that
feature pixel i, which covers [i, i + 1) in continuous coordinates, is sampled at its centre; without it
boxes are off by half a feature pixel. Each output bin averages ``sampling_ratio x sampling_ratio`` bilinear samples placed on
a regular grid inside the bin.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.ops import roi_align as _tv_roi_align

__all__ = ["boxes_to_rois", "roi_align"]


def boxes_to_rois(boxes: Sequence[torch.Tensor]) -> torch.Tensor:
    """Concatenate per-image boxes into one ROI tensor.

    Args:
        boxes: B tensors of shape (Ni, 4) ``xyxy``; entry i belongs to image i of the batch.

    Returns:
        (K, 5) with K = sum Ni: ``(batch_index, x0, y0, x1, y1)``, dtype/device of the first tensor
        (float32 on CPU when the list is empty).
    """
    if len(boxes) == 0:
        return torch.zeros((0, 5))
    ref = boxes[0]
    dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
    parts = []
    for i, b in enumerate(boxes):
        if b.ndim != 2 or b.shape[-1] != 4:
            raise ValueError(f"boxes[{i}] must have shape (N, 4), got {tuple(b.shape)}")
        b = b.to(device=ref.device, dtype=dtype)
        idx = torch.full((b.shape[0], 1), float(i), dtype=dtype, device=ref.device)
        parts.append(torch.cat([idx, b], dim=1))
    return torch.cat(parts, dim=0)


def roi_align(
    features: torch.Tensor,
    boxes: Sequence[torch.Tensor] | torch.Tensor,
    output_size: tuple[int, int],
    spatial_scale: float,
    sampling_ratio: int = 2,
    aligned: bool = True,
) -> torch.Tensor:
    """Pool a fixed-size feature patch for every box.

    Args:
        features: (B, C, H, W) float feature maps.
        boxes: either B tensors (Ni, 4) ``xyxy`` in input-image pixels (one per image; may be empty), or a
            (K, 5) tensor ``(batch_index, x0, y0, x1, y1)`` as built by :func:`boxes_to_rois`.
        output_size: (h, w) bins per box.
        spatial_scale: feature-map pixels per input pixel (1 / stride).
        sampling_ratio: bilinear samples per bin along each axis (> 0 for a fixed, reproducible count;
            torchvision's adaptive ``-1`` is allowed but changes with the box size).
        aligned: apply the half-pixel shift (see module docstring).

    Returns:
        (K, C, h, w) pooled features, K = total number of boxes, same dtype/device as ``features``;
        differentiable w.r.t. ``features``.
    """
    if features.ndim != 4:
        raise ValueError(f"features must be (B, C, H, W), got {tuple(features.shape)}")
    if not features.is_floating_point():
        raise TypeError(f"features must be floating point, got {features.dtype}")
    if len(output_size) != 2 or min(output_size) < 1:
        raise ValueError(f"output_size must be two positive ints (h, w), got {output_size}")
    if isinstance(boxes, torch.Tensor):
        if boxes.ndim != 2 or boxes.shape[-1] != 5:
            raise ValueError(
                f"ROI tensor must be (K, 5) (batch_index, x0, y0, x1, y1), got {tuple(boxes.shape)}"
            )
        if boxes.shape[0] and (boxes[:, 0].min() < 0 or boxes[:, 0].max() >= features.shape[0]):
            raise ValueError(
                f"ROI batch indices must be in [0, {features.shape[0]}), got {boxes[:, 0].unique().tolist()}"
            )
        rois = boxes
    else:
        if len(boxes) != features.shape[0]:
            raise ValueError(f"got {len(boxes)} box tensors for a batch of {features.shape[0]} feature maps")
        rois = boxes_to_rois(boxes)
    # torchvision requires ROIs in the features' dtype and device.
    rois = rois.to(dtype=features.dtype, device=features.device)
    return _tv_roi_align(
        features,
        rois,
        output_size=(int(output_size[0]), int(output_size[1])),
        spatial_scale=float(spatial_scale),
        sampling_ratio=int(sampling_ratio),
        aligned=aligned,
    )

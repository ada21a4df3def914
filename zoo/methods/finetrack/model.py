"""FineTrackNet: trunk + FAFPN + ROI Align + MPMG (+ identity classifiers while training).

images (B, 3, H, W) and per-image target boxes -> one L2-normalised embedding per box (K part features
and one global feature), identity logits and the K part masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from zoo.core.roi import boxes_to_rois, roi_align
from zoo.methods.finetrack.fafpn import FAFPN, TimmTrunk
from zoo.methods.finetrack.mpmg import MPMG, IdentityClassifiers, MPMGOutput

__all__ = ["FineTrackNet", "FineTrackOutput"]


@dataclass
class FineTrackOutput:
    """Outputs for the N boxes of a batch (boxes of image 0 first, then image 1, ...).

    Attributes:
        embeddings: (N, K * part_dim + global_dim) unit-norm association features.
        part_logits: (N, K, I) identity logits per part, or None without classifiers.
        global_logits: (N, I), or None.
        masks: (N, K, h, w) part masks in (0, 1) over the ROI grid.
        parts: the raw :class:`~zoo.methods.finetrack.mpmg.MPMGOutput` (pre-/post-BN features).
    """

    embeddings: torch.Tensor
    part_logits: torch.Tensor | None
    global_logits: torch.Tensor | None
    masks: torch.Tensor
    parts: MPMGOutput


class FineTrackNet(nn.Module):
    """FineTrack's Re-ID network.

    Args:
        trunk: timm model name giving C2..C5 (paper ResNet-50; e.g. ``resnet18`` on CPU).
        pretrained: timm ImageNet weights for the trunk.
        fpn_dim: FAFPN width (256; 128 for ResNet-18).
        roi_size: (h, w) ROI Align output (16, 8).
        sampling_ratio: ROI Align samples per bin and axis.
        num_parts: K (6).
        heads: attention heads per MPMG branch (4).
        attn_dim: Q/K/V width per branch.
        part_dim, global_dim: embedding sizes (128, 256).
        num_identities: classifier classes; None builds no classifiers (inference only, or set later with
            :meth:`set_num_identities`).
    """

    def __init__(
        self,
        trunk: str = "resnet50",
        pretrained: bool = False,
        fpn_dim: int = 256,
        roi_size: Sequence[int] = (16, 8),
        sampling_ratio: int = 2,
        num_parts: int = 6,
        heads: int = 4,
        attn_dim: int = 64,
        part_dim: int = 128,
        global_dim: int = 256,
        num_identities: int | None = None,
    ) -> None:
        super().__init__()
        self.trunk = TimmTrunk(trunk, pretrained=pretrained)
        self.fpn = FAFPN(self.trunk.channels, fpn_dim)
        self.roi_size = (int(roi_size[0]), int(roi_size[1]))
        self.sampling_ratio = int(sampling_ratio)
        self.stride = self.trunk.strides[0]
        self.mpmg = MPMG(fpn_dim, num_parts, heads, attn_dim, part_dim, global_dim)
        self.classifiers: IdentityClassifiers | None = None
        if num_identities is not None:
            self.set_num_identities(num_identities)

    @property
    def embedding_dim(self) -> int:
        return self.mpmg.embedding_dim

    def set_num_identities(self, num_identities: int) -> None:
        """(Re)build the identity classifiers for ``num_identities`` classes."""
        ref = self.mpmg.part_weight
        self.classifiers = IdentityClassifiers(
            self.mpmg.num_parts, self.mpmg.part_dim, self.mpmg.global_dim, int(num_identities)
        ).to(device=ref.device, dtype=ref.dtype)

    def feature_map(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised images -> (B, fpn_dim, ~H/4, ~W/4) FAFPN map."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be (B, 3, H, W), got {tuple(images.shape)}")
        return self.fpn(self.trunk(images))

    def roi_features(self, fmap: torch.Tensor, boxes: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """ROI Align (``aligned=True``) of the stride-4 map at boxes in input-image pixels.

        Args:
            fmap: (B, C, h, w) from :meth:`feature_map`.
            boxes: B tensors (N_i, 4) ``xyxy`` in input pixels, or a (N, 5) ROI tensor.

        Returns:
            (N, C, roi_h, roi_w).
        """
        return roi_align(fmap, boxes, self.roi_size, 1.0 / self.stride, self.sampling_ratio, aligned=True)

    def forward(self, images: torch.Tensor, boxes: Sequence[torch.Tensor] | torch.Tensor) -> FineTrackOutput:
        """Embed every box.

        Args:
            images: (B, 3, H, W) float, normalised as the trunk expects.
            boxes: B tensors (N_i, 4) ``xyxy`` pixels of the input images (or a (N, 5) ROI tensor).

        Returns:
            :class:`FineTrackOutput` for the N = sum N_i boxes. Logits are None when the net has no
            classifiers. In training mode N must be >= 2 (BatchNorm over the boxes).
        """
        if not isinstance(boxes, torch.Tensor):
            boxes = boxes_to_rois(list(boxes))
        fmap = self.feature_map(images)
        parts = self.mpmg(self.roi_features(fmap, boxes))
        part_logits = global_logits = None
        if self.classifiers is not None:
            part_logits, global_logits = self.classifiers(parts)
        return FineTrackOutput(parts.embedding(), part_logits, global_logits, parts.masks, parts)

    @torch.inference_mode()
    def embed(self, images: torch.Tensor, boxes: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """(N, embedding_dim) unit-norm association features (no gradients, classifiers skipped)."""
        if not isinstance(boxes, torch.Tensor):
            boxes = boxes_to_rois(list(boxes))
        if boxes.shape[0] == 0:
            return images.new_zeros((0, self.embedding_dim))
        fmap = self.feature_map(images)
        return self.mpmg(self.roi_features(fmap, boxes)).embedding()

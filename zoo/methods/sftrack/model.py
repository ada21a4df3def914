"""SFTrack++'s network: per-channel NN_feat2seg, the learnable channel combination, Eq. 1, NN_seg2box.

Data flow for one window of ``T`` frames (the previous ``T - 1`` and the current one) and ``K`` base trackers:

    images (B, T, 3, H, W) in [0, 1], tracker boxes (B, T, K, 4) xyxy in pixels of that size
      -> box masks (B, T, K, H, W)            1 inside each tracker's box
      -> S_i = sigmoid(feat2seg(RGB, box_i))  (B, T, K, H, W)  one soft mask per tracker (phase 1's net)
      -> S_m = sigmoid(sum_i w_i S_i + b)     (B, T, H, W)     (F_m the same, or its own weights)
      -> X = Eq. 1 iterated from S_m          (B, T, H, W)     space-time refinement (phase 2)
      -> [optional post U-Net]                                  (released code only; off by default)
      -> seg2box(X_T)                          (B, 1, H, W)     box-mask logit of the current frame (phase 3)
         [seg2box_skip: + gain (X_T - thr) + logit(thr), U-Net head zero-initialised: starts as X_T's own box]
      -> box = bounding rectangle of the largest component of sigmoid(seg2box) > 0.5

The losses (:mod:`zoo.methods.sftrack.losses`; BCE unless ``mask_loss`` / ``box_loss`` name an ablation):
phase 1 BCE (pos_weight 5) of feat2seg against the GT mask; phase 2 the same weighted BCE of the refined map
of the current frame; phase 3 BCE of the box-mask logit against the GT box's mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from zoo.core.boxes import box_masks
from zoo.methods.sftrack.losses import LossName, LossSettings
from zoo.methods.sftrack.spectral import SpectralSettings, spectral_refine
from zoo.methods.sftrack.unet import UNet

__all__ = [
    "ChannelCombination",
    "Seg2BoxNet",
    "SFTrackNet",
    "SFTrackSettings",
    "mask_to_box",
]


@dataclass(frozen=True)
class SFTrackSettings:
    """Every constant of the network and its losses (the recipe's ``model.*`` keys).

    Attributes:
        feat2seg_widths: U-Net widths of NN_feat2seg (paper: 100K-1M parameters).
        seg2box_widths: U-Net widths of NN_seg2box (paper: 50K-500K parameters).
        post_unet_widths: widths of the U-Net after the spectral step (released code), or empty: none.
        share_pairwise: F_m = S_m (the paper's ``S_i = F_i``, ``w_s = w_f``); False learns separate weights.
        combine_init: (w, b) the combination starts from: every ``w_i = w / K`` and ``b``, so the plain
            average of the channels is mapped through ``sigmoid(w avg + b)``.
        kernel, p, alpha, iterations, temporal_padding: Eq. 1 (:class:`SpectralSettings`).
        pos_weight: BCE weight of mask pixels (phases 1 and 2).
        mask_loss: the loss of phases 1-2 (:mod:`~zoo.methods.sftrack.losses`): ``bce`` (the paper's),
            ``dice_bce``, ``focal_tversky`` or ``focal_dice`` (the paper's ablations).
        box_loss: the loss of phase 3's box mask, the same choices.
        box_pos_weight: BCE weight of the box mask's pixels in phase 3 (the paper: plain BCE, 1).
        dice_weight, tversky_alpha, tversky_beta, tversky_gamma, focal_dice_beta, loss_smooth: the
            losses' constants (:class:`~zoo.methods.sftrack.losses.LossSettings`).
        seg2box_skip: NN_seg2box adds ``gain * (mask - box_threshold) + logit(box_threshold)`` of its input
            to its U-Net's logit, whose head starts at zero (:class:`Seg2BoxNet`): before phase 3 its box is
            the refined mask's own box (the no-seg2box ablation) and phase 3 learns the correction. False: a
            plain U-Net from a random start (the paper leaves the regressor's form open).
        seg2box_skip_gain: the skip's initial gain (learned in phase 3); 10 maps a mask in [0, 1] to
            probabilities in about [0.007, 0.993].
        box_threshold: probability above which a seg2box pixel is foreground.
        box_mode: ``largest`` (bounding rectangle of the largest connected component) or ``all`` (of every
            foreground pixel).
    """

    feat2seg_widths: tuple[int, ...] = (16, 32, 64, 128)
    seg2box_widths: tuple[int, ...] = (8, 16, 32, 64)
    seg2box_skip: bool = False
    seg2box_skip_gain: float = 10.0
    post_unet_widths: tuple[int, ...] = ()
    share_pairwise: bool = True
    combine_init: tuple[float, float] = (6.0, -3.0)
    kernel: tuple[int, int, int] = (3, 5, 5)
    p: float = 0.1
    alpha: float = 0.5
    iterations: int = 2
    temporal_padding: Literal["zeros", "replicate"] = "zeros"
    pos_weight: float = 5.0
    box_threshold: float = 0.5
    box_mode: Literal["largest", "all"] = "largest"
    mask_loss: LossName = "bce"
    box_loss: LossName = "bce"
    box_pos_weight: float = 1.0
    dice_weight: float = 1.0
    tversky_alpha: float = 0.7
    tversky_beta: float = 0.3
    tversky_gamma: float = 4.0 / 3.0
    focal_dice_beta: float = 2.0
    loss_smooth: float = 1.0

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> SFTrackSettings:
        """Settings from keyword arguments; unknown keys are refused, naming them and the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown SFTrack++ settings {unknown}; valid: {sorted(names)}")
        tuples = ("feat2seg_widths", "seg2box_widths", "post_unet_widths", "combine_init", "kernel")
        clean = {k: tuple(v) if k in tuples and v is not None else v for k, v in kwargs.items()}
        return cls(**clean)

    def __post_init__(self) -> None:
        if self.box_mode not in ("largest", "all"):
            raise ValueError(f"box_mode must be 'largest' or 'all', got {self.box_mode!r}")
        if not 0.0 < self.box_threshold < 1.0:
            raise ValueError(f"box_threshold must be in (0, 1), got {self.box_threshold}")
        if not self.seg2box_skip_gain > 0.0:
            raise ValueError(f"seg2box_skip_gain must be positive, got {self.seg2box_skip_gain}")
        _ = self.spectral  # validates kernel, alpha, iterations, padding
        _ = self.mask_loss_settings, self.box_loss_settings  # validate the losses

    @property
    def spectral(self) -> SpectralSettings:
        return SpectralSettings(
            kernel=tuple(int(k) for k in self.kernel),
            p=float(self.p),
            alpha=float(self.alpha),
            iterations=int(self.iterations),
            temporal_padding=self.temporal_padding,
        )

    def _loss(self, name: str, pos_weight: float) -> LossSettings:
        return LossSettings(
            name=name,  # type: ignore[arg-type]
            pos_weight=float(pos_weight),
            dice_weight=float(self.dice_weight),
            tversky_alpha=float(self.tversky_alpha),
            tversky_beta=float(self.tversky_beta),
            tversky_gamma=float(self.tversky_gamma),
            focal_dice_beta=float(self.focal_dice_beta),
            smooth=float(self.loss_smooth),
        )

    @property
    def mask_loss_settings(self) -> LossSettings:
        """Phases 1-2: ``mask_loss`` with the mask pixels weighted by ``pos_weight``."""
        return self._loss(self.mask_loss, self.pos_weight)

    @property
    def box_loss_settings(self) -> LossSettings:
        """Phase 3: ``box_loss`` with the box pixels weighted by ``box_pos_weight``."""
        return self._loss(self.box_loss, self.box_pos_weight)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


class ChannelCombination(nn.Module):
    """``sigmoid(sum_i w_i S_i + b)`` over the channel axis: (..., K, H, W) -> (..., H, W)."""

    def __init__(self, channels: int, init: Sequence[float] = (6.0, -3.0)) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"need at least one channel, got {channels}")
        w, b = (float(v) for v in init)
        self.weight = nn.Parameter(torch.full((channels,), w / channels))
        self.bias = nn.Parameter(torch.tensor(b))

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        if maps.shape[-3] != self.weight.numel():
            raise ValueError(
                f"expected {self.weight.numel()} channels on axis -3, got shape {tuple(maps.shape)}"
            )
        return torch.sigmoid(torch.einsum("...khw,k->...hw", maps, self.weight) + self.bias)


class Seg2BoxNet(UNet):
    """NN_seg2box: (N, 1, H, W) refined mask in [0, 1] -> (N, 1, H, W) box-mask logits.

    ``skip=False``: the U-Net alone. ``skip=True``: ``UNet(mask) + gain * (mask - threshold) + logit(threshold)``
    with the U-Net's 1x1 head zero-initialised and ``gain`` learned, so before training a pixel is foreground
    (probability above ``threshold``) exactly where the mask is, and training learns a correction to the
    mask's box instead of the whole mask-to-box map from a random start. Why: at CPU size the plain U-Net
    did not reach probability 0.5 in phase 3's budget on one seed of two, so the tracker emitted no box at all
    (docs/sftrack.md).
    """

    def __init__(
        self, widths: Sequence[int], skip: bool = False, gain: float = 10.0, threshold: float = 0.5
    ) -> None:
        super().__init__(1, 1, widths)
        self.skip = bool(skip)
        self.threshold = float(threshold)
        if self.skip:
            self.gain = nn.Parameter(torch.tensor(float(gain)))
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        if self.skip:
            thr = self.threshold
            out = out + self.gain * (x - thr) + float(np.log(thr / (1.0 - thr)))
        return out


class SFTrackNet(nn.Module):
    """The three trainable parts and the spectral step between them.

    Args:
        channels: number of base trackers ``K``.
        settings: :class:`SFTrackSettings`.
    """

    def __init__(self, channels: int, settings: SFTrackSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or SFTrackSettings()
        s = self.settings
        self.channels = int(channels)
        self.feat2seg = UNet(4, 1, s.feat2seg_widths)
        self.combine_s = ChannelCombination(self.channels, s.combine_init)
        self.combine_f = None if s.share_pairwise else ChannelCombination(self.channels, s.combine_init)
        self.post_unet = UNet(1, 1, s.post_unet_widths) if s.post_unet_widths else None
        self.seg2box = Seg2BoxNet(s.seg2box_widths, s.seg2box_skip, s.seg2box_skip_gain, s.box_threshold)

    # ---------------------------------------------------------------- parts
    def feat2seg_logits(self, images: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in [0, 1] and (N, 4) boxes -> (N, H, W) mask logits."""
        h, w = images.shape[-2:]
        boxmask = box_masks(boxes.to(images.dtype), h, w)[:, None]
        return self.feat2seg(torch.cat([images, boxmask], 1))[:, 0]

    def channel_maps(self, images: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) frames and (B, T, K, 4) tracker boxes -> (B, T, K, H, W) soft masks ``S_i``."""
        b, t, _, h, w = images.shape
        k = boxes.shape[2]
        imgs = images[:, :, None].expand(b, t, k, 3, h, w).reshape(b * t * k, 3, h, w)
        logits = self.feat2seg_logits(imgs, boxes.reshape(b * t * k, 4))
        return torch.sigmoid(logits).view(b, t, k, h, w)

    def refine(self, maps: torch.Tensor, iterations: int | None = None) -> dict[str, torch.Tensor]:
        """(B, T, K, H, W) channel maps -> ``unary`` S_m, ``pairwise`` F_m and ``refined`` X, each (B, T, H, W).

        ``iterations`` overrides the settings' count (0: the spectral step off, X = S_m).
        """
        s_m = self.combine_s(maps)
        f_m = s_m if self.combine_f is None else self.combine_f(maps)
        spectral = self.settings.spectral
        if iterations is not None:
            spectral = SpectralSettings(
                spectral.kernel,
                spectral.p,
                spectral.alpha,
                int(iterations),
                spectral.temporal_padding,
                spectral.eps,
            )
        x = spectral_refine(s_m, f_m, spectral)
        if self.post_unet is not None:
            b, t, h, w = x.shape
            x = torch.sigmoid(self.post_unet(x.reshape(b * t, 1, h, w))).view(b, t, h, w)
        return {"unary": s_m, "pairwise": f_m, "refined": x}

    def seg2box_logits(self, mask: torch.Tensor) -> torch.Tensor:
        """(N, H, W) refined mask in [0, 1] -> (N, H, W) box-mask logits."""
        return self.seg2box(mask[:, None])[:, 0]

    def forward(self, images: torch.Tensor, boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Everything for a window: ``maps`` (B, T, K, H, W), ``unary``/``pairwise``/``refined`` (B, T, H, W),
        ``box_logits`` (B, H, W) of the current (last) frame."""
        maps = self.channel_maps(images, boxes)
        out = self.refine(maps)
        out["maps"] = maps
        out["box_logits"] = self.seg2box_logits(out["refined"][:, -1])
        return out


def mask_to_box(mask: np.ndarray, mode: str = "largest") -> np.ndarray | None:
    """(H, W) bool mask -> (4,) float64 ``xyxy`` bounding rectangle (pixel edges), or None when empty.

    ``largest``: of the largest 8-connected component (``cv2.connectedComponentsWithStats``); ``all``: of
    every foreground pixel.
    """
    import cv2

    m = np.ascontiguousarray(mask, dtype=np.uint8)
    if m.ndim != 2:
        raise ValueError(f"mask must be (H, W), got shape {m.shape}")
    if not m.any():
        return None
    if mode == "all":
        ys, xs = np.nonzero(m)
        return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)
    if mode != "largest":
        raise ValueError(f"box mode must be 'largest' or 'all', got {mode!r}")
    n, _, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    best = 1 + int(np.argmax(stats[1:n, cv2.CC_STAT_AREA]))
    x, y, w, h = (
        int(stats[best, c])
        for c in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT)
    )
    return np.array([x, y, x + w, y + h], np.float64)

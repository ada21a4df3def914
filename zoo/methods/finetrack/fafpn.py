"""Flow Alignment FPN (FAFPN): a timm trunk's C2..C5 fused top-down with semantic-flow alignment.

The Flow Alignment Module (FAM) comes from SFNet (Li et al., ECCV 2020); FineTrack (Ren et al., CVPR 2023)
uses it in every top-down step of an FPN and reads the fused stride-4 map with its Re-ID branch.

Shapes: images (B, 3, H, W) -> C2..C5 at strides 4/8/16/32 -> FAFPN -> (B, fpn_dim, ~H/4, ~W/4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from zoo.core.backbones import create_timm_model

__all__ = ["FAFPN", "FlowAlignment", "TimmTrunk", "conv_bn_relu", "flow_warp"]

#: Strides of C2..C5, the levels FAFPN fuses.
PYRAMID_STRIDES = (4, 8, 16, 32)


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    """``kernel_size`` conv (no bias, "same" padding) + BatchNorm + ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def flow_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``x`` on a regular grid of ``flow``'s size, displaced by ``flow``.

    The grid is SFNet's: ``base + flow / (W, H)`` where ``base`` spans [-1, 1] over the output's W x H
    positions and ``grid_sample`` runs with ``align_corners=True``. Because grid units are half the image
    size (not ``(W - 1) / 2``), one flow unit moves about half an output pixel; this is kept on purpose so
    learned flows mean what they mean in SFNet and FineTrack.

    Args:
        x: (B, C, h, w) coarse map.
        flow: (B, 2, H, W) displacement, channel 0 along x, channel 1 along y.

    Returns:
        (B, C, H, W). With zero flow it equals ``F.interpolate(x, (H, W), "bilinear", align_corners=True)``.
    """
    b, _, out_h, out_w = flow.shape
    ys = torch.linspace(-1.0, 1.0, out_h, dtype=x.dtype, device=x.device)
    xs = torch.linspace(-1.0, 1.0, out_w, dtype=x.dtype, device=x.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    base = torch.stack((gx, gy), dim=-1).unsqueeze(0)  # (1, H, W, 2) as (x, y)
    norm = torch.tensor([out_w, out_h], dtype=x.dtype, device=x.device)
    grid = base + flow.permute(0, 2, 3, 1) / norm
    return F.grid_sample(
        x, grid.expand(b, -1, -1, -1), mode="bilinear", padding_mode="zeros", align_corners=True
    )


class FlowAlignment(nn.Module):
    """FAM: warp a coarse map ``h`` onto a fine map ``l``'s grid with a learned 2-channel semantic flow.

    1x1 convs (no bias) halve the channels of both maps; the reduced ``h`` is bilinearly upsampled to ``l``'s
    size (``align_corners=True``); a 3x3 conv (no bias) on ``[h_up, l]`` predicts the flow; the ORIGINAL
    ``h`` (all C channels) is warped with :func:`flow_warp`.

    Args:
        channels: C, channels of both inputs (and of the output).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        half = max(1, channels // 2)
        self.down_fine = nn.Conv2d(channels, half, 1, bias=False)
        self.down_coarse = nn.Conv2d(channels, half, 1, bias=False)
        self.flow = nn.Conv2d(2 * half, 2, 3, padding=1, bias=False)

    def forward(self, fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        """fine (B, C, H, W), coarse (B, C, h, w) -> coarse aligned to the fine grid (B, C, H, W)."""
        size = fine.shape[-2:]
        low = self.down_fine(fine)
        high = F.interpolate(self.down_coarse(coarse), size=size, mode="bilinear", align_corners=True)
        flow = self.flow(torch.cat([high, low], dim=1))
        return flow_warp(coarse, flow)


class FAFPN(nn.Module):
    """FPN over C2..C5 whose top-down fusion is aligned by FAMs, ending in one stride-4 map.

    Laterals: 1x1 conv-BN-ReLU of every ``C_i`` to ``fpn_dim``. Top-down from C5 (as SFNet, whose top
    level is its context module's output, ``P5`` is C5's lateral): ``f = lateral_i + FAM(lateral_i, f)``,
    ``P_i = 3x3 conv-BN-ReLU(f)``. Every ``P_i`` is upsampled (bilinear, ``align_corners=True``) to the
    finest level, the maps are concatenated and a 3x3 conv-BN-ReLU fuses them to ``fpn_dim`` channels.

    Args:
        in_channels: channels of C2..C5 (finest first).
        fpn_dim: width of every level and of the output (paper 256; 128 for ResNet-18).
    """

    def __init__(self, in_channels: Sequence[int], fpn_dim: int = 256) -> None:
        super().__init__()
        if len(in_channels) < 2:
            raise ValueError(f"FAFPN needs at least two levels, got in_channels={list(in_channels)}")
        self.fpn_dim = int(fpn_dim)
        self.laterals = nn.ModuleList(conv_bn_relu(int(c), self.fpn_dim, 1) for c in in_channels)
        self.align = nn.ModuleList(FlowAlignment(self.fpn_dim) for _ in in_channels[:-1])
        self.smooth = nn.ModuleList(conv_bn_relu(self.fpn_dim, self.fpn_dim, 3) for _ in in_channels[:-1])
        self.fuse = conv_bn_relu(len(in_channels) * self.fpn_dim, self.fpn_dim, 3)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """C2..C5 (finest first), each (B, C_i, H_i, W_i) -> (B, fpn_dim, H_2, W_2)."""
        if len(feats) != len(self.laterals):
            raise ValueError(f"FAFPN built for {len(self.laterals)} levels, got {len(feats)} feature maps")
        lateral = [layer(f) for layer, f in zip(self.laterals, feats)]
        f = lateral[-1]
        levels = [f]
        for i in range(len(lateral) - 2, -1, -1):
            f = lateral[i] + self.align[i](lateral[i], f)
            levels.append(self.smooth[i](f))
        levels.reverse()  # finest first
        size = levels[0].shape[-2:]
        ups = [levels[0]] + [
            F.interpolate(p, size=size, mode="bilinear", align_corners=True) for p in levels[1:]
        ]
        return self.fuse(torch.cat(ups, dim=1))


class TimmTrunk(nn.Module):
    """A timm backbone (``features_only=True``) returning C2..C5, the levels at strides 4/8/16/32.

    Args:
        name: timm model name (``resnet18``, ``resnet50``, ``efficientnet_b0``, ``convnext_atto``...).
        pretrained: load timm's ImageNet weights (Hugging Face Hub or its local cache). Offline without
            a cached copy this raises at once with a message saying how to fix it.

    Attributes:
        channels: channels of C2..C5.
        strides: (4, 8, 16, 32).

    Raises:
        ValueError: the model has no feature level at one of the strides 4/8/16/32.
        RuntimeError: ``pretrained=True`` and the weights cannot be fetched.
    """

    def __init__(self, name: str, pretrained: bool = False) -> None:
        super().__init__()
        self.body = create_timm_model(
            name, pretrained=pretrained, what="the FineTrack trunk", features_only=True
        )
        reductions = list(self.body.feature_info.reduction())
        missing = [s for s in PYRAMID_STRIDES if s not in reductions]
        if missing:
            raise ValueError(
                f"timm model {name!r} has feature strides {reductions}; FineTrack needs 4, 8, 16 and 32 "
                f"(missing {missing})"
            )
        # features_only builds every stage up to the deepest requested one anyway, so selecting the four
        # levels here costs nothing over passing out_indices (and needs no second model build).
        self.select = [reductions.index(s) for s in PYRAMID_STRIDES]
        all_channels = list(self.body.feature_info.channels())
        self.channels = [int(all_channels[i]) for i in self.select]
        self.strides = PYRAMID_STRIDES

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """(B, 3, H, W) -> [C2, C3, C4, C5], C_i (B, channels[i], ~H/s_i, ~W/s_i)."""
        feats = self.body(images)
        return [feats[i] for i in self.select]

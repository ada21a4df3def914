"""The U-Net behind SFTrack++'s NN_feat2seg (RGB + box mask -> object mask) and NN_seg2box (mask -> box mask).

Ronneberger et al.'s shape: ``len(widths)`` levels of two 3x3 conv + BatchNorm + ReLU, 2x2 max-pool down,
bilinear 2x up, skip concatenation, a 1x1 head to logits. Any input size works: each decoder stage resizes to
its skip's size, so odd sizes need no padding by the caller. The pre-registration validates 100K-1M parameters
for NN_feat2seg and 50K-500K for NN_seg2box; ``widths`` sets that.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["UNet"]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """(B, in_channels, H, W) -> (B, out_channels, H, W) logits.

    Args:
        in_channels: input channels (feat2seg: 3 RGB + 1 box mask; seg2box: 1 mask).
        out_channels: output logit channels.
        widths: channels per level, top to bottom (e.g. (16, 32, 64, 128): ~0.47 M parameters).
    """

    def __init__(
        self, in_channels: int, out_channels: int = 1, widths: Sequence[int] = (16, 32, 64, 128)
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if not widths or min(widths) < 1:
            raise ValueError(f"U-Net widths must be a non-empty list of positive ints, got {widths}")
        self.down = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.down.append(_block(cin, w))
            cin = w
        self.up = nn.ModuleList(
            _block(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(len(widths) - 1))
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            if i:
                # ceil_mode keeps a row/column of odd-sized maps instead of dropping it
                x = F.max_pool2d(x, 2, ceil_mode=True)
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], 1))
        return self.head(x)

"""DMP's feature encoder: a timm ResNet at total stride 4 (MAST's layout) and a 3x3 projection.

MAST (Lai et al., CVPR 2020), which DMP builds on, keeps ResNet-18's stem convolution at stride 2, removes the
max-pool, keeps layer2's stride 2 and runs layer3/layer4 at stride 1 without dilation, so every feature cell
covers 4 x 4 input pixels; layer4 is 256 channels wide. A 3x3 convolution projects to the embedding
(64 channels in the paper).

Shapes: Lab images (B, 3, H, W) -> features (B, embed_dim, H/4, W/4) (H, W multiples of 4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from zoo.core.backbones import create_timm_model

__all__ = ["STRIDE", "StrideFourEncoder"]

#: Input pixels per feature cell along each axis.
STRIDE = 4


def _unstride(stage: nn.Module) -> None:
    """Run a ResNet stage at stride 1: every stride-2 convolution (BasicBlock conv1, Bottleneck conv2, the
    1x1 downsample) becomes stride 1, and an ``avg_down`` pool becomes the identity."""
    for name, module in list(stage.named_modules()):
        if isinstance(module, nn.Conv2d) and module.stride != (1, 1):
            module.stride = (1, 1)
        elif isinstance(module, nn.AvgPool2d) and module.stride not in (1, (1, 1)):
            parent = stage.get_submodule(name.rsplit(".", 1)[0]) if "." in name else stage
            setattr(parent, name.rsplit(".", 1)[-1], nn.Identity())


class StrideFourEncoder(nn.Module):
    """A timm ResNet-family trunk at stride 4 plus a 3x3 projection.

    Args:
        trunk: timm ResNet name (``resnet18`` in the paper; ``resnet34``, ``resnet50``... work too).
        channels: widths of layer1..layer4 (paper ``[64, 128, 256, 256]``: MAST's 256-wide layer4); the CPU
            preset narrows them, keeping the stride pattern.
        stem_width: stem convolution width (paper 64).
        embed_dim: projection output channels (paper 64).
        pretrained: timm's ImageNet weights (only when ``channels``/``stem_width`` are timm's own; the paper
            trains from scratch).

    Raises:
        ValueError: the trunk is not a timm ResNet (no ``conv1``/``maxpool``/``layer1..4``).
    """

    def __init__(
        self,
        trunk: str = "resnet18",
        channels: Sequence[int] = (64, 128, 256, 256),
        stem_width: int = 64,
        embed_dim: int = 64,
        pretrained: bool = False,
    ) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) != 4 or min(channels) < 1:
            raise ValueError(f"channels must be four positive widths (layer1..layer4), got {list(channels)}")
        try:
            body = create_timm_model(
                trunk, pretrained=pretrained, what="the DMP encoder", channels=channels,
                stem_width=int(stem_width), num_classes=0, global_pool="",
            )  # fmt: skip
        except TypeError:  # a non-ResNet timm model refuses the ResNet width arguments
            body = None
        if body is None or not all(
            hasattr(body, n) for n in ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")
        ):
            raise ValueError(f"timm model {trunk!r} is not a ResNet (conv1/maxpool/layer1..4); DMP needs one")
        body.maxpool = nn.Identity()
        _unstride(body.layer3)
        _unstride(body.layer4)
        self.trunk = body
        width = int(body.num_features)
        self.project = nn.Conv2d(width, int(embed_dim), 3, padding=1)
        self.embed_dim = int(embed_dim)

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) normalised Lab -> (B, embed_dim, H/4, W/4)."""
        if lab.shape[-1] % STRIDE or lab.shape[-2] % STRIDE:
            raise ValueError(f"image size {tuple(lab.shape[-2:])} must be a multiple of {STRIDE}")
        return self.project(self.trunk.forward_features(lab))

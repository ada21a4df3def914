"""Multi-head Part Mask Generator (MPMG), BNNeck embeddings and identity classifiers of FineTrack.

ROI features (N, C, h, w) of N targets -> K sigmoid part masks learned without part labels, K part
embeddings and one global embedding (each through a BNNeck), and the identity classifiers that train them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BNNeck", "IdentityClassifiers", "MPMG", "MPMGOutput", "PartMaskBranch", "channel_blocks"]


def channel_blocks(channels: int, parts: int) -> list[int]:
    """Sizes of ``parts`` contiguous channel blocks covering ``channels``, as equal as possible (the first
    ``channels % parts`` blocks one larger; 256 channels in 6 parts: 43, 43, 43, 43, 42, 42)."""
    if not 1 <= parts <= channels:
        raise ValueError(f"cannot split {channels} channels into {parts} parts (need 1 <= parts <= channels)")
    base, extra = divmod(channels, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


class PartMaskBranch(nn.Module):
    """One MPMG branch: a channel block -> one part mask.

    1x1 convs give queries, keys and values (``attn_dim`` channels each); multi-head self-attention runs
    over the h*w positions (scaled dot product, ``heads`` heads of ``attn_dim / heads`` channels); a 1x1
    conv maps the attended values to one channel and a sigmoid makes it a soft mask.

    Args:
        in_channels: channels of the block.
        attn_dim: width of Q/K/V (divisible by ``heads``).
        heads: attention heads (paper 4).
    """

    def __init__(self, in_channels: int, attn_dim: int = 64, heads: int = 4) -> None:
        super().__init__()
        if attn_dim % heads:
            raise ValueError(f"attn_dim ({attn_dim}) must be divisible by heads ({heads})")
        self.heads = int(heads)
        self.query = nn.Conv2d(in_channels, attn_dim, 1)
        self.key = nn.Conv2d(in_channels, attn_dim, 1)
        self.value = nn.Conv2d(in_channels, attn_dim, 1)
        self.to_mask = nn.Conv2d(attn_dim, 1, 1)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.reshape(n, self.heads, c // self.heads, h * w).transpose(-1, -2)  # (N, heads, hw, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, c, h, w) block -> (N, 1, h, w) mask in (0, 1)."""
        n, _, h, w = x.shape
        attended = F.scaled_dot_product_attention(
            self._heads(self.query(x)), self._heads(self.key(x)), self._heads(self.value(x))
        )
        attended = attended.transpose(-1, -2).reshape(n, -1, h, w)
        return torch.sigmoid(self.to_mask(attended))


class BNNeck(nn.Module):
    """Linear embedding followed by a BNNeck (Luo et al., 2019).

    The feature before BatchNorm feeds the triplet loss; the one after it feeds the classifier and is the
    inference embedding. The BN shift is frozen at zero, as in BNNeck, so the classifier's decision
    boundaries pass through the origin where cosine similarity is measured.
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.bn.bias.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(..., in_dim) -> (feature (..., out_dim), BN feature (..., out_dim))."""
        feat = self.fc(x)
        shape = feat.shape
        return feat, self.bn(feat.reshape(-1, shape[-1])).reshape(shape)


@dataclass
class MPMGOutput:
    """What MPMG returns for N targets.

    Attributes:
        masks: (N, K, h, w) part masks in (0, 1).
        part_feats: (N, K, part_dim) part embeddings before BN (triplet loss).
        part_bn: (N, K, part_dim) part embeddings after BN (classifiers, association).
        global_feat: (N, global_dim) global embedding before BN.
        global_bn: (N, global_dim) global embedding after BN.
    """

    masks: torch.Tensor
    part_feats: torch.Tensor
    part_bn: torch.Tensor
    global_feat: torch.Tensor
    global_bn: torch.Tensor

    def embedding(self) -> torch.Tensor:
        """(N, K * part_dim + global_dim) association feature: L2-normalised concat(parts, global)."""
        cat = torch.cat([self.part_bn.flatten(1), self.global_bn], dim=1)
        return F.normalize(cat, dim=1)


class MPMG(nn.Module):
    """Multi-head Part Mask Generator with part and global embeddings.

    The ROI map is split along channels into K blocks (:func:`channel_blocks`); branch k (own weights,
    :class:`PartMaskBranch`) turns block k into mask ``M_k``. Part feature k =
    ``BNNeck_k(Linear(GAP(M_k * ROI map)))`` over ALL C channels; the global feature =
    ``BNNeck(Linear(GAP(ROI map)))``.

    Args:
        channels: C, channels of the ROI map.
        num_parts: K (paper 6).
        heads: attention heads per branch (paper 4).
        attn_dim: Q/K/V width per branch.
        part_dim: part embedding size (128).
        global_dim: global embedding size (256).
    """

    def __init__(
        self,
        channels: int,
        num_parts: int = 6,
        heads: int = 4,
        attn_dim: int = 64,
        part_dim: int = 128,
        global_dim: int = 256,
    ) -> None:
        super().__init__()
        self.num_parts = int(num_parts)
        self.blocks = channel_blocks(int(channels), self.num_parts)
        self.branches = nn.ModuleList(PartMaskBranch(c, attn_dim, heads) for c in self.blocks)
        # one Linear per part, run as a single batched matmul (weights (K, C, part_dim))
        self.part_weight = nn.Parameter(torch.empty(self.num_parts, channels, part_dim))
        self.part_bias = nn.Parameter(torch.zeros(self.num_parts, part_dim))
        bound = 1.0 / channels**0.5  # nn.Linear's default init range
        nn.init.uniform_(self.part_weight, -bound, bound)
        nn.init.uniform_(self.part_bias, -bound, bound)
        self.part_bn = nn.ModuleList(nn.BatchNorm1d(part_dim) for _ in range(self.num_parts))
        for bn in self.part_bn:
            bn.bias.requires_grad_(False)
        self.global_neck = BNNeck(channels, global_dim)
        self.part_dim = int(part_dim)
        self.global_dim = int(global_dim)

    @property
    def embedding_dim(self) -> int:
        return self.num_parts * self.part_dim + self.global_dim

    def forward(self, roi: torch.Tensor) -> MPMGOutput:
        """(N, C, h, w) ROI features -> :class:`MPMGOutput`."""
        n, c, h, w = roi.shape
        blocks = torch.split(roi, self.blocks, dim=1)
        masks = torch.cat([branch(x) for branch, x in zip(self.branches, blocks)], dim=1)  # (N, K, h, w)
        pooled = torch.einsum("nkhw,nchw->nkc", masks, roi) / (h * w)  # GAP(M_k * ROI), (N, K, C)
        part_feats = torch.einsum("nkc,kcd->nkd", pooled, self.part_weight) + self.part_bias
        part_bn = torch.stack([bn(part_feats[:, k]) for k, bn in enumerate(self.part_bn)], dim=1)
        global_feat, global_bn = self.global_neck(roi.mean(dim=(2, 3)))
        return MPMGOutput(masks, part_feats, part_bn, global_feat, global_bn)


class IdentityClassifiers(nn.Module):
    """One bias-free linear identity classifier per part and one for the global embedding.

    Args:
        num_parts: K.
        part_dim, global_dim: embedding sizes.
        num_identities: classes (all training identities, one id space across sequences).
    """

    def __init__(self, num_parts: int, part_dim: int, global_dim: int, num_identities: int) -> None:
        super().__init__()
        if num_identities < 1:
            raise ValueError(f"num_identities must be >= 1, got {num_identities}")
        self.num_identities = int(num_identities)
        self.part_weight = nn.Parameter(torch.empty(num_parts, part_dim, num_identities))
        nn.init.normal_(self.part_weight, std=0.001)  # BNNeck's classifier init
        self.global_fc = nn.Linear(global_dim, num_identities, bias=False)
        nn.init.normal_(self.global_fc.weight, std=0.001)

    def forward(self, out: MPMGOutput) -> tuple[torch.Tensor, torch.Tensor]:
        """BN embeddings -> (part logits (N, K, I), global logits (N, I))."""
        return torch.einsum("nkd,kdi->nki", out.part_bn, self.part_weight), self.global_fc(out.global_bn)

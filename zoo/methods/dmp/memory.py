"""DMP's Reference Frame Memory Engine: which past frames a query frame reads from.

- **Short-term memory**: blur a frame's object response with a 2-D Gaussian and take its argmax, the target
  position ``p`` in normalised image coordinates ``((y + 0.5) / h, (x + 0.5) / w)``. A recent frame r joins
  short-term memory when ``||p_t - p_r|| < beta`` (beta = 0.15).
- **Long-term memory**: a far frame is stored when the query reconstructed from it alone agrees with the
  query reconstructed from short-term memory, ``IoU(I_long, I_short) > gamma`` (gamma = 0.85).
- **Bounded capacity**: when long-term memory is over capacity, the frame least distinct from the others is
  dropped (``prune="distinct"``), not the oldest (``prune="fifo"``, the ablation). Distinctiveness of a frame
  is its smallest Frechet distance to another stored frame, each frame summarised by the mean and covariance
  of its feature cells (the FID formula on the zoo's own features; the paper prunes "by FID").

The object response is the propagated foreground probability at inference and, in self-supervised
training where no object is labelled, the L2 norm of the feature cells (config ``train_response``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

__all__ = [
    "PRUNE_RULES",
    "FeatureStats",
    "LongTermMemory",
    "frechet_distance",
    "gaussian_blur",
    "mask_iou",
    "soft_iou",
    "select_short_term",
    "target_position",
]

PRUNE_RULES = ("distinct", "fifo")


def gaussian_blur(response: torch.Tensor, sigma: float) -> torch.Tensor:
    """(h, w) map blurred by a normalised 2-D Gaussian of std ``sigma`` cells (radius ceil(3 sigma), zero
    padding); ``sigma <= 0`` returns the map unchanged."""
    if sigma <= 0:
        return response
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=response.dtype, device=response.device)
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    m = response[None, None]
    m = F.conv2d(m, g.view(1, 1, 1, -1), padding=(0, radius))
    m = F.conv2d(m, g.view(1, 1, -1, 1), padding=(radius, 0))
    return m[0, 0]


def target_position(response: torch.Tensor, sigma: float) -> torch.Tensor:
    """Argmax of the blurred (h, w) response as (2,) ``(y, x)`` cell centres normalised to [0, 1]."""
    h, w = response.shape
    idx = int(gaussian_blur(response.float(), sigma).flatten().argmax())
    return torch.tensor([(idx // w + 0.5) / h, (idx % w + 0.5) / w])


def select_short_term(
    positions: Sequence[torch.Tensor], current: torch.Tensor, beta: float, size: int
) -> list[int]:
    """Indices (into ``positions``, oldest first) of the at most ``size`` most recent frames whose target
    position lies within ``beta`` of ``current``; returned oldest first."""
    picked = [i for i in range(len(positions) - 1, -1, -1) if float((positions[i] - current).norm()) < beta]
    return sorted(picked[: max(0, int(size))])


def mask_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    """IoU of two bool masks; 1.0 when both are empty (they agree)."""
    union = int((a | b).sum())
    return 1.0 if union == 0 else int((a & b).sum()) / union


def soft_iou(a: torch.Tensor, b: torch.Tensor) -> float:
    """Weighted Jaccard ``sum min(a, b) / sum max(a, b)`` of two maps min-max normalised together to [0, 1]
    (the IoU of continuous reconstructions, e.g. colour channels in training); 1.0 for constant maps."""
    lo = torch.minimum(a.min(), b.min())
    hi = torch.maximum(a.max(), b.max())
    if float(hi - lo) <= 0:
        return 1.0
    a, b = (a - lo) / (hi - lo), (b - lo) / (hi - lo)
    den = float(torch.maximum(a, b).sum())
    return 1.0 if den == 0 else float(torch.minimum(a, b).sum()) / den


@dataclass(frozen=True)
class FeatureStats:
    """Gaussian summary of a frame's feature cells: mean (C,) and covariance (C, C), float64."""

    mean: torch.Tensor
    cov: torch.Tensor

    @classmethod
    def of(cls, feats: torch.Tensor) -> FeatureStats:
        """From (C, h, w) or (N, C) features."""
        x = (feats.flatten(1).T if feats.ndim == 3 else feats).double()
        mean = x.mean(0)
        d = x - mean
        cov = d.T @ d / max(1, x.shape[0] - 1)
        return cls(mean, cov)


def _sqrtm_psd(m: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh((m + m.T) / 2)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def frechet_distance(a: FeatureStats, b: FeatureStats) -> float:
    """``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)`` (the FID formula), >= 0."""
    ra = _sqrtm_psd(a.cov)
    cross = torch.linalg.eigvalsh(ra @ b.cov @ ra).clamp(min=0).sqrt().sum()
    d = float(((a.mean - b.mean) ** 2).sum() + torch.trace(a.cov) + torch.trace(b.cov) - 2 * cross)
    return max(0.0, d)


@dataclass
class LongTermMemory:
    """Bounded long-term memory of frame entries (any payload) with their :class:`FeatureStats`.

    Args:
        capacity: frames kept (0 disables the memory).
        prune: ``distinct`` (drop the frame whose nearest other frame is closest, the older on ties) or
            ``fifo`` (drop the oldest).
    """

    capacity: int
    prune: str = "distinct"
    entries: list = field(default_factory=list)
    stats: list[FeatureStats] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.prune not in PRUNE_RULES:
            raise ValueError(f"prune must be one of {PRUNE_RULES}, got {self.prune!r}")
        if self.capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {self.capacity}")

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: object, stats: FeatureStats) -> int | None:
        """Store ``entry``; returns the index (before removal) of the pruned entry, or None."""
        if self.capacity == 0:
            return None
        self.entries.append(entry)
        self.stats.append(stats)
        if len(self.entries) <= self.capacity:
            return None
        drop = 0 if self.prune == "fifo" else self._least_distinct()
        del self.entries[drop]
        del self.stats[drop]
        return drop

    def _least_distinct(self) -> int:
        n = len(self.stats)
        d = torch.full((n, n), float("inf"), dtype=torch.float64)
        for i in range(n):
            for j in range(i + 1, n):
                d[i, j] = d[j, i] = frechet_distance(self.stats[i], self.stats[j])
        nearest = d.min(dim=1).values
        return int(torch.nonzero(nearest == nearest.min())[0])  # the oldest of the tied

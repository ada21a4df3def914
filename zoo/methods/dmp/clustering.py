"""Frame region clustering: split each frame's feature map into an s x s grid, cluster the cells of the
query and reference frames together by feature similarity plus spatial proximity, and label every feature
cell with its grid cell's cluster. Affinities are then computed only between cells of matching clusters
(:func:`zoo.methods.dmp.affinity.cluster_restriction`).

The paper gives neither s, the weight lambda nor the clustering algorithm; the zoo's choice (config keys
``grid``, ``cluster_lambda``, ``clusters``, ``kmeans_iters``) is k-means with k = 4 on
``[unit-norm mean feature, lambda * (y, x) cell centre in [0, 1]]``, s = 4, lambda = 0.5. The frames are
clustered jointly so a cluster id means the same region in every frame. Initialisation is farthest-point
from the first cell, so the result is deterministic (no random seed to carry).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["cell_points", "kmeans", "region_clusters"]


def cell_points(feats: torch.Tensor, grid: int, lam: float) -> torch.Tensor:
    """(N, C, h, w) feature maps -> (N * grid^2, C + 2) clustering points: each grid cell's unit-norm mean
    feature and ``lam`` times its centre ``(y, x)`` in [0, 1] (row-major cells, frame after frame)."""
    n, c = feats.shape[:2]
    means = F.normalize(F.adaptive_avg_pool2d(feats, grid).flatten(2).transpose(1, 2), dim=2)  # (N, s*s, C)
    centres = (torch.arange(grid, dtype=feats.dtype, device=feats.device) + 0.5) / grid
    cy, cx = torch.meshgrid(centres, centres, indexing="ij")
    pos = torch.stack([cy.reshape(-1), cx.reshape(-1)], dim=1) * lam
    return torch.cat([means, pos.expand(n, -1, -1)], dim=2).reshape(n * grid * grid, c + 2)


def kmeans(points: torch.Tensor, k: int, iters: int = 10) -> torch.Tensor:
    """Lloyd's k-means with farthest-point initialisation from point 0.

    Args:
        points: (N, D) float.
        k: clusters (capped at N).
        iters: assignment/update rounds (an empty cluster keeps its centre).

    Returns:
        (N,) int64 cluster ids in [0, k).
    """
    k = max(1, min(int(k), points.shape[0]))
    centres = [points[0]]
    dist = ((points - points[0]) ** 2).sum(1)
    for _ in range(1, k):
        nxt = int(dist.argmax())
        centres.append(points[nxt])
        dist = torch.minimum(dist, ((points - points[nxt]) ** 2).sum(1))
    c = torch.stack(centres)
    labels = torch.cdist(points, c).argmin(1)
    for _ in range(int(iters)):
        counts = torch.bincount(labels, minlength=k).to(points.dtype)
        sums = torch.zeros_like(c).index_add_(0, labels, points)
        c = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], c)
        new = torch.cdist(points, c).argmin(1)
        if torch.equal(new, labels):
            break
        labels = new
    return labels


@torch.no_grad()
def region_clusters(
    feats: torch.Tensor, grid: int = 4, clusters: int = 4, lam: float = 0.5, iters: int = 10
) -> torch.Tensor:
    """Cluster id of every feature cell of N frames clustered jointly.

    Args:
        feats: (N, C, h, w) feature maps of the query and reference frames.
        grid: s, grid cells per side.
        clusters: k.
        lam: weight of spatial proximity against feature similarity.
        iters: k-means rounds.

    Returns:
        (N, h, w) int64 cluster ids.
    """
    n, _, h, w = feats.shape
    labels = kmeans(cell_points(feats.float(), grid, lam), clusters, iters).view(n, grid, grid)
    rows = (torch.arange(h, device=feats.device) * grid) // h
    cols = (torch.arange(w, device=feats.device) * grid) // w
    return labels[:, rows][:, :, cols]

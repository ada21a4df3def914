"""IFF: intra-frame feature fusion. Each frame's detections form a spatial graph; a GCN mixes every
detection's appearance vector with its neighbours' before the SUSHI hierarchy is built.

``f' = a f + b GCN(f)`` with learnable scalars a (1.0) and b (0.1), a 2-layer GCN with symmetric
normalisation ``D^-1/2 (A + I) D^-1/2`` (Kipf and Welling) whose hidden and output width is the appearance
width. The paper's non-learned ablation (its Eq. 7) is ``mode="average"``: ``f' = a f + b mean(neighbours)``
with a and b fixed. Neighbours (a choice the paper leaves open): centre distance below ``radius`` times the
pair's mean box height (``graph="radius"``), or the ``k`` nearest centres (``graph="knn"``); self-loops are
added by the normalisation. With ``b = 0`` the output is the input, bit for bit.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["IFF", "IFF_MODES", "frame_graph"]

IFF_MODES = ("gcn", "average")


def frame_graph(frames: np.ndarray, boxes: np.ndarray, graph: str = "radius", radius: float = 1.5,
                k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Directed neighbour pairs (i, j), i != j, both in the same frame (symmetric for ``radius``).

    Args:
        frames: (N,) frame of each detection; boxes: (N, 4) ``xyxy``.
        graph: ``radius`` (centre distance < radius x mean height) or ``knn`` (k nearest centres, then
            symmetrised).
    """
    if graph not in ("radius", "knn"):
        raise ValueError(f"IFF graph must be 'radius' or 'knn', got {graph!r}")
    frames = np.asarray(frames, np.int64)
    boxes = np.asarray(boxes, np.float64)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)
    order = np.argsort(frames, kind="stable")
    cuts = np.flatnonzero(np.diff(frames[order])) + 1
    src, dst = [], []
    for group in np.split(order, cuts):
        n = group.size
        if n < 2:
            continue
        c = centres[group]
        dist = np.linalg.norm(c[:, None] - c[None], axis=2)
        np.fill_diagonal(dist, np.inf)
        if graph == "radius":
            mean_h = (heights[group][:, None] + heights[group][None]) / 2
            adj = dist < radius * mean_h
        else:
            kk = min(k, n - 1)
            nearest = np.argsort(dist, axis=1)[:, :kk]
            adj = np.zeros((n, n), bool)
            adj[np.repeat(np.arange(n), kk), nearest.ravel()] = True
            adj |= adj.T
        i, j = np.nonzero(adj)
        src.append(group[i])
        dst.append(group[j])
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(src).astype(np.int64), np.concatenate(dst).astype(np.int64)


class IFF(nn.Module):
    """Intra-frame feature fusion over (N, D) per-detection appearance vectors.

    Args:
        dim: appearance width D.
        mode: ``gcn`` (learned, 2 layers) or ``average`` (Eq. 7, no learned weights).
        a, b: initial residual weights (learnable in ``gcn`` mode unless ``learn_ab=False``).
        graph, radius, k: neighbour rule (see :func:`frame_graph`).
    """

    def __init__(self, dim: int, *, mode: str = "gcn", a: float = 1.0, b: float = 0.1, learn_ab: bool = True,
                 graph: str = "radius", radius: float = 1.5, k: int = 4) -> None:
        super().__init__()
        if mode not in IFF_MODES:
            raise ValueError(f"IFF mode must be one of {IFF_MODES}, got {mode!r}")
        self.mode, self.graph, self.radius, self.k = mode, graph, float(radius), int(k)
        learn = learn_ab and mode == "gcn"
        self.a = nn.Parameter(torch.tensor(float(a)), requires_grad=learn)
        self.b = nn.Parameter(torch.tensor(float(b)), requires_grad=learn)
        self.layers = nn.ModuleList([nn.Linear(dim, dim), nn.Linear(dim, dim)]) if mode == "gcn" else None

    def _propagate(self, x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
        """``D^-1/2 (A + I) D^-1/2 x``: neighbour sums plus the self-loop, symmetric weights."""
        out = x * norm.pow(2)[:, None]  # self loop: 1 / deg
        if src.numel():
            w = (norm[src] * norm[dst])[:, None]
            out = out.index_add(0, dst, x[src] * w)
        return out

    def forward(self, feat: torch.Tensor, frames: np.ndarray, boxes: np.ndarray) -> torch.Tensor:
        """(N, D) fused features of detections in ``frames`` (N,) with ``boxes`` (N, 4)."""
        n = feat.shape[0]
        if n == 0:
            return feat
        s, d = frame_graph(frames, boxes, self.graph, self.radius, self.k)
        src = torch.as_tensor(s, device=feat.device)
        dst = torch.as_tensor(d, device=feat.device)
        deg = torch.ones(n, dtype=feat.dtype, device=feat.device)
        if src.numel():
            deg = deg.index_add(0, dst, torch.ones(src.numel(), dtype=feat.dtype, device=feat.device))
        if self.mode == "average":
            sums = torch.zeros_like(feat).index_add(0, dst, feat[src]) if src.numel() else torch.zeros_like(feat)
            count = (deg - 1).clamp(min=1)[:, None]
            # a detection without neighbours keeps its own vector (its "mean of neighbours" is itself)
            mean = torch.where(deg[:, None] > 1, sums / count, feat)
            return self.a * feat + self.b * mean
        norm = deg.rsqrt()
        h = torch.relu(self.layers[0](self._propagate(feat, src, dst, norm)))
        h = self.layers[1](self._propagate(h, src, dst, norm))
        return self.a * feat + self.b * h

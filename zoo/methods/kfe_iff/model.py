"""The SUSHI network over one clip: IFF (optional), then the level hierarchy solved level by level.

:class:`SushiNet` owns the learned parts (level embedding, the level-0 MPN, the MPN shared by levels >= 1,
the IFF module) and runs the hierarchy for training (losses per level and step, next levels built from the
model's own rounded predictions) and for inference (the same rounding; returns each detection's trajectory
within the clip).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from zoo.methods.kfe_iff.hierarchy import (
    Nodes,
    build_edges,
    edge_features,
    edge_labels,
    level0_nodes,
    merge_nodes,
)
from zoo.methods.kfe_iff.iff import IFF
from zoo.methods.kfe_iff.losses import focal_loss
from zoo.methods.kfe_iff.mpn import MPN
from zoo.methods.kfe_iff.projector import project_flow

__all__ = ["Clip", "HierarchyConfig", "SushiNet"]


@dataclass(frozen=True)
class HierarchyConfig:
    """Graph-building constants (SUSHI's defaults)."""

    num_levels: int = 9
    top_k: int = 10
    prune: str = "reciprocal"
    rank_motion_weight: float = 0.05
    rank_app_scale: float = 20.0
    giou_missing: float = -2.0
    threshold: float = 0.5
    projector: str = "lp"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Clip:
    """The detections of one clip, the unit SUSHI solves.

    Attributes:
        frames: (N,) int64 1-based frames; boxes: (N, 4) float64 ``xyxy``; feat: (N, D) float tensor.
        gt: (N,) int64 GT ids (-1: unmatched detection) or None; slots: (N,) int64 base window slot.
        fps: frame rate (edge time gaps are in seconds).
        start, length: first frame and number of frames of the clip.
    """

    frames: np.ndarray
    boxes: np.ndarray
    feat: torch.Tensor
    slots: np.ndarray
    fps: float
    start: int
    length: int
    gt: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.frames.shape[0])


def fixed_slots(frames: np.ndarray, start: int, base_window: int = 2) -> np.ndarray:
    """SUSHI's level-0 windows: ``floor((frame - start) / base_window)``."""
    return ((np.asarray(frames, np.int64) - start) // base_window).astype(np.int64)


def levels_for(slots: np.ndarray, num_levels: int) -> int:
    """Levels a clip needs so that its last level's window (``slot >> level``) holds every node: one more
    than the bit length of the largest slot, at most ``num_levels`` (fixed 2-frame slots of a 512-frame
    clip: 9 levels; of a 32-frame clip: 5)."""
    top = int(np.max(slots)) if np.size(slots) else 0
    return max(1, min(num_levels, top.bit_length() + 1))


class SushiNet(nn.Module):
    """SUSHI's learned parts and its level-by-level solver.

    Args:
        feat_dim: appearance width D.
        hierarchy: graph constants (:class:`HierarchyConfig` fields).
        mpn: :class:`~zoo.methods.kfe_iff.mpn.MPN` widths and steps.
        node_input: ``zeros`` (SUSHI: appearance enters through edge features only) or ``appearance``.
        iff: None (off) or :class:`~zoo.methods.kfe_iff.iff.IFF` settings.
        focal_gamma: focal loss gamma (1).
    """

    def __init__(
        self,
        feat_dim: int,
        hierarchy: dict | None = None,
        mpn: dict | None = None,
        node_input: str = "zeros",
        iff: dict | None = None,
        focal_gamma: float = 1.0,
    ) -> None:
        super().__init__()
        if node_input not in ("zeros", "appearance"):
            raise ValueError(f"node_input must be 'zeros' or 'appearance', got {node_input!r}")
        self.cfg = HierarchyConfig(**(hierarchy or {}))
        mpn = dict(mpn or {})
        self.feat_dim, self.node_input, self.focal_gamma = int(feat_dim), node_input, float(focal_gamma)
        edge_dim = int(mpn.get("edge_dim", 16))
        self.level_embedding = nn.Embedding(self.cfg.num_levels, edge_dim)
        self.mpn0 = MPN(6, self.feat_dim, **mpn)
        self.mpn_up = MPN(7, self.feat_dim, **mpn) if self.cfg.num_levels > 1 else None
        self.iff = IFF(self.feat_dim, **iff) if iff is not None else None

    # ------------------------------------------------------------------------------------------ levels
    def _mpn(self, level: int) -> MPN:
        return self.mpn0 if level == 0 else self.mpn_up

    def _graph(self, nodes: Nodes, level: int, last: bool, fps: float):
        c = self.cfg
        src, dst = build_edges(nodes, level, last, top_k=c.top_k, prune=c.prune,
                               rank_motion_weight=c.rank_motion_weight, rank_app_scale=c.rank_app_scale,
                               giou_missing=c.giou_missing)
        attr = edge_features(nodes, src, dst, level, fps, c.giou_missing) if src.size else None
        return src, dst, attr

    def _logits(self, nodes: Nodes, src, dst, attr, level: int) -> torch.Tensor:
        x = nodes.feat if self.node_input == "appearance" else torch.zeros_like(nodes.feat)
        emb = self.level_embedding.weight[level]
        return self._mpn(level)(x, src, dst, attr, emb)

    def _select(self, logits: torch.Tensor, src, dst, m: int) -> np.ndarray:
        """Direction-averaged sigmoid of the last step, thresholded, flow constraints enforced."""
        prob = torch.sigmoid(logits[-1].detach().float()).mean(0).cpu().numpy()
        return project_flow(src, dst, prob, m, threshold=self.cfg.threshold, method=self.cfg.projector)

    def features(self, clip: Clip) -> torch.Tensor:
        """(N, D) appearance after IFF (unchanged without it)."""
        if self.iff is None:
            return clip.feat
        return self.iff(clip.feat, clip.frames, clip.boxes)

    def solve(self, clip: Clip, levels: int | None = None, *, with_loss: bool = False,
              ) -> tuple[np.ndarray, torch.Tensor | None, dict]:
        """Run the hierarchy on a clip.

        Args:
            clip: the detections.
            levels: levels to run (default: as many as the clip length needs, at most ``num_levels``); the
                last one run covers the whole clip.
            with_loss: compute the focal loss (needs ``clip.gt``).

        Returns:
            ``(det_track (N,) int64 trajectory index of every detection within the clip, loss or None,
            stats {edges per level, positives, ...})``.
        """
        n = len(clip)
        total = levels_for(clip.slots, self.cfg.num_levels) if levels is None else int(levels)
        total = max(1, min(total, self.cfg.num_levels))
        if n == 0:
            return np.zeros(0, np.int64), None, {}
        feat = self.features(clip)
        nodes = level0_nodes(clip.frames, clip.boxes, feat, clip.gt, clip.slots)
        det_gt = None if clip.gt is None else np.asarray(clip.gt, np.int64)
        loss = feat.sum() * 0.0 if with_loss else None  # keeps every parameter in the graph (DDP)
        stats: dict = {"edges": [], "positives": []}
        for level in range(total):
            last = level == total - 1
            src, dst, attr = self._graph(nodes, level, last, clip.fps)
            stats["edges"].append(int(src.size))
            if src.size:
                logits = self._logits(nodes, src, dst, attr, level)
                if with_loss:
                    labels = torch.as_tensor(edge_labels(nodes, src, dst, level, last), dtype=logits.dtype,
                                             device=logits.device)
                    stats["positives"].append(int(labels.sum().item()))
                    both = labels.expand(logits.shape[0], 2, -1)
                    loss = loss + focal_loss(logits, both, self.focal_gamma, reduce_dims=(1, 2)).sum()
                keep = self._select(logits, src, dst, len(nodes))
                nodes = merge_nodes(nodes, src[keep], dst[keep], det_gt)
            else:
                nodes = merge_nodes(nodes, src, dst, det_gt)
        return nodes.det_node, loss, stats

    def oracle(self, clip: Clip) -> np.ndarray:
        """The trajectories the hierarchy reaches with perfect edge classification (labels as
        probabilities): the upper bound of the learned model given the same graphs."""
        total = levels_for(clip.slots, self.cfg.num_levels)
        nodes = level0_nodes(clip.frames, clip.boxes, clip.feat, clip.gt, clip.slots)
        det_gt = np.asarray(clip.gt, np.int64)
        for level in range(total):
            last = level == total - 1
            src, dst, _ = self._graph(nodes, level, last, clip.fps)
            lab = edge_labels(nodes, src, dst, level, last) if src.size else np.zeros(0)
            keep = project_flow(src, dst, lab, len(nodes), threshold=self.cfg.threshold,
                                method=self.cfg.projector)
            nodes = merge_nodes(nodes, src[keep], dst[keep], det_gt)
        return nodes.det_node

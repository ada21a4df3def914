"""SUSHI's graph hierarchy over one clip: the nodes of each level, pruned edges, edge features, labels, and
the merge of positive-edge components into the next level's nodes.

A clip's level-0 nodes are its detections. Level ``d`` connects nodes inside windows of the clip: every
level-0 node has a *slot* (SUSHI: ``floor((frame - clip_start) / 2)``, so a window covers 2 frames; KFE's
``level0`` mode: its key-frame segment), the level-``d`` window of a node is ``floor(slot / 2**d)``
(coverage 2, 4, ..., 2**(d+1) frames), and the last level's window is the whole clip. Inside a window an edge
``i -> j`` exists when ``i`` ends before ``j`` starts; only reciprocal top-k neighbours by a ranking distance
are kept. After a level is solved, each connected component of its selected edges becomes one node of the
next level (mean appearance, first/last frame and box, majority GT id).

Graph topology is numpy (not differentiable); appearance enters as torch tensors so that edge features, and
the merged nodes' mean appearances, carry gradients back to the intra-frame fusion (IFF).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from zoo.core.boxes import box_giou

__all__ = ["EdgeSet", "Nodes", "build_edges", "edge_features", "edge_labels", "level0_nodes", "merge_nodes",
           "window_of"]

#: edge feature names, in column order (levels >= 1 append ``motion_giou``)
EDGE_FEATURES = ("time_gap_s", "feet_dx", "feet_dy", "log_height_ratio", "log_width_ratio", "appearance_dist")


@dataclass
class Nodes:
    """The M nodes of one level of a clip's hierarchy.

    Attributes:
        start, end: (M,) int64 first and last frame (absolute, 1-based) covered by the node.
        start_box, end_box: (M, 4) float64 ``xyxy`` pixels at ``start`` and ``end``.
        feat: (M, D) float tensor, appearance (level 0: the detection's; above: mean over the members).
        gt: (M,) int64 GT identity (-1: none / no majority).
        slot: (M,) int64 base window slot of the node (see the module docstring).
        det_node: (N0,) int64 node index of every level-0 detection of the clip.
    """

    start: np.ndarray
    end: np.ndarray
    start_box: np.ndarray
    end_box: np.ndarray
    feat: torch.Tensor
    gt: np.ndarray
    slot: np.ndarray
    det_node: np.ndarray

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def velocity(self) -> np.ndarray:
        """(M, 4) per-frame ``xyxy`` velocity from the end boxes (NaN for single-frame nodes): the
        linear-motion model the forecast GIoU uses."""
        span = (self.end - self.start).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            v = (self.end_box - self.start_box) / span[:, None]
        v[span <= 0] = np.nan
        return v


@dataclass
class EdgeSet:
    """Directed, time-ordered edges of one level: ``src`` ends before ``dst`` starts.

    Attributes:
        src, dst: (E,) int64 node indices.
        attr: (E, F) float tensor of edge features (:data:`EDGE_FEATURES`, + ``motion_giou`` above level 0).
        labels: (E,) float tensor in {0, 1} (1: same GT id and ``dst`` is ``src``'s next same-id node), or
            None without GT.
    """

    src: np.ndarray
    dst: np.ndarray
    attr: torch.Tensor
    labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.src.shape[0])


def level0_nodes(
    frames: np.ndarray, boxes: np.ndarray, feat: torch.Tensor, gt: np.ndarray | None, slots: np.ndarray
) -> Nodes:
    """Level 0: one node per detection (frames (N,) 1-based, boxes (N, 4) ``xyxy``, feat (N, D), gt (N,)
    or None, slots (N,))."""
    n = int(frames.shape[0])
    frames = np.asarray(frames, np.int64)
    boxes = np.asarray(boxes, np.float64).reshape(n, 4)
    gt = np.full(n, -1, np.int64) if gt is None else np.asarray(gt, np.int64)
    return Nodes(frames, frames.copy(), boxes, boxes.copy(), feat, gt, np.asarray(slots, np.int64),
                 np.arange(n, dtype=np.int64))


def window_of(nodes: Nodes, level: int, last: bool) -> np.ndarray:
    """(M,) window index of every node at ``level`` (0 for all at the last level: it covers the clip)."""
    if last:
        return np.zeros(len(nodes), np.int64)
    return nodes.slot >> level


def _feet(boxes: np.ndarray) -> np.ndarray:
    """(N, 2) bottom-centre point of ``xyxy`` boxes."""
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)


def _forecast_giou(nodes: Nodes, src: np.ndarray, dst: np.ndarray, missing: float) -> np.ndarray:
    """GIoU of ``src`` moved forward and ``dst`` moved backward, each by its own linear motion, to the middle
    of the gap; ``missing`` where either node has no velocity (a single frame). Clamped to [-2, 1]."""
    out = np.full(src.shape[0], float(missing))
    if src.size == 0:
        return out
    vel = nodes.velocity()
    mid = (nodes.end[src] + nodes.start[dst]) / 2.0
    fwd = nodes.end_box[src] + vel[src] * (mid - nodes.end[src])[:, None]
    bwd = nodes.start_box[dst] - vel[dst] * (nodes.start[dst] - mid)[:, None]
    ok = np.isfinite(fwd).all(1) & np.isfinite(bwd).all(1)
    if ok.any():
        a, b = fwd[ok], bwd[ok]
        # the diagonal of the pairwise GIoU, computed pair by pair (E x 1 x 4 against E x 1 x 4)
        out[ok] = box_giou(a[:, None, :], b[:, None, :])[:, 0, 0]
    return np.clip(out, -2.0, 1.0)


def _topk_rank(node: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Rank (0 = nearest) of each pair within the list of pairs of its ``node``, by ``dist``."""
    order = np.lexsort((dist, node))
    sorted_node = node[order]
    first = np.searchsorted(sorted_node, sorted_node, side="left")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - first
    return rank


def build_edges(
    nodes: Nodes,
    level: int,
    last: bool,
    *,
    top_k: int = 10,
    prune: str = "reciprocal",
    rank_motion_weight: float = 0.05,
    rank_app_scale: float = 20.0,
    giou_missing: float = -2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate edges of a level after top-k pruning: (src, dst) int64 arrays, time-ordered.

    Pairs inside one window with ``end[src] < start[dst]``; ranking distance: level 0, feet-point distance
    in pixels; above, ``2 - (w * forecast_GIoU + (1 - w) * exp(-||a_i - a_j|| / scale))``. ``prune``:
    ``reciprocal`` keeps a pair when each end is among the other's ``top_k`` nearest; ``either`` when one is.
    """
    if prune not in ("reciprocal", "either"):
        raise ValueError(f"prune must be 'reciprocal' or 'either', got {prune!r}")
    m = len(nodes)
    if m < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    win = window_of(nodes, level, last)
    src_l, dst_l = [], []
    order = np.argsort(win, kind="stable")
    bounds = np.flatnonzero(np.diff(win[order])) + 1
    for group in np.split(order, bounds):
        if group.size < 2:
            continue
        ends, starts = nodes.end[group], nodes.start[group]
        ok = ends[:, None] < starts[None, :]
        i, j = np.nonzero(ok)
        src_l.append(group[i])
        dst_l.append(group[j])
    if not src_l:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src = np.concatenate(src_l).astype(np.int64)
    dst = np.concatenate(dst_l).astype(np.int64)
    if src.size == 0:
        return src, dst
    if level == 0:
        dist = np.linalg.norm(_feet(nodes.end_box[src]) - _feet(nodes.start_box[dst]), axis=1)
    else:
        feat = nodes.feat.detach()
        app = torch.linalg.vector_norm(feat[src] - feat[dst], dim=1).double().cpu().numpy()
        giou = _forecast_giou(nodes, src, dst, giou_missing)
        dist = 2.0 - (rank_motion_weight * giou + (1.0 - rank_motion_weight) * np.exp(-app / rank_app_scale))
    # a pair is listed once for its src and once for its dst: rank it within both lists
    r_src = _topk_rank(src, dist)
    r_dst = _topk_rank(dst, dist)
    keep = (r_src < top_k) & (r_dst < top_k) if prune == "reciprocal" else (r_src < top_k) | (r_dst < top_k)
    return src[keep], dst[keep]


def edge_features(
    nodes: Nodes, src: np.ndarray, dst: np.ndarray, level: int, fps: float, giou_missing: float = -2.0
) -> torch.Tensor:
    """(E, 6) edge features at level 0, (E, 7) above (see :data:`EDGE_FEATURES`), between the closest-in-time
    ends: ``src``'s last box and ``dst``'s first. Differentiable in ``nodes.feat``.

    Columns: time gap in seconds; feet dx and dy over the pair's mean box height; ``log(h_dst / h_src)``;
    ``log(w_dst / w_src)``; L2 appearance distance; (levels >= 1) the linear-motion forecast GIoU.
    """
    feat = nodes.feat
    a, b = nodes.end_box[src], nodes.start_box[dst]
    ha, hb = np.maximum(a[:, 3] - a[:, 1], 1e-6), np.maximum(b[:, 3] - b[:, 1], 1e-6)
    wa, wb = np.maximum(a[:, 2] - a[:, 0], 1e-6), np.maximum(b[:, 2] - b[:, 0], 1e-6)
    mean_h = (ha + hb) / 2.0
    fa, fb = _feet(a), _feet(b)
    geo = [
        (nodes.start[dst] - nodes.end[src]) / float(fps),
        (fb[:, 0] - fa[:, 0]) / mean_h,
        (fb[:, 1] - fa[:, 1]) / mean_h,
        np.log(hb / ha),
        np.log(wb / wa),
    ]
    geo_t = torch.as_tensor(np.stack(geo, axis=1), dtype=feat.dtype, device=feat.device)
    idx_s = torch.as_tensor(src, device=feat.device)
    idx_d = torch.as_tensor(dst, device=feat.device)
    diff = feat.index_select(0, idx_s) - feat.index_select(0, idx_d)
    # sqrt has an infinite gradient at 0 (two identical vectors): keep a tiny floor inside
    app = torch.sqrt((diff * diff).sum(1) + 1e-12)
    cols = [geo_t, app[:, None]]
    if level >= 1:
        giou = _forecast_giou(nodes, src, dst, giou_missing)
        cols.append(torch.as_tensor(giou, dtype=feat.dtype, device=feat.device)[:, None])
    return torch.cat(cols, dim=1)


def edge_labels(nodes: Nodes, src: np.ndarray, dst: np.ndarray, level: int, last: bool) -> np.ndarray:
    """(E,) float64 labels: 1 where both ends share a GT id (not -1) and ``dst`` is the temporally nearest
    node with that id after ``src`` inside the window."""
    if src.size == 0:
        return np.zeros(0)
    win = window_of(nodes, level, last)
    gt = nodes.gt
    same = (gt[src] == gt[dst]) & (gt[src] >= 0)
    if not same.any():
        return np.zeros(src.size)
    # next same-id node after each node, within its window: sort by (window, id, start)
    m = len(nodes)
    order = np.lexsort((nodes.start, gt, win))
    nxt = np.full(m, -1, np.int64)
    a, b = order[:-1], order[1:]
    cont = (win[a] == win[b]) & (gt[a] == gt[b]) & (gt[a] >= 0) & (nodes.end[a] < nodes.start[b])
    nxt[a[cont]] = b[cont]
    return (same & (nxt[src] == dst)).astype(np.float64)


def merge_nodes(nodes: Nodes, src: np.ndarray, dst: np.ndarray, det_gt: np.ndarray | None) -> Nodes:
    """The next level: one node per connected component of the selected edges ``src -> dst``.

    Members' appearance is averaged (differentiable), the component starts at its earliest member's start
    (with that member's start box) and ends at its latest member's end; its GT id is the majority id of its
    level-0 detections (``det_gt`` (N0,)) when that id holds at least half of them, else -1.
    """
    m = len(nodes)
    graph = coo_matrix((np.ones(src.size), (src, dst)), shape=(m, m))
    k, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    # earliest start / latest end member of each component
    first = np.full(k, -1, np.int64)
    last = np.full(k, -1, np.int64)
    by_start = np.lexsort((nodes.start, comp))
    first[comp[by_start[::-1]]] = by_start[::-1]  # the last write per component wins: its smallest start
    by_end = np.lexsort((nodes.end, comp))
    last[comp[by_end]] = by_end  # the last write wins: its largest end
    feat = nodes.feat
    idx = torch.as_tensor(comp, device=feat.device)
    sums = torch.zeros(k, feat.shape[1], dtype=feat.dtype, device=feat.device).index_add_(0, idx, feat)
    counts = torch.zeros(k, dtype=feat.dtype, device=feat.device).index_add_(
        0, idx, torch.ones(m, dtype=feat.dtype, device=feat.device))
    mean = sums / counts[:, None]
    det_node = comp[nodes.det_node]
    gt = np.full(k, -1, np.int64)
    if det_gt is not None and det_gt.size:
        ok = det_gt >= 0
        if ok.any():
            # majority id per component among ALL its detections (unlabelled ones count against the share)
            size = np.bincount(det_node, minlength=k)
            pairs = np.stack([det_node[ok], det_gt[ok]], axis=1)
            uniq, cnt = np.unique(pairs, axis=0, return_counts=True)
            best = np.lexsort((-cnt, uniq[:, 0]))
            uniq, cnt = uniq[best], cnt[best]
            head = np.ones(uniq.shape[0], bool)
            head[1:] = uniq[1:, 0] != uniq[:-1, 0]
            cn, ci, cc = uniq[head, 0], uniq[head, 1], cnt[head]
            major = cc >= 0.5 * size[cn]
            gt[cn[major]] = ci[major]
    slot = np.full(k, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(slot, comp, nodes.slot)
    return Nodes(
        start=nodes.start[first], end=nodes.end[last], start_box=nodes.start_box[first],
        end_box=nodes.end_box[last], feat=mean, gt=gt, slot=slot, det_node=det_node,
    )

"""FineTrack's training objective.

``L = alpha (L_cls^p + L_tri^p) + beta (L_cls^g + L_tri^g) + gamma L_div`` with ``alpha = 0.5 K``,
``beta = 0.3``, ``gamma = 2``. Part terms are means over the K parts; classification is cross-entropy with
label smoothing, triplet is batch-hard with a margin, and ``L_div`` is the mean cosine similarity between
different parts of the same target.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["FineTrackLoss", "batch_hard_triplet", "diversity_loss"]


def batch_hard_triplet(feats: torch.Tensor, labels: torch.Tensor, margin: float = 0.3) -> torch.Tensor:
    """Batch-hard triplet loss (Hermans et al., 2017) on Euclidean distances.

    For every anchor: its farthest same-identity sample and its closest other-identity sample;
    ``max(0, d_ap - d_an + margin)``, averaged over anchors that have both (an identity seen once in the
    batch has no positive and contributes nothing).

    Args:
        feats: (N, D) or (K, N, D) embeddings (K independent sets, e.g. one per part).
        labels: (N,) int64 identities.
        margin: triplet margin.

    Returns:
        Scalar: the mean over anchors (and over the K sets), 0 (with gradient) when no anchor is valid.
    """
    batched = feats.ndim == 3
    x = (feats if batched else feats.unsqueeze(0)).float()
    # float32 even under mixed precision: the 1e-12 clamp below vanishes in float16, and sqrt'(0) is inf
    with torch.autocast(device_type=x.device.type, enabled=False):
        sq = (x * x).sum(-1)
        # squared distances through the Gram matrix; clamped before sqrt so identical rows stay finite
        d2 = sq.unsqueeze(-1) + sq.unsqueeze(-2) - 2.0 * x @ x.transpose(-1, -2)
        dist = d2.clamp_min(1e-12).sqrt()
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(labels.numel(), dtype=torch.bool, device=labels.device)
    pos = same & ~eye
    neg = ~same
    valid = pos.any(1) & neg.any(1)  # (N,)
    if not valid.any():
        return feats.sum() * 0.0
    hardest_pos = dist.masked_fill(~pos, float("-inf")).amax(-1)
    hardest_neg = dist.masked_fill(~neg, float("inf")).amin(-1)
    loss = F.relu(hardest_pos - hardest_neg + margin)  # (K, N)
    return loss[:, valid].mean()


def diversity_loss(parts: torch.Tensor) -> torch.Tensor:
    """``L_div = 1 / (N K (K - 1)) sum_n sum_{i != j} cos(f^{n,i}, f^{n,j})``.

    Args:
        parts: (N, K, D) part features of N targets, K >= 1.

    Returns:
        Scalar mean cosine similarity between different parts of the same target; 0 for K = 1 (no pair
        of different parts: the K=1 ablation trains without a diversity term).
    """
    n, k, _ = parts.shape
    if k < 1:
        raise ValueError(f"diversity loss needs at least 1 part, got K={k}")
    if k == 1:
        return parts.sum() * 0.0  # keeps the graph (and the dtype/device) of the other terms
    with torch.autocast(device_type=parts.device.type, enabled=False):
        unit = F.normalize(parts.float(), dim=-1)
        cos = unit @ unit.transpose(1, 2)  # (N, K, K), diagonal = 1
    off_diagonal = cos.sum() - cos.diagonal(dim1=1, dim2=2).sum()
    return off_diagonal / (n * k * (k - 1))


class FineTrackLoss:
    """The weighted sum of FineTrack's five terms.

    Args:
        num_parts: K.
        alpha: weight of the part terms; None means the paper's ``0.5 * K``.
        beta: weight of the global terms (0.3).
        gamma: weight of the diversity term (2).
        label_smoothing: cross-entropy label smoothing (0.1).
        margin: batch-hard triplet margin (0.3).

    ``L_div`` is computed on the BN part embeddings, the ones concatenated into the association feature
    (the paper says "part features" without naming the side of the BNNeck).
    """

    def __init__(
        self,
        num_parts: int,
        alpha: float | None = None,
        beta: float = 0.3,
        gamma: float = 2.0,
        label_smoothing: float = 0.1,
        margin: float = 0.3,
    ) -> None:
        self.num_parts = int(num_parts)
        self.alpha = 0.5 * self.num_parts if alpha is None else float(alpha)
        self.beta = float(beta)
        self.gamma = float(gamma)
        self.label_smoothing = float(label_smoothing)
        self.margin = float(margin)

    def __call__(
        self,
        part_logits: torch.Tensor,
        global_logits: torch.Tensor,
        part_feats: torch.Tensor,
        global_feat: torch.Tensor,
        part_bn: torch.Tensor,
        labels: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """All terms and the total for N targets.

        Args:
            part_logits: (N, K, I); global_logits: (N, I).
            part_feats: (N, K, Dp) pre-BN part features (triplet); global_feat: (N, Dg) pre-BN (triplet).
            part_bn: (N, K, Dp) BN part features (diversity).
            labels: (N,) int64 identities in [0, I).

        Returns:
            ``{"loss", "cls_part", "tri_part", "cls_global", "tri_global", "div"}`` scalars.
        """
        n, k, num_ids = part_logits.shape
        if k != self.num_parts:
            raise ValueError(f"loss built for K={self.num_parts} parts, got part logits with K={k}")
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_ids):
            raise ValueError(
                f"identity labels must lie in [0, {num_ids}), got [{labels.min()}, {labels.max()}]"
            )
        # mean over parts of per-part means == mean over all N*K rows (every part sees the same N targets)
        cls_part = F.cross_entropy(
            part_logits.reshape(n * k, num_ids),
            labels.repeat_interleave(k),
            label_smoothing=self.label_smoothing,
        )
        tri_part = batch_hard_triplet(part_feats.transpose(0, 1), labels, self.margin)
        cls_global = F.cross_entropy(global_logits, labels, label_smoothing=self.label_smoothing)
        tri_global = batch_hard_triplet(global_feat, labels, self.margin)
        div = diversity_loss(part_bn)
        total = self.alpha * (cls_part + tri_part) + self.beta * (cls_global + tri_global) + self.gamma * div
        return {
            "loss": total,
            "cls_part": cls_part,
            "tri_part": tri_part,
            "cls_global": cls_global,
            "tri_global": tri_global,
            "div": div,
        }

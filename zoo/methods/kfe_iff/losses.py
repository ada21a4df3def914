"""SUSHI's objective: focal loss on edge logits, summed over classified steps and levels."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["focal_loss"]


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, gamma: float = 1.0,
               reduce_dims: Sequence[int] | None = None) -> torch.Tensor:
    """Binary focal loss ``-(1 - p_t)^gamma log p_t`` (Lin et al. 2017, no alpha), averaged over
    ``reduce_dims`` (all dims when None).

    Args:
        logits, labels: same shape; labels in {0, 1}.
        gamma: focusing parameter (SUSHI: 1; 0 gives binary cross-entropy).
    """
    bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    p_t = torch.exp(-bce)
    loss = (1.0 - p_t).pow(gamma) * bce
    if reduce_dims is None:
        return loss.mean()
    return loss.mean(dim=tuple(reduce_dims))

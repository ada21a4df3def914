"""SUSHI's per-level message passing network (the MOT Neural Solver MPN with a level embedding).

Edges are stored once, time-ordered (``src`` earlier); the network runs on both directions of each edge
(2E directed edges with the same initial features), so every edge gets two classifications that inference
averages. The node update is time-aware: messages from past and future neighbours are summed separately
(two MLPs), then combined. All scatter operations are ``index_add_``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["MPN", "mlp"]


def mlp(sizes: Sequence[int], last_act: bool = True) -> nn.Sequential:
    """Linear layers ``sizes[0] -> sizes[1] -> ...`` with ReLU between (and after the last if ``last_act``)."""
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2 or last_act:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class MPN(nn.Module):
    """One level's MPN.

    Args:
        edge_in: input edge features (6 at level 0, 7 above).
        node_in: input node features (the appearance width; SUSHI feeds zeros).
        node_hidden, node_dim: node encoder ``node_in -> node_hidden -> node_dim`` (128, 32).
        edge_hidden, edge_dim: edge encoder ``edge_in -> edge_hidden -> edge_hidden -> edge_dim`` (18, 16).
        edge_update_hidden: edge update ``2 node_dim + 2 edge_dim -> hidden -> edge_dim`` (96 -> 80 -> 16).
        node_update_hidden: past / future message MLPs ``node_dim + edge_dim -> hidden -> node_dim``
            (48 -> 56 -> 32), then ``2 node_dim -> node_dim`` (64 -> 32).
        classifier_hidden: edge classifier ``edge_dim -> hidden -> 1`` (16 -> 8 -> 1).
        steps: message passing steps (12); classify_last: classify after each of the last this many (11).
    """

    def __init__(
        self,
        edge_in: int,
        node_in: int,
        *,
        node_hidden: int = 128,
        node_dim: int = 32,
        edge_hidden: int = 18,
        edge_dim: int = 16,
        edge_update_hidden: int = 80,
        node_update_hidden: int = 56,
        classifier_hidden: int = 8,
        steps: int = 12,
        classify_last: int = 11,
    ) -> None:
        super().__init__()
        if not 1 <= classify_last <= steps:
            raise ValueError(f"classify_last must be in [1, steps={steps}], got {classify_last}")
        self.steps, self.classify_last = int(steps), int(classify_last)
        self.node_encoder = mlp([node_in, node_hidden, node_dim])
        self.edge_encoder = mlp([edge_in, edge_hidden, edge_hidden, edge_dim])
        self.edge_update = mlp([2 * node_dim + 2 * edge_dim, edge_update_hidden, edge_dim])
        self.past_message = mlp([node_dim + edge_dim, node_update_hidden, node_dim])
        self.future_message = mlp([node_dim + edge_dim, node_update_hidden, node_dim])
        self.node_update = mlp([2 * node_dim, node_dim])
        self.classifier = mlp([edge_dim, classifier_hidden, 1], last_act=False)
        self.node_dim, self.edge_dim = node_dim, edge_dim

    def forward(
        self,
        node_x: torch.Tensor,
        src: np.ndarray | torch.Tensor,
        dst: np.ndarray | torch.Tensor,
        edge_attr: torch.Tensor,
        level_embedding: torch.Tensor,
    ) -> torch.Tensor:
        """Edge logits after each classified step.

        Args:
            node_x: (M, node_in) node inputs.
            src, dst: (E,) time-ordered edges (``src`` ends before ``dst`` starts).
            edge_attr: (E, edge_in) edge features.
            level_embedding: (edge_dim,) added to every encoded edge.

        Returns:
            (classify_last, 2, E) logits: ``[:, 0]`` for ``src -> dst``, ``[:, 1]`` for ``dst -> src``.
        """
        m, e = node_x.shape[0], edge_attr.shape[0]
        device = node_x.device
        s = torch.as_tensor(src, device=device, dtype=torch.long)
        d = torch.as_tensor(dst, device=device, dtype=torch.long)
        # directed copies: first half src -> dst (a message from the past into dst), second dst -> src
        tail = torch.cat([s, d])
        head = torch.cat([d, s])
        e0 = self.edge_encoder(edge_attr) + level_embedding
        e0 = torch.cat([e0, e0])
        x = self.node_encoder(node_x)
        h = e0
        outs = []
        for step in range(self.steps):
            h = self.edge_update(torch.cat([x[tail], x[head], h, e0], dim=1))
            msg_in = torch.cat([x[tail], h], dim=1)
            past = self.past_message(msg_in[:e])
            future = self.future_message(msg_in[e:])
            agg_past = torch.zeros(m, self.node_dim, dtype=x.dtype, device=device).index_add_(0, head[:e], past)
            agg_future = torch.zeros(m, self.node_dim, dtype=x.dtype, device=device).index_add_(
                0, head[e:], future)
            x = self.node_update(torch.cat([agg_past, agg_future], dim=1))
            if step >= self.steps - self.classify_last:
                outs.append(self.classifier(h).view(2, e))
        return torch.stack(outs)

"""DMPNet: the encoder, the self-supervised colour-reconstruction objective and the bidirectional target
prediction shared by training and the tracker.

Training (MAST-style, no labels): RGB clips -> Lab normalised by mean (50, 0, 0) / std (50, 127, 127); one of
a/b (random per clip) is zeroed in every frame and the other scaled by 3/2 before the encoder; the last frame
is the query, the memory engine picks its references among the earlier frames, and the dropped channel of
the query (average-pooled to the feature grid) is reconstructed from the references' same channel with
``softmax <q, k>`` over a radius-6 window. Loss: smooth-L1 on ``20 x`` (prediction, target).

Bidirectional prediction: the forward branch restricts the window to the query's region cluster (or is the
plain window when clustering is off); with ``bidirectional`` the backward branch (candidates whose backward
prediction lands on the query) and the plain branch join, and the three reconstructions are fused with
weights ``(1 / (L_x + eps)) / sum_y (1 / (L_y + eps))`` of their own reconstruction losses (detached). Since
reconstruction is linear in the affinity, fusing reconstructions equals reconstructing with the fused
affinity ``sum_x w_x A_x``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.core.color import rgb_to_lab
from zoo.methods.dmp.affinity import (
    backward_restriction,
    backward_topk,
    cluster_restriction,
    propagate,
    window_restriction,
)
from zoo.methods.dmp.clustering import region_clusters
from zoo.methods.dmp.encoder import STRIDE, StrideFourEncoder
from zoo.methods.dmp.memory import (
    PRUNE_RULES,
    select_short_term,
    soft_iou,
    target_position,
)

__all__ = ["LAB_MEAN", "LAB_STD", "RECON_SCALE", "DMPNet", "DMPSettings", "fuse", "normalized_lab"]

LAB_MEAN = (50.0, 0.0, 0.0)
LAB_STD = (50.0, 127.0, 127.0)
#: The loss compares 20 x prediction with 20 x target (MAST's scaling of the normalised channels).
RECON_SCALE = 20.0
#: Scale of the kept chroma channel when the other is dropped (3 channels carried by 2).
KEEP_SCALE = 1.5


@dataclass
class DMPSettings:
    """Every constant of DMP's memory engine, clustering, prediction and propagation (config keys).

    Paper: ``beta`` 0.15, ``gamma`` 0.85, ``train_radius`` 6, ``test_radius`` 12, ``topk`` 10,
    ``temperature`` 0.07, ``keypoint_sigma`` 0.5. The rest the paper leaves open (model card "choices"):
    ``memory_size`` [short, long] capacity, ``prune`` (``distinct`` | ``fifo``), ``grid`` s, ``clusters`` k,
    ``cluster_lambda``, ``kmeans_iters``, ``backward_topk``, ``fusion_eps``, ``branch_loss_weight`` (the
    branch losses' share of the objective beside the fused one), ``blur_sigma`` (cells),
    ``train_chunk`` (query cells per recomputed block in training: memory, not maths), ``recent_frames`` (how far back short-term memory looks at inference; CRW's 20), ``train_response``
    (``feature_norm``: the object response without labels) and ``test_normalize`` (unit-norm features at
    inference, as the CRW/STT propagation protocol).
    """

    short_term: bool = True
    long_term: bool = True
    beta: float = 0.15
    gamma: float = 0.85
    blur_sigma: float = 1.0
    memory_size: tuple[int, int] = (4, 4)
    prune: str = "distinct"
    recent_frames: int = 20
    keep_first: bool = True
    clustering: bool = True
    grid: int = 4
    clusters: int = 4
    cluster_lambda: float = 0.5
    kmeans_iters: int = 10
    bidirectional: bool = True
    backward_topk: int = 4
    fusion_eps: float = 1e-6
    branch_loss_weight: float = 1.0
    train_radius: int = 6
    test_radius: int = 12
    topk: int = 10
    temperature: float = 0.07
    test_normalize: bool = True
    keypoint_sigma: float = 0.5
    train_response: str = "feature_norm"
    train_chunk: int | None = 1024

    def __post_init__(self) -> None:
        self.memory_size = tuple(int(v) for v in self.memory_size)  # type: ignore[assignment]
        if len(self.memory_size) != 2 or min(self.memory_size) < 0:
            raise ValueError(f"memory_size must be [short, long] >= 0, got {list(self.memory_size)}")
        if self.prune not in PRUNE_RULES:
            raise ValueError(f"prune must be one of {PRUNE_RULES}, got {self.prune!r}")
        if self.train_response != "feature_norm":
            raise ValueError(f"train_response must be 'feature_norm', got {self.train_response!r}")
        for name in ("grid", "clusters", "train_radius", "test_radius", "topk", "recent_frames"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.fusion_eps <= 0 or self.temperature <= 0:
            raise ValueError("fusion_eps and temperature must be > 0")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> DMPSettings:
        """Settings from a plain dict; unknown keys raise ``ValueError`` naming them and the valid ones."""
        values = dict(values or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown DMP settings {unknown}; valid: {sorted(names)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["memory_size"] = list(self.memory_size)
        return d

    def branches(self) -> list[str]:
        """The prediction branches in use: ``forward`` always, ``backward`` and ``plain`` when bidirectional."""
        return ["forward", "backward", "plain"] if self.bidirectional else ["forward"]


def normalized_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) RGB in [0, 1] -> Lab normalised by mean (50, 0, 0) and std (50, 127, 127)."""
    lab = rgb_to_lab(rgb)
    mean = torch.tensor(LAB_MEAN, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    std = torch.tensor(LAB_STD, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    return (lab - mean) / std


def fuse(
    recons: Mapping[str, torch.Tensor], losses: Mapping[str, torch.Tensor], eps: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss-weighted fusion: weights ``(1 / (L_x + eps))`` normalised to sum 1 (losses detached, so the
    weights steer but are not trained), finite for a zero loss. Returns (fused reconstruction, weights)."""
    names = list(recons)
    inv = torch.stack([1.0 / (losses[n].detach().float() + eps) for n in names])
    w = inv / inv.sum()
    fused = sum(w[i].to(recons[n].dtype) * recons[n] for i, n in enumerate(names))
    return fused, {n: w[i] for i, n in enumerate(names)}


def recon_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 on ``20 x`` (prediction, target), mean over cells and channels."""
    return F.smooth_l1_loss(RECON_SCALE * pred, RECON_SCALE * target)


class DMPNet(nn.Module):
    """The encoder plus DMP's prediction over a query and its reference frames.

    Args:
        trunk, channels, stem_width, embed_dim, pretrained: :class:`StrideFourEncoder`.
        settings: :class:`DMPSettings` (or a dict of its fields).
    """

    def __init__(
        self,
        trunk: str = "resnet18",
        channels: Sequence[int] = (64, 128, 256, 256),
        stem_width: int = 64,
        embed_dim: int = 64,
        pretrained: bool = False,
        settings: DMPSettings | Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.encoder = StrideFourEncoder(trunk, channels, stem_width, embed_dim, pretrained)
        self.settings = settings if isinstance(settings, DMPSettings) else DMPSettings.from_dict(settings)

    # ------------------------------------------------------------------------------------------ prediction
    def branch_reconstructions(
        self,
        query_map: torch.Tensor,
        ref_maps: torch.Tensor,
        values: torch.Tensor,
        *,
        radius: int,
        temperature: float,
        topk: int | None,
        chunk: int | None = None,
        settings: DMPSettings | None = None,
        tile: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Reconstruct the query from its references along every branch.

        Args:
            query_map: (C, h, w) query features.
            ref_maps: (R, C, h, w) reference features.
            values: (R, V, h, w) what the references carry.
            radius, temperature, topk, chunk, tile: as :func:`~zoo.methods.dmp.affinity.propagate` (``tile``:
                the tiled window, inference only).
            settings: the branch settings (clustering, bidirectional...); default the network's own (a tracker
                passes its overrides).

        Returns:
            branch name -> (h * w, V) reconstruction.
        """
        s = self.settings if settings is None else settings
        r, c, h, w = ref_maps.shape
        q = query_map.flatten(1).T
        k = ref_maps.permute(0, 2, 3, 1).reshape(r * h * w, c)
        v = values.permute(0, 2, 3, 1).reshape(r * h * w, -1)
        window = window_restriction(h, w, r, radius, q.device)
        kw = {"temperature": temperature, "topk": topk, "chunk": chunk, "tile": tile}
        out: dict[str, torch.Tensor] = {}
        if s.clustering:
            ids = region_clusters(
                torch.cat([query_map[None], ref_maps]).detach(), s.grid, s.clusters, s.cluster_lambda,
                s.kmeans_iters,
            )  # fmt: skip
            forward = cluster_restriction(window, ids[0].reshape(-1), ids[1:].reshape(-1))
            out["forward"] = propagate(q, k, v, forward, **kw)
        else:
            out["forward"] = propagate(q, k, v, window, **kw)
        if s.bidirectional:
            bw = backward_topk(q.detach(), k.detach(), window, s.backward_topk, tile=tile)
            out["backward"] = propagate(q, k, v, backward_restriction(window, bw, k.shape[0]), **kw)
            out["plain"] = propagate(q, k, v, window, **kw) if s.clustering else out["forward"]
        return out

    # ------------------------------------------------------------------------------------------- training
    @torch.no_grad()
    def training_references(self, feats: torch.Tensor, channel: torch.Tensor) -> list[int]:
        """The memory engine on a clip: which of frames 0..T-2 the query (frame T-1) reads.

        Args:
            feats: (T, C, h, w) clip features.
            channel: (T, h, w) the reconstructed colour channel on the feature grid.

        Returns:
            Sorted frame indices; ``[T - 2]`` (the previous frame) when both memories are off or empty.
        """
        s = self.settings
        t = feats.shape[0]
        prev = [t - 2]
        positions = [target_position(f.norm(dim=0), s.blur_sigma) for f in feats]
        short = (
            select_short_term(positions[:-1], positions[-1], s.beta, s.memory_size[0]) if s.short_term else []
        )
        long: list[int] = []
        if s.long_term and s.memory_size[1] > 0:
            h, w = feats.shape[-2:]
            q = feats[-1].flatten(1).T

            def rebuild(frames: list[int]) -> torch.Tensor:
                k = feats[frames].permute(0, 2, 3, 1).reshape(-1, feats.shape[1])
                v = channel[frames].reshape(-1, 1)
                return propagate(q, k, v, window_restriction(h, w, len(frames), s.train_radius, feats.device))

            i_short = rebuild(short or prev)
            for cand in range(t - 1):  # oldest first: long-term memory is about far frames
                if cand in short or len(long) >= s.memory_size[1]:
                    continue
                if soft_iou(rebuild([cand]), i_short) > s.gamma:
                    long.append(cand)
        refs = sorted(set(short) | set(long))
        return refs or prev

    def clip_losses(self, images: torch.Tensor, drop: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The self-supervised objective on a batch of clips.

        Args:
            images: (B, T, 3, H, W) RGB in [0, 1], T >= 2, H and W multiples of 4.
            drop: (B,) which chroma channel each clip drops (1 = a, 2 = b); random when None.

        Returns:
            ``loss`` (the objective), ``recon`` (the fused reconstruction loss), ``loss_<branch>`` per
            branch, ``weight_<branch>`` (mean fusion weights) and ``references`` (mean references per clip).
        """
        b, t = images.shape[:2]
        if t < 2:
            raise ValueError(f"clips need at least 2 frames (references + query), got T={t}")
        lab = normalized_lab(images.float())
        if drop is None:
            drop = torch.randint(1, 3, (b,), device=images.device)
        keep = 3 - drop
        sel = torch.arange(3, device=images.device)
        scale = torch.ones(b, 3, device=images.device)
        scale[sel[None] == drop[:, None]] = 0.0
        scale[sel[None] == keep[:, None]] = KEEP_SCALE
        x = lab * scale.view(b, 1, 3, 1, 1)
        feats = self.encoder(x.flatten(0, 1))
        feats = feats.view(b, t, *feats.shape[1:])
        pooled = F.avg_pool2d(lab.flatten(0, 1), STRIDE).view(b, t, 3, *feats.shape[-2:])
        s = self.settings
        totals: dict[str, list[torch.Tensor]] = {}
        for i in range(b):
            chan = pooled[i, :, int(drop[i])]
            refs = self.training_references(feats[i], chan)
            recons = self.branch_reconstructions(
                feats[i, -1], feats[i, refs], chan[refs][:, None], radius=s.train_radius, temperature=1.0,
                topk=None, chunk=s.train_chunk,
            )  # fmt: skip
            target = chan[-1].reshape(-1, 1)
            losses = {n: recon_loss(r, target) for n, r in recons.items()}
            fused, weights = fuse(recons, losses, s.fusion_eps)
            recon = recon_loss(fused, target)
            loss = (
                recon
                if len(losses) == 1
                else recon + s.branch_loss_weight * torch.stack(list(losses.values())).mean()
            )
            parts = {"loss": loss, "recon": recon, "references": torch.tensor(float(len(refs)))}
            parts.update({f"loss_{n}": v for n, v in losses.items()})
            parts.update({f"weight_{n}": v for n, v in weights.items()})
            for k, v in parts.items():
                totals.setdefault(k, []).append(v)
        return {k: torch.stack(v).mean() for k, v in totals.items()}

"""DMPTracker: label propagation from the first frame with DMP's memory engine (VOS protocol).

Per frame: the frame (resized to ``input_size``, multiples of 4) -> Lab -> features; the references are the
first frame, long-term memory and the short-term frames whose target position lies within ``beta`` of the
last prediction's; every branch propagates the references' labels and a/b colour together
(``top-k`` 10, temperature 0.07, radius 12 cells, unit-norm features), and the branches are fused by their
colour reconstruction loss on this frame (``1 / (L + eps)``). Masks are one-hot label maps (argmax after
bilinear upsampling), keypoints Gaussian heatmaps (sigma 0.5 cells) read out by soft-argmax.

Memory is bounded: ``recent_frames`` entries of short-term history, ``memory_size[1]`` of long-term memory
and the first frame; a frame leaving the history becomes a long-term candidate, stored when the query
propagated from it alone agrees with the short-term propagation (IoU > gamma).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from zoo.methods.dmp.affinity import propagate, window_restriction
from zoo.methods.dmp.encoder import STRIDE
from zoo.methods.dmp.memory import (
    FeatureStats,
    LongTermMemory,
    mask_iou,
    select_short_term,
    soft_iou,
    target_position,
)
from zoo.methods.dmp.model import DMPNet, DMPSettings, fuse, normalized_lab, recon_loss
from zoo.trackers.vos_baselines import MASK, check_labels, visible_keypoints

__all__ = ["DMPTracker"]


@dataclass
class _Frame:
    feats: torch.Tensor  # (C, h, w)
    values: torch.Tensor  # (K + 2, h, w): label channels, then normalised a/b
    position: torch.Tensor  # (2,) normalised (y, x)


def _net_size(hw: Sequence[int], input_size: Sequence[int] | None) -> tuple[int, int]:
    h, w = (int(v) for v in (input_size if input_size is not None else hw))
    return max(STRIDE, round(h / STRIDE) * STRIDE), max(STRIDE, round(w / STRIDE) * STRIDE)


class DMPTracker:
    """Online VOS tracker (``init``/``step``) on a trained :class:`DMPNet`.

    Args:
        net: the network (its device and dtype are used; eval mode while tracking, restored afterwards).
        input_size: (H, W) frames are resized to before the encoder (rounded to multiples of 4); None keeps
            the frame size.
        chunk: query cells per affinity block (bounds memory at large inputs) when ``tile`` is None.
        tile: side of the query tiles of the tiled local window (:func:`~zoo.methods.dmp.affinity.propagate`):
            each tile is scored against the reference cells within the radius only, the dense block's result
            at a fraction of its work (480p DAVIS frames: seconds, not minutes); None = dense blocks.
        **settings: :class:`DMPSettings` overrides for this tracker.
    """

    def __init__(
        self,
        net: DMPNet,
        input_size: Sequence[int] | None = None,
        chunk: int = 2048,
        tile: int | None = 16,
        **settings,
    ) -> None:
        self.net = net
        self.settings = DMPSettings.from_dict({**net.settings.to_dict(), **settings})
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        self.chunk = int(chunk)
        self.tile = None if tile is None else int(tile)
        self._mode: str | None = None

    def parameters(self):
        return self.net.parameters()

    # ------------------------------------------------------------------------------------------ encoding
    @torch.no_grad()
    def _encode(self, frame: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(H, W, 3) uint8 -> features (C, h, w) and normalised Lab pooled to the grid (3, h, w)."""
        param = next(self.net.parameters())
        rgb = (
            torch.from_numpy(np.ascontiguousarray(frame)).to(param.device).permute(2, 0, 1)[None].float()
            / 255
        )
        rgb = F.interpolate(rgb, size=self._size, mode="bilinear", antialias=True, align_corners=False)
        lab = normalized_lab(rgb.clamp(0, 1))
        was = self.net.training
        self.net.eval()
        try:
            feats = self.net.encoder(lab.to(param.dtype))[0].float()
        finally:
            self.net.train(was)
        if self.settings.test_normalize:
            feats = F.normalize(feats, dim=0)
        return feats, F.avg_pool2d(lab, STRIDE)[0].float()

    def _labels_to_grid(self, labels: np.ndarray, grid: tuple[int, int]) -> torch.Tensor:
        h, w = grid
        if self._mode == MASK:
            onehot = torch.from_numpy(labels[None] == self._ids[:, None, None]).float()[None]
            return F.adaptive_avg_pool2d(onehot, (h, w))[0]
        H, W = self._frame_hw
        maps = torch.zeros(len(labels), h, w)
        ys, xs = torch.meshgrid(
            torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
        )
        vis = visible_keypoints(labels)
        for j, (x, y) in enumerate(labels):
            if vis[j]:
                cx, cy = (x + 0.5) * w / W - 0.5, (y + 0.5) * h / H - 0.5
                maps[j] = torch.exp(
                    -((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * self.settings.keypoint_sigma**2)
                )
        return maps

    def _response(self, labels: torch.Tensor) -> torch.Tensor:
        """(K, h, w) label maps -> (h, w) object response: foreground probability / summed heatmaps."""
        return 1.0 - labels[0] if self._mode == MASK else labels.sum(0)

    # ------------------------------------------------------------------------------------------ protocol
    def init(self, frame0: np.ndarray, labels0: np.ndarray) -> None:
        """Start a video: ``frame0`` (H, W, 3) uint8 RGB and its (H, W) uint8 mask or (J, 2) keypoints."""
        self._mode, labels = check_labels(frame0, labels0)
        self._frame_hw = frame0.shape[:2]
        self._size = _net_size(self._frame_hw, self.input_size)
        if self._mode == MASK:
            self._ids = np.unique(np.concatenate([[0], labels.ravel()])).astype(np.uint8)
        else:
            self._visible0 = visible_keypoints(labels)
        feats, lab = self._encode(frame0)
        grid = tuple(feats.shape[-2:])
        lbl = self._labels_to_grid(labels, grid).to(feats.device)
        s = self.settings
        self._first = _Frame(
            feats, torch.cat([lbl, lab[1:]]), target_position(self._response(lbl), s.blur_sigma)
        )
        self._recent: deque[_Frame] = deque()
        self._long = LongTermMemory(s.memory_size[1] if s.long_term else 0, s.prune)
        self._last = self._first

    def _propagate(
        self, feats: torch.Tensor, lab: torch.Tensor, refs: list[_Frame], plain: bool = False
    ) -> torch.Tensor:
        """Fused (K + 2, h, w) propagation of the references' labels and colour onto the query; ``plain``:
        the plain window only (the long-term agreement test, which compares two memories, not branches)."""
        s = self.settings
        h, w = feats.shape[-2:]
        if plain:
            k = torch.stack([r.feats for r in refs]).permute(0, 2, 3, 1).reshape(-1, feats.shape[0])
            v = torch.stack([r.values for r in refs]).permute(0, 2, 3, 1).reshape(k.shape[0], -1)
            window = window_restriction(h, w, len(refs), s.test_radius, feats.device)
            out = propagate(
                feats.flatten(1).T, k, v, window, temperature=s.temperature, topk=s.topk, chunk=self.chunk,
                tile=self.tile,
            )  # fmt: skip
            return out.T.reshape(-1, h, w)
        recons = self.net.branch_reconstructions(
            feats, torch.stack([r.feats for r in refs]), torch.stack([r.values for r in refs]),
            radius=s.test_radius, temperature=s.temperature, topk=s.topk, chunk=self.chunk, settings=s,
            tile=self.tile,
        )  # fmt: skip
        target = lab[1:].reshape(2, -1).T
        losses = {n: recon_loss(r[:, -2:], target) for n, r in recons.items()}
        fused, _ = fuse(recons, losses, s.fusion_eps)
        return fused.T.reshape(-1, h, w)

    def _agree(self, a: torch.Tensor, b: torch.Tensor) -> float:
        if self._mode == MASK:
            return mask_iou(a.argmax(0) != 0, b.argmax(0) != 0)
        return soft_iou(a.sum(0), b.sum(0))

    @torch.no_grad()
    def step(self, frame: np.ndarray) -> np.ndarray:
        """Labels of the next frame ((H, W, 3) uint8): (H, W) uint8 ids or (J, 2) float64 keypoints."""
        if self._mode is None:
            raise RuntimeError("DMPTracker.step called before init")
        if frame.shape[:2] != self._frame_hw:
            raise ValueError(f"frame has size {frame.shape[:2]}, but the first frame had {self._frame_hw}")
        s = self.settings
        feats, lab = self._encode(frame)
        recent = list(self._recent)
        if s.short_term:
            picked = select_short_term(
                [f.position for f in recent], self._last.position, s.beta, s.memory_size[0]
            )
            short = [recent[i] for i in picked]
        else:
            short = recent[-1:]
        if not short and recent:
            short = recent[-1:]
        refs = (
            ([self._first] if s.keep_first or not (short or len(self._long)) else [])
            + list(self._long.entries)
            + short
        )
        if not refs:
            refs = [self._first]
        out = self._propagate(feats, lab, refs)
        k = out.shape[0] - 2
        labels = out[:k].clamp(min=0)
        entry = _Frame(
            feats, torch.cat([labels, lab[1:]]), target_position(self._response(labels), s.blur_sigma)
        )
        self._recent.append(entry)
        if len(self._recent) > s.recent_frames:
            old = self._recent.popleft()
            if self._long.capacity and short:
                alone = self._propagate(feats, lab, [old], plain=True)[:k]
                if self._agree(alone, self._propagate(feats, lab, short, plain=True)[:k]) > s.gamma:
                    self._long.add(old, FeatureStats.of(old.feats))
        self._last = entry
        return self._readout(labels)

    def _readout(self, labels: torch.Tensor) -> np.ndarray:
        H, W = self._frame_hw
        if self._mode == MASK:
            up = F.interpolate(labels[None].cpu(), size=(H, W), mode="bilinear", align_corners=False)[0]
            return self._ids[up.argmax(0).numpy()]
        h, w = labels.shape[-2:]
        p = labels.cpu().flatten(1)
        mass = p.sum(1, keepdim=True)
        p = p / mass.clamp(min=1e-12)
        ys, xs = torch.meshgrid(
            torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij"
        )
        cx = (p * xs.reshape(1, -1)).sum(1)
        cy = (p * ys.reshape(1, -1)).sum(1)
        pts = torch.stack([(cx + 0.5) * W / w - 0.5, (cy + 0.5) * H / h - 0.5], dim=1).double().numpy()
        pts = np.clip(pts, 0.0, [W - 1.0, H - 1.0])
        lost = ~self._visible0 | (mass[:, 0].numpy() <= 1e-12)
        pts[lost] = -1.0
        return pts

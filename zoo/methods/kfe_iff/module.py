"""The LightningModules: ``kfe_iff`` (KFE + IFF on SUSHI) and ``sushi`` (the same module, both off).

Training items are clips of detections (:class:`zoo.data.graphs.GraphDataModule`): per clip, the hierarchy
is built level by level from the model's own rounded predictions, and the focal loss of every classified
MPN step of every active level is summed. The level curriculum activates one more level every
``level_unlock_every`` optimiser steps. Adam with SUSHI's lr 3e-4 and weight decay 1e-4.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import lightning as L
import numpy as np
import torch

import zoo
from zoo.config import to_plain as _plain
from zoo.methods.kfe_iff.kfe import KFEConfig, frame_descriptors, key_frame_segments, segments_to_slots
from zoo.methods.kfe_iff.model import Clip, HierarchyConfig, SushiNet, fixed_slots, levels_for
from zoo.methods.kfe_iff.tracker import TRACKER_DEFAULTS, SushiTracker, check_tracker_settings
from zoo.registry import register

__all__ = ["DEFAULT_APPEARANCE", "KfeIffModule", "SushiModule"]

#: the CPU default: a timm ResNet-18 on 64 x 32 box crops projected to 64-d (seeded random init: weights are
#: saved with the model, so a published model carries its extractor)
DEFAULT_APPEARANCE: Mapping[str, Any] = MappingProxyType({
    "kind": "timm", "model": "resnet18", "pretrained": False, "crop_size": (64, 32), "out_dim": 64, "seed": 0})
#: KFE+IFF's defaults: both modules on with the note's settings (None turns one off)
IFF_ON: Mapping[str, Any] = MappingProxyType({"mode": "gcn"})
KFE_ON: Mapping[str, Any] = MappingProxyType({"mode": "clip"})


@register(
    "kfe_iff",
    task="mot",
    kind="method",
    default_recipe="kfe_iff",
    paper="Spatio-temporal Graph Learning on Adaptive Mined Key Frames for High-performance Multi-Object "
    "Tracking (arXiv 2501.10129), on SUSHI (CVPR 2023)",
)
class KfeIffModule(L.LightningModule):
    """KFE + IFF on SUSHI: Q-learning key-frame clips and GCN intra-frame fusion on a hierarchical graph
    tracker (offline).

    Args:
        appearance: extractor spec (:func:`zoo.appearance.build_extractor`); an ``nn.Module`` extractor is a
            frozen submodule, so its weights are saved and published with the model.
        hierarchy: :class:`~zoo.methods.kfe_iff.model.HierarchyConfig` fields (levels, top-k, ranking,
            threshold, projector ``lp``/``greedy``).
        mpn: MPN widths and steps (:class:`~zoo.methods.kfe_iff.mpn.MPN` keyword arguments).
        node_input: ``zeros`` (SUSHI) or ``appearance``.
        iff: None (off) or IFF settings (``mode`` gcn/average, ``a``, ``b``, ``graph``, ``radius``, ``k``).
        kfe: None (off: SUSHI's fixed clips) or KFE settings (:class:`~zoo.methods.kfe_iff.kfe.KFEConfig`
            fields) plus ``mode``: ``clip`` (segments are the clips) or ``level0`` (segments are the
            level-0 windows).
        focal_gamma: focal loss gamma (1).
        lr, weight_decay: Adam (3e-4, 1e-4).
        level_unlock_every: optimiser steps between level unlocks (SUSHI: 500).
        tracker: :data:`~zoo.methods.kfe_iff.tracker.TRACKER_DEFAULTS` keys.
        feature_cache: appearance cache folder used by the tracker (None: the zoo default).
    """

    method_name = "kfe_iff"

    def __init__(
        self,
        appearance: dict[str, Any] | None = None,
        hierarchy: dict[str, Any] | None = None,
        mpn: dict[str, Any] | None = None,
        node_input: str = "zeros",
        iff: Mapping[str, Any] | None = IFF_ON,
        kfe: Mapping[str, Any] | None = KFE_ON,
        focal_gamma: float = 1.0,
        lr: float = 3e-4,
        weight_decay: float = 1e-4,
        level_unlock_every: int = 500,
        tracker: dict[str, Any] | None = None,
        feature_cache: str | None = None,
    ) -> None:
        super().__init__()
        appearance = _plain(dict(appearance or DEFAULT_APPEARANCE))
        hierarchy, mpn, tracker = _plain(hierarchy) or {}, _plain(mpn) or {}, _plain(tracker) or {}
        iff = None if iff is None else _plain(dict(iff))
        kfe = None if kfe is None else _plain(dict(kfe))
        check_tracker_settings(tracker, f"{type(self).__name__} tracker")
        HierarchyConfig(**hierarchy)  # unknown keys fail here, naming them
        if kfe is not None:
            KFEConfig(**{k: v for k, v in kfe.items() if k != "mode"})
            if kfe.get("mode", "clip") not in ("clip", "level0"):
                raise ValueError(f"kfe.mode must be 'clip' or 'level0', got {kfe.get('mode')!r}")
        if level_unlock_every < 1:
            raise ValueError(f"level_unlock_every must be >= 1, got {level_unlock_every}")
        self.save_hyperparameters({
            "appearance": appearance, "hierarchy": hierarchy, "mpn": mpn, "node_input": node_input,
            "iff": iff, "kfe": kfe, "focal_gamma": focal_gamma, "lr": lr, "weight_decay": weight_decay,
            "level_unlock_every": level_unlock_every, "tracker": tracker, "feature_cache": feature_cache,
        })
        from zoo.appearance import build_extractor

        extractor = build_extractor(appearance)
        if isinstance(extractor, torch.nn.Module):
            extractor.requires_grad_(False)
            self.extractor = extractor
        else:
            self._extractor = extractor
        self.net = SushiNet(int(extractor.dim), hierarchy=hierarchy, mpn=mpn, node_input=node_input, iff=iff,
                            focal_gamma=focal_gamma)

    @property
    def appearance_extractor(self) -> Any:
        return self.extractor if "extractor" in self._modules else self._extractor

    def train(self, mode: bool = True) -> KfeIffModule:
        super().train(mode)
        if "extractor" in self._modules:
            self.extractor.eval()  # frozen: BatchNorm statistics never move
        return self

    # --------------------------------------------------------------------------------------------- clips
    def _slots(self, item: dict[str, Any]) -> np.ndarray:
        kfe = self.hparams.kfe
        if kfe is not None and kfe.get("mode", "clip") == "level0":
            cfg = KFEConfig(**{k: v for k, v in kfe.items() if k != "mode"})
            feats = item["features"].numpy() if isinstance(item["features"], torch.Tensor) else item["features"]
            phi = frame_descriptors(item["frames"], feats, int(item["start"]), int(item["length"]))
            seg = segments_to_slots(key_frame_segments(phi, cfg), item["frames"], int(item["start"]))
            return seg - seg.min()
        return fixed_slots(item["frames"], int(item["start"]))

    def make_clip(self, item: dict[str, Any]) -> Clip:
        """A training item of :class:`~zoo.data.graphs.GraphDataModule` as a :class:`Clip`."""
        feat = torch.as_tensor(item["features"], dtype=torch.float32, device=self.device)
        return Clip(np.asarray(item["frames"], np.int64), np.asarray(item["boxes"], np.float64), feat,
                    self._slots(item), float(item["fps"]), int(item["start"]), int(item["length"]),
                    np.asarray(item["gt"], np.int64))

    def active_levels(self, step: int | None = None) -> int:
        """Levels the curriculum allows at optimiser ``step`` (default: the trainer's)."""
        step = int(self.global_step if step is None else step)
        return min(self.net.cfg.num_levels, 1 + step // int(self.hparams.level_unlock_every))

    # ---------------------------------------------------------------------------------------------- training
    def compute_loss(self, batch: list[dict[str, Any]]) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean over the batch's clips of the summed focal loss (steps x active levels)."""
        active = self.active_levels()
        losses, edges, pos = [], 0, 0
        for item in batch:
            clip = self.make_clip(item)
            levels = min(active, levels_for(clip.slots, self.net.cfg.num_levels))
            _, loss, stats = self.net.solve(clip, levels, with_loss=True)
            if loss is None:
                continue
            losses.append(loss)
            edges += sum(stats.get("edges", []))
            pos += sum(stats.get("positives", []))
        if not losses:
            zero = sum(p.sum() for p in self.net.parameters() if p.requires_grad) * 0.0
            return zero, {"levels": float(active), "edges": 0.0, "positives": 0.0}
        return torch.stack(losses).mean(), {"levels": float(active), "edges": float(edges), "positives": float(pos)}

    def training_step(self, batch: list[dict[str, Any]], batch_idx: int) -> torch.Tensor:
        loss, stats = self.compute_loss(batch)
        n = len(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        self.log_dict({f"train/{k}": v for k, v in stats.items()}, batch_size=n)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        params = [p for p in self.net.parameters() if p.requires_grad]
        return torch.optim.Adam(params, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)

    # ------------------------------------------------------------------------------------------- inference
    def tracker_config(self) -> dict[str, Any]:
        """Tracker settings as the tracker uses them (Hub ``config.json`` / model card)."""
        return {**TRACKER_DEFAULTS, **self.hparams.tracker, "kfe": self.hparams.kfe,
                "hierarchy": self.net.cfg.to_dict()}

    def input_contract(self) -> dict[str, Any]:
        return {
            "frames": "(H, W, 3) uint8 RGB (read by the appearance extractor, once per sequence, cached)",
            "detections": "external detector boxes (xyxy pixels, scores in [0, 1]) from the runner: benchmark "
            f"det files, a detections folder or gt; scores below {self.tracker_config()['min_score']} dropped",
            "appearance": self.hparams.appearance,
            "protocol": "offline (track_sequence)",
        }

    def tracker(self, **overrides: Any) -> SushiTracker:
        """A :class:`SushiTracker` on this module's network and extractor; ``overrides`` replace tracker
        settings (or ``kfe``)."""
        settings = {**self.hparams.tracker, **overrides}
        kfe = settings.pop("kfe", self.hparams.kfe)
        return SushiTracker(self.net, self.appearance_extractor, kfe=kfe,
                            feature_cache=self.hparams.feature_cache, **settings)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"method": self.method_name, "task": "mot", "version": zoo.__version__}


@register(
    "sushi",
    task="mot",
    kind="method",
    default_recipe="sushi",
    paper="Unifying Short and Long-Term Tracking with Graph Hierarchies (SUSHI, CVPR 2023)",
)
class SushiModule(KfeIffModule):
    """SUSHI: hierarchical graph tracker, fixed clips, no intra-frame fusion (KFE and IFF off)."""

    method_name = "sushi"

    def __init__(self, appearance: dict[str, Any] | None = None, hierarchy: dict[str, Any] | None = None,
                 mpn: dict[str, Any] | None = None, node_input: str = "zeros", iff: dict[str, Any] | None = None,
                 kfe: dict[str, Any] | None = None, focal_gamma: float = 1.0, lr: float = 3e-4,
                 weight_decay: float = 1e-4, level_unlock_every: int = 500, tracker: dict[str, Any] | None = None,
                 feature_cache: str | None = None) -> None:
        super().__init__(appearance, hierarchy, mpn, node_input, iff, kfe, focal_gamma, lr, weight_decay,
                         level_unlock_every, tracker, feature_cache)

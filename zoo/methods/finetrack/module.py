"""FineTrackModule: the LightningModule that trains FineTrack's Re-ID network and builds its tracker.

Training batches are Shuffle-Group Sampling groups from :class:`zoo.data.modules.MOTDataModule`: B
consecutive frames of one video with their GT boxes and global identity labels, so identities repeat
across the batch and the batch-hard triplet loss finds positives.

Optimisation (the paper is silent; this is the zoo's choice): AdamW, lr 3.5e-4, weight decay 5e-4 (not on
norms and biases), linear warm-up over the first 5% of steps, then cosine decay to 1% of the peak, stepped
every optimiser step. ``optimizer="sgd"`` (momentum 0.9, Nesterov) and ``lr_schedule="step"`` (x0.1 at 60%
and 85% of training) or ``"constant"`` are the alternatives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch

import zoo
from zoo.config import to_plain as _plain
from zoo.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from zoo.methods.finetrack.losses import FineTrackLoss
from zoo.methods.finetrack.model import FineTrackNet
from zoo.methods.finetrack.tracker import ASSOCIATION_DEFAULTS, FineTrackTracker, check_settings
from zoo.registry import register

__all__ = ["FineTrackModule"]

_OPTIMIZERS = ("adamw", "sgd")
_SCHEDULES = ("cosine", "step", "constant")


def _as_list(x: Any) -> list[torch.Tensor]:
    """Per-frame tensors from a collated field: a list already, or a stacked (B, ...) tensor."""
    return list(x.unbind(0)) if isinstance(x, torch.Tensor) else list(x)


@register(
    "finetrack",
    task="mot",
    kind="method",
    default_recipe="finetrack",
    paper="FineTrack: Focus On Details: Online Multi-object Tracking with Diverse Fine-grained "
    "Representation (CVPR 2023)",
)
class FineTrackModule(L.LightningModule):
    """FineTrack (Ren et al., CVPR 2023): part-mask Re-ID features on a flow-aligned FPN, tracked by BYTE.

    All arguments are plain values (the Hub config). Network: see :class:`FineTrackNet`; loss: see
    :class:`FineTrackLoss`; tracker: see :class:`FineTrackTracker`.

    Args:
        trunk, pretrained, fpn_dim, roi_size, sampling_ratio, num_parts, heads, attn_dim, part_dim,
            global_dim: the network (paper: resnet50, 256, [16, 8], 2, 6, 4, 64, 128, 256).
        num_identities: classifier classes; None takes ``datamodule.num_identities`` in :meth:`setup`.
        alpha, beta, gamma, label_smoothing, triplet_margin: loss weights and settings (None -> 0.5 K,
            0.3, 2, 0.1, 0.3).
        optimizer: ``adamw`` or ``sgd``; lr, weight_decay, momentum: its settings.
        lr_schedule: ``cosine``, ``step`` or ``constant``; warmup_fraction: share of all steps with linear
            warm-up; min_lr_ratio: cosine floor; step_milestones, step_gamma: the ``step`` schedule
            (milestones as fractions of all steps).
        input_size: [H, W] frames are letterboxed to at inference (paper [608, 1088]; the training size).
        resize_mode: ``letterbox`` or ``resize`` (match the data module's).
        tracker: association settings (:data:`~zoo.methods.finetrack.tracker.ASSOCIATION_DEFAULTS` keys)
            and ``per_sequence``: name prefix -> overrides.
    """

    def __init__(
        self,
        trunk: str = "resnet50",
        pretrained: bool = False,
        fpn_dim: int = 256,
        roi_size: Sequence[int] = (16, 8),
        sampling_ratio: int = 2,
        num_parts: int = 6,
        heads: int = 4,
        attn_dim: int = 64,
        part_dim: int = 128,
        global_dim: int = 256,
        num_identities: int | None = None,
        alpha: float | None = None,
        beta: float = 0.3,
        gamma: float = 2.0,
        label_smoothing: float = 0.1,
        triplet_margin: float = 0.3,
        optimizer: str = "adamw",
        lr: float = 3.5e-4,
        weight_decay: float = 5e-4,
        momentum: float = 0.9,
        lr_schedule: str = "cosine",
        warmup_fraction: float = 0.05,
        min_lr_ratio: float = 0.01,
        step_milestones: Sequence[float] = (0.6, 0.85),
        step_gamma: float = 0.1,
        input_size: Sequence[int] = (608, 1088),
        resize_mode: str = "letterbox",
        tracker: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}")
        if lr_schedule not in _SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {_SCHEDULES}, got {lr_schedule!r}")
        # plain containers only: hparams go into checkpoints (loaded with weights_only) and Hub configs
        roi_size = _plain(roi_size)
        step_milestones = _plain(step_milestones)
        input_size = _plain(input_size)
        tracker = _plain(tracker) or {}
        check_settings({k: v for k, v in tracker.items() if k != "per_sequence"}, "FineTrackModule tracker")
        for name, overrides in (tracker.get("per_sequence") or {}).items():
            check_settings(overrides, f"FineTrackModule tracker.per_sequence[{name!r}]")
        self.save_hyperparameters()
        self.net = FineTrackNet(
            trunk=trunk,
            pretrained=pretrained,
            fpn_dim=fpn_dim,
            roi_size=roi_size,
            sampling_ratio=sampling_ratio,
            num_parts=num_parts,
            heads=heads,
            attn_dim=attn_dim,
            part_dim=part_dim,
            global_dim=global_dim,
            num_identities=num_identities,
        )
        self.criterion = FineTrackLoss(num_parts, alpha, beta, gamma, label_smoothing, triplet_margin)

    # ------------------------------------------------------------------------------------------------ setup
    def setup(self, stage: str) -> None:
        """Size the identity classifiers from the datamodule's global identity space when not given."""
        if self.net.classifiers is not None or stage != "fit":
            return
        datamodule = getattr(self.trainer, "datamodule", None)
        n = getattr(datamodule, "num_identities", None)
        if n is None:
            raise ValueError(
                "FineTrackModule needs num_identities: pass it, or train with a datamodule that has a "
                "num_identities attribute (zoo.data.modules.MOTDataModule)"
            )
        self.net.set_num_identities(int(n))
        self.hparams.num_identities = int(n)  # saved with the checkpoint, so loading rebuilds the heads

    # ---------------------------------------------------------------------------------------------- training
    def compute_losses(self, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        """Loss terms of one SGS batch (``image`` (B, 3, H, W), per-frame ``boxes`` (N_i, 4), ``ids``)."""
        if self.net.classifiers is None:
            raise RuntimeError("identity classifiers are not built: give num_identities or call setup('fit')")
        images = batch["image"]
        boxes = [b.to(images) for b in _as_list(batch["boxes"])]
        labels = torch.cat([i.reshape(-1) for i in _as_list(batch["ids"])]).to(images.device, torch.long)
        if labels.numel() < 2:
            # BatchNorm needs two samples; a zero loss through every parameter keeps DDP ranks in step
            zero = sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0
            return {"loss": zero}
        out = self.net(images, boxes)
        return self.criterion(
            out.part_logits,
            out.global_logits,
            out.parts.part_feats,
            out.parts.global_feat,
            out.parts.part_bn,
            labels,
        )

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        losses = self.compute_losses(batch)
        batch_size = int(batch["image"].shape[0])
        self.log("train/loss", losses["loss"], prog_bar=True, batch_size=batch_size)
        self.log_dict(
            {f"train/{k}": v.detach() for k, v in losses.items() if k != "loss"}, batch_size=batch_size
        )
        return losses["loss"]

    # ------------------------------------------------------------------------------------------- optimiser
    def make_optimizer(self) -> torch.optim.Optimizer:
        """The configured optimiser over trainable parameters (no weight decay on norms and biases)."""
        hp = self.hparams
        decay, no_decay = [], []
        for p in self.parameters():
            if p.requires_grad:
                (no_decay if p.ndim <= 1 else decay).append(p)
        groups = [
            {"params": decay, "weight_decay": hp.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        if hp.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=hp.lr, momentum=hp.momentum, nesterov=hp.momentum > 0)
        return torch.optim.AdamW(groups, lr=hp.lr)

    def lr_factor(self, step: int, total: int) -> float:
        """Multiplier of the peak lr at optimiser step ``step`` of ``total``."""
        hp = self.hparams
        warmup = int(hp.warmup_fraction * total)
        if step < warmup:
            return (step + 1) / warmup
        if hp.lr_schedule == "cosine":
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return hp.min_lr_ratio + (1.0 - hp.min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
        if hp.lr_schedule == "step":
            return hp.step_gamma ** sum(step >= m * total for m in hp.step_milestones)
        return 1.0

    def configure_optimizers(self) -> dict[str, Any]:
        optimizer = self.make_optimizer()
        total = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: self.lr_factor(s, total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ------------------------------------------------------------------------------------------- inference
    def tracker_config(self) -> dict[str, Any]:
        """Association settings (:data:`ASSOCIATION_DEFAULTS` with this module's overrides) and
        ``per_sequence`` overrides, as the tracker uses them (Hub ``config.json`` / model card)."""
        return {**ASSOCIATION_DEFAULTS, "per_sequence": {}, **self.hparams.tracker}

    def input_contract(self) -> dict[str, Any]:
        """What the tracker expects: frames, their network size and normalisation, detection source."""
        return {
            "image_size": list(self.hparams.input_size),
            "resize_mode": self.hparams.resize_mode,
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
            "frames": "(H, W, 3) uint8 RGB",
            "detections": "external detector boxes (xyxy pixels, scores in [0, 1]) from the runner: benchmark "
            "det files, a detections folder or gt",
        }

    def tracker(self, **overrides: Any) -> FineTrackTracker:
        """A :class:`FineTrackTracker` on this module's network (shared weights) and tracker config;
        ``overrides`` replace association settings (or ``per_sequence``, ``input_size``)."""
        cfg = {**self.tracker_config(), **overrides}
        input_size = cfg.pop("input_size", self.hparams.input_size)
        return FineTrackTracker(self.net, input_size=input_size, resize_mode=self.hparams.resize_mode, **cfg)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"method": "finetrack", "task": "mot", "version": zoo.__version__}

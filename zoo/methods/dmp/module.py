"""DMPModule: the LightningModule that trains DMP without labels and builds its propagation tracker.

Training batches come from :class:`zoo.data.modules.VideoDataModule`: ``images`` (B, T, 3, H, W) RGB in
[0, 1] (``normalize: false``), clips at frame gaps {2, 5, 8}; no annotation is read. Optimisation is
MAST's: Adam, lr 1e-3, halved every ``lr_halve_every`` epochs (the paper gives none of its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch

import zoo
from zoo.config import to_plain as _plain
from zoo.methods.dmp.model import LAB_MEAN, LAB_STD, DMPNet, DMPSettings
from zoo.methods.dmp.tracker import DMPTracker
from zoo.registry import register

__all__ = ["DMPModule"]


@register(
    "dmp",
    task="vos",
    kind="method",
    default_recipe="dmp",
    paper="Enhancing Self-Supervised Fine-Grained Video Object Tracking with Dynamic Memory Prediction "
    "(arXiv 2504.21692)",
)
class DMPModule(L.LightningModule):
    """DMP (Zhou et al., 2025): self-supervised correspondence with a dynamic reference memory.

    Args:
        trunk, channels, stem_width, embed_dim, pretrained: the stride-4 encoder (paper ``resnet18``,
            [64, 128, 256, 256], 64, 64, from scratch).
        lr, lr_halve_every, betas: Adam and the halving schedule (epochs; 0 = constant).
        input_size: [H, W] frames are resized to at inference; None = the frame's own size.
        chunk: query cells per affinity block at inference.
        **settings: :class:`~zoo.methods.dmp.model.DMPSettings` fields (memory, clustering, prediction,
            propagation).
    """

    def __init__(
        self,
        trunk: str = "resnet18",
        channels: Sequence[int] = (64, 128, 256, 256),
        stem_width: int = 64,
        embed_dim: int = 64,
        pretrained: bool = False,
        lr: float = 1e-3,
        lr_halve_every: int = 0,
        betas: Sequence[float] = (0.9, 0.999),
        input_size: Sequence[int] | None = None,
        chunk: int = 2048,
        **settings: Any,
    ) -> None:
        super().__init__()
        channels, betas, input_size = _plain(channels), _plain(betas), _plain(input_size)
        settings = {k: _plain(v) for k, v in settings.items()}
        DMPSettings.from_dict(settings)  # unknown keys and bad values fail here, naming them
        self.save_hyperparameters()
        self.net = DMPNet(trunk, channels, stem_width, embed_dim, pretrained, settings)

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> torch.Tensor:
        images = batch["images"]
        out = self.net.clip_losses(images)
        bs = int(images.shape[0])
        self.log("train/loss", out["loss"], prog_bar=True, batch_size=bs)
        self.log_dict({f"train/{k}": v.detach() for k, v in out.items() if k != "loss"}, batch_size=bs)
        return out["loss"]

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        opt = torch.optim.Adam(self.parameters(), lr=hp.lr, betas=tuple(hp.betas))
        if not hp.lr_halve_every:
            return opt
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=int(hp.lr_halve_every), gamma=0.5)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "epoch"}}

    # ------------------------------------------------------------------------------------------ inference
    def tracker_config(self) -> dict[str, Any]:
        """Every memory/clustering/prediction/propagation setting the tracker uses (model card, Hub)."""
        return {**self.net.settings.to_dict(), "input_size": self.hparams.input_size}

    def input_contract(self) -> dict[str, Any]:
        return {
            "frames": "(H, W, 3) uint8 RGB",
            "image_size": self.hparams.input_size,
            "color": "CIE Lab (D65), normalised by mean/std",
            "mean": list(LAB_MEAN),
            "std": list(LAB_STD),
            "labels": "first-frame (H, W) uint8 object ids, or (J, 2) keypoints in pixels (negative = invisible)",
        }

    def tracker(self, **overrides: Any) -> DMPTracker:
        """A :class:`DMPTracker` on this module's network; ``overrides`` replace settings, ``input_size``,
        ``chunk`` or ``tile`` (the tiled local window's tile side, None: dense blocks; same result)."""
        input_size = overrides.pop("input_size", self.hparams.input_size)
        chunk = overrides.pop("chunk", self.hparams.chunk)
        tile = overrides.pop("tile", 16)
        return DMPTracker(self.net, input_size=input_size, chunk=chunk, tile=tile, **overrides)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"method": "dmp", "task": "vos", "version": zoo.__version__}

"""SFTrackModule: the LightningModule that trains SFTrack++'s three phases and builds its online tracker.

Training batches come from :class:`zoo.data.modules.SOTDataModule` in ``mode: window``: ``images``
(B, T, 3, H, W) in [0, 1], ``channels`` (B, T, K, 4) the base trackers' boxes, ``boxes`` (B, T, 4) the GT
box and ``masks`` (B, T, H, W) the GT target mask (phases 1-2), all in network pixels.

One module, three phases (``phase``), each trained by its own ``zoo.train`` run (the recipe's ``phases``
run them in order, each initialised from the previous phase's weights by ``init_from``):

Losses are BCE unless ``mask_loss`` (phases 1-2) or ``box_loss`` (phase 3) name one of the paper's ablations
(:mod:`zoo.methods.sftrack.losses`).

1. NN_feat2seg alone: BCE (pos_weight 5) of feat2seg(RGB, box) against the GT mask, every frame of the window;
   the first ``gt_box_steps`` optimiser steps use the GT box (the curriculum), later ones one random base
   tracker's box per frame.
2. feat2seg, the channel combination (and the optional post U-Net): Eq. 1 over the window, the same weighted
   BCE of the current frame's refined map against its GT mask.
3. everything: BCE of NN_seg2box's box-mask logit of the current frame against the GT box's mask.

Optimiser: the pre-registration's AdamW with ReduceLROnPlateau (``optimizer: adamw``), or the released code's
SGD (lr 0.02, momentum 0.9, Nesterov, weight decay 1e-4; ``optimizer: sgd``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lightning as L
import torch

import zoo
from zoo.config import to_plain as _plain
from zoo.core.boxes import box_masks
from zoo.methods.sftrack.losses import mask_loss
from zoo.methods.sftrack.model import SFTrackNet, SFTrackSettings
from zoo.methods.sftrack.tracker import SFTrackTracker
from zoo.registry import register

__all__ = ["PHASE_PARTS", "SFTrackModule"]

#: the sub-networks each phase trains (the rest is frozen)
PHASE_PARTS: dict[int, tuple[str, ...]] = {
    1: ("feat2seg",),
    2: ("feat2seg", "combine_s", "combine_f", "post_unet"),
    3: ("feat2seg", "combine_s", "combine_f", "post_unet", "seg2box"),
}


@register(
    "sftrack",
    task="sot",
    kind="method",
    default_recipe="sftrack",
    paper="SFTrack++: A Fast Learnable Spectral Segmentation Approach for Space-Time Consistent Tracking "
    "(arXiv 2011.13843)",
)
class SFTrackModule(L.LightningModule):
    """SFTrack++ (Burceanu, 2020): learned spectral refinement of several base trackers' outputs.

    Args:
        trackers: the base SOT trackers (registry names), in channel order.
        phase: 1, 2 or 3 (see the module docstring).
        image_size: network input (H, W); frames are resized to it.
        window: frames in the spectral volume at inference (training windows come from the data module).
        optimizer: ``adamw`` (paper) or ``sgd`` (released code).
        lr, weight_decay, momentum, nesterov: optimiser settings (momentum/nesterov for SGD only).
        plateau_factor, plateau_patience: ReduceLROnPlateau on the epoch's training loss.
        gt_box_steps: phase 1 curriculum: optimiser steps fed GT boxes before the base trackers' boxes.
        finetune_lr_scale: learning-rate factor of the parts an earlier phase trained (fine-tuned here);
            the part this phase adds learns at ``lr``. 1.0: one learning rate for everything.
        supervise: phase 2: ``last`` (the current frame, as the online tracker uses it) or ``all`` frames.
        box_from: the tracker's box: ``seg2box`` or ``mask`` (None: ``mask`` before phase 3, else ``seg2box``).
        init_from: a checkpoint whose weights initialise this phase (the previous phase's ``last.ckpt``).
        **settings: :class:`~zoo.methods.sftrack.model.SFTrackSettings` fields.
    """

    def __init__(
        self,
        trackers: Sequence[str] = ("csrt", "kcf", "mil", "mosse", "medianflow", "boosting", "tld"),
        phase: int = 1,
        image_size: Sequence[int] = (96, 160),
        window: int = 5,
        optimizer: str = "adamw",
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        momentum: float = 0.9,
        nesterov: bool = True,
        plateau_factor: float = 0.5,
        plateau_patience: int = 2,
        gt_box_steps: int = 100,
        finetune_lr_scale: float = 1.0,
        supervise: str = "last",
        box_from: str | None = None,
        init_from: str | None = None,
        **settings: Any,
    ) -> None:
        super().__init__()
        trackers, image_size = list(_plain(trackers)), list(_plain(image_size))
        settings = {k: _plain(v) for k, v in settings.items()}
        if int(phase) not in PHASE_PARTS:
            raise ValueError(f"phase must be 1, 2 or 3, got {phase}")
        if optimizer not in ("adamw", "sgd"):
            raise ValueError(f"optimizer must be 'adamw' or 'sgd', got {optimizer!r}")
        if supervise not in ("last", "all"):
            raise ValueError(f"supervise must be 'last' or 'all', got {supervise!r}")
        self.save_hyperparameters()
        self.net = SFTrackNet(len(trackers), SFTrackSettings.from_kwargs(**settings))
        if init_from:
            self._load_init(init_from)
        self._set_trainable()

    def _load_init(self, path: str) -> None:
        """This phase's start: the weights of ``path``, except the parts its phase never trained.

        A phase-1 or phase-2 checkpoint holds NN_seg2box only as its random initialisation (frozen before
        phase 3), so phase 3 keeps its own freshly initialised NN_seg2box: with ``seg2box_skip`` that is the
        identity-like start the setting promises, whatever the earlier phase was configured with.
        """
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        state = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
        trained = PHASE_PARTS.get(int(ckpt.get("hyper_parameters", {}).get("phase", 3)), PHASE_PARTS[3])
        untrained = {name for name, _ in self.net.named_children()} - set(trained)
        keep = {k: v for k, v in state.items() if k.split(".", 1)[0] not in untrained}
        own = {k: v for k, v in self.net.state_dict().items() if k.split(".", 1)[0] in untrained}
        try:
            self.net.load_state_dict({**keep, **own})
        except RuntimeError as err:
            raise ValueError(f"init_from={path}: its network does not fit this configuration: {err}") from err

    def _set_trainable(self) -> None:
        parts = PHASE_PARTS[int(self.hparams.phase)]
        for name, child in self.net.named_children():
            child.requires_grad_(name in parts)

    # ---------------------------------------------------------------------------------------- training
    def _phase1(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        images, gt, chans = batch["images"], batch["boxes"], batch["channels"]
        b, t, _, h, w = images.shape
        if self.global_step < int(self.hparams.gt_box_steps):
            boxes = gt
        else:  # one random base tracker's box per frame
            pick = torch.randint(chans.shape[2], (b, t), device=chans.device)
            boxes = chans.gather(2, pick[..., None, None].expand(b, t, 1, 4))[:, :, 0]
        # an absent target's GT box is NaN: its box channel is empty, its mask all background
        logits = self.net.feat2seg_logits(images.flatten(0, 1), boxes.flatten(0, 1))
        settings = self.net.settings.mask_loss_settings
        loss = mask_loss(logits, batch["masks"].flatten(0, 1), settings, logits=True)
        return {"loss": loss, "gt_boxes": torch.tensor(float(boxes is gt))}

    def _phase2(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        out = self.net.refine(self.net.channel_maps(batch["images"], batch["channels"]))
        pick = slice(None) if self.hparams.supervise == "all" else slice(-1, None)
        settings, target = self.net.settings.mask_loss_settings, batch["masks"][:, pick]
        loss = mask_loss(out["refined"][:, pick], target, settings, logits=False)
        with torch.no_grad():
            unary = mask_loss(out["unary"][:, pick], target, settings, logits=False)
        return {"loss": loss, "unary_loss": unary}

    def _phase3(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        out = self.net(batch["images"], batch["channels"])
        h, w = out["box_logits"].shape[-2:]
        target = box_masks(batch["boxes"][:, -1], h, w)
        settings = self.net.settings.box_loss_settings
        return {"loss": mask_loss(out["box_logits"], target, settings, logits=True)}

    def phase_losses(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """This phase's loss (``loss``) and diagnostics for one batch."""
        phase = int(self.hparams.phase)
        if phase < 3 and "masks" not in batch:
            raise ValueError(
                f"SFTrack++ phase {phase} is supervised by target masks: train it on a benchmark with masks "
                "(ZooSynth-SOT) with data.with_masks=true; only phase 3 trains from boxes alone"
            )
        return (
            self._phase1(batch) if phase == 1 else self._phase2(batch) if phase == 2 else self._phase3(batch)
        )

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> torch.Tensor:
        out = self.phase_losses(batch)
        bs = int(batch["images"].shape[0])
        self.log("train/loss", out["loss"], prog_bar=True, on_step=True, on_epoch=True, batch_size=bs)
        self.log_dict({f"train/{k}": v.detach() for k, v in out.items() if k != "loss"}, batch_size=bs)
        return out["loss"]

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        phase = int(hp.phase)
        earlier = set(PHASE_PARTS[phase - 1]) if phase > 1 else set()
        new, tuned = [], []
        for name, child in self.net.named_children():
            group = tuned if name in earlier else new
            group += [p for p in child.parameters() if p.requires_grad]
        params = [{"params": new, "lr": hp.lr}]
        if tuned:
            params.append({"params": tuned, "lr": hp.lr * float(hp.finetune_lr_scale)})
        if hp.optimizer == "sgd":
            opt = torch.optim.SGD(
                params,
                lr=hp.lr,
                momentum=hp.momentum,
                nesterov=bool(hp.nesterov),
                weight_decay=hp.weight_decay,
            )
        else:
            opt = torch.optim.AdamW(params, lr=hp.lr, weight_decay=hp.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=hp.plateau_factor, patience=int(hp.plateau_patience)
        )
        return {
            "optimizer": opt,
            "lr_scheduler": {"scheduler": sched, "monitor": "train/loss_epoch", "interval": "epoch"},
        }

    # ---------------------------------------------------------------------------------------- inference
    def _box_from(self, override: str | None = None) -> str:
        if override is not None:
            return override
        if self.hparams.box_from is not None:
            return str(self.hparams.box_from)
        return "seg2box" if int(self.hparams.phase) == 3 else "mask"

    def tracker_config(self) -> dict[str, Any]:
        """Everything the tracker uses (model card, Hub)."""
        hp = self.hparams
        return {
            **self.net.settings.as_dict(),
            "trackers": list(hp.trackers),
            "image_size": list(hp.image_size),
            "window": int(hp.window),
            "box_from": self._box_from(),
            "phase": int(hp.phase),
        }

    def input_contract(self) -> dict[str, Any]:
        return {
            "frames": "(H, W, 3) uint8 RGB, any size (resized to image_size)",
            "image_size": list(self.hparams.image_size),
            "init": "first-frame (4,) xyxy box in pixels",
            "base_trackers": list(self.hparams.trackers),
        }

    def tracker(self, **overrides: Any) -> SFTrackTracker:
        """An online :class:`SFTrackTracker` on this module's network; ``overrides``: ``window``,
        ``box_from``, ``iterations``, ``image_size``, ``device``, ``cache`` (read base-tracker boxes from the
        cache when the runner names the sequence), ``cache_dir``."""
        hp = self.hparams
        valid = {"window", "box_from", "iterations", "image_size", "device", "cache", "cache_dir"}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise TypeError(f"unknown SFTrack++ tracker settings {unknown}; valid: {sorted(valid)}")
        return SFTrackTracker(
            self.net,
            list(hp.trackers),
            image_size=overrides.get("image_size", hp.image_size),
            window=int(overrides.get("window", hp.window)),
            box_from=self._box_from(overrides.get("box_from")),
            iterations=overrides.get("iterations"),
            device=overrides.get("device", self.device),
            cache=bool(overrides.get("cache", True)),
            cache_dir=overrides.get("cache_dir"),
        )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"method": "sftrack", "task": "sot", "version": zoo.__version__}
        # the weights are in this checkpoint now: loading it must not reach for the previous phase's file
        hp = checkpoint.get("hyper_parameters")
        if isinstance(hp, dict) and hp.get("init_from"):
            hp["init_from"] = None

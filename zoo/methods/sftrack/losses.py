"""The segmentation and box-mask losses SFTrack++'s ablations compare (pre-registration, "Ablative studies").

The paper trains with BCE and names three alternatives "to optimize for both segmentation and tracking
tasks": a linear combination of the weighted Dice loss [Sudre et al. 2017] and BCE, Focal-Tversky [Abraham
and Khan 2019] and Focal-Dice [Wang and Chung 2018]. Each is a :class:`LossSettings` ``name``; phases 1-2
use ``SFTrackSettings.mask_loss``, phase 3 ``box_loss``.

Every loss takes predictions ``pred`` of shape (..., H, W), logits or probabilities in [0, 1], and a target
of the same shape in {0, 1}. The region losses (Dice, Tversky) are computed per image over its (H, W)
pixels and averaged over the leading axes, so one large target does not outweigh the batch's small ones; BCE
is the mean over every pixel. Constants the cited papers state are the defaults (Focal-Tversky: alpha 0.7 on
false negatives, beta 0.3 on false positives, gamma 4/3, smoothing 1); what the pre-registration leaves open
(the Dice/BCE mix, Focal-Dice's exponent) is a named setting, listed in the model card. Focal-Tversky and
Focal-Dice score the target class alone (the binary form of their papers' per-class sums); the generalised
Dice scores target and background, since its class weights are what make it "weighted".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

__all__ = [
    "LOSS_NAMES",
    "LossSettings",
    "focal_dice_loss",
    "focal_tversky_loss",
    "generalised_dice_loss",
    "mask_loss",
    "weighted_bce",
]

LossName = Literal["bce", "dice_bce", "focal_tversky", "focal_dice"]
#: the losses :func:`mask_loss` knows
LOSS_NAMES: tuple[str, ...] = ("bce", "dice_bce", "focal_tversky", "focal_dice")


@dataclass(frozen=True)
class LossSettings:
    """One loss and its constants.

    Attributes:
        name: ``bce`` (the paper's), ``dice_bce`` (BCE + ``dice_weight`` x generalised Dice), ``focal_tversky``
            or ``focal_dice``.
        pos_weight: BCE weight of target pixels (``bce`` and the BCE term of ``dice_bce``).
        dice_weight: weight of the Dice term in ``dice_bce`` (the paper: "a linear combination", weights not
            stated).
        tversky_alpha, tversky_beta, tversky_gamma: Focal-Tversky's weights of false negatives and false
            positives and its focal exponent (the loss is ``(1 - TI) ** (1 / gamma)``); Abraham and Khan's
            values 0.7, 0.3, 4/3.
        focal_dice_beta: Focal-Dice's exponent, ``1 - DSC ** (1 / beta)``: beta > 1 weighs poorly segmented
            images more (2: not stated by the pre-registration).
        smooth: the additive smoothing of the Tversky index and of the Dice coefficient (pixels).
    """

    name: LossName = "bce"
    pos_weight: float = 1.0
    dice_weight: float = 1.0
    tversky_alpha: float = 0.7
    tversky_beta: float = 0.3
    tversky_gamma: float = 4.0 / 3.0
    focal_dice_beta: float = 2.0
    smooth: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in LOSS_NAMES:
            raise ValueError(f"unknown loss {self.name!r}; choose one of {list(LOSS_NAMES)}")
        if self.pos_weight <= 0 or self.dice_weight < 0:
            raise ValueError(
                f"pos_weight must be > 0 and dice_weight >= 0, got {self.pos_weight}, {self.dice_weight}"
            )
        if self.tversky_alpha < 0 or self.tversky_beta < 0 or self.tversky_gamma <= 0:
            raise ValueError(
                "tversky_alpha and tversky_beta must be >= 0 and tversky_gamma > 0, got "
                f"{self.tversky_alpha}, {self.tversky_beta}, {self.tversky_gamma}"
            )
        if self.focal_dice_beta <= 0 or self.smooth < 0:
            raise ValueError(
                f"focal_dice_beta must be > 0 and smooth >= 0, got {self.focal_dice_beta}, {self.smooth}"
            )


def weighted_bce(
    prob: torch.Tensor, target: torch.Tensor, pos_weight: float, eps: float = 1e-6
) -> torch.Tensor:
    """Mean of ``-(w y log p + (1 - y) log(1 - p))`` over all elements, for probabilities ``prob`` in [0, 1].

    The spectral step outputs probabilities (min-max normalised), not logits, so BCE-with-logits' pos_weight
    is applied by hand here.
    """
    p = prob.clamp(eps, 1.0 - eps)
    return -(pos_weight * target * torch.log(p) + (1.0 - target) * torch.log1p(-p)).mean()


def _per_image(x: torch.Tensor) -> torch.Tensor:
    """(..., H, W) -> (N, H * W): one row per image."""
    if x.ndim < 2:
        raise ValueError(f"expected (..., H, W) maps, got shape {tuple(x.shape)}")
    return x.reshape(-1, x.shape[-2] * x.shape[-1])


def generalised_dice_loss(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sudre et al.'s generalised (weighted) Dice loss over the two classes, target and background.

    ``1 - 2 sum_l w_l sum_n r_ln p_ln / sum_l w_l sum_n (r_ln + p_ln)`` with ``w_l = 1 / (sum_n r_ln)^2``,
    per image; a class absent from an image (an empty target) takes the other class's weight, as the
    authors' NiftyNet implementation does with its infinite weights. (..., H, W) -> scalar.
    """
    p, r = _per_image(prob), _per_image(target.to(prob.dtype))
    p2, r2 = torch.stack([p, 1.0 - p], 1), torch.stack([r, 1.0 - r], 1)  # (N, 2, HW)
    vol = r2.sum(-1)  # (N, 2)
    w = torch.where(vol > 0, 1.0 / vol.clamp_min(1e-12) ** 2, torch.zeros_like(vol))
    w = torch.where(vol > 0, w, w.amax(1, keepdim=True))
    inter = (w * (r2 * p2).sum(-1)).sum(1)
    denom = (w * (r2 + p2).sum(-1)).sum(1)
    return (1.0 - 2.0 * inter / denom.clamp_min(1e-12)).mean()


def _tversky_index(
    prob: torch.Tensor, target: torch.Tensor, alpha: float, beta: float, smooth: float
) -> torch.Tensor:
    """(N,) ``(TP + s) / (TP + alpha FN + beta FP + s)`` of the target class, per image."""
    p, g = _per_image(prob), _per_image(target.to(prob.dtype))
    tp = (p * g).sum(-1)
    fn = ((1.0 - p) * g).sum(-1)
    fp = (p * (1.0 - g)).sum(-1)
    return (tp + smooth) / (tp + alpha * fn + beta * fp + smooth).clamp_min(1e-12)


def focal_tversky_loss(
    prob: torch.Tensor,
    target: torch.Tensor,
    alpha: float = 0.7,
    beta: float = 0.3,
    gamma: float = 4.0 / 3.0,
    smooth: float = 1.0,
) -> torch.Tensor:
    """Abraham and Khan's Focal-Tversky loss ``(1 - TI) ** (1 / gamma)`` of the target class, mean over
    images. alpha = beta = 0.5 and gamma = 1 is the (smoothed) Dice loss. (..., H, W) -> scalar."""
    ti = _tversky_index(prob, target, alpha, beta, smooth)
    # clamp: (1 - TI) ** 0.75 has an infinite derivative at TI = 1
    return (1.0 - ti).clamp_min(1e-6).pow(1.0 / gamma).mean()


def focal_dice_loss(
    prob: torch.Tensor, target: torch.Tensor, beta: float = 2.0, smooth: float = 1.0
) -> torch.Tensor:
    """Wang and Chung's Focal-Dice loss ``1 - DSC ** (1 / beta)`` of the target class, mean over images,
    with ``DSC = (2 TP + s) / (sum p + sum g + s)``. beta = 1 is the (smoothed) Dice loss. (..., H, W) ->
    scalar."""
    p, g = _per_image(prob), _per_image(target.to(prob.dtype))
    dsc = (2.0 * (p * g).sum(-1) + smooth) / (p.sum(-1) + g.sum(-1) + smooth).clamp_min(1e-12)
    # clamp: DSC ** (1 / beta) has an infinite derivative at DSC = 0 for beta > 1
    return (1.0 - dsc.clamp_min(1e-6).pow(1.0 / beta)).mean()


def mask_loss(
    pred: torch.Tensor, target: torch.Tensor, settings: LossSettings, *, logits: bool
) -> torch.Tensor:
    """The loss ``settings`` names of predictions (..., H, W) against a {0, 1} target of the same shape.

    Args:
        pred: logits (``logits=True``: feat2seg's and seg2box's outputs) or probabilities in [0, 1] (the
            spectral step's refined maps).
        target: the GT mask (phases 1-2) or the GT box's mask (phase 3).
        settings: which loss, and its constants.
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    target = target.to(pred.dtype)
    if settings.name in ("bce", "dice_bce"):
        if logits:
            pw = torch.tensor(settings.pos_weight, dtype=pred.dtype, device=pred.device)
            bce = F.binary_cross_entropy_with_logits(pred, target, pos_weight=pw)
        else:
            bce = weighted_bce(pred, target, settings.pos_weight)
        if settings.name == "bce":
            return bce
    prob = torch.sigmoid(pred) if logits else pred
    if settings.name == "dice_bce":
        return bce + settings.dice_weight * generalised_dice_loss(prob, target)
    if settings.name == "focal_tversky":
        return focal_tversky_loss(
            prob,
            target,
            settings.tversky_alpha,
            settings.tversky_beta,
            settings.tversky_gamma,
            settings.smooth,
        )
    return focal_dice_loss(prob, target, settings.focal_dice_beta, settings.smooth)

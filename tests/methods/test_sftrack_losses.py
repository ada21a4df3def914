"""SFTrack++'s loss ablations (pre-registration: weighted Dice + BCE, Focal-Tversky, Focal-Dice): each loss on
hand-made masks against its formula, the special cases that reduce to Dice, empty targets, gradients, the
settings' validation, and a step of every phase lowering every loss."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from zoo.methods.sftrack import SFTrackModule
from zoo.methods.sftrack.losses import (
    LOSS_NAMES,
    LossSettings,
    focal_dice_loss,
    focal_tversky_loss,
    generalised_dice_loss,
    mask_loss,
    weighted_bce,
)
from zoo.methods.sftrack.model import SFTrackSettings


def _square(h=8, w=8, box=(2, 2, 6, 6)):
    m = torch.zeros(h, w)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = 1.0
    return m


def _dice(p, g, smooth=1.0):
    return (2 * (p * g).sum() + smooth) / (p.sum() + g.sum() + smooth)


def test_generalised_dice_by_hand():
    g = _square()  # 16 target pixels of 64
    p = torch.full((8, 8), 0.25)
    p[2:6, 2:6] = 0.75
    w_fg, w_bg = 1 / 16**2, 1 / 48**2
    inter = w_fg * (0.75 * 16) + w_bg * (0.75 * 48)
    denom = w_fg * (16 + 0.75 * 16 + 0.25 * 48) + w_bg * (48 + 0.25 * 16 + 0.75 * 48)
    assert math.isclose(float(generalised_dice_loss(p, g)), 1 - 2 * inter / denom, rel_tol=1e-6)
    assert float(generalised_dice_loss(g, g)) == pytest.approx(0.0, abs=1e-7)
    assert float(generalised_dice_loss(1 - g, g)) == pytest.approx(1.0, abs=1e-7)


def test_generalised_dice_weighs_a_miss_on_a_small_target_more():
    """Sudre et al.'s class weights 1 / volume^2: half of a 4-pixel target missed costs more than half of a
    64-pixel one, where the plain Dice loss charges both 1/3."""
    small, large = _square(16, 16, (0, 0, 2, 2)), _square(16, 16, (0, 0, 8, 8))
    half_small, half_large = small.clone(), large.clone()
    half_small[:, 1:] = 0
    half_large[:, 4:] = 0
    plain = [1 - _dice(p, g, 0.0) for p, g in ((half_small, small), (half_large, large))]
    gdl = [generalised_dice_loss(p, g) for p, g in ((half_small, small), (half_large, large))]
    assert float(plain[0]) == pytest.approx(1 / 3) and float(plain[1]) == pytest.approx(1 / 3)
    assert float(gdl[0]) > float(gdl[1]) + 0.05


def test_generalised_dice_on_an_empty_target_is_the_predicted_fraction():
    g = torch.zeros(8, 8)
    p = torch.zeros(8, 8)
    p[:2, :4] = 1.0  # 8 of 64 pixels predicted
    assert float(generalised_dice_loss(p, g)) == pytest.approx(8 / 64, rel=1e-6)
    assert float(generalised_dice_loss(torch.zeros(8, 8), g)) == pytest.approx(0.0, abs=1e-7)


def test_focal_tversky_by_hand_and_its_dice_special_case():
    g = _square()
    p = torch.rand(8, 8, generator=torch.Generator().manual_seed(0))
    tp, fn, fp = (p * g).sum(), ((1 - p) * g).sum(), (p * (1 - g)).sum()
    ti = (tp + 1) / (tp + 0.7 * fn + 0.3 * fp + 1)
    ref = (1 - ti) ** 0.75
    assert float(focal_tversky_loss(p, g)) == pytest.approx(float(ref), rel=1e-6)
    dice = 1 - _dice(p, g, 0.0)  # the same smoothing s is 2 s in Dice's own form: compare unsmoothed
    assert float(focal_tversky_loss(p, g, 0.5, 0.5, 1.0, 0.0)) == pytest.approx(float(dice), rel=1e-6)


def test_focal_tversky_punishes_missed_target_pixels_more_than_false_alarms():
    g = _square()
    missed = g.clone()
    missed[2:4, 2:6] = 0  # 8 target pixels missed
    extra = g.clone()
    extra[6:8, 2:6] = 1  # 8 background pixels claimed
    assert float(focal_tversky_loss(missed, g)) > float(focal_tversky_loss(extra, g))


def test_focal_dice_by_hand_and_its_dice_special_case():
    g = _square()
    p = torch.rand(8, 8, generator=torch.Generator().manual_seed(1))
    dsc = _dice(p, g)
    assert float(focal_dice_loss(p, g, beta=2.0)) == pytest.approx(float(1 - dsc**0.5), rel=1e-6)
    assert float(focal_dice_loss(p, g, beta=1.0)) == pytest.approx(float(1 - dsc), rel=1e-6)


def test_focal_dice_weighs_poor_images_more_than_dice_does():
    """The focal exponent: the ratio of a poor image's loss to a good one's grows with beta."""
    g = _square()
    good, poor = g * 0.9, g * 0.2
    ratio = [
        float(focal_dice_loss(poor, g, beta=b)) / float(focal_dice_loss(good, g, beta=b)) for b in (1, 2)
    ]
    assert ratio[1] > ratio[0]


def test_region_losses_are_per_image_means():
    g = torch.stack([_square(), torch.zeros(8, 8)])
    p = torch.stack([_square() * 0.8, torch.full((8, 8), 0.1)])
    for fn in (generalised_dice_loss, focal_tversky_loss, focal_dice_loss):
        per = [float(fn(p[i], g[i])) for i in range(2)]
        assert float(fn(p, g)) == pytest.approx(sum(per) / 2, rel=1e-6)
        assert float(fn(p[:, None], g[:, None])) == pytest.approx(float(fn(p, g)), rel=1e-6)  # any lead axes


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_mask_loss_takes_logits_or_probabilities_alike_and_has_finite_gradients(name):
    g = torch.stack([_square(), torch.zeros(8, 8)])
    logits = torch.randn(2, 8, 8, generator=torch.Generator().manual_seed(2)).requires_grad_()
    s = LossSettings(name=name, pos_weight=5.0)
    a = mask_loss(logits, g, s, logits=True)
    b = mask_loss(torch.sigmoid(logits), g, s, logits=False)
    assert float(a.detach()) == pytest.approx(float(b.detach()), rel=1e-4)
    a.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    perfect = (g * 40 - 20).requires_grad_()  # saturated logits: the region losses' powers at 0
    mask_loss(perfect, g, s, logits=True).backward()
    assert torch.isfinite(perfect.grad).all()


def test_mask_loss_bce_and_dice_bce():
    g = _square()[None]
    logits = torch.randn(1, 8, 8, generator=torch.Generator().manual_seed(3))
    ref = F.binary_cross_entropy_with_logits(logits, g, pos_weight=torch.tensor(5.0))
    assert float(mask_loss(logits, g, LossSettings(pos_weight=5.0), logits=True)) == pytest.approx(float(ref))
    mix = mask_loss(logits, g, LossSettings("dice_bce", pos_weight=5.0, dice_weight=2.0), logits=True)
    assert float(mix) == pytest.approx(float(ref + 2 * generalised_dice_loss(torch.sigmoid(logits), g)))
    assert float(weighted_bce(torch.sigmoid(logits), g, 5.0)) == pytest.approx(float(ref), rel=1e-4)


def test_bad_loss_settings_are_refused():
    with pytest.raises(ValueError, match="unknown loss 'dice'"):
        LossSettings("dice")
    with pytest.raises(ValueError, match="tversky_gamma"):
        LossSettings("focal_tversky", tversky_gamma=0.0)
    with pytest.raises(ValueError, match="unknown loss"):
        SFTrackSettings(box_loss="l1")
    with pytest.raises(ValueError, match="differ in shape"):
        mask_loss(torch.zeros(2, 4, 4), torch.zeros(2, 4, 5), LossSettings(), logits=True)


def test_settings_route_each_phase_to_its_loss():
    s = SFTrackSettings(mask_loss="focal_tversky", box_loss="dice_bce", box_pos_weight=3.0, tversky_alpha=0.6)
    assert s.mask_loss_settings == LossSettings("focal_tversky", pos_weight=5.0, tversky_alpha=0.6)
    assert s.box_loss_settings == LossSettings("dice_bce", pos_weight=3.0, tversky_alpha=0.6)
    card = s.as_dict()
    for key in ("mask_loss", "box_loss", "box_pos_weight", "dice_weight", "focal_dice_beta", "loss_smooth"):
        assert key in card


def _batch(b=2, t=3, k=2, h=24, w=32):
    g = torch.Generator().manual_seed(0)
    images = torch.rand(b, t, 3, h, w, generator=g) * 0.2
    masks = torch.zeros(b, t, h, w)
    images[..., 6:18, 8:22] += 0.7
    masks[..., 6:18, 8:22] = 1
    boxes = torch.tensor([8.0, 6.0, 22.0, 18.0]).expand(b, t, 4).clone()
    chans = (boxes[:, :, None] + torch.randn(b, t, k, 4, generator=g)).clone()
    return {"images": images, "masks": masks, "boxes": boxes, "channels": chans}


@pytest.mark.parametrize("name", [n for n in LOSS_NAMES if n != "bce"])
@pytest.mark.parametrize("phase", [1, 2, 3])
def test_every_loss_trains_every_phase(phase, name):
    torch.manual_seed(0)
    key = "box_loss" if phase == 3 else "mask_loss"
    model = SFTrackModule(
        trackers=["kcf", "mosse"],
        phase=phase,
        lr=1e-2,
        feat2seg_widths=[4, 8],
        seg2box_widths=[2, 4],
        image_size=[24, 32],
        **{key: name},
    )
    opt = model.configure_optimizers()["optimizer"]
    batch = _batch()
    model.train()
    before = float(model.phase_losses(batch)["loss"])
    for _ in range(3):
        opt.zero_grad()
        model.phase_losses(batch)["loss"].backward()
        opt.step()
    assert float(model.phase_losses(batch)["loss"]) < before

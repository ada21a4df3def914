"""zoo.data.transforms: one draw per clip keeps boxes, masks and keypoints consistent across frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ClipTransform,
    crop_region,
    eval_transform,
    letterbox_scale,
    mask_boxes,
    photometric_transform,
    to_tensor,
    train_transform,
)


def _scene(rng: np.random.Generator, t: int = 4, h: int = 90, w: int = 130, same: bool = False):
    """Clip with three non-overlapping moving rectangles; labels 1..3 in masks, boxes from the masks."""
    frames = rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8)
    masks = np.zeros((t, h, w), np.uint8)
    for k, (x, y, bw, bh) in enumerate([(2, 5, 30, 40), (45, 30, 25, 50), (90, 2, 38, 20)], start=1):
        for i in range(t):
            dx = 0 if same else i
            masks[i, y : y + bh, x + dx : x + dx + bw] = k
    if same:
        frames[:] = frames[0]
    boxes = [np.stack([mask_boxes(masks[i : i + 1], k)[0] for k in (1, 2, 3)]) for i in range(t)]
    return frames, masks, boxes


@pytest.mark.parametrize("mode", ["letterbox", "resize", "crop"])
def test_mask_derived_boxes_match_transformed_boxes(mode):
    rng = np.random.default_rng(0)
    tf = train_transform((64, 80), mode=mode, color_jitter=0.3, min_visibility=0.3)
    checked = 0
    for draw in range(25):
        frames, masks, boxes = _scene(rng)
        out = tf(frames, boxes=boxes, masks=masks, seed=draw)
        assert out.images.shape == (4, 3, 64, 80) and out.masks.shape == (4, 64, 80)
        for i in range(4):
            for box, row in zip(out.boxes[i].numpy(), out.box_index[i].numpy()):
                ref = mask_boxes(out.masks[i : i + 1].numpy(), int(row) + 1)[0]
                assert np.isfinite(ref).all(), "a kept box must still have its mask"
                assert np.abs(ref - box).max() <= 1.0, (mode, draw, i, row, box, ref)
                checked += 1
    assert checked > 100


def test_same_draw_on_every_frame_and_different_draws_across_calls():
    rng = np.random.default_rng(1)
    frames, masks, boxes = _scene(rng, same=True)
    kp = np.stack([np.array([[10.0, 20.0], [60.0, 50.0], [np.nan, np.nan]])] * 4)
    tf = train_transform((48, 64), mode="crop", color_jitter=0.4, hflip=0.5)
    outs = [tf(frames, boxes=boxes, masks=masks, keypoints=kp) for _ in range(6)]
    for out in outs:
        for i in range(1, 4):
            assert torch.equal(out.images[i], out.images[0])
            assert torch.equal(out.masks[i], out.masks[0])
            assert torch.equal(out.boxes[i], out.boxes[0])
            assert torch.equal(out.keypoints[i], out.keypoints[0])
        assert not out.keypoints_visible[:, 2].any()
    assert any(not torch.equal(outs[0].images[0], o.images[0]) for o in outs[1:])


def test_keypoints_follow_boxes():
    rng = np.random.default_rng(2)
    tf = train_transform((96, 96), mode="letterbox", scale=(0.9, 1.1), translate=0.0, color_jitter=0.0)
    for draw in range(10):
        frames, masks, boxes = _scene(rng)
        centres = np.stack([(b[:, :2] + b[:, 2:]) / 2 for b in boxes])  # (T, 3, 2)
        out = tf(frames, boxes=boxes, keypoints=centres, seed=draw)
        for i in range(4):
            for box, row in zip(out.boxes[i].numpy(), out.box_index[i].numpy()):
                inside = box[0] > 0.5 and box[2] < 95.5 and box[1] > 0.5 and box[3] < 95.5
                if inside:  # unclipped: the transformed centre is the centre of the transformed box
                    np.testing.assert_allclose(
                        out.keypoints[i, row].numpy(), (box[:2] + box[2:]) / 2, atol=1e-3
                    )


def test_eval_letterbox_is_a_pure_scale():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (2, 100, 200, 3), dtype=np.uint8)
    boxes = [np.array([[10.0, 20.0, 60.0, 90.0]]), np.array([[100.0, 0.0, 199.0, 50.0]])]
    out = eval_transform((64, 64), normalize=False)(frames, boxes=boxes)
    s = letterbox_scale((100, 200), (64, 64))
    assert s == pytest.approx(0.32)
    for i in range(2):
        np.testing.assert_allclose(out.boxes[i].numpy(), boxes[i] * s, atol=1e-4)
    # padding is bottom/right, grey 114
    assert torch.allclose(out.images[:, :, 40:, :], torch.tensor(114 / 255.0), atol=1e-6)


def test_boxes_outside_or_degenerate_are_dropped_with_their_index():
    frames = np.zeros((2, 50, 50, 3), np.uint8)
    boxes = [
        np.array([[60.0, 60.0, 80.0, 80.0], [5.0, 5.0, 20.0, 20.0]]),
        np.array([[10.0, 10.0, 10.0, 30.0]]),
    ]
    out = eval_transform((50, 50))(frames, boxes=boxes)
    assert out.box_index[0].tolist() == [1] and out.box_index[1].tolist() == []
    assert out.boxes[1].shape == (0, 4)


def test_to_tensor_normalisation():
    x = np.full((1, 2, 2, 3), 255, np.uint8)
    y = to_tensor(x)
    expect = (1.0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert torch.allclose(y[0, :, 0, 0], expect)
    assert torch.equal(to_tensor(x, normalize=False), torch.ones(1, 3, 2, 2))
    with pytest.raises(ValueError, match="uint8"):
        to_tensor(x.astype(np.float32))


def test_input_validation_names_the_problem():
    tf = ClipTransform([])
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="one array per frame"):
        tf(frames, boxes=[np.zeros((0, 4))])
    with pytest.raises(ValueError, match="masks must be"):
        tf(frames, masks=np.zeros((2, 4, 4)))


def test_same_seed_same_draw_for_differently_sized_crops():
    """One draw gives bit-identical colours on crops of any size (bound: exact equality, atol 0).

    The pipeline's per-pixel colour ops depend only on the pixel and the draw; the one image-wide statistic
    (contrast's mean grey) is exact on a flat patch. The widths straddle 64 px, where OpenCV 5.1's uint8
    HSV->RGB changes rounding path (see ``shift_hue``); 200 px covers a scalar tail after several blocks.
    """
    tf = photometric_transform(hflip=0.5, color_jitter=0.4, normalize=False)
    rng = np.random.default_rng(0)
    flips = set()
    colours = [(200, 60, 30), *(tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(15))]
    for colour in colours:
        for seed in range(12):
            out = []
            for side in (32, 96, 200):
                frame = np.full((1, side, side, 3), colour, np.uint8)
                r = tf(frame, boxes=[np.array([[0.0, 0.0, side / 4, side / 4]])], seed=seed)
                img = r.images[0]
                assert torch.equal(img, img[:, :1, :1].expand_as(img)), (colour, seed, side, "not flat")
                out.append((img[:, 0, 0], r.boxes[0][0, 0].item() > 0))
            for img, flipped in out[1:]:
                assert torch.equal(img, out[0][0]), (colour, seed)
                assert flipped == out[0][1]
            flips.add(out[0][1])
    assert flips == {True, False}


def test_shift_hue_matches_torchvision_adjust_hue():
    """The position-stable hue step is torchvision's float ``adjust_hue`` rounded to the nearest uint8
    (atol half a level, 0.5/255, plus float32 slack), at every pixel of a wide random image."""
    import torchvision.transforms.functional as TF

    from zoo.data.transforms import shift_hue

    img = np.random.default_rng(1).integers(0, 256, (7, 150, 3), dtype=np.uint8)
    for factor in (-0.4, -0.05, 0.0, 0.1, 0.5):
        ours = torch.from_numpy(shift_hue(img, factor)).permute(2, 0, 1).float() / 255
        ref = TF.adjust_hue(torch.from_numpy(img).permute(2, 0, 1).float() / 255, factor)
        assert (ours - ref).abs().max().item() <= 0.5 / 255 + 1e-5, factor
        # a colour gives the same result in any column (OpenCV 5.1's uint8 path does not)
        row = np.repeat(img[:1, :1], 150, axis=1)
        shifted = shift_hue(row, factor)
        assert (shifted == shifted[:, :1]).all()


def test_crop_region_maps_boxes_like_the_pixels():
    rng = np.random.default_rng(4)
    frame = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = np.zeros((120, 160), np.uint8)
    mask[30:70, 50:90] = 1
    box = mask_boxes(mask[None])[0]
    for cx, cy, side in [(70.0, 50.0, 80.0), (20.0, 10.0, 100.0), (150.0, 110.0, 40.0)]:
        crop, mcrop, geo = crop_region(frame, (cx, cy), side, 64, mask=mask)
        assert crop.shape == (64, 64, 3) and mcrop.shape == (64, 64)
        ref = mask_boxes(mcrop[None])[0]
        mapped = np.clip(geo.boxes_to_crop(box), 0, 64)
        if np.isfinite(ref).all():
            assert np.abs(ref - mapped).max() <= 1.0
        np.testing.assert_allclose(geo.boxes_to_frame(geo.boxes_to_crop(box)), box)
    # identity crop: side = out size centred on the frame centre reproduces the pixels
    crop, _, _ = crop_region(frame, (80.0, 60.0), 64, 64)
    np.testing.assert_array_equal(crop, frame[28:92, 48:112])

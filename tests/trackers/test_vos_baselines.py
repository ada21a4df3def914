"""VOS baselines: copy-first-mask returns the first labels; Farneback flow warping follows moving objects
(masks backward with composed coordinates, keypoints forward)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from zoo.registry import get_method, list_methods
from zoo.tasks.protocols import VOSTracker
from zoo.trackers.vos_baselines import CopyFirstMask, FlowWarp, check_labels, sample_bilinear

H, W = 240, 320


def moving_squares(n, objects, seed=0):
    """Textured squares composited with sub-pixel accuracy over a static blurred-noise background.

    Args:
        objects: list of (size, (x0, y0), (vx, vy)) in pixels and pixels/frame; object k gets id k + 1.

    Returns:
        frames: list of (H, W, 3) uint8 RGB; masks: list of (H, W) uint8 id maps (later objects on top).
    """
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 3).astype(
        np.float32
    )
    textures = [
        cv2.resize(rng.integers(0, 256, (s // 4, s // 4, 3), dtype=np.uint8), (s, s)).astype(np.float32)
        for s, _, _ in objects
    ]
    frames, masks = [], []
    for t in range(n):
        img = background.copy()
        mask = np.zeros((H, W), np.uint8)
        for k, ((size, (x0, y0), (vx, vy)), tex) in enumerate(zip(objects, textures)):
            shift = np.float32([[1, 0, x0 + vx * t], [0, 1, y0 + vy * t]])
            obj = cv2.warpAffine(tex, shift, (W, H))
            alpha = cv2.warpAffine(np.ones((size, size), np.float32), shift, (W, H))[..., None]
            img = img * (1 - alpha) + obj * alpha
            mask[alpha[..., 0] > 0.5] = k + 1
        frames.append(np.clip(img.round(), 0, 255).astype(np.uint8))
        masks.append(mask)
    return frames, masks


def iou(a, b):
    return np.logical_and(a, b).sum() / np.logical_or(a, b).sum()


def centroid(mask):
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def run(tracker, frames, labels0):
    tracker.init(frames[0], labels0)
    return [tracker.step(f) for f in frames[1:]]


def test_registered_and_protocol():
    assert {"copy_first", "flow_warp"} <= set(list_methods(task="vos", kind="baseline"))
    assert get_method("copy_first").cls is CopyFirstMask
    assert get_method("flow_warp").cls is FlowWarp
    assert isinstance(CopyFirstMask(), VOSTracker) and isinstance(FlowWarp(), VOSTracker)


def test_copy_first_returns_first_labels():
    frames, masks = moving_squares(4, [(64, (60, 50), (3.0, 1.0))])
    tracker = CopyFirstMask()
    for out in run(tracker, frames, masks[0]):
        assert out.dtype == np.uint8 and out.shape == (H, W)
        np.testing.assert_array_equal(out, masks[0])
        out[:] = 7  # the caller owning the result must not corrupt later frames
    np.testing.assert_array_equal(tracker.step(frames[1]), masks[0])

    keypoints = np.array([[1.5, 2.0], [np.nan, np.nan], [-1.0, -1.0]], np.float32)
    for out in run(tracker, frames, keypoints):
        assert out.dtype == np.float64 and out.shape == (3, 2)
        np.testing.assert_array_equal(out, keypoints.astype(np.float64))


def test_flow_warp_mask_follows_square():
    frames, masks = moving_squares(11, [(64, (60, 50), (2.0, 1.0))])
    outs = run(FlowWarp(), frames, masks[0])
    assert all(o.dtype == np.uint8 and o.shape == (H, W) for o in outs)
    # Copying the first mask would give IoU 0.41 after 10 frames (20 px, 10 px behind).
    assert iou(masks[0] > 0, masks[10] > 0) < 0.5
    assert iou(outs[-1] > 0, masks[10] > 0) > 0.9
    assert set(np.unique(outs[-1])) == {0, 1}


def test_flow_warp_keeps_subpixel_motion():
    # 0.4 px/frame: re-warping the last hard mask with nearest lookup would round every step to 0 and end
    # 8 px behind; composing coordinates must keep up.
    frames, masks = moving_squares(21, [(64, (60, 50), (0.4, 0.0))])
    outs = run(FlowWarp(), frames, masks[0])
    np.testing.assert_allclose(centroid(outs[-1]), centroid(masks[20]), atol=1.0)


def test_flow_warp_two_objects_keep_their_ids():
    frames, masks = moving_squares(11, [(56, (40, 40), (2.0, 1.5)), (48, (220, 150), (-2.5, -1.0))])
    out = run(FlowWarp(), frames, masks[0])[-1]
    for k in (1, 2):
        assert iou(out == k, masks[10] == k) > 0.85, k


def test_flow_warp_keypoints_move_with_square():
    frames, _ = moving_squares(11, [(64, (60, 50), (2.0, 1.0))])
    on_square = np.array([[70.0, 60.0], [100.0, 90.0], [80.5, 75.25], [115.0, 62.0]])
    keypoints = np.concatenate([on_square, [[-1.0, -1.0], [np.nan, np.nan], [-1.0, 30.0], [15.0, 200.0]]])
    outs = run(FlowWarp(), frames, keypoints)
    assert all(o.dtype == np.float64 and o.shape == (8, 2) for o in outs)
    np.testing.assert_allclose(outs[-1][:4], on_square + [20.0, 10.0], atol=1.5)
    # Invisible keypoints come back exactly as given (NaN included); a background point stays put.
    np.testing.assert_array_equal(outs[-1][4:7], keypoints[4:7])
    np.testing.assert_allclose(outs[-1][7], keypoints[7], atol=0.5)


def _constant_flow(monkeypatch, field):
    monkeypatch.setattr(FlowWarp, "flow", lambda self, src, dst: field(src.shape))


def test_mask_warp_logic_with_known_flow(monkeypatch):
    # Backward flow (-3, -2) everywhere: each pixel came from 3 px left, 2 px up, so the mask moves by
    # (+3, +2) per frame and background enters at the left/top borders.
    _constant_flow(monkeypatch, lambda shape: np.broadcast_to(np.float32([-3, -2]), (*shape, 2)).copy())
    frame = np.zeros((H, W, 3), np.uint8)
    mask0 = np.zeros((H, W), np.uint8)
    mask0[0:40, 0:30] = 2
    mask0[100:150, 200:319] = 1
    tracker = FlowWarp()
    tracker.init(frame, mask0)
    tracker.step(frame)
    out = tracker.step(frame)
    expected = np.zeros_like(mask0)
    expected[4:, 6:] = mask0[:-4, :-6]
    np.testing.assert_array_equal(out, expected)


def test_keypoint_warp_logic_with_known_flow(monkeypatch):
    # A linear flow field: bilinear sampling reproduces it exactly, so every step is p += (0.1 x + 1, -0.05 y).
    def field(shape):
        ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
        return np.stack([0.1 * xs + 1.0, -0.05 * ys], axis=-1)

    _constant_flow(monkeypatch, field)
    frame = np.zeros((H, W, 3), np.uint8)
    points = np.array([[10.25, 20.5], [280.0, 100.0], [0.0, 0.0], [np.nan, 5.0]])
    tracker = FlowWarp()
    tracker.init(frame, points)
    expected = points.copy()
    for _ in range(2):
        out = tracker.step(frame)
        expected[:3] += np.stack([0.1 * expected[:3, 0] + 1.0, -0.05 * expected[:3, 1]], axis=1)
    np.testing.assert_allclose(out[[0, 2]], expected[[0, 2]], atol=1e-4)
    # x 280 -> 309 -> 340.9 > W - 1: carried outside the image, so lost (and stays lost).
    np.testing.assert_array_equal(out[1], [-1.0, -1.0])
    assert np.isnan(out[3, 0]) and out[3, 1] == 5.0
    np.testing.assert_array_equal(tracker.step(frame)[1], [-1.0, -1.0])


def test_sample_bilinear_matches_scipy():
    rng = np.random.default_rng(3)
    field = rng.normal(size=(17, 23, 2))
    points = np.column_stack([rng.uniform(0, 22, 50), rng.uniform(0, 16, 50)])
    points[:3] = [[22.0, 16.0], [0.0, 0.0], [22.0, 3.5]]  # last column/row exactly
    got = sample_bilinear(field, points)
    for c in range(2):
        ref = map_coordinates(field[..., c], [points[:, 1], points[:, 0]], order=1)
        np.testing.assert_allclose(got[:, c], ref, atol=1e-12)


def test_flow_direction():
    frames, _ = moving_squares(2, [(96, (100, 60), (3.0, -2.0))])
    tracker = FlowWarp()
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    forward = tracker.flow(gray[0], gray[1])
    assert forward.shape == (H, W, 2) and forward.dtype == np.float32
    np.testing.assert_allclose(
        np.median(forward[80:130, 120:170].reshape(-1, 2), axis=0), [3.0, -2.0], atol=0.2
    )


def test_bad_inputs():
    frame = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(ValueError, match="integer mask or a \\(J, 2\\) float"):
        check_labels(frame, np.zeros((H, W), np.float32))
    with pytest.raises(ValueError, match="integer mask or a \\(J, 2\\) float"):
        check_labels(frame, np.zeros((5, 2), np.int64))
    with pytest.raises(ValueError, match="0..255"):
        check_labels(frame, np.full((H, W), 300, np.int32))
    with pytest.raises(ValueError, match="uint8 RGB"):
        check_labels(frame[..., 0], np.zeros((H, W), np.uint8))
    for tracker in (CopyFirstMask(), FlowWarp()):
        with pytest.raises(RuntimeError, match="before init"):
            tracker.step(frame)
        tracker.init(frame, np.zeros((H, W), bool))
        with pytest.raises(ValueError, match="first frame had"):
            tracker.step(frame[:100])
    with pytest.raises(ValueError, match="pyr_scale"):
        FlowWarp(pyr_scale=1.5)

"""JHMDB PCK against a hand-computed fixture (invisible joints, the reference-length rule, both conventions)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.metrics.keypoints import pck, pck_statistics, reference_lengths
from zoo.metrics.synced import JHMDBPCK


def _videos():
    """Two videos of 3 joints, (x, y) pixels.

    Video A, frame 1: joint 2 is predicted at x < 0 (invisible); its GT (60, 80) would double the box if it
    counted, so the reference is 0.6 x |(30, 40)| = 30 and errors 3 and 6 land exactly on 0.1 and 0.2
    (inclusive). Frame 2: reference 0.6 x |(56, 58)|, errors 4, 9, 15.
    Video B, frame 1: GT x < -1; the CRW script's box starts from max = -1, so its x extent is 11, not 10,
    which turns joint 1's error 2 into a hit at 0.2 (2 / (0.6 sqrt(290)) = 0.196 vs 2 / (0.6 sqrt(269)) =
    0.203). Predicted x == 0 is visible for CRW (x < 0 drops) but not for the later convention (x > 0 keeps).
    """
    gt_a = np.array(
        [
            [[0, 0], [30, 40], [10, 10]],
            [[0, 0], [30, 40], [60, 80]],
            [[100, 100], [106, 108], [50, 50]],
        ],
        float,
    )
    pred_a = np.array(
        [
            [[0, 0], [30, 40], [10, 10]],
            [[3, 0], [30, 46], [-1, 5]],
            [[100, 104], [115, 108], [65, 50]],
        ],
        float,
    )
    gt_b = np.array([[[5, 5], [7, 7], [9, 9]], [[-12, 0], [-2, 13], [50, 50]]], float)
    pred_b = np.array([[[0, 5], [7, 7], [9, 9.5]], [[0, 0], [0, 13], [-5, 5]]], float)
    return [pred_a, pred_b], [gt_a, gt_b]


def test_crw_convention_hand_fixture():
    preds, gts = _videos()
    res = pck(preds, gts, alphas=(0.1, 0.2), convention="crw")
    assert res["convention"] == "crw"
    np.testing.assert_array_equal(res["counts"], [3, 3, 1])  # frame 0 never scored; x < 0 invisible
    np.testing.assert_allclose(res["per_joint"]["PCK@0.1"], [200 / 3, 0, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["per_joint"]["PCK@0.2"], [200 / 3, 100, 0], rtol=0, atol=1e-9)
    assert res["PCK@0.1"] == pytest.approx(200 / 9, abs=1e-9)
    assert res["PCK@0.2"] == pytest.approx(500 / 9, abs=1e-9)


def test_later_convention_hand_fixture():
    preds, gts = _videos()
    res = pck(preds, gts, alphas=(0.1, 0.2), convention="later")
    assert res["convention"] == "later"
    # frame 0 scored; predicted x == 0 invisible (video A frame 0 joint 0, video B joints 0 and 1)
    np.testing.assert_array_equal(res["counts"], [2, 4, 3])
    np.testing.assert_allclose(res["per_joint"]["PCK@0.1"], [100, 50, 100 / 3], rtol=0, atol=1e-9)
    np.testing.assert_allclose(res["per_joint"]["PCK@0.2"], [100, 100, 100 / 3], rtol=0, atol=1e-9)
    assert res["PCK@0.1"] == pytest.approx((100 + 50 + 100 / 3) / 3, abs=1e-9)
    assert res["PCK@0.2"] == pytest.approx((100 + 100 + 100 / 3) / 3, abs=1e-9)


def test_reference_length_uses_visible_joints_only():
    preds, gts = _videos()
    visible = ~(preds[0][..., 0] < 0)
    ref = reference_lengths(gts[0], visible, "crw")
    assert ref[1] == 30.0
    assert ref[2] == pytest.approx(0.6 * np.sqrt(56**2 + 58**2), abs=1e-12)


def test_metric_pools_videos_like_functional():
    preds, gts = _videos()
    metric = JHMDBPCK(alphas=(0.1, 0.2), convention="crw", num_joints=3)
    for p, g in zip(preds, gts):
        metric.update(torch.as_tensor(p), torch.as_tensor(g))
    res = metric.compute()
    ref = pck(preds, gts, convention="crw")
    assert res["PCK@0.1"].item() == ref["PCK@0.1"] and res["PCK@0.2"].item() == ref["PCK@0.2"]
    assert torch.equal(res["per_joint/PCK@0.2"], torch.as_tensor(ref["per_joint"]["PCK@0.2"]))
    hits, counts = pck_statistics(preds[0], gts[0])
    assert hits.dtype == np.int64 and hits.shape == (2, 3) and counts.tolist() == [2, 2, 1]


def test_never_visible_joint_is_left_out_of_the_mean():
    gt = np.zeros((3, 2, 2))
    gt[:, 1] = [4.0, 3.0]
    pred = gt.copy()
    pred[:, 1, 0] = -1  # joint 1 never visible
    res = pck(pred, gt, alphas=(0.1,))
    assert np.isnan(res["per_joint"]["PCK@0.1"][1]) and res["counts"].tolist() == [2, 0]


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"\(T, J, 2\)"):
        pck(np.zeros((3, 15)), np.zeros((3, 15)))
    with pytest.raises(ValueError, match="differ in shape"):
        pck(np.zeros((3, 15, 2)), np.zeros((4, 15, 2)))
    with pytest.raises(ValueError, match="convention"):
        pck(np.zeros((3, 15, 2)), np.zeros((3, 15, 2)), convention="uvc")
    with pytest.raises(ValueError, match="15 joints"):
        JHMDBPCK().update(np.zeros((3, 14, 2)), np.zeros((3, 14, 2)))


@pytest.mark.parametrize("convention", ["crw", "later"])
def test_not_annotated_ground_truth_is_not_scored(convention):
    """A NaN ground-truth joint (hidden in ZooSynth-KP) counts as a joint the tracker says is invisible: not
    scored, and not part of its frame's reference box."""
    preds, gts = _videos()
    pred, gt = preds[0].copy(), gts[0].copy()
    hidden = np.zeros(gt.shape[:2], bool)
    hidden[1, 0] = hidden[2, 2] = True
    gt_nan = gt.copy()
    gt_nan[hidden] = np.nan
    # the same numbers as when the tracker itself marks those joints invisible (x < 0 / x <= 0)
    pred_off = pred.copy()
    pred_off[hidden] = -1.0
    want_hits, want_counts = pck_statistics(pred_off, gt, convention=convention)
    hits, counts = pck_statistics(pred, gt_nan, convention=convention)
    np.testing.assert_array_equal(hits, want_hits)
    np.testing.assert_array_equal(counts, want_counts)
    # real JHMDB (every joint annotated) is unchanged
    h_all, c_all = pck_statistics(pred, gt, convention=convention)
    assert c_all.sum() > counts.sum()

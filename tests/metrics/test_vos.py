"""DAVIS J&F: per-frame J/F against TrackEval's JAndF (the DAVIS code), aggregation against hand fixtures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.metrics.synced import DAVISJF
from zoo.metrics.vos import (
    boundary_map,
    boundary_radius,
    davis_summary,
    decay_bins,
    disk,
    frame_f,
    frame_j,
    jf_sequence,
    object_scores,
    statistics,
)

mask_utils = pytest.importorskip("pycocotools.mask")
pytest.importorskip("skimage")  # TrackEval's _compute_f takes its disk from scikit-image
JAndF = pytest.importorskip("trackeval.metrics").JAndF
# pycocotools' decode trips numpy 2's copy-keyword deprecation; it is the oracle's business, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TOL = 1e-9


def random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Blobs (some leaving the frame) with holes, 1-pixel lines, speckle, and sometimes empty or full."""
    yy, xx = np.mgrid[:h, :w]
    m = np.zeros((h, w), bool)
    for _ in range(rng.integers(0, 4)):
        cy, cx = rng.uniform(-0.2, 1.2) * h, rng.uniform(-0.2, 1.2) * w
        ry, rx = rng.uniform(0.05, 0.6) * h + 1, rng.uniform(0.05, 0.6) * w + 1
        m |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    if rng.random() < 0.5:  # a hole
        m &= ~(((yy - h / 2) / (h / 8 + 1)) ** 2 + ((xx - w / 2) / (w / 8 + 1)) ** 2 < 1)
    if rng.random() < 0.5:  # thin structures
        m[rng.integers(0, h), :] = True
        m[:, rng.integers(0, w)] ^= True
    if rng.random() < 0.2:
        m |= rng.random((h, w)) < 0.1
    if rng.random() < 0.05:
        m[:] = True
    return m


def random_pair(rng: np.random.Generator, t: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    gt = np.stack([random_mask(rng, h, w) for _ in range(t)])
    pred = np.stack(
        [
            random_mask(rng, h, w) if rng.random() < 0.4 else np.roll(gt[i], rng.integers(-3, 4), axis=1)
            for i in range(t)
        ]
    )
    return gt, pred


def trackeval_jf(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame J and F of binary (T, H, W) masks from TrackEval's JAndF (pycocotools RLE inputs)."""
    enc = [[mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))] for m in gt]
    enc_p = [[mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))] for m in pred]
    t = len(gt)
    j = JAndF._compute_j(enc, enc_p, 1, 1, t)[0, 0]
    f = JAndF._compute_f(enc, enc_p, 0, 0, 0.008)
    return j, f


def test_boundary_map_hand_fixtures():
    square = np.zeros((4, 5), bool)
    square[1:3, 1:3] = True
    expected = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 0, 0]], bool)
    np.testing.assert_array_equal(boundary_map(square), expected)
    corner = np.zeros((3, 3), bool)
    corner[2, 2] = True  # last row/column see one neighbour only; the corner itself is never boundary
    np.testing.assert_array_equal(boundary_map(corner), [[0, 0, 0], [0, 1, 1], [0, 1, 0]])
    assert not boundary_map(np.ones((3, 4), bool)).any()  # a full-frame mask has no boundary
    np.testing.assert_array_equal(boundary_map(np.stack([square, ~square]))[0], expected)


def test_radius_and_disk():
    assert boundary_radius(480, 854) == 8
    assert boundary_radius(6, 6) == 1
    assert boundary_radius(100, 100, bound_th=3) == 3
    from skimage.morphology import disk as sk_disk

    np.testing.assert_array_equal(disk(8), sk_disk(8))
    assert disk(8).sum() == 197


@pytest.mark.parametrize(
    ("h", "w", "t"), [(1, 1, 4), (2, 3, 10), (5, 7, 20), (37, 53, 20), (120, 200, 12), (480, 854, 5)]
)
def test_per_frame_j_f_match_trackeval(h, w, t):
    rng = np.random.default_rng(h * 1000 + w)
    gt, pred = random_pair(rng, t, h, w)
    gt[0] = False  # empty GT
    pred[1] = False  # empty prediction
    gt[-1] = pred[-1] = False  # both empty
    yy, xx = np.mgrid[:h, :w]
    gt[2] = ((yy - h / 2) / (h / 4 + 1)) ** 2 + ((xx - w / 2) / (w / 4 + 1)) ** 2 < 1
    pred[2] = np.roll(gt[2], boundary_radius(h, w) + 3, axis=1)  # beyond the tolerance: partial F
    j_ref, f_ref = trackeval_jf(gt, pred)
    np.testing.assert_allclose(frame_j(gt, pred), j_ref, rtol=0, atol=TOL)
    np.testing.assert_allclose(frame_f(gt, pred), f_ref, rtol=0, atol=TOL)
    if h * w > 100:  # the data exercises partial scores, not only the 0/1 rules
        assert ((f_ref > 0.01) & (f_ref < 0.99)).any()


def _label_maps(rng: np.random.Generator, t: int, h: int, w: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    gt = np.zeros((t, h, w), np.uint8)
    pred = np.zeros((t, h, w), np.uint8)
    for obj in range(1, k + 1):
        g, p = random_pair(rng, t, h, w)
        gt[g] = obj
        pred[p] = obj
    gt[:, : h // 6, : w // 6] = 255  # void corner
    return gt, pred


@pytest.mark.parametrize("void_mode", ["background", "ignore"])
def test_object_scores_match_trackeval_per_object(void_mode):
    rng = np.random.default_rng(7)
    gt, pred = _label_maps(rng, 6, 60, 90, 3)
    j, f = object_scores(gt, pred, 3, void=255, void_mode=void_mode)
    valid = gt != 255 if void_mode == "ignore" else np.ones(gt.shape, bool)
    for k in range(3):
        j_ref, f_ref = trackeval_jf((gt == k + 1) & valid, (pred == k + 1) & valid)
        np.testing.assert_allclose(j[k], j_ref, rtol=0, atol=TOL)
        np.testing.assert_allclose(f[k], f_ref, rtol=0, atol=TOL)
    if void_mode == "background":
        # void must matter for the test to mean anything: the prediction covers some void pixels
        assert ((pred > 0) & (gt == 255)).any()


def test_statistics_hand_fixture():
    values = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]])
    np.testing.assert_array_equal(decay_bins(10), [0, 2, 5, 7, 9])
    mean, recall, decay = statistics(values)
    assert mean[0] == pytest.approx(0.45, abs=TOL)
    assert recall[0] == pytest.approx(0.4, abs=TOL)  # strictly above 0.5
    assert decay[0] == pytest.approx(0.8 - 0.1, abs=TOL)  # bins [0, 2] and [7, 9]


def test_uint8_decay_bins_reproduce_the_reference_quirk():
    values = (np.arange(400) / 1000.0)[None]
    np.testing.assert_array_equal(decay_bins(400), [0, 100, 200, 299, 399])
    np.testing.assert_array_equal(decay_bins(400, uint8_bins=True), [0, 100, 200, 43, 143])
    assert statistics(values)[2][0] == pytest.approx(0.050 - 0.349, abs=TOL)
    assert statistics(values, uint8_bins=True)[2][0] == pytest.approx(0.050 - 0.093, abs=TOL)
    # up to 256 scored frames both agree
    short = np.random.default_rng(0).random((2, 256))
    np.testing.assert_array_equal(statistics(short)[2], statistics(short, uint8_bins=True)[2])


def _sequence_a() -> tuple[np.ndarray, np.ndarray]:
    """5 frames of 6x6; scored frames 1..3. Object 1: GT square rows/cols 1-2; predicted identical, shifted
    one column (J = 2/6), absent (J = 0). Object 2 (bar at row 4) is never predicted. Object 3 appears
    after frame 0 and is not evaluated. Frames 0 and 4 hold predictions that would change every number."""
    gt = np.zeros((5, 6, 6), np.uint8)
    gt[:, 1:3, 1:3] = 1
    gt[:, 4, 0:3] = 2
    gt[2:, 0, 4:6] = 3
    pred = np.zeros_like(gt)
    pred[1, 1:3, 1:3] = 1
    pred[2, 1:3, 2:4] = 1
    pred[4] = gt[4] * (gt[4] < 3)  # perfect last frame (not scored)
    return gt, pred


def test_jf_sequence_and_summary_hand_fixture():
    gt_a, pred_a = _sequence_a()
    res_a = jf_sequence(gt_a, pred_a)
    assert res_a["num_objects"] == 2
    np.testing.assert_allclose(res_a["J_per_frame"], [[1, 1 / 3, 0], [0, 0, 0]], rtol=0, atol=TOL)
    # edges for 3 frames: [0, 1, 1, 2, 2] -> first bin frames 0-1, last bin frame 2
    np.testing.assert_allclose(res_a["J"]["mean"], [4 / 9, 0], rtol=0, atol=TOL)
    np.testing.assert_allclose(res_a["J"]["recall"], [1 / 3, 0], rtol=0, atol=TOL)
    np.testing.assert_allclose(res_a["J"]["decay"], [2 / 3, 0], rtol=0, atol=TOL)
    # 6x6 frames: tolerance ceil(0.008 * sqrt(72)) = 1 px, so the one-column shift keeps F = 1; an empty
    # prediction of a non-empty object gives P = 1, R = 0, F = 0
    np.testing.assert_array_equal(res_a["F_per_frame"], [[1, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(res_a["F"]["decay"], [1, 0], rtol=0, atol=TOL)

    gt_b = np.zeros((4, 8, 8), np.uint8)
    gt_b[:, 2:6, 2:6] = 1
    res_b = jf_sequence(gt_b, gt_b.copy())
    np.testing.assert_array_equal(res_b["J"]["mean"], [1.0])
    np.testing.assert_array_equal(res_b["F"]["decay"], [0.0])

    summary = davis_summary({"a": res_a, "b": res_b})
    # averaged over the 3 objects, not over the 2 sequences
    assert summary["num_objects"] == 3
    assert summary["J-Mean"] == pytest.approx((4 / 9 + 0 + 1) / 3, abs=TOL)
    assert summary["J-Recall"] == pytest.approx((1 / 3 + 0 + 1) / 3, abs=TOL)
    assert summary["J-Decay"] == pytest.approx((2 / 3 + 0 + 0) / 3, abs=TOL)
    assert summary["F-Mean"] == pytest.approx((2 / 3 + 0 + 1) / 3, abs=TOL)
    assert summary["J&F-Mean"] == pytest.approx((13 / 27 + 5 / 9) / 2, abs=TOL)
    assert summary["per_object"]["a_1"]["J-Mean"] == pytest.approx(4 / 9, abs=TOL)
    assert summary["per_object"]["b_1"]["J&F-Mean"] == 1.0
    assert res_a["sequence"]["J-Mean"] == pytest.approx(2 / 9, abs=TOL)


def test_void_is_background_or_ignored():
    gt = np.zeros((3, 6, 6), np.uint8)
    gt[:, 1:3, 1:3] = 1
    gt[:, 1:3, 3] = 255
    pred = np.zeros_like(gt)
    pred[:, 1:3, 1:4] = 1  # covers the void column
    assert jf_sequence(gt, pred)["J"]["mean"][0] == pytest.approx(4 / 6, abs=TOL)
    ignored = jf_sequence(gt, pred, void_mode="ignore")
    assert ignored["J"]["mean"][0] == 1.0 and ignored["F"]["mean"][0] == 1.0


def test_metric_class_equals_summary():
    rng = np.random.default_rng(3)
    seqs = [_label_maps(rng, int(rng.integers(3, 7)), 30, 40, int(rng.integers(1, 4))) for _ in range(4)]
    for _, pred in seqs:
        pred[pred == 255] = 0
    metric = DAVISJF()
    results = {}
    for i, (gt, pred) in enumerate(seqs):
        # objects are defined by the first GT frame; later-only objects are not predicted by ids > K
        k = int(np.where(gt[0] == 255, 0, gt[0]).max())
        pred = np.where(pred > k, 0, pred).astype(np.uint8)
        metric.update(torch.as_tensor(gt), torch.as_tensor(pred))
        results[str(i)] = jf_sequence(gt, pred)
    ref = davis_summary(results)
    res = metric.compute()
    assert res["num_objects"].item() == ref["num_objects"]
    for key in ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"):
        assert res[key].item() == ref[key], key


def test_bad_input_raises():
    gt = np.zeros((4, 5, 5), np.uint8)
    gt[0, 1, 1] = 1
    pred = np.zeros_like(gt)
    pred[2, 0, 0] = 2
    with pytest.raises(ValueError, match="frame 2 holds object id 2"):
        jf_sequence(gt, pred)
    with pytest.raises(ValueError, match="at least 3 frames"):
        jf_sequence(gt[:2], gt[:2])
    with pytest.raises(ValueError, match="equal shapes"):
        jf_sequence(gt, gt[:, :4])
    with pytest.raises(ValueError, match="integer"):
        jf_sequence(gt.astype(float), gt)
    with pytest.raises(ValueError, match="void_mode"):
        object_scores(gt, gt, 1, void_mode="drop")


class _CountingFrames:
    """A lazy sequence of frames that counts how often each frame is read."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames, self.reads = frames, np.zeros(len(frames), int)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index):
        if isinstance(index, slice):
            view = _CountingFrames.__new__(_CountingFrames)
            view.frames, view.reads = self.frames[index], self.reads[index]  # reads: a view, counts go back
            return view
        self.reads[index] += 1
        return self.frames[index]


from collections.abc import Sequence as _Seq  # noqa: E402

_Seq.register(_CountingFrames)


def test_frame_sequences_and_dtypes_score_as_stacks():
    """A lazy sequence of frames (as re-scoring reads them), a list, read-only row-strided views and
    int64 maps (numpy's crop path instead of OpenCV's) and tensors all give the stacked uint8 result, exactly;
    each lazy frame is read once (unscored frames 0 and T-1 only for their size), frame 1 of the ground
    truth twice (its size is the sequence's check before scoring)."""
    rng = np.random.default_rng(11)
    gt, pred = _label_maps(rng, 9, 48, 70, 3)
    ref = jf_sequence(gt, pred)
    padded = np.zeros((9, 48, 71), np.uint8)  # rows one byte wider, as the PNG reader's views are
    padded[:, :, 1:] = pred
    views = [np.frombuffer(m.tobytes(), np.uint8).reshape(48, 71)[:, 1:] for m in padded]
    assert not views[0].flags.writeable and views[0].strides == (71, 1)
    lazy_gt, lazy_pred = _CountingFrames(gt), _CountingFrames(pred)
    for got in (
        jf_sequence(lazy_gt, lazy_pred),
        jf_sequence(list(gt), views),
        jf_sequence(gt.astype(np.int64), pred.astype(np.int64)),
        jf_sequence(torch.from_numpy(gt), torch.from_numpy(pred)),
    ):
        np.testing.assert_array_equal(got["J_per_frame"], ref["J_per_frame"])
        np.testing.assert_array_equal(got["F_per_frame"], ref["F_per_frame"])
        assert got["sequence"] == ref["sequence"]
    np.testing.assert_array_equal(lazy_gt.reads, [1, 2, 1, 1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(lazy_pred.reads, [1, 1, 1, 1, 1, 1, 1, 1, 1])


def test_objects_on_the_frame_edges_match_trackeval():
    """The crop is clipped to the frame: objects cut by every edge and corner score as TrackEval scores
    them on the whole frame."""
    h, w = 40, 64
    gt = np.zeros((6, h, w), np.uint8)
    pred = np.zeros_like(gt)
    gt[0, :10, :12] = 1  # top-left corner
    pred[0, :12, :9] = 1
    gt[1, -7:, -5:] = 1  # bottom-right corner
    pred[1, -9:, -8:] = 1
    gt[2, :, :3] = 1  # the whole left edge
    pred[2, 2:, :4] = 1
    gt[3] = 1  # the full frame
    pred[3, 1:, 1:] = 1
    gt[4, 20:30, -1:] = 1  # one column on the right edge
    pred[4, -1:, 10:30] = 1  # one row on the bottom edge
    pred[5, 5:9, 5:9] = 1  # empty ground truth
    j_ref, f_ref = trackeval_jf(gt == 1, pred == 1)
    j, f = object_scores(gt, pred, 1)
    np.testing.assert_allclose(j[0], j_ref, rtol=0, atol=TOL)
    np.testing.assert_allclose(f[0], f_ref, rtol=0, atol=TOL)


def test_lazy_frames_of_another_size_are_named():
    gt = np.zeros((5, 8, 8), np.uint8)
    gt[:, 2:5, 2:5] = 1
    frames = list(gt)
    frames[3] = np.zeros((8, 9), np.uint8)
    with pytest.raises(ValueError, match=r"frame 3 has gt \(8, 8\), pred \(8, 9\)"):
        jf_sequence(gt, frames)
    frames = list(gt)
    frames[-1] = np.zeros((7, 8), np.uint8)  # not scored, still checked
    with pytest.raises(ValueError, match=r"frame 4 has pred \(7, 8\)"):
        jf_sequence(gt, frames)
    gt_frames = list(gt)
    gt_frames[-1] = np.zeros((3, 3), np.uint8)  # the last annotation is not scored, still checked
    with pytest.raises(ValueError, match=r"frame 4 has gt \(3, 3\)"):
        jf_sequence(gt_frames, gt)
    gt_frames = list(gt)
    gt_frames[0] = np.zeros((8, 9), np.uint8)
    with pytest.raises(ValueError, match=r"frame 1 has gt \(8, 8\), gt frame 0 \(8, 9\)"):
        jf_sequence(gt_frames, [np.zeros((8, 9), np.uint8), *list(gt)[1:]])


def test_empty_frames_score_one():
    empty = np.zeros((5, 0, 7), np.uint8)
    j, f = object_scores(empty, empty, 2)
    assert (j == 1).all() and (f == 1).all()

"""SORT: hand-made scenarios, the association rule, and an independent per-object reference (structure of
the authors' ``sort.py``: one tracker object per target, scipy's Hungarian solver) on random and real
scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from zoo.core.kalman import KalmanFilterXYSR
from zoo.data.types import SeqInfo
from zoo.registry import get_method
from zoo.tasks.protocols import Detections, MOTTracker, Tracks
from zoo.trackers.byte import ByteTrack
from zoo.trackers.sort import Sort, sort_associate

MOT17 = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"


def _dets(boxes, scores=None) -> Detections:
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return Detections(b, np.ones(len(b)) if scores is None else np.asarray(scores, np.float64))


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [x, y, x + w, y + h]


def _run(tracker, frames: list[Detections]) -> list[Tracks]:
    return [tracker.step(None, d) for d in frames]


def _iou_loops(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain IoU, one pair at a time (independent of zoo.core.boxes)."""
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            iw = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
            ih = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
            inter = iw * ih
            union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


# --------------------------------------------------------------------------------------- hand-made scenes
def test_registered_and_protocol():
    spec = get_method("sort")
    assert spec.cls is Sort and spec.task == "mot" and spec.kind == "baseline"
    assert "Bewley" in spec.paper
    assert isinstance(Sort(), MOTTracker)


def test_crossing_targets_keep_ids():
    frames = [_dets([_box(10 + 10 * t, 100), _box(310 - 10 * t, 130)]) for t in range(30)]
    outs = _run(Sort(), frames)
    for t, o in enumerate(outs):
        assert len(o) == 2, t
        a = int(np.argmin(np.abs(o.boxes[:, 0] - (10 + 10 * t)) + np.abs(o.boxes[:, 1] - 100)))
        assert o.ids[a] == 1 and o.ids[1 - a] == 2, t
        np.testing.assert_allclose(o.boxes[a], _box(10 + 10 * t, 100), atol=3.0)


def test_min_hits_timing():
    # A present from frame 1: reported on frames 1-3 (start-up) and ever after. B appears on frame 5:
    # created with no hits, matched on 6, 7, 8 -> streak 3 on frame 8, reported from then on.
    frames = [_dets([_box(100)] + ([_box(600)] if t >= 5 else [])) for t in range(1, 12)]
    ids = [o.ids.tolist() for o in _run(Sort(), frames)]
    assert ids == [[1], [1], [1], [1], [1], [1], [1], [1, 2], [1, 2], [1, 2], [1, 2]]


def test_gap_loses_id_in_sort_but_not_in_bytetrack():
    frames = [_dets([_box(500)], [0.9])] * 5 + [Detections.empty()] * 5 + [_dets([_box(500)], [0.9])] * 5
    sort_ids = {i for o in _run(Sort(), frames) for i in o.ids.tolist()}
    byte_ids = {i for o in _run(ByteTrack(), frames) for i in o.ids.tolist()}
    assert sort_ids == {1, 2} and byte_ids == {1}


@pytest.mark.parametrize(("gap", "same_id"), [(1, True), (2, False)])
def test_max_age_one(gap, same_id):
    # max_age=1 survives one missed frame (and must then rebuild its hit streak), not two.
    frames = [_dets([_box(500)])] * 5 + [Detections.empty()] * gap + [_dets([_box(500)])] * 4
    outs = _run(Sort(), frames)
    back = [o.ids.tolist() for o in outs[5 + gap :]]
    assert back == ([[], [], [1], [1]] if same_id else [[], [], [], [2]])


def test_max_age_longer_keeps_id():
    frames = [_dets([_box(500)])] * 5 + [Detections.empty()] * 3 + [_dets([_box(500)])] * 4
    assert {i for o in _run(Sort(max_age=3), frames) for i in o.ids.tolist()} == {1}


@pytest.mark.parametrize(("shift", "same_id"), [(50, True), (60, False)])
def test_iou_threshold(shift, same_id):
    # A still 100x100 box, then a jump: IoU (100 - s) / (100 + s) = 0.333 (kept) or 0.25 (< 0.3, new track).
    frames = [_dets([[0, 0, 100, 100]])] * 6 + [_dets([[shift, 0, 100 + shift, 100]])] * 4
    ids = {i for o in _run(Sort(), frames) for i in o.ids.tolist()}
    assert ids == ({1} if same_id else {1, 2})


def test_sort_associate_rule():
    # Fast path: one candidate per row and column.
    iou = np.array([[0.9, 0.1], [0.0, 0.5]])
    assert sort_associate(iou, 0.3).tolist() == [[0, 0], [1, 1]]
    # Ambiguous: the Hungarian maximises the total IoU (0.8 + 0.85 > 0.9 + 0), unlike a greedy choice.
    iou = np.array([[0.9, 0.8], [0.85, 0.0]])
    assert sort_associate(iou, 0.3).tolist() == [[0, 1], [1, 0]]
    # Pairs of the optimal assignment below the threshold are dropped afterwards (0.2 < 0.3).
    iou = np.array([[0.9, 0.35], [0.35, 0.2]])
    assert sort_associate(iou, 0.3).tolist() == [[0, 0]]
    # ... and a pair exactly at the threshold is kept (the reference drops only IoU < threshold).
    iou = np.array([[0.9, 0.8], [0.3, 0.0]])
    assert sort_associate(iou, 0.3).tolist() == [[0, 1], [1, 0]]
    assert sort_associate(np.zeros((0, 3)), 0.3).shape == (0, 2)


def test_empty_frames_and_bad_input():
    tr = Sort()
    out = tr.step(None, Detections.empty())
    assert len(out) == 0 and out.boxes.shape == (0, 4)
    outs = _run(tr, [_dets([_box(10)])] * 2 + [Detections.empty()] + [_dets([_box(10)])])
    assert [o.ids.tolist() for o in outs] == [[1], [1], [], []]
    with pytest.raises(ValueError, match="non-positive width"):
        tr.step(None, _dets([[10, 10, 10, 20]]))
    with pytest.raises(ValueError, match="scores"):
        tr.step(None, Detections(np.zeros((2, 4)), np.zeros(1)))


def test_reset_restarts_ids():
    tr = Sort()
    _run(tr, [_dets([_box(10), _box(300)])] * 3)
    tr.reset(SeqInfo("s", "img1", 30.0, 10, 640, 480, ".jpg"))
    assert tr.step(None, _dets([_box(10)])).ids.tolist() == [1]


# --------------------------------------------------------------------- random scenes vs. the reference
def _random_scene(rng: np.random.Generator, n_frames: int = 60, n_targets: int = 12) -> list[Detections]:
    """Linear walkers with box jitter, dropouts and false positives (scores unused by SORT)."""
    start = rng.uniform([0, 0], [1400, 700], size=(n_targets, 2))
    vel = rng.normal(0, 4, size=(n_targets, 2))
    size = rng.uniform([30, 70], [80, 200], size=(n_targets, 2))
    frames = []
    for t in range(n_frames):
        xy = start + vel * t + rng.normal(0, 2, size=(n_targets, 2))
        boxes = np.concatenate([xy, xy + size], axis=1)
        keep = rng.random(n_targets) > 0.15
        n_fp = rng.poisson(1.0)
        fp_xy = rng.uniform([0, 0], [1500, 800], size=(n_fp, 2))
        fp = np.concatenate([fp_xy, fp_xy + rng.uniform(20, 120, size=(n_fp, 2))], axis=1)
        b = np.concatenate([boxes[keep], fp])
        frames.append(_dets(b[rng.permutation(len(b))]))
    return frames


def _x_to_box(x: np.ndarray) -> np.ndarray:
    """SORT's ``convert_x_to_bbox``: NaN where the area * aspect is negative (as the reference)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.sqrt(x[2] * x[3])
        h = x[2] / w
    return np.array([x[0] - w / 2, x[1] - h / 2, x[0] + w / 2, x[1] + h / 2])


def _z(box: np.ndarray) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w * h, w / h])


class _RefTracker:
    def __init__(self, box: np.ndarray, kf: KalmanFilterXYSR, track_id: int) -> None:
        self.kf = kf
        self.x, self.P = kf.initiate(_z(box))
        self.id, self.time_since_update, self.hits, self.hit_streak = track_id, 0, 0, 0

    def predict(self) -> np.ndarray:
        self.x, self.P = self.kf.predict(self.x, self.P)
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        return _x_to_box(self.x)

    def update(self, box: np.ndarray) -> None:
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        self.x, self.P = self.kf.update(self.x, self.P, _z(box))


class _RefSort:
    """Per-object SORT following the reference ``Sort.update`` line by line (test oracle only)."""

    def __init__(self, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3) -> None:
        self.max_age, self.min_hits, self.iou_threshold = max_age, min_hits, iou_threshold
        self.trackers: list[_RefTracker] = []
        self.frame_count, self.count = 0, 0
        self.kf = KalmanFilterXYSR()

    def update(self, dets: np.ndarray) -> dict[int, np.ndarray]:
        self.frame_count += 1
        preds = [trk.predict() for trk in self.trackers]
        alive = [i for i, p in enumerate(preds) if not np.isnan(p).any()]
        self.trackers = [self.trackers[i] for i in alive]
        preds = [preds[i] for i in alive]
        matches, unmatched = [], list(range(len(dets)))
        if preds and len(dets):
            iou = _iou_loops(dets, np.array(preds))
            a = (iou > self.iou_threshold).astype(int)
            if a.sum(1).max() == 1 and a.sum(0).max() == 1:
                pairs = np.stack(np.where(a), axis=1)
            else:
                pairs = np.stack(linear_sum_assignment(-iou), axis=1)
            matches = [(d, t) for d, t in pairs if iou[d, t] >= self.iou_threshold]
            unmatched = [d for d in range(len(dets)) if d not in {m[0] for m in matches}]
        for d, t in matches:
            self.trackers[t].update(dets[d])
        for d in unmatched:
            self.count += 1
            self.trackers.append(_RefTracker(dets[d], self.kf, self.count))
        out = {}
        for trk in list(self.trackers):
            if trk.time_since_update < 1 and (
                trk.hit_streak >= self.min_hits or self.frame_count <= self.min_hits
            ):
                out[trk.id] = _x_to_box(trk.x)
        self.trackers = [t for t in self.trackers if t.time_since_update <= self.max_age]
        return out


def _compare_with_reference(frames: list[Detections], **kw) -> int:
    ours, ref = Sort(**kw), _RefSort(**kw)
    n = 0
    for t, d in enumerate(frames):
        o = ours.step(None, d)
        r = ref.update(d.boxes)
        assert sorted(o.ids.tolist()) == sorted(r), f"frame {t + 1}"
        if len(o):
            np.testing.assert_allclose(o.boxes, np.array([r[i] for i in o.ids.tolist()]), rtol=0, atol=1e-6)
        n += len(o)
    return n


@pytest.mark.parametrize(
    ("seed", "kw"), [(0, {}), (1, {"max_age": 3}), (2, {"min_hits": 1, "iou_threshold": 0.5})]
)
def test_matches_per_object_reference_random(seed, kw):
    frames = _random_scene(np.random.default_rng(seed), n_frames=80)
    assert _compare_with_reference(frames, **kw) > 200


def test_ids_unique_and_deterministic():
    frames = _random_scene(np.random.default_rng(7), n_frames=60)
    a, b = _run(Sort(max_age=3), frames), _run(Sort(max_age=3), frames)
    for x, y in zip(a, b):
        assert len(np.unique(x.ids)) == len(x) and (x.ids > 0).all()
        np.testing.assert_array_equal(x.ids, y.ids)
        np.testing.assert_array_equal(x.boxes, y.boxes)


# ------------------------------------------------------------------------------------- real MOT17 boxes
def _mot17_frames(name: str) -> tuple[SeqInfo, list[Detections]]:
    motchallenge = pytest.importorskip("zoo.data.formats.motchallenge")
    path = MOT17 / "tracker" / "data" / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} not available")
    info = motchallenge.read_seqinfo(MOT17 / "gt" / "MOT17-train" / name / "seqinfo.ini")
    rows = motchallenge.read_mot_file(path, "det", seq_info=info)
    return info, [
        Detections(rows.boxes[rows.frames == t], rows.scores[rows.frames == t])
        for t in range(1, info.seq_length + 1)
    ]


def test_mot17_sequence_unique_ids_and_reference():
    info, frames = _mot17_frames("MOT17-09-FRCNN")
    tr = Sort()
    tr.reset(info)
    outs = _run(tr, frames)
    assert all(len(np.unique(o.ids)) == len(o) for o in outs)
    n_out, n_det = sum(len(o) for o in outs), sum(len(d) for d in frames)
    assert 0.8 * n_det < n_out <= n_det
    assert _compare_with_reference(frames[:150]) > 1000

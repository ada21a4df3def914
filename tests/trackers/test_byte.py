"""ByteTrack / BYTE engine: hand-made scenarios, boundaries, the pluggable cost, and an independent
per-object reference (list-of-tracks structure of the released ByteTrack code) on random and real scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.core.assignment import linear_assignment
from zoo.core.boxes import box_iou
from zoo.core.kalman import KalmanFilterXYAH, xyah_to_xyxy, xyxy_to_xyah
from zoo.data.types import SeqInfo
from zoo.registry import get_method
from zoo.tasks.protocols import Detections, MOTTracker, Tracks
from zoo.trackers.association import (
    ByteAssociator,
    TrackState,
    duplicate_survivors,
    fuse_score,
    iou_cost,
    l2_normalize,
)
from zoo.trackers.byte import ByteTrack

MOT17 = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"
NO_FILTER = {"min_box_area": 0.0, "max_aspect_ratio": None}


def _info(frame_rate: float = 30.0) -> SeqInfo:
    return SeqInfo("synthetic", "img1", frame_rate, 100, 1920, 1080, ".jpg")


def _dets(boxes, scores) -> Detections:
    return Detections(np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(scores, np.float64))


def _box(x: float, y: float = 100.0, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [x, y, x + w, y + h]


def _run(tracker, frames: list[Detections]) -> list[Tracks]:
    return [tracker.step(None, d) for d in frames]


def _id_at(out: Tracks, box: list[float], min_iou: float = 0.5) -> int | None:
    """Id of the output track overlapping ``box`` best (None when nothing overlaps enough)."""
    if len(out) == 0:
        return None
    iou = box_iou(out.boxes, np.asarray([box], np.float64))[:, 0]
    return int(out.ids[iou.argmax()]) if iou.max() >= min_iou else None


# --------------------------------------------------------------------------------------- hand-made scenes
def test_registered_and_protocol():
    spec = get_method("bytetrack")
    assert spec.cls is ByteTrack and spec.task == "mot" and spec.kind == "baseline"
    assert isinstance(ByteTrack(), MOTTracker)


def test_crossing_targets_keep_ids():
    # A moves right, B moves left, 10 px/frame; they cross around frame 15 with a 30 px vertical offset.
    tr = ByteTrack(**NO_FILTER)
    tr.reset(_info())
    frames = [_dets([_box(10 + 10 * t, 100), _box(310 - 10 * t, 130)], [0.9, 0.9]) for t in range(30)]
    outs = _run(tr, frames)
    ids_a = {_id_at(o, _box(10 + 10 * t, 100), 0.9) for t, o in enumerate(outs)}
    ids_b = {_id_at(o, _box(310 - 10 * t, 130), 0.9) for t, o in enumerate(outs)}
    assert ids_a == {1} and ids_b == {2}


@pytest.mark.parametrize(
    ("gap", "frame_rate", "same"),
    [(10, 30, True), (30, 30, True), (31, 30, False), (15, 15, True), (16, 15, False)],
)
def test_lost_track_recovered_within_buffer(gap, frame_rate, same):
    # buffer = int(frame_rate / 30 * 30): a target absent for `gap` frames keeps its id iff gap <= buffer.
    tr = ByteTrack(**NO_FILTER)
    tr.reset(_info(frame_rate))
    present = _dets([_box(500)], [0.9])
    outs = _run(tr, [present] * 5 + [Detections.empty()] * gap + [present] * 3)
    assert all(len(o) == 0 for o in outs[5 : 5 + gap])
    assert outs[4].ids.tolist() == [1]
    back = outs[5 + gap :]
    if same:
        assert [o.ids.tolist() for o in back] == [[1], [1], [1]]
    else:
        # A new track is unconfirmed on its first frame, then confirmed with the next id.
        assert [o.ids.tolist() for o in back] == [[], [2], [2]]
    assert tr.max_time_lost == int(frame_rate / 30 * 30)


def test_low_score_detections_extend_but_never_start():
    tr = ByteTrack(**NO_FILTER)
    tr.reset(_info())
    high = [_dets([_box(100 + 3 * t)], [0.9]) for t in range(5)]
    low = [_dets([_box(100 + 3 * t)], [0.3]) for t in range(5, 10)]
    outs = _run(tr, high + low)
    assert [o.ids.tolist() for o in outs] == [[1]] * 10
    assert outs[-1].scores.tolist() == [0.3]

    # Low detections alone never create a track.
    tr.reset(_info())
    outs = _run(tr, [_dets([_box(100)], [0.3])] * 10)
    assert all(len(o) == 0 for o in outs) and tr.track_states() == {}


def test_low_score_detection_does_not_revive_lost_track():
    tr = ByteTrack(**NO_FILTER)
    tr.reset(_info())
    outs = _run(
        tr, [_dets([_box(100)], [0.9])] * 3 + [Detections.empty()] * 2 + [_dets([_box(100)], [0.3])] * 3
    )
    assert all(len(o) == 0 for o in outs[3:])
    assert tr.track_states() == {1: TrackState.Lost}
    assert tr.step(None, _dets([_box(100)], [0.9])).ids.tolist() == [1]


def test_score_boundaries():
    eps = 1e-9
    # Exactly track_thresh is low: it extends a tracked track but starts nothing.
    tr = ByteTrack(**NO_FILTER)
    assert len(_run(tr, [_dets([_box(100)], [0.6])] * 3)[-1]) == 0
    tr.reset(None)
    assert _run(tr, [_dets([_box(100)], [0.9]), _dets([_box(100)], [0.6])])[-1].ids.tolist() == [1]
    # Exactly low_thresh is dropped; just above it is a low detection.
    for s, n in [(0.1, 0), (0.1 + eps, 1)]:
        tr.reset(None)
        assert len(_run(tr, [_dets([_box(100)], [0.9]), _dets([_box(100)], [s])])[-1]) == n
    # New tracks need a score strictly above new_track_thresh (0.7); frame 1 confirms them at once.
    for s, n in [(0.65, 0), (0.7, 0), (0.7 + eps, 1)]:
        tr.reset(None)
        assert len(tr.step(None, _dets([_box(100)], [s]))) == n


def test_first_frame_activation_and_unconfirmed_removal():
    tr = ByteTrack(**NO_FILTER)
    tr.reset(_info())
    out1 = tr.step(None, _dets([_box(100)], [0.9]))
    assert out1.ids.tolist() == [1]  # born on frame 1: confirmed at once
    out2 = tr.step(None, _dets([_box(100), _box(600)], [0.9, 0.9]))
    assert out2.ids.tolist() == [1]  # id 2 born on frame 2: unconfirmed, not reported
    assert tr.track_states() == {1: TrackState.Tracked, 2: TrackState.New}
    out3 = tr.step(None, _dets([_box(100)], [0.9]))
    assert out3.ids.tolist() == [1]
    assert tr.track_states() == {1: TrackState.Tracked}  # unmatched unconfirmed track removed at once
    out4 = tr.step(None, _dets([_box(100), _box(900)], [0.9, 0.9]))
    out5 = tr.step(None, _dets([_box(100), _box(900)], [0.9, 0.9]))
    assert out4.ids.tolist() == [1] and out5.ids.tolist() == [1, 3]  # confirmed on its second match


def test_duplicate_removal_keeps_older_tracked():
    # Two identical boxes on frame 1 start two tracks; on frame 2 one is matched and the other, lost,
    # overlaps it completely: the lost one (younger: 0 frames vs 1) is removed.
    frames = [_dets([_box(100), _box(100)], [0.9, 0.9]), _dets([_box(100)], [0.9])]
    tr = ByteTrack(**NO_FILTER)
    _run(tr, frames)
    assert list(tr.track_states().values()) == [TrackState.Tracked]
    no_dedup = ByteTrack(duplicate_thresh=0.0, **NO_FILTER)
    _run(no_dedup, frames)
    assert sorted(no_dedup.track_states().values()) == [TrackState.Tracked, TrackState.Lost]


def test_duplicate_removal_drops_younger_tracked():
    # A stands at x=400 on frames 1-40, then vanishes (lost, within its buffer). B is born at x=162 on
    # frame 26 and walks right 8 px/frame; on frame 56 it is matched at x=402 (its prediction beats A's),
    # overlapping the lost A with IoU 0.905 (distance < 0.15). A lived 39 frames, B 30: the tracked B is
    # the younger and is dropped, and the next detection on the path goes to A (BYTE's known id switch).
    def frame(t: int) -> Detections:
        boxes = ([_box(400)] if t <= 40 else []) + ([_box(162 + 8 * (t - 26))] if t >= 26 else [])
        return _dets(boxes, [0.9] * len(boxes))

    tr = ByteTrack(**NO_FILTER)
    tr.reset(_info())
    outs = {t: tr.step(None, frame(t)) for t in range(1, 56)}
    assert outs[40].ids.tolist() == [1, 2] and outs[55].ids.tolist() == [2]
    assert tr.track_states() == {1: TrackState.Lost, 2: TrackState.Tracked}
    assert len(tr.step(None, frame(56))) == 0  # B removed before the output is formed
    assert tr.track_states() == {1: TrackState.Lost}
    assert tr.step(None, frame(57)).ids.tolist() == [1]

    # With duplicate removal off, B simply carries on.
    tr = ByteTrack(duplicate_thresh=0.0, **NO_FILTER)
    assert [tr.step(None, frame(t)).ids.tolist() for t in range(1, 58)][-2:] == [[2], [2]]


def test_duplicate_rule_ties_and_multiple_pairs():
    # Rows: tracked ages (5, 3, 2); columns: lost ages (3, 9). Pairs below 0.15: (0,0) tracked older ->
    # drop lost 0; (1,0) tie -> drop tracked 1; (2,1) lost older -> drop tracked 2; (0,1) not a pair (0.15).
    dist = np.array([[0.10, 0.15], [0.05, 0.90], [1.00, 0.14]])
    keep_t, keep_l = duplicate_survivors(dist, np.array([5, 3, 2]), np.array([3, 9]), 0.15)
    assert keep_t.tolist() == [True, False, False] and keep_l.tolist() == [False, True]


def test_output_filters():
    wide = [0, 0, 200, 100]  # w/h = 2 > 1.6
    tiny = [0, 300, 3, 303]  # area 9 <= 10
    ok = [500, 0, 540, 100]
    dets = _dets([wide, tiny, ok], [0.9, 0.9, 0.9])
    assert ByteTrack().step(None, dets).ids.tolist() == [3]
    assert sorted(ByteTrack(**NO_FILTER).step(None, dets).ids.tolist()) == [1, 2, 3]
    # Filtered tracks keep being tracked: turning the filter on changes only what is reported.
    t_on, t_off = ByteTrack(), ByteTrack(**NO_FILTER)
    for _ in range(3):
        t_on.step(None, dets), t_off.step(None, dets)
    assert t_on.track_states() == t_off.track_states()


def test_empty_frames():
    tr = ByteTrack()
    out = tr.step(None, Detections.empty())
    assert isinstance(out, Tracks) and len(out) == 0 and out.boxes.shape == (0, 4)
    outs = _run(tr, [_dets([_box(100)], [0.9])] * 2 + [Detections.empty()] + [_dets([_box(100)], [0.9])])
    assert [o.ids.tolist() for o in outs] == [[], [1], [], [1]]  # frame 2 birth, confirmed on frame 3


def test_bad_input_raises():
    tr = ByteTrack()
    with pytest.raises(ValueError, match="scores"):
        tr.step(None, Detections(np.zeros((2, 4)), np.zeros(3)))
    with pytest.raises(ValueError, match="non-positive width"):
        tr.step(None, _dets([[10, 10, 5, 20]], [0.9]))
    with pytest.raises(ValueError, match="frame_rate"):
        tr.reset(_info(0.0))
    eng = ByteAssociator(cost=lambda t, d, f: np.zeros((len(t) + 1, len(d))))
    eng.step(None, _dets([_box(10)], [0.9]))
    with pytest.raises(ValueError, match="stage-1 cost returned shape"):
        eng.step(None, _dets([_box(10)], [0.9]))


# ----------------------------------------------------------------------------------------- the engine
def test_engine_with_iou_callable_reproduces_bytetrack():
    frames = _random_scene(np.random.default_rng(3), n_frames=80)

    def my_iou(tracks, dets, feats):
        # Independent of zoo.core.boxes: plain pairwise IoU written out here.
        a, b = tracks.boxes[:, None, :], dets.boxes[None, :, :]
        iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
        ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
        inter = iw * ih
        area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
        return 1.0 - inter / (area(a) + area(b) - inter)

    ref = _run(ByteTrack(), frames)
    eng = _run(ByteAssociator(cost=my_iou), frames)
    assert sum(len(o) for o in ref) > 100
    for r, e in zip(ref, eng):
        np.testing.assert_array_equal(r.ids, e.ids)
        np.testing.assert_allclose(r.boxes, e.boxes, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(r.scores, e.scores)


def test_features_ema_and_alignment():
    # Features reach the cost aligned with the high detections, and tracks carry the EMA of them.
    seen = []

    def spy(tracks, dets, feats):
        seen.append((tracks.ids.copy(), tracks.features.copy(), dets.scores.copy(), feats.copy()))
        return iou_cost(tracks, dets)

    eng = ByteAssociator(cost=spy, **NO_FILTER)
    rng = np.random.default_rng(0)
    f = rng.normal(size=(3, 4, 8))
    boxes = [_box(100), _box(400), _box(700), _box(1000)]
    scores = [0.9, 0.3, 0.95, 0.8]  # detection 1 is low: excluded from stage 1
    for t in range(3):
        eng.step(None, _dets(boxes, scores), det_features=f[t])
    unit = l2_normalize(f.reshape(-1, 8)).reshape(3, 4, 8)
    high = [0, 2, 3]
    ids, tf, ds, df = seen[-1]
    np.testing.assert_array_equal(ds, np.array(scores)[high])
    np.testing.assert_allclose(df, unit[2][high])
    # ids 1..3 were born on frame 1 from the high detections and matched on frame 2: EMA of two frames.
    np.testing.assert_array_equal(ids, [1, 2, 3])
    expect = l2_normalize(0.9 * unit[0][high] + 0.1 * unit[1][high])
    np.testing.assert_allclose(tf, expect, atol=1e-12)
    with pytest.raises(ValueError, match="det_features must be given"):
        eng.step(None, _dets(boxes, scores))


def test_feature_cost_overrides_iou():
    # Two overlapping targets swap places in one frame; an appearance-only cost follows identities where
    # IoU alone would not.
    def app(tracks, dets, feats):
        return np.clip(1.0 - tracks.features @ feats.T, 0.0, 1.0)

    fa, fb = np.eye(2)
    eng = ByteAssociator(cost=app, fuse_score=False, **NO_FILTER)
    eng.step(None, _dets([_box(100), _box(120)], [0.9, 0.9]), det_features=np.stack([fa, fb]))
    out = eng.step(None, _dets([_box(100), _box(120)], [0.9, 0.9]), det_features=np.stack([fb, fa]))
    assert _id_at(out, _box(100)) == 2 and _id_at(out, _box(120)) == 1
    iou_eng = ByteAssociator(fuse_score=False, **NO_FILTER)
    iou_eng.step(None, _dets([_box(100), _box(120)], [0.9, 0.9]))
    out = iou_eng.step(None, _dets([_box(100), _box(120)], [0.9, 0.9]))
    assert _id_at(out, _box(100)) == 1 and _id_at(out, _box(120)) == 2


def test_fuse_score_helper():
    cost = np.array([[0.2, np.inf], [1.0, 0.5]])
    np.testing.assert_allclose(fuse_score(cost, np.array([0.5, 0.9])), [[0.6, np.inf], [1.0, 0.55]])


# --------------------------------------------------------------------- random scenes vs. the reference
def _random_scene(
    rng: np.random.Generator, n_frames: int = 60, n_targets: int = 12, dup_rate: float = 0.0
) -> list[Detections]:
    """Linear walkers with box jitter, dropouts, uniform scores and false positives; with ``dup_rate``,
    that fraction of boxes also gets a near copy (an NMS failure), which breeds duplicate tracks."""
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
        dup = keep & (rng.random(n_targets) < dup_rate)
        b = np.concatenate([boxes[keep], fp, boxes[dup] + rng.normal(0, 1.5, size=(dup.sum(), 4))])
        s = np.concatenate(
            [rng.uniform(0.0, 1.0, keep.sum()), rng.uniform(0.0, 0.8, n_fp), rng.uniform(0.6, 1.0, dup.sum())]
        )
        order = rng.permutation(len(s))
        frames.append(Detections(b[order], s[order]))
    return frames


class _RefTrack:
    """One track of the reference (the released code's STrack, with a per-instance id counter)."""

    def __init__(self, box: np.ndarray, score: float) -> None:
        self.box, self.score = box, score
        self.mean = self.cov = None
        self.state, self.activated = TrackState.New, False

    @property
    def xyxy(self) -> np.ndarray:
        return self.box if self.mean is None else xyah_to_xyxy(self.mean[:4])


class _RefBYTE:
    """Per-object BYTE following the released ``byte_tracker.py`` step by step (lists of tracks, joint/sub
    lists by id), with the zoo's score boundaries and IoU. Used only as a test oracle."""

    def __init__(self, frame_rate: float = 30.0, fuse: bool = True) -> None:
        self.kf = KalmanFilterXYAH()
        self.tracked, self.lost = [], []
        self.frame_id, self.count = 0, 0
        self.max_time_lost = int(frame_rate / 30.0 * 30)
        self.fuse = fuse

    def _dist(self, tracks, dets, fuse):
        if not tracks or not dets:
            return np.zeros((len(tracks), len(dets)))
        cost = 1.0 - box_iou(np.array([t.xyxy for t in tracks]), np.array([d.xyxy for d in dets]))
        return fuse_score(cost, np.array([d.score for d in dets])) if fuse else cost

    def _update(self, track, det):
        track.mean, track.cov = self.kf.update(track.mean, track.cov, xyxy_to_xyah(det.box))
        track.state, track.activated = TrackState.Tracked, True
        track.frame_id, track.score = self.frame_id, det.score

    def step(self, dets: Detections) -> list[tuple[int, np.ndarray, float]]:
        self.frame_id += 1
        activated, refind, lost, removed = [], [], [], []
        high = [_RefTrack(b, s) for b, s in zip(dets.boxes, dets.scores) if s > 0.6]
        low = [_RefTrack(b, s) for b, s in zip(dets.boxes, dets.scores) if 0.1 < s <= 0.6]
        unconfirmed = [t for t in self.tracked if not t.activated]
        pool = [t for t in self.tracked if t.activated] + self.lost
        for t in pool:
            m = t.mean.copy()
            if t.state != TrackState.Tracked:
                m[7] = 0
            t.mean, t.cov = self.kf.predict(m, t.cov)
        matches, u_track, u_det = linear_assignment(self._dist(pool, high, self.fuse), 0.8)
        for i, j in matches:
            was_tracked = pool[i].state == TrackState.Tracked
            self._update(pool[i], high[j])
            (activated if was_tracked else refind).append(pool[i])
        r_tracked = [pool[i] for i in u_track if pool[i].state == TrackState.Tracked]
        matches, u_track2, _ = linear_assignment(self._dist(r_tracked, low, False), 0.5)
        for i, j in matches:
            self._update(r_tracked[i], low[j])
            activated.append(r_tracked[i])
        for i in u_track2:
            r_tracked[i].state = TrackState.Lost
            lost.append(r_tracked[i])
        left = [high[j] for j in u_det]
        matches, u_unconf, u_det = linear_assignment(self._dist(unconfirmed, left, self.fuse), 0.7)
        for i, j in matches:
            self._update(unconfirmed[i], left[j])
            activated.append(unconfirmed[i])
        for i in u_unconf:
            unconfirmed[i].state = TrackState.Removed
            removed.append(unconfirmed[i])
        for j in u_det:
            t = left[j]
            if t.score <= 0.7:
                continue
            self.count += 1
            t.id = self.count
            t.mean, t.cov = self.kf.initiate(xyxy_to_xyah(t.box))
            t.state, t.activated = TrackState.Tracked, self.frame_id == 1
            t.frame_id = t.start_frame = self.frame_id
            activated.append(t)
        for t in self.lost:
            if self.frame_id - t.frame_id > self.max_time_lost:
                t.state = TrackState.Removed
                removed.append(t)
        tracked = [t for t in self.tracked if t.state == TrackState.Tracked]
        ids = {t.id for t in tracked}
        for t in activated + refind:
            if t.id not in ids:
                tracked.append(t)
                ids.add(t.id)
        removed_ids = {t.id for t in removed}
        lost_list = [t for t in self.lost if t.id not in ids] + lost
        lost_list = [t for t in lost_list if t.id not in removed_ids]
        # remove_duplicate_stracks
        dist = self._dist(tracked, lost_list, False)
        dup_a, dup_b = set(), set()
        for p, q in zip(*np.nonzero(dist < 0.15)):
            if (
                tracked[p].frame_id - tracked[p].start_frame
                > lost_list[q].frame_id - lost_list[q].start_frame
            ):
                dup_b.add(q)
            else:
                dup_a.add(p)
        self.tracked = [t for i, t in enumerate(tracked) if i not in dup_a]
        self.lost = [t for i, t in enumerate(lost_list) if i not in dup_b]
        return [(t.id, t.xyxy, t.score) for t in self.tracked if t.activated]


def _compare_with_reference(frames: list[Detections], frame_rate: float = 30.0) -> int:
    ours = ByteTrack(**NO_FILTER)
    ours.reset(_info(frame_rate))
    ref = _RefBYTE(frame_rate)
    n = 0
    for t, d in enumerate(frames):
        o = ours.step(None, d)
        r = ref.step(d)
        assert o.ids.tolist() == [i for i, _, _ in r], f"frame {t + 1}"
        if r:
            np.testing.assert_allclose(o.boxes, np.array([b for _, b, _ in r]), rtol=0, atol=1e-6)
            np.testing.assert_array_equal(o.scores, [s for _, _, s in r])
        n += len(o)
    return n


@pytest.mark.parametrize(("seed", "frame_rate", "dup_rate"), [(0, 30, 0.0), (1, 15, 0.3), (2, 25, 0.3)])
def test_matches_per_object_reference_random(seed, frame_rate, dup_rate):
    # With dup_rate > 0 these scenes trigger duplicate removal several times (checked when written).
    frames = _random_scene(np.random.default_rng(seed), n_frames=80, dup_rate=dup_rate)
    assert _compare_with_reference(frames, frame_rate=frame_rate) > 200


def test_ids_unique_and_deterministic():
    frames = _random_scene(np.random.default_rng(7), n_frames=60)
    a = _run(ByteTrack(), frames)
    b = _run(ByteTrack(), frames)
    for x, y in zip(a, b):
        assert len(np.unique(x.ids)) == len(x) and (x.ids > 0).all()
        np.testing.assert_array_equal(x.ids, y.ids)
        np.testing.assert_array_equal(x.boxes, y.boxes)


# ------------------------------------------------------------------------------------- real MOT17 boxes
def _mot17_frames(name: str, scores_seed: int | None = None) -> tuple[SeqInfo, list[Detections]]:
    motchallenge = pytest.importorskip("zoo.data.formats.motchallenge")
    path = MOT17 / "tracker" / "data" / f"{name}.txt"
    if not path.exists():
        pytest.skip(f"{path} not available")
    info = motchallenge.read_seqinfo(MOT17 / "gt" / "MOT17-train" / name / "seqinfo.ini")
    rows = motchallenge.read_mot_file(path, "det", seq_info=info)
    scores = rows.scores
    if scores_seed is not None:  # the file's confidences are all 1: draw scores to exercise every stage
        scores = np.random.default_rng(scores_seed).uniform(0.0, 1.0, len(rows))
    order = np.argsort(rows.frames, kind="stable")
    frames_sorted = rows.frames[order]
    bounds = np.searchsorted(frames_sorted, np.arange(1, info.seq_length + 2))
    frames = [
        Detections(rows.boxes[order[lo:hi]], scores[order[lo:hi]]) for lo, hi in zip(bounds[:-1], bounds[1:])
    ]
    return info, frames


def test_mot17_sequence_runs_with_unique_ids():
    info, frames = _mot17_frames("MOT17-09-FRCNN")
    tr = ByteTrack()
    tr.reset(info)
    outs = _run(tr, frames)
    n_out = sum(len(o) for o in outs)
    n_det = sum(len(d) for d in frames)
    assert all(len(np.unique(o.ids)) == len(o) for o in outs)
    # Clean boxes of a good tracker as detections: nearly every box is reported, with few identities.
    assert n_out > 0.9 * n_det
    all_ids = np.unique(np.concatenate([o.ids for o in outs]))
    assert 20 < all_ids.size < 100


def test_mot17_matches_reference_with_random_scores():
    info, frames = _mot17_frames("MOT17-09-FRCNN", scores_seed=0)
    assert _compare_with_reference(frames[:200], info.frame_rate) > 1000


@pytest.mark.parametrize("unconfirmed_cost", ["iou", "stage1"])
def test_stage3_cost_choice(unconfirmed_cost):
    """Stage 3 (unconfirmed tracks vs leftover high detections) uses 1 - IoU by default; with
    ``unconfirmed_cost="stage1"`` it uses the pluggable cost: an appearance-only cost then refuses the
    well-overlapping detection of another identity, and the unconfirmed track is removed."""

    def app(tracks, dets, feats):
        return np.clip(1.0 - tracks.features @ feats.T, 0.0, 1.0)

    fa, fb, fc = np.eye(3)
    eng = ByteAssociator(cost=app, fuse_score=False, unconfirmed_cost=unconfirmed_cost, **NO_FILTER)
    eng.step(None, _dets([_box(100)], [0.9]), det_features=fa[None])
    eng.step(None, _dets([_box(100), _box(600)], [0.9, 0.9]), det_features=np.stack([fa, fb]))
    assert eng.track_states() == {1: TrackState.Tracked, 2: TrackState.New}
    assert set(eng.track_features()) == {1, 2}
    np.testing.assert_allclose(eng.track_features()[2], fb)
    out = eng.step(None, _dets([_box(100), _box(602)], [0.9, 0.9]), det_features=np.stack([fa, fc]))
    if unconfirmed_cost == "iou":
        assert eng.track_states() == {1: TrackState.Tracked, 2: TrackState.Tracked}
        assert out.ids.tolist() == [1, 2]
    else:  # appearance distance 1 > 0.7: no match, track 2 removed, the detection starts track 3
        assert eng.track_states() == {1: TrackState.Tracked, 3: TrackState.New}
        assert out.ids.tolist() == [1]
    with pytest.raises(ValueError, match="unconfirmed_cost"):
        ByteAssociator(unconfirmed_cost="fused")


def test_track_features_empty_without_features():
    eng = ByteTrack(**NO_FILTER)
    eng.step(None, _dets([_box(100)], [0.9]))
    assert eng.track_features() == {}

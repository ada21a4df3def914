"""FineTrackTracker: fused stage-1 distance, IoU gate, EMA features, per-sequence settings, one forward a frame."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from zoo.data.types import SeqInfo
from zoo.methods.finetrack.model import FineTrackNet
from zoo.methods.finetrack.tracker import FineTrackTracker, fused_distance, sequence_config
from zoo.tasks.protocols import Detections
from zoo.trackers.association import TrackBatch
from zoo.trackers.byte import ByteTrack


def _info(name: str = "seq", frame_rate: float = 30.0) -> SeqInfo:
    return SeqInfo(
        name=name,
        im_dir="img1",
        frame_rate=frame_rate,
        seq_length=100,
        im_width=640,
        im_height=480,
        im_ext=".jpg",
    )


def _batch(boxes: np.ndarray, feats: np.ndarray) -> TrackBatch:
    n = len(boxes)
    return TrackBatch(
        ids=np.arange(1, n + 1),
        boxes=np.asarray(boxes, float),
        scores=np.ones(n),
        lost=np.zeros(n, bool),
        features=np.asarray(feats, float),
    )


class _ScriptedFeatures(FineTrackTracker):
    """A FineTrackTracker whose embeddings are scripted (no network): ``features(frame_no, boxes)``."""

    def __init__(self, features, dim: int = 4, **kwargs) -> None:
        super().__init__(SimpleNamespace(embedding_dim=dim), input_size=(64, 64), **kwargs)
        self._features = features
        self._frame_no = 0

    def step(self, frame, detections):
        self._frame_no += 1
        return super().step(frame, detections)

    def embed(self, frame, boxes):
        return np.asarray(self._features(self._frame_no, boxes), np.float64)


# ------------------------------------------------------------------------------------------ fused distance
def test_fused_distance_hand_values():
    track = _batch([[0, 0, 10, 10]], [[1.0, 0.0]])
    dets = Detections(
        np.array([[5, 0, 15, 10], [20, 0, 30, 10], [5, 0, 15, 10], [0, 0, 10, 10]], float), np.ones(4)
    )
    feats = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2], [1.0, 0.0]])
    d = fused_distance(track, dets, feats)
    # IoU of the half-shifted box: 50 / 150 -> d_iou = 2/3
    expected = [math.sqrt(1.0 * 2 / 3), 1.0, math.sqrt(0.5 * 2 / 3), 0.0]
    np.testing.assert_allclose(d[0], expected, atol=1e-12)


def test_iou_gate_ignores_appearance_of_non_overlapping_boxes():
    far_identical = fused_distance(
        _batch([[0, 0, 10, 10]], [[1.0, 0.0]]),
        Detections(np.array([[50.0, 0, 60, 10]]), np.ones(1)),
        np.array([[1.0, 0.0]]),
    )
    assert far_identical[0, 0] == 1.0  # without the gate it would be sqrt(0 * 1) = 0

    # in the tracker: the far detection with the track's exact appearance must not take the track
    feats = {1: [[1, 0, 0, 0]], 2: [[0, 1, 0, 0], [1, 0, 0, 0]]}
    tracker = _ScriptedFeatures(lambda t, boxes: feats[t])
    first = tracker.step(None, Detections(np.array([[100.0, 100, 140, 200]]), np.array([0.9])))
    boxes2 = np.array([[110.0, 100, 150, 200], [400.0, 100, 440, 200]])
    second = tracker.step(None, Detections(boxes2, np.array([0.9, 0.9])))
    assert first.ids.tolist() == [1]
    assert second.ids.tolist() == [1]
    np.testing.assert_allclose(second.boxes[0], boxes2[0], atol=5.0)  # the overlapping box, Kalman-smoothed


def test_fused_distance_needs_features():
    with pytest.raises(ValueError, match="features"):
        fused_distance(
            _batch([[0, 0, 1, 1]], [[1.0]]), Detections(np.array([[0.0, 0, 1, 1]]), np.ones(1)), None
        )


# ---------------------------------------------------------------------------------- reduction to IoU matching
def _scripted_scene() -> list[Detections]:
    """Eight well-separated walkers (a track overlaps only its own detection) over 30 frames, with entries,
    an exit, a missed detection (lost then re-found), low-score boxes and a one-frame false positive."""
    rng = np.random.default_rng(3)
    frames = []
    for t in range(30):
        boxes, scores = [], []
        for k in range(8):
            if k == 6 and t < 5:  # enters at frame 5
                continue
            if k == 7 and t >= 20:  # leaves at frame 20
                continue
            if k == 2 and t in (10, 11):  # missed twice: lost, then re-found
                continue
            x = 20 + 110 * k + 1.5 * t
            y = 40 + (k % 3) * 150 + 0.5 * t
            boxes.append([x, y, x + 40, y + 100] + rng.normal(0, 0.5, 4))
            scores.append(0.45 if (k == 4 and t % 4 == 0) else 0.9)  # low-score frames: stage 2
        if t == 15:
            boxes.append([900.0, 5, 930, 60])  # false positive, starts an unconfirmed track
            scores.append(0.8)
        frames.append(Detections(np.array(boxes, float), np.array(scores, float)))
    return frames


def test_constant_features_reduce_to_bytetrack_iou_matching_on_a_scripted_scene():
    scene = _scripted_scene()
    fine = _ScriptedFeatures(lambda t, boxes: np.tile([0.5, 0.5, 0.5, 0.5], (len(boxes), 1)))  # d_feat = 0
    byte = ByteTrack()
    fine.reset(_info())
    byte.reset(_info())
    n_out = 0
    for det in scene:
        a, b = fine.step(None, det), byte.step(None, det)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_allclose(a.boxes, b.boxes)
        np.testing.assert_allclose(a.scores, b.scores)
        n_out += len(a)
    assert n_out > 150  # the scene really was tracked
    assert fine.timings["frames"] == 30


# -------------------------------------------------------------------------------------------------- EMA
def test_track_feature_is_renormalised_ema_0_9():
    a, b, c = np.eye(4)[0], np.eye(4)[1], np.array([0.0, 0.0, 3.0, 4.0])  # c is not unit: normalised first
    seq = {1: a, 2: b, 3: c}
    tracker = _ScriptedFeatures(lambda t, boxes: seq[t][None])
    box = Detections(np.array([[10.0, 10, 50, 110]]), np.array([0.9]))
    tracker.step(None, box)
    np.testing.assert_allclose(tracker.track_features()[1], a)
    tracker.step(None, box)
    f2 = 0.9 * a + 0.1 * b
    f2 /= np.linalg.norm(f2)
    np.testing.assert_allclose(tracker.track_features()[1], f2, atol=1e-12)
    tracker.step(None, box)
    f3 = 0.9 * f2 + 0.1 * c / 5.0
    np.testing.assert_allclose(tracker.track_features()[1], f3 / np.linalg.norm(f3), atol=1e-12)


# ---------------------------------------------------------------------------------------- per-sequence
def test_per_sequence_overrides_match_name_prefixes():
    per = {"MOT17-05": {"track_buffer": 14}, "MOT17-05-FRCNN": {"track_thresh": 0.65}}
    base = {"track_buffer": 30, "track_thresh": 0.6}
    assert sequence_config(base, per, "MOT17-05-FRCNN") == {"track_buffer": 14, "track_thresh": 0.65}
    assert sequence_config(base, per, "MOT17-05-DPM") == {"track_buffer": 14, "track_thresh": 0.6}
    assert sequence_config(base, per, "MOT17-050") == base
    assert sequence_config(base, per, None) == base

    tracker = _ScriptedFeatures(lambda t, boxes: np.ones((len(boxes), 4)), per_sequence=per)
    tracker.reset(_info("MOT17-05-FRCNN", frame_rate=14))
    assert tracker.associator.track_thresh == 0.65
    assert tracker.associator.max_time_lost == int(14 / 30 * 14)
    tracker.reset(_info("MOT17-02-FRCNN", frame_rate=30))
    assert tracker.associator.track_thresh == 0.6 and tracker.associator.max_time_lost == 30


def test_unknown_tracker_setting_is_rejected():
    with pytest.raises(ValueError, match="track_treshold"):
        _ScriptedFeatures(lambda t, b: b, track_treshold=0.5)
    with pytest.raises(ValueError, match="MOT17-05"):
        _ScriptedFeatures(lambda t, b: b, per_sequence={"MOT17-05": {"buffer": 14}})


# --------------------------------------------------------------------------------------- real network
def test_one_network_forward_per_frame_and_mode_restored():
    torch.manual_seed(0)
    net = FineTrackNet(trunk="resnet18", fpn_dim=32, roi_size=(8, 4), attn_dim=16, num_identities=5)
    calls = []
    net.trunk.register_forward_hook(lambda *args: calls.append(1))
    net.train()
    tracker = FineTrackTracker(net, input_size=(96, 128))
    tracker.reset(_info())
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = np.array([[10.0, 10, 40, 90], [60, 20, 90, 100], [100, 5, 140, 110], [5, 5, 20, 30]])
    scores = np.array([0.9, 0.8, 0.3, 0.05])  # the last is below low_thresh: never embedded
    feats = tracker.embed(frame, boxes[:3])
    assert feats.shape == (3, net.embedding_dim)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-6)
    calls.clear()
    out1 = tracker.step(frame, Detections(boxes, scores))
    out2 = tracker.step(frame, Detections(boxes + 2.0, scores))
    assert len(calls) == 2  # one trunk forward a frame for all boxes
    assert net.training  # switched back after embedding
    assert out1.ids.tolist() == [1, 2] and out2.ids.tolist() == [1, 2]
    assert tracker.timings["frames"] == 2 and tracker.timings["embed_s"] > 0
    # a frame with no detections runs no network
    tracker.step(frame, Detections.empty())
    assert len(calls) == 2


@pytest.mark.parametrize(("mode", "scale"), [("letterbox", (1.6, 1.6)), ("resize", (2.0, 1.6))])
def test_boxes_reach_the_network_in_input_pixels(mode, scale):
    # a 60x64 frame into a 96x128 input: letterbox scales both axes by min(96/60, 128/64) = 1.6 (padding
    # right/bottom, so no offset); resize stretches x by 2 and y by 1.6
    torch.manual_seed(0)
    net = FineTrackNet(trunk="resnet18", fpn_dim=32, roi_size=(8, 4), attn_dim=16).eval()
    seen = {}
    embed = net.embed

    def spy(images, boxes):
        seen["shape"], seen["boxes"] = tuple(images.shape), boxes[0].clone()
        return embed(images, boxes)

    net.embed = spy
    frame = np.random.default_rng(1).integers(0, 255, (60, 64, 3), dtype=np.uint8)
    box = np.array([[8.0, 4, 40, 44]])
    FineTrackTracker(net, input_size=(96, 128), resize_mode=mode).embed(frame, box)
    sx, sy = scale
    assert seen["shape"] == (1, 3, 96, 128)
    torch.testing.assert_close(seen["boxes"], torch.tensor([[8 * sx, 4 * sy, 40 * sx, 44 * sy]]))

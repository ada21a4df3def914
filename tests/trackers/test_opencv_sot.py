"""The seven OpenCV SOT baselines: real tracking on a synthetic target, box conversions, failure carry-over,
and the error raised when opencv-contrib is missing."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from zoo.core.boxes import box_iou
from zoo.registry import get_method, list_methods
from zoo.tasks.protocols import SOTOutput, SOTTracker
from zoo.trackers import opencv_sot
from zoo.trackers.opencv_sot import (
    FACTORIES,
    TRACKER_CLASSES,
    CSRTTracker,
    KCFTracker,
    MOSSETracker,
    OpenCVTracker,
    cv_rect_to_xyxy,
    xyxy_to_cv_rect,
)

KINDS = ["csrt", "kcf", "mil", "mosse", "medianflow", "boosting", "tld"]
SIZE = 96


def moving_square(n: int, step: float = 2.0, seed: int = 1, width: int = 480, height: int = 270):
    """A 96x96 square of 8-px blocks with saturated colours, translating ``step`` px/frame to the right
    over fresh uniform noise (64..191) every frame. Returns RGB frames and the true (n, 4) xyxy boxes."""
    rng = np.random.default_rng(seed)
    blocks = (rng.integers(0, 2, (SIZE // 8, SIZE // 8, 3)) * 255).astype(np.uint8)
    texture = cv2.resize(blocks, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)
    frames, boxes = [], []
    for t in range(n):
        img = rng.integers(64, 192, (height, width, 3), dtype=np.uint8)
        x, y = int(round(100 + step * t)), 80
        img[y : y + SIZE, x : x + SIZE] = texture
        frames.append(img)
        boxes.append([x, y, x + SIZE, y + SIZE])
    return frames, np.asarray(boxes, dtype=np.float64)


@pytest.fixture(scope="module")
def sequence():
    return moving_square(30)


def test_contrib_trackers_present():
    # Guards the install order: plain opencv-python-headless (via albumentations) silently drops these.
    assert callable(cv2.TrackerCSRT_create)
    assert callable(cv2.legacy.TrackerMOSSE_create)
    for spec in FACTORIES.values():
        owner = cv2.legacy if spec.module == "cv2.legacy" else cv2
        assert callable(getattr(owner, spec.create)), spec


def test_registered_as_sot_baselines():
    assert set(KINDS) <= set(list_methods(task="sot", kind="baseline"))
    for kind in KINDS:
        spec = get_method(kind)
        assert spec.cls is TRACKER_CLASSES[kind] and spec.task == "sot" and spec.kind == "baseline"
        tracker = spec.cls()
        assert tracker.kind == kind
        assert isinstance(tracker, SOTTracker)


@pytest.mark.parametrize("kind", KINDS)
def test_follows_translating_target(kind, sequence):
    frames, boxes = sequence
    tracker = TRACKER_CLASSES[kind]()
    tracker.init(frames[0], boxes[0])
    ious = []
    for frame, truth in zip(frames[1:], boxes[1:]):
        out = tracker.step(frame)
        assert isinstance(out, SOTOutput)
        assert out.box.shape == (4,) and out.box.dtype == np.float64
        assert out.score in (0.0, 1.0)
        ious.append(float(box_iou(out.box[None], truth[None])[0, 0]))
    # A box that never moves would score mean 0.53 and 0.25 on the last frame (58 px behind), so these
    # bounds need real tracking. Measured over seeds 0-5: every tracker's mean IoU >= 0.90.
    assert np.mean(ious) > 0.8, (kind, np.round(ious, 3))
    assert ious[-1] > 0.7, (kind, np.round(ious, 3))


class ScriptedTracker:
    """Stands in for an OpenCV tracker: records ``init`` and replays scripted ``update`` results."""

    def __init__(self, script, init_result=None):
        self.script = list(script)
        self.init_result = init_result
        self.init_args = None
        self.frames = []

    def init(self, image, rect):
        self.init_args = (image.copy(), rect)
        return self.init_result

    def update(self, image):
        self.frames.append(image.copy())
        return self.script.pop(0)


def _install(monkeypatch, kind, fake):
    spec = FACTORIES[kind]
    owner = cv2.legacy if spec.module == "cv2.legacy" else cv2
    monkeypatch.setattr(owner, spec.create, lambda *args: fake)


def test_failure_carries_last_box(monkeypatch):
    frame = np.zeros((60, 80, 3), np.uint8)
    fake = ScriptedTracker(
        [
            (True, (12, 22, 30, 20)),
            (False, (0, 0, 0, 0)),
            (False, (5, 5, 5, 5)),  # garbage rect with a failure flag must be ignored
            (True, (14, 24, 30, 20)),
            (True, (1, 1, 0, 0)),  # "success" with an empty box is treated as failure
        ]
    )
    _install(monkeypatch, "kcf", fake)
    tracker = KCFTracker()
    tracker.init(frame, np.array([10.0, 20.0, 40.0, 40.0]))
    outs = [tracker.step(frame) for _ in range(5)]
    expected = [
        ([12, 22, 42, 42], 1.0),
        ([12, 22, 42, 42], 0.0),
        ([12, 22, 42, 42], 0.0),
        ([14, 24, 44, 44], 1.0),
        ([14, 24, 44, 44], 0.0),
    ]
    for out, (box, score) in zip(outs, expected):
        np.testing.assert_array_equal(out.box, box)
        assert out.score == score


def test_failure_before_any_success_carries_init_box(monkeypatch):
    frame = np.zeros((60, 80, 3), np.uint8)
    _install(monkeypatch, "mosse", ScriptedTracker([(False, (0.0, 0.0, 0.0, 0.0))], init_result=True))
    tracker = MOSSETracker()
    tracker.init(frame, np.array([10.5, 20.25, 40.0, 41.0]))
    out = tracker.step(frame)
    np.testing.assert_array_equal(out.box, [10.5, 20.25, 40.0, 41.0])
    assert out.score == 0.0


def test_init_conversion_new_api_is_exact(monkeypatch):
    frame = np.zeros((270, 480, 3), np.uint8)
    frame[..., 0] = 200  # red in RGB must reach OpenCV as the last (R of BGR) channel
    fake = ScriptedTracker([])
    _install(monkeypatch, "csrt", fake)
    tracker = CSRTTracker()
    tracker.init(frame, np.array([10.0, 20.0, 106.0, 116.0]))
    image, rect = fake.init_args
    assert rect == (10, 20, 96, 96) and all(type(v) is int for v in rect)
    assert image[0, 0].tolist() == [0, 0, 200]
    # Corners are rounded half up, width follows from them: x 10.4->10, y 20.6->21, x1 50.5->51, y1 60.2->60.
    tracker.init(frame, np.array([10.4, 20.6, 50.5, 60.2]))
    assert fake.init_args[1] == (10, 21, 41, 39)


def test_init_conversion_legacy_api_is_exact(monkeypatch):
    frame = np.zeros((270, 480, 3), np.uint8)
    fake = ScriptedTracker([], init_result=True)
    _install(monkeypatch, "tld", fake)
    box = np.array([10.4, 20.6, 50.5, 60.2])
    opencv_sot.TLDTracker().init(frame, box)
    rect = fake.init_args[1]
    assert all(type(v) is float for v in rect)
    assert rect == (10.4, 20.6, 50.5 - 10.4, 60.2 - 20.6)


def test_init_box_is_clipped_and_validated(monkeypatch):
    frame = np.zeros((100, 200, 3), np.uint8)
    fake = ScriptedTracker([], init_result=True)
    _install(monkeypatch, "medianflow", fake)
    tracker = opencv_sot.MedianFlowTracker()
    tracker.init(frame, np.array([-10.0, 50.0, 30.0, 130.0]))
    assert fake.init_args[1] == (0.0, 50.0, 30.0, 50.0)
    with pytest.raises(ValueError, match="less than one pixel"):
        tracker.init(frame, np.array([250.0, 10.0, 300.0, 60.0]))
    with pytest.raises(ValueError, match="finite"):
        tracker.init(frame, np.array([0.0, 0.0, math.nan, 10.0]))
    with pytest.raises(ValueError, match="uint8 RGB"):
        tracker.init(frame.astype(np.float32), np.array([0.0, 0.0, 10.0, 10.0]))


def test_legacy_init_refusal_raises(monkeypatch):
    _install(monkeypatch, "boosting", ScriptedTracker([], init_result=False))
    with pytest.raises(RuntimeError, match="boosting"):
        opencv_sot.BoostingTracker().init(np.zeros((50, 50, 3), np.uint8), np.array([5.0, 5.0, 30.0, 30.0]))


def test_rect_round_trip():
    assert xyxy_to_cv_rect(np.array([3.0, 4.0, 13.0, 24.0]), legacy=False) == (3, 4, 10, 20)
    assert xyxy_to_cv_rect(np.array([3.0, 4.0, 3.2, 4.1]), legacy=False) == (3, 4, 1, 1)
    np.testing.assert_array_equal(cv_rect_to_xyxy((3, 4, 10, 20)), [3.0, 4.0, 13.0, 24.0])
    np.testing.assert_array_equal(cv_rect_to_xyxy((3.5, 4.25, 10.0, 20.5)), [3.5, 4.25, 13.5, 24.75])


@pytest.mark.parametrize(
    ("kind", "attr", "owner"),
    [("tld", "TrackerTLD_create", "legacy"), ("csrt", "TrackerCSRT_create", "top"), ("mosse", None, "top")],
)
def test_missing_factory_names_the_contrib_package(monkeypatch, kind, attr, owner):
    if attr is None:
        monkeypatch.delattr(cv2, "legacy")  # a cv2 without the legacy submodule at all
    else:
        monkeypatch.delattr(cv2.legacy if owner == "legacy" else cv2, attr)
    with pytest.raises(ImportError, match="opencv-contrib-python-headless") as info:
        TRACKER_CLASSES[kind]()
    assert kind in str(info.value)


def test_params():
    tracker = CSRTTracker(padding=2.5, use_segmentation=False)
    frames, boxes = moving_square(3)
    tracker.init(frames[0], boxes[0])
    assert tracker.step(frames[1]).box.shape == (4,)
    with pytest.raises(ValueError, match="no parameter 'bogus'"):
        KCFTracker(bogus=1)
    with pytest.raises(ValueError, match="takes no parameters"):
        MOSSETracker(psr=5.0)
    with pytest.raises(ValueError, match="unknown OpenCV tracker"):
        OpenCVTracker("goturn")


def test_step_errors_and_reinit():
    tracker = opencv_sot.MedianFlowTracker()
    frames, boxes = moving_square(6)
    with pytest.raises(RuntimeError, match="before init"):
        tracker.step(frames[0])
    tracker.init(frames[0], boxes[0])
    with pytest.raises(ValueError, match="differs from the first frame"):
        tracker.step(frames[1][:100])
    # A second init starts a fresh OpenCV tracker on the new sequence.
    other, other_boxes = moving_square(4, step=-2.0, seed=3)
    tracker.init(other[0], other_boxes[0])
    for frame, truth in zip(other[1:], other_boxes[1:]):
        assert box_iou(tracker.step(frame).box[None], truth[None])[0, 0] > 0.9

"""VOS (masks and keypoints) and SOT runners: official result layouts, hand-computed metrics, scoring mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.tasks.fixtures import OracleSOT, frame_image, write_davis, write_got10k_split, write_jpg
from zoo.data.formats import davis, got10k, otb
from zoo.data.types import VOSSequence
from zoo.metrics.sot import SUCCESS_THRESHOLDS
from zoo.tasks import sot, vos
from zoo.tasks.results import SCHEMA_KEYS
from zoo.trackers.vos_baselines import CopyFirstMask


# ------------------------------------------------------------------------------------------------ VOS
def test_copy_first_on_a_static_video_scores_one(tmp_path: Path) -> None:
    seqs = davis.load_davis(write_davis(tmp_path / "davis", moving=False), "val")
    res = vos.run_benchmark(
        CopyFirstMask, seqs, tmp_path / "out", benchmark="davis17", split="val", progress=False
    )
    assert res.metrics["J&F-Mean"] == 1.0 and res.metrics["num_objects"] == 2
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert list(doc) == list(SCHEMA_KEYS) and doc["method"] == "copy_first"
    assert doc["evaluator"]["conventions"]["first_last_frames"] == "dropped"


def test_masks_layout_hand_computed_j_and_rescoring(tmp_path: Path) -> None:
    seqs = davis.load_davis(write_davis(tmp_path / "davis", n=5), "val")
    out = tmp_path / "out"
    res = vos.run_benchmark(CopyFirstMask(), seqs, out, benchmark="davis17", progress=False)
    pngs = sorted(p.name for p in (out / "blob").glob("*.png"))
    assert pngs == [f"{t:05d}.png" for t in range(5)]
    first = davis.read_palette_mask(out / "blob" / "00003.png")
    np.testing.assert_array_equal(first, davis.read_palette_mask(seqs[0].annotations[0]))
    # object 1 shifts 2 px a frame (20 px wide), object 2 is static; frames 1..3 are scored
    j1 = np.mean([(20 - 2 * t) / (20 + 2 * t) for t in (1, 2, 3)])
    assert res.metrics["J-Mean"] == pytest.approx((j1 + 1.0) / 2, abs=1e-12)
    scored = vos.score_results(out, seqs, None, benchmark="davis17")
    assert scored.metrics == res.metrics
    # scoring needs no images: the annotation layout alone
    import shutil

    shutil.rmtree(tmp_path / "davis" / "JPEGImages")
    gt_only = vos.load_davis_annotations(tmp_path / "davis", "val")
    assert vos.score_results(out, gt_only, None, benchmark="davis17").metrics == res.metrics
    good = (out / "blob" / "00002.png").read_bytes()
    davis.write_palette_mask(out / "blob" / "00002.png", np.zeros((7, 9), np.uint8))
    with pytest.raises(davis.FormatError, match=r"blob: sequence blob: .*frame 2 has gt \(\d+, \d+\), pred \(7, 9\)"):
        vos.score_results(out, gt_only, None, benchmark="davis17")
    (out / "blob" / "00002.png").write_bytes(b"broken")
    with pytest.raises(davis.FormatError, match=r"blob/00002\.png: unreadable image"):
        vos.score_results(out, gt_only, None, benchmark="davis17")
    (out / "blob" / "00002.png").write_bytes(good)
    (out / "blob" / "00004.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"blob frame 4: expected .*00004\.png"):
        vos.score_results(out, gt_only, None, benchmark="davis17")


def _keypoint_clip(root: Path, n: int = 4) -> VOSSequence:
    frames = []
    for t in range(n):
        path = root / "clip" / f"{t + 1:05d}.jpg"
        write_jpg(path, frame_image(t))
        frames.append(path)
    joints = np.tile(np.stack([np.linspace(10, 50, 15), np.linspace(5, 40, 15)], 1), (n, 1, 1))
    joints[:, 0, 0] += 100.0 * np.arange(n)  # joint 0 runs away: copy-first misses it after frame 0
    return VOSSequence("clip", frames, keypoints=joints)


def test_keypoints_pck_and_rescoring(tmp_path: Path) -> None:
    seq = _keypoint_clip(tmp_path)
    out = tmp_path / "out"
    res = vos.run_benchmark(CopyFirstMask(), [seq], out, benchmark="jhmdb", progress=False)
    # 14 of 15 joints always correct, joint 0 never (frame 0 is not scored): mean PCK 14/15
    assert res.metrics["PCK@0.1"] == pytest.approx(14 / 15, abs=1e-12)
    assert res.metrics["PCK@0.2"] == pytest.approx(14 / 15, abs=1e-12)
    assert res.main_metrics == vos.MAIN_METRICS_KEYPOINTS
    back = vos.read_keypoints(out / "clip.txt", 15)
    np.testing.assert_array_equal(back, np.repeat(seq.keypoints[:1], 4, axis=0))
    assert vos.score_results(out, [seq], None, benchmark="jhmdb").metrics == res.metrics
    (out / "clip.txt").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="x,y per joint|joints per frame"):
        vos.score_results(out, [seq], None, benchmark="jhmdb")


# ------------------------------------------------------------------------------------------------ SOT
def test_sot_oracle_and_shifted_tracker_hand_computed(tmp_path: Path) -> None:
    seqs = got10k.load_got10k(write_got10k_split(tmp_path / "got"), "val")
    out = tmp_path / "out"

    def oracle():
        return _Chain([OracleSOT(s.boxes) for s in seqs])

    res = sot.run_benchmark(oracle, seqs, out, benchmark="got10k", split="val", progress=False)
    m = res.metrics
    assert (m["AO"], m["SR0.5"], m["SR0.75"], m["precision_20"]) == (1.0, 1.0, 1.0, 1.0)
    # success = fraction of frames with IoU > t; IoU = 1 fails only the threshold t = 1
    assert m["success_auc"] == pytest.approx(20 / 21, abs=1e-12)
    assert len(m["success_curve"]) == len(SUCCESS_THRESHOLDS)
    # GOT-10k toolkit layout, boxes back exactly, times one per frame
    name = seqs[0].name
    boxes, times = got10k.read_results(out, name)
    np.testing.assert_array_equal(boxes, seqs[0].boxes)
    assert times.shape == (6,) and (times >= 0).all()
    doc = json.loads((out / "results.json").read_text())
    assert list(doc) == list(SCHEMA_KEYS) and doc["evaluator"]["name"] == "got10k toolkit"

    shifted = [s.boxes + [10, 0, 10, 0] for s in seqs]
    res = sot.run_benchmark(lambda: _Chain([OracleSOT(b) for b in shifted]), seqs, tmp_path / "shift",
                            benchmark="got10k", progress=False)  # fmt: skip
    m = res.metrics
    # 20x16 boxes 10 px apart: IoU 160 / 480 = 1/3 after frame 0; the occluded last frame is not in AO
    assert m["AO"] == pytest.approx(1 / 3, abs=1e-9) and m["SR0.5"] == 0.0
    assert m["num_frames_ao"] == 2 * 4
    # OPE success per sequence: 7 thresholds below 1/3 see all 6 frames, 13 see frame 0 only, t = 1 none
    assert m["success_auc"] == pytest.approx((7 + 13 / 6) / 21, abs=1e-9)
    assert m["precision_20"] == 1.0
    assert sot.score_results(tmp_path / "shift", seqs, None, benchmark="got10k").metrics == res.metrics


def test_sot_otb_layout_and_missing_result(tmp_path: Path) -> None:
    seqs = got10k.load_got10k(write_got10k_split(tmp_path / "got"), "val")
    out = tmp_path / "out"
    res = sot.run_benchmark(lambda: _Chain([OracleSOT(s.boxes) for s in seqs]), seqs, out, benchmark="otb",
                            progress=False)  # fmt: skip
    assert sorted(p.name for p in out.glob("*.txt")) == [f"{s.name}.txt" for s in seqs]
    np.testing.assert_array_equal(otb.read_otb_boxes(out / f"{seqs[1].name}.txt"), seqs[1].boxes)
    assert "AO" not in res.metrics and res.main_metrics == ("success_auc", "precision_20")
    assert sot.score_results(out, seqs, None, benchmark="otb").metrics == res.metrics
    (out / f"{seqs[0].name}.txt").unlink()
    with pytest.raises(FileNotFoundError, match=f"no result for sequence {seqs[0].name}"):
        sot.score_results(out, seqs, None, benchmark="otb")


def test_sot_diverged_tracker_keeps_last_box(tmp_path: Path) -> None:
    seqs = got10k.load_got10k(write_got10k_split(tmp_path / "got"), "val")[:1]
    boxes = seqs[0].boxes.copy()
    boxes[3] = np.nan
    with pytest.warns(UserWarning, match="1 non-finite boxes"):
        res = sot.run_benchmark(OracleSOT(boxes), seqs, tmp_path / "o", benchmark="got10k", progress=False)
    written, _ = got10k.read_results(tmp_path / "o", seqs[0].name)
    np.testing.assert_array_equal(written[3], boxes[2])
    assert res.per_sequence[seqs[0].name]["invalid_boxes"] == 1


class _Chain:
    """One tracker object over several sequences: each ``init`` moves to the next scripted tracker."""

    def __init__(self, trackers: list[OracleSOT]) -> None:
        self.trackers = trackers
        self.i = -1

    def init(self, frame0: np.ndarray, box0: np.ndarray) -> None:
        self.i += 1
        self.trackers[self.i].init(frame0, box0)

    def step(self, frame: np.ndarray):
        return self.trackers[self.i].step(frame)

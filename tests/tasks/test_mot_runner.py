"""MOT runner: official result files, hand-computed metrics, detections sources, offline trackers, scoring mode,
DDP sharding, and TrackEval equality on real MOT17 tracker output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.tasks.fixtures import MOT_DET, OfflineReplay, ScriptedMOT, switch_script, write_mot_split, xyxy
from zoo.data.formats import motchallenge
from zoo.data.formats.errors import FormatError
from zoo.tasks import mot
from zoo.tasks.protocols import Tracks
from zoo.tasks.results import SCHEMA_KEYS

MOT17 = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"


@pytest.fixture
def split(tmp_path: Path) -> Path:
    return write_mot_split(tmp_path / "bench", ("hand-01", "hand-02"))


def _seqs(split: Path) -> list:
    return motchallenge.load_split(split)


def test_run_writes_official_files_and_hand_computed_metrics(split: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    tracker = ScriptedMOT(switch_script())
    res = mot.run_benchmark(
        tracker, _seqs(split)[:1], out, benchmark="synth_mot", split="train", progress=False
    )
    # the file is MOTChallenge results format, 1-based left/top: frame 3 holds id 11 at left 11
    rows = motchallenge.read_mot_file(out / "hand-01.txt", "results")
    assert len(rows) == 9
    lines = (out / "hand-01.txt").read_text().splitlines()
    assert "3,11,11,10,10,20,1,-1,-1,-1" in lines
    m = res.metrics
    assert (m["CLR_TP"], m["CLR_FN"], m["CLR_FP"], m["IDSW"]) == (8, 0, 1, 1)
    assert m["MOTA"] == pytest.approx(0.75, abs=1e-12)
    assert (m["IDTP"], m["IDFP"], m["IDFN"]) == (6, 3, 2)
    assert m["IDF1"] == pytest.approx(6 / 8.5, abs=1e-12)
    doc = json.loads((out / "results.json").read_text())
    assert list(doc) == list(SCHEMA_KEYS)
    assert doc["task"] == "mot" and doc["benchmark"] == "synth_mot" and doc["split"] == "train"
    assert doc["method"] == "ScriptedMOT" and doc["params"] == 0
    assert doc["per_sequence"]["hand-01"]["frames"] == 4
    assert doc["evaluator"]["name"] == "TrackEval" and "fps" in doc["evaluator"]["conventions"]
    assert doc["fps"] is not None and doc["fps"] > 0
    # the tracker declared needs_frames = False: no image was read
    assert tracker.seen_frames == [None] * 4


def test_detection_sources(split: Path, tmp_path: Path) -> None:
    seq = _seqs(split)[0]
    tracker = ScriptedMOT({})
    mot.run_benchmark(tracker, [seq], None, benchmark="synth_mot", progress=False)
    assert [len(d) for d in tracker.seen_dets] == [2, 3, 2, 2]  # frame 2 has the extra false positive
    np.testing.assert_array_equal(tracker.seen_dets[1].boxes[2], xyxy(50, 30, 8, 8))
    assert tracker.seen_dets[1].scores.tolist() == [0.9, 0.9, 0.4]
    # oracle detections: the evaluated gt (consider=1, class 1) with score 1; the static person is left out
    tracker = ScriptedMOT({})
    mot.run_benchmark(tracker, [seq], None, benchmark="synth_mot", detections="gt", progress=False)
    assert [len(d) for d in tracker.seen_dets] == [2, 2, 2, 2]
    assert np.all(np.concatenate([d.scores for d in tracker.seen_dets]) == 1.0)
    # a folder of <seq>.txt detection files
    folder = tmp_path / "dets"
    folder.mkdir()
    (folder / "hand-01.txt").write_text("".join(",".join(map(str, r)) + "\n" for r in MOT_DET[:1]))
    tracker = ScriptedMOT({})
    mot.run_benchmark(tracker, [seq], None, benchmark="synth_mot", detections=folder, progress=False)
    assert [len(d) for d in tracker.seen_dets] == [1, 0, 0, 0]
    with pytest.raises(FileNotFoundError, match="hand-01.txt"):
        mot.run_benchmark(ScriptedMOT({}), [seq], None, detections=tmp_path, progress=False)


def test_offline_tracker_equals_online(split: Path) -> None:
    seqs = _seqs(split)
    online = mot.run_benchmark(
        ScriptedMOT(switch_script()), seqs, None, benchmark="synth_mot", progress=False
    )
    offline = mot.run_benchmark(
        OfflineReplay(switch_script()), seqs, None, benchmark="synth_mot", progress=False
    )
    assert online.metrics == offline.metrics
    assert online.metrics["CLR_TP"] == 16


def test_frames_are_read_unless_declared_unneeded(split: Path) -> None:
    seq = _seqs(split)[0]

    class Reader(ScriptedMOT):
        needs_frames = True

    tracker = Reader({})
    mot.run_benchmark(tracker, [seq], None, progress=False)
    assert all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in tracker.seen_frames)
    shutil.rmtree(seq.root / "img1")
    with pytest.raises(FormatError, match="000001.jpg"):
        mot.run_benchmark(Reader({}), [seq], None, progress=False)
    mot.run_benchmark(ScriptedMOT({}), [seq], None, progress=False)  # needs_frames = False: no image needed


def test_bad_tracker_output_is_named(split: Path) -> None:
    seq = _seqs(split)[0]

    class Dup(ScriptedMOT):
        def step(self, frame, detections):
            self.t += 1
            return Tracks(np.array([3, 3]), np.array([[0, 0, 5, 5], [1, 1, 6, 6]], float), np.ones(2))

    with pytest.raises(ValueError, match="frame 1: the tracker returned the same id twice"):
        mot.run_benchmark(Dup({}), [seq], None, progress=False)

    class Empty(ScriptedMOT):
        def step(self, frame, detections):
            return Tracks(np.array([1, 2]), np.array([[0, 0, 5, 5], [3, 3, 3, 9]], float), np.ones(2))

    with pytest.warns(UserWarning, match="returned 4 boxes"):
        res = mot.run_benchmark(Empty({}), [seq], None, progress=False)
    assert res.per_sequence["hand-01"]["dropped_boxes"] == 4


def test_scoring_reproduces_running(split: Path, tmp_path: Path) -> None:
    seqs = _seqs(split)
    ran = mot.run_benchmark(
        ScriptedMOT(switch_script()), seqs, tmp_path / "run", benchmark="synth_mot", progress=False
    )
    scored = mot.score_results(tmp_path / "run", seqs, tmp_path / "score", benchmark="synth_mot")
    assert scored.metrics == ran.metrics
    for name in ran.per_sequence:
        row = dict(ran.per_sequence[name])
        row.pop("fps")
        assert scored.per_sequence[name] == row
    doc = json.loads((tmp_path / "score" / "results.json").read_text())
    assert doc["method"] == "run" and doc["fps"] is None
    (tmp_path / "run" / "hand-02.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"no result for sequence hand-02: expected .*hand-02\.txt"):
        mot.score_results(tmp_path / "run", seqs, None, benchmark="synth_mot")


def test_sharding_two_ranks_in_one_process(split: Path, tmp_path: Path) -> None:
    seqs = motchallenge.load_split(write_mot_split(tmp_path / "b3", ("a", "b", "c")))
    single = mot.run_benchmark(ScriptedMOT(switch_script()), seqs, tmp_path / "single", progress=False)
    out = tmp_path / "ddp"
    r1 = mot.run_benchmark(
        ScriptedMOT(switch_script()), seqs, out, rank=1, world_size=2, progress=False, gather=lambda r: [r]
    )
    assert not (out / "results.json").exists()  # only rank 0 writes results.json
    rank1_files = sorted(p.name for p in out.glob("*.txt"))
    assert rank1_files and len(rank1_files) < 3
    r0 = mot.run_benchmark(
        ScriptedMOT(switch_script()), seqs, out, rank=0, world_size=2, progress=False,
        gather=lambda r: [r, r1.records],
    )  # fmt: skip
    assert sorted(p.name for p in out.glob("*.txt")) == ["a.txt", "b.txt", "c.txt"]
    assert {r.name for r in r0.records}.isdisjoint({r.name for r in r1.records})
    assert r0.metrics == single.metrics
    assert list(r0.per_sequence) == ["a", "b", "c"]
    assert (out / "results.json").exists()
    # rescoring the shared folder gives the same numbers
    assert mot.score_results(out, seqs, None).metrics == single.metrics
    with pytest.raises(ValueError, match="more than one rank"):
        mot.run_benchmark(
            ScriptedMOT({}), seqs, None, rank=0, world_size=2, progress=False, gather=lambda r: [r, r]
        )
    with pytest.raises(RuntimeError, match="not initialised"):
        mot.run_benchmark(ScriptedMOT({}), seqs, None, rank=0, world_size=2, progress=False)


@pytest.mark.skipif(not MOT17.is_dir(), reason="real MOT17 tracker data not available")
def test_mot17_rescoring_equals_trackeval() -> None:
    """TrackEval 1.3.0 on this data: HOTA 75.272, MOTA 90.32, IDF1 81.859, IDSW 1605, Frag 1716."""
    names = motchallenge.read_seqmap(MOT17 / "seqmaps" / "MOT17-train.txt")
    seqs = motchallenge.load_split(MOT17 / "gt" / "MOT17-train", names, check_images=False)
    res = mot.score_results(MOT17 / "tracker" / "data", seqs, None, benchmark="mot17")
    m = res.metrics
    assert f"{100 * m['HOTA']:.5g}" == "75.272"
    assert f"{100 * m['MOTA']:.5g}" == "90.32"
    assert f"{100 * m['IDF1']:.5g}" == "81.859"
    assert (m["IDSW"], m["Frag"], m["MT"], m["ML"], m["CLR_FP"], m["CLR_FN"]) == (
        1605,
        1716,
        1299,
        69,
        8466,
        22539,
    )
    assert len(res.per_sequence) == 21
    assert "data" not in res.evaluator["conventions"]  # real benchmarks have no generator manifest

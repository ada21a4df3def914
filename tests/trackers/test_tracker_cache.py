"""The base-tracker cache ("tracker of trackers"): keys, reuse, corrupt entries, bad inputs, precompute."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from zoo.data.types import SOTSequence
from zoo.trackers import cache as tc
from zoo.trackers.cache import TrackerSource, cache_key, precompute, run_sot_tracker, tracker_outputs


def _sequence(folder: Path, name: str = "square", n: int = 8, box0=(10.0, 12.0, 30.0, 32.0)) -> SOTSequence:
    """A bright square moving right by 2 px a frame on a textured background."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 80, (64, 80, 3), dtype=np.uint8)
    frames, boxes = [], []
    for t in range(n):
        img = bg.copy()
        x0 = 10 + 2 * t
        img[12:32, x0 : x0 + 20] = (250, 200, 40)
        path = folder / f"{t + 1:08d}.jpg"
        cv2.imwrite(str(path), img[:, :, ::-1])
        frames.append(path)
        boxes.append([x0, 12, x0 + 20, 32])
    boxes = np.array(boxes, np.float64)
    boxes[0] = box0
    return SOTSequence(name=name, frames=frames, boxes=boxes, absent=np.zeros(n, bool))


@pytest.fixture
def seq(tmp_path):
    return _sequence(tmp_path / "seq")


def test_runs_once_then_reads_the_cache(seq, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = tracker_outputs("kcf", seq, cache)
    assert first.boxes.shape == (8, 4) and np.array_equal(first.boxes[0], seq.boxes[0])
    assert first.boxes[-1, 0] > first.boxes[0, 0] + 5  # it followed the square to the right
    monkeypatch.setattr(tc, "run_sot_tracker", lambda *a, **k: pytest.fail("cache miss on a warm entry"))
    again = tracker_outputs("kcf", seq, cache)
    assert np.array_equal(again.boxes, first.boxes) and np.array_equal(again.scores, first.scores)
    entry = next((cache / "sot" / "kcf").glob("*.json"))
    assert '"tracker": "kcf"' in entry.read_text()


def test_key_changes_with_tracker_settings_and_sequence_content(seq, tmp_path):
    base, _ = cache_key(TrackerSource("csrt"), seq)
    assert cache_key(TrackerSource("csrt", {"padding": 2.5}), seq)[0] != base
    assert cache_key(TrackerSource("kcf"), seq)[0] != base
    assert cache_key(TrackerSource("csrt"), seq)[0] == base  # deterministic
    moved = SOTSequence(seq.name, seq.frames, seq.boxes + 1.0, seq.absent)
    assert cache_key(TrackerSource("csrt"), moved)[0] != base
    renamed = SOTSequence("other", seq.frames, seq.boxes, seq.absent)
    assert cache_key(TrackerSource("csrt"), renamed)[0] != base
    st = os.stat(seq.frames[3])
    os.utime(seq.frames[3], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a rewritten frame
    assert cache_key(TrackerSource("csrt"), seq)[0] != base


def test_a_changed_config_never_reads_a_stale_entry(seq, tmp_path):
    cache = tmp_path / "cache"
    tracker_outputs("csrt", seq, cache)
    calls = []
    real = tc.run_sot_tracker

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    tc.run_sot_tracker, saved = counting, tc.run_sot_tracker
    try:
        tracker_outputs(TrackerSource("csrt", {"padding": 2.5}), seq, cache)
    finally:
        tc.run_sot_tracker = saved
    assert calls == [1]
    assert len(list((cache / "sot" / "csrt").glob("*.npz"))) == 2


@pytest.mark.parametrize("damage", ["truncate", "shape", "nan"])
def test_a_corrupt_entry_is_recomputed_with_a_warning(seq, tmp_path, damage):
    cache = tmp_path / "cache"
    good = tracker_outputs("mosse", seq, cache)
    path = next((cache / "sot" / "mosse").glob("*.npz"))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:50])
    elif damage == "shape":
        np.savez(path, boxes=np.zeros((3, 4)), scores=np.zeros(3), times=np.zeros(3))
    else:
        bad = good.boxes.copy()
        bad[2] = np.nan
        np.savez(path, boxes=bad, scores=good.scores, times=good.times)
    with pytest.warns(UserWarning, match="recomputing"):
        out = tracker_outputs("mosse", seq, cache)
    assert np.allclose(out.boxes, good.boxes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tracker_outputs("mosse", seq, cache)  # rewritten whole


@pytest.mark.parametrize(
    ("box0", "match"),
    [
        ((200.0, 200.0, 220.0, 220.0), "outside"),
        ((10.0, 10.0, 10.0, 30.0), "zero size"),
        ((np.nan, 0.0, 5.0, 5.0), "finite"),
    ],
)
def test_bad_first_boxes_name_the_sequence_and_frame(tmp_path, box0, match):
    bad = _sequence(tmp_path / "bad", name="broken_seq", n=3, box0=box0)
    with pytest.raises(ValueError, match=rf"sequence broken_seq, frame 1: .*{match}"):
        run_sot_tracker(TrackerSource("kcf").build(), bad)


def test_sources_must_be_sot_baselines():
    with pytest.raises(ValueError, match="mot tracker"):
        TrackerSource("sort").build()
    with pytest.raises(ValueError, match="trainable method"):
        TrackerSource("sftrack").build()


def test_precompute_fills_the_cache_in_worker_processes(tmp_path):
    seqs = [_sequence(tmp_path / f"s{i}", name=f"s{i}", n=5) for i in range(3)]
    cache = tmp_path / "cache"
    first = precompute(["kcf", "medianflow"], seqs, cache, workers=2, progress=False)
    assert first == {"cached": 0, "computed": 6}
    assert precompute(["kcf", "medianflow"], seqs, cache, workers=2, progress=False) == {
        "cached": 6,
        "computed": 0,
    }
    # what the workers stored is what this process computes
    direct = run_sot_tracker(TrackerSource("kcf").build(), seqs[1])
    assert np.allclose(tracker_outputs("kcf", seqs[1], cache).boxes, direct.boxes)


def test_precompute_command_on_zoosynth(tmp_path, capsys):
    from zoo.precompute import main

    args = [
        "data.synth_preset=tiny",
        "trackers=[kcf,mosse]",
        f"cache_dir={tmp_path}",
        "workers=1",
        "progress=false",
    ]
    assert main(args) == 0
    assert "2 trackers x 4 sequences (train, val): 8 run now, 0 already cached" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 run now, 8 already cached" in capsys.readouterr().out
    assert main(["data=synth_mot"]) == 2
    assert "not an SOT benchmark" in capsys.readouterr().err

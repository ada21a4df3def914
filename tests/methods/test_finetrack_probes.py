"""The probes behind docs/finetrack.md: the look-alike re-identification probe
(benchmarks/finetrack_lookalikes.py) on hand-made embeddings, the scene it reads look-alike pairs from, and
the learning-free part-cue features (benchmarks/zoosynth_part_cues.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from zoo.data.formats import motchallenge
from zoo.data.synth import PRESETS, ensure_synth
from zoo.data.synth.mot import gt_rows, render_mot
from zoo.data.synth.store import mot_scene, sequence_name

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lookalikes():
    return _script("finetrack_lookalikes")


@pytest.fixture(scope="module")
def part_cues():
    return _script("zoosynth_part_cues")


def _sequence(code: dict[int, np.ndarray], frames: int, noise: float, seed: int = 0) -> dict:
    """Identities with a fixed code vector each, plus per-box noise; (1, 2) is the look-alike pair."""
    rng = np.random.default_rng(seed)
    feats = {}
    for i, c in code.items():
        for t in range(1, frames + 1):
            f = c + noise * rng.normal(size=c.shape)
            feats[(i, t)] = f / np.linalg.norm(f)
    return {"name": "s", "feats": feats, "pairs": [(1, 2)], "ids": sorted(code)}


def test_probe_separates_distinct_codes_and_not_collapsed_twins(lookalikes):
    eye = np.eye(8)
    distinct = _sequence({1: eye[0], 2: eye[1], 3: eye[2]}, 20, 0.05)
    r = lookalikes.probe([distinct], gap=5)
    assert r["twin_pick"] == 1.0 and r["twin_auc"] == 1.0 and r["other_auc"] == 1.0
    assert r["queries"] == 2 * 15  # both directions, frames 1..15 have a frame 5 later
    # an embedding that cannot tell the twins apart: chance level on them, still perfect on the other walker
    collapsed = _sequence({1: eye[0], 2: eye[0], 3: eye[2]}, 20, 0.05)
    r = lookalikes.probe([collapsed], gap=5)
    assert 0.3 < r["twin_pick"] < 0.7 and abs(r["twin_auc"] - 0.5) < 0.1
    assert r["other_auc"] < 1.0


def test_auc_equals_mann_whitney(lookalikes):
    rng = np.random.default_rng(1)
    same, other = rng.normal(0, 1, 200).round(1), rng.normal(0.5, 1, 300).round(1)  # rounded: ties
    u = mannwhitneyu(other, same).statistic  # U of ``other`` > ``same``: pairs ordered as the probe wants
    assert lookalikes._auc(same, other) == pytest.approx(u / (200 * 300), abs=1e-12)


def test_scene_lookalikes_are_those_written():
    """mot_scene gives the scene write_mot_sequence rendered: its boxes equal gt.txt's."""
    root = ensure_synth("tiny")  # the session's shared copy
    config = PRESETS["tiny"]
    name = sequence_name("mot", "val", 0)
    info = motchallenge.read_seqinfo(root / "mot" / "val" / name / "seqinfo.ini")
    gt = motchallenge.read_mot_file(root / "mot" / "val" / name / "gt" / "gt.txt", "gt", info)
    scene, rng = mot_scene(config, 0, "val", 0)
    rows = gt_rows(scene, render_mot(rng, scene, config.noise_sigma, lambda t, f: None))
    assert np.array_equal(rows.ids, gt.ids) and np.allclose(rows.boxes, gt.boxes, atol=0.01)


def test_stripes_tell_a_part_swap_apart_and_pooling_does_not(part_cues):
    """A red-over-blue box and a blue-over-red box: the same pooled histogram, different stripes."""
    frame = np.zeros((40, 40, 3), np.uint8)
    frame[:20, :20], frame[20:, :20] = (220, 30, 30), (30, 30, 220)  # model: red torso, blue legs
    frame[:20, 20:], frame[20:, 20:] = (30, 30, 220), (220, 30, 30)  # look-alike: exchanged
    boxes = np.array([[0, 0, 20, 40], [20, 0, 40, 40]], np.float64)
    pooled = part_cues.colour_histograms(frame, boxes, stripes=1, bins=4)
    striped = part_cues.colour_histograms(frame, boxes, stripes=2, bins=4)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0)
    assert pooled[0] @ pooled[1] == pytest.approx(1.0)  # identical for a pooled feature
    assert striped[0] @ striped[1] == pytest.approx(0.0, abs=1e-12)  # disjoint stripe by stripe
    # boxes past the frame are clipped, degenerate boxes still give a unit vector
    edge = part_cues.colour_histograms(frame, np.array([[-5, 35, 3, 60], [10, 10, 10, 10]], float), 6, 4)
    np.testing.assert_allclose(np.linalg.norm(edge, axis=1), 1.0)

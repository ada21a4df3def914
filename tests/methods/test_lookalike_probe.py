"""The look-alike re-identification probe (benchmarks/finetrack_lookalikes.py) on hand-made embeddings, and
its synth side: the scene it reads look-alike pairs from is the one written to disk."""

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

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "finetrack_lookalikes.py"


@pytest.fixture(scope="module")
def lookalikes():
    spec = importlib.util.spec_from_file_location("finetrack_lookalikes", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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

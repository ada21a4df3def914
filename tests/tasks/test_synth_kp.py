"""ZooSynth-KP (``data=synth_kp``) through the VOS runner's keypoint path and ``zoo.evaluate``: the baselines
get PCK@0.1/0.2 in (0, 1], scoring mode equals running mode, joints hidden in the ground truth are not scored,
and the benchmark is evaluation only (training clips come from another benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from zoo.data.modules import VideoDataModule
from zoo.data.synth import GENERATOR_VERSION
from zoo.evaluate import main
from zoo.registry import get_method
from zoo.tasks import vos
from zoo.tasks.results import SCHEMA_KEYS

TINY_DATA = f"ZooSynth {GENERATOR_VERSION} (preset tiny, seed 0)"


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from zoo.data.synth import ensure_synth

    root = tmp_path_factory.mktemp("synth")
    ensure_synth("tiny", root=root)
    return root


def _module(synth_root: Path, **kw) -> VideoDataModule:
    return VideoDataModule(benchmark="synth_kp", synth_preset="tiny", synth_root=str(synth_root), **kw)


@pytest.mark.parametrize("name", ["copy_first", "flow_warp"])
def test_kp_baselines_score_pck(synth_root: Path, tmp_path: Path, name: str) -> None:
    seqs = _module(synth_root).eval_sequences()
    assert [s.name for s in seqs] == ["zskp-val-00", "zskp-val-01"]
    assert all(s.keypoints.shape == (len(s), 15, 2) for s in seqs)
    assert any(np.isnan(s.keypoints).any() for s in seqs)  # hidden joints reach the runner as NaN
    out = tmp_path / name
    res = vos.run_benchmark(
        get_method(name).cls, seqs, out, benchmark="synth_kp", split="val", progress=False
    )
    for key in vos.MAIN_METRICS_KEYPOINTS:
        assert 0.0 < res.metrics[key] <= 1.0, (key, res.metrics)
    assert res.metrics["PCK@0.1"] <= res.metrics["PCK@0.2"]
    # scored joints: every annotated (visible) one after frame 0
    assert res.metrics["num_joints_scored"] == sum(
        int(np.isfinite(s.keypoints[1:, :, 0]).sum()) for s in seqs
    )
    pred = vos.read_keypoints(out / f"{seqs[0].name}.txt", 15)
    assert pred.shape == seqs[0].keypoints.shape and np.isfinite(pred).all()
    scored = vos.score_results(out, seqs, None, benchmark="synth_kp", split="val")
    assert scored.metrics == res.metrics
    assert res.evaluator["conventions"]["data"] == TINY_DATA


def test_zoo_evaluate_copy_first_on_synth_kp(synth_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["data=synth_kp", "data.synth_preset=tiny", f"+data.synth_root={synth_root}", "progress=false"]
    assert main(["model=copy_first", *args, f"out={out}"]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert list(doc) == list(SCHEMA_KEYS)
    assert doc["benchmark"] == "synth_kp" and doc["split"] == "val" and doc["task"] == "vos"
    assert 0.0 < doc["metrics"]["PCK@0.1"] <= doc["metrics"]["PCK@0.2"] <= 1.0
    assert doc["evaluator"]["conventions"]["data"] == TINY_DATA
    # re-scoring the written files (no images read) gives the same numbers
    assert main([f"results={out}", *args, f"out={tmp_path / 'rescored'}"]) == 0
    again = json.loads((tmp_path / "rescored" / "results.json").read_text())
    assert again["metrics"] == doc["metrics"]


def test_synth_kp_is_evaluation_only(synth_root: Path) -> None:
    with pytest.raises(ValueError, match="synth_kp is evaluation only"):
        _module(synth_root).train_sequences()
    # training clips from ZooSynth-VOS, evaluation on the keypoint clips
    dm = _module(synth_root, train_benchmark="synth_vos")
    assert dm.train_sequences() and dm.train_sequences()[0].keypoints is None
    assert dm.eval_sequences()[0].keypoints is not None

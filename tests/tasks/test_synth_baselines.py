"""Every registered baseline through its task runner on ZooSynth tiny: official files the format readers (and
TrackEval) load back, scoring mode equal to running mode, renders whose marks equal CLEAR, and the demo's
``evaluate_baselines`` tables."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from tests.tasks.test_trackeval_files import trackeval_combined
from zoo.data.formats import davis, got10k, motchallenge
from zoo.data.modules import MOTDataModule, SOTDataModule, VideoDataModule
from zoo.data.synth import GENERATOR_VERSION
from zoo.evaluate import evaluate_baselines
from zoo.registry import get_method, list_methods
from zoo.tasks import mot, sot, vos
from zoo.tasks.results import SCHEMA_KEYS
from zoo.viz.mot_render import render_tracks

TINY_DATA = f"ZooSynth {GENERATOR_VERSION} (preset tiny, seed 0)"  # evaluator.conventions.data


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from zoo.data.synth import ensure_synth

    root = tmp_path_factory.mktemp("synth")
    ensure_synth("tiny", root=root)
    return root


def _without_fps(per_sequence: dict) -> dict:
    return {k: {f: v for f, v in row.items() if f != "fps"} for k, row in per_sequence.items()}


@pytest.mark.parametrize("name", ["sort", "bytetrack"])
def test_mot_baselines(synth_root: Path, tmp_path: Path, name: str) -> None:
    seqs = MOTDataModule(synth_preset="tiny", synth_root=str(synth_root)).eval_sequences("val")
    out = tmp_path / name
    res = mot.run_benchmark(
        get_method(name).cls, seqs, out, benchmark="synth_mot", split="val", progress=False
    )
    for seq in seqs:
        rows = motchallenge.read_mot_file(out / f"{seq.name}.txt", "results", seq.info)
        assert len(rows) > 0 and rows.frames.max() <= seq.info.seq_length
    doc = json.loads((out / "results.json").read_text())
    assert list(doc) == list(SCHEMA_KEYS) and doc["method"] == name and doc["fps"] > 0
    assert doc["evaluator"]["conventions"]["data"] == TINY_DATA
    assert 0.2 < res.metrics["HOTA"] <= 1.0 and res.metrics["IDF1"] > 0.2
    scored = mot.score_results(out, seqs, None, benchmark="synth_mot")
    assert scored.evaluator["conventions"]["data"] == TINY_DATA
    assert scored.metrics == res.metrics and scored.per_sequence == _without_fps(res.per_sequence)
    ref = trackeval_combined(seqs[0].root.parent, out, [s.name for s in seqs], tmp_path)
    assert res.metrics["HOTA"] == pytest.approx(float(np.mean(ref["HOTA"]["HOTA"])), abs=1e-9)
    assert res.metrics["MOTA"] == pytest.approx(float(ref["CLEAR"]["MOTA"]), abs=1e-9)
    assert res.metrics["IDF1"] == pytest.approx(float(ref["Identity"]["IDF1"]), abs=1e-9)
    if name == "bytetrack":
        seq = seqs[0]
        rows = motchallenge.read_mot_file(out / f"{seq.name}.txt", "results", seq.info)
        path, totals = render_tracks(seq, rows, tmp_path / "r.mp4", max_frames=None)
        p = res.per_sequence[seq.name]
        assert totals == {"TP": p["CLR_TP"], "FP": p["CLR_FP"], "FN": p["CLR_FN"], "IDSW": p["IDSW"],
                          "frames": seq.info.seq_length}  # fmt: skip
        assert path.stat().st_size > 10_000


@pytest.mark.parametrize("name", ["copy_first", "flow_warp"])
def test_vos_baselines(synth_root: Path, tmp_path: Path, name: str) -> None:
    seqs = VideoDataModule(synth_preset="tiny", synth_root=str(synth_root)).eval_sequences("val")
    out = tmp_path / name
    res = vos.run_benchmark(
        get_method(name).cls, seqs, out, benchmark="synth_vos", split="val", progress=False
    )
    for seq in seqs:
        masks = [davis.read_palette_mask(out / seq.name / f"{t:05d}.png") for t in range(len(seq))]
        assert masks[0].shape == davis.read_palette_mask(seq.annotations[0]).shape
    assert 0.0 < res.metrics["J&F-Mean"] <= 1.0
    scored = vos.score_results(out, seqs, None, benchmark="synth_vos")
    assert scored.metrics == res.metrics
    assert res.evaluator["conventions"]["data"] == scored.evaluator["conventions"]["data"] == TINY_DATA


@pytest.mark.parametrize("name", ["csrt", "kcf"])
def test_sot_baselines(synth_root: Path, tmp_path: Path, name: str) -> None:
    seqs = SOTDataModule(synth_preset="tiny", synth_root=str(synth_root)).eval_sequences("val")
    out = tmp_path / name
    res = sot.run_benchmark(
        get_method(name).cls, seqs, out, benchmark="synth_sot", split="val", progress=False
    )
    for seq in seqs:
        boxes, times = got10k.read_results(out, seq.name)
        assert boxes.shape == (len(seq), 4) and times.shape == (len(seq),)
    assert 0.0 < res.metrics["AO"] <= 1.0 and 0.0 < res.metrics["success_auc"] <= 1.0
    scored = sot.score_results(out, seqs, None, benchmark="synth_sot")
    assert scored.metrics == res.metrics
    assert res.evaluator["conventions"]["data"] == scored.evaluator["conventions"]["data"] == TINY_DATA


@pytest.mark.parametrize("task", ["mot", "vos", "sot"])
def test_evaluate_baselines_prints_one_table(synth_root: Path, tmp_path: Path, task: str) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    results = evaluate_baselines(
        task, preset="tiny", out=tmp_path, synth_root=synth_root, progress=False, console=console,
        overrides=["max_sequences=1"],
    )  # fmt: skip
    names = list_methods(task, kind="baseline")
    assert sorted(r.method for r in results) == sorted(names)
    text = buffer.getvalue()
    assert text.count(f"{task.upper()} on synth_{task}") == 1
    for name in names:
        assert (tmp_path / name / "results.json").is_file() and name in text
    if task == "sot":
        assert (tmp_path / "sot_success_synth_sot.png").is_file()

"""evaluate=true goes through the shared evaluation path (zoo.evaluate / zoo.tasks) on ZooSynth tiny, and a
Hub tracker evaluated by the leaderboard scores exactly what the same registered tracker scores in
zoo.evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.leaderboard.board import build_board
from zoo.leaderboard.config import load_board_config

TINY = ["data.synth_preset=tiny", "max_sequences=1"]


def _quiet(_message: str) -> None:
    pass


def test_evaluate_entries_rescored_from_the_raw_files(tmp_path: Path):
    from zoo.tasks import mot
    from zoo.tasks.benchmarks import load_ground_truth, select_sequences

    doc = {
        "work_dir": "work",
        "runs": [],
        "evaluate": [{"model": "sort", "data": "synth_mot", "overrides": TINY}],
    }
    board = build_board(load_board_config(None, base=tmp_path, doc=doc), evaluate=True, log=_quiet)
    assert board.errors == []
    (entry,) = board.entries
    assert (entry.method, entry.model, entry.task, entry.benchmark, entry.origin) == (
        "sort",
        "sort",
        "mot",
        "synth_mot",
        "evaluate",
    )
    results_json = tmp_path / "work" / "synth_mot" / "sort" / "results.json"
    assert entry.source == "work/synth_mot/sort/results.json" and results_json.is_file()
    written = json.loads(results_json.read_text())
    assert entry.metrics == {
        k: written["metrics"][k] for k in ("HOTA", "AssA", "DetA", "IDF1", "MOTA", "IDSW")
    }
    assert entry.fps and entry.fps > 0 and entry.evaluator["name"] == "TrackEval"
    # independent check: score the raw MOTChallenge files the run left, without the tracker
    from zoo.data.synth import ensure_synth

    seq_names = list(written["per_sequence"])
    gt = load_ground_truth("synth_mot", ensure_synth("tiny") / "mot", entry.split)
    rescored = mot.score_results(
        results_json.parent,
        select_sequences(gt, seq_names),
        None,
        benchmark="synth_mot",
        split=entry.split,
        progress=False,
        write_json=False,
    )
    assert rescored.metrics["HOTA"] == pytest.approx(entry.metrics["HOTA"], abs=1e-12)
    assert rescored.metrics["IDSW"] == entry.metrics["IDSW"]


def test_hub_tracker_evaluation_matches_zoo_evaluate(hub, tmp_path: Path):
    from zoo.publish import upload

    folder = tmp_path / "export"
    folder.mkdir()
    config = {
        "format": "zoo-tracker",
        "format_version": 1,
        "zoo_version": "0.1.0",
        "method": "bytetrack",
        "task": "mot",
        "kind": "baseline",
        "init_args": {},
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "README.md").write_text("# bytetrack baseline\n")
    commit = upload(folder, "org/bytetrack-baseline", tag="v1").commit
    doc = {
        "work_dir": "work",
        "runs": [],
        "evaluate": [
            {"model": "bytetrack", "data": "synth_mot", "overrides": TINY},
            {"model": "hf-hub:org/bytetrack-baseline@v1", "data": "synth_mot", "overrides": TINY},
        ],
    }
    board = build_board(load_board_config(None, base=tmp_path, doc=doc), evaluate=True, log=_quiet)
    assert board.errors == []
    rows = {e.model: e for e in board.entries}
    assert set(rows) == {"bytetrack", "org/bytetrack-baseline"}
    hub_row = rows["org/bytetrack-baseline"]
    assert hub_row.revision == commit and hub_row.model_ref == "org/bytetrack-baseline@" + commit[:7]
    assert hub_row.method == "bytetrack" and hub_row.params == 0
    assert hub_row.metrics == rows["bytetrack"].metrics

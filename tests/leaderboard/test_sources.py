"""Gathering: local run directories, leaderboard.yaml, Hub repos on the loopback server, offline behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo.leaderboard.board import build_board
from zoo.leaderboard.config import EvalSpec, load_board_config
from zoo.leaderboard.schema import dedupe
from zoo.leaderboard.sources import gather_hub, gather_runs, parse_hub_entry

from . import fakes


def _quiet(_message: str) -> None:
    pass


def _run_dir(root: Path, name: str, doc: dict) -> Path:
    """A zoo.train-like run directory: config.yaml, checkpoints/, per-epoch and final results.json."""
    run = root / name
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("method: finetrack\n")
    fakes.write_doc(run / "results" / "epoch_000", {**doc, "metrics": {**doc["metrics"], "HOTA": 0.1}})
    fakes.write_doc(run, doc)
    return run


def test_gather_runs_identity_and_per_run_dedup(tmp_path: Path):
    outputs = tmp_path / "outputs"
    _run_dir(outputs / "finetrack", "2026-01-01_00-00-00", fakes.mot("finetrack", 0.7, params=1234))
    _run_dir(outputs / "finetrack", "2026-01-02_00-00-00", fakes.mot("finetrack", 0.6, params=1234))
    # an interrupted run: epoch evaluations only, no final results.json
    broken = outputs / "finetrack" / "2026-01-03_00-00-00"
    (broken / "checkpoints").mkdir(parents=True)
    (broken / "config.yaml").write_text("method: finetrack\n")
    for epoch, hota in ((0, 0.2), (1, 0.3)):
        doc = fakes.mot("finetrack", hota, created=f"2026-01-03T0{epoch}:00:00+00:00")
        fakes.write_doc(broken / "results" / f"epoch_{epoch:03d}", doc)
    fakes.write_doc(outputs / "evaluate" / "synth_mot" / "t" / "sort", fakes.mot("sort", 0.5))
    entries, errors = gather_runs(["outputs/**/results.json"], tmp_path, _quiet)
    assert errors == []
    # finished runs contribute their final results.json only (the per-epoch copies are not other models)
    assert sorted((e.model, e.metrics["HOTA"]) for e in entries) == [
        ("outputs/finetrack/2026-01-01_00-00-00", 0.7),
        ("outputs/finetrack/2026-01-02_00-00-00", 0.6),
        ("outputs/finetrack/2026-01-03_00-00-00", 0.2),
        ("outputs/finetrack/2026-01-03_00-00-00", 0.3),
        ("sort", 0.5),
    ]
    board = build_board(load_board_config(None, base=tmp_path), log=_quiet)
    # the interrupted run's newest evaluation wins, and the board says which one it dropped
    by_model = {e.model: e for e in board.entries}
    assert (
        len(board.entries) == 4 and by_model["outputs/finetrack/2026-01-03_00-00-00"].metrics["HOTA"] == 0.3
    )
    assert [d.entry.source for d in board.dropped] == [
        "outputs/finetrack/2026-01-03_00-00-00/results/epoch_000/results.json"
    ]


def test_a_phased_run_is_one_row(tmp_path: Path):
    # zoo.train's phases: <run>/<phase>/ each a run directory; the last one's results are copied to <run>/
    run = tmp_path / "outputs" / "sftrack" / "t"
    doc = fakes.sot("sftrack", 0.5)
    for phase in ("feat2seg", "seg2box"):
        (run / phase / "checkpoints").mkdir(parents=True)
        (run / phase / "config.yaml").write_text("method: sftrack\n")
        (run / phase / "phase_done.json").write_text('{"done": true}\n')
    fakes.write_doc(run / "seg2box", doc)
    (run / "checkpoints").mkdir()
    (run / "config.yaml").write_text("method: sftrack\n")
    entries, _ = gather_runs(["outputs/**/results.json"], tmp_path, _quiet)
    assert [e.model for e in entries] == ["outputs/sftrack/t/seg2box"]  # the phase alone: its run's row
    fakes.write_doc(run, doc)
    entries, _ = gather_runs(["outputs/**/results.json"], tmp_path, _quiet)
    assert [e.model for e in entries] == ["outputs/sftrack/t"]


def test_glob_of_a_folder_and_an_export_folder(tmp_path: Path):
    export = tmp_path / "export"
    (export / "results").mkdir(parents=True)
    (export / "config.json").write_text("{}")
    fakes.write_doc(export / "results", fakes.vos("dmp", 0.6))
    fakes.write_doc(
        export / "results", fakes.vos("dmp", 0.4, benchmark="davis17"), "results_davis17_val.json"
    )
    entries, errors = gather_runs([str(export)], tmp_path, _quiet)
    assert errors == [] and sorted(e.benchmark for e in entries) == ["davis17", "synth_vos"]
    assert {e.model for e in entries} == {"export"}


def test_invalid_files_are_errors_not_fatal(tmp_path: Path):
    fakes.write_doc(tmp_path / "good", fakes.sot("csrt", 0.5))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{not json")
    fakes.write_doc(tmp_path / "pct", fakes.results_doc("mot", "synth_mot", "sort", {"HOTA": 75.0}))
    messages = []
    entries, errors = gather_runs(["*/results.json", "nothing/**/results.json"], tmp_path, messages.append)
    assert [e.method for e in entries] == ["csrt"]
    assert {e.source for e in errors} == {"bad/results.json", "pct/results.json"}
    assert any("not valid JSON" in e.message for e in errors) and any(
        "not a fraction" in e.message for e in errors
    )
    assert messages == ["runs: nothing/**/results.json matched no results.json"]


def test_config_file(tmp_path: Path):
    path = tmp_path / "leaderboard.yaml"
    path.write_text(
        "out: board\nruns: [runs/**/results.json]\nhub: [org/a@v1]\n"
        "evaluate:\n  - {model: all, data: synth_mot}\n"
        "  - {model: sort, data: mot17, overrides: [data.root=/x]}\n"
        "train:\n  - {recipe: finetrack, overrides: [trainer.max_epochs=1]}\n"
    )
    cfg = load_board_config(path)
    assert cfg.out == tmp_path / "board" and cfg.work_dir == tmp_path / "outputs" / "leaderboard"
    assert cfg.runs == ["runs/**/results.json"] and cfg.hub == ["org/a@v1"]
    assert cfg.evaluate[1] == EvalSpec("sort", "mot17", None, ("data.root=/x",))
    assert cfg.train[0].recipe == "finetrack" and cfg.train[0].overrides == ("trainer.max_epochs=1",)
    path.write_text("runz: []\n")
    with pytest.raises(ValueError, match="unknown key 'runz'"):
        load_board_config(path)
    path.write_text("evaluate:\n  - {model: sort}\n")
    with pytest.raises(ValueError, match=r"evaluate\[0\]: missing 'data'"):
        load_board_config(path)


def test_failing_evaluation_is_reported_and_the_board_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A failing evaluate: entry is one error; the others and the gathered runs still make the board (the real
    evaluation path is exercised in test_evaluate_path.py)."""
    from zoo.leaderboard import board as board_module

    good = fakes.write_doc(
        tmp_path / "work" / "synth_sot" / "kcf", fakes.sot("kcf", 0.4, created="2026-03-01T00:00:00")
    )
    calls = []

    def fake_run(spec, work_dir, progress=False):
        calls.append((spec.model, spec.data, work_dir))
        if spec.model == "no_such_tracker":
            raise LookupError("unknown model 'no_such_tracker'")
        return [good]

    monkeypatch.setattr(board_module, "run_evaluation", fake_run)
    fakes.write_doc(tmp_path / "outputs" / "a", fakes.mot("sort", 0.5))
    doc = {
        "work_dir": "work",
        "evaluate": [
            {"model": "no_such_tracker", "data": "synth_mot"},
            {"model": "kcf", "data": "synth_sot"},
        ],
    }
    cfg = load_board_config(None, base=tmp_path, doc=doc)
    board = build_board(cfg, evaluate=True, log=_quiet)
    assert calls == [
        ("no_such_tracker", "synth_mot", tmp_path / "work"),
        ("kcf", "synth_sot", tmp_path / "work"),
    ]
    # the evaluated file is also under work_dir (gathered by its glob): one row, origin "evaluate"
    assert sorted((e.method, e.origin) for e in board.entries) == [("kcf", "evaluate"), ("sort", "run")]
    assert board.dropped == []
    assert [(e.source, e.message) for e in board.errors] == [
        ("evaluate:no_such_tracker@synth_mot", "LookupError: unknown model 'no_such_tracker'")
    ]
    calls.clear()
    assert len(build_board(cfg, evaluate=False, log=_quiet).errors) == 0 and calls == []  # only on request


# ------------------------------------------------------------------------------------------------- Hub
def _publish(tmp_path: Path, repo_id: str, docs: dict[str, dict], tag: str | None = None) -> str:
    """Upload a zoo.publish-style export folder (config.json, README.md, results/) through zoo.publish."""
    from zoo.publish import upload

    folder = tmp_path / f"export-{repo_id.replace('/', '_')}-{tag}"
    (folder / "results").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"format": "zoo-tracker"}))
    (folder / "README.md").write_text("# test export\n")
    for name, doc in docs.items():
        fakes.write_doc(folder / "results", doc, name)
    return upload(folder, repo_id, tag=tag).commit


def test_parse_hub_entry():
    assert parse_hub_entry("org/name") == ("org/name", None)
    assert parse_hub_entry("hf-hub:org/name@v1") == ("org/name", "v1")
    with pytest.raises(ValueError, match="namespace"):
        parse_hub_entry("name")
    with pytest.raises(ValueError, match="not a valid Hub repo id"):
        parse_hub_entry("org/na me")


def test_gather_from_the_hub_pins_commits(hub, tmp_path: Path):
    docs = {
        "results.json": fakes.mot("finetrack", 0.70, model_id="org/ft", revision="v1"),
        "results_mot17_train.json": fakes.mot(
            "finetrack", 0.50, benchmark="mot17", model_id="org/ft", split="train"
        ),
    }
    v1 = _publish(tmp_path, "org/ft", docs, tag="v1")
    docs2 = {
        "results.json": fakes.mot("finetrack", 0.75, model_id="org/ft", created="2026-02-01T00:00:00+00:00")
    }
    v2 = _publish(tmp_path, "org/ft", docs2, tag="v2")
    entries, errors = gather_hub(["org/ft@v1", "hf-hub:org/ft@v2", "org/ft"], _quiet)
    assert errors == []
    got = sorted((str(e.ref), e.revision, e.benchmark, e.metrics["HOTA"]) for e in entries)
    assert got == sorted(
        [
            ("v1", v1, "synth_mot", 0.70),
            ("v1", v1, "mot17", 0.50),
            ("v2", v2, "synth_mot", 0.75),
            ("None", v2, "synth_mot", 0.75),
        ]
    )
    assert all(e.model == "org/ft" and e.origin == "hub" for e in entries)
    kept, dropped = dedupe(entries)
    assert len(kept) == 3 and len(dropped) == 1  # main and v2 are the same commit: one row
    assert dropped[0].entry.revision == v2


def test_hub_failures_are_per_entry(hub, tmp_path: Path):
    _publish(tmp_path, "org/ok", {"results.json": fakes.sot("sftrack", 0.6, model_id="org/ok")})
    from zoo.publish import upload

    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text("{}")
    (bare / "README.md").write_text("# no results\n")
    upload(bare, "org/bare")
    entries, errors = gather_hub(["org/ok", "org/missing", "org/ok@nope", "org/bare", "bad id"], _quiet)
    assert [e.model for e in entries] == ["org/ok"]
    reasons = {e.source: e.message for e in errors}
    assert "no such repo" in reasons["hf-hub:org/missing"]
    assert "revision 'nope' does not exist" in reasons["hf-hub:org/ok@nope"]
    assert "no results/results*.json" in reasons["hf-hub:org/bare"]
    assert "not a valid Hub repo id" in reasons["bad id"]


def test_offline_uses_the_cache_and_reports_uncached(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from huggingface_hub import constants

    commit = _publish(
        tmp_path, "org/cached", {"results.json": fakes.vos("dmp", 0.61, model_id="org/cached")}, tag="v1"
    )
    _publish(tmp_path, "org/uncached", {"results.json": fakes.vos("dmp", 0.5, model_id="org/uncached")})
    online, errors = gather_hub(["org/cached@v1"], _quiet)
    assert errors == [] and online[0].revision == commit
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    hub.stop()  # nothing can be fetched any more: the cache alone must serve
    try:
        entries, errors = gather_hub(["org/cached@v1", "org/uncached"], _quiet)
    finally:
        hub.start()
    assert [(e.model, e.revision, e.metrics["J&F-Mean"]) for e in entries] == [("org/cached", commit, 0.61)]
    assert len(errors) == 1 and errors[0].source == "hf-hub:org/uncached"
    assert "HF_HUB_OFFLINE=1" in errors[0].message and "not in the Hub cache" in errors[0].message


def test_unreachable_hub_falls_back_to_the_cache(hub, tmp_path: Path):
    import time

    commit = _publish(
        tmp_path, "org/down", {"results.json": fakes.sot("sftrack", 0.4, model_id="org/down")}, tag="v1"
    )
    assert gather_hub(["org/down@v1"], _quiet)[1] == []
    hub.stop()  # online, but the Hub is gone
    try:
        start = time.perf_counter()
        entries, errors = gather_hub(["org/down@v1", "org/never-fetched"], _quiet)
        seconds = time.perf_counter() - start
    finally:
        hub.start()
    assert [(e.model, e.revision) for e in entries] == [("org/down", commit)]
    assert [e.source for e in errors] == ["hf-hub:org/never-fetched"]
    assert "cannot reach" in errors[0].message and "not cached" in errors[0].message
    assert seconds < 20, f"an unreachable Hub took {seconds:.1f} s (retries?)"


def test_train_entries_run_zoo_train_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """train: recipes run `python -m zoo.train` under work_dir/train (a fake trainer here: the command line
    and the skip/retrain/failure logic are what is tested); the run's results.json joins the board."""
    import subprocess

    from zoo.leaderboard import sources

    commands = []

    def fake_train(cmd, **kwargs):
        commands.append(cmd)
        args = dict(a.split("=", 1) for a in cmd[3:])
        if args["recipe"] == "broken":
            return subprocess.CompletedProcess(
                cmd, 1, stdout="", stderr="Traceback...\nValueError: bad recipe"
            )
        run = Path(args["output_root"]) / args["recipe"] / f"2026-01-0{len(commands)}_00-00-00"
        (run / "checkpoints").mkdir(parents=True)
        (run / "config.yaml").write_text(f"recipe: {args['recipe']}\n")
        fakes.write_doc(
            run,
            fakes.mot(
                args["recipe"],
                0.3 + 0.1 * len(commands),
                params=99,
                created=f"2026-01-0{len(commands)}T00:00:00+00:00",
            ),
        )
        return subprocess.CompletedProcess(cmd, 0, stdout="done", stderr="")

    monkeypatch.setattr(sources.subprocess, "run", fake_train)
    doc = {
        "runs": [],
        "train": [{"recipe": "finetrack", "overrides": ["trainer.max_epochs=1"]}, {"recipe": "broken"}],
    }
    cfg = load_board_config(None, base=tmp_path, doc=doc)
    board = build_board(cfg, train=True, log=_quiet)
    assert commands[0][1:] == [
        "-m",
        "zoo.train",
        "recipe=finetrack",
        f"output_root={tmp_path / 'outputs' / 'leaderboard' / 'train'}",
        "progress=none",
        "trainer.max_epochs=1",
    ]
    assert [(e.model, e.metrics["HOTA"]) for e in board.entries] == [
        ("outputs/leaderboard/train/finetrack/2026-01-01_00-00-00", 0.4)
    ]
    assert [e.source for e in board.errors] == ["train:broken"] and "ValueError: bad recipe" in board.errors[
        0
    ].message
    # a finished run is not trained again (only "broken" is retried) ...
    board = build_board(cfg, train=True, log=_quiet)
    assert [c[3] for c in commands] == ["recipe=finetrack", "recipe=broken", "recipe=broken"]
    assert len(board.entries) == 1
    # ... unless retrain: a second run is a second model (its own run directory)
    board = build_board(cfg, train=True, retrain=True, log=_quiet)
    assert sorted(e.metrics["HOTA"] for e in board.entries) == [0.4, pytest.approx(0.7)]


def test_checkpoint_evaluations_are_labelled_by_their_run_and_settings(tmp_path: Path):
    run = _run_dir(tmp_path / "outputs" / "sushi", "2026-01-01_00-00-00", fakes.mot("sushi", 0.5))
    ckpt = str((run / "checkpoints" / "last.ckpt").resolve())
    evaluated = tmp_path / "outputs" / "evaluate" / "synth_mot"
    fakes.write_doc(evaluated / "a", {**fakes.mot("sushi", 0.9), "model_id": f"{ckpt} [tracker: oracle=True]"})
    fakes.write_doc(evaluated / "b", {**fakes.mot("sushi", 0.4), "model_id": "/elsewhere/x.ckpt"})
    entries, errors = gather_runs(["outputs/**/results.json"], tmp_path, _quiet)
    assert errors == []
    assert sorted((e.model, e.metrics["HOTA"]) for e in entries) == [
        ("/elsewhere/x.ckpt", 0.4),  # outside the board's folder: kept as given
        ("outputs/sushi/2026-01-01_00-00-00", 0.5),
        ("outputs/sushi/2026-01-01_00-00-00 [tracker: oracle=True]", 0.9),  # its own row, not the run's
    ]

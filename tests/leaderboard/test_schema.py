"""Normalisation of results.json documents into leaderboard rows, main metrics, sorting and dedup."""

from __future__ import annotations

import copy

import pytest

from zoo.leaderboard.schema import (
    columns,
    dedupe,
    format_metric,
    format_params,
    group_entries,
    main_metric,
    normalise,
    sort_entries,
)

from . import fakes


def _entry(doc, source="x/results.json", **kw):
    return normalise(doc, source=source, origin="run", **kw)


def test_normalise_keeps_each_tasks_main_metrics_only():
    mot = _entry(fakes.mot("bytetrack", 0.6))
    assert set(mot.metrics) == {"HOTA", "AssA", "DetA", "IDF1", "MOTA", "IDSW"}  # LocA is not a main metric
    assert mot.metrics["HOTA"] == 0.6 and mot.metrics["IDSW"] == 40 and isinstance(mot.metrics["IDSW"], int)
    vos = _entry(fakes.vos("copy_first", 0.5))
    assert set(vos.metrics) == {"J&F-Mean", "J-Mean", "F-Mean"}  # J-Recall dropped
    sot = _entry(fakes.sot("csrt", 0.5))
    assert set(sot.metrics) == {"AO", "SR0.5", "success_auc", "precision_20"}  # SR0.75 dropped
    kp = _entry(fakes.results_doc("vos", "jhmdb", "flow_warp", {"PCK@0.1": 0.3, "PCK@0.2": 0.5}))
    assert kp.metrics == {"PCK@0.1": 0.3, "PCK@0.2": 0.5}


def test_schema_is_the_same_for_every_task():
    rows = [
        _entry(d).to_json()
        for d in (fakes.mot("sort", 0.5), fakes.vos("copy_first", 0.5), fakes.sot("kcf", 0.4))
    ]
    keys = {frozenset(r) for r in rows}
    assert len(keys) == 1
    assert {
        "method",
        "model",
        "revision",
        "model_ref",
        "task",
        "benchmark",
        "split",
        "evaluator",
        "metrics",
        "fps",
        "params",
        "hardware",
        "date",
    } <= set(rows[0])
    assert (
        rows[0]["evaluator"]["name"] == "TrackEval"
        and rows[0]["evaluator"]["conventions"]["detections"] == "public"
    )
    assert rows[0]["hardware_summary"] == "CPU: Intel Xeon Platinum 8375C (2 threads)"


def test_identity_model_id_revision_and_baseline_fallback():
    hub = _entry(fakes.mot("finetrack", 0.7, model_id="org/ft", revision="v1"))
    assert (hub.model, hub.revision, hub.model_ref) == ("org/ft", "v1", "org/ft@v1")
    baseline = _entry(fakes.mot("sort", 0.5))
    assert (baseline.model, baseline.revision, baseline.model_ref) == ("sort", None, "sort")
    sha = "0123456789abcdef0123456789abcdef01234567"
    pinned = _entry(fakes.mot("finetrack", 0.7), model="org/ft", revision=sha)
    assert pinned.model_ref == "org/ft@0123456"
    named = _entry(fakes.mot("finetrack", 0.7), model="org/ft", revision=sha, ref="v2")
    assert named.model_ref == "org/ft@v2" and named.key[1] == sha


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"HOTA": 75.2}, "not a fraction"),
        ({"HOTA": "high"}, "not a number"),
        ({"HOTA": 0.5, "IDSW": 3.5}, "is a count"),
        ({"HOTA": -0.1}, "not a fraction"),
        ({"LocA": 0.5}, "none of the mot main metrics"),
        ({}, "unscored"),
    ],
)
def test_invalid_metrics_are_named(metrics, message):
    doc = fakes.results_doc("mot", "synth_mot", "sort", metrics)
    with pytest.raises(ValueError, match=message) as info:
        _entry(doc, source="runs/a/results.json")
    assert "runs/a/results.json" in str(info.value)


def test_negative_mota_is_valid_and_nan_is_missing():
    entry = _entry(fakes.results_doc("mot", "mot17", "sort", {"HOTA": 0.2, "MOTA": -0.35, "IDF1": None}))
    assert entry.metrics == {"HOTA": 0.2, "MOTA": -0.35}


def test_bad_task_and_missing_benchmark():
    with pytest.raises(ValueError, match="task 'pose'"):
        _entry(fakes.results_doc("mot", "synth_mot", "sort", {"HOTA": 0.5}) | {"task": "pose"})
    with pytest.raises(ValueError, match="no benchmark"):
        _entry(fakes.results_doc("mot", "synth_mot", "sort", {"HOTA": 0.5}) | {"benchmark": None})


def test_dedup_newest_wins_and_reports_the_dropped():
    old = _entry(fakes.mot("sort", 0.5, created="2026-01-01T10:00:00+00:00"), source="a/results.json")
    new = _entry(fakes.mot("sort", 0.4, created="2026-01-02T10:00:00+00:00"), source="b/results.json")
    other_split = _entry(fakes.mot("sort", 0.3, split="test", created="2025-01-01T00:00:00+00:00"))
    other_rev = _entry(fakes.mot("sort", 0.3, revision="v2"))
    kept, dropped = dedupe([new, old, other_split, other_rev])
    assert kept == [new, other_split, other_rev]
    assert [(d.entry, d.kept) for d in dropped] == [(old, new)]
    assert "kept the newest" in dropped[0].message() and "a/results.json" in dropped[0].message()
    kept, dropped = dedupe([old, new])  # order of discovery does not matter
    assert kept == [new] and dropped[0].entry is old


def test_other_detections_are_another_row():
    def evaluator(detections: str) -> dict:
        ev = copy.deepcopy(fakes.EVALUATORS["mot"])
        ev["conventions"] = {**ev.get("conventions", {}), "detections": detections}
        return ev

    public = fakes.mot("bytetrack", 0.5, created="2026-01-01T10:00:00+00:00", evaluator=evaluator("public"))
    oracle = fakes.mot("bytetrack", 0.8, created="2026-01-02T10:00:00+00:00", evaluator=evaluator("gt"))
    kept, dropped = dedupe([_entry(public), _entry(oracle), _entry(fakes.mot("bytetrack", 0.4))])
    assert [e.model for e in kept] == ["bytetrack", "bytetrack [detections: gt]"] and len(dropped) == 1
    assert kept[0].metrics["HOTA"] == 0.5  # the newer gt-detection score did not replace the public one


def test_dedup_same_time_prefers_the_run_level_file():
    epoch = _entry(fakes.mot("finetrack", 0.5), source="outputs/ft/run/results/epoch_002/results.json")
    final = _entry(fakes.mot("finetrack", 0.5), source="outputs/ft/run/results.json")
    kept, _ = dedupe([final, epoch])
    assert kept == [final]
    kept, _ = dedupe([epoch, final])
    assert kept == [final]


def test_main_metric_and_columns_per_benchmark():
    got = [_entry(fakes.sot("csrt", 0.5))]
    otb = [_entry(fakes.results_doc("sot", "otb", "kcf", {"success_auc": 0.4, "precision_20": 0.5}))]
    assert main_metric("sot", got) == "AO"
    assert [c.key for c in columns("sot", got)] == ["AO", "success_auc", "precision_20", "SR0.5"]
    assert main_metric("sot", otb) == "success_auc"
    assert [c.key for c in columns("sot", otb)] == ["success_auc", "precision_20"]
    kp = [_entry(fakes.results_doc("vos", "jhmdb", "flow_warp", {"PCK@0.1": 0.3, "PCK@0.2": 0.5}))]
    assert main_metric("vos", kp) == "PCK@0.1"
    assert main_metric("mot", [_entry(fakes.mot("sort", 0.5))]) == "HOTA"


def test_sorting_best_first_missing_last_and_groups_ordered():
    a = _entry(fakes.results_doc("mot", "mot17", "a", {"HOTA": 0.40, "MOTA": -0.1}))
    b = _entry(fakes.results_doc("mot", "mot17", "b", {"HOTA": 0.55}))
    c = _entry(fakes.results_doc("mot", "mot17", "c", {"MOTA": 0.9}))  # no HOTA: last
    assert [e.method for e in sort_entries("mot", [a, c, b])] == ["b", "a", "c"]
    groups = group_entries([_entry(fakes.sot("kcf", 0.3)), a, _entry(fakes.vos("copy_first", 0.5)), b, c])
    assert list(groups) == [("mot", "mot17"), ("vos", "synth_vos"), ("sot", "synth_sot")]


def test_formatting():
    hota, idsw = (
        columns("mot", [_entry(fakes.mot("sort", 0.5))])[0],
        columns("mot", [_entry(fakes.mot("s", 0.5))])[-1],
    )
    assert format_metric(hota, 0.75272) == "75.27" and format_metric(hota, None) == "-"
    assert idsw.key == "IDSW" and format_metric(idsw, 12) == "12"
    assert [format_params(n) for n in (None, 0, 950, 12_345, 3_210_000)] == [
        "-",
        "0",
        "950",
        "12.3K",
        "3.21M",
    ]

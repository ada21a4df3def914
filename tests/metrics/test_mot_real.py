"""zoo.metrics.mot on real data: MOT17 train with one real tracker, and the TUD files shipped in motmetrics.

References: TrackEval's own output for the MOT17 tracker (``pedestrian_detailed.csv``: every per-sequence
and the combined value unrounded; ``pedestrian_summary.txt``: the combined row as TrackEval prints it),
TrackEval run live on a subset (and, marked slow, on all 21 sequences), and the TUD values recorded in
``shared/design/metrics.md``.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

from zoo.data.formats.motchallenge import (
    read_mot_file,
    read_seqinfo,
    read_seqmap,
    write_seqinfo,
    write_seqmap,
)
from zoo.data.types import SeqInfo
from zoo.metrics.mot import (
    ALPHAS,
    MOTEvalData,
    evaluate_sequences,
    preprocess_mot_challenge,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"
TOL = 1e-9
INT_FIELDS = {
    "CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames",
    "IDTP", "IDFN", "IDFP", "Dets", "GT_Dets", "IDs", "GT_IDs",
}  # fmt: skip
ALPHA_LABELS = [int(100 * a) for a in ALPHAS]  # TrackEval's column suffixes: 5, 10, ..., 95

needs_data = pytest.mark.skipif(not (DATA / "seqmaps" / "MOT17-train.txt").is_file(), reason="no MOT17 data")


def load_mot17(names: list[str] | None = None) -> dict:
    names = names or read_seqmap(DATA / "seqmaps" / "MOT17-train.txt")
    seqs = {}
    for name in names:
        info = read_seqinfo(DATA / "gt" / "MOT17-train" / name / "seqinfo.ini")
        gt = read_mot_file(DATA / "gt" / "MOT17-train" / name / "gt" / "gt.txt", "gt", info)
        tr = read_mot_file(DATA / "tracker" / "data" / f"{name}.txt", "results", info)
        seqs[name] = (gt, tr, info.seq_length)
    return seqs


@pytest.fixture(scope="module")
def mot17() -> tuple[dict, dict]:
    seqs = load_mot17()
    return seqs, evaluate_sequences(seqs, benchmark="MOT17")


def ours_value(row: dict, column: str):
    """Our value for a TrackEval detailed-csv column (``HOTA___50``, ``HOTA___AUC``, ``RHOTA``...)."""
    name, _, suffix = column.partition("___")
    name = "OWTA" if name == "RHOTA" else name  # TrackEval < 1.3 called OWTA "RHOTA"
    if not suffix:
        return row[name]
    arr = row[name + "_alpha"]
    return float(np.mean(arr)) if suffix == "AUC" else arr[ALPHA_LABELS.index(int(suffix))]


def row_mismatches(ours: dict, ref: dict[str, str]) -> list[str]:
    bad = []
    for column, text in ref.items():
        if column == "seq":
            continue
        mine, val = ours_value(ours, column), float(text)
        if column in INT_FIELDS:
            if not (isinstance(mine, int) and mine == val):
                bad.append(f"{column}: {mine!r} != {text}")
        elif column.split("___")[0] in ("HOTA_TP", "HOTA_FN", "HOTA_FP") and not column.endswith("AUC"):
            if not (isinstance(mine, np.integer) and mine == val):
                bad.append(f"{column}: {mine!r} != {text}")
        elif not abs(float(mine) - val) <= TOL:
            bad.append(f"{column}: {mine!r} != {text}")
    return bad


@needs_data
def test_every_sequence_and_the_combined_row_equal_trackevals_detailed_csv(mot17):
    _, ours = mot17
    with open(DATA / "tracker" / "pedestrian_detailed.csv") as fh:
        ref = {r["seq"]: r for r in csv.DictReader(fh)}
    assert set(ref) == set(ours)  # 21 sequences + COMBINED
    bad = {seq: row_mismatches(ours[seq], r) for seq, r in ref.items()}
    assert {k: v for k, v in bad.items() if v} == {}


@needs_data
def test_combined_row_equals_pedestrian_summary_as_printed(mot17):
    _, ours = mot17
    header, values = (DATA / "tracker" / "pedestrian_summary.txt").read_text().split("\n")[:2]
    comb = ours["COMBINED"]
    printed = []
    for column in header.split():
        v = ours_value(comb, column)
        printed.append(str(v) if column in INT_FIELDS else f"{100 * v:1.5g}")
    assert printed == values.split()
    # the headline numbers of the README
    assert (round(100 * comb["HOTA"], 3), round(100 * comb["MOTA"], 2), round(100 * comb["IDF1"], 3)) == (
        75.272, 90.32, 81.859,
    )  # fmt: skip
    assert (comb["IDSW"], comb["Frag"], comb["MT"], comb["ML"]) == (1605, 1716, 1299, 69)


def run_trackeval(gt_folder: Path, trackers_folder: Path, seqmap: Path, out: Path, benchmark: str) -> dict:
    import trackeval

    cfg = {
        "GT_FOLDER": str(gt_folder), "TRACKERS_FOLDER": str(trackers_folder), "OUTPUT_FOLDER": str(out),
        "TRACKERS_TO_EVAL": ["tracker"], "SKIP_SPLIT_FOL": True, "SEQMAP_FILE": str(seqmap),
        "BENCHMARK": benchmark, "PRINT_CONFIG": False,
    }  # fmt: skip
    ecfg = {
        "USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
        "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None,
    }  # fmt: skip
    m = trackeval.metrics
    metrics = [m.HOTA(), m.CLEAR({"PRINT_CONFIG": False}), m.Identity({"PRINT_CONFIG": False})]
    with contextlib.redirect_stdout(io.StringIO()):
        res, _ = trackeval.Evaluator(ecfg).evaluate([trackeval.datasets.MotChallenge2DBox(cfg)], metrics)
    return {k: v["pedestrian"] for k, v in res["MotChallenge2DBox"]["tracker"].items()}


def trackeval_mismatches(ours: dict, te: dict) -> list[str]:
    """TrackEval's unrounded per-metric dicts against our flat dict."""
    bad = []
    for metric, res in te.items():
        for field, val in res.items():
            if field == "Frames":
                continue
            if metric == "HOTA" and np.ndim(val) == 1:
                mine = ours[field + "_alpha"]
                tol = 0 if field in ("HOTA_TP", "HOTA_FN", "HOTA_FP") else TOL
                if not np.all(np.abs(mine - val) <= tol):
                    bad.append(f"{field}: {mine} != {val}")
            elif field in INT_FIELDS:
                if ours[field] != val:
                    bad.append(f"{field}: {ours[field]} != {val}")
            elif not abs(ours[field] - val) <= TOL:
                bad.append(f"{field}: {ours[field]!r} != {val!r}")
    return bad


LIVE_SUBSET = ["MOT17-09-DPM", "MOT17-05-SDP", "MOT17-13-FRCNN"]


@needs_data
@pytest.mark.parametrize("names", [LIVE_SUBSET], ids=["subset"])
def test_live_trackeval_on_a_subset_unrounded(tmp_path, names):
    pytest.importorskip("trackeval")
    write_seqmap(tmp_path / "seqmap.txt", names)
    te = run_trackeval(DATA / "gt" / "MOT17-train", DATA, tmp_path / "seqmap.txt", tmp_path / "out", "MOT17")
    ours = evaluate_sequences(load_mot17(names), benchmark="MOT17")
    bad = {k: trackeval_mismatches(ours["COMBINED" if k == "COMBINED_SEQ" else k], v) for k, v in te.items()}
    assert {k: v for k, v in bad.items() if v} == {} and len(te) == len(names) + 1


@needs_data
@pytest.mark.slow
def test_live_trackeval_on_all_21_sequences_unrounded(tmp_path, mot17):
    pytest.importorskip("trackeval")
    _, ours = mot17
    te = run_trackeval(
        DATA / "gt" / "MOT17-train", DATA, DATA / "seqmaps" / "MOT17-train.txt", tmp_path, "MOT17"
    )
    bad = {k: trackeval_mismatches(ours["COMBINED" if k == "COMBINED_SEQ" else k], v) for k, v in te.items()}
    assert {k: v for k, v in bad.items() if v} == {} and len(te) == 22


@needs_data
def test_real_marginals_bit_identical_to_dense_numpy(mot17):
    seqs, _ = mot17
    fast = preprocess_mot_challenge(*seqs["MOT17-09-DPM"], "MOT17")
    slow = MOTEvalData.from_per_frame(*fast.per_frame())
    for name in ("pair_gt", "pair_tr", "pair_sim", "gt_sim_sum", "tr_sim_sum"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


# ------------------------------------------------------------------------------------------- TUD (motmetrics)
def tud_dir() -> Path | None:
    spec = importlib.util.find_spec("motmetrics")  # locates the package without importing it
    if spec is None or spec.origin is None:
        return None
    d = Path(spec.origin).parent / "data"
    return d if (d / "TUD-Campus" / "gt.txt").is_file() else None


TUD = ("TUD-Campus", "TUD-Stadtmitte")


@pytest.fixture(scope="module")
def tud() -> dict:
    root = tud_dir()
    if root is None:
        pytest.skip("motmetrics data files not installed")
    seqs = {}
    for name in TUD:
        gt = read_mot_file(root / name / "gt.txt", "gt")
        tr = read_mot_file(root / name / "test.txt", "results")
        seqs[name] = (gt, tr, int(max(gt.frames.max(), tr.frames.max())))
    return seqs


def test_tud_values_recorded_in_metrics_md(tud):
    r = evaluate_sequences(tud, benchmark="MOT15")
    got = [r["TUD-Campus"]["MOTA"], r["TUD-Stadtmitte"]["MOTA"], r["TUD-Campus"]["IDF1"], r["TUD-Stadtmitte"]["IDF1"],
           r["TUD-Campus"]["HOTA"], r["TUD-Stadtmitte"]["HOTA"], r["COMBINED"]["HOTA"]]  # fmt: skip
    want = [0.526462, 0.564014, 0.557659, 0.644619, 0.391397, 0.397849, 0.399957]
    assert np.allclose(got, want, rtol=0, atol=5e-7)


def test_tud_live_trackeval_unrounded(tud, tmp_path):
    pytest.importorskip("trackeval")
    root = tud_dir()
    for name, (_, _, n) in tud.items():
        seq = tmp_path / "gt" / name
        write_seqinfo(seq / "seqinfo.ini", SeqInfo(name, "img1", 25.0, n, 640, 480, ".jpg"))
        (seq / "gt").mkdir(parents=True, exist_ok=True)
        (seq / "gt" / "gt.txt").write_bytes((root / name / "gt.txt").read_bytes())
        out = tmp_path / "trackers" / "tracker" / "data"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.txt").write_bytes((root / name / "test.txt").read_bytes())
    write_seqmap(tmp_path / "seqmap.txt", list(TUD))
    te = run_trackeval(
        tmp_path / "gt", tmp_path / "trackers", tmp_path / "seqmap.txt", tmp_path / "o", "MOT15"
    )
    ours = evaluate_sequences(tud, benchmark="MOT15")
    bad = {k: trackeval_mismatches(ours["COMBINED" if k == "COMBINED_SEQ" else k], v) for k, v in te.items()}
    assert {k: v for k, v in bad.items() if v} == {} and len(te) == 3

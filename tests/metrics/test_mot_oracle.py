"""zoo.metrics.mot against TrackEval 1.3.0 (the oracle) on synthetic sequences, plus hand-computed cases.

Three independent routes to the oracle:
- metrics only: our preprocessed sequence handed to TrackEval's ``HOTA/CLEAR/Identity/Count.eval_sequence``;
- tie-heavy similarity matrices (values from a small set, thresholds hit exactly) through both;
- end to end: sequences written as MOTChallenge files and evaluated by ``trackeval.Evaluator`` with
  ``MotChallenge2DBox`` (parsing, preprocessing, per-sequence and combined rows) for MOT17, MOT20, MOT15
  and a preprocessing-free benchmark (DanceTrack).
Every float field must agree within 1e-9 and every integer exactly.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

from tests.metrics.mot_synthetic import synthetic_sequence, tie_heavy_frames
from zoo.data.types import MOTRows, SeqInfo
from zoo.metrics._mot_pairs import pair_iou
from zoo.metrics.mot import (
    ALPHAS,
    MOTEvalData,
    combine,
    evaluate_data,
    evaluate_sequence,
    evaluate_sequences,
    format_table,
    preprocess_mot_challenge,
    sequence_results,
    sequence_stats,
)

trackeval = pytest.importorskip("trackeval")

SEEDS = range(60)
INT_FIELDS = {
    "CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames",
    "IDTP", "IDFN", "IDFP", "Dets", "GT_Dets", "IDs", "GT_IDs",
}  # fmt: skip
TOL = 1e-9


def _quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def te_metrics(count: bool = True):
    """TrackEval's metric objects (``Evaluator`` adds Count itself)."""
    m = trackeval.metrics
    cfg = {"PRINT_CONFIG": False}
    return [m.HOTA(), m.CLEAR(cfg), m.Identity(cfg)] + ([m.Count()] if count else [])


def te_eval_data(gts, trs, sims) -> dict:
    """TrackEval's metrics on per-frame lists (contiguous ids)."""
    n_g = int(max((g.max() + 1 for g in gts if g.size), default=0))
    n_k = int(max((k.max() + 1 for k in trs if k.size), default=0))
    data = {
        "num_timesteps": len(gts), "num_gt_ids": n_g, "num_tracker_ids": n_k,
        "gt_ids": gts, "tracker_ids": trs, "similarity_scores": sims,
        "num_gt_dets": sum(g.size for g in gts), "num_tracker_dets": sum(k.size for k in trs), "seq": "s",
    }  # fmt: skip
    return {m.get_name(): m.eval_sequence(data) for m in te_metrics()}


def mismatches(ours: dict, te: dict, tol: float = TOL) -> list[str]:
    """Every TrackEval field against ours: floats within ``tol``, integers exactly."""
    bad = []
    for metric, res in te.items():
        for field, val in res.items():
            if field == "Frames":  # Count's per-sequence extra, not a reported field
                continue
            if metric == "HOTA" and np.ndim(val) == 1:
                mine = np.asarray(ours[field + "_alpha"])
                if field.startswith("HOTA_"):
                    if not np.array_equal(mine, np.asarray(val).astype(np.int64)) or mine.dtype != np.int64:
                        bad.append(f"{field}: {mine} != {val}")
                    continue
                if not np.all(np.abs(mine - val) <= tol):
                    bad.append(f"{field}_alpha: max diff {np.max(np.abs(mine - val))}")
                if abs(ours[field] - float(np.mean(val))) > tol:
                    bad.append(f"{field}: {ours[field]} != {np.mean(val)}")
            elif field in INT_FIELDS:
                if not isinstance(ours[field], int) or ours[field] != int(val) or int(val) != val:
                    bad.append(f"{field}: {ours[field]!r} != {val!r}")
            elif not abs(float(ours[field]) - float(val)) <= tol:
                bad.append(f"{field}: {ours[field]!r} != {val!r}")
    return bad


def test_synthetic_sequences_cover_the_hard_cases():
    """The oracle comparisons below are only as strong as their inputs: check the generator delivers."""
    from zoo.metrics._mot_assign import busy_frames

    seen = dict.fromkeys(["crowded", "gap", "no_gt_frame", "no_tr_frame", "id_reuse", "distractor", "tie"], 0)
    for seed in SEEDS:
        gt, tr, n = synthetic_sequence(seed)
        d = preprocess_mot_challenge(gt, tr, n, "MOT17")
        seen["crowded"] += bool(busy_frames(d, d.pair_sim >= 0.5).any())
        per_id = {i: np.sort(gt.frames[gt.ids == i]) for i in np.unique(gt.ids)}
        seen["gap"] += any(np.any(np.diff(f) > 1) for f in per_id.values())
        gf, kf = set(gt.frames.tolist()), set(tr.frames.tolist())
        seen["no_gt_frame"] += bool(kf - gf)
        seen["no_tr_frame"] += bool(gf - kf)
        seen["distractor"] += bool(np.isin(gt.classes, (2, 7, 8, 12)).any())
        key = gt.frames * 10**9 + np.round(gt.boxes[:, 0] * 4).astype(np.int64)
        seen["tie"] += bool(np.unique(key).size < key.size)  # two gt rows on the same box in one frame
        # a tracker id that is matched (IoU >= 0.5) to two different gt ids over the sequence
        m = d.pair_sim >= 0.5
        pairs = set(zip(d.tr_ids[d.pair_tr[m]].tolist(), d.gt_ids[d.pair_gt[m]].tolist()))
        tr_ids = [t for t, _ in pairs]
        seen["id_reuse"] += len(tr_ids) > len(set(tr_ids))
    assert all(v >= 5 for v in seen.values()), seen


# ----------------------------------------------------------------------------------------- metrics only
@pytest.mark.parametrize("seed", SEEDS)
def test_metrics_equal_trackeval_on_synthetic_sequences(seed):
    gt, tr, n = synthetic_sequence(seed)
    data = preprocess_mot_challenge(gt, tr, n, "MOT17")
    ours = evaluate_data(data)
    te = te_eval_data(*data.per_frame())
    assert mismatches(ours, te) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_metrics_equal_trackeval_on_tie_heavy_similarities(seed):
    gts, trs, sims = tie_heavy_frames(seed)
    ours = evaluate_data(MOTEvalData.from_per_frame(gts, trs, sims))
    te = te_eval_data(gts, trs, sims)
    assert mismatches(ours, te) == []


@pytest.mark.parametrize("seed", range(0, 60, 3))
def test_fast_path_marginals_are_bit_identical_to_numpy(seed):
    """The sparse preprocessing reproduces numpy's dense per-frame row/column sums to the last bit."""
    gt, tr, n = synthetic_sequence(seed)
    fast = preprocess_mot_challenge(gt, tr, n, "MOT17")
    slow = MOTEvalData.from_per_frame(*fast.per_frame())
    for name in ("gt_ids", "tr_ids", "pair_gt", "pair_tr", "pair_sim", "gt_sim_sum", "tr_sim_sum"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name


def test_marginals_bit_identical_on_wide_frames():
    """Rows longer than 128 take numpy's recursive pairwise branch; columns of (G, 1) frames are pairwise."""
    rng = np.random.default_rng(3)
    gts, trs, sims = [], [], []
    for t, (g, k) in enumerate([(3, 300), (150, 1), (9, 1), (1, 9), (40, 130), (2, 2)]):
        sim = rng.random((g, k)) * (rng.random((g, k)) < 0.3)
        gts.append(np.arange(g))
        trs.append(np.arange(k) + 1000 * t)
        sims.append(sim)
    d = MOTEvalData.from_per_frame(gts, trs, sims)
    # rebuild through the sparse path: the marginals computed from (positions, values) only
    from zoo.metrics._mot_pairs import pairwise_row_sums

    row_len = np.diff(d.tr_offsets)[d.gt_frame]
    rows = pairwise_row_sums(d.pair_gt, d.pair_tr - d.tr_offsets[d.gt_frame[d.pair_gt]], d.pair_sim, row_len)
    assert np.array_equal(rows, d.gt_sim_sum)


def test_pair_iou_bit_identical_to_trackeval():
    rng = np.random.default_rng(0)
    xywh_a = np.round(rng.uniform(-5, 50, (40, 4)), 2)
    xywh_b = np.round(rng.uniform(-5, 50, (30, 4)), 2)
    xywh_a[:5, 2] = 0.0  # degenerate widths never match
    xywh_b[:3, 3] = -1.0
    ref = trackeval.datasets._base_dataset._BaseDataset._calculate_box_ious(xywh_a, xywh_b, box_format="xywh")
    a = np.repeat(xywh_a, len(xywh_b), 0)
    b = np.tile(xywh_b, (len(xywh_a), 1))
    to_xyxy = lambda x: np.c_[x[:, :2], x[:, :2] + x[:, 2:]]  # noqa: E731
    assert np.array_equal(pair_iou(to_xyxy(a), to_xyxy(b)).reshape(ref.shape), ref)


@pytest.mark.parametrize("chunk", [1, 7, 100])
def test_chunked_dense_matrices_and_sparse_accumulators_change_nothing(monkeypatch, chunk):
    import zoo.metrics._hota as hota_module
    import zoo.metrics._mot_assign as assign_module

    seqs = [synthetic_sequence(s) for s in range(8)]
    base = [evaluate_sequence(*s) for s in seqs]
    monkeypatch.setattr(assign_module, "_CHUNK", chunk)
    monkeypatch.setattr(hota_module, "_DENSE_LIMIT", 0)
    for s, b in zip(seqs, base):
        again = evaluate_sequence(*s)
        assert all(np.array_equal(again[k], v) for k, v in b.items())


# ------------------------------------------------------------------------------------ files end to end
def _write_sequences(root: Path, seeds) -> list[str]:
    from zoo.data.formats.motchallenge import write_mot_file, write_seqinfo, write_seqmap

    names = []
    for seed in seeds:
        gt, tr, n = synthetic_sequence(seed)
        name = f"SYN-{seed:04d}"
        seq = root / "gt" / name
        write_seqinfo(seq / "seqinfo.ini", SeqInfo(name, "img1", 30.0, n, 64, 64, ".jpg"))
        write_mot_file(seq / "gt" / "gt.txt", gt, "gt")
        write_mot_file(root / "trackers" / "tracker" / "data" / f"{name}.txt", tr, "results")
        names.append(name)
    write_seqmap(root / "seqmap.txt", names)
    return names


@pytest.fixture(scope="module")
def synthetic_files(tmp_path_factory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("mot_synth")
    return root, _write_sequences(root, SEEDS)


def _trackeval_files(root: Path, benchmark: str, do_preproc: bool) -> dict:
    cfg = {
        "GT_FOLDER": str(root / "gt"), "TRACKERS_FOLDER": str(root / "trackers"), "OUTPUT_FOLDER": str(root / "out"),
        "TRACKERS_TO_EVAL": ["tracker"], "SKIP_SPLIT_FOL": True, "SEQMAP_FILE": str(root / "seqmap.txt"),
        "BENCHMARK": benchmark, "DO_PREPROC": do_preproc, "PRINT_CONFIG": False,
    }  # fmt: skip
    ecfg = {
        "USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
        "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None,
    }  # fmt: skip
    ev = trackeval.Evaluator(ecfg)
    res, _ = _quiet(ev.evaluate, [trackeval.datasets.MotChallenge2DBox(cfg)], te_metrics(count=False))
    out = res["MotChallenge2DBox"]["tracker"]
    return {seq: r["pedestrian"] for seq, r in out.items()}


def _ours_files(root: Path, names: list[str], benchmark: str) -> dict:
    from zoo.data.formats.motchallenge import read_mot_file, read_seqinfo

    seqs = {}
    for name in names:
        info = read_seqinfo(root / "gt" / name / "seqinfo.ini")
        gt = read_mot_file(root / "gt" / name / "gt" / "gt.txt", "gt", info)
        tr = read_mot_file(root / "trackers" / "tracker" / "data" / f"{name}.txt", "results", info)
        seqs[name] = (gt, tr, info.seq_length)
    return evaluate_sequences(seqs, benchmark=benchmark)


@pytest.mark.parametrize(
    "benchmark, te_benchmark, do_preproc",
    [
        ("MOT17", "MOT17", True),
        ("MOT20", "MOT20", True),
        ("MOT15", "MOT15", True),
        ("DanceTrack", "MOT17", False),
    ],
)
def test_files_end_to_end_equal_trackeval(synthetic_files, benchmark, te_benchmark, do_preproc):
    root, names = synthetic_files
    te = _trackeval_files(root, te_benchmark, do_preproc)
    ours = _ours_files(root, names, benchmark)
    assert set(te) == set(names) | {"COMBINED_SEQ"}
    bad = {seq: mismatches(ours["COMBINED" if seq == "COMBINED_SEQ" else seq], r) for seq, r in te.items()}
    assert {k: v for k, v in bad.items() if v} == {}
    # the synthetic set exercises what it claims to
    assert any(ours[n]["IDSW"] > 0 for n in names) and any(ours[n]["Frag"] > 0 for n in names)
    assert any(ours[n]["Dets"] == 0 for n in names) and any(ours[n]["GT_Dets"] == 0 for n in names)


def test_distractor_preprocessing_changes_the_synthetic_results(synthetic_files):
    root, names = synthetic_files
    with_pre = _ours_files(root, names[:20], "MOT17")
    without = _ours_files(root, names[:20], "DanceTrack")
    assert sum(with_pre[n]["Dets"] for n in names[:20]) < sum(without[n]["Dets"] for n in names[:20])


# ------------------------------------------------------------------------------------ hand-computed cases
def rows(spec: list[tuple], gt: bool = True) -> MOTRows:
    """Rows from (frame, id, x0, y0, x1, y1[, class[, consider]]) tuples."""
    n = len(spec)
    f = np.array([s[0] for s in spec], np.int64)
    ids = np.array([s[1] for s in spec], np.int64)
    boxes = np.array([s[2:6] for s in spec], np.float64).reshape(n, 4)
    cls = np.array([s[6] if len(s) > 6 else (1 if gt else -1) for s in spec], np.int64)
    cons = np.array([s[7] if len(s) > 7 else 1 for s in spec], np.float64)
    return MOTRows(f, ids, boxes, cons, cls, np.ones(n))


BOX = (10.0, 10.0, 20.0, 30.0)


def test_perfect_tracker_scores_one():
    gt = rows(
        [(t, i, BOX[0] + 30 * i, *BOX[1:2], BOX[2] + 30 * i, BOX[3]) for t in range(1, 5) for i in (1, 2)]
    )
    tr = rows(
        [
            (t, 7 * i, BOX[0] + 30 * i, *BOX[1:2], BOX[2] + 30 * i, BOX[3])
            for t in range(1, 5)
            for i in (1, 2)
        ],
        False,
    )
    r = evaluate_sequence(gt, tr, 4)
    for f in ("HOTA", "DetA", "AssA", "LocA", "MOTA", "MOTP", "IDF1", "CLR_Re", "CLR_Pr"):
        assert r[f] == 1.0, f
    assert (r["IDSW"], r["Frag"], r["MT"], r["CLR_TP"], r["GT_IDs"], r["IDs"]) == (0, 0, 2, 8, 2, 2)


def test_id_switch_by_hand():
    """One gt over 4 frames, tracker ids 1, 1, 2, 2 on exact boxes.

    CLEAR: TP 4, IDSW 1, MOTA (4 - 0 - 1) / 4. Identity: best id covers 2 frames -> IDTP 2, IDFN 2, IDFP 2,
    IDF1 0.5. HOTA: each TP sits in a pair matched 2 times with gt count 4 and tracker count 2: pair Jaccard
    2 / (4 + 2 - 2) = 0.5 -> AssA 0.5, AssRe 0.5, AssPr 1, DetA 1, HOTA sqrt(0.5).
    """
    gt = rows([(t, 5, *BOX) for t in range(1, 5)])
    tr = rows([(t, 1 if t < 3 else 2, *BOX) for t in range(1, 5)], False)
    r = evaluate_sequence(gt, tr, 4)
    assert (r["CLR_TP"], r["IDSW"], r["Frag"]) == (4, 1, 0)
    assert r["MOTA"] == 0.75
    assert (r["IDTP"], r["IDFN"], r["IDFP"], r["IDF1"]) == (2, 2, 2, 0.5)
    assert np.allclose(r["AssA_alpha"], 0.5) and np.allclose(r["AssRe_alpha"], 0.5)
    assert np.allclose(r["AssPr_alpha"], 1.0) and r["DetA"] == 1.0
    assert abs(r["HOTA"] - np.sqrt(0.5)) < 1e-15


def test_fragmentation_and_the_skipped_frame_quirk():
    """A miss in frame 3 fragments the track only if frame 3 has some tracker box (TrackEval skips frames
    without tracker boxes before resetting continuity)."""
    gt = rows([(t, 1, *BOX) for t in range(1, 6)])
    hit = [(t, 9, *BOX) for t in (1, 2, 4, 5)]
    far = [(3, 4, 100.0, 100.0, 110.0, 120.0)]
    with_fp = evaluate_sequence(gt, rows(hit + far, False), 5)
    skipped = evaluate_sequence(gt, rows(hit, False), 5)
    assert (with_fp["Frag"], with_fp["CLR_FP"], with_fp["CLR_FN"]) == (1, 1, 1)
    assert (skipped["Frag"], skipped["CLR_FP"], skipped["CLR_FN"]) == (0, 0, 1)
    assert with_fp["IDSW"] == skipped["IDSW"] == 0


def test_mostly_tracked_is_strict():
    # tracked 4/5 = 0.8 -> PT (MT needs > 0.8); 1/5 = 0.2 -> PT; 0/5 -> ML; 5/5 -> MT
    spec, trs = [], []
    for i, hits in enumerate((4, 1, 0, 5)):
        x = 40.0 * i
        for t in range(1, 6):
            spec.append((t, i + 1, x, 0.0, x + 10, 20.0))
            if t <= hits:
                trs.append((t, i + 1, x, 0.0, x + 10, 20.0))
    r = evaluate_sequence(rows(spec), rows(trs, False), 5)
    assert (r["MT"], r["PT"], r["ML"]) == (1, 2, 1)


def test_distractor_preprocessing_by_hand():
    """A tracker box on a static person (class 7) is dropped; one on a pedestrian with consider = 0 stays
    as a false positive; with MOT15 (no preprocessing) both stay and the class-7 gt counts."""
    gt = rows([(1, 1, *BOX, 1), (1, 2, 50.0, 10.0, 60.0, 30.0, 7), (1, 3, 90.0, 10.0, 100.0, 30.0, 1, 0)])
    tr = rows([(1, 1, *BOX), (1, 2, 50.0, 10.0, 60.0, 30.0), (1, 3, 90.0, 10.0, 100.0, 30.0)], False)
    r17 = evaluate_sequence(gt, tr, 1, benchmark="MOT17")
    assert (r17["Dets"], r17["GT_Dets"], r17["CLR_TP"], r17["CLR_FP"]) == (2, 1, 1, 1)
    r15 = evaluate_sequence(gt, tr, 1, benchmark="MOT15")
    assert (r15["Dets"], r15["GT_Dets"], r15["CLR_TP"], r15["CLR_FP"]) == (3, 2, 2, 1)


def test_preprocessing_tie_follows_row_order():
    """A pedestrian and a static person with identical boxes under one tracker box: the Hungarian tie goes
    to the earlier gt row (scipy, as in TrackEval), so file order decides whether the tracker box is dropped."""
    ped, static = (1, 1, *BOX, 1), (1, 2, *BOX, 7)
    tr = rows([(1, 5, *BOX)], False)
    first_ped = evaluate_sequence(rows([ped, static]), tr, 1)
    first_static = evaluate_sequence(rows([static, ped]), tr, 1)
    assert (first_ped["CLR_TP"], first_ped["Dets"], first_ped["CLR_FN"]) == (1, 1, 0)
    assert (first_static["CLR_TP"], first_static["Dets"], first_static["CLR_FN"]) == (0, 0, 1)


def test_empty_tracker_quirks():
    gt = rows([(t, 1, *BOX) for t in range(1, 4)])
    r = evaluate_sequence(gt, MOTRows.empty(), 3)
    assert (r["CLR_FN"], r["ML"], r["MLR"], r["MOTA"], r["CLR_Frames"], r["IDFN"]) == (3, 1, 1.0, 0.0, 0, 3)
    assert r["LocA"] == 1.0 and r["HOTA"] == 0.0 and np.array_equal(r["HOTA_FN_alpha"], np.full(19, 3))
    # TrackEval reports a gt-less sequence's MOTA as 0, not -FP
    r = evaluate_sequence(MOTRows.empty(), rows([(1, 1, *BOX)], False), 3)
    assert (r["CLR_FP"], r["MOTA"], r["MLR"], r["FP_per_frame"]) == (1, 0.0, 1.0, 0.0)


def test_arbitrary_ids_and_row_order_are_relabelled():
    gt, tr, n = synthetic_sequence(4)
    base = evaluate_sequence(gt, tr, n)
    shifted = MOTRows(gt.frames, gt.ids * 1000 + 123456789, gt.boxes, gt.scores, gt.classes, gt.visibility)
    other = evaluate_sequence(shifted, tr, n)
    assert mismatches(other, {"X": {k: v for k, v in base.items() if not k.endswith("_alpha")}}, 0.0) == []
    # rows given out of frame order are sorted stably by frame
    order = np.argsort(-tr.frames, kind="stable")
    rev = evaluate_sequence(gt, tr.select(order), n)
    assert rev["Dets"] == base["Dets"] and rev["CLR_TP"] == base["CLR_TP"]


def test_combine_is_trackeval_not_a_mean():
    stats = [sequence_stats(*synthetic_sequence(s)[:2], synthetic_sequence(s)[2]) for s in (1, 2, 3)]
    per = [sequence_results(s) for s in stats]
    comb = combine(stats)
    assert comb["CLR_TP"] == sum(p["CLR_TP"] for p in per)
    tp = np.sum([p["HOTA_TP_alpha"] for p in per], 0)
    ass = np.sum([p["AssA_alpha"] * p["HOTA_TP_alpha"] for p in per], 0) / np.maximum(1, tp)
    assert np.allclose(comb["AssA_alpha"], ass, rtol=0, atol=1e-12)
    assert abs(comb["HOTA"] - np.mean([p["HOTA"] for p in per])) > 1e-6
    single = combine(stats[:1])
    assert mismatches(single, {"X": {k: v for k, v in per[0].items() if not k.endswith("_alpha")}}) == []
    assert ALPHAS.shape == (19,) and ALPHAS[0] == 0.05


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda g, t: (g, MOTRows(t.frames, t.ids * 0, t.boxes, t.scores, t.classes, t.visibility)),
            "more than once",
        ),
        (
            lambda g, t: (g, MOTRows(t.frames + 100, t.ids, t.boxes, t.scores, t.classes, t.visibility)),
            "outside",
        ),
        (
            lambda g, t: (g, MOTRows(t.frames, t.ids, t.boxes, t.scores, t.classes * 0 + 2, t.visibility)),
            "class 2",
        ),
        (
            lambda g, t: (MOTRows(g.frames, g.ids, g.boxes, g.scores, g.classes * 0 + 14, g.visibility), t),
            "class 14",
        ),
    ],
)
def test_bad_input_raises(change, message):
    gt = rows([(1, 1, *BOX), (2, 1, *BOX)])
    tr = rows([(1, 1, *BOX), (1, 2, *BOX)], False)
    g, t = change(gt, tr)
    with pytest.raises(ValueError, match=message):
        evaluate_sequence(g, t, 3)
    with pytest.raises(ValueError, match="unknown benchmark"):
        evaluate_sequence(gt, tr, 3, benchmark="MOT99")


def test_format_table_prints_percentages():
    r = {"seq-a": evaluate_sequence(rows([(1, 1, *BOX)]), rows([(1, 1, *BOX)], False), 1)}
    r["COMBINED"] = r["seq-a"]
    text = format_table(r, ["HOTA", "MOTA", "IDSW"])
    lines = text.splitlines()
    assert lines[1].split() == ["seq-a", "100", "100", "0"] and lines[-1].startswith("COMBINED")

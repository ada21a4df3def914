"""SOT metrics against the got10k 0.1.3 toolkit's own reports and hand-computed fixtures."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.core.boxes import xywh_to_xyxy
from zoo.metrics.sot import (
    centre_error,
    frame_iou,
    got10k_ao,
    got10k_clip,
    lasot_norm_precision,
    lasot_ope,
    otb_ope,
)
from zoo.metrics.synced import OTBOPE, GOT10kAO, LaSOTOPE

TOL = 1e-9


def _random_sequences(seed: int, n_seq: int, size: tuple[int, int] = (320, 240)):
    """xywh GT and predictions: near misses, far misses, boxes crossing the image border, zero sizes."""
    rng = np.random.default_rng(seed)
    width, height = size
    gts, preds = [], []
    for _ in range(n_seq):
        t = int(rng.integers(5, 40))
        wh = rng.uniform(5, 120, (t, 2))
        xy = rng.uniform(-30, [width, height], (t, 2))
        gt = np.concatenate([xy, wh], 1)
        noise = rng.normal(0, rng.uniform(0.5, 25), (t, 4))
        pred = gt + noise
        pred[:, 2:] = np.abs(pred[:, 2:])
        far = rng.random(t) < 0.15
        pred[far, :2] += rng.uniform(50, 200, (far.sum(), 2))
        zero = rng.random(t) < 0.05
        pred[zero, 2:] = 0.0
        gts.append(gt)
        preds.append(pred)
    return gts, preds


def _save(path: Path, boxes: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, boxes, fmt="%.17g", delimiter=",")


@pytest.fixture(scope="module")
def got10k_experiments():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    pytest.importorskip("six")
    from got10k.experiments import ExperimentGOT10k, ExperimentOTB

    return ExperimentOTB, ExperimentGOT10k


class _OTBDataset:
    """Stands in for got10k's OTB dataset (which downloads in __init__)."""

    def __init__(self, names, annos):
        self.seq_names = names
        self.annos = annos

    def __len__(self):
        return len(self.seq_names)

    def __iter__(self):
        return iter([([], a) for a in self.annos])


def test_otb_ope_matches_got10k_report(tmp_path, got10k_experiments):
    experiment_otb, _ = got10k_experiments
    gts, preds = _random_sequences(0, 7)
    names = [f"seq{i}" for i in range(len(gts))]
    exp = experiment_otb.__new__(experiment_otb)
    exp.dataset = _OTBDataset(names, gts)
    exp.result_dir = str(tmp_path / "results")
    exp.report_dir = str(tmp_path / "reports")
    exp.nbins_iou, exp.nbins_ce = 21, 51
    exp.plot_curves = lambda *args, **kwargs: None  # drawing is not part of the numbers
    for name, pred in zip(names, preds):
        _save(tmp_path / "results" / "zoo" / f"{name}.txt", pred)
    ref = exp.report(["zoo"])["zoo"]

    ours = otb_ope([xywh_to_xyxy(p) for p in preds], [xywh_to_xyxy(g) for g in gts])
    np.testing.assert_allclose(ours["success_curve"], ref["overall"]["success_curve"], rtol=0, atol=TOL)
    np.testing.assert_allclose(ours["precision_curve"], ref["overall"]["precision_curve"], rtol=0, atol=TOL)
    assert abs(ours["success_auc"] - ref["overall"]["success_score"]) < TOL
    assert abs(ours["precision_20"] - ref["overall"]["precision_score"]) < TOL
    for i, name in enumerate(names):
        assert abs(ours["per_sequence"]["success_auc"][i] - ref["seq_wise"][name]["success_score"]) < TOL
        assert abs(ours["per_sequence"]["precision_20"][i] - ref["seq_wise"][name]["precision_score"]) < TOL
    # xywh input gives the same numbers
    same = otb_ope(preds, gts, box_format="xywh")
    assert abs(same["success_auc"] - ours["success_auc"]) < TOL
    # the data is not degenerate: the curves move
    assert 0.1 < ours["success_auc"] < 0.9 and 0.05 < ours["precision_20"] < 0.95


def _write_got10k_split(root: Path, names, gts, covers, sizes):
    split = root / "val"
    split.mkdir(parents=True)
    (split / "list.txt").write_text("\n".join(names) + "\n")
    for name, gt, cover, (w, h) in zip(names, gts, covers, sizes):
        d = split / name
        d.mkdir()
        _save(d / "groundtruth.txt", gt)
        (d / "meta_info.ini").write_text(f"[METAINFO]\nresolution: ({w}, {h})\nobject_class: thing\n")
        np.savetxt(d / "cover.label", cover, fmt="%d")
        np.savetxt(d / "absence.label", (cover == 0).astype(int), fmt="%d")
        np.savetxt(d / "cut_by_image.label", np.zeros(len(gt), int), fmt="%d")
        for t in range(len(gt)):
            (d / f"{t + 1:08d}.jpg").touch()


def test_got10k_ao_matches_got10k_report(tmp_path, got10k_experiments):
    _, experiment_got10k = got10k_experiments
    rng = np.random.default_rng(1)
    sizes = [(320, 240), (200, 300), (640, 360), (320, 240)]
    gts, preds = [], []
    for i, size in enumerate(sizes):
        g, p = _random_sequences(10 + i, 1, size)
        gts.append(g[0])
        # repetitions: sequence 1 has three runs (pooled by the toolkit)
        preds.append(
            np.stack([p[0]] + [p[0] + rng.normal(0, 3, p[0].shape) for _ in range(2)]) if i == 1 else p[0]
        )
    covers = [rng.integers(0, 9, len(g)) * (rng.random(len(g)) < 0.8) for g in gts]
    names = [f"GOT-10k_Val_{i:06d}" for i in range(1, len(gts) + 1)]
    _write_got10k_split(tmp_path / "data", names, gts, covers, sizes)
    for name, pred in zip(names, preds):
        runs = pred if pred.ndim == 3 else pred[None]
        for r, run in enumerate(runs):
            _save(tmp_path / "results" / "GOT-10k" / "zoo" / name / f"{name}_{r + 1:03d}.txt", run)
        np.savetxt(
            tmp_path / "results" / "GOT-10k" / "zoo" / name / f"{name}_time.txt", np.full(len(gts[0]), 0.01)
        )
    exp = experiment_got10k(
        str(tmp_path / "data"),
        subset="val",
        result_dir=str(tmp_path / "results"),
        report_dir=str(tmp_path / "reports"),
    )
    exp.plot_curves = lambda *args, **kwargs: None
    ref = exp.report(["zoo"])["zoo"]

    ours = got10k_ao([xywh_to_xyxy(p) for p in preds], [xywh_to_xyxy(g) for g in gts], sizes, covers)
    assert abs(ours["AO"] - ref["overall"]["ao"]) < TOL
    assert abs(ours["SR0.5"] - ref["overall"]["sr"]) < TOL
    assert abs(ours["SR0.75"] - ref["overall"]["succ_curve"][75]) < TOL
    for name, seq in zip(names, ours["per_sequence"]):
        assert abs(seq["AO"] - ref["seq_wise"][name]["ao"]) < TOL
        assert abs(seq["SR0.5"] - ref["seq_wise"][name]["sr"]) < TOL
    assert 0.2 < ours["AO"] < 0.9 and ours["SR0.75"] < ours["SR0.5"]

    metric = GOT10kAO()
    for p, g, s, c in zip(preds, gts, sizes, covers):
        metric.update(
            torch.as_tensor(xywh_to_xyxy(p)), torch.as_tensor(xywh_to_xyxy(g)), s, torch.as_tensor(c)
        )
    res = metric.compute()
    for key in ("AO", "SR0.5", "SR0.75"):
        assert res[key].item() == ours[key]


def test_got10k_bound_shifts_boxes_in():
    # got10k bounds xywh: x = clip(x, 0, W), w = clip(w, 0, W - x): a box left of the image keeps its width.
    boxes = xywh_to_xyxy(
        np.array([[-10.0, 5.0, 30.0, 20.0], [90.0, 70.0, 30.0, 20.0], [120.0, -4.0, 5.0, 8.0]])
    )
    got = got10k_clip(boxes, (100, 80))
    np.testing.assert_array_equal(got, [[0, 5, 30, 25], [90, 70, 100, 80], [100, 0, 100, 8]])


def test_iou_and_centre_error_match_got10k_utils():
    from got10k.utils.metrics import center_error, rect_iou

    gts, preds = _random_sequences(3, 3)
    for g, p in zip(gts, preds):
        np.testing.assert_allclose(
            frame_iou(xywh_to_xyxy(p), xywh_to_xyxy(g)), rect_iou(p, g), rtol=0, atol=TOL
        )
        np.testing.assert_allclose(
            centre_error(xywh_to_xyxy(p), xywh_to_xyxy(g)), center_error(p, g), rtol=0, atol=TOL
        )


def _lasot_fixture():
    """Five frames, xywh. Frame 2's GT has zero width; frame 3 is invisible; frame 4's prediction is empty."""
    gt = np.array(
        [[10, 10, 20, 20], [10, 10, 20, 20], [10, 10, 0, 20], [10, 10, 20, 20], [10, 10, 20, 20]], float
    )
    pred = np.array(
        [[0, 0, 5, 5], [12.5, 10, 20, 20], [10, 10, 20, 20], [16.5, 10, 20, 20], [50, 50, 0, 0]], float
    )
    visible = np.array([True, True, True, False, True])
    return xywh_to_xyxy(pred), xywh_to_xyxy(gt), visible


def test_lasot_got10k_convention_hand_fixture():
    pred, gt, visible = _lasot_fixture()
    res = lasot_ope([pred], [gt], [visible], convention="got10k")
    # IoUs 1, 350/450, 0, 270/530, 0 -> 20 + 16 + 0 + 11 + 0 thresholds passed of 21 x 5
    assert res["success_auc"] == pytest.approx(47 / 105, abs=TOL)
    # centre errors 0, 2.5, 10, 6.5, 42.43 -> 4 of 5 within 20 px
    assert res["precision_20"] == pytest.approx(0.8, abs=TOL)
    # normalised errors 0, 0.125, 10 (w = 0 -> max(1, 0)), 0.325, 2.12 -> 51 + 38 + 0 + 18 + 0 of 51 x 5
    assert res["norm_precision"] == pytest.approx(107 / 255, abs=TOL)
    assert res["convention"] == "lasot-got10k"


def test_lasot_pytracking_convention_hand_fixture():
    pred, gt, visible = _lasot_fixture()
    res = lasot_ope([pred], [gt], [visible], convention="pytracking")
    # frame 4 repeats frame 3's prediction; frames 2 (invalid GT) and 3 (invisible) fail IoU and precision
    assert res["success_auc"] == pytest.approx(47 / 105, abs=TOL)  # 20 + 16 + 0 + 0 + 11
    assert res["precision_20"] == pytest.approx(0.6, abs=TOL)
    # at 0.20: frame 0, frame 1 (0.125), frame 2 (invalid but visible: counted as a hit) -> 3 of 5
    assert res["norm_precision"] == pytest.approx(0.6, abs=TOL)
    np_only = lasot_norm_precision([pred], [gt], [visible], convention="pytracking")
    assert np_only["norm_precision"] == res["norm_precision"] and np_only["convention"] == "lasot-pytracking"


def test_lasot_got10k_convention_random_against_formula():
    from got10k.utils.metrics import center_error, rect_iou

    gts, preds = _random_sequences(5, 4)
    gts[1][[3, 4]] = np.nan  # unannotated frames are left out
    ours = lasot_ope([xywh_to_xyxy(p) for p in preds], [xywh_to_xyxy(g) for g in gts])
    succ, prec, norm = [], [], []
    for g, p in zip(gts, preds):
        p = p.copy()
        p[0] = g[0]
        keep = ~np.isnan(g).any(1)
        g, p = g[keep], p[keep]
        iou, ce = rect_iou(p, g), center_error(p, g)
        cp, cg = p[:, :2] + (p[:, 2:] - 1) / 2, g[:, :2] + (g[:, 2:] - 1) / 2
        ne = np.sqrt((((cp - cg) / np.maximum(1.0, g[:, 2:])) ** 2).sum(1))
        succ.append([(iou > t).mean() for t in np.linspace(0, 1, 21)])
        prec.append([(ce <= t).mean() for t in range(51)])
        norm.append([(ne <= t).mean() for t in np.linspace(0, 0.5, 51)])
    assert abs(ours["success_auc"] - np.mean(np.mean(succ, 0))) < TOL
    assert abs(ours["precision_20"] - np.mean(prec, 0)[20]) < TOL
    assert abs(ours["norm_precision"] - np.mean(np.mean(norm, 0))) < TOL
    assert ours["per_sequence"]["num_frames"][1] == len(gts[1]) - 2


def test_metric_classes_equal_functional():
    gts, preds = _random_sequences(7, 5)
    p_xyxy = [xywh_to_xyxy(p) for p in preds]
    g_xyxy = [xywh_to_xyxy(g) for g in gts]
    otb = OTBOPE()
    for p, g in zip(p_xyxy, g_xyxy):
        otb.update(torch.as_tensor(p), torch.as_tensor(g))
    ref = otb_ope(p_xyxy, g_xyxy)
    res = otb.compute()
    assert res["success_auc"].item() == ref["success_auc"]
    assert res["precision_20"].item() == ref["precision_20"]
    assert torch.equal(res["success_curve"], torch.as_tensor(ref["success_curve"]))
    for convention in ("got10k", "pytracking"):
        lasot = LaSOTOPE(convention=convention)
        vis = [np.arange(len(g)) % 7 != 3 for g in g_xyxy]
        for p, g, v in zip(p_xyxy, g_xyxy, vis):
            lasot.update(p, g, torch.as_tensor(v))
        ref = lasot_ope(p_xyxy, g_xyxy, vis, convention=convention)
        res = lasot.compute()
        for key in ("success_auc", "precision_20", "norm_precision"):
            assert res[key].item() == ref[key], (convention, key)
    with pytest.raises(ValueError, match="convention"):
        LaSOTOPE(convention="vot")


def test_first_frame_is_replaced_by_gt():
    gt = xywh_to_xyxy(np.array([[10, 10, 20, 20], [10, 10, 20, 20]], float))
    pred = xywh_to_xyxy(np.array([[200, 200, 5, 5], [10, 10, 20, 20]], float))
    res = otb_ope([pred], [gt])
    assert res["success_auc"] == pytest.approx(20 / 21, abs=TOL) and res["precision_20"] == 1.0


def test_bad_input_raises():
    box = np.zeros((3, 4))
    with pytest.raises(ValueError, match="same non-zero length"):
        otb_ope([box], [np.zeros((4, 4))])
    with pytest.raises(ValueError, match=r"\(T, 4\)"):
        otb_ope([np.zeros((3, 5))], [np.zeros((3, 5))])
    with pytest.raises(ValueError, match="NaN"):
        otb_ope([box], [np.full((3, 4), math.nan)])
    with pytest.raises(ValueError, match="image sizes"):
        got10k_ao([box], [box], [])
    with pytest.raises(ValueError, match="negative box size"):
        lasot_ope(
            [np.array([[0, 0, 1, 1], [5, 5, 1, 1.0]])],
            [np.ones((2, 4)) * [0, 0, 2, 2]],
            convention="pytracking",
        )

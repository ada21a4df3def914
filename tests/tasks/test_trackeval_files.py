"""The MOT result files the runner writes are what TrackEval reads: TrackEval 1.3.0 on the written folder gives
the runner's numbers (the files, not just the metric code, are official)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.tasks.fixtures import write_mot_split
from zoo.data.formats import motchallenge
from zoo.tasks import mot
from zoo.trackers.byte import ByteTrack
from zoo.trackers.sort import Sort

trackeval = pytest.importorskip("trackeval")


def trackeval_combined(gt_split: Path, tracker_dir: Path, names: list[str], tmp: Path) -> dict:
    """TrackEval's MotChallenge2DBox on ``tracker_dir/<seq>.txt`` (no MOTChallenge preprocessing)."""
    seqmap = tmp / "seqmap.txt"
    motchallenge.write_seqmap(seqmap, names)
    cfg = trackeval.Evaluator.get_default_eval_config()
    cfg.update({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
                "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None,
                "DISPLAY_LESS_PROGRESS": True, "PRINT_ONLY_COMBINED": True})  # fmt: skip
    dcfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    dcfg.update({"GT_FOLDER": str(gt_split), "TRACKERS_FOLDER": str(tracker_dir.parent),
                 "TRACKERS_TO_EVAL": [tracker_dir.name], "TRACKER_SUB_FOLDER": "", "SKIP_SPLIT_FOL": True,
                 "SEQMAP_FILE": str(seqmap), "DO_PREPROC": False, "BENCHMARK": "MOT15", "PRINT_CONFIG": False,
                 "OUTPUT_FOLDER": str(tmp / "te")})  # fmt: skip
    res, _ = trackeval.Evaluator(cfg).evaluate(
        [trackeval.datasets.MotChallenge2DBox(dcfg)],
        [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()],
    )
    return res["MotChallenge2DBox"][tracker_dir.name]["COMBINED_SEQ"]["pedestrian"]


@pytest.mark.parametrize("tracker", [Sort, ByteTrack])
def test_trackeval_reads_our_result_files(tracker: type, tmp_path: Path) -> None:
    names = ["hand-01", "hand-02"]
    split = write_mot_split(tmp_path / "bench", tuple(names))
    out = tmp_path / "trackers" / tracker.__name__
    ours = mot.run_benchmark(
        tracker, motchallenge.load_split(split), out, benchmark="dancetrack", progress=False
    )
    ref = trackeval_combined(split, out, names, tmp_path)
    m = ours.metrics
    assert m["HOTA"] == pytest.approx(float(np.mean(ref["HOTA"]["HOTA"])), abs=1e-9)
    assert m["AssA"] == pytest.approx(float(np.mean(ref["HOTA"]["AssA"])), abs=1e-9)
    assert m["MOTA"] == pytest.approx(float(ref["CLEAR"]["MOTA"]), abs=1e-9)
    assert m["IDF1"] == pytest.approx(float(ref["Identity"]["IDF1"]), abs=1e-9)
    assert (m["CLR_TP"], m["IDSW"]) == (int(ref["CLEAR"]["CLR_TP"]), int(ref["CLEAR"]["IDSW"]))

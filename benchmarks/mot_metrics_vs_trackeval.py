"""MOT metrics speed: zoo.metrics.mot against TrackEval 1.3.0 (single process) on real MOT17 train.

Both start from the files (seqmap, seqinfo.ini, gt.txt, tracker results) and end with HOTA, CLEAR, Identity
and Count for the 21 sequences and the combined row; imports are done before timing. Runs alternate
(ours, TrackEval, ours, ...) so load on a shared machine hits both alike; the table gives medians of
``--runs`` runs, the ratio, and the largest difference over every reported field of all 22 rows (integers
must be equal). Our time is also split into reading and evaluating. Prints a table; asserts nothing.

    python benchmarks/mot_metrics_vs_trackeval.py [--data DIR] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import scipy
import trackeval

from zoo.data.formats.motchallenge import read_mot_file, read_seqinfo, read_seqmap
from zoo.metrics.mot import evaluate_sequences

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot17-train-trackeval"
INT_FIELDS = {"CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames",
              "IDTP", "IDFN", "IDFP", "Dets", "GT_Dets", "IDs", "GT_IDs"}  # fmt: skip


def ours(data: Path, benchmark: str) -> tuple[dict, float, float]:
    """Files in -> every sequence and the combined row; returns (results, read seconds, eval seconds)."""
    t0 = time.perf_counter()
    seqs = {}
    for name in read_seqmap(data / "seqmaps" / "MOT17-train.txt"):
        info = read_seqinfo(data / "gt" / "MOT17-train" / name / "seqinfo.ini")
        gt = read_mot_file(data / "gt" / "MOT17-train" / name / "gt" / "gt.txt", "gt", info)
        tr = read_mot_file(data / "tracker" / "data" / f"{name}.txt", "results", info)
        seqs[name] = (gt, tr, info.seq_length)
    t1 = time.perf_counter()
    res = evaluate_sequences(seqs, benchmark=benchmark, metrics=("HOTA", "CLEAR", "Identity", "Count"))
    return res, t1 - t0, time.perf_counter() - t1


def trackeval_run(data: Path, benchmark: str, out: Path) -> dict:
    cfg = {
        "GT_FOLDER": str(data / "gt" / "MOT17-train"), "TRACKERS_FOLDER": str(data), "OUTPUT_FOLDER": str(out),
        "TRACKERS_TO_EVAL": ["tracker"], "SKIP_SPLIT_FOL": True,
        "SEQMAP_FILE": str(data / "seqmaps" / "MOT17-train.txt"), "BENCHMARK": benchmark, "PRINT_CONFIG": False,
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


def max_difference(mine: dict, te: dict) -> tuple[float, int, int]:
    """(largest |float difference|, integer mismatches, fields compared) over all rows and fields."""
    worst, int_bad, n = 0.0, 0, 0
    for seq, res in te.items():
        row = mine["COMBINED" if seq == "COMBINED_SEQ" else seq]
        for metric, fields in res.items():
            for field, val in fields.items():
                if field == "Frames":
                    continue
                ref = np.asarray(val, dtype=np.float64)
                got = np.asarray(
                    row[field + "_alpha"] if (metric == "HOTA" and ref.ndim) else row[field], np.float64
                )
                n += int(ref.size)
                if field in INT_FIELDS or field in ("HOTA_TP", "HOTA_FN", "HOTA_FP"):
                    int_bad += int(np.sum(got != ref))
                else:
                    worst = max(worst, float(np.max(np.abs(got - ref))))
    return worst, int_bad, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="mot17-train-trackeval folder")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--benchmark", default="MOT17")
    args = ap.parse_args()
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "mot_metrics_vs_trackeval"

    t_ours, t_read, t_eval, t_te = [], [], [], []
    res = te = None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        res, r, e = ours(args.data, args.benchmark)
        t_ours.append(time.perf_counter() - t0)
        t_read.append(r)
        t_eval.append(e)
        t0 = time.perf_counter()
        te = trackeval_run(args.data, args.benchmark, out)
        t_te.append(time.perf_counter() - t0)
    worst, int_bad, n = max_difference(res, te)

    med = statistics.median
    print(f"MOT17 train, {len(res) - 1} sequences, files in -> HOTA + CLEAR + Identity + Count out")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, python "
          f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}")  # fmt: skip
    print()
    print(f"| {'evaluator':<34} | {'median s':>9} | {'min s':>7} | {'runs':>4} |")
    print(f"|{'-' * 36}|{'-' * 11}|{'-' * 9}|{'-' * 6}|")
    rows = [
        ("zoo.metrics.mot (read + evaluate)", t_ours),
        ("  of which reading files", t_read),
        ("  of which evaluating", t_eval),
        ("TrackEval 1.3.0, 1 process", t_te),
    ]
    for name, ts in rows:
        print(f"| {name:<34} | {med(ts):>9.3f} | {min(ts):>7.3f} | {len(ts):>4} |")
    print()
    print(f"speed-up (median TrackEval / median ours): {med(t_te) / med(t_ours):.1f}x")
    print(f"max |difference| over {n} reported values of 22 rows: {worst:.3g} (float fields); "
          f"integer mismatches: {int_bad}")  # fmt: skip
    c = res["COMBINED"]
    print(f"combined: HOTA {100 * c['HOTA']:.3f}  MOTA {100 * c['MOTA']:.2f}  IDF1 {100 * c['IDF1']:.3f}  "
          f"IDSW {c['IDSW']}  Frag {c['Frag']}")  # fmt: skip


if __name__ == "__main__":
    main()

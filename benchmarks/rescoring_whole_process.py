"""Re-scoring as a user times it: ``python -m zoo.evaluate results=DIR`` against the official tools, each
side a fresh subprocess on the same files, median of ``--repeats`` alternating runs after one warm-up
(bytecode written, files in the page cache). Prints one table per task with the metrics both sides agree on;
asserts nothing about time.

- **MOT**: TrackEval 1.3.0 (``MotChallenge2DBox`` + HOTA, CLEAR, Identity; ``USE_PARALLEL`` off, its
  default; ``PLOT_CURVES`` off) on the real MOT17 train data in ``../shared/data`` (21 sequences). Its three
  copies of each tracker file (DPM/FRCNN/SDP) are identical bytes, which the zoo parses once per worker, so
  a second row scores a copy whose FRCNN/SDP files are shifted by 0.5/1.0 px: every file then differs, as
  in a real submission.
- **VOS**: the DAVIS-2017 semi-supervised evaluation as ``davis2017-evaluation`` runs it
  (``benchmarks/_davis_reference_eval.py``: that package is not on PyPI), on generated 480x854 DAVIS-layout
  data shaped like the issue's 13 real val sequences (934 frames, 1-3 objects); there is no real DAVIS
  data in ``../shared/data``.
- **SOT**: got10k 0.1.3 ``ExperimentGOT10k(subset='val').report`` on generated GOT-10k-layout data sized
  like the real val split (180 sequences x 116 frames; empty JPEG files, the toolkit only lists them).

    python benchmarks/rescoring_whole_process.py [--repeats 5] [--tasks mot,vos,sot] [--workers 2]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MOT17 = REPO.parent / "shared" / "data" / "mot17-train-trackeval"
PY = sys.executable

TRACKEVAL = """
import json, sys, trackeval
data, gt, out = sys.argv[1:4]
cfg = {"GT_FOLDER": gt, "TRACKERS_FOLDER": data, "OUTPUT_FOLDER": out, "TRACKERS_TO_EVAL": ["tracker"],
       "SKIP_SPLIT_FOL": True, "SEQMAP_FILE": sys.argv[4], "BENCHMARK": "MOT17", "PRINT_CONFIG": False}
ecfg = {"USE_PARALLEL": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False, "PLOT_CURVES": False}
m = trackeval.metrics
res, _ = trackeval.Evaluator(ecfg).evaluate(
    [trackeval.datasets.MotChallenge2DBox(cfg)],
    [m.HOTA(), m.CLEAR({"PRINT_CONFIG": False}), m.Identity({"PRINT_CONFIG": False})])
c = res["MotChallenge2DBox"]["tracker"]["COMBINED_SEQ"]["pedestrian"]
print(json.dumps({"HOTA": float(c["HOTA"]["HOTA"].mean()), "MOTA": float(c["CLEAR"]["MOTA"]),
                  "IDF1": float(c["Identity"]["IDF1"])}))
"""

GOT10K = """
import json, sys
from got10k.experiments import ExperimentGOT10k
root, results, report = sys.argv[1:4]
e = ExperimentGOT10k(root, subset="val", result_dir=results, report_dir=report)
perf = e.report(["tracker"])["tracker"]["overall"]
print(json.dumps({"AO": perf["ao"], "SR0.5": perf["sr"]}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", WANDB_MODE="offline", PYTHONPATH=str(REPO))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's interpreter caches bytecode; so do both sides here
    return env


def _run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout


def _time(sides: dict[str, Callable[[], tuple[float, str]]], repeats: int) -> dict[str, list[float]]:
    for side in sides.values():
        side()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, side in sides.items():
            times[name].append(side()[0])
    return times


def _zoo(args: list[str], cwd: Path, out: Path) -> Callable[[], tuple[float, str]]:
    return lambda: _run([PY, "-m", "zoo.evaluate", *args, f"out={out}", "progress=false"], cwd)


def _zoo_metrics(out: Path, keys: tuple[str, ...]) -> dict[str, float]:
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    return {k: float(metrics[k]) for k in keys}


def _table(title: str, times: dict[str, list[float]], peer: str, agree: str) -> None:
    base = statistics.median(times[peer])
    print(f"\n### {title}\n")
    print("| command (whole process) | median s | min s | vs official |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} | {min(values):.2f} | {base / med:.1f}x |")
    print(f"\n{agree}")


# --------------------------------------------------------------------------------------------------- MOT
def _shifted_copy(src: Path, dst: Path) -> Path:
    """The tracker folder with FRCNN / SDP files shifted by 0.5 / 1.0 px (each file different)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.txt")):
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
        shift = 0.5 if "FRCNN" in path.name else 1.0 if "SDP" in path.name else 0.0
        rows[:, 2] += shift
        np.savetxt(dst / path.name, rows, delimiter=",", fmt=["%d", "%d", "%.3f", "%.3f", "%.3f", "%.3f",
                                                            "%.6g", "%d", "%d", "%d"][: rows.shape[1]])
    return dst


def bench_mot(work: Path, repeats: int, workers: int) -> None:
    if not (MOT17 / "seqmaps" / "MOT17-train.txt").is_file():
        print(f"\n### MOT: skipped, {MOT17} not found")
        return
    gt, seqmap = MOT17 / "gt" / "MOT17-train", MOT17 / "seqmaps" / "MOT17-train.txt"
    variants = {"MOT17 train as shipped": MOT17 / "tracker" / "data"}
    variants["MOT17 train, every tracker file distinct"] = _shifted_copy(
        variants["MOT17 train as shipped"], work / "mot_distinct" / "tracker" / "data")
    for title, data in variants.items():
        te_cmd = [PY, "-c", TRACKEVAL, str(data.parent.parent), str(gt), str(work / "te_out"), str(seqmap)]
        peer = functools.partial(_run, te_cmd, work)
        common = [f"results={data}", "data=mot17", f"data.root={gt}", f"seqmap={seqmap}"]
        sides = {"TrackEval 1.3.0": peer}
        for w in sorted({1, workers}):
            sides[f"zoo.evaluate workers={w}"] = _zoo([*common, f"workers={w}"], work, work / f"zoo_mot_{w}")
        times = _time(sides, repeats)
        te = json.loads(peer()[1].strip().splitlines()[-1])
        mine = _zoo_metrics(work / f"zoo_mot_{workers}", ("HOTA", "MOTA", "IDF1"))
        diff = max(abs(te[k] - mine[k]) for k in te)
        _table(f"MOT: {title} (21 sequences, HOTA + CLEAR + Identity)", times, "TrackEval 1.3.0",
               f"HOTA {mine['HOTA']:.6f}, MOTA {mine['MOTA']:.6f}, IDF1 {mine['IDF1']:.6f}; "
               f"largest difference to TrackEval {diff:.1e}.")


# --------------------------------------------------------------------------------------------------- VOS
def make_davis(root: Path, n_seqs: int = 13, total_frames: int = 934, seed: int = 0) -> Path:
    """Generated DAVIS-2017 val layout at 480x854 plus a perturbed result folder ``root/results``."""
    from zoo.data.formats.davis import write_imageset, write_palette_mask

    if (root / "done").is_file():
        return root
    rng = np.random.default_rng(seed)
    lengths = np.full(n_seqs, total_frames // n_seqs)
    lengths[: total_frames % n_seqs] += 1
    yy, xx = np.mgrid[0:480, 0:854]
    names = []
    for s, n in enumerate(lengths):
        name = f"seq{s:02d}"
        names.append(name)
        objects = 1 + s % 3
        centre = rng.uniform([100, 150], [380, 700], size=(objects, 2))
        velocity = rng.normal(0, 3, size=(objects, 2))
        radii = rng.uniform(30, 90, size=(objects, 2))
        for t in range(int(n)):
            gt = np.zeros((480, 854), np.uint8)
            res = np.zeros((480, 854), np.uint8)
            for k in range(objects):
                cy, cx = centre[k] + velocity[k] * t
                ry, rx = radii[k]
                gt[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = k + 1
                if t == 0 or rng.random() > 0.05:  # the tracker loses an object in 5% of frames
                    dy, dx = rng.normal(0, 4, 2)
                    sy, sx = rng.uniform(0.85, 1.15, 2)
                    res[((yy - cy - dy) / (ry * sy)) ** 2 + ((xx - cx - dx) / (rx * sx)) ** 2 <= 1] = k + 1
            write_palette_mask(root / "Annotations" / "480p" / name / f"{t:05d}.png", gt)
            write_palette_mask(root / "results" / name / f"{t:05d}.png", res)
    write_imageset(root / "ImageSets" / "2017" / "val.txt", names)
    (root / "done").write_text("ok\n")
    return root


def bench_vos(work: Path, repeats: int, workers: int) -> None:
    root = make_davis(work / "davis")
    ref_out = work / "davis_ref_out"
    script = str(REPO / "benchmarks" / "_davis_reference_eval.py")
    peer = lambda: _run([PY, script, str(root), str(root / "results"), str(ref_out)], work)  # noqa: E731
    common = [f"results={root / 'results'}", "data=davis17", f"data.root={root}", "split=val"]
    sides = {"davis2017-evaluation algorithm": peer}
    for w in sorted({1, workers}):
        sides[f"zoo.evaluate workers={w}"] = _zoo([*common, f"workers={w}"], work, work / f"zoo_vos_{w}")
    times = _time(sides, repeats)
    peer()
    import csv

    with open(ref_out / "global_results-val.csv") as f:
        ref = {k: float(v) for k, v in next(csv.DictReader(f)).items()}
    keys = ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
    mine = _zoo_metrics(work / f"zoo_vos_{workers}", keys)
    diff = max(abs(ref[k] - mine[k]) for k in keys)
    _table("VOS: 13 sequences, 934 frames at 480x854, J&F", times, "davis2017-evaluation algorithm",
           f"J&F {mine['J&F-Mean']:.6f}; largest difference (J&F, J, F mean/recall/decay) to the reference "
           f"{diff:.1e}.")


# --------------------------------------------------------------------------------------------------- SOT
def make_got10k(root: Path, n_seqs: int = 180, frames: int = 116, seed: int = 0) -> Path:
    """Generated GOT-10k val layout (``root/val``) and tracker results in the toolkit's layout
    (``root/results/GOT-10k/tracker``)."""
    from zoo.data.formats.got10k import (
        write_groundtruth,
        write_labels,
        write_list,
        write_meta_info,
        write_results,
    )

    if (root / "done").is_file():
        return root
    rng = np.random.default_rng(seed)
    names = []
    for s in range(n_seqs):
        name = f"GOT-10k_Val_{s + 1:06d}"
        names.append(name)
        seq = root / "val" / name
        seq.mkdir(parents=True, exist_ok=True)
        for t in range(frames):
            (seq / f"{t + 1:08d}.jpg").touch()
        wh = rng.uniform(40, 200, 2)
        xy = rng.uniform(50, 1000, 2) + np.cumsum(rng.normal(0, 3, (frames, 2)), axis=0)
        gt = np.concatenate([xy, xy + wh], axis=1)
        cover = rng.integers(0, 9, frames)
        cover[0] = 8
        write_groundtruth(seq / "groundtruth.txt", gt)
        write_labels(seq / "cover.label", cover)
        write_labels(seq / "absence.label", (cover == 0).astype(int))
        write_labels(seq / "cut_by_image.label", np.zeros(frames, int))
        write_meta_info(seq / "meta_info.ini", {"resolution": "(1280, 720)", "object_class": "synthetic"})
        pred = gt + rng.normal(0, 8, gt.shape) * np.array([1, 1, 1.5, 1.5])
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
        write_results(root / "results" / "GOT-10k" / "tracker", name, pred, np.full(frames, 0.01))
    write_list(root / "val" / "list.txt", names)
    (root / "done").write_text("ok\n")
    return root


def bench_sot(work: Path, repeats: int, workers: int) -> None:
    root = make_got10k(work / "got10k")
    report = work / "got10k_reports"
    peer = lambda: _run([PY, "-c", GOT10K, str(root), str(root / "results"), str(report)], work)  # noqa: E731
    common = [f"results={root / 'results' / 'GOT-10k' / 'tracker'}", "data=got10k", f"data.root={root}", "split=val"]
    sides = {"got10k 0.1.3 report": peer}
    for w in sorted({1, workers}):
        sides[f"zoo.evaluate workers={w}"] = _zoo([*common, f"workers={w}"], work, work / f"zoo_sot_{w}")
    times = _time(sides, repeats)
    ref = json.loads(peer()[1].strip().splitlines()[-1])
    mine = _zoo_metrics(work / f"zoo_sot_{workers}", ("AO", "SR0.5"))
    diff = max(abs(ref[k] - mine[k]) for k in ref)
    _table("SOT: GOT-10k val layout, 180 sequences x 116 frames, AO / SR", times, "got10k 0.1.3 report",
           f"AO {mine['AO']:.6f}, SR0.5 {mine['SR0.5']:.6f}; largest difference to got10k {diff:.1e}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tasks", default="mot,vos,sot")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=None, help="keep generated data here (default: a temp dir)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="zoo_rescoring_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.repeats} alternating runs after a warm-up; work dir {work}")
    try:
        for task in args.tasks.split(","):
            {"mot": bench_mot, "vos": bench_vos, "sot": bench_sot}[task.strip()](work, args.repeats, args.workers)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

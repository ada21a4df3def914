"""Association speed of the non-learned MOT baselines (SORT, ByteTrack) on real MOT17 boxes.

The 21 MOT17-train tracker result files of ``$ZOO_MOT17_TRACKEVAL`` (default
``/work/shared/data/mot17-train-trackeval``) stand in for detections: their boxes as detection boxes, their
confidence column as scores. Files are read once (``zoo.data.formats.motchallenge``) and split per frame
before timing, so the clock covers only ``reset`` + ``step`` over every frame of every sequence (frames
without boxes included). No images are read: both trackers ignore the frame.

Prints a table (tracker, frames, boxes in, boxes out, identities, median wall seconds of ``--runs`` runs,
fps) and never asserts a timing.

    python benchmarks/association_fps.py [--root DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from zoo.data.formats.motchallenge import read_mot_file, read_seqinfo
from zoo.data.types import SeqInfo
from zoo.tasks.protocols import Detections
from zoo.trackers.byte import ByteTrack
from zoo.trackers.sort import Sort

DEFAULT_ROOT = Path(os.environ.get("ZOO_MOT17_TRACKEVAL", "/work/shared/data/mot17-train-trackeval"))


def load(root: Path) -> list[tuple[SeqInfo, list[Detections]]]:
    """Every sequence as (seqinfo, per-frame detections), frames 1..seqLength in order."""
    files = sorted((root / "tracker" / "data").glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no tracker files under {root / 'tracker' / 'data'}")
    out = []
    for path in files:
        info = read_seqinfo(root / "gt" / "MOT17-train" / path.stem / "seqinfo.ini")
        rows = read_mot_file(path, "det", seq_info=info)
        order = np.argsort(rows.frames, kind="stable")
        bounds = np.searchsorted(rows.frames[order], np.arange(1, info.seq_length + 2))
        frames = [
            Detections(rows.boxes[order[lo:hi]], rows.scores[order[lo:hi]])
            for lo, hi in zip(bounds[:-1], bounds[1:])
        ]
        out.append((info, frames))
    return out


def run_once(tracker, data) -> tuple[float, int, int]:
    """Wall seconds, output boxes and distinct (sequence, id) pairs of one pass over all sequences."""
    n_out = n_ids = 0
    elapsed = 0.0
    for info, frames in data:
        t0 = time.perf_counter()
        tracker.reset(info)
        outs = [tracker.step(None, d) for d in frames]
        elapsed += time.perf_counter() - t0
        n_out += sum(len(o) for o in outs)
        n_ids += len(np.unique(np.concatenate([o.ids for o in outs]))) if outs else 0
    return elapsed, n_out, n_ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    data = load(args.root)
    n_frames = sum(len(f) for _, f in data)
    n_boxes = sum(len(d) for _, f in data for d in f)
    trackers = {"SORT (zoo)": Sort, "ByteTrack (zoo)": ByteTrack}

    print(
        f"MOT17-train tracker boxes as detections: {len(data)} sequences, {n_frames} frames, {n_boxes} boxes"
    )
    print(
        f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    header = (
        f"{'tracker':<18}{'frames':>8}{'boxes in':>10}{'boxes out':>11}{'ids':>7}{'median s':>10}{'fps':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, cls in trackers.items():
        times, n_out, n_ids = [], 0, 0
        for _ in range(args.runs):
            elapsed, n_out, n_ids = run_once(cls(), data)
            times.append(elapsed)
        med = statistics.median(times)
        print(f"{name:<18}{n_frames:>8}{n_boxes:>10}{n_out:>11}{n_ids:>7}{med:>10.2f}{n_frames / med:>9.0f}")
    print(
        "note: association only (no detector, no image I/O), single process, default constructor args. "
        "No peer implementation (official SORT / ByteTrack code) is installed in this environment, so no "
        "side-by-side row is shown. The files' confidences are all 1, so every box is a high detection."
    )


if __name__ == "__main__":
    main()

"""Does ZooSynth-MOT reward part-level appearance? A probe of the benchmark itself, with no learning.

Two hand-made appearance features feed the same BYTE association with FineTrack's fused distance
(``zoo.methods.finetrack.tracker.fused_distance``): ``pooled``, a colour histogram of the whole box (blind to
where each colour sits), and ``stripes``, the same histogram in ``--stripes`` horizontal stripes of the box,
concatenated (a crude part feature, as FineTrack's part masks are a learned one). Both are Hellinger
embeddings (square root of the normalised histogram; cosine = Bhattacharyya coefficient). ByteTrack (IoU
only) runs on the same detections. If stripes beat pooled by more on one generator version than on
another, that version rewards part-level cues more, whatever a trained model makes of them.

    python benchmarks/zoosynth_part_cues.py                               # the current default preset
    python benchmarks/zoosynth_part_cues.py --data v13=/path/to/mot/val v14=/other/mot/val

``--data`` takes MOTChallenge split folders (``<dataset>/mot/val``). Prints a markdown table; never asserts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from zoo.data.formats import motchallenge
from zoo.data.synth import ensure_synth
from zoo.methods.finetrack.tracker import ASSOCIATION_DEFAULTS, fused_distance
from zoo.tasks.mot import run_benchmark
from zoo.trackers.association import ByteAssociator
from zoo.trackers.byte import ByteTrack

COLUMNS = ("HOTA", "AssA", "DetA", "IDF1", "IDSW")


def colour_histograms(frame: np.ndarray, boxes: np.ndarray, stripes: int, bins: int) -> np.ndarray:
    """(D, stripes * bins**3) Hellinger colour features of ``boxes`` (D, 4) ``xyxy`` in ``frame`` (H, W, 3)
    uint8 RGB: a joint RGB histogram with ``bins`` levels per channel in each horizontal stripe."""
    h, w = frame.shape[:2]
    codes = (frame.astype(np.int64) * bins // 256) @ np.array([bins * bins, bins, 1])  # (H, W) joint bin
    size = bins**3
    out = np.zeros((len(boxes), stripes * size))
    for d, (x0, y0, x1, y1) in enumerate(boxes):
        c0, c1 = int(np.clip(np.floor(x0), 0, w - 1)), int(np.clip(np.ceil(x1), 1, w))
        r0, r1 = int(np.clip(np.floor(y0), 0, h - 1)), int(np.clip(np.ceil(y1), 1, h))
        crop = codes[r0 : max(r1, r0 + 1), c0 : max(c1, c0 + 1)]
        edges = np.linspace(0, crop.shape[0], stripes + 1).round().astype(int)
        for s in range(stripes):
            part = crop[edges[s] : max(edges[s + 1], edges[s] + 1)].ravel()
            hist = np.bincount(part, minlength=size).astype(np.float64)
            out[d, s * size : (s + 1) * size] = np.sqrt(hist / max(hist.sum(), 1.0))
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


class ColourTracker:
    """BYTE with FineTrack's fused distance over :func:`colour_histograms` features (online protocol)."""

    def __init__(self, stripes: int, bins: int = 4) -> None:
        self.stripes, self.bins = int(stripes), int(bins)
        self.reset(None)

    def reset(self, seq_info) -> None:
        self.associator = ByteAssociator(cost=fused_distance, **ASSOCIATION_DEFAULTS)
        self.associator.reset(seq_info)

    def step(self, frame: np.ndarray, detections):
        boxes = np.asarray(detections.boxes, np.float64).reshape(-1, 4)
        feats = colour_histograms(frame, boxes, self.stripes, self.bins)
        return self.associator.step(frame, detections, feats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="*", default=None, help="label=<dataset>/mot/val folders")
    parser.add_argument(
        "--stripes", type=int, default=6, help="stripes of the part feature (FineTrack K = 6)"
    )
    parser.add_argument("--bins", type=int, default=4, help="levels per RGB channel")
    args = parser.parse_args(argv)
    data = (
        dict(d.split("=", 1) for d in args.data)
        if args.data
        else {"default": str(ensure_synth("default") / "mot" / "val")}
    )
    trackers = {"ByteTrack (IoU)": ByteTrack, "pooled colour": lambda: ColourTracker(1, args.bins),
                f"{args.stripes} stripes colour": lambda: ColourTracker(args.stripes, args.bins)}  # fmt: skip
    rows = []
    for label, folder in data.items():
        seqs = motchallenge.load_split(Path(folder))
        for name, factory in trackers.items():
            start = time.perf_counter()
            res = run_benchmark(factory, seqs, None, benchmark="synth_mot", split="val", progress=False)
            rows.append((label, name, res.metrics))
            print(f"[part-cues] {label} {name}: {time.perf_counter() - start:.1f} s", flush=True)
    print(
        f"\nZooSynth-MOT val, public detections, BYTE + fused distance; colour: joint RGB histogram with "
        f"{args.bins} levels per channel (Hellinger). Percent.\n"
    )
    print("| data | association | " + " | ".join(COLUMNS) + " |\n|---|---|" + "--:|" * len(COLUMNS))
    for label, name, m in rows:
        cells = [str(m[c]) if c == "IDSW" else f"{100 * m[c]:.2f}" for c in COLUMNS]
        print(f"| {label} | {name} | " + " | ".join(cells) + " |")
    for label in data:
        by = {name: m for lab, name, m in rows if lab == label}
        pooled, striped = by["pooled colour"], by[f"{args.stripes} stripes colour"]
        print(
            f"\n{label}: stripes - pooled = {100 * (striped['HOTA'] - pooled['HOTA']):+.2f} HOTA, "
            f"{100 * (striped['AssA'] - pooled['AssA']):+.2f} AssA, {striped['IDSW'] - pooled['IDSW']:+d} IDSW"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""J&F throughput at 480x854, one object: zoo.metrics.vos against a straightforward per-frame evaluator.

The peer is what the DAVIS-2017 evaluator does, frame by frame and on full frames, with the same
libraries: a boundary map from three shifted copies, ``cv2.dilate`` with a disk from scikit-image (our
own disk when scikit-image is absent), products and sums for the matches. Both score the same frames;
the table gives frames per second (scored frames, J and F together), the ratio and the largest per-frame
difference. Prints a table; asserts nothing about time.

    python benchmarks/jf_throughput.py [--frames 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import time

import cv2
import numpy as np

from zoo.metrics.vos import jf_sequence

H, W = 480, 854


def _disk(radius: int) -> np.ndarray:
    try:
        from skimage.morphology import disk
    except ImportError:  # same set of offsets: dx^2 + dy^2 <= r^2
        from zoo.metrics.vos import disk
    return disk(radius).astype(np.uint8)


def _bmap(seg: np.ndarray) -> np.ndarray:
    seg = seg.astype(bool)
    right, down, diag = np.zeros_like(seg), np.zeros_like(seg), np.zeros_like(seg)
    right[:, :-1] = seg[:, 1:]
    down[:-1, :] = seg[1:, :]
    diag[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ right) | (seg ^ down) | (seg ^ diag)
    b[-1, :] = seg[-1, :] ^ right[-1, :]
    b[:, -1] = seg[:, -1] ^ down[:, -1]
    b[-1, -1] = False
    return b


def straightforward_jf(gt: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame J and F of object 1 on frames 1..T-2, one full frame at a time."""
    radius = math.ceil(0.008 * np.linalg.norm(gt.shape[1:]))
    j, f = [], []
    for t in range(1, gt.shape[0] - 1):
        g, p = gt[t] == 1, pred[t] == 1
        union = np.sum(g | p)
        j.append(1.0 if np.isclose(union, 0) else np.sum(g & p) / union)
        gb, pb = _bmap(g), _bmap(p)
        gd = cv2.dilate(gb.astype(np.uint8), _disk(radius))
        pd = cv2.dilate(pb.astype(np.uint8), _disk(radius))
        n_p, n_g = np.sum(pb), np.sum(gb)
        if n_p == 0 and n_g == 0:
            prec = rec = 1.0
        elif n_p == 0 or n_g == 0:
            prec, rec = float(n_p == 0), float(n_g == 0)
        else:
            prec, rec = np.sum(pb * gd) / float(n_p), np.sum(gb * pd) / float(n_g)
        f.append(0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec))
    return np.array(j), np.array(f)


def make_sequence(frames: int, scale: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A moving blob with a wavy outline; the prediction is shifted and has a noisier outline."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:H, :W].astype(np.float32)
    gt = np.zeros((frames, H, W), np.uint8)
    pred = np.zeros_like(gt)
    for t in range(frames):
        cy, cx = H / 2 + 60 * math.sin(t / 9), W / 2 + 150 * math.cos(t / 13)
        ang = np.arctan2(yy - cy, xx - cx)
        r = np.hypot((yy - cy) / (0.8 * H * scale), (xx - cx) / (0.6 * W * scale))
        gt[t][r < 1 + 0.08 * np.sin(5 * ang + t / 5)] = 1
        dy, dx = rng.normal(0, 6, 2)
        rp = np.hypot((yy - cy - dy) / (0.8 * H * scale), (xx - cx - dx) / (0.6 * W * scale))
        pred[t][rp < 1 + 0.08 * np.sin(5 * ang + t / 5) + 0.04 * np.sin(23 * ang + t)] = 1
    return gt, pred


def _best_time(fn, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"J&F throughput, {H}x{W}, one object, {args.frames - 2} scored frames, best of {args.repeats}")
    print(f"{'object size':<22}{'zoo fps':>10}{'peer fps':>10}{'ratio':>8}{'max |diff|':>13}")
    for label, scale in (("small (~5% of frame)", 0.18), ("medium (~20%)", 0.36), ("large (~50%)", 0.58)):
        gt, pred = make_sequence(args.frames, scale)
        ours = jf_sequence(gt, pred)
        j_ref, f_ref = straightforward_jf(gt, pred)
        diff = max(np.abs(ours["J_per_frame"][0] - j_ref).max(), np.abs(ours["F_per_frame"][0] - f_ref).max())
        n = args.frames - 2
        t_ours = _best_time(lambda gt=gt, pred=pred: jf_sequence(gt, pred), args.repeats)
        t_peer = _best_time(lambda gt=gt, pred=pred: straightforward_jf(gt, pred), args.repeats)
        print(f"{label:<22}{n / t_ours:>10.0f}{n / t_peer:>10.0f}{t_peer / t_ours:>7.1f}x{diff:>13.1e}")


if __name__ == "__main__":
    main()

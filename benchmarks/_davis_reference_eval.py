"""The DAVIS-2017 semi-supervised evaluation as ``davis2017-evaluation`` performs it, for the whole-process
benchmark (``rescoring_whole_process.py``): that package is not on PyPI, so this script repeats its
algorithm and data flow with the same libraries, and the benchmark runs it as a subprocess.

Per sequence it reads every annotation and result PNG with PIL, splits them into one boolean (T, H, W) stack
per object, drops the first and last frame, computes J for all frames at once and F frame by frame
(boundary map from three shifted copies, ``cv2.dilate`` with a disk of radius ceil(0.008 * diagonal)),
then mean / recall / decay per object and the global averages, and writes ``global_results-val.csv`` and
``per-sequence_results-val.csv`` with pandas, as the official ``evaluation_method.py`` does.

    python benchmarks/_davis_reference_eval.py DAVIS_ROOT RESULTS_DIR OUT_DIR
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image


def _disk(radius: int) -> np.ndarray:
    try:
        from skimage.morphology import disk
    except ImportError:  # the same offsets: dx^2 + dy^2 <= r^2
        r = int(radius)
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        return (xx * xx + yy * yy <= r * r).astype(np.uint8)
    return disk(radius).astype(np.uint8)


def _read_masks(folder: Path, n_frames: int) -> np.ndarray:
    return np.stack([np.array(Image.open(folder / f"{t:05d}.png")) for t in range(n_frames)])


def _seg2bmap(seg: np.ndarray) -> np.ndarray:
    seg = seg.astype(bool)
    e, s, se = np.zeros_like(seg), np.zeros_like(seg), np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = seg ^ e | seg ^ s | seg ^ se
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = 0
    return b


def _f_measure(fg: np.ndarray, gt: np.ndarray) -> float:
    bound_pix = math.ceil(0.008 * np.linalg.norm(fg.shape))
    fg_b, gt_b = _seg2bmap(fg), _seg2bmap(gt)
    fg_dil = cv2.dilate(fg_b.astype(np.uint8), _disk(bound_pix))
    gt_dil = cv2.dilate(gt_b.astype(np.uint8), _disk(bound_pix))
    gt_match, fg_match = gt_b * fg_dil, fg_b * gt_dil
    n_fg, n_gt = np.sum(fg_b), np.sum(gt_b)
    if n_fg == 0 and n_gt > 0:
        precision, recall = 1.0, 0.0
    elif n_fg > 0 and n_gt == 0:
        precision, recall = 0.0, 1.0
    elif n_fg == 0 and n_gt == 0:
        precision, recall = 1.0, 1.0
    else:
        precision, recall = np.sum(fg_match) / float(n_fg), np.sum(gt_match) / float(n_gt)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _statistics(values: np.ndarray) -> tuple[float, float, float]:
    mean = np.nanmean(values)
    recall = np.nanmean(values > 0.5)
    ids = np.round(np.linspace(1, len(values), 5) + 1e-10) - 1
    ids = ids.astype(np.uint8)
    bins = [values[ids[i] : ids[i + 1] + 1] for i in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        decay = np.nanmean(bins[0]) - np.nanmean(bins[3])
    return float(mean), float(recall), float(decay)


def main(root: Path, results: Path, out: Path) -> None:
    names = (root / "ImageSets" / "2017" / "val.txt").read_text().split()
    rows, j_stats, f_stats = [], [], []
    for name in names:
        ann_dir = root / "Annotations" / "480p" / name
        n = len(list(ann_dir.glob("*.png")))
        gt = _read_masks(ann_dir, n)
        void = gt == 255
        gt[void] = 0
        ids = np.arange(1, int(gt[0].max()) + 1)
        gt_masks = (gt[None] == ids[:, None, None, None])[:, 1:-1]
        res = _read_masks(results / name, n)
        res_masks = (res[None] == ids[:, None, None, None])[:, 1:-1]
        void = void[1:-1]
        for k in range(len(ids)):
            g, r = gt_masks[k], res_masks[k]
            inters = np.sum((r & g) & np.logical_not(void), axis=(-2, -1))
            union = np.sum((r | g) & np.logical_not(void), axis=(-2, -1))
            j = inters / union
            j[np.isclose(union, 0)] = 1
            f = np.array([_f_measure(r[t] * np.logical_not(void[t]), g[t]) for t in range(r.shape[0])])
            j_stats.append(_statistics(j))
            f_stats.append(_statistics(f))
            rows.append((f"{name}_{k + 1}", j_stats[-1][0], f_stats[-1][0]))
    jm, jr, jd = (float(np.mean([s[i] for s in j_stats])) for i in range(3))
    fm, fr, fd = (float(np.mean([s[i] for s in f_stats])) for i in range(3))
    out.mkdir(parents=True, exist_ok=True)
    g = pd.DataFrame([[(jm + fm) / 2, jm, jr, jd, fm, fr, fd]],
                     columns=["J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"])
    g.to_csv(out / "global_results-val.csv", index=False, float_format="%.17g")
    pd.DataFrame(rows, columns=["Sequence", "J-Mean", "F-Mean"]).to_csv(
        out / "per-sequence_results-val.csv", index=False, float_format="%.17g")
    print(g.to_string(index=False))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))

"""Can FineTrack's embedding tell a look-alike from its model? A re-identification probe on ZooSynth-MOT val.

ZooSynth 1.4 dresses some walkers as look-alikes of another (same colours, torso and legs exchanged; see
``zoo.data.synth.sprites.part_swapped_look``): a pooled colour statistic barely separates the two, a feature
of each part does. Tracking scores mix this with detection noise and motion; this probe isolates it. Every
ground-truth box with visibility >= ``--min-vis`` is embedded by the trained tracker (one forward per frame,
exactly the tracker's ``embed``), then, with cosine distance:

- ``twin-pick``: for a walker of a look-alike pair at frame t and both walkers at frame t + ``--gap``, the
  share of cases where its own box is nearer than its twin's (what association faces when the two cross);
- ``twin AUC``: P(d(same identity, any two frames) < d(the pair's two identities, any two frames));
- ``other AUC``: the same against every other walker of the sequence (general re-identification).

    python benchmarks/finetrack_lookalikes.py                       # every outputs/ablations*/<variant> run
    python benchmarks/finetrack_lookalikes.py k6=outputs/ablations/k6 k1=path/to/last.ckpt --threads 2

Prints a markdown table (one row per run, then the mean per variant over seeds); never asserts a score.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from scipy.stats import rankdata

from zoo.core.video import read_image
from zoo.data.formats import motchallenge
from zoo.data.synth import PRESETS, ensure_synth
from zoo.data.synth.store import mot_scene, sequence_name
from zoo.evaluate import load_checkpoint_tracker

VARIANTS = ("k6", "k1", "no_div", "random")


def _checkpoint(path: Path) -> Path:
    return path / "checkpoints" / "last.ckpt" if path.is_dir() else path


def default_runs(root: Path) -> dict[str, Path]:
    """``<ablations dir>/<variant>`` -> last checkpoint, for every ``outputs/ablations*`` folder."""
    runs = {}
    for folder in sorted(root.glob("ablations*")):
        for variant in VARIANTS:
            ckpt = folder / variant / "checkpoints" / "last.ckpt"
            if ckpt.is_file():
                runs[f"{folder.name}/{variant}"] = ckpt
    return runs


def embed_sequences(tracker, preset: str, min_vis: float) -> list[dict]:
    """Per val sequence: ``feats`` {(id, frame): (F,) unit vector}, ``pairs`` [(id, twin id)], ``ids``."""
    config = PRESETS[preset]
    root = ensure_synth(preset)
    out = []
    for index in range(config.mot.val_seqs):
        name = sequence_name("mot", "val", index)
        seq_dir = root / "mot" / "val" / name
        info = motchallenge.read_seqinfo(seq_dir / "seqinfo.ini")
        gt = motchallenge.read_mot_file(seq_dir / "gt" / "gt.txt", "gt", info)
        scene, _ = mot_scene(config, 0, "val", index)
        pairs = [(int(a) + 1, b + 1) for b, a in enumerate(scene.lookalike_of) if a >= 0]
        keep = (gt.scores > 0) & (gt.classes == 1) & (gt.visibility >= min_vis)
        feats: dict[tuple[int, int], np.ndarray] = {}
        for t in np.unique(gt.frames[keep]):
            rows = keep & (gt.frames == t)
            frame = read_image(seq_dir / info.im_dir / f"{int(t):06d}{info.im_ext}")
            with torch.inference_mode():
                emb = tracker.embed(frame, gt.boxes[rows])
            for i, f in zip(gt.ids[rows], emb):
                feats[(int(i), int(t))] = f / max(np.linalg.norm(f), 1e-12)
        out.append(
            {"name": name, "feats": feats, "pairs": pairs, "ids": sorted({int(i) for i in gt.ids[keep]})}
        )
        print(f"  {name}: {len(feats)} boxes, {len(pairs)} look-alike pairs", file=sys.stderr, flush=True)
    return out


def _stack(feats: dict, ident: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames (n,) and features (n, F) of one identity, in frame order."""
    keys = sorted(k for k in feats if k[0] == ident)
    if not keys:
        return np.zeros(0, np.int64), np.zeros((0, 1))
    return np.array([k[1] for k in keys], np.int64), np.stack([feats[k] for k in keys])


def _auc(same: np.ndarray, other: np.ndarray) -> float:
    """P(d_same < d_other) + 0.5 P(tie) over all pairs of the two samples (Mann-Whitney U / (n m))."""
    ranks = rankdata(np.concatenate([same, other]))  # ties get their average rank
    u = ranks[len(same) :].sum() - len(other) * (len(other) + 1) / 2
    return float(u / (len(same) * len(other)))


def probe(sequences: list[dict], gap: int) -> dict[str, float]:
    """The three scores (fractions) and the number of twin-pick queries over all sequences of one embedding.

    Args:
        sequences: as :func:`embed_sequences` returns them (unit-norm features).
        gap: frames between a query and its two candidates.
    """
    picks, twin_same, twin_diff, other_same, other_diff = [], [], [], [], []
    for seq in sequences:
        feats = seq["feats"]
        per_id = {i: _stack(feats, i) for i in seq["ids"]}
        for a, b in seq["pairs"]:
            (ta, fa), (tb, fb) = per_id.get(a, (None, None)), per_id.get(b, (None, None))
            if ta is None or tb is None or len(ta) < 2 or len(tb) < 2:
                continue
            for (tq, fq), (tm, fm) in (((ta, fa), (tb, fb)), ((tb, fb), (ta, fa))):
                own, twin = dict(zip(tq.tolist(), fq)), dict(zip(tm.tolist(), fm))
                for t, q in own.items():
                    if t + gap in own and t + gap in twin:
                        picks.append(float(q @ own[t + gap] > q @ twin[t + gap]))
            d_same = [
                1 - (fa @ fa.T)[np.triu_indices(len(ta), 1)],
                1 - (fb @ fb.T)[np.triu_indices(len(tb), 1)],
            ]
            twin_same += d_same
            twin_diff.append((1 - fa @ fb.T).ravel())
        for i in seq["ids"]:
            ti, fi = per_id[i]
            if len(ti) < 2:
                continue
            other_same.append(1 - (fi @ fi.T)[np.triu_indices(len(ti), 1)])
            rest = [per_id[j][1] for j in seq["ids"] if j != i and len(per_id[j][0])]
            if rest:
                other_diff.append((1 - fi @ np.concatenate(rest).T).ravel())
    return {
        "twin_pick": float(np.mean(picks)) if picks else float("nan"),
        "twin_auc": _auc(np.concatenate(twin_same), np.concatenate(twin_diff)) if twin_diff else float("nan"),
        "other_auc": _auc(np.concatenate(other_same), np.concatenate(other_diff))
        if other_diff
        else float("nan"),
        "queries": len(picks),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="*", help="label=run dir or checkpoint (default: outputs/ablations*/*)")
    parser.add_argument("--outputs", type=Path, default=Path("outputs"))
    parser.add_argument("--preset", default="default")
    parser.add_argument("--gap", type=int, default=5, help="frames between query and candidates (twin-pick)")
    parser.add_argument("--min-vis", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = dict(r.split("=", 1) for r in args.runs) if args.runs else default_runs(args.outputs)
    if not runs:
        parser.error(f"no runs given and no {args.outputs}/ablations*/<variant>/checkpoints/last.ckpt found")
    rows = []
    for label, path in runs.items():
        print(f"[lookalikes] {label}: {path}", file=sys.stderr, flush=True)
        tracker = load_checkpoint_tracker(_checkpoint(Path(path)), "mot").factory()
        rows.append((label, probe(embed_sequences(tracker, args.preset, args.min_vis), args.gap)))
    print(
        f"\nZooSynth-MOT val ({args.preset}), gt boxes with visibility >= {args.min_vis}, twin-pick at "
        f"{args.gap} frames, cosine distance of the tracker's embedding. Percent.\n"
    )
    print("| run | twin-pick | twin AUC | other AUC | twin queries |\n|---|--:|--:|--:|--:|")
    by_variant: dict[str, list[dict]] = defaultdict(list)
    for label, r in rows:
        by_variant[label.rsplit("/", 1)[-1]].append(r)
        print(
            f"| {label} | {100 * r['twin_pick']:.2f} | {100 * r['twin_auc']:.2f} | {100 * r['other_auc']:.2f} "
            f"| {r['queries']} |"
        )
    if any(len(v) > 1 for v in by_variant.values()):
        print(
            "\n| variant (mean over runs) | runs | twin-pick | twin AUC | other AUC |\n|---|--:|--:|--:|--:|"
        )
        for variant, rs in by_variant.items():
            mean = {k: statistics.fmean(r[k] for r in rs) for k in ("twin_pick", "twin_auc", "other_auc")}
            print(
                f"| {variant} | {len(rs)} | {100 * mean['twin_pick']:.2f} | {100 * mean['twin_auc']:.2f} | "
                f"{100 * mean['other_auc']:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

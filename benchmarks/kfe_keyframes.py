"""Where does KFE cut? The key-frame segments of a trained KFE+IFF model on one ZooSynth-MOT sequence,
drawn against the sequence's identity gaps (long occlusions behind the column, border re-entries).

    python benchmarks/kfe_keyframes.py --model outputs/kfe_iff/RUN/checkpoints/last.ckpt \
        [--sequence NAME] [--out docs/img/kfe_keyframes.png]

Top: the frame descriptor's cosine similarity to the open segment's first frame (what KFE's reward reads,
``delta * cos(phi_s, phi_e) - xi``). Bottom: one line per walker over the frames it is visible, its gaps
longer than ``--min-gap`` frames in red. Vertical lines: KFE's segment boundaries. Prints the segments and,
for each long gap, whether a boundary falls inside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def walker_tracks(gt, min_gap: int) -> list[tuple[int, np.ndarray, list[tuple[int, int]]]]:
    """[(id, visible frames, [(first missing, last missing) of each gap > min_gap])] of the walkers."""
    keep = (gt.classes == 1) & (gt.scores == 1) & (gt.visibility > 0)
    out = []
    for tid in np.unique(gt.ids[keep]):
        f = np.unique(gt.frames[keep & (gt.ids == tid)])
        d = np.diff(f) - 1
        gaps = [(int(f[k] + 1), int(f[k + 1] - 1)) for k in np.flatnonzero(d > min_gap)]
        out.append((int(tid), f, gaps))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a kfe_iff checkpoint (KFE on)")
    parser.add_argument("--sequence", default=None, help="val sequence name (default: the first)")
    parser.add_argument("--min-gap", type=int, default=10, help="gaps drawn and reported (frames, default 10)")
    parser.add_argument("--out", default="docs/img/kfe_keyframes.png")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo.data.formats import motchallenge
    from zoo.data.synth import ensure_synth
    from zoo.evaluate import load_checkpoint_tracker
    from zoo.methods.kfe_iff.kfe import frame_descriptors
    from zoo.methods.kfe_iff.tracker import detection_rows
    from zoo.tasks.mot import frame_detections, sequence_detections

    seqs = motchallenge.load_split(Path(ensure_synth("default")) / "mot" / "val")
    seq = next((s for s in seqs if s.name == args.sequence), None) if args.sequence else seqs[0]
    if seq is None:
        raise SystemExit(f"no val sequence {args.sequence!r}; have {[s.name for s in seqs]}")
    tracker = load_checkpoint_tracker(args.model, "mot").factory()
    if tracker.kfe is None:
        raise SystemExit(f"{args.model}: KFE is off in this model (kfe=null); give a kfe_iff checkpoint")
    length = seq.info.seq_length
    dets = frame_detections(sequence_detections(seq, "public"), length)
    tracker.track_sequence(seq, {t + 1: d for t, d in enumerate(dets)})
    segments = tracker.last_segments  # (K, 2) 0-based inclusive frames

    rows = detection_rows({t + 1: d for t, d in enumerate(dets)}, float(tracker.settings["min_score"]))
    feats = tracker.sequence_features(seq, rows)
    phi = frame_descriptors(rows.frames, feats, 1, length)
    cos_to_start = np.empty(length)
    for s, e in segments:
        cos_to_start[s : e + 1] = phi[s : e + 1] @ phi[s]

    tracks = walker_tracks(seq.gt, args.min_gap)
    starts = segments[1:, 0] + 1  # 1-based first frame of every segment after the first
    print(f"{seq.name}: {length} frames, {len(segments)} KFE segments (u={tracker.kfe.min_len}, "
          f"n={tracker.kfe.max_len}); lengths {(segments[:, 1] - segments[:, 0] + 1).tolist()}")
    for tid, _, gaps in tracks:
        for a, b in gaps:
            inside = starts[(starts >= a) & (starts <= b + 1)]
            print(f"  id {tid}: gap frames {a}-{b} ({b - a + 1}), boundaries inside: {inside.tolist()}")

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [1, 2.6]})
    t = np.arange(1, length + 1)
    top.plot(t, cos_to_start, color="#1f77b4", lw=1.2, label="cos(phi_t, phi_segment start)")
    top.axhline(tracker.kfe.xi, color="#888", ls=":", lw=1, label=f"xi = {tracker.kfe.xi}")
    top.set_ylabel("cosine")
    top.legend(loc="lower left", fontsize=8, frameon=False)
    for k, (_tid, f, gaps) in enumerate(tracks):
        bottom.plot(f, np.full(f.size, k), "|", color="#555", ms=4)
        for a, b in gaps:
            bottom.plot([a, b], [k, k], color="#d62728", lw=3, solid_capstyle="butt")
    bottom.set_yticks(range(len(tracks)), [str(tid) for tid, _, _ in tracks], fontsize=6)
    bottom.set_ylabel("walker (gt id)")
    bottom.set_xlabel("frame")
    for ax in (top, bottom):
        for s in starts:
            ax.axvline(s - 0.5, color="#2ca02c", lw=1, alpha=0.8)
    top.set_title(f"KFE key-frame segments on {seq.name} (green: boundaries; red: identity gaps "
                  f"> {args.min_gap} frames)", fontsize=10)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

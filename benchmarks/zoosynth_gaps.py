"""How long are ZooSynth-MOT's identity gaps? A probe of the benchmark itself (generator 1.5 added long ones).

An identity gap is a run of missing frames between two visible (visibility > 0) ground-truth rows of one
walker (class 1, consider 1): hidden behind a column or nearer people, or out of the view. Gaps longer than
an online tracker's lost-track buffer (ByteTrack: 30 frames at 30 fps, i.e. 10 at ZooSynth's 10 fps) are
what offline and long-term association are for.

    python benchmarks/zoosynth_gaps.py                                     # the current default preset
    python benchmarks/zoosynth_gaps.py --data v14=/path/to/zoosynth/default-seed0/mot v15=/other/mot

``--data`` takes MOTChallenge dataset folders holding ``train/`` and ``val/``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from zoo.data.formats import motchallenge


def identity_gaps(split_dir: Path) -> tuple[int, np.ndarray]:
    """(identities, gap lengths in frames) over every sequence of one split folder."""
    ids, gaps = 0, []
    for seq_dir in sorted(p for p in split_dir.iterdir() if (p / "gt" / "gt.txt").is_file()):
        gt = motchallenge.read_mot_file(seq_dir / "gt" / "gt.txt", "gt")
        keep = (gt.classes == 1) & (gt.scores == 1) & (gt.visibility > 0)
        frames, tids = gt.frames[keep], gt.ids[keep]
        for tid in np.unique(tids):
            f = np.unique(frames[tids == tid])
            ids += 1
            d = np.diff(f) - 1
            gaps.append(d[d > 0])
    return ids, np.concatenate(gaps) if gaps else np.zeros(0, np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="*", default=None, help="NAME=DIR (a ZooSynth mot/ folder)")
    parser.add_argument("--buffer", type=int, default=10, help="online buffer in frames (default 10)")
    args = parser.parse_args()
    if args.data:
        roots = [(s.split("=", 1)[0], Path(s.split("=", 1)[1])) for s in args.data]
    else:
        from zoo.data.synth import ensure_synth
        from zoo.data.synth.config import GENERATOR_VERSION

        roots = [(f"ZooSynth {GENERATOR_VERSION}", Path(ensure_synth("default")) / "mot")]
    print(f"| data | split | identities | identity gaps | gaps > {args.buffer} frames | gaps > 30 frames "
          "| longest gap |")
    print("|---|---|---|---|---|---|---|")
    for name, root in roots:
        for split in ("train", "val"):
            if not (root / split).is_dir():
                continue
            ids, g = identity_gaps(root / split)
            longest = int(g.max()) if len(g) else 0
            print(f"| {name} | {split} | {ids} | {len(g)} | {int((g > args.buffer).sum())} | "
                  f"{int((g > 30).sum())} | {longest} |")


if __name__ == "__main__":
    main()

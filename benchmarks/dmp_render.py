"""A DMP propagation through a pillar occlusion: one ZooSynth-VOS val sequence tracked from its first-frame
mask by a trained DMP checkpoint, a strip of frames with the propagated masks filled in their object colours
and the ground truth outlined in white.

    python benchmarks/dmp_render.py --model outputs/dmp_evidence/dmp_seed0/checkpoints/last.ckpt \
        [--sequence zsvos-val-00] [--frames 0 12 17 20 25 39] [--out docs/img/dmp_propagation.png]

Without ``--frames`` it picks six: the first, two while the occluded object (the one whose area drops to
zero) shrinks behind the pillar, one while it is hidden, and two after it reappears. Prints the J of every
object per shown frame.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def occlusion_frames(gt: np.ndarray) -> tuple[int, list[int]]:
    """(object id, six frames) around the longest run of frames where one object's area is zero."""
    best = None
    for obj in (i for i in np.unique(gt) if i):
        hidden = (gt == obj).sum((1, 2)) == 0
        t, runs = 0, []
        while t < len(hidden):
            if hidden[t]:
                s = t
                while t < len(hidden) and hidden[t]:
                    t += 1
                runs.append((t - s, s, t - 1))
            t += 1
        if runs and (best is None or max(runs)[0] > best[1][0]):
            best = (int(obj), max(runs))
    if best is None:
        n = len(gt)
        return 0, sorted({0, n // 5, 2 * n // 5, 3 * n // 5, 4 * n // 5, n - 1})
    obj, (_, s, e) = best
    last = len(gt) - 1
    frames = [0, max(1, s - 6), max(1, s - 2), (s + e) // 2, min(last, e + 3), last]
    return obj, sorted(set(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a dmp checkpoint")
    parser.add_argument("--sequence", default="zsvos-val-00", help="ZooSynth-VOS val sequence")
    parser.add_argument("--frames", type=int, nargs="+", default=None, help="0-based frames to show")
    parser.add_argument("--columns", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.5, help="resize of each 270x480 frame")
    parser.add_argument("--out", default="docs/img/dmp_propagation.png")
    args = parser.parse_args()

    import cv2

    from zoo.core.video import read_image
    from zoo.data.formats import davis
    from zoo.data.synth import ensure_synth
    from zoo.evaluate import load_checkpoint_tracker
    from zoo.viz.vos_render import overlay_masks, strip

    root = Path(ensure_synth("default")) / "vos"
    seqs = davis.load_davis(root, "val", year="2017", resolution="480p")
    seq = next((s for s in seqs if s.name == args.sequence), None)
    if seq is None:
        raise SystemExit(f"no val sequence {args.sequence!r}; have {[s.name for s in seqs]}")
    gt = np.stack([davis.read_palette_mask(seq.annotations[t]) for t in range(len(seq))])
    occluded, auto = occlusion_frames(gt)
    shown = args.frames or auto
    tracker = load_checkpoint_tracker(args.model, "vos").factory()
    frames = [read_image(p) for p in seq.frames]
    pred = [gt[0]]
    tracker.init(frames[0], gt[0])
    for frame in frames[1 : max(shown) + 1]:
        pred.append(tracker.step(frame))
    tiles, captions = [], []
    for t in shown:
        area = int((gt[t] == occluded).sum()) if occluded else -1
        js = []
        for obj in (i for i in np.unique(gt[0]) if i):
            g, p = gt[t] == obj, pred[t] == obj
            union = int((g | p).sum())
            js.append(f"{obj}:{1.0 if union == 0 else (g & p).sum() / union:.2f}")
        print(f"frame {t}: object {occluded} area {area} px; J {' '.join(js)}")
        tiles.append(overlay_masks(frames[t], pred[t], gt=gt[t]))
        state = "first frame (given)" if t == 0 else ("hidden" if area == 0 else f"obj {occluded}: {area} px")
        captions.append(f"t={t}  {state}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = strip(tiles, captions, columns=args.columns, scale=args.scale)
    cv2.imwrite(str(out), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{seq.name}: wrote {out} ({out.stat().st_size / 1024:.0f} KB), frames {shown}")


if __name__ == "__main__":
    main()

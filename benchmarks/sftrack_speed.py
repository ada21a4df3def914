"""SFTrack++ speed: tracker fps split into its parts, with a cold and a warm base-tracker cache, and training
throughput per phase.

Tracker (ZooSynth-SOT val, the first ``--sequences`` sequences; weights do not change the cost, so the
network is the recipe's, freshly initialised):

- **base trackers**: the seven OpenCV trackers stepped on every frame, which is what a cold cache costs
  (``zoo.trackers.cache`` runs them once per sequence, then reads them);
- **cache read**: the warm cache, reading the (T, K, 4) boxes of all trackers for the sequence;
- **feat2seg**: frame resize + NN_feat2seg for the K channels of the new frame (each frame's maps are computed
  once and kept for the window);
- **spectral**: the channel combination + Eq. 1 over the window;
- **seg2box**: NN_seg2box on the refined mask;
- **box**: the largest component's rectangle and the full-size mask.

Training: one optimisation step (forward, backward, AdamW) per phase at the recipe's batch size and window,
on random batches of the recipe's frame size (the data pipeline is not timed: it reads frames and cached
boxes); median of ``--steps`` after one warm-up, reported as samples/s.

    python benchmarks/sftrack_speed.py [--recipe sftrack] [--sequences 4] [--steps 5] [--threads 1]

``--recipe sftrack_got10k`` times the paper size (256 x 448, full-width U-Nets; a slow run on CPU, and
``--batch`` caps its batch). Prints two markdown tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _timed(table: dict[str, float], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            table[name] += time.perf_counter() - start

    return wrapper


def tracker_parts(module: Any, sequences: list[Any], cache_dir: Path) -> tuple[dict[str, float], int]:
    """Seconds per part over all frames after the first (+ the number of such frames)."""
    from zoo.core.video import read_image
    from zoo.trackers.cache import tracker_outputs

    parts: dict[str, float] = defaultdict(float)
    frames = 0
    tracker = module.tracker(cache=True, cache_dir=str(cache_dir))
    net = tracker.net
    net.feat2seg_logits = _timed(parts, "feat2seg", net.feat2seg_logits)
    net.refine = _timed(parts, "spectral", net.refine)
    net.seg2box_logits = _timed(parts, "seg2box", net.seg2box_logits)
    for seq in sequences:
        images = [read_image(f) for f in seq.frames]
        # cold cache: the base trackers themselves, stepped live on every frame after the first
        for src in tracker.sources:
            base = src.build()
            base.init(images[0], np.asarray(seq.boxes[0], np.float64))
            start = time.perf_counter()
            for img in images[1:]:
                base.step(img)
            parts["base trackers (cold cache)"] += time.perf_counter() - start
        for src in tracker.sources:
            tracker_outputs(src, seq, cache_dir)  # fill the cache (not timed: timed above)
        start = time.perf_counter()
        for src in tracker.sources:
            tracker_outputs(src, seq, cache_dir)
        parts["cache read (warm cache)"] += time.perf_counter() - start
        tracker.begin_sequence(seq)
        before = parts["feat2seg"]
        tracker.init(images[0], seq.boxes[0])
        parts["feat2seg"] = before  # the first frame's maps (inside init) are not a per-frame cost
        before = {k: parts[k] for k in ("feat2seg", "spectral", "seg2box")}
        start = time.perf_counter()
        for img in images[1:]:
            tracker.step(img)
        step_total = time.perf_counter() - start
        network = sum(parts[k] - before[k] for k in before)
        parts["box"] += step_total - network  # mask_to_box, the full-size mask, the window's bookkeeping
        frames += len(images) - 1
    return parts, frames


def training_throughput(recipe: str, steps: int, batch_cap: int | None) -> list[tuple[str, int, int, float]]:
    """(phase, batch, window, samples/s) per phase of ``recipe``."""
    from hydra.utils import instantiate

    from zoo.config import compose
    from zoo.train import phase_config

    cfg = compose([f"recipe={recipe}"])
    rows = []
    for phase in cfg.phases:
        pc = phase_config(cfg, str(phase), Path("/tmp/unused"))
        model = instantiate(pc.model).train()
        opt = model.configure_optimizers()["optimizer"]
        h, w = (int(v) for v in pc.data.image_size)
        t, k = int(pc.data.window), len(pc.model.trackers)
        b = int(pc.data.batch_size) if batch_cap is None else min(int(pc.data.batch_size), batch_cap)
        g = torch.Generator().manual_seed(0)
        images = torch.rand(b, t, 3, h, w, generator=g)
        masks = torch.zeros(b, t, h, w)
        masks[..., h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 1
        boxes = torch.tensor([w / 4, h / 4, 3 * w / 4, 3 * h / 4]).expand(b, t, 4).clone()
        batch = {"images": images, "boxes": boxes, "channels": boxes[:, :, None] + torch.randn(b, t, k, 4)}
        if int(pc.model.phase) < 3:
            batch["masks"] = masks
        times = []
        for i in range(steps + 1):
            start = time.perf_counter()
            loss = model.phase_losses(batch)["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i:  # the first step allocates
                times.append(time.perf_counter() - start)
        rows.append((str(phase), b, t, b / statistics.median(times)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="sftrack")
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=None, help="cap the training batch (paper size on CPU)")
    parser.add_argument("--cache-dir", default=None, help="base-tracker cache (default: a fresh temp folder)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import tempfile

    from hydra.utils import instantiate

    from zoo.config import compose
    from zoo.data.modules import SOTDataModule
    from zoo.train import phase_config

    cfg = compose([f"recipe={args.recipe}"])
    last = list(cfg.phases)[-1]
    module = instantiate(phase_config(cfg, str(last), Path("/tmp/unused")).model).eval()
    size = tuple(int(v) for v in cfg.data.image_size)
    sequences = SOTDataModule().sequences("val")[: args.sequences]
    with tempfile.TemporaryDirectory() as tmp:
        parts, frames = tracker_parts(module, sequences, Path(args.cache_dir or tmp))
    print(
        f"\n### SFTrack++ tracker, recipe {args.recipe} ({size[0]}x{size[1]}, {len(module.hparams.trackers)} "
        f"base trackers), {len(sequences)} ZooSynth-SOT val sequences, {frames} frames, "
        f"{args.threads} torch thread(s)\n"
    )
    print("| part | ms / frame | share of a warm-cache frame |")
    print("|---|--:|--:|")
    warm_parts = ["cache read (warm cache)", "feat2seg", "spectral", "seg2box", "box"]
    warm = sum(parts[k] for k in warm_parts)
    for name in ["base trackers (cold cache)", *warm_parts]:
        share = f"{parts[name] / warm * 100:.1f} %" if name in warm_parts else "-"
        print(f"| {name} | {parts[name] / frames * 1e3:.2f} | {share} |")
    cold = warm - parts["cache read (warm cache)"] + parts["base trackers (cold cache)"]
    print(f"| **tracker, warm cache** | {warm / frames * 1e3:.2f} | {frames / warm:.1f} fps |")
    print(f"| **tracker, cold cache** | {cold / frames * 1e3:.2f} | {frames / cold:.1f} fps |")

    print(
        f"\n### Training throughput per phase, recipe {args.recipe} (random batches, median of {args.steps} "
        "steps)\n"
    )
    print("| phase | batch | window | samples / s | windows x frames / s |")
    print("|---|--:|--:|--:|--:|")
    for phase, b, t, rate in training_throughput(args.recipe, args.steps, args.batch):
        print(f"| {phase} | {b} | {t} | {rate:.1f} | {rate * t:.1f} |")


if __name__ == "__main__":
    main()

"""FineTrack speed on CPU: training throughput of the CPU recipe and inference split into network vs association.

Training (``--train-steps``): the ``finetrack`` recipe's module and data module (ZooSynth default preset,
generated on first use), ``--train-steps`` optimiser steps on real SGS batches after one warm-up step;
frames/s counts the frames of every batch (B = ``data.group_size``) over the wall time of loading + forward
+ backward + step, and separately over compute only.

Peak memory per phase: on Linux the process's peak resident set (``VmHWM``) is reset before each phase
(``/proc/self/clear_refs``) and read after it, so each row shows its own peak; on CUDA also
``torch.cuda.max_memory_allocated`` (reset per phase). ``--device cuda`` runs both phases on the GPU.

Inference (``--infer-frames``), two sizes:

- ZooSynth: the ``finetrack`` recipe's network (untrained weights: speed does not depend on them) on the
  first ZooSynth-MOT val sequence, its frames (480x270) and public detections;
- paper: the ``finetrack_mot17`` network (ResNet-50, 608x1088 input, FPN 256, ROI 16x8) on 1920x1080
  random frames with the boxes of a real MOT17 result file (``$ZOO_MOT17_TRACKEVAL``, default
  ``/work/shared/data/mot17-train-trackeval``, MOT17-02-FRCNN) as detections.

The tracker's own timers split each ``step`` into ``embed`` (letterbox + normalise + trunk + FAFPN + ROI
Align + MPMG for all boxes of the frame, one forward) and ``assoc`` (BYTE with the fused distance); image
reading is outside both. Prints a table; never asserts a timing.

    python benchmarks/finetrack_speed.py [--threads N] [--device cpu|cuda] [--train-steps 10] [--infer-frames 30]
        [--skip-paper] [--skip-synth]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hydra.utils import instantiate

from zoo.config import compose
from zoo.core.video import read_image
from zoo.data.formats.motchallenge import read_mot_file, read_seqinfo
from zoo.tasks.mot import frame_detections, sequence_detections
from zoo.tasks.protocols import Detections

MOT17_ROOT = Path(os.environ.get("ZOO_MOT17_TRACKEVAL", "/work/shared/data/mot17-train-trackeval"))


@contextmanager
def peak_memory(device: torch.device) -> Iterator[dict[str, float | None]]:
    """Peak memory of the enclosed phase: ``rss_mib`` (process resident set; None where the peak cannot be
    reset, i.e. outside Linux) and ``cuda_mib`` (None on CPU)."""
    out: dict[str, float | None] = {"rss_mib": None, "cuda_mib": None}
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        resettable = True
    except OSError:
        resettable = False
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    yield out
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        out["cuda_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    if resettable:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                out["rss_mib"] = int(line.split()[1]) / 1024


def to_device(x: Any, device: torch.device) -> Any:
    """Tensors of a nested batch (dicts, lists, tuples) moved to ``device``."""
    if isinstance(x, torch.Tensor):
        return x.to(device, non_blocking=True)
    if isinstance(x, dict):
        return {k: to_device(v, device) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, device) for v in x)
    return x


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_throughput(steps: int, device: torch.device) -> dict[str, float]:
    cfg = compose(["recipe=finetrack"])
    data = instantiate(cfg.data)
    data.prepare_data()
    data.setup("fit")
    module = instantiate(cfg.model, num_identities=data.num_identities).to(device)
    module.train()
    optimizer = module.make_optimizer()
    loader = iter(data.train_dataloader())
    frames = 0
    wall = compute = 0.0
    for i in range(steps + 1):
        t0 = time.perf_counter()
        batch = to_device(next(loader), device)
        _sync(device)
        t1 = time.perf_counter()
        loss = module.compute_losses(batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        _sync(device)
        t2 = time.perf_counter()
        if i == 0:
            continue  # warm-up: first-call allocations, worker start
        frames += int(batch["image"].shape[0])
        wall += t2 - t0
        compute += t2 - t1
    return {
        "frames": frames,
        "fps_wall": frames / wall,
        "fps_compute": frames / compute,
        "s_per_step": wall / steps,
        "input": tuple(cfg.data.image_size),
        "group": int(cfg.data.group_size),
    }


def run_tracker(tracker, frames, dets, info) -> dict[str, float]:
    tracker.reset(info)
    tracker.step(frames[0], dets[0])  # warm-up (not timed below)
    tracker.reset(info)
    tracker.timings.update(frames=0, embed_s=0.0, assoc_s=0.0)
    for frame, det in zip(frames, dets):
        tracker.step(frame, det)
    t = tracker.timings
    n = t["frames"]
    return {
        "frames": n,
        "boxes": sum(len(d) for d in dets) / n,
        "embed_ms": 1e3 * t["embed_s"] / n,
        "assoc_ms": 1e3 * t["assoc_s"] / n,
        "fps": n / (t["embed_s"] + t["assoc_s"]),
    }


def synth_inference(n_frames: int, device: torch.device) -> dict[str, float]:
    cfg = compose(["recipe=finetrack"])
    data = instantiate(cfg.data)
    seq = data.eval_sequences()[0]
    module = instantiate(cfg.model, num_identities=1).eval().to(device)
    n = min(n_frames, seq.info.seq_length)
    frames = [read_image(seq.image_path(t)) for t in range(1, n + 1)]
    dets = frame_detections(sequence_detections(seq, "public"), seq.info.seq_length)[:n]
    with peak_memory(device) as peak:
        out = run_tracker(module.tracker(), frames, dets, seq.info)
    out.update(peak)
    out.update(
        size=f"{seq.info.im_width}x{seq.info.im_height} -> {cfg.data.image_size[1]}x{cfg.data.image_size[0]}"
    )
    return out


def paper_inference(n_frames: int, device: torch.device) -> dict[str, float]:
    cfg = compose(["recipe=finetrack_mot17", "model.pretrained=false"])
    module = instantiate(cfg.model, num_identities=1).eval().to(device)
    name = "MOT17-02-FRCNN"
    info = read_seqinfo(MOT17_ROOT / "gt" / "MOT17-train" / name / "seqinfo.ini")
    rows = read_mot_file(MOT17_ROOT / "tracker" / "data" / f"{name}.txt", "det", seq_info=info)
    dets = []
    for t in range(1, n_frames + 1):
        r = rows.frame(t)
        dets.append(Detections(r.boxes, np.clip(r.scores, 0.0, 1.0)))
    rng = np.random.default_rng(0)
    frames = [
        rng.integers(0, 255, (info.im_height, info.im_width, 3), dtype=np.uint8) for _ in range(n_frames)
    ]
    with peak_memory(device) as peak:
        out = run_tracker(module.tracker(), frames, dets, info)
    out.update(peak)
    out.update(size=f"{info.im_width}x{info.im_height} -> 1088x608")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--train-steps", type=int, default=10)
    parser.add_argument("--infer-frames", type=int, default=30)
    parser.add_argument("--skip-paper", action="store_true")
    parser.add_argument("--skip-synth", action="store_true", help="no ZooSynth inference row")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, torch threads "
        f"{torch.get_num_threads()}, load average {load:.1f} at start"
    )
    device = torch.device(args.device)
    if args.train_steps:
        with peak_memory(device) as peak:
            tr = train_throughput(args.train_steps, device)
        print(
            f"train (recipe=finetrack, input {tr['input'][0]}x{tr['input'][1]}, {tr['group']} frames a batch): "
            f"{tr['frames']} frames, {tr['s_per_step']:.2f} s/step, {tr['fps_wall']:.2f} frames/s wall "
            f"({tr['fps_compute']:.2f} frames/s compute only); peak {_mem(peak)}"
        )
    rows = []
    if args.infer_frames:
        if not args.skip_synth:
            rows.append(("ZooSynth (recipe finetrack)", synth_inference(args.infer_frames, device)))
        if not args.skip_paper:
            rows.append(("paper (finetrack_mot17)", paper_inference(args.infer_frames, device)))
    if rows:
        header = (
            f"{'inference':<28}{'frame -> input':<22}{'frames':>7}{'boxes/f':>9}{'embed ms':>10}"
            f"{'assoc ms':>10}{'fps':>8}  peak memory"
        )
        print(header)
        print("-" * len(header))
        for name, r in rows:
            print(
                f"{name:<28}{r['size']:<22}{r['frames']:>7}{r['boxes']:>9.1f}{r['embed_ms']:>10.1f}"
                f"{r['assoc_ms']:>10.2f}{r['fps']:>8.2f}  {_mem(r)}"
            )
    print(
        f"note: {device.type.upper()}, untrained weights (speed does not depend on them), no detector (detections are "
        "inputs). No peer FineTrack implementation exists (the paper released no code), so no side-by-side row."
    )


def _mem(r: dict[str, Any]) -> str:
    rss = "n/a" if r.get("rss_mib") is None else f"{r['rss_mib']:.0f} MiB RSS"
    return rss + ("" if r.get("cuda_mib") is None else f", {r['cuda_mib']:.0f} MiB CUDA")


if __name__ == "__main__":
    main()

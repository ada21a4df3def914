"""DMP speed on CPU: propagation fps (encoder vs the rest), peak memory against video length, the local-window
affinity against a dense all-pairs one, and training throughput of the ``dmp`` recipe.

Randomly initialised networks (speed does not depend on the weights) at two sizes: the ``dmp`` recipe
(ResNet-18 stride pattern at 1/4 width, 32-d, test radius 8, memory [2, 2], 8 recent frames) and the paper's
``dmp_ytvos`` (full-width ResNet-18, 64-d, radius 12, memory [4, 4], 20 recent frames).

1. **Propagation fps** at the size the tracker sees ZooSynth frames (270x480 resized to 136x240) and at DAVIS
   480p (480x854, random frames; ``--davis``, minutes a frame), in the steady state: memory full (first frame + long-term + short-term
   references, every recent frame within ``beta``) and the long-term agreement test run every frame, as from
   frame ``recent_frames + 1`` on. ``encoder`` is ``DMPTracker._encode`` (resize, Lab, trunk, unit norm);
   ``rest`` is everything after it (three branches, k-means, backward top-k, fusion, memory engine,
   read-out). The peer is the plain propagation (DMP's modules off: first + previous frame, one branch).
2. **Peak memory against length**: one fresh process per (tracker, length) tracks random frames generated on
   the fly (nothing else grows) and reports its peak RSS (``VmHWM``), its RSS before tracking and the
   bytes the tracker holds. The peer is a growing reference list (every past frame a reference, as CRW/MAST-
   style propagation without a bound): the same tracker with its memory bound removed
   (``memory_size=[10**9, 0]``, ``recent_frames=10**9``, ``beta=2``, one plain branch).
3. **Window vs dense affinity**: :func:`zoo.methods.dmp.affinity.propagate` with the square window, tiled
   (16 x 16 query tiles scored against the cells within the radius only: what the tracker runs) and as masked
   blocks of query rows, against one dense all-pairs softmax over every reference cell; the tiled window and
   the dense affinity masked to the window and renormalised must give the masked blocks' output (max |diff|),
   the unrestricted dense one does not. All at top-k off; peak RSS per call (``VmHWM`` reset before each).
4. **Training throughput**: the ``dmp`` recipe's step (``clip_losses`` forward + backward + Adam) on ZooSynth
   clips (12 clips of 8 frames at 96x96), after one warm-up step.

Timings are medians over frames/steps/repeats; the machine's load average is printed before each part, since
other jobs may share the cores. Prints tables; never fails on a timing.

    python benchmarks/dmp_speed.py [--threads 1] [--frames 5] [--davis [--frames-480p 1]] [--lengths 100 1000]
        [--skip-fps] [--skip-memory] [--skip-affinity] [--skip-train] [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

from zoo.methods.dmp.affinity import propagate, window_restriction
from zoo.methods.dmp.memory import FeatureStats
from zoo.methods.dmp.module import DMPModule
from zoo.methods.dmp.tracker import DMPTracker, _Frame

console = Console(width=None if sys.stdout.isatty() else 200)

#: Model keyword arguments of the two sizes (``recipes/dmp.yaml`` and ``recipes/dmp_ytvos.yaml``).
SIZES: dict[str, dict[str, Any]] = {
    "recipe": {
        "channels": [16, 32, 64, 64], "stem_width": 16, "embed_dim": 32, "test_radius": 8,
        "memory_size": [2, 2], "recent_frames": 8,
    },
    "paper": {
        "channels": [64, 128, 256, 256], "stem_width": 64, "embed_dim": 64, "test_radius": 12,
        "memory_size": [4, 4], "recent_frames": 20,
    },
}  # fmt: skip
PLAIN = {"short_term": False, "long_term": False, "clustering": False, "bidirectional": False}
#: The growing reference list: every past frame is a short-term reference, one plain branch.
GROW = {
    "short_term": True, "long_term": False, "memory_size": [10**9, 0], "recent_frames": 10**9, "beta": 2.0,
    "clustering": False, "bidirectional": False,
}  # fmt: skip
SYNTH_HW, DAVIS_HW = (270, 480), (480, 854)
TILE = 16  # the tracker's default tile side


# ---------------------------------------------------------------------------------------------- helpers
def load() -> str:
    """The 1/5/15-minute load average and the core count, for the tables' captions."""
    try:
        one, five, fifteen = os.getloadavg()
        return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "load average unavailable"


def _status_mib(field: str) -> float:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB; NaN off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _rss_mib() -> float:
    return _status_mib("VmRSS")


@contextmanager
def peak_rss() -> Iterator[dict[str, float | None]]:
    """Peak resident set of the enclosed code above the RSS at entry (MiB; None where ``VmHWM`` cannot be
    reset, i.e. outside Linux)."""
    out: dict[str, float | None] = {"peak_mib": None}
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
        start = _rss_mib()
    except OSError:
        start = None
    yield out
    if start is not None:
        out["peak_mib"] = _status_mib("VmHWM") - start


def build_module(size: str, **settings: Any) -> DMPModule:
    """A randomly initialised DMPModule at ``size`` (``recipe`` | ``paper``), seed 0."""
    torch.manual_seed(0)
    return DMPModule(**{**SIZES[size], **settings}).eval()


def random_frame(rng: np.random.Generator, hw: tuple[int, int]) -> np.ndarray:
    """A smooth random colour frame (noise at 1/8 size, upsampled), so features are not pure noise."""
    h, w = hw
    small = rng.integers(0, 256, (max(1, h // 8), max(1, w // 8), 3), dtype=np.uint8)
    t = torch.from_numpy(small).permute(2, 0, 1)[None].float()
    return (
        F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)[0].permute(1, 2, 0).byte().numpy()
    )


def first_mask(hw: tuple[int, int]) -> np.ndarray:
    """Two objects: a box at the centre and one at the left."""
    h, w = hw
    m = np.zeros(hw, np.uint8)
    m[h // 3 : 2 * h // 3, 2 * w // 5 : 3 * w // 5] = 1
    m[h // 4 : h // 2, w // 10 : w // 4] = 2
    return m


def fill_memory(tracker: DMPTracker, rng: np.random.Generator, hw: tuple[int, int]) -> int:
    """Put the tracker in its steady state right after ``init``: ``recent_frames`` recent entries (all at the
    last target position, so short-term memory is full) and a full long-term memory. Entries are encoded
    random frames (a few, reused) with the first frame's labels. Returns the references a step will use."""
    s = tracker.settings
    pool = [tracker._encode(random_frame(rng, hw)) for _ in range(2)]
    labels = tracker._first.values[:-2]

    def entry(i: int) -> _Frame:
        feats, lab = pool[i % len(pool)]
        return _Frame(feats, torch.cat([labels, lab[1:]]), tracker._last.position.clone())

    if s.long_term:
        for i in range(s.memory_size[1]):
            e = entry(i)
            tracker._long.entries.append(e)
            tracker._long.stats.append(FeatureStats.of(e.feats))
    recent = s.recent_frames if s.short_term else 1
    for i in range(recent):
        tracker._recent.append(entry(i + 1))
    short = min(s.memory_size[0], recent) if s.short_term else 1
    return int(s.keep_first) + len(tracker._long) + short


def _time_tracker(
    tracker: DMPTracker, hw: tuple[int, int], frames: int, steady: bool, warmup: bool = True
) -> dict[str, float]:
    """Median per-frame encoder / rest / total time of ``frames`` steps (after one untimed step when
    ``warmup``; otherwise only the window mask, the one cached allocation, is built beforehand)."""
    rng = np.random.default_rng(0)
    spent = {"encode": 0.0}
    encode = tracker._encode

    def timed(frame):
        t0 = time.perf_counter()
        try:
            return encode(frame)
        finally:
            spent["encode"] += time.perf_counter() - t0

    tracker._encode = timed  # instance attribute: this tracker only
    tracker.init(random_frame(rng, hw), first_mask(hw))
    refs = fill_memory(tracker, rng, hw) if steady else 2
    clips = [random_frame(rng, hw) for _ in range(frames + 1)]
    if warmup:
        tracker.step(clips[0])  # allocator, window-mask cache
    else:
        grid = tuple(tracker._first.feats.shape[-2:])
        window_restriction(*grid, 1, tracker.settings.test_radius)
    enc, total = [], []
    for frame in clips[1:]:
        spent["encode"] = 0.0
        t0 = time.perf_counter()
        tracker.step(frame)
        total.append(time.perf_counter() - t0)
        enc.append(spent["encode"])
    rest = [t - e for t, e in zip(total, enc)]
    med = statistics.median(total)
    return {
        "refs": refs, "encoder_ms": 1e3 * statistics.median(enc), "rest_ms": 1e3 * statistics.median(rest),
        "total_ms": 1e3 * med, "fps": 1.0 / med, "frames": frames,
    }  # fmt: skip


def fps_rows(frames: int, frames_480p: int, sizes: list[tuple[int, int]], models: list[str]) -> list[dict]:
    """Steady-state propagation speed of DMP and of the plain propagation, per model size and frame size."""
    rows = []
    for size in models:
        for hw in sizes:
            big = hw[0] * hw[1] > 200_000
            n = frames_480p if big else frames
            # ZooSynth frames are 270x480 and the recipe resizes them to 136x240; DAVIS runs at its own size.
            input_size = (136, 240) if hw == SYNTH_HW else None
            for name, extra in (("DMP", {}), ("plain propagation", PLAIN)):
                module = build_module(size, **extra)
                with torch.no_grad():
                    tracker = module.tracker(input_size=input_size)
                    r = _time_tracker(tracker, hw, n, steady=not extra, warmup=not big)
                view = input_size or hw
                rows.append(
                    {
                        "model": size,
                        "tracker": name,
                        "frame": f"{hw[0]}x{hw[1]}",
                        "net input": f"{view[0]}x{view[1]}",
                        **r,
                    }
                )
                console.print(
                    f"  {size:<7}{name:<19}{hw[0]}x{hw[1]}: {r['fps']:.2f} fps "
                    f"(encoder {r['encoder_ms']:.0f} ms, rest {r['rest_ms']:.0f} ms, {n} frames)"
                )
    return rows


# ---------------------------------------------------------------------------------------- memory probe
def held_mib(tracker: DMPTracker) -> float:
    """MiB of tensors the tracker keeps between frames (first frame, recent history, long-term memory)."""
    entries = [tracker._first, *tracker._recent, *tracker._long.entries]
    return sum(t.numel() * t.element_size() for e in entries for t in (e.feats, e.values)) / 2**20


def _probe(mode: str, length: int, hw: tuple[int, int]) -> None:
    """Child process: track ``length`` random frames with ``mode`` (``dmp`` | ``grow``), print JSON."""
    torch.set_num_threads(int(os.environ.get("DMP_BENCH_THREADS", "0")) or torch.get_num_threads())
    module = build_module("recipe", **(GROW if mode == "grow" else {}))
    tracker = module.tracker(input_size=None)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        tracker.init(random_frame(rng, hw), first_mask(hw))
        tracker.step(random_frame(rng, hw))
        before = _rss_mib()
        times = []
        for _ in range(length - 2):
            frame = random_frame(rng, hw)
            t0 = time.perf_counter()
            tracker.step(frame)
            times.append(time.perf_counter() - t0)
    peak = _status_mib("VmHWM")  # not ru_maxrss: Linux keeps the parent's peak across fork + exec
    tail = times[-min(20, len(times)) :]
    print(json.dumps({"peak_mib": peak, "before_mib": before, "held_mib": held_mib(tracker),
                      "last_ms": 1e3 * statistics.median(tail), "seconds": sum(times)}))  # fmt: skip


def probe_memory(mode: str, length: int, hw: tuple[int, int], threads: int) -> dict[str, float]:
    """Peak memory of a fresh process tracking ``length`` frames (see :func:`_probe`)."""
    env = {**os.environ, "DMP_BENCH_THREADS": str(threads)}
    cmd = [sys.executable, __file__, "--probe", mode, str(length), str(hw[0]), str(hw[1])]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, timeout=3600).stdout
    return json.loads(out.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ window vs dense
def dense_propagate(
    query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, window: torch.Tensor, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The dense all-pairs propagation: one (Nq, Nc) softmax over every reference cell. Returns the dense
    output and the output of the same affinity masked to ``window`` ((Nq, Nc) bool) and renormalised."""
    affinity = torch.softmax(query @ keys.T / temperature, dim=1)
    dense = affinity @ values
    affinity = affinity * window
    restricted = (affinity / affinity.sum(dim=1, keepdim=True)) @ values
    return dense, restricted


def _timed_calls(fn: Any, repeats: int) -> tuple[Any, list[float], float | None]:
    """(last result, seconds per call, peak RSS MiB over the calls) of ``repeats`` calls of ``fn``."""
    times: list[float] = []
    peak = None
    out = None
    for _ in range(repeats):
        with peak_rss() as mem:
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        peak = mem["peak_mib"] if peak is None else max(peak, mem["peak_mib"] or 0)
    return out, times, peak


def affinity_rows(
    cases: list[tuple[str, int, int, int, int, int]], repeats: int, dense_limit_gib: float
) -> list[dict]:
    """Window vs dense on random unit-norm features: cases (name, h, w, refs, channels, radius)."""
    rows = []
    for name, h, w, refs, c, radius in cases:
        g = torch.Generator().manual_seed(0)
        n = h * w
        q = F.normalize(torch.randn(n, c, generator=g), dim=1)
        k = F.normalize(torch.randn(refs * n, c, generator=g), dim=1)
        v = torch.softmax(torch.randn(refs * n, 4, generator=g), dim=1)
        window = window_restriction(h, w, refs, radius)
        chunk = 2048
        run = functools.partial(propagate, q, k, v, window, temperature=0.07)
        ours, t_win, mem_win = _timed_calls(functools.partial(run, chunk=chunk), repeats)
        tiled, t_tile, mem_tile = _timed_calls(functools.partial(run, tile=TILE), repeats)
        dense_gib = n * refs * n * 4 / 2**30
        row = {"case": name, "grid": f"{h}x{w}", "refs": refs, "radius": radius, "window_ms": 1e3 * statistics.median(t_win),
               "window_mib": mem_win, "dense_gib": dense_gib, "tiled_ms": 1e3 * statistics.median(t_tile),
               "tiled_mib": mem_tile, "diff_tiled": float((tiled - ours).abs().max())}  # fmt: skip
        if dense_gib <= dense_limit_gib:
            mask = window(0, n)
            (dense, restricted), t_dense, mem_dense = _timed_calls(
                functools.partial(dense_propagate, q, k, v, mask, 0.07), repeats
            )
            row.update(dense_ms=1e3 * statistics.median(t_dense), dense_mib=mem_dense,
                       diff_window=float((restricted - ours).abs().max()),
                       diff_unrestricted=float((dense - ours).abs().max()))  # fmt: skip
            del mask, dense, restricted
        rows.append(row)
        console.print(f"  {name}: window {row['window_ms']:.0f} ms, tiled {row['tiled_ms']:.0f} ms" + (
            f", dense {row['dense_ms']:.0f} ms, max |diff| in window {row['diff_window']:.1e}"
            if "dense_ms" in row else f", dense skipped ({dense_gib:.1f} GiB of affinity)"))  # fmt: skip
    return rows


# ------------------------------------------------------------------------------------------- training
def train_throughput(steps: int, overrides: list[str], random_clips: bool) -> dict[str, float]:
    """``steps`` optimiser steps of the recipe's ``clip_losses`` after one warm-up; clips/s over compute (and
    over loading + compute when clips come from the data module)."""
    from hydra.utils import instantiate

    from zoo.config import compose

    cfg = compose(["recipe=dmp", "data.num_workers=0", *overrides])
    torch.manual_seed(0)
    module = instantiate(cfg.model)
    module.train()
    opt = module.configure_optimizers()
    opt = opt["optimizer"] if isinstance(opt, dict) else opt
    b, t = int(cfg.data.batch_size), int(cfg.data.clip_len)
    hw = tuple(int(x) for x in cfg.data.image_size)
    if random_clips:
        g = torch.Generator().manual_seed(0)
        batches = iter(lambda: {"images": torch.rand(b, t, 3, *hw, generator=g)}, None)
    else:
        data = instantiate(cfg.data)
        data.prepare_data()
        data.setup("fit")
        batches = iter(data.train_dataloader())
    walls, computes = [], []
    with peak_rss() as mem:
        for i in range(steps + 1):
            t0 = time.perf_counter()
            batch = next(batches)
            t1 = time.perf_counter()
            loss = module.net.clip_losses(batch["images"])["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            t2 = time.perf_counter()
            if i:  # step 0 is the warm-up
                walls.append(t2 - t0)
                computes.append(t2 - t1)
    return {
        "clips": b, "frames": t, "size": f"{hw[0]}x{hw[1]}", "steps": steps,
        "s_per_step": statistics.median(computes), "clips_s": b / statistics.median(computes),
        "clips_s_wall": b / statistics.median(walls), "peak_mib": mem["peak_mib"],
        "source": "random clips" if random_clips else f"{cfg.data.benchmark} train clips",
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------- tables
def _f(x: float | None, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def print_fps(rows: list[dict], caption: str) -> None:
    table = Table(title="1. Propagation speed, steady state (memory full)", caption=caption)
    for col in ("model", "tracker", "frame", "net input", "refs", "encoder ms", "rest ms", "fps", "vs plain"):
        table.add_column(col, justify="left" if col in ("model", "tracker") else "right")
    plain = {(r["model"], r["frame"]): r for r in rows if r["tracker"] != "DMP"}
    for r in rows:
        base = plain.get((r["model"], r["frame"]))
        ratio = "" if r["tracker"] != "DMP" or base is None else f"{base['fps'] / r['fps']:.1f}x slower"
        table.add_row(r["model"], r["tracker"], r["frame"], r["net input"], str(r["refs"]),
                      f"{r['encoder_ms']:.0f}", f"{r['rest_ms']:.0f}", f"{r['fps']:.2f}", ratio)  # fmt: skip
    console.print(table)


def print_memory(rows: list[dict], caption: str) -> None:
    table = Table(title="2. Peak memory against video length (fresh process each)", caption=caption)
    for col in (
        "tracker",
        "frames",
        "peak RSS MiB",
        "tracking MiB",
        "held MiB",
        "ms/frame at end",
        "peak ratio",
    ):
        table.add_column(col, justify="left" if col == "tracker" else "right")
    first = {}
    for r in rows:
        first.setdefault(r["tracker"], r)
        ratio = r["peak_mib"] / first[r["tracker"]]["peak_mib"]
        table.add_row(r["tracker"], str(r["frames"]), f"{r['peak_mib']:.0f}", f"{r['peak_mib'] - r['before_mib']:.1f}",
                      f"{r['held_mib']:.2f}", f"{r['last_ms']:.1f}", f"{ratio:.2f}x")  # fmt: skip
    console.print(table)


def print_affinity(rows: list[dict], caption: str) -> None:
    table = Table(
        title=f"3. Local-window affinity: tiled ({TILE}x{TILE} query tiles, what the tracker runs), masked blocks "
        "of 2048 queries, dense all-pairs", caption=caption,
    )  # fmt: skip
    cols = ("case", "grid", "refs", "radius", "tiled ms", "window ms", "dense ms", "window / tiled",
            "dense / window", "tiled peak MiB", "window peak MiB", "dense peak MiB", "max |diff| tiled",
            "max |diff| in window", "max |diff| unrestricted")  # fmt: skip
    for col in cols:
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in rows:
        has = "dense_ms" in r
        table.add_row(
            r["case"], r["grid"], str(r["refs"]), str(r["radius"]), f"{r['tiled_ms']:.0f}", f"{r['window_ms']:.0f}",
            f"{r['dense_ms']:.0f}" if has else f"not run ({r['dense_gib']:.1f} GiB)",
            f"{r['window_ms'] / r['tiled_ms']:.1f}x", f"{r['dense_ms'] / r['window_ms']:.2f}x" if has else "-",
            _f(r["tiled_mib"], ".0f"), _f(r["window_mib"], ".0f"), _f(r.get("dense_mib"), ".0f"),
            _f(r["diff_tiled"], ".1e"), _f(r.get("diff_window"), ".1e"), _f(r.get("diff_unrestricted"), ".2f"),
        )  # fmt: skip
    console.print(table)


def print_train(r: dict, caption: str) -> None:
    table = Table(title="4. Training throughput, dmp recipe (forward + backward + Adam)", caption=caption)
    for col in (
        "clips x frames",
        "crop",
        "source",
        "steps",
        "s/step",
        "clips/s",
        "clips/s with loading",
        "peak MiB",
    ):
        table.add_column(col, justify="right")
    table.add_row(f"{r['clips']} x {r['frames']}", r["size"], r["source"], str(r["steps"]), f"{r['s_per_step']:.2f}",
                  f"{r['clips_s']:.2f}", f"{r['clips_s_wall']:.2f}", _f(r["peak_mib"], ".0f"))  # fmt: skip
    console.print(table)


# ------------------------------------------------------------------------------------------------ main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default 1: on shared cores, OpenMP "
        "threads spin against other jobs; at load 10 on 2 cores one thread ran a small DMP step 11x "
        "faster than two)",
    )
    p.add_argument("--davis", action="store_true", help="also part 1 at 480x854 (minutes a frame on a CPU)")
    p.add_argument("--frames", type=int, default=5, help="timed steady-state frames at ZooSynth size")
    p.add_argument(
        "--frames-480p", type=int, default=1, help="timed steady-state frames at 480x854 (--davis)"
    )
    p.add_argument("--lengths", type=int, nargs="+", default=[100, 1000], help="video lengths of part 2")
    p.add_argument(
        "--memory-size",
        type=int,
        nargs=2,
        default=[32, 48],
        metavar=("H", "W"),
        help="frame size of part 2 (small, so 1,000 growing-list frames run in minutes)",
    )
    p.add_argument(
        "--grow-max",
        type=int,
        default=1000,
        help="longest video for the growing list (its cost is quadratic)",
    )
    p.add_argument("--repeats", type=int, default=3, help="repeats of part 3")
    p.add_argument(
        "--dense-limit-gib", type=float, default=1.0, help="skip a dense affinity larger than this"
    )
    p.add_argument("--train-steps", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, seconds")
    for part in ("fps", "memory", "affinity", "train"):
        p.add_argument(f"--skip-{part}", action="store_true")
    p.add_argument("--probe", nargs=4, metavar=("MODE", "LENGTH", "H", "W"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.probe:
        _probe(args.probe[0], int(args.probe[1]), (int(args.probe[2]), int(args.probe[3])))
        return
    torch.set_num_threads(args.threads)
    if args.quick:
        sizes, models = [(64, 96)], ["recipe"]
        args.frames, args.frames_480p, args.lengths, args.memory_size = 1, 1, [5, 15], [32, 48]
        args.repeats, args.train_steps = 1, 1
        cases = [("tiny", 16, 24, 3, 16, 4)]
        train_over = ["data.synth_preset=tiny", "data.image_size=[32,32]", "data.clip_len=4", "data.batch_size=2",
                      "model.channels=[8,16,16,16]", "model.stem_width=8", "model.embed_dim=16",
                      "model.train_radius=2"]  # fmt: skip
    else:
        sizes, models = [SYNTH_HW, *([DAVIS_HW] if args.davis else [])], ["recipe", "paper"]
        cases = [
            ("ZooSynth, recipe (first + 2 long + 2 short)", 34, 60, 5, 32, 8),
            ("ZooSynth, paper (first + 4 long + 4 short)", 34, 60, 9, 64, 12),
            ("DAVIS 480p, recipe, one reference", 120, 214, 1, 32, 8),
        ]
        train_over = []
    console.print(f"[bold]DMP speed[/bold]: torch {torch.__version__}, {args.threads} threads, "
                  f"{platform.processor() or platform.machine()}, {load()}; `uptime`: "
                  f"{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")  # fmt: skip
    shared = "other jobs may share these cores: compare rows of one run, not runs"
    if not args.skip_fps:
        caption = f"{load()} at start; {shared}. Median of {args.frames} (ZooSynth) / {args.frames_480p} (480p) frames."
        console.print(f"[bold]1. propagation[/bold] ({load()})")
        print_fps(fps_rows(args.frames, args.frames_480p, sizes, models), caption)
    if not args.skip_memory:
        console.print(f"[bold]2. memory against length[/bold] ({load()})")
        caption = (
            f"{load()} at start; frames {args.memory_size[0]}x{args.memory_size[1]}, recipe-size network"
        )
        hw = tuple(args.memory_size)
        rows = []
        for name, mode in (("DMP (bounded memory)", "dmp"), ("growing list (all past frames)", "grow")):
            for n in args.lengths:
                if mode == "grow" and n > args.grow_max:
                    continue
                r = probe_memory(mode, n, hw, args.threads)
                console.print(f"  {name}, {n} frames: peak {r['peak_mib']:.0f} MiB ({r['seconds']:.0f} s)")
                rows.append({"tracker": name, "frames": n, **r})
        print_memory(rows, caption)
    if not args.skip_affinity:
        console.print(f"[bold]3. window vs dense affinity[/bold] ({load()})")
        caption = f"{load()} at start; random unit-norm features, temperature 0.07, top-k off; median of {args.repeats}"
        print_affinity(affinity_rows(cases, args.repeats, args.dense_limit_gib), caption)
    if not args.skip_train:
        console.print(f"[bold]4. training[/bold] ({load()})")
        r = train_throughput(args.train_steps, train_over, random_clips=args.quick)
        print_train(r, f"{load()} at the end; median of {args.train_steps} steps after a warm-up; {shared}")


if __name__ == "__main__":
    main()

"""TrainThroughput: training frames/s over all ranks and peak memory per rank, written to ``throughput.json``.

Lightning's ``ThroughputMonitor`` logs per-step rates; a benchmark needs one number per run that is the
same whether the run is one process or a DDP group: frames consumed by every rank after a warm-up,
divided by the wall time of the slowest rank. ``benchmarks/finetrack_ddp.py`` reads the JSON.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback

from zoo.core.atomic import atomic_write_text

__all__ = ["TrainThroughput", "batch_frames"]


def batch_frames(batch: Any) -> int:
    """Frames in a training batch: ``batch["image"]`` / ``batch["images"]`` leading dim, else ``len(batch)``.

    Video clips ``(B, T, 3, H, W)`` count ``B * T`` frames.
    """
    if isinstance(batch, dict):
        for key in ("image", "images", "frames"):
            if isinstance(batch.get(key), torch.Tensor):
                x = batch[key]
                return int(x.shape[0] * (x.shape[1] if x.ndim == 5 else 1))
    if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], torch.Tensor):
        return int(batch[0].shape[0])
    return len(batch)


def _peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class TrainThroughput(Callback):
    """Measure training throughput after ``warmup_steps`` optimiser steps of each ``fit``.

    Args:
        warmup_steps: batches to skip at the start (first-call allocations, worker start-up).
        out: JSON path (default ``<trainer.default_root_dir>/throughput.json``); rank 0 writes it.

    Attributes:
        result: after ``fit``: ``frames`` (all ranks), ``steps`` (per rank), ``wall_s`` (slowest rank),
            ``frames_per_s`` (all ranks), ``frames_per_s_per_rank``, ``world_size``, ``peak_rss_mib`` (list
            per rank, main process only: data-loader workers are separate processes), ``peak_cuda_mib``
            (list per rank, None on CPU).
    """

    def __init__(self, warmup_steps: int = 2, out: str | None = None) -> None:
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
        self.warmup_steps = int(warmup_steps)
        self.out = out
        self.result: dict[str, Any] | None = None
        self._reset()

    def _reset(self) -> None:
        self._seen = 0
        self._frames = 0
        self._steps = 0
        self._start: float | None = None
        self._end: float | None = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._reset()
        if torch.cuda.is_available() and pl_module.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(pl_module.device)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if self._seen == self.warmup_steps:
            self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        self._seen += 1
        if self._start is not None:
            self._frames += batch_frames(batch)
            self._steps += 1
            self._end = time.perf_counter()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        wall = (self._end - self._start) if self._start is not None and self._end is not None else 0.0
        cuda = pl_module.device.type == "cuda" and torch.cuda.is_available()
        peak_cuda = torch.cuda.max_memory_allocated(pl_module.device) / 2**20 if cuda else -1.0
        local = torch.tensor([float(self._frames), float(self._steps), wall, _peak_rss_mib(), peak_cuda],
                             dtype=torch.float64, device=pl_module.device)
        rows = trainer.strategy.all_gather(local).reshape(-1, 5).cpu()
        frames, wall_max = float(rows[:, 0].sum()), float(rows[:, 2].max())
        world = int(rows.shape[0])
        self.result = {
            "frames": int(frames),
            "steps": int(rows[0, 1]),
            "wall_s": wall_max,
            "frames_per_s": frames / wall_max if wall_max > 0 else None,
            "frames_per_s_per_rank": frames / wall_max / world if wall_max > 0 else None,
            "world_size": world,
            "warmup_steps": self.warmup_steps,
            "peak_rss_mib": [round(float(v), 1) for v in rows[:, 3]],
            "peak_cuda_mib": [round(float(v), 1) for v in rows[:, 4]] if cuda else None,
            "torch_threads": torch.get_num_threads(),
        }
        if trainer.is_global_zero:
            path = Path(self.out) if self.out else Path(trainer.default_root_dir) / "throughput.json"
            atomic_write_text(path, json.dumps(self.result, indent=2) + "\n")

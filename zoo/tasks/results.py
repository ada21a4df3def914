"""The outcome of one benchmark evaluation and its ``results.json`` (the schema of the architecture).

``results.json`` is what model cards, the Hub and the leaderboard read::

    {method, model_id, revision, task, benchmark, split, metrics{...}, per_sequence{...}, fps, params,
     hardware, evaluator: {name, version, conventions}, zoo_version, git_sha, created}

Metric values are fractions (HOTA 0.75, not 75); integer counts stay integers; tables print percentages.
``fps`` is frames divided by the seconds spent inside tracker calls (see :data:`FPS_DEFINITION`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.atomic import atomic_write_text

__all__ = [
    "FPS_DEFINITION",
    "RESULTS_FILE",
    "SCHEMA_KEYS",
    "BenchmarkResult",
    "hardware_info",
    "git_sha",
    "jsonable",
    "read_results_json",
    "write_results_json",
]

RESULTS_FILE = "results.json"
SCHEMA_KEYS = (
    "method", "model_id", "revision", "task", "benchmark", "split", "metrics", "per_sequence", "fps",
    "params", "hardware", "evaluator", "zoo_version", "git_sha", "created",
)  # fmt: skip
FPS_DEFINITION = (
    "frames / seconds spent inside the tracker's calls (reset/init/step/track_sequence), summed over "
    "sequences and ranks; image reading, result writing and metric computation excluded"
)


@dataclass
class BenchmarkResult:
    """What a task runner returns (on every rank: the metrics are merged over all ranks).

    Attributes:
        task: ``mot``, ``vos`` or ``sot``.
        benchmark: data preset name (``mot17``, ``synth_mot``, ``davis17``...).
        split: evaluated split (None when the benchmark has none).
        metrics: combined metrics, fractions (``float``) and counts (``int``); SOT adds curves as lists.
        per_sequence: sequence name -> that sequence's metrics (same conventions) plus ``frames``.
        num_frames: frames evaluated (all ranks).
        tracker_seconds: seconds inside tracker calls (all ranks); None when scoring existing results.
        evaluator: ``{"name", "version", "conventions"}``.
        out_dir: folder holding the raw results (and ``results.json`` when written).
        meta: ``method``, ``model_id``, ``revision``, ``params`` for ``results.json``.
        main_metrics: names of the task's headline metrics, in display order.
        sequences: evaluated sequence names in benchmark order.
        scored: False when the split has no ground truth (raw results only, no metrics).
        records: this rank's per-sequence records (:class:`zoo.tasks.sharding.SequenceRecord`), for a
            merge outside ``torch.distributed``.
    """

    task: str
    benchmark: str
    split: str | None
    metrics: dict[str, Any]
    per_sequence: dict[str, dict[str, Any]]
    num_frames: int
    tracker_seconds: float | None
    evaluator: dict[str, Any]
    out_dir: Path | None
    meta: dict[str, Any] = field(default_factory=dict)
    main_metrics: tuple[str, ...] = ()
    sequences: list[str] = field(default_factory=list)
    scored: bool = True
    records: list[Any] = field(default_factory=list, repr=False)

    @property
    def fps(self) -> float | None:
        """Frames per second of tracker time (None when no tracker ran or it took no measurable time)."""
        if not self.tracker_seconds or self.tracker_seconds <= 0:
            return None
        return self.num_frames / self.tracker_seconds

    @property
    def method(self) -> str:
        return str(self.meta.get("method") or "unknown")

    def to_json(self, *, device: str | None = None, world_size: int = 1) -> dict[str, Any]:
        """The ``results.json`` document (keys of :data:`SCHEMA_KEYS`, in that order)."""
        import zoo

        doc = {
            "method": self.meta.get("method"),
            "model_id": self.meta.get("model_id"),
            "revision": self.meta.get("revision"),
            "task": self.task,
            "benchmark": self.benchmark,
            "split": self.split,
            "metrics": jsonable(self.metrics),
            "per_sequence": jsonable(self.per_sequence),
            "fps": None if self.fps is None else float(self.fps),
            "params": self.meta.get("params"),
            "hardware": hardware_info(device, world_size),
            "evaluator": jsonable(self.evaluator),
            "zoo_version": zoo.__version__,
            "git_sha": git_sha(),
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        return doc


def jsonable(value: Any) -> Any:
    """Plain JSON types from numpy/torch values: arrays -> lists, numpy scalars -> Python numbers,
    NaN/inf -> None (JSON has neither), Paths -> strings, tuples -> lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "detach") and hasattr(value, "tolist"):  # torch tensors without importing torch
        return jsonable(value.detach().cpu().numpy())
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in results.json")


def write_results_json(path: str | Path, doc: Mapping[str, Any]) -> Path:
    """Write a ``results.json`` document atomically (indented, keys in schema order).

    Raises:
        ValueError: a schema key is missing.
    """
    missing = [k for k in SCHEMA_KEYS if k not in doc]
    if missing:
        raise ValueError(f"results.json document lacks the keys {missing}")
    return atomic_write_text(path, json.dumps(jsonable(doc), indent=2, allow_nan=False) + "\n")


def read_results_json(path: str | Path) -> dict[str, Any]:
    """Load a ``results.json`` and check it has every schema key.

    Raises:
        FileNotFoundError, ValueError: naming the file and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: results.json not found")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    missing = [k for k in SCHEMA_KEYS if k not in doc]
    if missing:
        raise ValueError(f"{path}: results.json lacks the keys {missing}")
    return doc


def hardware_info(device: str | None = None, world_size: int = 1) -> dict[str, Any]:
    """Where the numbers were measured: device, CPU, CPU count, GPU name, number of processes."""
    info: dict[str, Any] = {
        "device": device or "cpu",
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "gpu": None,
        "world_size": int(world_size),
        "python": platform.python_version(),
    }
    if device and str(device).startswith("cuda"):
        try:
            import torch

            if torch.cuda.is_available():
                info["gpu"] = torch.cuda.get_device_name(torch.device(device))
        except Exception:  # a broken CUDA setup must not lose the results
            info["gpu"] = None
    return info


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


_GIT_SHA: list[str | None] = []


def git_sha() -> str | None:
    """Commit of the zoo checkout this code runs from (None for an installed wheel or without git)."""
    if not _GIT_SHA:
        repo = Path(__file__).resolve().parents[2]
        sha = None
        if (repo / ".git").exists():
            try:
                out = subprocess.run(
                    ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
                )
                sha = out.stdout.strip() or None if out.returncode == 0 else None
            except (OSError, subprocess.SubprocessError):
                sha = None
        _GIT_SHA.append(sha)
    return _GIT_SHA[0]

"""Plumbing shared by the three task runners: tracker resolution, timing, the shard-run-merge skeleton."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.tasks.progress import NoProgress, Progress, make_progress
from zoo.tasks.results import FPS_DEFINITION, RESULTS_FILE, BenchmarkResult, write_results_json
from zoo.tasks.sharding import Gather, SequenceRecord, dist_world, gather_records, shard_indices

__all__ = [
    "Stopwatch",
    "data_provenance",
    "finalize",
    "resolve_tracker",
    "run_sharded",
    "scalars",
    "tracker_meta",
]


class Stopwatch:
    """Accumulates the seconds spent inside ``with watch:`` blocks (``time.perf_counter``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._t0 = 0.0

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._t0


def resolve_tracker(tracker_or_factory: Any, methods: Sequence[str], task: str) -> Any:
    """The tracker object: ``tracker_or_factory`` itself when it has one of ``methods``, else the result of
    calling it (a class or zero-argument factory).

    Raises:
        TypeError: neither a tracker of the task's protocol nor a factory of one.
    """

    def is_tracker(obj: Any) -> bool:
        return not isinstance(obj, type) and any(callable(getattr(obj, m, None)) for m in methods)

    if is_tracker(tracker_or_factory):
        return tracker_or_factory
    if callable(tracker_or_factory):
        tracker = tracker_or_factory()
        if is_tracker(tracker):
            return tracker
        raise TypeError(
            f"the {task} tracker factory returned {type(tracker).__name__}, which has none of {list(methods)}"
        )
    raise TypeError(
        f"expected a {task} tracker (with {' or '.join(methods)}) or a factory of one, "
        f"got {type(tracker_or_factory).__name__}"
    )


def tracker_meta(tracker: Any, meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """``method``, ``model_id``, ``revision``, ``params`` for results.json: given values first, else the
    registry name of the tracker's class (or the class name) and its learnable parameter count."""
    out: dict[str, Any] = {"method": None, "model_id": None, "revision": None, "params": None}
    out.update(dict(meta or {}))
    if out["method"] is None:
        out["method"] = _registry_name(type(tracker)) if tracker is not None else None
    if out["params"] is None and tracker is not None:
        out["params"] = count_parameters(tracker)
    return out


def _registry_name(cls: type) -> str:
    from zoo.registry import specs

    for spec in specs():
        if spec.cls is cls:
            return spec.name
    return cls.__name__


def count_parameters(obj: Any) -> int:
    """Learnable parameters of a tracker: its own ``parameters()`` or those of a ``module``/``model``
    attribute (torch ``nn.Module``); 0 for non-learned trackers."""
    for candidate in (obj, getattr(obj, "module", None), getattr(obj, "model", None)):
        params = getattr(candidate, "parameters", None)
        if callable(params):
            try:
                return int(sum(p.numel() for p in params()))
            except TypeError:
                continue
    return 0


def scalars(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The int/float entries of a metric dict (per-alpha arrays and curves left out)."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
            out[key] = value.item() if hasattr(value, "item") else value
        elif isinstance(value, float):
            out[key] = value
    return out


def run_sharded(
    items: Sequence[Any],
    frame_counts: Sequence[int],
    run_one: Callable[[int, Any, Progress], SequenceRecord],
    *,
    rank: int | None,
    world_size: int | None,
    progress: bool | Progress,
    description: str,
    gather: Gather | None,
    workers: int = 1,
) -> tuple[list[SequenceRecord], list[SequenceRecord], int, int]:
    """Run ``run_one(index, item, progress)`` on this rank's shard and gather every rank's records.

    ``workers > 1`` runs the shard's items in that many forked processes (:func:`zoo.core.parallel.parallel_map`,
    longest first), for work that needs no model (re-scoring: reading and scoring files); ``run_one`` then
    gets a silent progress and this process reports one step per finished sequence.

    Returns:
        (all records in benchmark order, this rank's records, rank, world_size).
    """
    rank, world_size = dist_world(rank, world_size)
    mine = shard_indices(frame_counts, rank, world_size)
    bar = make_progress(progress, rank)
    local: list[SequenceRecord] = []
    try:
        if workers <= 1:
            bar.start(len(mine), description)
            for i in mine:
                local.append(run_one(i, items[i], bar))
                bar.done()
        else:
            from zoo.core.parallel import parallel_map

            def finished(_: int, record: SequenceRecord) -> None:
                bar.sequence(record.name, 1)
                bar.advance()
                bar.done()

            mine_items = [items[i] for i in mine]
            longest_first = sorted(range(len(mine)), key=lambda k: -int(frame_counts[mine[k]]))
            local = parallel_map(
                lambda k, item: run_one(mine[k], item, NoProgress()), mine_items, workers,
                order=longest_first, on_result=finished, on_start=lambda: bar.start(len(mine), description),
            )  # fmt: skip
    finally:
        bar.close()
    return gather_records(local, world_size, gather), local, rank, world_size


def data_provenance(sequences: Sequence[Any]) -> str | None:
    """The generated data the sequences belong to (``ZooSynth 1.5 (preset default, seed 0)``, see
    :func:`zoo.data.synth.generated_by`), found from the first sequence (its ``root`` folder for MOT, its
    first frame for VOS and SOT); None for real benchmarks. Recorded in ``results.json`` under
    ``evaluator.conventions.data``, so the leaderboard can mark a table that mixes generator versions."""
    from zoo.data.provenance import generated_by  # not zoo.data.synth: that imports the generator

    if not sequences:
        return None
    root, frames = getattr(sequences[0], "root", None), getattr(sequences[0], "frames", None)
    if isinstance(root, (str, os.PathLike)):
        return generated_by(root)
    if isinstance(frames, (list, tuple)) and frames and isinstance(frames[0], (str, os.PathLike)):
        return generated_by(frames[0])
    return None  # sequences that are not files (test doubles, in-memory data)


def finalize(
    records: list[SequenceRecord],
    *,
    task: str,
    benchmark: str,
    split: str | None,
    reduce: Callable[[list[Any]], dict[str, Any]],
    evaluator: dict[str, Any],
    main_metrics: tuple[str, ...],
    out_dir: Path | None,
    meta: dict[str, Any],
    rank: int,
    world_size: int,
    write_json: bool,
    device: str | None,
    local: list[SequenceRecord] | None = None,
    data: str | None = None,
) -> BenchmarkResult:
    """Reduce the merged records to the benchmark's metrics; rank 0 writes ``out_dir/results.json``."""
    scored = bool(records) and all(r.payload is not None for r in records)
    metrics = reduce([r.payload for r in records]) if scored else {}
    timed = [r.seconds for r in records if r.seconds is not None]
    seconds = float(sum(timed)) if timed and len(timed) == len(records) else None
    per_sequence = {}
    for r in records:
        row = dict(r.per_sequence)
        row["frames"] = r.frames
        if r.seconds:
            row["fps"] = r.frames / r.seconds
        per_sequence[r.name] = row
    evaluator = dict(evaluator)
    conventions = dict(evaluator.get("conventions") or {})
    if seconds is not None:
        conventions["fps"] = FPS_DEFINITION
    if data is not None:
        conventions["data"] = data
    evaluator["conventions"] = conventions
    result = BenchmarkResult(
        task=task,
        benchmark=benchmark,
        split=split,
        metrics=metrics,
        per_sequence=per_sequence,
        num_frames=int(sum(r.frames for r in records)),
        tracker_seconds=seconds,
        evaluator=evaluator,
        out_dir=out_dir,
        meta=meta,
        main_metrics=main_metrics,
        sequences=[r.name for r in records],
        scored=scored,
        records=local if local is not None else records,
    )
    if write_json and out_dir is not None and rank == 0:
        write_results_json(out_dir / RESULTS_FILE, result.to_json(device=device, world_size=world_size))
    return result

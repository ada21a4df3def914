"""Multi-object tracking: run any MOT tracker over a benchmark, write MOTChallenge results, score them.

Running (:func:`run_benchmark`): per sequence, ``reset(seq_info)`` then ``step(frame, detections)`` on every
frame in order (online trackers), or one ``track_sequence(seq, detections)`` call (offline trackers). Frames
are read with :func:`zoo.core.video.read_image` unless the tracker declares ``needs_frames = False`` (motion
only trackers then run without touching the images). The tracks of each sequence go to ``<out>/<seq>.txt``
(MOTChallenge results format, ``frame,id,left,top,width,height,score,-1,-1,-1``), the format TrackEval and
the MOTChallenge server read.

Scoring (:func:`score_results`): the same metrics from existing result files, without a tracker.

Metrics: :mod:`zoo.metrics.mot` (TrackEval's HOTA, CLEAR, Identity), with MOTChallenge distractor
preprocessing for MOT16/17/20 only, as TrackEval applies it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.boxes import mot_to_xyxy, xyxy_to_mot
from zoo.data.formats import motchallenge
from zoo.data.types import MOTRows, MOTSequence
from zoo.metrics import mot as mot_metrics
from zoo.tasks._common import (
    Stopwatch,
    data_provenance,
    finalize,
    resolve_tracker,
    run_sharded,
    scalars,
    tracker_meta,
)
from zoo.tasks.progress import Progress
from zoo.tasks.protocols import Detections, Tracks
from zoo.tasks.results import BenchmarkResult
from zoo.tasks.sharding import Gather, SequenceRecord

__all__ = [
    "MAIN_METRICS",
    "METRIC_BENCHMARK",
    "benchmark_key",
    "frame_detections",
    "result_path",
    "run_benchmark",
    "score_results",
    "sequence_detections",
]

#: headline metrics (logged by the training callback, shown in comparison tables)
MAIN_METRICS = ("HOTA", "AssA", "IDF1", "MOTA")
#: data preset name -> the benchmark name zoo.metrics.mot uses for its preprocessing rules
METRIC_BENCHMARK = {
    "mot15": "MOT15",
    "mot16": "MOT16",
    "mot17": "MOT17",
    "mot20": "MOT20",
    "dancetrack": "DanceTrack",
    "synth_mot": "ZooSynth",
}
DetectionsSource = str | os.PathLike


def benchmark_key(benchmark: str) -> str:
    """Normalise a benchmark name (preset ``mot17`` or metric name ``MOT17``/``ZooSynth``) to the preset key.

    Raises:
        ValueError: unknown name, listing the valid ones.
    """
    lower = benchmark.lower()
    if lower in METRIC_BENCHMARK:
        return lower
    for key, name in METRIC_BENCHMARK.items():
        if name.lower() == lower:
            return key
    raise ValueError(f"unknown MOT benchmark {benchmark!r}; choose one of {sorted(METRIC_BENCHMARK)}")


# ------------------------------------------------------------------------------------------ detections
def _gt_as_detections(gt: MOTRows) -> MOTRows:
    """The gt rows the evaluation keeps (consider flag set, pedestrian or unlabelled class) with score 1."""
    keep = (gt.scores.astype(np.int64) != 0) & np.isin(gt.classes, (1, -1))
    rows = gt.select(keep)
    return MOTRows(
        rows.frames, np.full(len(rows), -1, np.int64), rows.boxes, np.ones(len(rows)),
        np.full(len(rows), -1, np.int64), np.full(len(rows), -1.0),
    )  # fmt: skip


def sequence_detections(seq: MOTSequence, detections: DetectionsSource = "public") -> MOTRows:
    """The detection rows fed to the tracker for ``seq``.

    Args:
        detections: ``"public"`` (the sequence's ``det/det.txt``), ``"gt"`` (oracle: gt boxes the
            evaluation keeps, score 1) or a folder holding ``<seq>.txt`` or ``<seq>/det/det.txt``
            (MOTChallenge det format).

    Raises:
        FileNotFoundError: the source has nothing for this sequence (the message names the expected file).
    """
    if isinstance(detections, str) and detections == "public":
        if seq.det is None:
            raise FileNotFoundError(
                f"sequence {seq.name} has no public detections ({seq.root / 'det' / 'det.txt'}); "
                "use detections=gt or detections=/path/to/folder"
            )
        return seq.det
    if isinstance(detections, str) and detections == "gt":
        if seq.gt is None:
            raise FileNotFoundError(
                f"sequence {seq.name} has no gt ({seq.root / 'gt' / 'gt.txt'}) for detections=gt"
            )
        return _gt_as_detections(seq.gt)
    folder = Path(os.fspath(detections)).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"detections={detections!r}: expected 'public', 'gt' or a folder of <seq>.txt / <seq>/det/det.txt"
        )
    for path in (folder / f"{seq.name}.txt", folder / seq.name / "det" / "det.txt"):
        if path.is_file():
            return motchallenge.read_mot_file(path, "det", seq.info)
    raise FileNotFoundError(
        f"no detections for sequence {seq.name}: expected {folder / (seq.name + '.txt')} or "
        f"{folder / seq.name / 'det' / 'det.txt'}"
    )


def frame_detections(rows: MOTRows, seq_length: int) -> list[Detections]:
    """Split detection rows by frame: list index ``t - 1`` holds frame ``t``'s :class:`Detections`
    (rows in file order)."""
    order = np.argsort(rows.frames, kind="stable")
    frames = rows.frames[order]
    bounds = np.searchsorted(frames, np.arange(1, seq_length + 2))
    boxes = np.ascontiguousarray(rows.boxes[order], dtype=np.float64)
    scores = np.ascontiguousarray(rows.scores[order], dtype=np.float64)
    return [
        Detections(boxes[bounds[t] : bounds[t + 1]], scores[bounds[t] : bounds[t + 1]])
        for t in range(seq_length)
    ]


# ------------------------------------------------------------------------------------------------ run
def result_path(out_dir: str | os.PathLike, name: str) -> Path:
    """Where a sequence's MOTChallenge result file goes: ``<out_dir>/<name>.txt``."""
    return Path(out_dir) / f"{name}.txt"


def _check_tracks(tracks: Tracks, seq: str, frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Validated (ids, boxes, scores) of one frame, boxes that cannot be written (non-finite or empty)
    dropped; returns also how many were dropped."""
    if not isinstance(tracks, Tracks):
        raise TypeError(
            f"{seq} frame {frame}: step() must return zoo.tasks.protocols.Tracks, got {type(tracks).__name__}"
        )
    ids = np.asarray(tracks.ids).reshape(-1)
    boxes = np.asarray(tracks.boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(tracks.scores, np.float64).reshape(-1)
    if not (ids.shape[0] == boxes.shape[0] == scores.shape[0]):
        raise ValueError(
            f"{seq} frame {frame}: tracker returned {ids.shape[0]} ids, {boxes.shape[0]} boxes, {scores.shape[0]} scores"
        )
    if ids.size:
        if ids.dtype.kind not in "iu":
            raise ValueError(f"{seq} frame {frame}: track ids must be integers, got dtype {ids.dtype}")
        if ids.min() < 1:
            raise ValueError(f"{seq} frame {frame}: track ids must be positive, got {int(ids.min())}")
        if np.unique(ids).size != ids.size:
            raise ValueError(f"{seq} frame {frame}: the tracker returned the same id twice")
    ok = np.isfinite(boxes).all(1) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    scores = np.where(np.isfinite(scores), scores, 1.0)
    dropped = int((~ok).sum())
    return ids[ok].astype(np.int64), boxes[ok], scores[ok], dropped


def _rows(
    frames: list[np.ndarray], ids: list[np.ndarray], boxes: list[np.ndarray], scores: list[np.ndarray]
) -> MOTRows:
    if not frames:
        return MOTRows.empty()
    n = sum(len(f) for f in frames)
    return MOTRows(
        np.concatenate(frames).astype(np.int64), np.concatenate(ids).astype(np.int64),
        np.concatenate(boxes).reshape(n, 4), np.concatenate(scores),
        np.full(n, -1, np.int64), np.full(n, -1.0),
    )  # fmt: skip


def _track_online(
    tracker: Any, seq: MOTSequence, dets: list[Detections], bar: Progress
) -> tuple[MOTRows, float, int]:
    from zoo.core.video import read_image  # OpenCV: only running a tracker reads frames, re-scoring does not

    watch = Stopwatch()
    needs_frames = bool(getattr(tracker, "needs_frames", True))
    with watch:
        tracker.reset(seq.info)
    frames, ids, boxes, scores = [], [], [], []
    dropped = 0
    for t in range(1, seq.info.seq_length + 1):
        image = read_image(seq.image_path(t)) if needs_frames else None
        with watch:
            out = tracker.step(image, dets[t - 1])
        i, b, s, d = _check_tracks(out, seq.name, t)
        dropped += d
        if i.size:
            frames.append(np.full(i.size, t, np.int64))
            ids.append(i)
            boxes.append(b)
            scores.append(s)
        bar.advance()
    return _rows(frames, ids, boxes, scores), watch.seconds, dropped


def _track_offline(
    tracker: Any, seq: MOTSequence, dets: list[Detections], bar: Progress
) -> tuple[MOTRows, float, int]:
    watch = Stopwatch()
    with watch:
        rows = tracker.track_sequence(seq, {t + 1: d for t, d in enumerate(dets)})
    if not isinstance(rows, MOTRows):
        raise TypeError(f"{seq.name}: track_sequence() must return MOTRows, got {type(rows).__name__}")
    frames = np.asarray(rows.frames, np.int64)
    bad = (frames < 1) | (frames > seq.info.seq_length)
    if bad.any():
        raise ValueError(
            f"{seq.name}: track_sequence() returned frame {int(frames[bad][0])} outside 1..{seq.info.seq_length}"
        )
    out_f, out_i, out_b, out_s = [], [], [], []
    dropped = 0
    order = np.argsort(frames, kind="stable")
    bounds = np.searchsorted(frames[order], np.arange(1, seq.info.seq_length + 2))
    for t in range(1, seq.info.seq_length + 1):
        sel = order[bounds[t - 1] : bounds[t]]
        i, b, s, d = _check_tracks(Tracks(rows.ids[sel], rows.boxes[sel], rows.scores[sel]), seq.name, t)
        dropped += d
        if i.size:
            out_f.append(np.full(i.size, t, np.int64))
            out_i.append(i)
            out_b.append(b)
            out_s.append(s)
    bar.advance(seq.info.seq_length)
    return _rows(out_f, out_i, out_b, out_s), watch.seconds, dropped


def _score(seq: MOTSequence, rows: MOTRows, metric_benchmark: str) -> tuple[Any, dict[str, Any]]:
    if seq.gt is None:
        return None, {}
    stats = mot_metrics.sequence_stats(seq.gt, rows, seq.info.seq_length, benchmark=metric_benchmark)
    return stats, scalars(mot_metrics.sequence_results(stats))


def _evaluator(metric_benchmark: str, detections: DetectionsSource | None) -> dict[str, Any]:
    conventions: dict[str, Any] = {
        "summary": mot_metrics.EVALUATOR["conventions"],
        "benchmark": metric_benchmark,
        "preprocessing": "MOTChallenge distractor removal"
        if metric_benchmark in mot_metrics.PREPROCESSED_BENCHMARKS
        else "none (gt rows with the consider flag set)",
        "hota_alphas": "numpy.arange(0.05, 0.99, 0.05)",
    }
    if detections is not None:
        conventions["detections"] = str(detections)
    return {
        "name": mot_metrics.EVALUATOR["name"],
        "version": mot_metrics.EVALUATOR["version"],
        "conventions": conventions,
    }


def _reduce(payloads: list[Any]) -> dict[str, Any]:
    return scalars(mot_metrics.combine(payloads))


def run_benchmark(
    tracker_or_factory: Any,
    sequences: Sequence[MOTSequence],
    out_dir: str | os.PathLike | None,
    *,
    benchmark: str = "synth_mot",
    split: str | None = None,
    detections: DetectionsSource = "public",
    rank: int | None = None,
    world_size: int | None = None,
    progress: bool | Progress = True,
    gather: Gather | None = None,
    meta: Mapping[str, Any] | None = None,
    write_json: bool = True,
    device: str | None = None,
) -> BenchmarkResult:
    """Run a MOT tracker over ``sequences``, write ``<out_dir>/<seq>.txt`` and compute the metrics.

    Args:
        tracker_or_factory: an online (``reset``/``step``) or offline (``track_sequence``) tracker, or a
            class / zero-argument callable building one (called once).
        sequences: the benchmark's sequences (``eval_sequences(split)`` of a data module); all ranks pass
            the same list, each runs its own whole sequences.
        out_dir: folder for the raw results and ``results.json`` (None: nothing written).
        benchmark: preset name (``mot17``, ``synth_mot``...) or metric name (``MOT17``, ``ZooSynth``).
        split: recorded in results.json.
        detections: ``"public"``, ``"gt"`` or a folder (see :func:`sequence_detections`).
        rank, world_size: DDP shard (default: ``torch.distributed``'s, else a single process).
        progress: Rich progress display on rank 0 (or a :class:`~zoo.tasks.progress.Progress`).
        gather: exchange of per-sequence records between ranks (default ``all_gather_object``).
        meta: ``method``, ``model_id``, ``revision``, ``params`` for results.json.
        write_json: rank 0 writes ``<out_dir>/results.json``.
        device: recorded under ``hardware``.

    Returns:
        :class:`BenchmarkResult` with the metrics of all sequences (every rank), fractions.
    """
    key = benchmark_key(benchmark)
    metric_name = METRIC_BENCHMARK[key]
    tracker = resolve_tracker(tracker_or_factory, ("step", "track_sequence"), "mot")
    offline = not callable(getattr(tracker, "step", None))
    out = None if out_dir is None else Path(out_dir)
    dropped_total = [0]

    def run_one(index: int, seq: MOTSequence, bar: Progress) -> SequenceRecord:
        bar.sequence(seq.name, seq.info.seq_length)
        dets = frame_detections(sequence_detections(seq, detections), seq.info.seq_length)
        track = _track_offline if offline else _track_online
        rows, seconds, dropped = track(tracker, seq, dets, bar)
        # score what the result file holds (the 1-based xywh round trip), so re-scoring the file agrees
        rows.boxes = mot_to_xyxy(xyxy_to_mot(rows.boxes))
        dropped_total[0] += dropped
        if out is not None:
            motchallenge.write_mot_file(result_path(out, seq.name), rows, "results")
        payload, per_seq = _score(seq, rows, metric_name)
        if dropped:
            per_seq["dropped_boxes"] = dropped
        return SequenceRecord(index, seq.name, seq.info.seq_length, seconds, payload, per_seq)

    records, local, rank, world = run_sharded(
        sequences, [s.info.seq_length for s in sequences], run_one, rank=rank, world_size=world_size,
        progress=progress, description=f"{key}", gather=gather,
    )  # fmt: skip
    if dropped_total[0]:
        warnings.warn(
            f"the tracker returned {dropped_total[0]} boxes with non-finite coordinates or no area; they were "
            "left out of the result files (see per_sequence dropped_boxes)",
            stacklevel=2,
        )
    return finalize(
        records, task="mot", benchmark=key, split=split, reduce=_reduce,
        evaluator=_evaluator(metric_name, detections), main_metrics=MAIN_METRICS, out_dir=out,
        meta=tracker_meta(tracker, meta), rank=rank, world_size=world, write_json=write_json,
        device=device, local=local,
        data=data_provenance(sequences),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- score
def find_result_file(results_dir: Path, name: str) -> Path:
    """``<dir>/<name>.txt``, or TrackEval's tracker layout ``<dir>/data/<name>.txt``.

    Raises:
        FileNotFoundError: naming the sequence and the expected file.
    """
    for path in (results_dir / f"{name}.txt", results_dir / "data" / f"{name}.txt"):
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"no result for sequence {name}: expected {results_dir / (name + '.txt')} (MOTChallenge results format)"
    )


def score_results(
    results_dir: str | os.PathLike,
    sequences: Sequence[MOTSequence],
    out_dir: str | os.PathLike | None = None,
    *,
    benchmark: str = "synth_mot",
    split: str | None = None,
    meta: Mapping[str, Any] | None = None,
    write_json: bool = True,
    progress: bool | Progress = False,
    workers: int = 1,
) -> BenchmarkResult:
    """Score existing MOTChallenge result files: ``<results_dir>/<seq>.txt`` for every sequence.

    Args:
        results_dir: the tracker's result folder (TrackEval's ``<tracker>/data`` layout is also found).
        sequences: sequences with ground truth (``load_split(..., check_images=False)`` needs no images;
            a sequence whose ``gt`` is None has its ``gt/gt.txt`` read by the worker scoring it).
        out_dir: where ``results.json`` goes (None: not written).
        benchmark, split, meta, write_json, progress: as :func:`run_benchmark`.

    Raises:
        FileNotFoundError: a sequence has no result file (the message names it and the expected path).
        FormatError: a malformed result file (file, line and problem named).
    """
    key = benchmark_key(benchmark)
    metric_name = METRIC_BENCHMARK[key]
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} not found")
    missing_gt = [s.name for s in sequences if s.gt is None and not (s.root / "gt" / "gt.txt").is_file()]
    if missing_gt:
        raise FileNotFoundError(f"sequence {missing_gt[0]} has no gt/gt.txt: cannot score it")
    paths = [find_result_file(folder, s.name) for s in sequences]  # fail before any work

    def run_one(index: int, seq: MOTSequence, bar: Progress) -> SequenceRecord:
        bar.sequence(seq.name, 1)
        if seq.gt is None:  # loaded with read_mot_gt=False: parse it here, in the worker that scores it
            seq = replace(seq, gt=motchallenge.read_mot_file(seq.root / "gt" / "gt.txt", "gt", seq.info))
        rows = motchallenge.read_mot_file(paths[index], "results", seq.info)
        payload, per_seq = _score(seq, rows, metric_name)
        bar.advance()
        return SequenceRecord(index, seq.name, seq.info.seq_length, None, payload, per_seq)

    records, local, rank, world = run_sharded(
        sequences, [s.info.seq_length for s in sequences], run_one, rank=0, world_size=1,
        progress=progress, description=f"scoring {key}", gather=None, workers=workers,
    )  # fmt: skip
    meta = dict(meta or {})
    meta.setdefault("method", folder.parent.name if folder.name == "data" else folder.name)
    return finalize(
        records, task="mot", benchmark=key, split=split, reduce=_reduce, evaluator=_evaluator(metric_name, None),
        main_metrics=MAIN_METRICS, out_dir=None if out_dir is None else Path(out_dir),
        meta=tracker_meta(None, meta), rank=rank, world_size=world, write_json=write_json, device=None,
        local=local, data=data_provenance(sequences),
    )  # fmt: skip

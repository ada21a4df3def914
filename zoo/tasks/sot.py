"""Single-object tracking: run an SOT tracker over a benchmark, write the official result files, score them.

Per sequence: ``init(frame0, box0)`` with the first ground-truth box (after ``begin_sequence(seq)`` for a
tracker that has it: ensembles read their base trackers' cached outputs there), then ``step(frame)`` on every
later frame; frame 0's prediction is the given box (as the GOT-10k and OTB toolkits record it).

Result layouts (what each benchmark's toolkit or server reads):

- GOT-10k and ZooSynth-SOT: ``<out>/<seq>/<seq>_001.txt`` (``x,y,w,h`` per frame) and
  ``<out>/<seq>/<seq>_time.txt`` (seconds per frame; frame 0 = the ``init`` call);
- OTB, LaSOT, TrackingNet and the object views of DAVIS-layout benchmarks (``davis17_objects``,
  ``synth_vos_objects``): ``<out>/<seq>.txt`` (``x,y,w,h`` per frame, comma-separated).

Metrics (:mod:`zoo.metrics.sot`, got10k-toolkit conventions, fractions): OTB one-pass evaluation (success AUC,
precision@20); LaSOT, TrackingNet and the DAVIS object views add normalised precision; GOT-10k AO, SR0.5,
SR0.75 (frame 1 dropped, only visible frames) plus the OPE curves over frames with a ground-truth box, for
the success/precision plots. Test splits without per-frame boxes are run and written but not scored.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from zoo.core.boxes import xywh_to_xyxy, xyxy_to_xywh
from zoo.core.video import read_image
from zoo.data.formats import got10k, otb
from zoo.data.formats.errors import FormatError
from zoo.data.types import SOTSequence
from zoo.metrics import sot as sot_metrics
from zoo.tasks._common import Stopwatch, data_provenance, finalize, resolve_tracker, run_sharded, tracker_meta
from zoo.tasks.progress import Progress
from zoo.tasks.protocols import SOTOutput
from zoo.tasks.results import BenchmarkResult
from zoo.tasks.sharding import Gather, SequenceRecord

__all__ = [
    "BENCHMARKS",
    "GOT10K_LAYOUT",
    "main_metrics",
    "read_result",
    "run_benchmark",
    "score_results",
    "write_result",
]

BENCHMARKS = (
    "got10k", "lasot", "otb", "trackingnet", "synth_sot", "davis17_objects", "synth_vos_objects"
)  # fmt: skip
#: benchmarks whose results use the GOT-10k toolkit layout and whose headline metric is AO
GOT10K_LAYOUT = ("got10k", "synth_sot")
_AO_METRICS = ("AO", "SR0.5", "SR0.75", "success_auc", "precision_20")
_OPE_METRICS = ("success_auc", "precision_20", "norm_precision")


def _key(benchmark: str) -> str:
    key = benchmark.lower()
    if key not in BENCHMARKS:
        raise ValueError(f"unknown SOT benchmark {benchmark!r}; choose one of {list(BENCHMARKS)}")
    return key


def main_metrics(benchmark: str) -> tuple[str, ...]:
    """Headline metrics of an SOT benchmark, in display order (AO first for the GOT-10k layout)."""
    key = _key(benchmark)
    if key in GOT10K_LAYOUT:
        return _AO_METRICS
    return _OPE_METRICS[:2] if key == "otb" else _OPE_METRICS


# ---------------------------------------------------------------------------------------------- files
def write_result(
    out_dir: str | os.PathLike, benchmark: str, name: str, boxes: np.ndarray, times: np.ndarray
) -> Path:
    """Write one sequence's (T, 4) ``xyxy`` boxes (and (T,) seconds) in the benchmark's result layout."""
    if _key(benchmark) in GOT10K_LAYOUT:
        return got10k.write_results(out_dir, name, boxes, times)
    return otb.write_otb_boxes(Path(out_dir) / f"{name}.txt", boxes)


def read_result(
    results_dir: str | os.PathLike, benchmark: str, name: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a sequence's result: (T, 4) ``xyxy`` boxes and (T,) seconds per frame (None when not recorded).

    Looks for ``<dir>/<seq>/<seq>_001.txt`` (GOT-10k toolkit; ``_time.txt`` optional) and ``<dir>/<seq>.txt``
    (OTB/LaSOT/TrackingNet), the benchmark's own layout first.

    Raises:
        FileNotFoundError: neither exists; the message names the expected file.
    """
    folder = Path(results_dir)
    got = folder / name / f"{name}_001.txt"
    flat = folder / f"{name}.txt"
    candidates = (got, flat) if _key(benchmark) in GOT10K_LAYOUT else (flat, got)
    for path in candidates:
        if not path.is_file():
            continue
        if path == got:
            boxes = otb.read_otb_boxes(got)
            time_file = folder / name / f"{name}_time.txt"
            times = None
            if time_file.is_file():
                boxes, times = got10k.read_results(folder, name)
            return boxes, times
        return otb.read_otb_boxes(flat), None
    raise FileNotFoundError(f"no result for sequence {name}: expected {candidates[0]}")


# ------------------------------------------------------------------------------------------------ run
def _image_size(seq: SOTSequence, frame0: np.ndarray | None = None) -> tuple[int, int]:
    if frame0 is not None:
        return int(frame0.shape[1]), int(frame0.shape[0])
    if seq.image_size is not None:
        return seq.image_size
    if seq.frames and Path(seq.frames[0]).is_file():
        with Image.open(seq.frames[0]) as img:
            return img.size
    raise FormatError(
        Path(seq.frames[0]) if seq.frames else Path(seq.name),
        f"sequence {seq.name}: image size unknown (no meta_info.ini resolution and no image) - needed for GOT-10k AO",
    )


def _scorable(seq: SOTSequence) -> bool:
    """Whether the sequence has ground truth beyond the first frame."""
    return len(seq) > 1 and not np.isnan(seq.boxes[1:]).all()


def _run_one_sequence(
    tracker: Any, seq: SOTSequence, bar: Progress
) -> tuple[np.ndarray, np.ndarray, tuple[int, int], int]:
    box0 = np.asarray(seq.boxes[0], np.float64)
    if not np.isfinite(box0).all():
        raise FormatError(Path(seq.name), f"sequence {seq.name}: the first frame has no ground-truth box")
    frame0 = read_image(seq.frames[0])
    size = _image_size(seq, frame0)
    watch = Stopwatch()
    times = np.zeros(len(seq))
    boxes = np.empty((len(seq), 4))
    boxes[0] = box0
    # optional hook: an ensemble reads its base trackers' outputs for this sequence from the cache
    # (zoo.trackers.cache) instead of stepping them live; the time it takes counts as the init's
    begin = getattr(tracker, "begin_sequence", None)
    with watch:
        if callable(begin):
            begin(seq)
        tracker.init(frame0, box0.copy())
    times[0] = watch.seconds
    bar.advance()
    invalid = 0
    for t in range(1, len(seq)):
        frame = read_image(seq.frames[t])
        before = watch.seconds
        with watch:
            out = tracker.step(frame)
        times[t] = watch.seconds - before
        box = np.asarray(out.box if isinstance(out, SOTOutput) else out, np.float64).reshape(-1)
        if box.shape != (4,):
            raise ValueError(
                f"{seq.name} frame {t}: the tracker returned a box of shape {box.shape}, expected (4,)"
            )
        if not np.isfinite(box).all():
            invalid += 1  # a diverged tracker: keep its last box so the result files stay valid
            box = boxes[t - 1]
        boxes[t] = box
        bar.advance()
    # score what the result file holds (the xywh round trip), so re-scoring the file agrees exactly
    return xywh_to_xyxy(xyxy_to_xywh(boxes)), times, size, invalid


def _payload(seq: SOTSequence, pred: np.ndarray, size: tuple[int, int] | None) -> dict[str, Any]:
    return {"pred": pred, "gt": np.asarray(seq.boxes, np.float64), "cover": seq.cover, "size": size}


def _metrics(benchmark: str, payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """Benchmark metrics of sequences given as payloads (one or many)."""
    key = _key(benchmark)
    preds = [p["pred"] for p in payloads]
    gts = [p["gt"] for p in payloads]
    out: dict[str, Any] = {}
    if key == "otb":
        res = sot_metrics.otb_ope(preds, gts)
    else:
        res = sot_metrics.lasot_ope(preds, gts, convention="got10k")
        out["norm_precision"] = res["norm_precision"]
        out["norm_precision_curve"] = [float(v) for v in res["norm_precision_curve"]]
    out["success_auc"] = res["success_auc"]
    out["precision_20"] = res["precision_20"]
    out["success_curve"] = [float(v) for v in res["success_curve"]]  # lists: results.json-ready
    out["precision_curve"] = [float(v) for v in res["precision_curve"]]
    if key in GOT10K_LAYOUT:
        ao = sot_metrics.got10k_ao(preds, gts, [p["size"] for p in payloads], [p["cover"] for p in payloads])
        out.update({k: ao[k] for k in ("AO", "SR0.5", "SR0.75")})
        out["num_frames_ao"] = ao["num_frames"]
    return out


def _per_sequence(benchmark: str, payload: dict[str, Any]) -> dict[str, Any]:
    res = _metrics(benchmark, [payload])
    return {k: v for k, v in res.items() if not k.endswith("_curve")}


def _evaluator(benchmark: str) -> dict[str, Any]:
    key = _key(benchmark)
    conventions: dict[str, Any] = {
        "iou": "continuous xywh, inter / (union + eps)",
        "centre": "xy + (wh - 1) / 2",
        "success_thresholds": "linspace(0, 1, 21), IoU > t",
        "precision_thresholds": "0..50 px, error <= t; precision at 20 px",
        "first_frame": "prediction = ground truth (OTB OPE)",
    }
    if key != "otb":
        conventions["ope"] = "lasot-got10k: frames without a ground-truth box dropped"
        conventions["norm_precision"] = "mean over linspace(0, 0.5, 51) of |dc / max(1, wh_gt)| <= t"
    if key in GOT10K_LAYOUT:
        conventions["ao"] = (
            "got10k: frame 1 dropped, cover > 0 only, boxes bounded to the image, frames pooled"
        )
    return {"name": "got10k toolkit", "version": "0.1.3", "conventions": conventions}


def run_benchmark(
    tracker_or_factory: Any,
    sequences: Sequence[SOTSequence],
    out_dir: str | os.PathLike | None,
    *,
    benchmark: str = "synth_sot",
    split: str | None = None,
    rank: int | None = None,
    world_size: int | None = None,
    progress: bool | Progress = True,
    gather: Gather | None = None,
    meta: Mapping[str, Any] | None = None,
    write_json: bool = True,
    device: str | None = None,
) -> BenchmarkResult:
    """Run an SOT tracker over ``sequences``, write the benchmark's result files and compute its metrics.

    Arguments as :func:`zoo.tasks.mot.run_benchmark`. A non-finite predicted box is replaced by the
    previous one (counted in ``per_sequence[...]["invalid_boxes"]`` and warned about).
    """
    key = _key(benchmark)
    tracker = resolve_tracker(tracker_or_factory, ("step",), "sot")
    out = None if out_dir is None else Path(out_dir)
    invalid_total = [0]

    def run_one(index: int, seq: SOTSequence, bar: Progress) -> SequenceRecord:
        bar.sequence(seq.name, len(seq))
        boxes, times, size, invalid = _run_one_sequence(tracker, seq, bar)
        invalid_total[0] += invalid
        if out is not None:
            write_result(out, key, seq.name, boxes, times)
        payload = _payload(seq, boxes, size) if _scorable(seq) else None
        per_seq = _per_sequence(key, payload) if payload is not None else {}
        if invalid:
            per_seq["invalid_boxes"] = invalid
        return SequenceRecord(index, seq.name, len(seq), float(times.sum()), payload, per_seq)

    records, local, rank, world = run_sharded(
        sequences, [len(s) for s in sequences], run_one, rank=rank, world_size=world_size,
        progress=progress, description=key, gather=gather,
    )  # fmt: skip
    if invalid_total[0]:
        warnings.warn(
            f"the tracker returned {invalid_total[0]} non-finite boxes; each was replaced by its previous box",
            stacklevel=2,
        )
    return finalize(
        records, task="sot", benchmark=key, split=split, reduce=lambda p: _metrics(key, p),
        evaluator=_evaluator(key), main_metrics=main_metrics(key), out_dir=out, meta=tracker_meta(tracker, meta),
        rank=rank, world_size=world, write_json=write_json, device=device, local=local,
        data=data_provenance(sequences),
    )  # fmt: skip


def score_results(
    results_dir: str | os.PathLike,
    sequences: Sequence[SOTSequence],
    out_dir: str | os.PathLike | None = None,
    *,
    benchmark: str = "synth_sot",
    split: str | None = None,
    meta: Mapping[str, Any] | None = None,
    write_json: bool = True,
    progress: bool | Progress = False,
    workers: int = 1,
) -> BenchmarkResult:
    """Score existing result files (see :func:`read_result` for the layouts found) for every sequence.

    ``fps`` comes from the GOT-10k ``_time.txt`` files when every sequence has one.

    Raises:
        FileNotFoundError: a sequence has no result file (named with the expected path), or no ground truth.
        FormatError: a malformed file, or a result whose length differs from the sequence's.
    """
    key = _key(benchmark)
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} not found")
    unscorable = [s.name for s in sequences if not _scorable(s)]
    if unscorable:
        raise FileNotFoundError(
            f"sequence {unscorable[0]} has no ground-truth boxes after frame 1: cannot score it"
        )
    loaded = [read_result(folder, key, s.name) for s in sequences]  # fail on a missing file before any work

    def run_one(index: int, seq: SOTSequence, bar: Progress) -> SequenceRecord:
        bar.sequence(seq.name, 1)
        boxes, times = loaded[index]
        if len(boxes) != len(seq):
            raise FormatError(folder / seq.name, f"result has {len(boxes)} boxes for {len(seq)} frames")
        size = _image_size(seq) if key in GOT10K_LAYOUT else None
        payload = _payload(seq, boxes, size)
        bar.advance()
        seconds = float(times.sum()) if times is not None else None
        return SequenceRecord(index, seq.name, len(seq), seconds, payload, _per_sequence(key, payload))

    records, local, rank, world = run_sharded(
        sequences, [len(s) for s in sequences], run_one, rank=0, world_size=1, progress=progress,
        description=f"scoring {key}", gather=None, workers=workers,
    )  # fmt: skip
    meta = dict(meta or {})
    meta.setdefault("method", folder.name)
    return finalize(
        records, task="sot", benchmark=key, split=split, reduce=lambda p: _metrics(key, p),
        evaluator=_evaluator(key), main_metrics=main_metrics(key), out_dir=None if out_dir is None else Path(out_dir),
        meta=tracker_meta(None, meta), rank=rank, world_size=world, write_json=write_json, device=None, local=local,
        data=data_provenance(sequences),
    )  # fmt: skip

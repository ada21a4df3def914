"""Video object segmentation and keypoint propagation: run a VOS tracker over a benchmark, write the
official results, score them.

Masks (DAVIS-2017, ZooSynth-VOS): ``init(frame0, labels0)`` with the first annotation (void 255 as
background), then ``step(frame)`` on every later frame. Results are DAVIS palette PNGs
``<out>/<seq>/00000.png ...`` (frame 0 holds the given annotation), the layout the DAVIS evaluation and
server read. Metrics: :mod:`zoo.metrics.vos` (J, F, J&F, semi-supervised protocol).

Keypoints (JHMDB, ZooSynth-KP): ``init(frame0, joints0)`` with the (J, 2) first-frame joints, then ``step``. JHMDB has no
official result format; ``<out>/<seq>.txt`` holds one line per frame, ``x1,y1,x2,y2,...`` in pixels
(frame 0 = the given joints, negative = invisible). Metrics: :mod:`zoo.metrics.keypoints` (PCK@0.1/0.2,
the CRW convention), reported as fractions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.atomic import atomic_write_text
from zoo.core.video import read_image
from zoo.data.formats import davis
from zoo.data.formats.errors import FormatError
from zoo.data.types import VOSSequence
from zoo.metrics import keypoints as kp_metrics
from zoo.metrics import vos as vos_metrics
from zoo.tasks._common import Stopwatch, data_provenance, finalize, resolve_tracker, run_sharded, tracker_meta
from zoo.tasks.progress import Progress
from zoo.tasks.results import BenchmarkResult
from zoo.tasks.sharding import Gather, SequenceRecord

__all__ = [
    "MAIN_METRICS",
    "MAIN_METRICS_KEYPOINTS",
    "load_davis_annotations",
    "mask_result_dir",
    "read_keypoints",
    "run_benchmark",
    "score_results",
    "write_keypoints",
]

MAIN_METRICS = ("J&F-Mean", "J-Mean", "F-Mean")
MAIN_METRICS_KEYPOINTS = ("PCK@0.1", "PCK@0.2")
BENCHMARKS = ("davis17", "jhmdb", "synth_vos", "synth_kp")
_ALPHAS = kp_metrics.DEFAULT_ALPHAS


# ------------------------------------------------------------------------------------------- files
def mask_result_dir(out_dir: str | os.PathLike, name: str) -> Path:
    """``<out_dir>/<name>``: the folder of a sequence's palette PNGs."""
    return Path(out_dir) / name


def write_keypoints(path: str | os.PathLike, points: np.ndarray) -> Path:
    """Write (T, J, 2) float pixel keypoints as ``x1,y1,...,xJ,yJ`` lines (shortest round-trip floats)."""
    pts = np.asarray(points, np.float64)
    if pts.ndim != 3 or pts.shape[2] != 2:
        raise ValueError(f"keypoints must be (T, J, 2), got {pts.shape}")
    lines = [",".join(repr(float(v)) for v in row) for row in pts.reshape(pts.shape[0], -1)]
    return atomic_write_text(path, "\n".join(lines) + "\n")


def read_keypoints(path: str | os.PathLike, num_joints: int | None = None) -> np.ndarray:
    """Read :func:`write_keypoints` output as (T, J, 2) float64.

    Raises:
        FormatError: missing file, non-numbers, ragged rows, an odd column count or a wrong joint count.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "keypoint result file not found")
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            raise FormatError(
                path, f"expected comma-separated numbers, got {line[:60]!r}", line=lineno
            ) from None
        if len(rows[-1]) != len(rows[0]) or len(rows[-1]) % 2:
            raise FormatError(
                path, f"{len(rows[-1])} values; expected {len(rows[0])} (x,y per joint)", line=lineno
            )
    if not rows:
        raise FormatError(path, "no keypoints")
    pts = np.asarray(rows, np.float64).reshape(len(rows), -1, 2)
    if num_joints is not None and pts.shape[1] != num_joints:
        raise FormatError(path, f"{pts.shape[1]} joints per frame, expected {num_joints}")
    return pts


def load_davis_annotations(
    root: str | os.PathLike, split: str, year: str = "2017", resolution: str = "480p"
) -> list[VOSSequence]:
    """DAVIS sequences from the annotation layout alone (``Annotations/`` + ``ImageSets/``), images optional.

    With ``JPEGImages/`` present this is ``load_davis(..., check_images=False)``; without it the frame list
    is the annotated frames (paths under ``JPEGImages/`` that need not exist).
    """
    root = Path(root)
    if (root / "JPEGImages" / resolution).is_dir():
        return davis.load_davis(root, split, year=year, resolution=resolution, check_images=False)
    imageset = root / "ImageSets" / str(year) / f"{split}.txt"
    if not imageset.is_file():
        raise FormatError(imageset, f"ImageSets list not found; {davis.LAYOUT}")
    out = []
    for name in davis.read_imageset(imageset):
        ann_dir = root / "Annotations" / resolution / name
        anns = sorted(ann_dir.glob("*.png")) if ann_dir.is_dir() else []
        if not anns:
            raise FormatError(ann_dir / "00000.png", f"sequence {name!r}: no annotations; {davis.LAYOUT}")
        for i, p in enumerate(anns):
            if p.stem != f"{i:05d}":
                raise FormatError(
                    ann_dir / f"{i:05d}.png", f"missing annotation (the folder jumps to {p.name})"
                )
        frames = [root / "JPEGImages" / resolution / name / f"{i:05d}.jpg" for i in range(len(anns))]
        out.append(VOSSequence(name=name, frames=frames, annotations=dict(enumerate(anns))))
    return out


# ---------------------------------------------------------------------------------------------- masks
def _first_labels(seq: VOSSequence) -> np.ndarray:
    if 0 not in seq.annotations:
        raise FormatError(
            seq.frames[0] if seq.frames else Path(seq.name), f"sequence {seq.name}: frame 0 has no annotation"
        )
    mask = davis.read_palette_mask(seq.annotations[0])
    return np.where(mask == vos_metrics.VOID, 0, mask).astype(np.uint8)


def _check_mask(mask: Any, shape: tuple[int, int], seq: str, t: int) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"{seq} frame {t}: the tracker returned a mask of shape {m.shape}, expected {shape}")
    if m.dtype.kind not in "biu" or (m.size and (m.min() < 0 or m.max() > 254)):
        raise ValueError(f"{seq} frame {t}: masks must hold integer object ids 0..254, got dtype {m.dtype}")
    return m.astype(np.uint8, copy=False)


def _fully_annotated(seq: VOSSequence) -> bool:
    return len(seq.annotations) == len(seq.frames) and len(seq.frames) >= 3


def _score_masks(seq: VOSSequence, pred: np.ndarray | Sequence[np.ndarray]) -> tuple[Any, dict[str, Any]]:
    """J&F of one sequence; ``pred`` is (T, H, W) or T lazily read (H, W) frames (re-scoring)."""
    if not _fully_annotated(seq):
        return None, {}
    gt = davis.PaletteMaskFrames([seq.annotations[t] for t in range(len(seq.frames))])
    if len(gt) != len(pred):
        raise ValueError(f"{seq.name}: {len(pred)} result frames, {len(gt)} annotated frames")
    try:
        res = vos_metrics.jf_sequence(gt, pred)
    except FormatError:
        raise  # names its file already
    except ValueError as error:  # a wrong size or object id: say which sequence
        raise ValueError(f"sequence {seq.name}: {error}") from None
    payload = {"J": res["J"], "F": res["F"]}
    per_seq = dict(res["sequence"])
    per_seq["num_objects"] = int(res["num_objects"])
    return payload, per_seq


def _reduce_masks(payloads: list[Any]) -> dict[str, Any]:
    summary = vos_metrics.davis_summary(payloads)
    out = {k: summary[k] for k in vos_metrics.SUMMARY_KEYS}
    out["num_objects"] = int(summary["num_objects"])
    return out


def _run_masks(tracker: Any, seq: VOSSequence, out: Path | None, bar: Progress) -> tuple[np.ndarray, float]:
    watch = Stopwatch()
    labels0 = _first_labels(seq)
    frame0 = read_image(seq.frames[0])
    if frame0.shape[:2] != labels0.shape:
        raise FormatError(
            seq.annotations[0], f"annotation size {labels0.shape} differs from the frame's {frame0.shape[:2]}"
        )
    with watch:
        tracker.init(frame0, labels0.copy())
    bar.advance()
    preds = [labels0]
    for t in range(1, len(seq.frames)):
        frame = read_image(seq.frames[t])
        with watch:
            mask = tracker.step(frame)
        preds.append(_check_mask(mask, labels0.shape, seq.name, t))
        bar.advance()
    pred = np.stack(preds)
    if out is not None:
        folder = mask_result_dir(out, seq.name)
        for t, m in enumerate(pred):
            davis.write_palette_mask(folder / f"{t:05d}.png", m)
    return pred, watch.seconds


# ------------------------------------------------------------------------------------------ keypoints
def _score_keypoints(gt: np.ndarray, pred: np.ndarray) -> tuple[Any, dict[str, Any]]:
    hits, counts = kp_metrics.pck_statistics(pred, gt, _ALPHAS, "crw")
    res = kp_metrics.pck_from_statistics(hits, counts, _ALPHAS, "crw")
    return (hits, counts), {f"PCK@{a:g}": _fraction(res[f"PCK@{a:g}"]) for a in _ALPHAS}


def _fraction(percent: float) -> float:
    return percent / 100.0


def _reduce_keypoints(payloads: list[Any]) -> dict[str, Any]:
    hits = np.sum([p[0] for p in payloads], axis=0)
    counts = np.sum([p[1] for p in payloads], axis=0)
    res = kp_metrics.pck_from_statistics(hits, counts, _ALPHAS, "crw")
    out: dict[str, Any] = {f"PCK@{a:g}": _fraction(res[f"PCK@{a:g}"]) for a in _ALPHAS}
    out["num_joints_scored"] = int(counts.sum())
    return out


def _run_keypoints(
    tracker: Any, seq: VOSSequence, out: Path | None, bar: Progress
) -> tuple[np.ndarray, float]:
    watch = Stopwatch()
    gt = np.asarray(seq.keypoints, np.float64)
    n = gt.shape[0]
    if len(seq.frames) < n:
        raise FormatError(Path(seq.name), f"{gt.shape[0]} keypoint frames but {len(seq.frames)} images")
    with watch:
        tracker.init(read_image(seq.frames[0]), gt[0].copy())
    bar.advance()
    pred = [gt[0]]
    for t in range(1, n):
        frame = read_image(seq.frames[t])
        with watch:
            p = np.asarray(tracker.step(frame), np.float64)
        if p.shape != gt[0].shape:
            raise ValueError(
                f"{seq.name} frame {t}: the tracker returned keypoints {p.shape}, expected {gt[0].shape}"
            )
        pred.append(p)
        bar.advance()
    points = np.stack(pred)
    if out is not None:
        write_keypoints(Path(out) / f"{seq.name}.txt", points)
    return points, watch.seconds


# ------------------------------------------------------------------------------------------- shared
def _mode(sequences: Sequence[VOSSequence]) -> str:
    kinds = {s.keypoints is not None for s in sequences}
    if len(kinds) > 1:
        raise ValueError("the sequences mix keypoint and mask annotations; evaluate them separately")
    return "keypoints" if kinds == {True} else "masks"


def _evaluator(mode: str) -> dict[str, Any]:
    if mode == "keypoints":
        return {
            "name": "JHMDB PCK (CRW/UVC evaluation script)",
            "version": "crw",
            "conventions": {
                "convention": "crw", "alphas": list(_ALPHAS), "first_frame": "not scored",
                "reference": "0.6 x diagonal of the visible gt joints' box",
                "invisible": "predicted x < 0, or ground truth not annotated (NaN)",
            },
        }  # fmt: skip
    return {
        "name": "DAVIS-2017 evaluation (davis2017-evaluation)",
        "version": "2017",
        "conventions": vos_metrics.conventions(),
    }


def _frames(seq: VOSSequence) -> int:
    return int(seq.keypoints.shape[0]) if seq.keypoints is not None else len(seq.frames)


def run_benchmark(
    tracker_or_factory: Any,
    sequences: Sequence[VOSSequence],
    out_dir: str | os.PathLike | None,
    *,
    benchmark: str = "synth_vos",
    split: str | None = None,
    rank: int | None = None,
    world_size: int | None = None,
    progress: bool | Progress = True,
    gather: Gather | None = None,
    meta: Mapping[str, Any] | None = None,
    write_json: bool = True,
    device: str | None = None,
) -> BenchmarkResult:
    """Run a VOS tracker over ``sequences`` (all masks or all keypoints), write the official results and
    compute J&F (masks) or PCK (keypoints). Arguments as :func:`zoo.tasks.mot.run_benchmark`.

    Sequences annotated only on frame 0 (DAVIS test-dev) are run and written but not scored.
    """
    mode = _mode(sequences)
    tracker = resolve_tracker(tracker_or_factory, ("step",), "vos")
    out = None if out_dir is None else Path(out_dir)

    def run_one(index: int, seq: VOSSequence, bar: Progress) -> SequenceRecord:
        bar.sequence(seq.name, _frames(seq))
        if mode == "keypoints":
            pred, seconds = _run_keypoints(tracker, seq, out, bar)
            payload, per_seq = _score_keypoints(np.asarray(seq.keypoints, np.float64), pred)
        else:
            pred, seconds = _run_masks(tracker, seq, out, bar)
            payload, per_seq = _score_masks(seq, pred)
        return SequenceRecord(index, seq.name, _frames(seq), seconds, payload, per_seq)

    records, local, rank, world = run_sharded(
        sequences, [_frames(s) for s in sequences], run_one, rank=rank, world_size=world_size,
        progress=progress, description=benchmark, gather=gather,
    )  # fmt: skip
    return finalize(
        records, task="vos", benchmark=benchmark, split=split,
        reduce=_reduce_keypoints if mode == "keypoints" else _reduce_masks, evaluator=_evaluator(mode),
        main_metrics=MAIN_METRICS_KEYPOINTS if mode == "keypoints" else MAIN_METRICS, out_dir=out,
        meta=tracker_meta(tracker, meta), rank=rank, world_size=world, write_json=write_json, device=device,
        local=local, data=data_provenance(sequences),
    )  # fmt: skip


def _read_mask_results(results_dir: Path, seq: VOSSequence) -> davis.PaletteMaskFrames:
    """The result masks of one sequence, read lazily while scoring (their files are checked now)."""
    folder = results_dir / seq.name
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no result for sequence {seq.name}: expected the folder {folder} of palette PNGs 00000.png ..."
        )
    names = [f"{t:05d}.png" for t in range(len(seq.frames))]
    present = set(os.listdir(folder))  # one directory read, not a stat per frame
    for t, name in enumerate(names):
        if name not in present:
            raise FileNotFoundError(f"no result for sequence {seq.name} frame {t}: expected {folder / name}")
    base = os.fspath(folder)
    return davis.PaletteMaskFrames([os.path.join(base, name) for name in names])


def score_results(
    results_dir: str | os.PathLike,
    sequences: Sequence[VOSSequence],
    out_dir: str | os.PathLike | None = None,
    *,
    benchmark: str = "synth_vos",
    split: str | None = None,
    meta: Mapping[str, Any] | None = None,
    write_json: bool = True,
    progress: bool | Progress = False,
    workers: int = 1,
) -> BenchmarkResult:
    """Score existing results: ``<results_dir>/<seq>/00000.png ...`` (masks) or ``<results_dir>/<seq>.txt``
    (keypoints, :func:`write_keypoints`) for every sequence.

    Raises:
        FileNotFoundError: a sequence (or frame) has no result; the message names the expected file.
        FormatError: a malformed result file.
    """
    mode = _mode(sequences)
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} not found")
    if mode == "masks":
        bad = [s.name for s in sequences if not _fully_annotated(s)]
        if bad:
            raise FileNotFoundError(f"sequence {bad[0]} is not annotated on every frame: cannot score it")
    else:
        for s in sequences:
            if not (folder / f"{s.name}.txt").is_file():
                raise FileNotFoundError(
                    f"no result for sequence {s.name}: expected {folder / (s.name + '.txt')}"
                )
    for s in sequences if mode == "masks" else ():
        if not (folder / s.name).is_dir():
            raise FileNotFoundError(
                f"no result for sequence {s.name}: expected the folder {folder / s.name} of palette PNGs"
            )

    def run_one(index: int, seq: VOSSequence, bar: Progress) -> SequenceRecord:
        bar.sequence(seq.name, 1)
        if mode == "keypoints":
            gt = np.asarray(seq.keypoints, np.float64)
            pred = read_keypoints(folder / f"{seq.name}.txt", gt.shape[1])
            if pred.shape != gt.shape:
                raise FormatError(
                    folder / f"{seq.name}.txt", f"{pred.shape[0]} frames, the ground truth has {gt.shape[0]}"
                )
            payload, per_seq = _score_keypoints(gt, pred)
        else:
            try:
                payload, per_seq = _score_masks(seq, _read_mask_results(folder, seq))
            except FormatError:
                raise
            except ValueError as error:  # a result mask of the wrong size or with unknown ids: a bad file
                raise FormatError(folder / seq.name, str(error)) from None
        bar.advance()
        return SequenceRecord(index, seq.name, _frames(seq), None, payload, per_seq)

    records, local, rank, world = run_sharded(
        sequences, [_frames(s) for s in sequences], run_one, rank=0, world_size=1, progress=progress,
        description=f"scoring {benchmark}", gather=None, workers=workers,
    )  # fmt: skip
    meta = dict(meta or {})
    meta.setdefault("method", folder.name)
    return finalize(
        records, task="vos", benchmark=benchmark, split=split,
        reduce=_reduce_keypoints if mode == "keypoints" else _reduce_masks, evaluator=_evaluator(mode),
        main_metrics=MAIN_METRICS_KEYPOINTS if mode == "keypoints" else MAIN_METRICS,
        out_dir=None if out_dir is None else Path(out_dir), meta=tracker_meta(None, meta), rank=rank,
        world_size=world, write_json=write_json, device=None, local=local,
        data=data_provenance(sequences),
    )  # fmt: skip

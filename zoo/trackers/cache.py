"""Per-sequence outputs of single-object trackers, run once and cached on disk ("tracker of trackers").

An ensemble over base trackers (SFTrack++ and any other) reads the base trackers' boxes for every frame of
every training and evaluation sequence many times; running seven OpenCV trackers each time would cost more
than the ensemble itself. :func:`tracker_outputs` returns them from the cache, running the tracker (``init``
on the first ground-truth box, ``step`` on every later frame) only on a miss.

Cache key: sha256 of the canonical JSON of

- the tracker: registry name, its keyword settings, the zoo version and (for the OpenCV trackers, whose
  output depends on it) the OpenCV version;
- the sequence: its name, the first box's bytes and every frame file's name, size and modification time
  (hashing the pixels would cost about as much as tracking).

Entries are ``<cache>/sot/<tracker>/<key>.npz`` (``boxes`` (T, 4) float64 ``xyxy``, ``scores`` (T,),
``times`` (T,) seconds) written atomically, read with ``allow_pickle=False``, beside a ``<key>.json`` that
records what the key was made of. An entry that is unreadable, has the wrong shape or holds non-finite
boxes is recomputed with a warning, never used. The default cache is ``$ZOO_DATA/trackers``
(``~/.cache/zoo/trackers``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.atomic import atomic_write_bytes, atomic_write_text
from zoo.data.types import SOTSequence

__all__ = [
    "TrackerOutputs",
    "TrackerSource",
    "cache_key",
    "default_cache_dir",
    "precompute",
    "run_sot_tracker",
    "tracker_outputs",
]


def default_cache_dir() -> Path:
    return Path(os.environ.get("ZOO_DATA", "~/.cache/zoo")).expanduser() / "trackers"


@dataclass(frozen=True)
class TrackerOutputs:
    """One tracker's output on one sequence.

    Attributes:
        boxes: (T, 4) float64 ``xyxy`` pixels; frame 0 is the given first box.
        scores: (T,) float64 confidences (OpenCV trackers: 1 on success, 0 where the last box was carried).
        times: (T,) float64 seconds per frame (frame 0: ``init``).
    """

    boxes: np.ndarray
    scores: np.ndarray
    times: np.ndarray


@dataclass(frozen=True)
class TrackerSource:
    """A base tracker as a cache entry knows it: a registered SOT tracker name and its settings.

    Attributes:
        name: registry name (``csrt``, ``kcf``...; ``zoo.list_methods("sot")``).
        params: keyword settings passed to the tracker class; part of the cache key.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def build(self) -> Any:
        from zoo.registry import get_method

        spec = get_method(self.name)
        if spec.task != "sot":
            raise ValueError(f"base tracker {self.name!r} is a {spec.task} tracker, not an SOT one")
        if spec.kind != "baseline":
            raise ValueError(
                f"base tracker {self.name!r} is a trainable method; name a registered SOT baseline "
                "(zoo.list_methods('sot', 'baseline'))"
            )
        return spec.cls(**dict(self.params))

    def identity(self) -> dict[str, Any]:
        import zoo

        out: dict[str, Any] = {"tracker": self.name, "params": _plain(self.params), "zoo": zoo.__version__}
        from zoo.registry import get_method

        if get_method(self.name).cls.__module__ == "zoo.trackers.opencv_sot":
            import cv2

            out["opencv"] = cv2.__version__
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _fingerprint(seq: SOTSequence) -> dict[str, Any]:
    files = hashlib.sha256()
    for path in seq.frames:
        st = os.stat(path)
        files.update(f"{Path(path).name}:{st.st_size}:{st.st_mtime_ns};".encode())
    box0 = np.ascontiguousarray(np.asarray(seq.boxes, np.float64)[0])
    return {"sequence": seq.name, "frames": len(seq), "box0": box0.tolist(), "files": files.hexdigest()}


def cache_key(source: TrackerSource, seq: SOTSequence) -> tuple[str, dict[str, Any]]:
    """(32-hex key, the JSON document it hashes) of ``source`` run on ``seq``."""
    doc = {"tracker": source.identity(), "content": _fingerprint(seq)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32], doc


def _first_box(seq: SOTSequence) -> np.ndarray:
    box = np.asarray(seq.boxes, np.float64)[0]
    if box.shape != (4,) or not np.isfinite(box).all():
        raise ValueError(
            f"sequence {seq.name}, frame 1: the first ground-truth box {box.tolist()} is not 4 finite numbers"
        )
    if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
        raise ValueError(
            f"sequence {seq.name}, frame 1: the first ground-truth box {box.tolist()} has zero size"
        )
    return box


def run_sot_tracker(
    tracker: Any, seq: SOTSequence, on_frame: Callable[[], None] | None = None
) -> TrackerOutputs:
    """Run an SOT tracker over ``seq`` from its first ground-truth box.

    Raises:
        ValueError: the first box is not finite, has zero size or lies outside the first frame; a frame the
            tracker refuses. The message names the sequence and the (1-based) frame.
    """
    from zoo.core.video import read_image

    box0 = _first_box(seq)
    n = len(seq)
    boxes = np.empty((n, 4), np.float64)
    scores = np.empty(n, np.float64)
    times = np.empty(n, np.float64)
    frame = read_image(seq.frames[0])
    h, w = frame.shape[:2]
    if box0[2] <= 0 or box0[3] <= 0 or box0[0] >= w or box0[1] >= h:
        raise ValueError(
            f"sequence {seq.name}, frame 1: the first box {box0.tolist()} lies outside the {w}x{h} frame"
        )
    t0 = time.perf_counter()
    try:
        tracker.init(frame, box0)
    except (ValueError, RuntimeError) as err:
        raise ValueError(f"sequence {seq.name}, frame 1: {err}") from err
    boxes[0], scores[0], times[0] = box0, 1.0, time.perf_counter() - t0
    if on_frame is not None:
        on_frame()
    for t in range(1, n):
        frame = read_image(seq.frames[t])
        t0 = time.perf_counter()
        try:
            out = tracker.step(frame)
        except ValueError as err:
            raise ValueError(f"sequence {seq.name}, frame {t + 1}: {err}") from err
        times[t] = time.perf_counter() - t0
        boxes[t] = np.asarray(out.box, np.float64).reshape(4)
        scores[t] = 1.0 if out.score is None else float(out.score)
        if on_frame is not None:
            on_frame()
    return TrackerOutputs(boxes, scores, times)


def _entry_path(folder: Path, source: TrackerSource, key: str) -> Path:
    return folder / "sot" / source.name / f"{key}.npz"


def _read(path: Path, n: int) -> TrackerOutputs | None:
    """The entry at ``path`` if it is whole and fits a ``n``-frame sequence; None (with a warning) if not."""
    try:
        with np.load(path, allow_pickle=False) as z:
            out = TrackerOutputs(np.array(z["boxes"]), np.array(z["scores"]), np.array(z["times"]))
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        warnings.warn(f"tracker cache {path} is unreadable ({err}): recomputing", stacklevel=3)
        return None
    if out.boxes.shape != (n, 4) or out.scores.shape != (n,) or out.times.shape != (n,):
        warnings.warn(
            f"tracker cache {path} holds boxes {out.boxes.shape}, expected ({n}, 4): recomputing",
            stacklevel=3,
        )
        return None
    if not np.isfinite(out.boxes).all():
        warnings.warn(f"tracker cache {path} holds non-finite boxes: recomputing", stacklevel=3)
        return None
    return out


def _write(path: Path, out: TrackerOutputs, doc: dict[str, Any]) -> None:
    buf = io.BytesIO()
    np.savez(buf, boxes=out.boxes, scores=out.scores, times=out.times)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_text(path.with_suffix(".json"), json.dumps(doc, indent=1, sort_keys=True) + "\n")


def cached(
    source: TrackerSource, seq: SOTSequence, cache_dir: str | os.PathLike | None = None
) -> TrackerOutputs | None:
    """The valid cache entry of ``source`` on ``seq``, or None (nothing is run)."""
    key, _ = cache_key(source, seq)
    path = _entry_path(_folder(cache_dir), source, key)
    return _read(path, len(seq)) if path.is_file() else None


def _folder(cache_dir: str | os.PathLike | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def tracker_outputs(
    source: TrackerSource | str,
    seq: SOTSequence,
    cache_dir: str | os.PathLike | None = None,
    on_frame: Callable[[], None] | None = None,
) -> TrackerOutputs:
    """``source``'s outputs on ``seq``: from the cache, or run now and stored."""
    source = TrackerSource(source) if isinstance(source, str) else source
    key, doc = cache_key(source, seq)
    path = _entry_path(_folder(cache_dir), source, key)
    if path.is_file():
        out = _read(path, len(seq))
        if out is not None:
            return out
    out = run_sot_tracker(source.build(), seq, on_frame)
    _write(path, out, doc)
    return out


def precompute(
    sources: Sequence[TrackerSource | str],
    sequences: Sequence[SOTSequence],
    cache_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Fill the cache for every (tracker, sequence) pair, in ``workers`` processes, with a progress bar.

    Returns:
        ``{"cached": pairs already present, "computed": pairs run now}``.
    """
    from zoo.core.parallel import parallel_map

    srcs = [TrackerSource(s) if isinstance(s, str) else s for s in sources]
    for s in srcs:
        s.build()  # fail on an unknown tracker or bad settings before any work
    todo: list[tuple[TrackerSource, SOTSequence]] = []
    present = 0
    for s in srcs:
        for seq in sequences:
            if cached(s, seq, cache_dir) is None:
                todo.append((s, seq))
            else:
                present += 1
    if not todo:
        return {"cached": present, "computed": 0}

    def work(_: int, item: tuple[TrackerSource, SOTSequence]) -> int:
        tracker_outputs(item[0], item[1], cache_dir)
        return len(item[1])

    # longest sequences first, so the last worker does not finish alone on a long one
    order = sorted(range(len(todo)), key=lambda i: -len(todo[i][1]))
    bar = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
        )
        task = bar.add_task("base trackers", total=len(todo))

    def started() -> None:
        if bar is not None:
            bar.start()

    def finished(i: int, _: int) -> None:
        if bar is not None:
            bar.update(task, advance=1, description=f"{todo[i][0].name} {todo[i][1].name}")

    try:
        parallel_map(work, todo, workers, order=order, on_result=finished, on_start=started)
    finally:
        if bar is not None:
            bar.stop()
    return {"cached": present, "computed": len(todo)}

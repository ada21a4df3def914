"""Per-sequence appearance features, computed once and cached on disk.

Cache key: sha256 of the canonical JSON of the extractor's :meth:`identity` (settings + weights digest) and
the sequence's content fingerprint: its name, the detection rows' frames and boxes (bytes), and every frame
image's file name, size and modification time. Hashing the images' bytes would cost about as much as
extracting for long sequences, so a rewritten image is detected by its size or mtime. Entries are
``<cache>/<key>.npy`` (written atomically, read with ``allow_pickle=False`` and memory-mapped) beside a
``<key>.json`` that records what the key was made of. A truncated or corrupt entry is recomputed with a
warning. The default cache is ``$ZOO_DATA/appearance`` (``~/.cache/zoo/appearance``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from zoo.appearance.extractors import PrecomputedFeatures
from zoo.core.atomic import atomic_write_bytes, atomic_write_text
from zoo.data.types import MOTRows, MOTSequence

__all__ = ["cache_key", "default_cache_dir", "sequence_features"]


def default_cache_dir() -> Path:
    return Path(os.environ.get("ZOO_DATA", "~/.cache/zoo")).expanduser() / "appearance"


def _fingerprint(seq: MOTSequence, rows: MOTRows) -> dict[str, Any]:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(rows.frames, np.int64).tobytes())
    h.update(np.ascontiguousarray(rows.boxes, np.float64).tobytes())
    img = hashlib.sha256()
    folder = seq.root / seq.info.im_dir
    if folder.is_dir():
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            st = entry.stat()
            img.update(f"{entry.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return {"sequence": seq.name, "rows": len(rows), "detections": h.hexdigest(), "images": img.hexdigest()}


def cache_key(identity: dict[str, Any], seq: MOTSequence, rows: MOTRows) -> tuple[str, dict[str, Any]]:
    doc = {"extractor": identity, "content": _fingerprint(seq, rows)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32], doc


def _compute(seq: MOTSequence, rows: MOTRows, extractor: Any, progress: bool) -> np.ndarray:
    from zoo.core.video import read_image

    out = np.zeros((len(rows), int(extractor.dim)), np.float32)
    order = np.argsort(rows.frames, kind="stable")
    frames = rows.frames[order]
    cuts = np.flatnonzero(np.diff(frames)) + 1
    groups = np.split(order, cuts)
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"appearance {seq.name}", total=len(groups))
    try:
        for idx in groups:
            t = int(rows.frames[idx[0]])
            image = read_image(seq.image_path(t))
            out[idx] = extractor.extract(image, rows.boxes[idx])
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    return out


def sequence_features(seq: MOTSequence, rows: MOTRows, extractor: Any, cache_dir: str | os.PathLike | None = None,
                      progress: bool = False) -> np.ndarray:
    """(N, dim) float32 appearance of the N detection ``rows`` of ``seq`` (rows in any order), from the cache
    when an entry for this extractor and content exists.

    Raises:
        ValueError: ``rows`` is empty (the message names the sequence), or a feature file does not fit.
    """
    if len(rows) == 0:
        raise ValueError(f"sequence {seq.name} ({seq.root}): no detections to compute appearance features for")
    if isinstance(extractor, PrecomputedFeatures):
        return extractor.load(seq.name, np.asarray(rows.frames, np.int64))
    key, doc = cache_key(extractor.identity(), seq, rows)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = folder / f"{key}.npy"
    if path.is_file():
        try:
            feats = np.load(path, mmap_mode="r", allow_pickle=False)
            if feats.shape == (len(rows), int(extractor.dim)) and feats.dtype == np.float32:
                return feats
            warnings.warn(f"appearance cache {path} has shape {feats.shape} {feats.dtype}, expected "
                          f"({len(rows)}, {extractor.dim}) float32: recomputing", stacklevel=2)
        except (ValueError, OSError, EOFError) as err:
            warnings.warn(f"appearance cache {path} is unreadable ({err}): recomputing", stacklevel=2)
    feats = _compute(seq, rows, extractor, progress)
    buf = io.BytesIO()
    np.save(buf, feats, allow_pickle=False)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_text(path.with_suffix(".json"), json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return feats

"""Training data for graph trackers: per-sequence detection tables with appearance and GT identities, cut
into clips.

A table holds one sequence's detections (public ``det.txt``, an external detector's MOTChallenge files, or
the GT boxes as an oracle), each with an appearance vector from a configurable extractor
(:mod:`zoo.appearance`, cached on disk) and a GT identity found by IoU matching (Hungarian per frame,
IoU >= ``match_iou``; -1 for false positives). Training items are clips of ``clip_len`` frames taken every
``clip_stride`` frames. Nothing here knows a method: SUSHI, KFE+IFF, or any other graph tracker reads the
same items.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from zoo.core.assignment import linear_assignment
from zoo.core.boxes import box_iou
from zoo.data.modules import MOTDataModule
from zoo.data.types import MOTRows, MOTSequence

__all__ = ["DetectionTable", "GraphClipDataset", "GraphDataModule", "detection_table", "match_identities"]


def detection_table(rows: MOTRows, min_score: float = 0.0) -> MOTRows:
    """Detection rows sorted by frame (stable: file order within a frame), scores >= ``min_score``: the one
    row order the data module and the trackers share, so cached features line up."""
    keep = np.asarray(rows.scores, np.float64) >= min_score
    sel = rows.select(keep)
    order = np.argsort(sel.frames, kind="stable")
    return sel.select(order) if len(sel) else sel


def match_identities(
    det: MOTRows,
    gt: MOTRows,
    *,
    iou: float = 0.5,
    classes: Sequence[int] = (1,),
    consider_only: bool = True,
    min_visibility: float = 0.0,
) -> np.ndarray:
    """(N,) int64 GT id of every detection row: per frame, Hungarian matching on ``1 - IoU`` against the GT
    boxes that count (``classes``, the consider flag, ``min_visibility``), pairs with IoU >= ``iou``; -1
    for unmatched detections."""
    out = np.full(len(det), -1, np.int64)
    if len(det) == 0 or len(gt) == 0:
        return out
    ok = np.isin(gt.classes, np.asarray(classes)) | (gt.classes < 0)
    if consider_only:
        ok &= gt.scores > 0
    ok &= (gt.visibility < 0) | (gt.visibility >= min_visibility)
    g = gt.select(ok)
    g_order = np.argsort(g.frames, kind="stable")
    g_frames = g.frames[g_order]
    d_order = np.argsort(det.frames, kind="stable")
    d_frames = det.frames[d_order]
    for t in np.unique(d_frames):
        di = d_order[np.searchsorted(d_frames, t, "left"):np.searchsorted(d_frames, t, "right")]
        gi = g_order[np.searchsorted(g_frames, t, "left"):np.searchsorted(g_frames, t, "right")]
        if gi.size == 0:
            continue
        cost = 1.0 - box_iou(det.boxes[di], g.boxes[gi])
        matches, _, _ = linear_assignment(cost, thresh=1.0 - iou)
        out[di[matches[:, 0]]] = g.ids[gi[matches[:, 1]]]
    return out


@dataclass
class DetectionTable:
    """One sequence's detections for graph training.

    Attributes:
        name: sequence name; fps: frame rate; length: frames.
        frames: (N,) int64 1-based; boxes: (N, 4) float64 ``xyxy``; scores: (N,) float64.
        features: (N, D) float32 appearance; gt: (N,) int64 identities (-1: false positive).
    """

    name: str
    fps: float
    length: int
    frames: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    features: np.ndarray
    gt: np.ndarray


class GraphClipDataset(Dataset):
    """Clips of ``clip_len`` frames every ``clip_stride`` frames over detection tables. Item: a dict with
    ``frames`` (N,), ``boxes`` (N, 4), ``scores`` (N,), ``features`` (N, D) float32 tensor, ``gt`` (N,),
    ``fps``, ``start``, ``length`` (frames of the clip), ``sequence``. Clips without detections are skipped."""

    def __init__(self, tables: Sequence[DetectionTable], clip_len: int, clip_stride: int) -> None:
        if clip_len < 2 or clip_stride < 1:
            raise ValueError(f"clip_len must be >= 2 and clip_stride >= 1, got {clip_len}, {clip_stride}")
        self.tables = list(tables)
        self.clip_len, self.clip_stride = int(clip_len), int(clip_stride)
        self.index: list[tuple[int, int, int, int]] = []  # (table, start frame, first row, end row)
        for k, tab in enumerate(self.tables):
            last_start = max(1, tab.length - self.clip_len + 1)
            starts = list(range(1, last_start + 1, self.clip_stride))
            if starts[-1] != last_start:
                starts.append(last_start)
            for s in starts:
                lo = int(np.searchsorted(tab.frames, s, "left"))
                hi = int(np.searchsorted(tab.frames, s + self.clip_len - 1, "right"))
                if hi > lo:
                    self.index.append((k, s, lo, hi))

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, Any]:
        k, s, lo, hi = self.index[i]
        tab = self.tables[k]
        return {
            "frames": tab.frames[lo:hi].copy(),
            "boxes": tab.boxes[lo:hi].copy(),
            "scores": tab.scores[lo:hi].copy(),
            "features": torch.from_numpy(np.ascontiguousarray(tab.features[lo:hi], dtype=np.float32)),
            "gt": tab.gt[lo:hi].copy(),
            "fps": float(tab.fps),
            "start": int(s),
            "length": int(min(self.clip_len, tab.length - s + 1)),
            "sequence": tab.name,
        }


def _as_list(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Collate: clips stay a list (graphs of different sizes)."""
    return list(batch)


class GraphDataModule(MOTDataModule):
    """MOT benchmark sequences as clips of detections with appearance and GT ids, for graph trackers.

    Evaluation is :class:`~zoo.data.modules.MOTDataModule`'s (whole sequences, ``detections`` swapped in).

    Args:
        appearance: extractor spec for :func:`zoo.appearance.build_extractor` (the tracker's own).
        feature_cache: appearance cache folder (None: the zoo default).
        clip_len, clip_stride: training clip length and step in frames (stride default: half the length).
        clips_per_batch: clips in one optimisation step.
        train_detections: ``public``, ``gt`` (oracle boxes) or a folder; None: ``detections`` if given,
            else ``public``.
        min_score: detections below this score are dropped (trackers use the same threshold).
        match_iou: IoU for assigning GT ids to detections.
        min_visibility: GT boxes below this visibility are not matched (their detections become -1).
        **kwargs: :class:`~zoo.data.modules.MOTDataModule` arguments (root, benchmark, splits,
            detections, seqmaps, num_workers, seed, synth preset...).
    """

    def __init__(
        self,
        appearance: Mapping[str, Any] | None = None,
        feature_cache: str | None = None,
        clip_len: int = 32,
        clip_stride: int | None = None,
        clips_per_batch: int = 2,
        train_detections: str | None = None,
        min_score: float = 0.5,
        match_iou: float = 0.5,
        min_visibility: float = 0.0,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("num_workers", 0)
        super().__init__(min_visibility=min_visibility, **kwargs)
        self.appearance = dict(appearance or {"kind": "timm"})
        self.feature_cache = None if feature_cache is None else str(Path(os.path.expanduser(str(feature_cache))))
        self.clip_len = int(clip_len)
        self.clip_stride = int(clip_stride) if clip_stride else max(1, self.clip_len // 2)
        self.clips_per_batch = int(clips_per_batch)
        self.train_detections = train_detections
        self.min_score = float(min_score)
        self.match_iou = float(match_iou)
        self._tables: list[DetectionTable] | None = None
        self._graph_ds: GraphClipDataset | None = None
        self._extractor = None

    def extractor(self):
        if self._extractor is None:
            from zoo.appearance import build_extractor

            self._extractor = build_extractor(self.appearance)
        return self._extractor

    def _train_source(self) -> str:
        if self.train_detections is not None:
            return str(self.train_detections)
        return str(self.detections) if self.detections is not None else "public"

    def table(self, seq: MOTSequence, source: str | None = None) -> DetectionTable:
        """The detection table of one sequence (features from the cache after the first call)."""
        from zoo.appearance import sequence_features
        from zoo.tasks.mot import sequence_detections

        src = source or self._train_source()
        rows = detection_table(sequence_detections(seq, src), self.min_score)
        if len(rows) == 0:
            raise ValueError(f"sequence {seq.name} ({seq.root}) has no detections with score >= "
                             f"{self.min_score} from detections={src!r}: nothing to build a graph from")
        gt = seq.gt if seq.gt is not None else MOTRows.empty()
        ids = match_identities(rows, gt, iou=self.match_iou, classes=self.classes,
                               consider_only=self.consider_only, min_visibility=self.min_visibility)
        feats = sequence_features(seq, rows, self.extractor(), cache_dir=self.feature_cache)
        return DetectionTable(seq.name, float(seq.info.frame_rate), seq.info.seq_length, rows.frames,
                              rows.boxes, rows.scores, np.asarray(feats, np.float32), ids)

    def tables(self) -> list[DetectionTable]:
        if self._tables is None:
            self._tables = [self.table(s) for s in self.train_sequences()]
        return self._tables

    def train_dataset(self) -> GraphClipDataset:  # type: ignore[override]
        if self._graph_ds is None:
            self._graph_ds = GraphClipDataset(self.tables(), self.clip_len, self.clip_stride)
        return self._graph_ds

    @property
    def num_identities(self) -> int:
        return int(len({(t.name, int(i)) for t in self.tables() for i in np.unique(t.gt) if i >= 0}))

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.train_dataset()

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train_dataset(), batch_size=self.clips_per_batch, shuffle=True,
                          generator=generator, collate_fn=_as_list, num_workers=self.num_workers,
                          persistent_workers=self.persistent_workers)

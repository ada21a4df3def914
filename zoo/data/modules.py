"""LightningDataModules: MOTDataModule, VideoDataModule, SOTDataModule.

Each module is built from plain values (Hydra presets ``zoo/conf/data/<benchmark>.yaml``), trains through a
DDP-aware, resumable batch sampler (:mod:`zoo.data.samplers`; Trainer presets set
``use_distributed_sampler: false``) and exposes whole evaluation sequences for the shared runners in
``zoo.tasks``: ``eval_sequences(split)`` and ``eval_shard(rank, world, split)`` (whole sequences per rank,
balanced by frame count).

Roots: ``root=None`` uses ZooSynth (generated on first use by ``zoo.data.synth.ensure_synth``); a real
benchmark root is checked at construction and a missing or wrong one raises ``FileNotFoundError`` that
names the directory layout the benchmark needs. ``VideoDataModule`` can take its training clips from a second
root (``train_root`` / ``train_benchmark``, e.g. a folder of the user's own videos), checked the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import lightning as L

from zoo.data.benchmarks import BENCHMARKS, Benchmark, Task, synth_benchmark_root
from zoo.data.datasets import MOTGroupDataset, SOTPairDataset, VideoClipDataset, collate
from zoo.data.ensemble import SOTWindowDataset
from zoo.data.formats import davis, got10k, jhmdb, lasot, motchallenge, otb, trackingnet
from zoo.data.formats.davis_objects import load_davis_objects
from zoo.data.samplers import (
    EvenBatches,
    ResumableDataLoader,
    SequenceShardSampler,
    ShuffleGroupSampler,
    make_batch_sampler,
)
from zoo.data.transforms import photometric_transform, train_transform
from zoo.data.types import MOTSequence, SOTSequence, VOSSequence
from zoo.data.video_folder import has_sources, load_video_folder

_MOT17_COPY = re.compile(r"^(MOT17-[0-9]+)-(DPM|FRCNN|SDP)$")


def _plain(v: Any) -> Any:
    """OmegaConf containers (from Hydra) -> plain tuples/values."""
    if isinstance(v, (str, bytes)) or v is None:
        return v
    if isinstance(v, Sequence) or type(v).__name__ == "ListConfig":
        return tuple(_plain(x) for x in v)
    return v


def _size(v: int | Sequence[int]) -> tuple[int, int]:
    v = _plain(v)
    if isinstance(v, int):
        return v, v
    if len(v) != 2:
        raise ValueError(f"image size must be an int or [height, width], got {v}")
    return int(v[0]), int(v[1])


class _TrackingDataModule(L.LightningDataModule):
    """Shared plumbing: benchmark lookup, root resolution and checks, sequence cache, shards, loaders."""

    task: Task

    def __init__(
        self,
        *,
        root: str | os.PathLike | None,
        benchmark: str,
        train_split: str | None,
        val_split: str | None,
        num_workers: int,
        seed: int,
        synth_preset: str,
        synth_root: str | os.PathLike | None,
        pin_memory: bool,
        persistent_workers: bool,
        even_batches: EvenBatches,
    ) -> None:
        super().__init__()
        if benchmark not in BENCHMARKS or BENCHMARKS[benchmark].task != self.task:
            names = sorted(n for n, b in BENCHMARKS.items() if b.task == self.task)
            raise ValueError(f"{type(self).__name__}: unknown benchmark {benchmark!r}; choose one of {names}")
        self.bench = BENCHMARKS[benchmark]
        self.benchmark = benchmark
        self.train_split = train_split
        self.val_split = val_split
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.synth_preset = synth_preset
        self.synth_root = None if synth_root is None else Path(synth_root)
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers and self.num_workers > 0
        self.even_batches = even_batches
        self._root = None if root is None else Path(os.path.expanduser(str(root)))
        if self._root is None and self.bench.synth is None:
            raise ValueError(
                f"benchmark {benchmark!r} needs data.root=/path/to/{benchmark} (expected layout: "
                f"{self.bench.layout})"
            )
        self._cache: dict[str, list] = {}

    def _check_roots(self) -> None:
        """Fail fast on a wrong root (subclasses call this at the end of ``__init__``)."""
        if self._root is not None:
            for split in dict.fromkeys(s for s in (self.train_split, self.val_split) if s is not None):
                self._check_root(self._root, split)

    # -- roots ---------------------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        """The benchmark root (ZooSynth's task folder, generated on first access, when ``root`` is None)."""
        if self._root is None:
            self._root = synth_benchmark_root(self.bench.name, self.synth_preset, self.synth_root)
        return self._root

    #: the config key of this module's root, for error messages
    _root_key = "data.root"

    def _missing(self, path: Path, what: str) -> FileNotFoundError:
        hint = (
            f" (or set $ZOO_DATASETS to the folder holding {self.benchmark}/)"
            if self._root_key == "data.root"
            else ""
        )
        return FileNotFoundError(
            f"{self.benchmark}: {what} {path} not found. Expected layout: {self.bench.layout}. "
            f"Point {self._root_key} at the benchmark folder{hint}."
        )

    def _split_path(self, root: Path, split: str) -> Path:
        """The path that must exist to load ``split`` (subclasses refine)."""
        return root / split

    def _check_root(self, root: Path, split: str) -> None:
        if not root.is_dir():
            raise self._missing(root, "root folder")
        need = self._split_path(root, split)
        if not need.exists():
            raise self._missing(need, f"split {split!r}:")

    def prepare_data(self) -> None:
        """Generate ZooSynth once per node (Lightning calls this on local rank 0 only)."""
        _ = self.root

    # -- sequences -----------------------------------------------------------------------------------------
    def _load(self, split: str) -> list:
        raise NotImplementedError

    def sequences(self, split: str) -> list:
        """All sequences of ``split`` (cached)."""
        if split not in self._cache:
            root = self.root
            self._check_root(root, split)
            self._cache[split] = self._load(split)
        return self._cache[split]

    def eval_sequences(self, split: str | None = None) -> list:
        """Whole sequences for the evaluation runner (default: ``val_split``)."""
        split = split or self.val_split
        if split is None:
            raise ValueError(f"{self.benchmark}: no evaluation split configured (val_split is null)")
        return self.sequences(split)

    def eval_shard(self, rank: int, world: int, split: str | None = None) -> list:
        """The sequences rank ``rank`` of ``world`` evaluates: whole sequences, balanced by frame count."""
        seqs = self.eval_sequences(split)
        shard = SequenceShardSampler([len(s) for s in seqs], world, rank)
        return [seqs[i] for i in shard]

    def _train_split(self) -> str:
        if self.train_split is None:
            raise ValueError(f"{self.benchmark} has no training split here (train_split is null)")
        return self.train_split

    def _loader(self, dataset: Any, sampler: ShuffleGroupSampler) -> ResumableDataLoader:
        return ResumableDataLoader(
            dataset,
            sampler,
            num_workers=self.num_workers,
            collate_fn=collate,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
        )


# ------------------------------------------------------------------------------------------------- MOT
class MOTDataModule(_TrackingDataModule):
    """Multi-object tracking: training groups of consecutive frames (SGS), evaluation on whole sequences.

    Args:
        root: benchmark folder (holding ``train/``, ``test/``...); None for ZooSynth.
        benchmark: ``mot17``, ``mot20``, ``dancetrack`` or ``synth_mot``.
        train_split, val_split: split folders for training and evaluation.
        seqmap: optional seqmap file (or list of names) restricting the evaluation split.
        train_seqmap: likewise for the training split.
        group_size: B, consecutive frames per group (FineTrack: one group a batch).
        groups_per_batch: groups concatenated into one batch.
        image_size: training frame size [H, W] (letterbox).
        num_workers: DataLoader workers.
        sampler: ``sgs`` (Shuffle-Group Sampling) or ``random`` (ablation: random frames, same frame count).
        seed: sampler seed (the epoch order is a function of seed and epoch).
        detections: folder of replacement detections for evaluation: ``<seq>.txt`` or
            ``<seq>/det/det.txt`` in MOTChallenge det format (default: the benchmark's public ``det.txt``).
        classes, consider_only, min_visibility: training gt filter (see ``MOTGroupDataset``).
        dedupe_mot17: train on one copy of each MOT17 video (its DPM/FRCNN/SDP folders share frames and gt).
        resize_mode, hflip, color_jitter, scale: training augmentation (``train_transform``).
        normalize: ImageNet normalisation of training images.
        synth_preset, synth_root: ZooSynth preset and cache folder (None: ``$ZOO_DATA``).
        even_batches: ``drop`` or ``pad`` to give every rank the same number of batches.
    """

    task: Task = "mot"

    def __init__(
        self,
        root: str | None = None,
        benchmark: str = "synth_mot",
        train_split: str | None = "train",
        val_split: str | None = "val",
        seqmap: str | Sequence[str] | None = None,
        train_seqmap: str | Sequence[str] | None = None,
        group_size: int = 8,
        groups_per_batch: int = 1,
        image_size: int | Sequence[int] = (272, 480),
        num_workers: int = 2,
        sampler: str = "sgs",
        seed: int = 0,
        detections: str | None = None,
        classes: Sequence[int] = (1,),
        consider_only: bool = True,
        min_visibility: float = 0.0,
        dedupe_mot17: bool = True,
        resize_mode: Literal["letterbox", "resize"] = "letterbox",
        hflip: float = 0.5,
        color_jitter: float = 0.2,
        scale: Sequence[float] | None = (0.8, 1.2),
        normalize: bool = True,
        synth_preset: str = "default",
        synth_root: str | None = None,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        even_batches: EvenBatches = "drop",
    ) -> None:
        super().__init__(
            root=root,
            benchmark=benchmark,
            train_split=train_split,
            val_split=val_split,
            num_workers=num_workers,
            seed=seed,
            synth_preset=synth_preset,
            synth_root=synth_root,
            pin_memory=pin_memory,
            persistent_workers=persistent_workers,
            even_batches=even_batches,
        )
        if sampler not in ("sgs", "random"):
            raise ValueError(f"sampler must be 'sgs' or 'random', got {sampler!r}")
        self.seqmap = _plain(seqmap)
        self.train_seqmap = _plain(train_seqmap)
        self.group_size = int(group_size)
        self.groups_per_batch = int(groups_per_batch)
        self.image_size = _size(image_size)
        self.sampler = sampler
        self.detections = None if detections is None else Path(os.path.expanduser(str(detections)))
        if self.detections is not None and not self.detections.is_dir():
            raise FileNotFoundError(
                f"detections folder {self.detections} not found (expected <seq>.txt or <seq>/det/det.txt files)"
            )
        self.classes = tuple(int(c) for c in _plain(classes))
        self.consider_only = consider_only
        self.min_visibility = float(min_visibility)
        self.dedupe_mot17 = dedupe_mot17
        self.resize_mode = resize_mode
        self.hflip, self.color_jitter = float(hflip), float(color_jitter)
        self.scale = None if scale is None else tuple(float(s) for s in _plain(scale))
        self.normalize = normalize
        self._train_ds: MOTGroupDataset | None = None
        self._check_roots()

    def _load(self, split: str) -> list[MOTSequence]:
        return motchallenge.load_split(self.root / split)

    def _select(self, seqs: list[MOTSequence], seqmap: str | Sequence[str] | None) -> list[MOTSequence]:
        """The sequences a seqmap (file or names) lists, in its order; all when None."""
        if seqmap is None:
            return seqs
        names = motchallenge.read_seqmap(seqmap) if isinstance(seqmap, (str, Path)) else list(seqmap)
        by_name = {s.name: s for s in seqs}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise FileNotFoundError(
                f"{self.benchmark}: seqmap lists {missing[0]!r}, which is not a sequence folder of the split "
                f"(found {sorted(by_name)[:5]}...)"
            )
        return [by_name[n] for n in names]

    def eval_sequences(self, split: str | None = None) -> list[MOTSequence]:
        """Whole sequences of ``split`` (default ``val_split``, restricted to ``seqmap``), with
        ``detections`` swapped in if given."""
        seqs = super().eval_sequences(split)
        if split is None or split == self.val_split:
            seqs = self._select(seqs, self.seqmap)
        if self.detections is None:
            return seqs
        out = []
        for s in seqs:
            path = self.detections / f"{s.name}.txt"
            if not path.is_file():
                path = self.detections / s.name / "det" / "det.txt"
            if not path.is_file():
                raise FileNotFoundError(
                    f"no detections for sequence {s.name}: expected {self.detections / (s.name + '.txt')} or "
                    f"{path}"
                )
            out.append(MOTSequence(s.root, s.info, s.gt, motchallenge.read_mot_file(path, "det", s.info)))
        return out

    def train_sequences(self) -> list[MOTSequence]:
        """Training sequences (one copy of each MOT17 video when ``dedupe_mot17``)."""
        seqs = self._select(self.sequences(self._train_split()), self.train_seqmap)
        if self.dedupe_mot17:
            seen: set[str] = set()
            kept = []
            for s in seqs:
                m = _MOT17_COPY.match(s.name)
                key = m.group(1) if m else s.name
                if key not in seen:
                    seen.add(key)
                    kept.append(s)
            seqs = kept
        return seqs

    def train_dataset(self) -> MOTGroupDataset:
        if self._train_ds is None:
            tf = train_transform(
                self.image_size,
                mode=self.resize_mode,
                hflip=self.hflip,
                color_jitter=self.color_jitter,
                scale=self.scale,
                normalize=self.normalize,
            )
            self._train_ds = MOTGroupDataset(
                self.train_sequences(),
                tf,
                classes=self.classes,
                consider_only=self.consider_only,
                min_visibility=self.min_visibility,
            )
        return self._train_ds

    @property
    def num_identities(self) -> int:
        """Identities in the training split after filtering (size of the classifier heads)."""
        return self.train_dataset().num_identities

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.train_dataset()

    def train_dataloader(self) -> ResumableDataLoader:
        ds = self.train_dataset()
        sampler = make_batch_sampler(
            self.sampler,
            ds.frame_counts,
            self.group_size,
            groups_per_batch=self.groups_per_batch,
            seed=self.seed,
            even_batches=self.even_batches,
        )
        return self._loader(ds, sampler)


# ----------------------------------------------------------------------------------------------- video
#: benchmarks a VideoDataModule trains on (``train_benchmark``); ``jhmdb`` and ``synth_kp`` are evaluation only
TRAIN_BENCHMARKS = ("videos", "folder", "davis17", "synth_vos")
#: keypoint benchmarks in the JHMDB layout (split files of clip folders)
KEYPOINT_BENCHMARKS = ("jhmdb", "synth_kp")


class VideoDataModule(_TrackingDataModule):
    """Self-supervised video: unlabelled clips with a frame-gap schedule for training; first-frame-annotated
    sequences (DAVIS masks, JHMDB keypoints) for evaluation.

    Training reads frames only (no annotation file is opened, not even a mask header: DAVIS-layout splits
    through :func:`~zoo.data.formats.davis.load_davis_frames`), and :class:`VideoClipDataset` samples carry
    no label. Training clips can come from another source than evaluation (``train_root`` /
    ``train_benchmark``; the paper setting trains on YouTube-VOS frames and evaluates on DAVIS-2017 val).

    Args:
        root: benchmark folder; None for ZooSynth.
        benchmark: ``davis17``, ``jhmdb`` (evaluation only; ``val_split`` is the split file, relative to
            root), ``videos`` (training only: a folder of video files and/or frame folders, see
            :mod:`zoo.data.video_folder`; ``folder`` is its older name), ``synth_vos`` or ``synth_kp``
            (ZooSynth's keypoint clips in the JHMDB layout, evaluation only; splits ``train``/``val``).
        train_root, train_benchmark: where training clips come from (``train_benchmark`` one of
            :data:`TRAIN_BENCHMARKS`); None: ``root`` / ``benchmark``. With only ``train_benchmark`` given,
            ``synth_vos`` trains on ZooSynth and any other needs ``train_root``. ``eval_sequences`` always
            come from ``root`` / ``benchmark``.
        train_split, val_split: DAVIS ImageSets split names (``train``/``val``); the training source uses
            ``train_split`` (``train`` when null). A videos folder has no splits: ``train_split`` is only a
            label and ``val_split`` is ignored (None).
        clip_len: T, frames per training clip.
        gaps, gap_probs: frame-gap schedule (MAST: {2, 5, 8} with 0.4/0.4/0.2).
        image_size: training crop size [H, W] (random resized crop covering ``crop_scale`` of the frame).
        batch_size: clips per batch.
        normalize: ImageNet normalisation (default False: raw RGB in [0, 1], as DMP converts to Lab).
        year, resolution: DAVIS ImageSets year and image resolution folder.
        frame_cache: folder for the frames decoded from video files (None: ``<videos root>/.zoo_frames``;
            see :func:`zoo.data.video_folder.frame_cache_dir`).
        sampler, seed, num_workers, synth_preset, synth_root, even_batches: as for ``MOTDataModule``.
    """

    task: Task = "vos"

    def __init__(
        self,
        root: str | None = None,
        benchmark: str = "synth_vos",
        train_split: str | None = "train",
        val_split: str | None = "val",
        train_root: str | None = None,
        train_benchmark: str | None = None,
        clip_len: int = 8,
        gaps: Sequence[int] = (2, 5, 8),
        gap_probs: Sequence[float] = (0.4, 0.4, 0.2),
        image_size: int | Sequence[int] = (96, 96),
        crop_scale: Sequence[float] = (0.3, 1.0),
        batch_size: int = 12,
        num_workers: int = 2,
        seed: int = 0,
        normalize: bool = False,
        hflip: float = 0.5,
        color_jitter: float = 0.0,
        year: str = "2017",
        resolution: str = "480p",
        frame_cache: str | None = None,
        synth_preset: str = "default",
        synth_root: str | None = None,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        even_batches: EvenBatches = "drop",
    ) -> None:
        super().__init__(
            root=root,
            benchmark=benchmark,
            train_split=train_split,
            val_split=val_split,
            num_workers=num_workers,
            seed=seed,
            synth_preset=synth_preset,
            synth_root=synth_root,
            pin_memory=pin_memory,
            persistent_workers=persistent_workers,
            even_batches=even_batches,
        )
        if self.bench.train_only:
            self.val_split = None  # nothing to evaluate on (the default "val" would name a missing split)
        self.clip_len = int(clip_len)
        self.gaps = tuple(int(g) for g in _plain(gaps))
        self.gap_probs = tuple(float(p) for p in _plain(gap_probs))
        self.image_size = _size(image_size)
        self.crop_scale = tuple(float(s) for s in _plain(crop_scale))
        self.batch_size = int(batch_size)
        self.normalize = normalize
        self.hflip, self.color_jitter = float(hflip), float(color_jitter)
        self.year, self.resolution = str(year), str(resolution)
        self.frame_cache = frame_cache
        self._train_ds: VideoClipDataset | None = None
        # the evaluation root is checked first; a separate training source checks its own at construction
        self._own_training = train_root is None and train_benchmark in (None, benchmark)
        self._check_roots()
        self.train_source: VideoDataModule = (
            self if self._own_training else self._make_train_source(train_root, train_benchmark)
        )

    def _make_train_source(self, train_root: str | None, train_benchmark: str | None) -> VideoDataModule:
        name = self.benchmark if train_benchmark is None else str(train_benchmark)
        if name not in TRAIN_BENCHMARKS:
            raise ValueError(
                f"train_benchmark {name!r} cannot give training clips; choose one of {TRAIN_BENCHMARKS}"
            )
        if train_root is None and BENCHMARKS[name].synth is None:
            raise ValueError(
                f"train_benchmark {name!r} needs data.train_root=/path/to/{name} (expected layout: "
                f"{BENCHMARKS[name].layout})"
            )
        return _TrainSource(
            root=train_root,
            benchmark=name,
            train_split=self.train_split or "train",
            val_split=None,
            year=self.year,
            resolution=self.resolution,
            frame_cache=self.frame_cache,
            synth_preset=self.synth_preset,
            synth_root=None if self.synth_root is None else str(self.synth_root),
        )

    # -- roots ---------------------------------------------------------------------------------------------
    def _check_roots(self) -> None:
        if self._root is None:
            return
        if self.bench.train_only:
            self._check_root(self._root, self._train_split())
            return
        own_train = (
            self.train_split if self._own_training and self.benchmark not in KEYPOINT_BENCHMARKS else None
        )
        for split in dict.fromkeys(s for s in (self.val_split, own_train) if s is not None):
            self._check_root(self._root, split)

    def _check_root(self, root: Path, split: str) -> None:
        super()._check_root(root, split)
        if self.bench.train_only and not has_sources(root):
            raise self._missing(root, "video files or frame folders in")

    def _split_path(self, root: Path, split: str) -> Path:
        if self.benchmark in ("davis17", "synth_vos"):
            return root / "ImageSets" / self.year / f"{split}.txt"
        if self.benchmark in KEYPOINT_BENCHMARKS:
            return jhmdb.split_path(root, split)
        return root

    def _train_split(self) -> str:
        if self.bench.train_only:
            return self.train_split or "train"  # a label only: a videos folder has no splits
        return super()._train_split()

    def prepare_data(self) -> None:
        """Generate ZooSynth and decode video files into the frame cache, once per node (Lightning calls this
        on local rank 0 only; the other ranks then find the cache filled)."""
        super().prepare_data()
        if self.train_source is not self:
            self.train_source.prepare_data()
        elif self.bench.train_only:
            self.train_sequences()

    # -- sequences -----------------------------------------------------------------------------------------
    def _load(self, split: str) -> list[VOSSequence]:
        if self.bench.train_only:
            return load_video_folder(self.root, frame_cache=self.frame_cache)
        if self.benchmark in KEYPOINT_BENCHMARKS:
            return jhmdb.load_jhmdb(self.root, self._split_path(self.root, split))
        return davis.load_davis(self.root, split, year=self.year, resolution=self.resolution)

    def eval_sequences(self, split: str | None = None) -> list[VOSSequence]:
        if self.bench.train_only:
            raise ValueError(
                f"{self.benchmark} is training only (unlabelled videos, no evaluation split): evaluate on a "
                f"benchmark and train on these videos, e.g. data=davis17 data.train_root={self._root} "
                "data.train_benchmark=videos"
            )
        return super().eval_sequences(split)

    def train_sequences(self) -> list[VOSSequence]:
        """The training sequences of ``train_source``, frames only (no annotation file is opened)."""
        if self.train_source is not self:
            return self.train_source.train_sequences()
        if self.benchmark in KEYPOINT_BENCHMARKS:
            raise ValueError(
                f"{self.benchmark} is evaluation only: train on other videos with data.train_root=DIR "
                "data.train_benchmark=videos (or davis17, synth_vos)"
            )
        split = self._train_split()
        if self.bench.train_only:
            return self.sequences(split)
        key = f"{split}#frames"  # not the annotated sequences(split) of the same split
        if key not in self._cache:
            self._check_root(self.root, split)
            self._cache[key] = davis.load_davis_frames(self.root, split, self.year, self.resolution)
        return self._cache[key]

    def train_dataset(self) -> VideoClipDataset:
        if self._train_ds is None:
            tf = train_transform(
                self.image_size,
                mode="crop",
                crop_scale=self.crop_scale,
                hflip=self.hflip,
                color_jitter=self.color_jitter,
                normalize=self.normalize,
                min_visibility=0.0,
            )
            self._train_ds = VideoClipDataset(
                self.train_sequences(),
                self.clip_len,
                tf,
                gaps=self.gaps,
                gap_probs=self.gap_probs,
            )
        return self._train_ds

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.train_dataset()

    def train_dataloader(self) -> ResumableDataLoader:
        ds = self.train_dataset()
        sampler = ShuffleGroupSampler(
            [len(ds)], 1, groups_per_batch=self.batch_size, seed=self.seed, even_batches=self.even_batches
        )
        return self._loader(ds, sampler)


class _TrainSource(VideoDataModule):
    """The training side of a :class:`VideoDataModule` whose clips come from ``data.train_root`` /
    ``data.train_benchmark`` (its root errors name that key)."""

    _root_key = "data.train_root"


# ------------------------------------------------------------------------------------------------- SOT
#: DAVIS-layout VOS benchmarks seen as SOT, one sequence per object (:mod:`zoo.data.formats.davis_objects`)
DAVIS_OBJECT_BENCHMARKS = ("davis17_objects", "synth_vos_objects")


class SOTDataModule(_TrackingDataModule):
    """Single-object tracking: template/search pairs (or short clips) for training; whole sequences with
    the first-frame box for evaluation.

    Args:
        root: benchmark folder; None for ZooSynth.
        benchmark: ``got10k``, ``lasot``, ``otb`` (evaluation only, every sequence), ``trackingnet``
            (splits ``TRAIN``/``TEST``), ``synth_sot``, or a DAVIS-layout VOS benchmark seen as SOT, one
            sequence per object with its box from its mask (:mod:`zoo.data.formats.davis_objects`):
            ``davis17_objects`` (splits ``train``/``val``) or ``synth_vos_objects`` (ZooSynth-VOS, splits
            ``train``/``val``).
        train_split, val_split: split names (GOT-10k ``train``/``val``/``test``, LaSOT ``train``/``test``).
        mode: ``pair`` (template/search crops), ``clip`` (whole frames, ``clip_len`` frames) or ``window``
            (whole frames with every base tracker's box, for ensembles: :class:`~zoo.data.ensemble.SOTWindowDataset`).
        template_size, search_size, context, search_factor, max_gap, center_jitter, scale_jitter: pair
            sampling and cropping (see ``SOTPairDataset``).
        clip_len, clip_stride, image_size: clip mode (frames resized/letterboxed to ``image_size``).
        batch_size: samples per batch.
        with_masks: return target masks where the benchmark has them (ZooSynth-SOT, the DAVIS object views:
            the one object's mask).
        hflip, color_jitter, normalize: augmentation and normalisation.
        trackers, window, tracker_cache, tracker_workers: window mode: the base trackers (registered SOT
            baselines, in channel order), frames per window, the cache folder (None: ``$ZOO_DATA/trackers``)
            and the processes that fill it.
        year, resolution: the object views of DAVIS-layout benchmarks only (``davis17_objects``,
            ``synth_vos_objects``): the ImageSets year (``"2017"``: one sequence per object; ``"2016"``: one
            per video, its objects merged) and the image resolution folder (``480p``/``Full-Resolution``).
        seed, num_workers, synth_preset, synth_root, even_batches: as for ``MOTDataModule``.
    """

    task: Task = "sot"

    def __init__(
        self,
        root: str | None = None,
        benchmark: str = "synth_sot",
        train_split: str | None = "train",
        val_split: str | None = "val",
        mode: Literal["pair", "clip", "window"] = "pair",
        template_size: int = 64,
        search_size: int = 128,
        context: float = 0.5,
        search_factor: float = 2.0,
        max_gap: int = 50,
        center_jitter: float = 0.2,
        scale_jitter: float = 0.25,
        clip_len: int = 8,
        clip_stride: int = 1,
        image_size: int | Sequence[int] = (120, 160),
        batch_size: int = 16,
        num_workers: int = 2,
        seed: int = 0,
        with_masks: bool = True,
        hflip: float = 0.5,
        color_jitter: float = 0.2,
        normalize: bool = True,
        synth_preset: str = "default",
        synth_root: str | None = None,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        even_batches: EvenBatches = "drop",
        trackers: Sequence[str] | None = None,
        window: int = 5,
        tracker_cache: str | None = None,
        tracker_workers: int | None = None,
        year: str = "2017",
        resolution: str = "480p",
    ) -> None:
        super().__init__(
            root=root,
            benchmark=benchmark,
            train_split=train_split,
            val_split=val_split,
            num_workers=num_workers,
            seed=seed,
            synth_preset=synth_preset,
            synth_root=synth_root,
            pin_memory=pin_memory,
            persistent_workers=persistent_workers,
            even_batches=even_batches,
        )
        self.year, self.resolution = str(year), str(resolution)
        if self.benchmark in DAVIS_OBJECT_BENCHMARKS and self.year not in ("2016", "2017"):
            raise ValueError(f"{self.benchmark}: year must be '2016' or '2017', got {year!r}")
        if mode not in ("pair", "clip", "window"):
            raise ValueError(f"mode must be 'pair', 'clip' or 'window', got {mode!r}")
        if mode == "window" and not trackers:
            raise ValueError("mode=window needs data.trackers: the base SOT trackers, e.g. [csrt, kcf]")
        self.window_args = {
            "sources": list(trackers or []),
            "window": int(window),
            "cache_dir": tracker_cache,
            "workers": tracker_workers,
        }
        self.mode = mode
        self.pair_args = {
            "template_size": int(template_size),
            "search_size": int(search_size),
            "context": float(context),
            "search_factor": float(search_factor),
            "max_gap": int(max_gap),
            "center_jitter": float(center_jitter),
            "scale_jitter": float(scale_jitter),
            "clip_len": int(clip_len),
            "clip_stride": int(clip_stride),
            "with_masks": bool(with_masks),
        }
        self.image_size = _size(image_size)
        self.batch_size = int(batch_size)
        self.hflip, self.color_jitter = float(hflip), float(color_jitter)
        self.normalize = normalize
        self._train_ds: SOTPairDataset | SOTWindowDataset | None = None
        self._check_roots()

    #: benchmarks without split folders: a glob one sequence must match
    _SEQUENCE_GLOB = {"lasot": "*/*/groundtruth.txt", "otb": "*/groundtruth_rect*.txt"}

    def _check_root(self, root: Path, split: str) -> None:
        super()._check_root(root, split)
        pattern = self._SEQUENCE_GLOB.get(self.benchmark)
        if pattern is not None and next(root.glob(pattern), None) is None:
            raise self._missing(root / pattern, "no sequence:")

    def _split_path(self, root: Path, split: str) -> Path:
        if self.benchmark in ("lasot", "otb"):
            return root
        if self.benchmark in DAVIS_OBJECT_BENCHMARKS:
            return root / "ImageSets" / self.year / f"{split}.txt"
        if self.benchmark == "trackingnet" and split == "TRAIN":
            chunks = sorted(root.glob("TRAIN_*")) if root.is_dir() else []
            return chunks[0] if chunks else root / "TRAIN_0"
        return root / split

    def _load(self, split: str) -> list[SOTSequence]:
        root = self.root
        if self.benchmark in ("got10k", "synth_sot"):
            return got10k.load_got10k(root, split)
        if self.benchmark == "lasot":
            return lasot.load_lasot(root, split)
        if self.benchmark == "otb":
            return otb.load_otb(root)
        if self.benchmark in DAVIS_OBJECT_BENCHMARKS:
            return load_davis_objects(root, split, year=self.year, resolution=self.resolution)
        return trackingnet.load_trackingnet(root, split)

    def train_dataset(self) -> SOTPairDataset | SOTWindowDataset:
        if self._train_ds is None and self.mode == "window":
            self._train_ds = SOTWindowDataset(
                self.sequences(self._train_split()),
                image_size=self.image_size,
                with_masks=self.pair_args["with_masks"],
                hflip=self.hflip,
                **self.window_args,
            )
        if self._train_ds is None:
            if self.mode == "pair":
                tf = photometric_transform(
                    hflip=self.hflip, color_jitter=self.color_jitter, normalize=self.normalize
                )
            else:
                tf = train_transform(
                    self.image_size,
                    hflip=self.hflip,
                    color_jitter=self.color_jitter,
                    normalize=self.normalize,
                )
            self._train_ds = SOTPairDataset(
                self.sequences(self._train_split()), tf, mode=self.mode, **self.pair_args
            )
        return self._train_ds

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit"):
            self.train_dataset()

    def train_dataloader(self) -> ResumableDataLoader:
        ds = self.train_dataset()
        sampler = ShuffleGroupSampler(
            [len(ds)], 1, groups_per_batch=self.batch_size, seed=self.seed, even_batches=self.even_batches
        )
        return self._loader(ds, sampler)


__all__ = [
    "BENCHMARKS",
    "DAVIS_OBJECT_BENCHMARKS",
    "Benchmark",
    "MOTDataModule",
    "SOTDataModule",
    "TRAIN_BENCHMARKS",
    "VideoDataModule",
]

"""Benchmark plumbing shared by ``zoo.evaluate``, the training callback and the demo: which runner serves a
benchmark, ground truth for scoring without images, sequence selection.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from zoo.data.benchmarks import BENCHMARKS
from zoo.data.formats import got10k, jhmdb, lasot, motchallenge, otb, trackingnet
from zoo.data.formats.errors import FormatError

__all__ = ["load_ground_truth", "runner", "select_sequences", "task_of"]


def task_of(benchmark: str) -> str:
    """``mot``, ``vos`` or ``sot`` for a data preset's benchmark name.

    Raises:
        ValueError: unknown benchmark, listing the known ones.
    """
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; choose one of {sorted(BENCHMARKS)}")
    return BENCHMARKS[benchmark].task


def runner(task: str) -> ModuleType:
    """The task's runner module (:mod:`zoo.tasks.mot`, :mod:`~zoo.tasks.vos` or :mod:`~zoo.tasks.sot`)."""
    if task == "mot":
        from zoo.tasks import mot

        return mot
    if task == "vos":
        from zoo.tasks import vos

        return vos
    if task == "sot":
        from zoo.tasks import sot

        return sot
    raise ValueError(f"unknown task {task!r}; expected mot, vos or sot")


def select_sequences(
    sequences: Sequence[Any],
    seqmap: str | os.PathLike | Sequence[str] | None,
    max_sequences: int | None = None,
) -> list[Any]:
    """The sequences a seqmap (TrackEval file, header ``name``, or a list of names) lists, in its order, then
    the first ``max_sequences``.

    Raises:
        FileNotFoundError: the seqmap names a sequence that is not in ``sequences``.
    """
    seqs = list(sequences)
    if seqmap is not None:
        names = (
            motchallenge.read_seqmap(seqmap)
            if isinstance(seqmap, (str, os.PathLike))
            else [str(n) for n in seqmap]
        )
        by_name = {s.name: s for s in seqs}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise FileNotFoundError(
                f"the seqmap lists {missing[0]!r}, which is not a sequence of the benchmark split "
                f"(found {sorted(by_name)[:5]}{'...' if len(by_name) > 5 else ''})"
            )
        seqs = [by_name[n] for n in names]
    if max_sequences is not None:
        if int(max_sequences) < 1:
            raise ValueError(f"max_sequences must be >= 1, got {max_sequences}")
        seqs = seqs[: int(max_sequences)]
    return seqs


def _is_mot_split(folder: Path) -> bool:
    return folder.is_dir() and any((p / "seqinfo.ini").is_file() for p in folder.iterdir() if p.is_dir())


def _is_got10k_split(folder: Path) -> bool:
    return folder.is_dir() and (
        (folder / "list.txt").is_file()
        or any((p / "groundtruth.txt").is_file() for p in folder.iterdir() if p.is_dir())
    )


def load_ground_truth(
    benchmark: str,
    root: str | os.PathLike,
    split: str | None,
    *,
    year: str = "2017",
    resolution: str = "480p",
    workers: int = 1,
    read_mot_gt: bool = True,
) -> list[Any]:
    """Ground-truth sequences for scoring existing results; images are not needed.

    Args:
        benchmark: data preset benchmark name (``mot17``, ``davis17``, ``got10k``...).
        root: the dataset root with ``split`` below it, or (MOT, GOT-10k) the split folder itself.
        split: split name (MOT/GOT-10k/DAVIS/LaSOT/TrackingNet/ZooSynth; the JHMDB split file; ignored by
            OTB).
        year, resolution: DAVIS ImageSets year and resolution folder (also of the DAVIS object views).
        workers: processes reading MOT ground-truth files (VOS/SOT annotations are read while scoring).
        read_mot_gt: False leaves MOT sequences' ``gt`` None (their ``gt/gt.txt`` is checked to exist):
            :func:`zoo.tasks.mot.score_results` then parses each file in the worker that scores it, so the
            arrays never cross a process boundary.

    Raises:
        FormatError / FileNotFoundError: a missing or malformed annotation, naming the file and layout.
    """
    task_of(benchmark)
    root = Path(os.path.expanduser(os.fspath(root)))
    if not root.is_dir():
        raise FileNotFoundError(
            f"{benchmark}: ground-truth root {root} not found. Expected: {BENCHMARKS[benchmark].layout}"
        )
    layout = BENCHMARKS[benchmark].layout
    if benchmark in ("mot17", "mot20", "dancetrack", "synth_mot"):
        split_dir = root if _is_mot_split(root) else root / str(split)
        if not _is_mot_split(split_dir):
            raise FileNotFoundError(
                f"{benchmark}: neither {root} nor {split_dir} holds sequence folders with seqinfo.ini. Expected: {layout}"
            )
        sequences = motchallenge.load_split(
            split_dir, check_images=False, load_det=False, load_gt=read_mot_gt, workers=workers
        )
        if not read_mot_gt:
            for seq in sequences:
                if not (seq.root / "gt" / "gt.txt").is_file():
                    raise FileNotFoundError(f"sequence {seq.name} has no gt/gt.txt: cannot score it")
        return sequences
    if benchmark in ("davis17", "synth_vos"):
        from zoo.tasks.vos import load_davis_annotations

        return load_davis_annotations(root, str(split), year=year, resolution=resolution)
    if benchmark in ("jhmdb", "synth_kp"):
        return jhmdb.load_jhmdb(root, jhmdb.split_path(root, str(split)), check_images=False)
    if benchmark in ("got10k", "synth_sot"):
        if _is_got10k_split(root) and not _is_got10k_split(root / str(split)):
            return got10k.load_got10k(root.parent, root.name, check_images=False)
        return got10k.load_got10k(root, str(split), check_images=False)
    if benchmark == "lasot":
        return lasot.load_lasot(root, split if split in lasot.SPLIT_LISTS else None, check_images=False)
    if benchmark == "otb":
        return otb.load_otb(root, check_images=False)
    if benchmark == "trackingnet":
        return trackingnet.load_trackingnet(root, str(split), check_images=False)
    if benchmark in ("davis17_objects", "synth_vos_objects"):
        from zoo.data.formats.davis_objects import load_davis_objects  # imports OpenCV: only when needed

        return load_davis_objects(root, str(split), year=year, resolution=resolution, check_images=False)
    raise FormatError(root, f"{benchmark} has no annotations to score against")

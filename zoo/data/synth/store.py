"""Writing ZooSynth to disk in the real benchmark formats, and the on-disk cache with its manifest.

Layout of a dataset folder ``<root>/zoosynth/<preset>-seed<seed>/``::

    manifest.json                      generator version, config, seed, fingerprint, content hash, files
    mot/{train,val}/<seq>/...          MOTChallenge (seqinfo.ini, img1/000001.jpg, gt/gt.txt, det/det.txt)
    mot/seqmaps/{train,val}.txt
    vos/JPEGImages/480p/<seq>/00000.jpg, vos/Annotations/480p/<seq>/00000.png, vos/ImageSets/2017/*.txt
    sot/{train,val}/<seq>/...          GOT-10k (+ masks/00000001.png), sot/{train,val}/list.txt
    kp/<clip>/00001.png ..., kp/<clip>/joint_positions.mat, kp/{train,val}_list.txt   JHMDB (1.6)

Every file goes through the writers of :mod:`zoo.data.formats`, so the readers load ZooSynth exactly like the
real benchmarks. A sequence's content depends only on (seed, task, split, index): sequences are generated
independently (in a process pool) and the output is byte-identical for a given seed. Each task has its own
random stream (task index in :data:`TASKS`): a task added later (``kp``, generator 1.6) leaves what the
others write unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from zoo.core.atomic import atomic_write_text
from zoo.core.video import write_image
from zoo.data.formats.davis import write_imageset, write_palette_mask
from zoo.data.formats.got10k import write_groundtruth, write_labels, write_list, write_meta_info
from zoo.data.formats.jhmdb import write_joint_positions, write_split
from zoo.data.formats.motchallenge import write_mot_file, write_seqinfo, write_seqmap
from zoo.data.provenance import generated_by  # noqa: F401 - re-exported (zoo.data.synth.generated_by)
from zoo.data.synth.config import GENERATOR_VERSION, PRESETS, SynthConfig
from zoo.data.synth.kp import render_kp
from zoo.data.synth.mot import MOTScene, detection_rows, gt_rows, render_mot, simulate_mot
from zoo.data.synth.sot import render_sot
from zoo.data.synth.vos import render_vos
from zoo.data.types import SeqInfo

TASKS = ("mot", "vos", "sot", "kp")  # append only: the index seeds each task's random stream
SPLITS = ("train", "val")
_TASK_INDEX = {t: i for i, t in enumerate(TASKS)}
_SPLIT_INDEX = {s: i for i, s in enumerate(SPLITS)}


def data_root(root: str | Path | None = None) -> Path:
    """Where generated benchmarks live: ``root``, else ``$ZOO_DATA``, else ``~/.cache/zoo``."""
    if root is not None:
        return Path(root).expanduser()
    return Path(os.environ.get("ZOO_DATA", "~/.cache/zoo")).expanduser()


def sequence_name(task: str, split: str, index: int) -> str:
    """Sequence names in each benchmark's style: ``ZSMOT-train-01``, ``zsvos-val-00``, ``ZSSOT_Val_000001``,
    ``zskp-val-00``."""
    if task == "mot":
        return f"ZSMOT-{split}-{index + 1:02d}"
    if task == "vos":
        return f"zsvos-{split}-{index:02d}"
    if task == "kp":
        return f"zskp-{split}-{index:02d}"
    return f"ZSSOT_{split.capitalize()}_{index + 1:06d}"


def fingerprint(config: SynthConfig, seed: int) -> str:
    """Hash of everything that determines the dataset (generator version, config, seed)."""
    blob = json.dumps({"version": GENERATOR_VERSION, "config": asdict(config), "seed": seed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _rng(seed: int, task: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _TASK_INDEX[task], _SPLIT_INDEX[split], index])


# --------------------------------------------------------------------------------------------- per sequence
def mot_scene(config: SynthConfig, seed: int, split: str, index: int) -> tuple[MOTScene, np.random.Generator]:
    """The simulated scene of MOT sequence ``index`` of ``split`` (what :func:`write_mot_sequence` renders),
    and the generator positioned to render it. Analysis code reads what the files do not hold from it (e.g.
    ``lookalike_of``: object ``k`` is ground-truth id ``k + 1``)."""
    rng = _rng(seed, "mot", split, index)
    return simulate_mot(rng, config.mot), rng


def write_mot_sequence(out: Path, config: SynthConfig, seed: int, split: str, index: int) -> str:
    cfg = config.mot
    name = sequence_name("mot", split, index)
    seq_dir = out / "mot" / split / name
    scene, rng = mot_scene(config, seed, split, index)

    def emit(t: int, frame: np.ndarray) -> None:
        write_image(seq_dir / "img1" / f"{t:06d}.jpg", frame, quality=config.jpeg_quality)

    render = render_mot(rng, scene, config.noise_sigma, emit)
    write_mot_file(seq_dir / "gt" / "gt.txt", gt_rows(scene, render), "gt")
    write_mot_file(seq_dir / "det" / "det.txt", detection_rows(rng, scene, render, cfg), "det")
    write_seqinfo(seq_dir / "seqinfo.ini", SeqInfo(name, "img1", float(cfg.fps), cfg.length, cfg.width,
                                                   cfg.height, ".jpg"))
    return name


def write_vos_sequence(out: Path, config: SynthConfig, seed: int, split: str, index: int) -> str:
    name = sequence_name("vos", split, index)
    frames_dir = out / "vos" / "JPEGImages" / "480p" / name
    masks_dir = out / "vos" / "Annotations" / "480p" / name

    def emit(t: int, frame: np.ndarray, labels: np.ndarray) -> None:
        write_image(frames_dir / f"{t:05d}.jpg", frame, quality=config.jpeg_quality)
        write_palette_mask(masks_dir / f"{t:05d}.png", labels)

    render_vos(_rng(seed, "vos", split, index), config.vos, config.noise_sigma, emit)
    return name


def write_sot_sequence(out: Path, config: SynthConfig, seed: int, split: str, index: int) -> str:
    cfg = config.sot
    name = sequence_name("sot", split, index)
    seq_dir = out / "sot" / split / name

    def emit(t: int, frame: np.ndarray, mask: np.ndarray) -> None:
        write_image(seq_dir / f"{t + 1:08d}.jpg", frame, quality=config.jpeg_quality)
        write_palette_mask(seq_dir / "masks" / f"{t + 1:08d}.png", mask)

    ann = render_sot(_rng(seed, "sot", split, index), cfg, config.noise_sigma, emit)
    write_groundtruth(seq_dir / "groundtruth.txt", np.round(ann.boxes, 2))
    write_labels(seq_dir / "absence.label", (ann.visible == 0).astype(np.int64))
    write_labels(seq_dir / "cover.label", ann.cover)
    write_labels(seq_dir / "cut_by_image.label", ann.cut.astype(np.int64))
    write_meta_info(seq_dir / "meta_info.ini", {
        "url": f"zoosynth://{name}", "begin_time": "00:00:00", "end_time": f"{cfg.length / cfg.fps:.1f}s",
        "anno_fps": f"{cfg.fps}Hz", "object_class": ann.kind, "motion_class": "moving",
        "major_class": ann.kind, "root_class": "object", "motion_adverb": "smoothly",
        "resolution": f"({cfg.width}, {cfg.height})",
    })
    return name


def write_kp_sequence(out: Path, config: SynthConfig, seed: int, split: str, index: int) -> str:
    name = sequence_name("kp", split, index)
    clip_dir = out / "kp" / name

    def emit(t: int, frame: np.ndarray, labels: np.ndarray) -> None:
        write_image(clip_dir / f"{t + 1:05d}.png", frame)

    ann = render_kp(_rng(seed, "kp", split, index), config.kp, config.noise_sigma, emit)
    write_joint_positions(clip_dir / "joint_positions.mat", ann.joints, ann.visible)
    return name


_WRITERS: dict[str, Callable[[Path, SynthConfig, int, str, int], str]] = {
    "mot": write_mot_sequence, "vos": write_vos_sequence, "sot": write_sot_sequence, "kp": write_kp_sequence,
}


def _jobs(config: SynthConfig) -> list[tuple[str, str, int]]:
    counts = {"mot": (config.mot.train_seqs, config.mot.val_seqs), "vos": (config.vos.train_seqs,
              config.vos.val_seqs), "sot": (config.sot.train_seqs, config.sot.val_seqs),
              "kp": (config.kp.train_seqs, config.kp.val_seqs)}
    return [(task, split, i) for task in TASKS for s, split in enumerate(SPLITS) for i in range(counts[task][s])]


def _run_job(args: tuple[Path, SynthConfig, int, str, str, int]) -> tuple[str, str, str]:
    out, config, seed, task, split, index = args
    return task, split, _WRITERS[task](out, config, seed, split, index)


def generate(config: SynthConfig, out_dir: str | Path, seed: int = 0, *, workers: int | None = None,
             on_sequence: Callable[[str, str, str], None] | None = None) -> None:
    """Write a whole dataset into ``out_dir`` (which must be empty or absent); no manifest.

    Args:
        workers: processes (default: up to 2, the CPU count); 1 generates in this process.
        on_sequence: called with (task, split, name) after each sequence (progress display).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(out, config, seed, task, split, i) for task, split, i in _jobs(config)]
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    names: dict[tuple[str, str], list[str]] = {(t, s): [] for t in TASKS for s in SPLITS}
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_run_job, jobs)
            for task, split, name in results:
                names[task, split].append(name)
                if on_sequence:
                    on_sequence(task, split, name)
    else:
        for job in jobs:
            task, split, name = _run_job(job)
            names[task, split].append(name)
            if on_sequence:
                on_sequence(task, split, name)
    for split in SPLITS:
        write_seqmap(out / "mot" / "seqmaps" / f"{split}.txt", sorted(names["mot", split]))
        write_imageset(out / "vos" / "ImageSets" / "2017" / f"{split}.txt", sorted(names["vos", split]))
        write_list(out / "sot" / split / "list.txt", sorted(names["sot", split]))
        write_split(out / "kp" / f"{split}_list.txt", sorted(names["kp", split]))


# ------------------------------------------------------------------------------------------------ manifest
def _files(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def content_hash(folder: str | Path) -> str:
    """sha256 over the relative paths and bytes of every file (the manifest excluded), in sorted order."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for rel in _files(folder):
        digest.update(rel.encode() + b"\0")
        digest.update((folder / rel).read_bytes())
    return digest.hexdigest()


def _manifest_ok(folder: Path, expected: str, verify: bool) -> bool:
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("fingerprint") != expected:
        return False
    recorded = manifest.get("files", {})
    for rel, size in recorded.items():
        p = folder / rel
        if not p.is_file() or p.stat().st_size != size:
            return False
    if verify:
        return content_hash(folder) == manifest.get("content_hash")
    return True


def dataset_dir(preset: str, root: str | Path | None = None, seed: int = 0) -> Path:
    """The folder of a preset/seed (not generated)."""
    return data_root(root) / "zoosynth" / f"{preset}-seed{seed}"


def ensure_synth(preset: str = "default", root: str | Path | None = None, seed: int = 0, *, verify: bool = False,
                 progress: bool = False) -> Path:
    """The ZooSynth dataset folder of ``preset``/``seed``, generated on first use.

    Reuses an existing folder only when its manifest's fingerprint (generator version + config + seed)
    matches and every recorded file is present with its recorded size (``verify=True`` also recomputes the
    content hash). Otherwise the dataset is generated into a temporary sibling folder and moved into
    place, under a file lock, so concurrent callers (DDP ranks, parallel tests) never see half a dataset.

    Raises:
        ValueError: unknown preset (the message lists the presets).
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown ZooSynth preset {preset!r}; presets: {', '.join(PRESETS)}")
    config = PRESETS[preset]
    target = dataset_dir(preset, root, seed)
    expected = fingerprint(config, seed)
    if _manifest_ok(target, expected, verify):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _manifest_ok(target, expected, verify):  # another process generated it meanwhile
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            start = time.perf_counter()
            _generate_with_progress(config, tmp, seed, preset, progress)
            manifest = {
                "generator_version": GENERATOR_VERSION, "preset": preset, "seed": seed,
                "config": asdict(config), "fingerprint": expected, "content_hash": content_hash(tmp),
                "files": _files(tmp), "generation_seconds": round(time.perf_counter() - start, 2),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            atomic_write_text(tmp / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
            if target.exists():
                stale = target.with_name(f".{target.name}.stale-{os.getpid()}")
                os.replace(target, stale)
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _generate_with_progress(config: SynthConfig, out: Path, seed: int, preset: str, progress: bool) -> None:
    if not progress:
        generate(config, out, seed)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]ZooSynth"), TextColumn(preset), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn()) as bar:
        job = bar.add_task("", total=len(_jobs(config)))
        generate(config, out, seed, on_sequence=lambda t, s, n: bar.update(job, advance=1,
                                                                          description=f"{t}/{s}/{n}"))

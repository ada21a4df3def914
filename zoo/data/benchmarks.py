"""The benchmark presets the zoo knows: name, task and directory layout (for error messages).

A plain table with no heavy imports, so that re-scoring (``zoo.evaluate results=...``) and the leaderboard
can look a benchmark up without loading the Lightning data modules (:mod:`zoo.data.modules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zoo.data.formats import davis, got10k, lasot, otb, trackingnet

__all__ = ["BENCHMARKS", "SYNTH_SEED", "Benchmark", "Task", "synth_benchmark_root"]

Task = Literal["mot", "vos", "sot"]


@dataclass(frozen=True)
class Benchmark:
    """What the data modules know about one benchmark.

    Attributes:
        name: preset name (``mot17``...).
        task: ``mot``, ``vos`` or ``sot``.
        layout: the directory layout, in words, for error messages.
        synth: ZooSynth task folder (``mot``/``vos``/``sot``/``kp``) for the synthetic benchmarks, else None.
        train_only: unlabelled training data without an evaluation split (``videos``, ``folder``).
    """

    name: str
    task: Task
    layout: str
    synth: str | None = None
    train_only: bool = False


_MOT_LAYOUT = (
    "<root>/<split>/<seq>/{seqinfo.ini, img1/000001.jpg..., gt/gt.txt, det/det.txt} with <split> e.g. "
    "train, test (DanceTrack also val)"
)
# zoo.data.video_folder.LAYOUT, spelled out here to keep this table free of OpenCV imports
_VIDEOS_LAYOUT = (
    "<root>/<name>{.mp4,.avi,.mov,.mkv,.webm,.gif} video files and/or "
    "<root>/<video>/<frames>{.jpg,.jpeg,.png} folders of frames (unlabelled, training only; at least 2 "
    "frames a video)"
)
# zoo.data.formats.davis_objects (not imported here: it imports OpenCV) reads these folders as SOT
_OBJECTS_NOTE = (
    "; seen as single-object tracking: one sequence per object (<seq>_obj<label>, DAVIS-2016: per video), "
    "its box the bounding rectangle of its mask, every frame annotated (train/val, not test-dev)"
)
_JHMDB_LAYOUT = (
    "<root>/<split file> listing clip folders <clip>/00001.png... with "
    "joint_positions.mat (JHMDB keypoints; split file e.g. val_list.txt)"
)
BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark("mot17", "mot", _MOT_LAYOUT + "; sequences MOT17-02-DPM, -FRCNN, -SDP ..."),
        Benchmark("mot20", "mot", _MOT_LAYOUT + "; sequences MOT20-01 ..."),
        Benchmark("dancetrack", "mot", _MOT_LAYOUT + "; sequences dancetrack0001 ..."),
        Benchmark("synth_mot", "mot", "a ZooSynth folder: " + _MOT_LAYOUT, synth="mot"),
        Benchmark("davis17", "vos", davis.LAYOUT),
        Benchmark("jhmdb", "vos", _JHMDB_LAYOUT),
        # a folder of the user's own videos (files and/or frame folders); ``folder`` is its older name
        Benchmark("videos", "vos", _VIDEOS_LAYOUT, train_only=True),
        Benchmark("folder", "vos", _VIDEOS_LAYOUT, train_only=True),
        Benchmark("synth_vos", "vos", "a ZooSynth folder: " + davis.LAYOUT, synth="vos"),
        # ZooSynth 1.6 keypoint clips in the JHMDB layout (split names train/val: train_list.txt, val_list.txt)
        Benchmark("synth_kp", "vos", "a ZooSynth folder: " + _JHMDB_LAYOUT, synth="kp"),
        Benchmark("got10k", "sot", got10k.LAYOUT),
        Benchmark("lasot", "sot", lasot.LAYOUT),
        Benchmark("otb", "sot", otb.LAYOUT),
        Benchmark("trackingnet", "sot", trackingnet.LAYOUT),
        Benchmark("synth_sot", "sot", "a ZooSynth folder: " + got10k.LAYOUT, synth="sot"),
        # VOS benchmarks in the DAVIS layout as SOT: target masks for ensembles (SFTrack++ phases 1-2)
        Benchmark("davis17_objects", "sot", davis.LAYOUT + _OBJECTS_NOTE),
        Benchmark(
            "synth_vos_objects", "sot", "a ZooSynth folder: " + davis.LAYOUT + _OBJECTS_NOTE, synth="vos"
        ),
    )
}


#: ZooSynth content is a function of the preset and this seed (not of the training seed).
SYNTH_SEED = 0


def synth_benchmark_root(benchmark: str, preset: str = "default", synth_root: str | None = None) -> Path:
    """The task folder of a ZooSynth benchmark (``synth_mot`` -> ``<ZooSynth>/mot``), generated on first use.

    Raises:
        ValueError: ``benchmark`` is not a ZooSynth benchmark, or an unknown preset.
    """
    bench = BENCHMARKS.get(benchmark)
    if bench is None or bench.synth is None:
        raise ValueError(
            f"{benchmark!r} is not a ZooSynth benchmark; those are "
            f"{sorted(n for n, b in BENCHMARKS.items() if b.synth)}"
        )
    from zoo.data.synth import ensure_synth

    return Path(ensure_synth(preset, root=synth_root, seed=SYNTH_SEED)) / bench.synth

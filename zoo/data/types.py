"""Plain containers for benchmark sequences, shared by readers, ZooSynth, datasets and task runners.

Boxes are always float64 ``xyxy`` in 0-based pixels (see ``zoo.core.boxes``); readers and writers convert
from and to each benchmark's own convention. Frame numbers are 1-based, as in every benchmark file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class MOTRows:
    """Rows of a MOTChallenge text file (gt, det or tracker results), one entry per row.

    Attributes:
        frames: (N,) int64, 1-based frame numbers.
        ids: (N,) int64 track ids (-1 for detections).
        boxes: (N, 4) float64 ``xyxy``, 0-based pixels.
        scores: (N,) float64, column 7 (detection/track confidence; the "consider" flag 0/1 in gt).
        classes: (N,) int64, column 8 (gt class; -1 where the file has none).
        visibility: (N,) float64, column 9 (gt visibility in [0, 1]; -1 where the file has none).
    """

    frames: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    visibility: np.ndarray

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @classmethod
    def empty(cls) -> MOTRows:
        return cls(
            frames=np.zeros(0, np.int64),
            ids=np.zeros(0, np.int64),
            boxes=np.zeros((0, 4), np.float64),
            scores=np.zeros(0, np.float64),
            classes=np.zeros(0, np.int64),
            visibility=np.zeros(0, np.float64),
        )

    def select(self, mask: np.ndarray) -> MOTRows:
        """Rows where the boolean ``mask`` (N,) is true."""
        return MOTRows(
            self.frames[mask],
            self.ids[mask],
            self.boxes[mask],
            self.scores[mask],
            self.classes[mask],
            self.visibility[mask],
        )

    def frame(self, t: int) -> MOTRows:
        """Rows of 1-based frame ``t``."""
        return self.select(self.frames == t)


@dataclass
class SeqInfo:
    """The ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``."""

    name: str
    im_dir: str
    frame_rate: float
    seq_length: int
    im_width: int
    im_height: int
    im_ext: str


@dataclass
class MOTSequence:
    """One MOTChallenge-layout sequence folder.

    Attributes:
        root: the sequence folder (holds ``seqinfo.ini``, ``img1/``, ``gt/gt.txt``, ``det/det.txt``).
        info: parsed ``seqinfo.ini``.
        gt: ground truth rows, or None when the split has no gt (test splits).
        det: public detections, or None when absent.
        frame_digits: zero-padded width of frame file names: 6 (MOT15-20, ``000001.jpg``) or 8
            (DanceTrack, ``00000001.jpg``).
    """

    root: Path
    info: SeqInfo
    gt: MOTRows | None = None
    det: MOTRows | None = None
    frame_digits: int = 6

    @property
    def name(self) -> str:
        return self.info.name

    def __len__(self) -> int:
        return self.info.seq_length

    def image_path(self, frame: int) -> Path:
        """Path of 1-based ``frame`` (``img1/000001.jpg``); existence is not checked here."""
        return self.root / self.info.im_dir / f"{frame:0{self.frame_digits}d}{self.info.im_ext}"


@dataclass
class VOSSequence:
    """One DAVIS-layout sequence (or JHMDB clip for keypoints).

    Attributes:
        name: sequence name.
        frames: image paths in temporal order (frame i is 0-based index i).
        annotations: palette-PNG paths per frame index, only for annotated frames.
        keypoints: optional (T, J, 2) float64 pixel coordinates (x, y), NaN/negative for invisible joints.
    """

    name: str
    frames: list[Path]
    annotations: dict[int, Path] = field(default_factory=dict)
    keypoints: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.frames)


@dataclass
class SOTSequence:
    """One single-object tracking sequence (GOT-10k, LaSOT, OTB, TrackingNet, ZooSynth-SOT, or one object of
    a DAVIS-layout VOS benchmark: :func:`zoo.data.formats.davis_objects.load_davis_objects`).

    Attributes:
        name: sequence name.
        frames: image paths in temporal order.
        boxes: (T, 4) float64 ``xyxy`` 0-based pixels; NaN rows where the benchmark gives no box
            (e.g. LaSOT/TrackingNet test splits beyond frame 1).
        absent: (T,) bool, target not visible in the frame (GOT-10k ``absence.label``, LaSOT
            ``full_occlusion``/``out_of_view``); all False when the benchmark has no such labels.
        cover: optional (T,) int64 GOT-10k cover level 0..8 (0 = fully occluded).
        masks: optional per-frame palette-mask paths (ZooSynth-SOT, DAVIS objects), same length as frames.
        image_size: (width, height) in pixels, when known without reading images.
        mask_label: the target's label in ``masks`` (a DAVIS-2017 object: the target is ``labels == k``, void
            255 and the other objects are background); None: every object label 1..254 is the target
            (ZooSynth-SOT's single object, DAVIS-2016's merged objects).
    """

    name: str
    frames: list[Path]
    boxes: np.ndarray
    absent: np.ndarray
    cover: np.ndarray | None = None
    masks: list[Path] | None = None
    image_size: tuple[int, int] | None = None
    mask_label: int | None = None

    def __len__(self) -> int:
        return len(self.frames)

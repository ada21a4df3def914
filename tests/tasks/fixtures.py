"""Small hand-made benchmark folders and scripted trackers for the runner tests.

Files are written by hand (plain text, PIL), not with the zoo's writers, so the runners are checked against
independently produced benchmark layouts; boxes sit on integer pixels so every number is hand-checkable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from zoo.data.types import MOTRows
from zoo.tasks.protocols import Detections, SOTOutput, Tracks

W, H = 64, 48


def frame_image(t: int, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """A textured (H, W, 3) uint8 frame that changes with t (so trackers see motion)."""
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
    base = ((xx * 7 + yy * 13 + 5 * t) % 256).astype(np.uint8)
    return np.stack([base, base[::-1], np.roll(base, t, axis=1)], axis=-1)


def write_jpg(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path, format="JPEG", quality=95)


# ------------------------------------------------------------------------------------------------ MOT
#: gt of sequence "hand-01": frame, id, left, top, w, h, consider, class, visibility (1-based left/top)
MOT_GT = [
    *[(t, 1, 5 + 2 * t, 10, 10, 20, 1, 1, 1.0) for t in range(1, 5)],
    *[(t, 2, 40 - 2 * t, 12, 10, 20, 1, 1, 1.0) for t in range(1, 5)],
    *[(t, 3, 2, 30, 6, 12, 0, 7, 1.0) for t in range(1, 5)],  # static person: class 7, consider 0
]
#: public detections: gt 1 and 2 every frame, plus one false positive in frame 2
MOT_DET = [
    *[(t, -1, x, y, w, h, 0.9, -1, -1, -1) for t, i, x, y, w, h, *_ in MOT_GT if i != 3],
    (2, -1, 50, 30, 8, 8, 0.4, -1, -1, -1),
]


def write_mot_split(root: Path, names: tuple[str, ...] = ("hand-01",), images: bool = True) -> Path:
    """``root/train/<name>/{seqinfo.ini, img1/, gt/gt.txt, det/det.txt}`` for each name (same content)."""
    for name in names:
        seq = root / "train" / name
        (seq / "gt").mkdir(parents=True, exist_ok=True)
        (seq / "det").mkdir(parents=True, exist_ok=True)
        (seq / "seqinfo.ini").write_text(
            f"[Sequence]\nname={name}\nimDir=img1\nframeRate=10\nseqLength=4\nimWidth={W}\nimHeight={H}\nimExt=.jpg\n"
        )
        (seq / "gt" / "gt.txt").write_text("".join(",".join(map(str, r)) + "\n" for r in MOT_GT))
        (seq / "det" / "det.txt").write_text("".join(",".join(map(str, r)) + "\n" for r in MOT_DET))
        if images:
            for t in range(1, 5):
                write_jpg(seq / "img1" / f"{t:06d}.jpg", frame_image(t))
    return root / "train"


def xyxy(left: float, top: float, w: float, h: float) -> list[float]:
    """MOTChallenge 1-based left/top/w/h -> 0-based xyxy."""
    return [left - 1, top - 1, left - 1 + w, top - 1 + h]


class ScriptedMOT:
    """Online MOT tracker replaying fixed tracks; records what it was given."""

    needs_frames = False

    def __init__(self, per_frame: dict[int, list[tuple[int, list[float]]]]) -> None:
        self.per_frame = per_frame
        self.seen_frames: list[object] = []
        self.seen_dets: list[Detections] = []
        self.t = 0

    def reset(self, seq_info: object) -> None:
        self.t = 0

    def step(self, frame: np.ndarray | None, detections: Detections) -> Tracks:
        self.t += 1
        self.seen_frames.append(frame)
        self.seen_dets.append(detections)
        rows = self.per_frame.get(self.t, [])
        if not rows:
            return Tracks.empty()
        return Tracks(
            np.array([i for i, _ in rows], np.int64),
            np.array([b for _, b in rows], np.float64),
            np.ones(len(rows)),
        )


def switch_script() -> dict[int, list[tuple[int, list[float]]]]:
    """Tracks on gt 1 and 2 with an identity switch of gt 1 at frame 3 and one far false positive in frame 4.

    Hand-computed CLEAR/Identity on hand-01: TP 8, FN 0, FP 1, IDSW 1, MOTA (8 - 1 - 1) / 8 = 0.75;
    IDTP 6 (gt1 keeps id 10 or 11 for 2 frames, gt2 id 20 for 4), IDFP 3, IDFN 2, IDF1 6 / 8.5.
    """
    script: dict[int, list[tuple[int, list[float]]]] = {}
    for t in range(1, 5):
        g1 = xyxy(5 + 2 * t, 10, 10, 20)
        g2 = xyxy(40 - 2 * t, 12, 10, 20)
        script[t] = [(10 if t <= 2 else 11, g1), (20, g2)]
    script[4].append((30, xyxy(50, 2, 8, 8)))
    return script


class OfflineReplay:
    """Offline MOT tracker returning the rows of a :class:`ScriptedMOT` script at once."""

    def __init__(self, per_frame: dict[int, list[tuple[int, list[float]]]]) -> None:
        self.per_frame = per_frame

    def track_sequence(self, seq: object, detections: dict[int, Detections]) -> MOTRows:
        rows = [(t, i, b) for t, lst in self.per_frame.items() for i, b in lst]
        n = len(rows)
        return MOTRows(
            np.array([r[0] for r in rows], np.int64), np.array([r[1] for r in rows], np.int64),
            np.array([r[2] for r in rows], np.float64), np.ones(n), np.full(n, -1, np.int64), np.full(n, -1.0),
        )  # fmt: skip


# ------------------------------------------------------------------------------------------------ SOT
class OracleSOT:
    """SOT tracker that returns given boxes frame by frame (the ground truth, or anything)."""

    def __init__(self, boxes: np.ndarray) -> None:
        self.boxes = np.asarray(boxes, np.float64)
        self.t = 0

    def init(self, frame0: np.ndarray, box0: np.ndarray) -> None:
        self.t = 0

    def step(self, frame: np.ndarray) -> SOTOutput:
        self.t += 1
        return SOTOutput(box=self.boxes[self.t].copy(), score=1.0)


def write_got10k_split(root: Path, split: str = "val", n: int = 6) -> Path:
    """``root/<split>/GOT-10k_Val_00000k/`` with a target moving right 3 px a frame, labels and meta info."""
    names = []
    for k in (1, 2):
        name = f"GOT-10k_Val_{k:06d}"
        names.append(name)
        seq = root / split / name
        seq.mkdir(parents=True, exist_ok=True)
        boxes = [(4 + 3 * t + k, 6, 20, 16) for t in range(n)]
        (seq / "groundtruth.txt").write_text("".join(",".join(map(str, b)) + "\n" for b in boxes))
        (seq / "absence.label").write_text("0\n" * n)
        (seq / "cover.label").write_text("8\n" * (n - 1) + "0\n")  # last frame fully occluded
        (seq / "cut_by_image.label").write_text("0\n" * n)
        (seq / "meta_info.ini").write_text(f"[METAINFO]\nresolution: ({W}, {H})\n")
        for t in range(n):
            write_jpg(seq / f"{t + 1:08d}.jpg", frame_image(t))
    (root / split / "list.txt").write_text("".join(n_ + "\n" for n_ in names))
    return root


# ------------------------------------------------------------------------------------------------ VOS
def write_davis(root: Path, n: int = 5, moving: bool = True) -> Path:
    """``root/{JPEGImages,Annotations}/480p/blob/`` + ``ImageSets/2017/val.txt``: two rectangles (ids 1, 2),
    object 1 moving right 2 px a frame when ``moving``; palette PNGs written by hand."""
    name = "blob"
    for t in range(n):
        write_jpg(root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg", frame_image(t))
        mask = np.zeros((H, W), np.uint8)
        dx = 2 * t if moving else 0
        mask[10:30, 5 + dx : 25 + dx] = 1
        mask[5:15, 40:55] = 2
        path = root / "Annotations" / "480p" / name / f"{t:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        img = Image.frombytes("P", (W, H), mask.tobytes())
        img.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (3 * 253))
        img.save(path, format="PNG")
    (root / "ImageSets" / "2017").mkdir(parents=True, exist_ok=True)
    (root / "ImageSets" / "2017" / "val.txt").write_text(name + "\n")
    return root

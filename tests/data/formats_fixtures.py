"""Tiny valid benchmark folders for the format tests, written programmatically (8x8 images).

Each builder writes one benchmark's layout under ``root`` by hand (plain ``open``/PIL/scipy, not the zoo's
writers), so the readers are tested against independently produced files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 8  # image side in pixels


def jpg(path: Path, size: tuple[int, int] = (SIZE, SIZE), value: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path, format="JPEG")
    return path


def png(path: Path, size: tuple[int, int] = (SIZE, SIZE), value: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path, format="PNG")
    return path


def palette_png(path: Path, labels: np.ndarray) -> Path:
    """A palette PNG built by hand with a VOC-style palette of the first colours only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.frombytes("P", (labels.shape[1], labels.shape[0]), labels.astype(np.uint8).tobytes())
    img.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0] + [0] * (3 * 252))
    img.save(path, format="PNG")
    return path


def text(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


# ------------------------------------------------------------------------------------------------ MOT
SEQINFO = (
    "[Sequence]\nname={name}\nimDir=img1\nframeRate=30\nseqLength={n}\nimWidth=64\nimHeight=48\nimExt=.jpg\n"
)
GT_ROWS = [  # frame,id,left,top,w,h,consider,class,visibility
    (1, 1, 10, 12, 5, 9, 1, 1, 1.0),
    (1, 2, 30.5, 4, 6.25, 10, 1, 1, 0.5),
    (2, 1, 11, 12, 5, 9, 1, 1, 0.875),
    (2, 3, 40, 20, 3, 3, 0, 7, 0.0),
    (3, 2, 31.5, 5, 6.25, 10.5, 1, 1, 1.0),
]
DET_ROWS = [  # frame,-1,left,top,w,h,score,-1,-1,-1
    (1, -1, 9.5, 12, 5, 9, 0.9, -1, -1, -1),
    (1, -1, 30, 4, 6, 10, 0.35, -1, -1, -1),
    (3, -1, 31, 5, 6, 10, 0.8, -1, -1, -1),
]
RES_ROWS = [  # frame,id,left,top,w,h,score,-1,-1,-1
    (1, 5, 10.25, 12, 5, 9, 1, -1, -1, -1),
    (2, 5, 11.25, 12, 5, 9, 0.5, -1, -1, -1),
    (3, 6, 31.5, 5, 6.25, 10.5, 0.75, -1, -1, -1),
]


def rows_text(rows: list[tuple]) -> str:
    return "".join(",".join(str(v) for v in r) + "\n" for r in rows)


def mot_sequence(root: Path, name: str = "SEQ-01", n: int = 3, images: bool = True) -> Path:
    seq = root / name
    text(seq / "seqinfo.ini", SEQINFO.format(name=name, n=n))
    text(seq / "gt" / "gt.txt", rows_text(GT_ROWS))
    text(seq / "det" / "det.txt", rows_text(DET_ROWS))
    if images:
        for t in range(1, n + 1):
            jpg(seq / "img1" / f"{t:06d}.jpg")
    return seq


# ---------------------------------------------------------------------------------------------- DAVIS
def davis_root(
    root: Path, names: tuple[str, ...] = ("bear", "car"), n: int = 3, first_only: bool = False
) -> Path:
    for name in names:
        for i in range(n):
            jpg(root / "JPEGImages" / "480p" / name / f"{i:05d}.jpg")
            if i == 0 or not first_only:
                labels = np.zeros((SIZE, SIZE), np.uint8)
                labels[1:4, 1:4] = 1
                labels[5:7, 2 + i % 3 : 5] = 2
                labels[0, 7] = 255
                palette_png(root / "Annotations" / "480p" / name / f"{i:05d}.png", labels)
    text(root / "ImageSets" / "2017" / "val.txt", "".join(f"{n}\n" for n in names))
    return root


# -------------------------------------------------------------------------------------------- GOT-10k
GOT_BOXES = [(1, 2, 3, 4), (1.5, 2, 3, 4.25), (2, 2.5, 3, 4), (2, 3, 0, 0)]


def got10k_root(
    root: Path, split: str = "val", names: tuple[str, ...] = ("GOT-10k_Val_000001",), masks: bool = False
) -> Path:
    d = root / split
    text(d / "list.txt", "".join(f"{n}\n" for n in names))
    for name in names:
        seq = d / name
        n = len(GOT_BOXES)
        for i in range(1, n + 1):
            jpg(seq / f"{i:08d}.jpg")
            if masks:
                palette_png(seq / "masks" / f"{i:08d}.png", np.zeros((SIZE, SIZE), np.uint8))
        if split == "test":
            text(seq / "groundtruth.txt", ",".join(f"{v:.4f}" for v in GOT_BOXES[0]) + "\n")
        else:
            text(seq / "groundtruth.txt", "".join(",".join(f"{v:.4f}" for v in b) + "\n" for b in GOT_BOXES))
            text(seq / "absence.label", "0\n0\n0\n1\n")
            text(seq / "cover.label", "8\n5\n1\n0\n")
            text(seq / "cut_by_image.label", "0\n0\n1\n0\n")
        text(
            seq / "meta_info.ini",
            "[METAINFO]\nurl: https://example.org/v\nresolution: (8, 8)\n"
            "object_class: ant\nmotion_class: walking\n",
        )
    return root


# ---------------------------------------------------------------------------------------------- LaSOT
LASOT_BOXES = [(3, 4, 10, 12), (3.5, 4, 10, 12), (4, 4.5, 11, 12)]


def lasot_root(
    root: Path,
    names: tuple[str, ...] = ("airplane-1", "airplane-2", "cat-13"),
    test: tuple[str, ...] = ("airplane-2", "cat-13"),
) -> Path:
    for name in names:
        cat = name.rsplit("-", 1)[0]
        seq = root / cat / name
        for i in range(1, len(LASOT_BOXES) + 1):
            jpg(seq / "img" / f"{i:08d}.jpg")
        text(seq / "groundtruth.txt", "".join(",".join(str(v) for v in b) + "\n" for b in LASOT_BOXES))
        text(seq / "full_occlusion.txt", "0,1,0\n")
        text(seq / "out_of_view.txt", "0,0,1\n")
        text(seq / "nlp.txt", "the white aeroplane\n")
    text(root / "testing_set.txt", "".join(f"{n}\n" for n in test))
    return root


# ------------------------------------------------------------------------------------------------ OTB
def otb_sequence(
    root: Path, name: str, frames: range, gt: str, gt_name: str = "groundtruth_rect.txt", digits: int = 4
) -> Path:
    seq = root / name
    for t in frames:
        jpg(seq / "img" / f"{t:0{digits}d}.jpg")
    text(seq / gt_name, gt)
    return seq


# ----------------------------------------------------------------------------------------- TrackingNet
def trackingnet_root(root: Path) -> Path:
    for chunk, name, n, first_only in (
        ("TRAIN_0", "a1", 3, False),
        ("TRAIN_1", "b2", 2, False),
        ("TEST", "t9", 4, True),
    ):
        for i in range(n):
            jpg(root / chunk / "frames" / name / f"{i}.jpg")
        rows = [(1 + i, 2, 5, 6 + i) for i in range(1 if first_only else n)]
        text(root / chunk / "anno" / f"{name}.txt", "".join(",".join(map(str, r)) + "\n" for r in rows))
    return root


# ---------------------------------------------------------------------------------------------- JHMDB
def jhmdb_clip(root: Path, name: str = "brush_hair/clip_a", n: int = 3) -> tuple[Path, np.ndarray]:
    """A clip folder with frames and joint_positions.mat; returns (clip dir, pos_img (2, 15, n))."""
    from scipy.io import savemat

    clip = root / name
    for t in range(1, n + 1):
        png(clip / f"{t:05d}.png")
    rng = np.random.default_rng(7)
    pos = rng.uniform(1, SIZE, size=(2, 15, n))
    savemat(str(clip / "joint_positions.mat"), {"pos_img": pos, "scale": np.ones(n)})
    return clip, pos

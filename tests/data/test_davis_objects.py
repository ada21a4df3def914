"""DAVIS-layout VOS benchmarks as SOT (zoo.data.formats.davis_objects): one sequence per object, its box from
its mask, its target mask that object only (datasets, ensemble windows, SOTDataModule)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from tests.data.formats_fixtures import text
from zoo.data.datasets import SOTPairDataset, _read_target_mask
from zoo.data.ensemble import SOTWindowDataset
from zoo.data.formats.davis import read_palette_mask, write_palette_mask
from zoo.data.formats.davis_objects import load_davis_objects, object_boxes
from zoo.data.formats.errors import FormatError
from zoo.data.modules import SOTDataModule
from zoo.data.transforms import train_transform

W, H = 64, 48  # frame size (width, height): not square, so a swapped axis shows


def _labels(t: int) -> np.ndarray:
    """Frame t of the video ``pets``: object 1 everywhere (moving right), object 2 in frames 2-3 only,
    object 3 in frame 1 only, void 255 pixels beside object 1 (outside its box)."""
    m = np.zeros((H, W), np.uint8)
    m[10:30, 4 + 3 * t : 20 + 3 * t] = 1
    m[30:34, 2 + 3 * t : 22 + 3 * t] = 255  # a void band under object 1: part of no object
    if t in (2, 3):
        m[36:44, 40 + t : 50 + t] = 2
        m[5, 60] = 2  # a stray pixel: the box spans it
    if t == 1:
        m[2:4, 50:52] = 3
    return m


def _frame(t: int) -> np.ndarray:
    rng = np.random.default_rng(t)
    img = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
    m = _labels(t)
    img[m == 1] = (240, 200, 40)
    img[m == 2] = (40, 80, 230)
    return img


def _davis(root: Path, name: str = "pets", n: int = 5, first_only: bool = False, year: str = "2017") -> Path:
    """A tiny DAVIS folder (480p, every frame annotated unless ``first_only``) listing ``name`` in train."""
    for t in range(n):
        path = root / "JPEGImages" / "480p" / name / f"{t:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), _frame(t)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        if t == 0 or not first_only:
            write_palette_mask(root / "Annotations" / "480p" / name / f"{t:05d}.png", _labels(t))
    text(root / "ImageSets" / year / "train.txt", f"{name}\n")
    return root


def _rect(mask: np.ndarray) -> list[float]:
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return [x, y, x + w, y + h]


@pytest.fixture
def root(tmp_path):
    return _davis(tmp_path / "DAVIS")


def test_one_sequence_per_object_from_its_first_visible_frame(root):
    with pytest.warns(UserWarning, match=r"skipping pets_obj3: the object is visible in 1 frame"):
        seqs = load_davis_objects(root, "train")
    assert [s.name for s in seqs] == ["pets_obj1", "pets_obj2"]  # object 3 (one frame) is skipped
    one, two = seqs
    assert one.mask_label == 1 and two.mask_label == 2
    assert one.image_size == two.image_size == (W, H)
    assert len(one) == 5 and one.frames[0].name == "00000.jpg" and not one.absent.any()
    assert one.boxes.dtype == np.float64 and one.boxes.shape == (5, 4)
    assert one.boxes[0].tolist() == [4, 10, 20, 30]  # rows 10..29, columns 4..19: void 255 excluded
    # object 2 starts at its first visible frame (2), is absent (NaN box) at frame 4
    assert [p.name for p in two.frames] == ["00002.jpg", "00003.jpg", "00004.jpg"]
    assert [p.name for p in two.masks] == ["00002.png", "00003.png", "00004.png"]
    assert two.absent.tolist() == [False, False, True] and np.isnan(two.boxes[2]).all()
    for seq, label in ((one, 1), (two, 2)):
        for t in np.flatnonzero(~seq.absent):
            labels = read_palette_mask(seq.masks[t])
            assert seq.boxes[t].tolist() == _rect(labels == label)
    assert two.boxes[0].tolist() == [42, 5, 61, 44]  # the stray pixel at (60, 5) is part of the box


def test_void_pixels_belong_to_no_object():
    m = np.zeros((6, 8), np.uint8)
    m[1:3, 1:3] = 1
    m[0, 7] = m[5, 0] = 255
    boxes = object_boxes(m)
    assert list(boxes) == [1] and boxes[1].tolist() == [1, 1, 3, 3]
    assert object_boxes(np.full((4, 4), 255, np.uint8)) == {}
    assert object_boxes(np.zeros((4, 4), np.uint8)) == {}


def test_year_2016_merges_the_objects_of_a_video(tmp_path):
    root = _davis(tmp_path / "DAVIS", year="2016")
    (seq,) = load_davis_objects(root, "train", year="2016")
    assert seq.name == "pets" and seq.mask_label is None and len(seq) == 5 and not seq.absent.any()
    for t in range(5):
        labels = read_palette_mask(seq.masks[t])
        assert seq.boxes[t].tolist() == _rect((labels > 0) & (labels < 255))
    with pytest.raises(ValueError, match="year must be '2016' or '2017'"):
        load_davis_objects(root, "train", year="2018")


def test_first_frame_only_annotations_are_an_error_naming_the_folder(tmp_path):
    root = _davis(tmp_path / "DAVIS", name="testdev", first_only=True)
    with pytest.raises(FormatError, match="every frame's mask") as err:
        load_davis_objects(root, "train")
    assert err.value.path == root / "Annotations" / "480p" / "testdev"
    assert str(root / "Annotations" / "480p" / "testdev") in str(err.value)


def test_layout_errors_come_from_load_davis(tmp_path):
    with pytest.raises(FormatError, match="ImageSets list not found"):
        load_davis_objects(tmp_path, "train")


def test_read_target_mask_with_a_label(root):
    path = root / "Annotations" / "480p" / "pets" / "00002.png"
    labels = read_palette_mask(path)
    two = _read_target_mask(path, 2)
    assert two.dtype == np.uint8 and np.array_equal(two, (labels == 2).astype(np.uint8))
    anyone = _read_target_mask(path)
    assert np.array_equal(anyone, ((labels == 1) | (labels == 2)).astype(np.uint8))  # void 255 excluded
    assert not _read_target_mask(path, 7).any()  # an object not in this frame
    with pytest.raises(ValueError, match="object label 1..254, got 255"):
        _read_target_mask(path, 255)


def test_clip_samples_carry_the_one_objects_mask(root):
    with pytest.warns(UserWarning):
        seqs = load_davis_objects(root, "train")
    ds = SOTPairDataset(
        seqs,
        train_transform((H, W), hflip=0.0, color_jitter=0.0, scale=None, translate=0.0),
        mode="clip",
        clip_len=2,
    )
    s = ds[5]  # pets_obj2, frames 2 and 3 of the video
    assert s["name"] == "pets_obj2" and s["masks"].shape == (2, H, W)
    for k, t in enumerate((2, 3)):
        assert torch.equal(s["masks"][k], torch.from_numpy((_labels(t) == 2).astype(np.int64)))


def test_window_masks_hold_the_one_object_only(root, tmp_path):
    with pytest.warns(UserWarning):
        seqs = load_davis_objects(root, "train")
    ds = SOTWindowDataset(
        seqs, ["kcf"], window=2, image_size=(H, W), hflip=0.0, cache_dir=tmp_path / "cache", workers=1,
        progress=False,
    )  # fmt: skip
    assert [s.name for s in ds.sequences] == ["pets_obj1", "pets_obj2"]
    assert len(ds) == 4 + 2  # windows ending at frames 1..4 of obj1, 1..2 of obj2
    for i in range(len(ds)):
        s = ds[i]
        label = 1 if s["name"] == "pets_obj1" else 2
        start = 0 if label == 1 else 2
        for k, f in enumerate(s["frames"].tolist()):
            expect = (_labels(start + f) == label).astype(np.float32)  # other objects and void: 0
            assert torch.equal(s["masks"][k], torch.from_numpy(expect))
        assert s["channels"].shape == (2, 1, 4)
    last = ds[len(ds) - 1]  # pets_obj2 at video frame 4: absent
    assert torch.isnan(last["boxes"][-1]).all() and last["masks"][-1].sum() == 0


def test_module_window_mode_on_zoosynth_vos_objects(tmp_path):
    """SOTDataModule(benchmark="synth_vos_objects") end to end on ZooSynth-VOS (tiny preset, shared per test
    session through $ZOO_DATA), base-tracker windows with the one object's masks."""
    dm = SOTDataModule(
        benchmark="synth_vos_objects", mode="window", trackers=["kcf"], window=2, image_size=(34, 60),
        batch_size=2, num_workers=0, synth_preset="tiny", hflip=0.0, tracker_cache=str(tmp_path / "cache"),
        tracker_workers=1,
    )  # fmt: skip
    assert dm._split_path(Path("/r"), "train") == Path("/r/ImageSets/2017/train.txt")
    seqs = dm.sequences("train")
    assert seqs and all("_obj" in s.name and s.mask_label is not None for s in seqs)
    videos = {s.name.rsplit("_obj", 1)[0] for s in seqs}
    assert videos == {"zsvos-train-00", "zsvos-train-01"}
    for seq in seqs:
        labels = read_palette_mask(seq.masks[0])
        assert seq.boxes[0].tolist() == _rect(labels == seq.mask_label)
    batch = next(iter(dm.train_dataloader()))
    assert batch["images"].shape == (2, 2, 3, 34, 60) and batch["masks"].shape == (2, 2, 34, 60)
    assert batch["channels"].shape == (2, 2, 1, 4)
    val = dm.eval_sequences()
    assert val and all(s.name.startswith("zsvos-val-") for s in val)


def test_module_on_a_davis_folder(root, tmp_path):
    dm = SOTDataModule(root=str(root), benchmark="davis17_objects", train_split="train", val_split=None,
                       mode="clip", clip_len=2, image_size=(H, W), batch_size=2, num_workers=0)  # fmt: skip
    with pytest.warns(UserWarning, match="pets_obj3"):
        assert [s.name for s in dm.sequences("train")] == ["pets_obj1", "pets_obj2"]
    b = next(iter(dm.train_dataloader()))
    assert b["images"].shape == (2, 2, 3, H, W) and b["masks"].shape == (2, 2, H, W)
    with pytest.raises(FileNotFoundError, match=r"ImageSets/2016/train.txt"):
        SOTDataModule(root=str(root), benchmark="davis17_objects", year="2016", val_split=None)
    with pytest.raises(ValueError, match="year must be"):
        SOTDataModule(root=str(root), benchmark="davis17_objects", year="2019", val_split=None)


def test_rescoring_reads_the_same_sequences_and_scores_ope(root):
    from zoo.tasks import sot
    from zoo.tasks.benchmarks import load_ground_truth, task_of

    assert task_of("davis17_objects") == task_of("synth_vos_objects") == "sot"
    with pytest.warns(UserWarning, match="pets_obj3"):
        gt = load_ground_truth("davis17_objects", root, "train")
    assert [s.name for s in gt] == ["pets_obj1", "pets_obj2"]
    assert gt[1].absent.tolist() == [False, False, True]
    assert sot.main_metrics("davis17_objects") == ("success_auc", "precision_20", "norm_precision")

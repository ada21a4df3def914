"""zoo.data.datasets on hand-made sequences written in the real formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from zoo.core.video import write_image
from zoo.data.datasets import MOTGroupDataset, SOTPairDataset, VideoClipDataset, collate
from zoo.data.formats.davis import write_palette_mask
from zoo.data.formats.motchallenge import load_split, write_mot_file, write_seqinfo
from zoo.data.samplers import ResumableDataLoader, ShuffleGroupSampler
from zoo.data.transforms import eval_transform, mask_boxes, photometric_transform, train_transform
from zoo.data.types import MOTRows, SeqInfo, SOTSequence, VOSSequence

H, W = 60, 100


def _mot_split(root: Path, static: bool = False) -> Path:
    """Two sequences (8 and 6 frames); track ids 5 and 9 in seq A, 5 in seq B; one class-7 row and one
    consider=0 row that the training filter must drop."""
    split = root / "train"
    rng = np.random.default_rng(0)
    for name, n, tracks in [("SEQ-A", 8, (5, 9)), ("SEQ-B", 6, (5,))]:
        seq = split / name
        write_seqinfo(seq / "seqinfo.ini", SeqInfo(name, "img1", 10.0, n, W, H, ".jpg"))
        base = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        frames, ids, boxes, cls, cons = [], [], [], [], []
        for t in range(1, n + 1):
            write_image(seq / "img1" / f"{t:06d}.jpg", base if static else np.roll(base, t, axis=1))
            for k, tid in enumerate(tracks):
                frames.append(t), ids.append(tid), cls.append(1), cons.append(1.0)
                boxes.append([10.0 + 30 * k + t, 10.0, 30.0 + 30 * k + t, 50.0])
            frames.append(t), ids.append(77), cls.append(7), cons.append(0.0)
            boxes.append([70.0, 5.0, 90.0, 25.0])
            if t == 2:  # a pedestrian row marked "do not consider"
                frames.append(t), ids.append(3), cls.append(1), cons.append(0.0)
                boxes.append([60.0, 30.0, 80.0, 55.0])
        m = len(frames)
        rows = MOTRows(
            np.array(frames), np.array(ids), np.array(boxes), np.array(cons), np.array(cls), np.ones(m)
        )
        write_mot_file(seq / "gt" / "gt.txt", rows, "gt")
    return split


def test_mot_identities_and_annotations(tmp_path):
    seqs = load_split(_mot_split(tmp_path))
    ds = MOTGroupDataset(seqs, eval_transform((H, W)))
    assert len(ds) == 14 and ds.frame_counts.tolist() == [8, 6]
    assert ds.num_identities == 3
    assert ds.identity_table == [("SEQ-A", 5), ("SEQ-A", 9), ("SEQ-B", 5)]
    boxes, ids = ds.annotations(1, 3)  # SEQ-B frame 3: only track 5 -> global id 2
    assert ids.tolist() == [2]
    np.testing.assert_allclose(boxes, [[13.0, 10.0, 33.0, 50.0]])
    boxes, ids = ds.annotations(0, 2)  # the consider=0 pedestrian and the class-7 object are gone
    assert ids.tolist() == [0, 1]


def test_mot_group_batches_through_a_worker_loader(tmp_path):
    seqs = load_split(_mot_split(tmp_path))
    size = (30, 50)  # half size: boxes scale by 0.5 exactly
    ds = MOTGroupDataset(seqs, eval_transform(size))
    sampler = ShuffleGroupSampler(ds.frame_counts, 3, seed=1, num_replicas=1, rank=0)
    dl = ResumableDataLoader(ds, sampler, num_workers=2, collate_fn=collate)
    seen = 0
    for batch in dl:
        assert batch["image"].shape == (3, 3, 30, 50) and batch["image"].dtype == torch.float32
        assert len(set(batch["sequence"])) == 1 and torch.all(batch["frame"].diff() == 1)
        for k in range(3):
            v, f = int(batch["video"][k]), int(batch["frame"][k])
            ref_boxes, ref_ids = ds.annotations(v, f)
            np.testing.assert_allclose(batch["boxes"][k].numpy(), ref_boxes * 0.5, atol=1e-4)
            assert batch["ids"][k].tolist() == ref_ids.tolist()
        seen += 1
    assert seen == len(sampler) == 4  # 8 // 3 + 6 // 3


def test_mot_one_draw_per_group_different_draws_across_groups(tmp_path):
    seqs = load_split(_mot_split(tmp_path, static=True))
    ds = MOTGroupDataset(seqs, train_transform((H, W), color_jitter=0.5))
    torch.manual_seed(0)
    items = ds.__getitems__([0, 1, 2, 3, 4, 5])  # one run of 6 consecutive frames: one draw
    for it in items[1:]:
        assert torch.equal(it["image"], items[0]["image"])
    other = [ds.__getitems__([0, 1])[0]["image"] for _ in range(4)]
    assert any(not torch.equal(o, items[0]["image"]) for o in other)
    # two groups in one call (video changes) get independent draws
    mixed = ds.__getitems__([0, 1, 8, 9])
    assert torch.equal(mixed[0]["image"], mixed[1]["image"]) and torch.equal(
        mixed[2]["image"], mixed[3]["image"]
    )


def test_mot_needs_gt(tmp_path):
    seqs = load_split(_mot_split(tmp_path))
    seqs[0].gt = None
    with pytest.raises(ValueError, match="no gt"):
        MOTGroupDataset(seqs, eval_transform((H, W)))


def _frames(folder: Path, n: int, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        paths.append(write_image(folder / f"{i:05d}.jpg", rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)))
    return paths


def test_frame_gap_schedule_frequencies_and_fallbacks(tmp_path):
    ds = VideoClipDataset([_frames(tmp_path / "v", 3)], 4, train_transform(32, mode="crop", normalize=False))
    rng = np.random.default_rng(0)
    gaps = [ds.clip_indices(100, 10, rng)[1] for _ in range(4000)]
    freq = {g: gaps.count(g) / 4000 for g in (2, 5, 8)}
    assert abs(freq[2] - 0.4) < 0.03 and abs(freq[5] - 0.4) < 0.03 and abs(freq[8] - 0.2) < 0.03
    idx, gap = ds.clip_indices(100, 95, rng)  # anchored near the end: moved back to fit
    assert idx[-1] <= 99 and np.all(np.diff(idx) == gap)
    # 16 frames, T = 4: gap 8 does not fit (3 * 8 >= 16); 2 and 5 share the mass 1:1
    short = [ds.clip_indices(16, 0, rng)[1] for _ in range(2000)]
    assert set(short) == {2, 5} and abs(short.count(2) / 2000 - 0.5) < 0.05
    idx, gap = ds.clip_indices(6, 0, rng)  # no scheduled gap fits: the largest that does (5 // 3 = 1)
    assert gap == 1 and idx.tolist() == [0, 1, 2, 3]
    idx, _ = ds.clip_indices(2, 0, rng)  # shorter than the clip: the last frame repeats
    assert idx.tolist() == [0, 1, 1, 1]


def test_video_clip_samples_batch(tmp_path):
    vids = [
        VOSSequence("a", _frames(tmp_path / "a", 20, 1)),
        VOSSequence("b", _frames(tmp_path / "b", 12, 2)),
    ]
    ds = VideoClipDataset(
        vids, 4, train_transform(32, mode="crop", normalize=False), gaps=(1, 3), gap_probs=(1, 1)
    )
    assert len(ds) == 32
    dl = DataLoader(ds, batch_size=5, shuffle=True, num_workers=0, collate_fn=collate)
    batch = next(iter(dl))
    assert batch["images"].shape == (5, 4, 3, 32, 32)
    assert 0.0 <= float(batch["images"].min()) and float(batch["images"].max()) <= 1.0  # raw RGB for Lab
    assert batch["frames"].shape == (5, 4) and set(batch["gap"].tolist()) <= {1, 3}
    with pytest.raises(ValueError, match="gap_probs"):
        VideoClipDataset(vids, 4, train_transform(32), gaps=(2, 5), gap_probs=(1.0,))


def _sot_sequence(root: Path, n: int = 12) -> SOTSequence:
    """A red 20x16 target moving right on grey noise, with palette masks; frame 3 marked absent."""
    rng = np.random.default_rng(3)
    frames, masks, boxes = [], [], []
    for i in range(n):
        img = rng.integers(100, 140, (80, 120, 3), dtype=np.uint8)
        m = np.zeros((80, 120), np.uint8)
        x0, y0 = 20 + 3 * i, 30
        img[y0 : y0 + 16, x0 : x0 + 20] = (220, 30, 30)
        m[y0 : y0 + 16, x0 : x0 + 20] = 1
        frames.append(write_image(root / f"{i + 1:08d}.jpg", img))
        masks.append(write_palette_mask(root / "masks" / f"{i + 1:08d}.png", m))
        boxes.append([x0, y0, x0 + 20, y0 + 16])
    absent = np.zeros(n, bool)
    absent[3] = True
    return SOTSequence("tgt", frames, np.array(boxes, np.float64), absent, masks=masks, image_size=(120, 80))


def test_sot_pairs_crop_geometry_and_masks(tmp_path):
    seq = _sot_sequence(tmp_path)
    ds = SOTPairDataset([seq], photometric_transform(), template_size=32, search_size=64, max_gap=4)
    torch.manual_seed(0)
    for i in range(len(ds)):
        s = ds[i]
        ti, si = s["frames"].tolist()
        assert ti != 3 and si != 3 and ti != si and abs(ti - si) <= 4
        # template crop: centred on the box, side = context_side -> 32 px
        side = np.sqrt((20 + 18) * (16 + 18))
        tb = s["template_box"].numpy()
        np.testing.assert_allclose((tb[:2] + tb[2:]) / 2, [16, 16], atol=1e-3)
        np.testing.assert_allclose(tb[2:] - tb[:2], np.array([20, 16]) * 32 / side, rtol=1e-4)
        for key, size in (("template", 32), ("search", 64)):
            assert s[key].shape == (3, size, size)
            ref = mask_boxes(s[f"{key}_mask"][None].numpy())[0]
            assert np.abs(ref - s[f"{key}_box"].numpy()).max() <= 1.0
    batch = collate([ds[0], ds[1]])
    assert batch["search"].shape == (2, 3, 64, 64) and batch["search_box"].shape == (2, 4)


def test_sot_clip_mode(tmp_path):
    seq = _sot_sequence(tmp_path)
    ds = SOTPairDataset(
        [seq], train_transform((40, 60), color_jitter=0.0, scale=None), mode="clip", clip_len=5
    )
    s = ds[1]  # frames 1..5, frame 3 absent
    assert s["images"].shape == (5, 3, 40, 60) and s["masks"].shape == (5, 40, 60)
    assert s["absent"].tolist() == [False, False, True, False, False]
    assert torch.isnan(s["boxes"][2]).all()
    for k in (0, 1, 3, 4):
        ref = mask_boxes(s["masks"][k : k + 1].numpy())[0]
        assert np.abs(ref - s["boxes"][k].numpy()).max() <= 1.0
    assert s["frames"].tolist() == [1, 2, 3, 4, 5]


def test_collate_stacks_equal_shapes_and_lists_the_rest():
    a = {"x": torch.zeros(2, 3), "b": torch.zeros(1, 4), "n": 1, "s": "a"}
    b = {"x": torch.ones(2, 3), "b": torch.zeros(3, 4), "n": 2, "s": "b"}
    out = collate([a, b])
    assert out["x"].shape == (2, 2, 3) and isinstance(out["b"], list) and out["n"].tolist() == [1, 2]
    assert out["s"] == ["a", "b"]

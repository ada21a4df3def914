"""Training windows for ensembles (SOTDataModule mode=window): frames, GT, and base-tracker boxes aligned."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.core.boxes import box_masks
from zoo.data.modules import SOTDataModule
from zoo.trackers.cache import tracker_outputs


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    cache = tmp_path_factory.mktemp("trackers")
    return SOTDataModule(mode="window", trackers=["kcf", "mosse"], window=3, image_size=(40, 64), batch_size=2,
                         num_workers=0, synth_preset="tiny", hflip=0.0, tracker_cache=str(cache))  # fmt: skip


def test_windows_hold_aligned_frames_masks_and_tracker_boxes(module):
    ds = module.train_dataset()
    seq = ds.sequences[0]
    assert len(ds) == sum(len(s) - 2 for s in ds.sequences)  # whole windows only
    s = ds[5]
    assert s["images"].shape == (3, 3, 40, 64) and s["masks"].shape == (3, 40, 64)
    assert s["channels"].shape == (3, 2, 4) and s["boxes"].shape == (3, 4)
    assert s["frames"].tolist() == [5, 6, 7] and s["name"] == seq.name
    h, w = (seq.image_size[1], seq.image_size[0]) if seq.image_size else (200, 256)
    scale = np.array([64 / w, 40 / h] * 2)
    kcf = tracker_outputs("kcf", seq, module.window_args["cache_dir"]).boxes
    assert np.allclose(s["channels"][:, 0].numpy(), kcf[5:8] * scale, atol=1e-4)
    assert np.allclose(s["boxes"].numpy(), seq.boxes[5:8] * scale, atol=1e-4)
    # the GT mask lies inside the GT box (nearest-neighbour resizing may shift its edge by a pixel)
    inside = box_masks(s["boxes"][-1] + torch.tensor([-1.0, -1.0, 1.0, 1.0]), 40, 64)
    assert (s["masks"][-1] * (1 - inside)).sum() == 0 and s["masks"][-1].sum() > 0


def test_a_flip_mirrors_images_masks_and_every_box(module):
    ds = module.train_dataset()
    torch.manual_seed(0)
    plain = ds[3]
    ds.hflip = 1.0
    try:
        torch.manual_seed(0)
        flipped = ds[3]
    finally:
        ds.hflip = 0.0
    assert torch.equal(flipped["images"], plain["images"].flip(-1))
    assert torch.equal(flipped["masks"], plain["masks"].flip(-1))
    for key in ("boxes", "channels"):
        b = plain[key]
        expect = torch.stack([64 - b[..., 2], b[..., 1], 64 - b[..., 0], b[..., 3]], -1)
        assert torch.allclose(flipped[key], expect)


def test_batches_and_errors(module, tmp_path):
    batch = next(iter(module.train_dataloader()))
    assert batch["images"].shape == (2, 3, 3, 40, 64) and batch["channels"].shape == (2, 3, 2, 4)
    with pytest.raises(ValueError, match="data.trackers"):
        SOTDataModule(mode="window", synth_preset="tiny")
    from zoo.data.ensemble import SOTWindowDataset

    seq = module.train_dataset().sequences[0]
    no_masks = type(seq)(seq.name, seq.frames, seq.boxes, seq.absent)
    with pytest.raises(ValueError, match=f"sequence {seq.name}: has no target masks"):
        SOTWindowDataset([no_masks], ["kcf"], cache_dir=tmp_path)
    broken = type(seq)(
        seq.name, seq.frames, seq.boxes, seq.absent, masks=[tmp_path / "missing.png"] * len(seq)
    )
    ds = SOTWindowDataset(
        [broken], ["kcf"], window=1, cache_dir=module.window_args["cache_dir"], progress=False
    )
    with pytest.raises(ValueError, match=rf"sequence {seq.name}, frame 1: cannot read the target mask"):
        ds[0]

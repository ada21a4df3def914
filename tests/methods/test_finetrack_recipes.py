"""The finetrack* recipes compose, instantiate their model and carry the paper settings."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from zoo.config import available_recipes, compose
from zoo.methods.finetrack import FineTrackModule

RECIPES = ["finetrack", "finetrack_mot17", "finetrack_mot20", "finetrack_dancetrack"]


def test_all_finetrack_recipes_are_shipped():
    assert sorted(n for n in available_recipes() if n.startswith("finetrack")) == sorted(RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_composes_and_instantiates_its_model(name):
    cfg = compose([f"recipe={name}", "model.pretrained=false"])  # tests never download weights
    assert cfg.method == "finetrack"
    model = instantiate(cfg.model)
    assert isinstance(model, FineTrackModule)
    hp = model.hparams
    # the paper's constants at every scale
    assert (hp.num_parts, hp.heads, hp.part_dim, hp.global_dim) == (6, 4, 128, 256)
    assert (hp.alpha, hp.beta, hp.gamma, hp.label_smoothing, hp.triplet_margin) == (None, 0.3, 2.0, 0.1, 0.3)
    assert model.criterion.alpha == 3.0
    tracker_cfg = model.tracker_config()
    for key, value in {
        "track_thresh": 0.6,
        "low_thresh": 0.1,
        "new_track_thresh": 0.7,
        "track_buffer": 30,
        "match_thresh": 0.8,
        "second_match_thresh": 0.5,
        "unconfirmed_match_thresh": 0.7,
        "duplicate_thresh": 0.15,
        "feature_momentum": 0.9,
    }.items():
        assert tracker_cfg[key] == value, key
    assert hp.input_size == list(OmegaConf.to_container(cfg.data.image_size, resolve=True))
    assert cfg.data._target_ == "zoo.data.modules.MOTDataModule"


def test_cpu_recipe_trains_on_zoosynth():
    cfg = compose(["recipe=finetrack"])
    assert cfg.data.benchmark == "synth_mot" and cfg.data.root is None
    assert cfg.model.trunk == "resnet18" and cfg.trainer.accelerator == "cpu"


@pytest.mark.parametrize(
    ("name", "benchmark"),
    [("finetrack_mot17", "mot17"), ("finetrack_mot20", "mot20"), ("finetrack_dancetrack", "dancetrack")],
)
def test_paper_recipes_use_the_paper_setting(name, benchmark):
    cfg = compose([f"recipe={name}"])
    assert cfg.data.benchmark == benchmark
    assert list(cfg.data.image_size) == [608, 1088]
    assert cfg.model.trunk == "resnet50" and cfg.model.pretrained is True
    assert cfg.model.fpn_dim == 256 and list(cfg.model.roi_size) == [16, 8]
    assert cfg.trainer.strategy == "ddp" and cfg.trainer.accelerator == "gpu"


def test_bytetrack_per_sequence_overrides():
    mot17 = OmegaConf.to_container(compose(["recipe=finetrack_mot17"]).model.tracker, resolve=True)
    per = mot17["per_sequence"]
    assert per["MOT17-05"]["track_buffer"] == 14 and per["MOT17-06"]["track_buffer"] == 14
    assert per["MOT17-13"]["track_buffer"] == 25 and per["MOT17-14"]["track_buffer"] == 25
    thresh = {k: v.get("track_thresh") for k, v in per.items() if "track_thresh" in v}
    assert thresh == {"MOT17-01": 0.65, "MOT17-06": 0.65, "MOT17-12": 0.7, "MOT17-14": 0.67}
    # ByteTrack starts tracks above track_thresh + 0.1
    for v in per.values():
        if "track_thresh" in v:
            assert v["new_track_thresh"] == pytest.approx(v["track_thresh"] + 0.1)
    assert mot17["fuse_score"] is True

    mot20 = OmegaConf.to_container(compose(["recipe=finetrack_mot20"]).model.tracker, resolve=True)
    assert mot20["per_sequence"] == {
        "MOT20-06": {"track_thresh": 0.3, "new_track_thresh": 0.4},
        "MOT20-08": {"track_thresh": 0.3, "new_track_thresh": 0.4},
    }
    assert mot20["fuse_score"] is False  # ByteTrack's --mot20


@pytest.mark.slow
def test_paper_size_model_one_batch_smoke_on_cpu():
    """ResNet-50 + FAFPN(256) + MPMG at 608x1088 on two frames: forward, losses, backward, one step."""
    torch.manual_seed(0)
    cfg = compose(["recipe=finetrack_mot17", "model.pretrained=false", "model.num_identities=20"])
    module = instantiate(cfg.model)
    module.train()
    boxes = [
        torch.tensor([[100.0 + 60 * i, 200, 150 + 60 * i, 330] for i in range(10)]) + 3 * t for t in range(2)
    ]
    batch = {"image": torch.randn(2, 3, 608, 1088), "boxes": boxes, "ids": [torch.arange(10)] * 2}
    optimizer = module.make_optimizer()
    losses = module.compute_losses(batch)
    losses["loss"].backward()
    optimizer.step()
    assert torch.isfinite(losses["loss"])
    out = module.net(batch["image"][:1], boxes[:1])
    assert out.embeddings.shape == (10, 6 * 128 + 256) and out.masks.shape == (10, 6, 16, 8)

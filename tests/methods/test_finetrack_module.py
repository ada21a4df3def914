"""FineTrackModule: optimisation, identity space from the datamodule, checkpoints, schedule, registry."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

import zoo
from zoo.methods.finetrack import FineTrackModule, FineTrackTracker
from zoo.registry import get_method

SMALL = {"trunk": "resnet18", "fpn_dim": 32, "roi_size": [8, 4], "attn_dim": 16, "input_size": [64, 96]}


def _batch(seed: int = 0, frames: int = 3, ids: int = 4) -> dict:
    """An SGS-like batch: ``frames`` consecutive frames, the same ``ids`` people in each, boxes drifting."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(frames, 3, 64, 96, generator=g)
    base = torch.tensor([[4.0, 4, 24, 56], [28, 6, 46, 60], [50, 2, 70, 58], [72, 8, 92, 62]])[:ids]
    boxes = [base + 1.5 * t for t in range(frames)]
    boxes = [b.clamp(0, 95) for b in boxes]
    labels = [torch.arange(ids) for _ in range(frames)]
    return {"image": images, "boxes": boxes, "ids": labels}


def _first_step(**overrides) -> tuple[FineTrackModule, dict, dict, list[str]]:
    """One AdamW step on a fixed batch: (module, losses before, losses after, parameters without gradient)."""
    torch.manual_seed(0)
    # (a random-init net is sharp along the gradient: AdamW at 1e-3 can overshoot on the first step)
    module = FineTrackModule(**SMALL, num_identities=4, lr=1e-4, **overrides)
    module.train()
    batch = _batch()
    optimizer = module.make_optimizer()
    before = module.compute_losses(batch)
    optimizer.zero_grad()
    before["loss"].backward()
    dead = [
        n for n, p in module.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.any())
    ]
    optimizer.step()
    return module, before, module.compute_losses(batch), dead


def test_one_optimisation_step_lowers_the_loss_on_a_fixed_batch():
    module, before, after, dead = _first_step()
    # every trainable parameter outside the trunk is reached by the loss (FAM flow heads, all MPMG branches,
    # classifiers); inside it timm zero-initialises each residual block's last BN scale, so only the stem
    # and those scales get gradients on the very first step
    assert [n for n in dead if not n.startswith("net.trunk.")] == []
    assert "net.trunk.body.conv1.weight" in dict(module.named_parameters()) and "net.trunk.body.conv1.weight" not in dead
    assert after["loss"].item() < before["loss"].item()
    assert set(before) == {"loss", "cls_part", "tri_part", "cls_global", "tri_global", "div"}


@pytest.mark.parametrize("overrides", [{"num_parts": 1}, {"gamma": 0.0}], ids=["K=1", "no-L_div"])
def test_ablation_overrides_train(overrides):
    """The ablations the docs list (``model.num_parts=1``, ``model.gamma=0``) build, step and lower the loss;
    K=1 has alpha = 0.5 K = 0.5 and no diversity term."""
    module, before, after, _ = _first_step(**overrides)
    assert after["loss"].item() < before["loss"].item()
    crit = module.criterion
    if overrides.get("num_parts") == 1:
        assert crit.alpha == 0.5 and before["div"].item() == 0.0
        assert module.net.embedding_dim == 128 + 256
    else:
        div_free = crit.alpha * (before["cls_part"] + before["tri_part"]) + crit.beta * (
            before["cls_global"] + before["tri_global"]
        )
        assert before["loss"].item() == pytest.approx(div_free.item(), rel=1e-6)


def test_stacked_batch_fields_and_tiny_batches():
    torch.manual_seed(0)
    module = FineTrackModule(**SMALL, num_identities=4)
    batch = _batch()
    stacked = {**batch, "boxes": torch.stack(batch["boxes"]), "ids": torch.stack(batch["ids"])}
    torch.manual_seed(1)
    a = module.compute_losses(batch)["loss"]
    torch.manual_seed(1)
    b = module.compute_losses(stacked)["loss"]
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    one = {"image": batch["image"][:1], "boxes": [batch["boxes"][0][:1]], "ids": [torch.tensor([0])]}
    zero = module.compute_losses(one)["loss"]
    assert zero.item() == 0.0 and zero.requires_grad


def test_lr_schedule_warmup_cosine_and_step():
    module = FineTrackModule(**SMALL, num_identities=2, warmup_fraction=0.1)
    f = [module.lr_factor(s, 100) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert f[10] == pytest.approx(1.0) and f[-1] == pytest.approx(0.01, abs=1e-3)
    assert all(a >= b for a, b in zip(f[10:], f[11:]))
    step = FineTrackModule(**SMALL, num_identities=2, lr_schedule="step", warmup_fraction=0.0)
    assert [step.lr_factor(s, 100) for s in (0, 59, 60, 84, 85)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    with pytest.raises(ValueError, match="optimizer"):
        FineTrackModule(**SMALL, optimizer="lamb")


class _FakeMOTData(L.LightningDataModule):
    """Stands in for MOTDataModule: a global identity space and SGS-like batches."""

    num_identities = 6

    def train_dataloader(self) -> DataLoader:
        return DataLoader([_batch(seed=i) for i in range(2)], batch_size=None)


def test_fit_takes_identities_from_datamodule_and_checkpoint_round_trips(tmp_path):
    torch.manual_seed(0)
    module = FineTrackModule(
        **SMALL, tracker={"track_buffer": 12, "per_sequence": {"A": {"track_thresh": 0.5}}}
    )
    assert module.net.classifiers is None
    trainer = L.Trainer(
        max_steps=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(module, datamodule=_FakeMOTData())
    assert module.net.classifiers.num_identities == 6
    assert module.hparams.num_identities == 6
    path = tmp_path / "m.ckpt"
    trainer.save_checkpoint(path)

    raw = torch.load(path, map_location="cpu", weights_only=True)  # plain containers only
    assert raw["zoo"] == {"method": "finetrack", "task": "mot", "version": zoo.__version__}
    json.dumps(dict(raw["hyper_parameters"]))  # the Hub config must be JSON
    assert raw["hyper_parameters"]["num_identities"] == 6

    loaded = FineTrackModule.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    assert loaded.net.classifiers.num_identities == 6
    module.eval()
    loaded.eval()
    batch = _batch(seed=5)
    torch.testing.assert_close(
        loaded.net.embed(batch["image"], batch["boxes"]), module.net.embed(batch["image"], batch["boxes"])
    )
    tracker = loaded.tracker()
    assert isinstance(tracker, FineTrackTracker)
    assert tracker.config["track_buffer"] == 12 and tracker.per_sequence == {"A": {"track_thresh": 0.5}}
    assert tracker.input_size == (64, 96)
    assert loaded.tracker(track_thresh=0.7).config["track_thresh"] == 0.7


def test_setup_without_identity_source_explains():
    module = FineTrackModule(**SMALL)
    trainer = L.Trainer(
        max_steps=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    loader = DataLoader([_batch()], batch_size=None)
    with pytest.raises(ValueError, match="num_identities"):
        trainer.fit(module, train_dataloaders=loader)


def test_registered_as_finetrack():
    spec = get_method("finetrack")
    assert spec.cls is FineTrackModule and spec.task == "mot" and spec.kind == "method"
    assert spec.default_recipe == "finetrack" and "CVPR 2023" in spec.paper


def test_unknown_tracker_key_is_rejected():
    with pytest.raises(ValueError, match="trak_buffer"):
        FineTrackModule(**SMALL, tracker={"trak_buffer": 3})
    with pytest.raises(ValueError, match="per_sequence"):
        FineTrackModule(**SMALL, tracker={"per_sequence": {"MOT20-06": {"thresh": 0.3}}})


def test_tracker_config_and_input_contract_are_json():
    module = FineTrackModule(
        **SMALL, tracker={"fuse_score": False, "per_sequence": {"X": {"track_buffer": 5}}}
    )
    cfg = module.tracker_config()
    assert (
        cfg["fuse_score"] is False
        and cfg["match_thresh"] == 0.8
        and cfg["per_sequence"] == {"X": {"track_buffer": 5}}
    )
    contract = module.input_contract()
    assert contract["image_size"] == [64, 96] and contract["mean"] == [0.485, 0.456, 0.406]
    json.dumps(cfg)
    json.dumps(contract)

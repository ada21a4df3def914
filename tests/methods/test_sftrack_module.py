"""SFTrack++ as a zoo method: registry, recipes and their phases, each phase's optimisation step, the online
SOT tracker (bounded memory, bad input), and a tiny three-phase fit + evaluate end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from tests.methods.sftrack_fixtures import TINY_SFTRACK
from zoo.config import available_recipes, compose
from zoo.methods.sftrack import SFTrackModule
from zoo.methods.sftrack.module import PHASE_PARTS
from zoo.registry import get_method
from zoo.tasks.protocols import SOTTracker

RECIPES = ["sftrack", "sftrack_got10k"]
SEVEN = ["csrt", "kcf", "mil", "mosse", "medianflow", "boosting", "tld"]
SMALL = {"feat2seg_widths": [4, 8], "seg2box_widths": [2, 4], "image_size": [24, 32]}


def test_registered_as_an_sot_method():
    spec = get_method("sftrack")
    assert spec.cls is SFTrackModule and spec.task == "sot" and spec.kind == "method"
    assert spec.default_recipe == "sftrack"


def test_recipes_are_shipped():
    assert sorted(n for n in available_recipes() if n.startswith("sftrack")) == RECIPES


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_composes_with_three_phases_and_the_paper_constants(name):
    cfg = compose([f"recipe={name}"])
    assert cfg.method == "sftrack" and list(cfg.phases) == ["feat2seg", "spectral", "seg2box"]
    assert [cfg.phases[p].model.phase for p in cfg.phases] == [1, 2, 3]
    model = instantiate(cfg.model)
    s = model.net.settings
    assert (s.kernel, s.p, s.alpha, s.pos_weight) == ((3, 5, 5), 0.1, 0.5, 5.0)
    assert 1 <= s.iterations <= 2 and s.share_pairwise and s.post_unet_widths == ()
    assert s.seg2box_skip and model.net.seg2box.skip  # the zoo's choice where the paper is silent
    assert list(model.hparams.trackers) == SEVEN and cfg.data.mode == "window"
    card = model.tracker_config()
    for key in ("window", "post_unet_widths", "iterations", "trackers", "box_mode", "box_from"):
        assert key in card


def test_paper_recipe_is_the_paper_setting():
    cfg = compose(["recipe=sftrack_got10k"])
    assert list(cfg.model.feat2seg_widths) == [16, 32, 64, 128] and list(cfg.model.seg2box_widths) == [
        8,
        16,
        32,
        64,
    ]
    assert cfg.trainer.strategy == "ddp" and cfg.trainer.accelerator == "gpu"
    assert cfg.phases.seg2box.data.benchmark == "got10k" and cfg.phases.seg2box.data.with_masks is False


def test_each_phase_trains_only_its_parts():
    for phase, parts in PHASE_PARTS.items():
        model = SFTrackModule(trackers=["kcf", "mosse"], phase=phase, **SMALL)
        trainable = {n.split(".")[1] for n, p in model.named_parameters() if p.requires_grad}
        assert trainable == {p for p in parts if getattr(model.net, p) is not None}


def _batch(b=2, t=3, k=2, h=24, w=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(b, t, 3, h, w, generator=g) * 0.2
    masks = torch.zeros(b, t, h, w)
    images[..., 6:18, 8:22] += 0.7  # a bright object, its mask and box
    masks[..., 6:18, 8:22] = 1
    boxes = torch.tensor([8.0, 6.0, 22.0, 18.0]).expand(b, t, 4).clone()
    chans = (boxes[:, :, None] + torch.randn(b, t, k, 4, generator=g)).clone()
    return {"images": images, "masks": masks, "boxes": boxes, "channels": chans}


@pytest.mark.parametrize("phase,skip", [(1, False), (2, False), (3, False), (3, True)])
def test_one_optimisation_step_lowers_the_phase_loss(phase, skip):
    torch.manual_seed(0)
    model = SFTrackModule(trackers=["kcf", "mosse"], phase=phase, lr=1e-2, seg2box_skip=skip, **SMALL)
    opt = model.configure_optimizers()["optimizer"]
    batch = _batch()
    model.train()
    before = model.phase_losses(batch)["loss"].detach()
    for _ in range(3):
        opt.zero_grad()
        model.phase_losses(batch)["loss"].backward()
        opt.step()
    model.eval()  # BatchNorm statistics of the same batch: the comparison is of the weights alone
    with torch.no_grad():
        after = model.phase_losses(batch)["loss"]
        model.train()
        after_train = model.phase_losses(batch)["loss"]
    assert float(after_train) < float(before), (float(before), float(after_train), float(after))


def test_phase_one_curriculum_switches_from_gt_to_tracker_boxes(monkeypatch):
    model = SFTrackModule(trackers=["kcf", "mosse"], phase=1, gt_box_steps=1, **SMALL)
    monkeypatch.setattr(SFTrackModule, "global_step", property(lambda self: 0))
    assert float(model.phase_losses(_batch())["gt_boxes"]) == 1.0
    monkeypatch.setattr(SFTrackModule, "global_step", property(lambda self: 5))  # past the curriculum
    assert float(model.phase_losses(_batch())["gt_boxes"]) == 0.0


def test_init_from_loads_the_previous_phase_and_is_not_needed_to_load_later(tmp_path):
    torch.manual_seed(0)
    first = SFTrackModule(trackers=["kcf", "mosse"], phase=1, **SMALL)
    path = tmp_path / "p1.ckpt"
    torch.save({"state_dict": first.state_dict()}, path)
    second = SFTrackModule(trackers=["kcf", "mosse"], phase=2, init_from=str(path), **SMALL)
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key])
    ckpt = {"hyper_parameters": dict(second.hparams)}
    second.on_save_checkpoint(ckpt)
    assert ckpt["hyper_parameters"]["init_from"] is None and ckpt["zoo"]["method"] == "sftrack"
    other = SFTrackModule(trackers=["kcf"], phase=2, **SMALL)  # one channel: a different network
    torch.save({"state_dict": other.state_dict()}, path)
    with pytest.raises(ValueError, match="does not fit"):
        SFTrackModule(trackers=["kcf", "mosse"], phase=2, init_from=str(path), **SMALL)


def test_phase_three_keeps_its_own_seg2box_over_an_earlier_phase_random_one(tmp_path):
    torch.manual_seed(0)
    two = SFTrackModule(trackers=["kcf", "mosse"], phase=2, **SMALL)  # plain seg2box, never trained
    path = tmp_path / "p2.ckpt"
    torch.save({"state_dict": two.state_dict(), "hyper_parameters": {"phase": 2}}, path)
    three = SFTrackModule(trackers=["kcf", "mosse"], phase=3, init_from=str(path), seg2box_skip=True, **SMALL)
    for key, value in two.state_dict().items():
        if not key.startswith("net.seg2box."):
            assert torch.equal(value, three.state_dict()[key]), key
    assert float(three.net.seg2box.head.weight.abs().sum()) == 0.0  # its own zero-initialised head
    # a phase-3 checkpoint's seg2box was trained: continuing from it loads it too
    torch.save({"state_dict": three.state_dict(), "hyper_parameters": {"phase": 3}}, path)
    with torch.no_grad():
        three.net.seg2box.head.weight.fill_(0.5)
    torch.save({"state_dict": three.state_dict(), "hyper_parameters": {"phase": 3}}, path)
    again = SFTrackModule(trackers=["kcf", "mosse"], phase=3, init_from=str(path), seg2box_skip=True, **SMALL)
    assert torch.equal(again.net.seg2box.head.weight, three.net.seg2box.head.weight)


# ------------------------------------------------------------------------------------------------ tracker
def _frames(n=10, h=60, w=80):
    rng = np.random.default_rng(0)
    bg = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
    out = []
    for t in range(n):
        f = bg.copy()
        f[15:40, 10 + 2 * t : 35 + 2 * t] = (240, 180, 30)
        out.append(f)
    return out


def test_tracker_speaks_the_sot_protocol_with_a_mask_and_bounded_memory():
    torch.manual_seed(0)
    model = SFTrackModule(trackers=["kcf", "mosse"], phase=3, window=3, **SMALL)
    tracker = model.tracker()
    assert isinstance(tracker, SOTTracker)
    frames = _frames()
    tracker.init(frames[0], np.array([10.0, 15.0, 35.0, 40.0]))
    for f in frames[1:]:
        out = tracker.step(f)
        assert out.box.shape == (4,) and np.isfinite(out.box).all()
        assert out.mask.shape == f.shape[:2] and out.mask.dtype == bool
        assert len(tracker._maps) <= 3
    assert len(tracker._maps) == 3
    for box_from in ("mask", "seg2box"):
        t = model.tracker(box_from=box_from, iterations=0)
        t.init(frames[0], np.array([10.0, 15.0, 35.0, 40.0]))
        assert t.step(frames[1]).box.shape == (4,)


def test_tracker_refuses_bad_input():
    model = SFTrackModule(trackers=["kcf", "mosse"], **SMALL)
    tracker = model.tracker()
    with pytest.raises(RuntimeError, match="before init"):
        tracker.step(_frames(1)[0])
    with pytest.raises(ValueError, match="positive size"):
        tracker.init(_frames(1)[0], np.array([10.0, 10.0, 10.0, 30.0]))
    with pytest.raises(TypeError, match="unknown SFTrack"):
        model.tracker(windw=3)
    with pytest.raises(ValueError, match="phase"):
        SFTrackModule(phase=4)
    no_masks = {k: v for k, v in _batch().items() if k != "masks"}
    with pytest.raises(ValueError, match="phase 2 is supervised by target masks"):
        SFTrackModule(trackers=["kcf", "mosse"], phase=2, **SMALL).phase_losses(no_masks)
    SFTrackModule(trackers=["kcf", "mosse"], phase=3, **SMALL).phase_losses(no_masks)  # boxes suffice


# ------------------------------------------------------------------------------------------- end to end
def test_tiny_three_phase_fit_resume_and_evaluate(tmp_path, monkeypatch):
    """The recipe's three phases on ZooSynth tiny, each in its own folder with its own checkpoint; a
    re-run resumes (finished phases are skipped); the final model lands in the run folder and zoo.evaluate
    scores it exactly as the training-time evaluation did."""
    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config
    from zoo.train import load_config, run

    monkeypatch.delenv("ZOO_RUN_DIR", raising=False)
    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "data"))
    run_dir = tmp_path / "run"
    cfg = compose([*TINY_SFTRACK, f"run_dir={run_dir}", "progress=none"])
    assert run(cfg) == run_dir
    for i, phase in enumerate(["feat2seg", "spectral", "seg2box"]):
        ck = torch.load(run_dir / phase / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
        assert ck["hyper_parameters"]["phase"] == i + 1 and ck["zoo"]["method"] == "sftrack"
        assert (run_dir / phase / "phase_done.json").is_file()
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["method"] == "sftrack" and 0.0 <= doc["metrics"]["AO"] <= 1.0
    # resume=RUN_DIR after the end: nothing left to train, every phase is skipped
    cfg2, _ = load_config([f"resume={run_dir}"])
    mtime = (run_dir / "seg2box" / "checkpoints" / "last.ckpt").stat().st_mtime_ns
    run(cfg2)
    assert (run_dir / "seg2box" / "checkpoints" / "last.ckpt").stat().st_mtime_ns == mtime
    ecfg = evaluate_config(
        [f"model={run_dir / 'checkpoints' / 'last.ckpt'}", "data=synth_sot", "data.synth_preset=tiny",
         f"out={tmp_path / 'eval'}", "progress=false", "plots=false"]
    )  # fmt: skip
    (result,) = evaluate(ecfg)
    for key in ("AO", "SR0.5", "success_auc"):
        assert result.metrics[key] == pytest.approx(doc["metrics"][key], abs=1e-9)


def test_a_phase_interrupted_midway_resumes_from_its_own_checkpoint(tmp_path, monkeypatch):
    from zoo.train import load_config, run

    monkeypatch.delenv("ZOO_RUN_DIR", raising=False)
    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "data"))
    run_dir = tmp_path / "run"
    base = [*TINY_SFTRACK, "callbacks.tracking_eval=null", f"run_dir={run_dir}", "progress=none"]
    run(compose([*base, "phase=feat2seg"]))  # phase 1 alone
    assert (run_dir / "feat2seg" / "phase_done.json").is_file() and not (run_dir / "spectral").exists()
    # phase 2 stops after one of its two epochs (as a killed job would, with last.ckpt written)
    run(compose([*base, "phase=spectral", "+phases.spectral.trainer.max_epochs=1"]))
    (run_dir / "spectral" / "phase_done.json").unlink()
    first = torch.load(
        run_dir / "spectral" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True
    )
    cfg, _ = load_config([f"resume={run_dir}", "phase=null", "phases.spectral.trainer.max_epochs=2"])
    run(cfg)
    second = torch.load(
        run_dir / "spectral" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True
    )
    assert second["epoch"] == first["epoch"] + 1  # continued, not restarted
    assert (run_dir / "seg2box" / "phase_done.json").is_file()
    # phase 3 started from phase 2's final weights
    p3 = torch.load(run_dir / "seg2box" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert p3["hyper_parameters"]["init_from"] is None
    with pytest.raises(Exception, match="phases are"):
        run(compose([*base, "phase=nope"]))


def test_cached_base_trackers_give_the_live_result(tmp_path):
    """Through the SOT runner's begin_sequence hook the tracker reads the base trackers' boxes from the
    cache; the outputs equal stepping them live (each starts from the same first box)."""
    import cv2

    from zoo.data.types import SOTSequence

    frames = _frames(8)
    paths = []
    for i, f in enumerate(frames):
        paths.append(tmp_path / f"{i:04d}.png")
        cv2.imwrite(str(paths[-1]), f[:, :, ::-1])
    box0 = np.array([10.0, 15.0, 35.0, 40.0])
    boxes = np.tile(box0, (8, 1))
    seq = SOTSequence("moving", paths, boxes, np.zeros(8, bool))
    torch.manual_seed(0)
    model = SFTrackModule(trackers=["kcf", "medianflow"], phase=3, window=3, **SMALL)
    outs = {}
    for cached in (False, True):
        tracker = model.tracker(cache=cached, cache_dir=str(tmp_path / "cache"))
        tracker.begin_sequence(seq)
        tracker.init(frames[0], box0)
        assert (tracker._cached is not None) == cached and (len(tracker._trackers) == 0) == cached
        outs[cached] = [tracker.step(f) for f in frames[1:]]
    for live, cached in zip(outs[False], outs[True], strict=True):
        assert np.allclose(live.box, cached.box) and np.array_equal(live.mask, cached.mask)


def test_parts_an_earlier_phase_trained_are_fine_tuned_at_a_lower_rate():
    model = SFTrackModule(trackers=["kcf", "mosse"], phase=3, lr=1e-2, finetune_lr_scale=0.1, **SMALL)
    groups = model.configure_optimizers()["optimizer"].param_groups
    new = {id(p) for p in model.net.seg2box.parameters()}
    assert [g["lr"] for g in groups] == [1e-2, pytest.approx(1e-3)]
    assert {id(p) for p in groups[0]["params"]} == new
    assert {id(p) for p in model.net.feat2seg.parameters()} <= {id(p) for p in groups[1]["params"]}
    first = SFTrackModule(trackers=["kcf", "mosse"], phase=1, **SMALL).configure_optimizers()["optimizer"]
    assert len(first.param_groups) == 1


@pytest.mark.ddp
def test_tiny_ddp_three_phase_fit_metrics_equal_single_process_evaluate(tmp_path):
    """Two CPU ranks (gloo) through all three phases: each relaunched rank joins the phase rank 0 trains, and
    the final training-time AO equals a single-process zoo.evaluate of the checkpoint."""
    import os
    import subprocess
    import sys

    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config

    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("ZOO_RUN_DIR", "ZOO_PHASE")}
    env["ZOO_DATA"] = str(tmp_path / "data")
    cmd = [
        sys.executable,
        "-m",
        "zoo.train",
        *TINY_SFTRACK,
        "trainer=ddp_cpu",
        f"run_dir={run_dir}",
        "progress=none",
    ]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["hardware"]["world_size"] == 2 and doc["method"] == "sftrack"
    assert all((run_dir / p / "phase_done.json").is_file() for p in ("feat2seg", "spectral", "seg2box"))
    assert not (run_dir / "seg2box" / "seg2box").exists()  # no rank nested a phase inside a phase
    os.environ["ZOO_DATA"], saved = str(tmp_path / "data"), os.environ.get("ZOO_DATA")
    try:
        (result,) = evaluate(
            evaluate_config(
                [
                    f"model={run_dir / 'checkpoints' / 'last.ckpt'}",
                    "data=synth_sot",
                    "data.synth_preset=tiny",
                    f"out={tmp_path / 'eval'}",
                    "progress=false",
                    "plots=false",
                ]
            )  # fmt: skip
        )
    finally:
        if saved is not None:
            os.environ["ZOO_DATA"] = saved
    for key in ("AO", "SR0.5", "success_auc"):
        assert result.metrics[key] == pytest.approx(doc["metrics"][key], abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["feat2seg", "spectral", "seg2box"])
def test_one_paper_size_training_step(phase, tmp_path):
    """Each phase of the paper recipe, as composed (full-width U-Nets, seven channels, its window, 256 x 448
    frames), takes one optimisation step on CPU. Two samples per batch, not the recipe's 8 (64 in phase 1):
    the step's activations, not the code, are what a GPU is for."""
    from zoo.train import phase_config

    cfg = phase_config(compose(["recipe=sftrack_got10k"]), phase, tmp_path)
    model = instantiate(cfg.model)
    opt = model.configure_optimizers()["optimizer"]
    h, w = cfg.data.image_size
    t, k = int(cfg.data.window), len(cfg.model.trackers)
    assert (h, w, k) == (256, 448, 7) and t == (1 if phase == "feat2seg" else 5)
    batch = _batch(b=2, t=t, k=k, h=h, w=w)
    batch["images"][..., 60:200, 100:300] += 0.7
    batch["masks"][..., 60:200, 100:300] = 1
    batch["boxes"][:] = torch.tensor([100.0, 60.0, 300.0, 200.0])
    batch["channels"] = batch["boxes"][:, :, None] + 5 * torch.randn(2, t, k, 4)
    if phase == "seg2box":
        del batch["masks"]  # phase 3 trains from GOT-10k boxes alone
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    model.train()
    loss = model.phase_losses(batch)["loss"]
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    moved = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert moved and {n.split(".")[1] for n in moved} == {n.split(".")[1] for n in before}

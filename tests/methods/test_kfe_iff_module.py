"""KFE+IFF / SUSHI modules: registry, recipes, the tracker protocol, IFF b = 0 equals SUSHI, the oracle,
clip planning and merging, bad inputs, and a tiny fit + evaluate end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.methods.kfe_iff_fixtures import walkers
from zoo.config import available_recipes, compose
from zoo.methods.kfe_iff import KfeIffModule, SushiModule
from zoo.methods.kfe_iff.tracker import clip_spans, interpolate_tracks, kfe_clip_spans
from zoo.registry import get_method
from zoo.tasks.protocols import OfflineMOTTracker

SMALL_APP = {"kind": "timm", "model": "resnet18", "pretrained": False, "crop_size": [32, 16], "out_dim": 16,
             "seed": 0}
RECIPES = ["kfe_iff", "kfe_iff_mot17", "sushi", "sushi_mot17"]


def test_registered_as_mot_methods():
    for name, cls in (("kfe_iff", KfeIffModule), ("sushi", SushiModule)):
        spec = get_method(name)
        assert spec.cls is cls and spec.task == "mot" and spec.kind == "method" and spec.default_recipe == name


def test_recipes_are_shipped():
    names = available_recipes()
    assert all(r in names for r in RECIPES)


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_composes_and_instantiates(name):
    cfg = compose([f"recipe={name}", "model.appearance.pretrained=false", "model.appearance.model=resnet18"])
    model = instantiate(cfg.model)
    assert isinstance(model, SushiModule if name.startswith("sushi") else KfeIffModule)
    hp = model.hparams
    assert cfg.data._target_ == "zoo.data.graphs.GraphDataModule"
    assert hp.focal_gamma == 1.0 and hp.weight_decay == 1e-4 and hp.node_input == "zeros"
    net = model.net
    assert (net.cfg.top_k, net.cfg.threshold, net.cfg.prune) == (10, 0.5, "reciprocal")
    mpn = net.mpn0
    assert (mpn.steps, mpn.classify_last, mpn.node_dim, mpn.edge_dim) == (12, 11, 32, 16)
    assert mpn.edge_encoder[0].in_features == 6 and net.mpn_up.edge_encoder[0].in_features == 7
    paper = name.endswith("mot17")
    assert net.cfg.num_levels == (9 if paper else 5)
    assert model.tracker_config()["clip_len"] == (512 if paper else 32)
    if paper:
        assert hp.lr == 3e-4 and hp.level_unlock_every == 500 and cfg.trainer.strategy == "ddp"
        assert cfg.data.clips_per_batch == 8 and cfg.trainer.max_epochs == 250
    if name.startswith("kfe_iff"):
        assert hp.iff["mode"] == "gcn" and hp.iff["b"] == 0.1 and hp.kfe["min_len"] == 8
        assert hp.kfe["max_len"] == (512 if paper else 32)
    else:
        assert hp.iff is None and hp.kfe is None
    data = OmegaConf.to_container(cfg.data, resolve=True)
    assert data["appearance"] == OmegaConf.to_container(cfg.model.appearance, resolve=True)


@pytest.mark.parametrize("name", RECIPES)
def test_external_detections_are_a_plain_override(name, tmp_path):
    """``data.detections=PATH`` (an external detector's MOTChallenge files) and ``data.train_detections`` need
    no ``+``: the recipes declare them."""
    for split in ("train", "val", "test"):
        (tmp_path / split).mkdir()
    cfg = compose([f"recipe={name}", "model.appearance.pretrained=false", f"data.detections={tmp_path}",
                   "data.train_detections=gt", f"data.root={tmp_path}"])
    assert cfg.data.detections == str(tmp_path) and cfg.data.train_detections == "gt"
    dm = instantiate(cfg.data)
    assert dm.detections == tmp_path and dm._train_source() == "gt"


def test_clip_spans_cover_and_overlap():
    spans = clip_spans(100, 32, 0.5)
    assert spans[0] == (1, 32) and spans[-1][1] == 100
    assert all(b[0] == a[0] + 16 for a, b in zip(spans, spans[1:]))
    assert clip_spans(10, 32, 0.5) == [(1, 10)]
    segs = np.array([[0, 9], [10, 29], [30, 39]])
    assert kfe_clip_spans(segs, 0.5) == [(1, 20), (11, 35), (31, 40)]


def test_interpolation_fills_gaps_linearly():
    f, i, b, s = interpolate_tracks(np.array([1, 4, 2]), np.array([1, 1, 2]),
                                    np.array([[0, 0, 10, 10], [30, 0, 40, 10], [5, 5, 6, 6]], float),
                                    np.array([1.0, 0.4, 1.0]))
    np.testing.assert_array_equal(f, [1, 2, 3, 4, 2])
    np.testing.assert_allclose(b[1], [10, 0, 20, 10])
    np.testing.assert_allclose(s[:4], [1.0, 0.8, 0.6, 0.4])
    f2, *_ = interpolate_tracks(np.array([1, 4]), np.array([1, 1]), np.zeros((2, 4)), np.ones(2), max_gap=1)
    assert f2.tolist() == [1, 4]


class _Seq:
    """The fields of MOTSequence the tracker reads (features are injected, so no images are needed)."""

    def __init__(self, n, gt=None):
        from zoo.data.types import SeqInfo

        self.info = SeqInfo("HAND-01", "img1", 10.0, n, 640, 480, ".jpg")
        self.name, self.gt = "HAND-01", gt


def _detections(clip):
    from zoo.tasks.protocols import Detections

    out = {}
    for t in range(1, clip.length + 1):
        sel = clip.frames == t
        out[t] = Detections(clip.boxes[sel], np.ones(int(sel.sum())))
    return out


def _inject(tracker, clip):
    order = np.argsort(clip.frames, kind="stable")
    tracker.sequence_features = lambda seq, rows: clip.feat.numpy()[order]
    return tracker


def test_iff_with_b_zero_tracks_exactly_like_sushi():
    torch.manual_seed(0)
    clip = walkers(seed=5, frames=40, people=6, dim=16, false_positives=5)
    sushi = SushiModule(appearance=SMALL_APP, hierarchy={"num_levels": 5}, tracker={"clip_len": 32})
    kfe_iff = KfeIffModule(appearance=SMALL_APP, hierarchy={"num_levels": 5}, tracker={"clip_len": 32},
                           iff={"mode": "gcn", "b": 0.0}, kfe=None)
    missing, unexpected = kfe_iff.load_state_dict(sushi.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("net.iff.") for k in missing)
    a = _inject(sushi.tracker(), clip).track_sequence(_Seq(40), _detections(clip))
    b = _inject(kfe_iff.tracker(), clip).track_sequence(_Seq(40), _detections(clip))
    assert len(a) > 0
    for field in ("frames", "ids", "boxes", "scores"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert isinstance(sushi.tracker(), OfflineMOTTracker)


def _gt_rows(clip):
    from zoo.data.types import MOTRows

    n = len(clip)
    return MOTRows(clip.frames, clip.gt, clip.boxes, np.ones(n), np.ones(n, np.int64), np.ones(n))


def test_oracle_edges_give_near_perfect_idf1_across_clips_and_gaps():
    from zoo.metrics import mot as mot_metrics

    clip = walkers(seed=6, frames=80, people=7, dim=16, gap=(30, 41), miss=0.05)
    module = SushiModule(appearance=SMALL_APP, hierarchy={"num_levels": 5},
                         tracker={"clip_len": 32, "oracle": True, "min_track_len": 1,
                                  "interpolate": False})  # the hand-made gt has no rows in the gap
    gt = _gt_rows(clip)
    rows = _inject(module.tracker(), clip).track_sequence(_Seq(80, gt), _detections(clip))
    stats = mot_metrics.sequence_stats(gt, rows, 80, benchmark="ZooSynth")
    res = mot_metrics.sequence_results(stats)
    assert res["IDF1"] > 0.99 and res["IDSW"] == 0


def test_kfe_clip_and_level0_modes_run_and_are_deterministic():
    clip = walkers(seed=7, frames=60, people=5, dim=16)
    for mode in ("clip", "level0"):
        module = KfeIffModule(appearance=SMALL_APP, hierarchy={"num_levels": 5}, tracker={"clip_len": 32},
                              kfe={"mode": mode, "min_len": 8, "max_len": 32, "episodes": 30})
        t1 = _inject(module.tracker(), clip)
        a = t1.track_sequence(_Seq(60), _detections(clip))
        lengths = t1.last_segments[:, 1] - t1.last_segments[:, 0] + 1
        assert (lengths[:-1] >= 8).all() and (lengths <= 32).all()
        b = _inject(module.tracker(), clip).track_sequence(_Seq(60), _detections(clip))
        np.testing.assert_array_equal(a.ids, b.ids)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown tracker settings"):
        SushiModule(appearance=SMALL_APP, tracker={"clip_length": 3})
    with pytest.raises(TypeError):
        SushiModule(appearance=SMALL_APP, hierarchy={"levels": 3})
    with pytest.raises(ValueError, match="kfe.mode"):
        KfeIffModule(appearance=SMALL_APP, kfe={"mode": "frame"})


def test_oracle_needs_ground_truth():
    clip = walkers(seed=8, frames=10, people=2, dim=16)
    module = SushiModule(appearance=SMALL_APP, tracker={"clip_len": 32, "oracle": True})
    with pytest.raises(ValueError, match="HAND-01 has no gt"):
        _inject(module.tracker(), clip).track_sequence(_Seq(10), _detections(clip))


def test_tiny_fit_then_evaluate(tmp_path, monkeypatch):
    """Train the CPU recipe briefly on ZooSynth tiny (checkpoint, card, results.json), then score the
    checkpoint with zoo.evaluate: the same numbers as the training-time evaluation."""
    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config
    from zoo.train import run

    monkeypatch.delenv("ZOO_RUN_DIR", raising=False)
    cfg = compose(["recipe=kfe_iff", "data.synth_preset=tiny", "trainer.max_epochs=2", "model.level_unlock_every=2",
                   "model.appearance.crop_size=[32,16]", "model.kfe.episodes=20",
                   f"model.feature_cache={tmp_path / 'cache'}",
                   f"run_dir={tmp_path / 'run'}", "progress=none"])
    run_dir = run(cfg)
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    raw = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert raw["zoo"]["method"] == "kfe_iff"
    assert any(k.startswith("extractor.") for k in raw["state_dict"])  # the extractor travels with the model
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["method"] == "kfe_iff" and 0.0 <= doc["metrics"]["HOTA"] <= 1.0
    assert "KFE+IFF" in (run_dir / "README.md").read_text()
    ecfg = evaluate_config([f"model={ckpt}", "data.synth_preset=tiny", f"out={tmp_path / 'eval'}",
                            "progress=false"])
    (result,) = evaluate(ecfg)
    for key in ("HOTA", "IDF1", "AssA"):
        assert result.metrics[key] == pytest.approx(doc["metrics"][key], abs=1e-9)


@pytest.mark.ddp
def test_tiny_ddp_fit_metrics_equal_single_process_evaluate(tmp_path):
    """Two CPU ranks (gloo): the training-time evaluation shards whole sequences over the ranks, and its merged
    metrics equal a single-process zoo.evaluate of the same checkpoint."""
    import os
    import subprocess
    import sys

    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config

    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "ZOO_RUN_DIR"}
    cmd = [sys.executable, "-m", "zoo.train", "recipe=sushi", "trainer=ddp_cpu", "data.synth_preset=tiny",
           "trainer.max_epochs=1", "model.appearance.crop_size=[32,16]", f"model.feature_cache={tmp_path / 'c'}",
           f"run_dir={run_dir}", "progress=none"]
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["hardware"]["world_size"] == 2 and doc["method"] == "sushi"
    ecfg = evaluate_config([f"model={run_dir / 'checkpoints' / 'last.ckpt'}", "data.synth_preset=tiny",
                            f"out={tmp_path / 'eval'}", "progress=false"])
    (result,) = evaluate(ecfg)
    for key in ("HOTA", "AssA", "IDF1", "MOTA"):
        assert result.metrics[key] == pytest.approx(doc["metrics"][key], abs=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sushi_mot17", "kfe_iff_mot17"])
def test_one_paper_size_training_step(name):
    """The paper setting on CPU: a 512-frame clip of ~30 people a frame, 2048-d appearance, all 9 levels."""
    cfg = compose([f"recipe={name}", "model.appearance.pretrained=false"])
    model = instantiate(cfg.model)
    assert model.net.feat_dim == 2048
    clip = walkers(seed=0, frames=512, people=30, dim=2048, miss=0.2)
    item = {"frames": clip.frames, "boxes": clip.boxes, "features": clip.feat, "gt": clip.gt, "fps": 30.0,
            "start": 1, "length": 512}
    model.active_levels = lambda step=None: 9
    opt = model.configure_optimizers()
    loss, stats = model.compute_loss([item])
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and stats["levels"] == 9

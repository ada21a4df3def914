"""A trained KFE+IFF run through the Hub: publish to the local test Hub, load by tag with the server stopped
(offline, from the cache), and track exactly like the checkpoint. The appearance extractor travels inside
``model.safetensors``; nothing else is downloaded."""

from __future__ import annotations

import json

import pytest

from .hub_server import publish_and_go_offline

pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")


def test_kfe_iff_publish_then_load_offline_tracks_like_the_checkpoint(hub, tmp_path, monkeypatch, capsys):
    from safetensors.torch import load_file

    import zoo
    from zoo.config import compose
    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config
    from zoo.train import run

    monkeypatch.setenv("ZOO_RUN_DIR", "")
    cfg = compose(["recipe=kfe_iff", "data.synth_preset=tiny", "trainer.max_epochs=1", "model.level_unlock_every=2",
                   "model.appearance.crop_size=[32,16]", "model.kfe.episodes=20",
                   f"model.feature_cache={tmp_path / 'cache'}", f"run_dir={tmp_path / 'run'}", "progress=none"])
    run_dir = run(cfg)

    repo = publish_and_go_offline(run_dir, "kfe-iff", hub, monkeypatch)
    capsys.readouterr()
    tracker = zoo.load(f"hf-hub:{repo}@v1")
    assert tracker.kfe is not None and tracker.kfe_mode == "clip"  # KFE settings come back from config.json
    snapshot = next((tmp_path / "hf-cache").glob("models--*/snapshots/*"))
    weights = load_file(str(snapshot / "model.safetensors"))
    assert any(k.startswith("extractor.") for k in weights)  # the extractor is in the repo, not fetched

    ckpt = run_dir / "checkpoints" / "last.ckpt"
    docs = []
    for model, out in ((str(ckpt), "from_ckpt"), (f"hf-hub:{repo}@v1", "from_hub")):
        (result,) = evaluate(evaluate_config([f"model={model}", "data.synth_preset=tiny", f"out={tmp_path / out}",
                                              "progress=false"]))
        docs.append(result.metrics)
        raw = sorted((tmp_path / out).glob("*.txt"))
        assert raw
    assert docs[0] == docs[1]
    for a in sorted((tmp_path / "from_ckpt").glob("*.txt")):
        assert a.read_text() == (tmp_path / "from_hub" / a.name).read_text()
    config = json.loads((snapshot / "config.json").read_text())
    assert config["method"] == "kfe_iff"
    assert config["tracker_config"]["kfe"]["mode"] == "clip"  # what the card lists is what the tracker ran

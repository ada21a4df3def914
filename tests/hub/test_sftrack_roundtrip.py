"""A trained SFTrack++ run (three phases) through the Hub: publish the run folder to the local test Hub, load
it offline, and track exactly like the checkpoint; the config names the base trackers the model needs and
the card lists the choices the paper leaves open."""

from __future__ import annotations

import json

import pytest

from tests.methods.sftrack_fixtures import TINY_SFTRACK

from .hub_server import publish_and_go_offline

pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")


def test_sftrack_publish_then_load_offline_tracks_like_the_checkpoint(hub, tmp_path, monkeypatch, capsys):
    import zoo
    from zoo.config import compose
    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config
    from zoo.train import run

    monkeypatch.setenv("ZOO_RUN_DIR", "")
    run_dir = run(compose([*TINY_SFTRACK, f"run_dir={tmp_path / 'run'}", "progress=none"]))
    repo = publish_and_go_offline(run_dir, "sftrack", hub, monkeypatch)
    capsys.readouterr()
    tracker = zoo.load(f"hf-hub:{repo}@v1")
    assert [s.name for s in tracker.sources] == ["kcf", "mosse"] and tracker.box_from == "seg2box"
    docs = []
    for model, out in (
        (str(run_dir / "checkpoints" / "last.ckpt"), "from_ckpt"),
        (f"hf-hub:{repo}@v1", "from_hub"),
    ):
        (result,) = evaluate(
            evaluate_config(
                [
                    f"model={model}",
                    "data=synth_sot",
                    "data.synth_preset=tiny",
                    f"out={tmp_path / out}",
                    "progress=false",
                    "plots=false",
                ]
            )  # fmt: skip
        )
        docs.append(result.metrics)
    assert docs[0] == docs[1]
    snapshot = next((tmp_path / "hf-cache").glob("models--*/snapshots/*"))
    config = json.loads((snapshot / "config.json").read_text())
    assert config["method"] == "sftrack" and config["task"] == "sot"
    assert config["tracker_config"]["trackers"] == ["kcf", "mosse"] and config["tracker_config"]["phase"] == 3
    card = (run_dir / "README.md").read_text()
    assert "Choices the paper left open" in card and "post_unet_widths" in card

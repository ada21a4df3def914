"""A trained DMP run through the Hub: publish to the local test Hub, load by tag with the server stopped
(offline, from the cache), and propagate masks exactly like the checkpoint; the card lists the choices the
paper leaves open with the values this model used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.methods.dmp_fixtures import TINY_DMP

from .hub_server import publish_and_go_offline

pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")

TINY = [*TINY_DMP, "model.memory_size=[2,1]"]


def test_dmp_publish_then_load_offline_tracks_like_the_checkpoint(hub, tmp_path, monkeypatch, capsys):

    import zoo
    from zoo.config import compose
    from zoo.evaluate import evaluate
    from zoo.evaluate import load_config as evaluate_config
    from zoo.train import run

    monkeypatch.setenv("ZOO_RUN_DIR", "")
    run_dir = run(
        compose(
            [
                *TINY,
                "trainer.max_epochs=1",
                "trainer.max_steps=2",
                f"run_dir={tmp_path / 'run'}",
                "progress=none",
            ]
        )
    )

    repo = publish_and_go_offline(run_dir, "dmp", hub, monkeypatch)
    capsys.readouterr()
    tracker = zoo.load(f"hf-hub:{repo}@v1")
    assert tracker.settings.memory_size == (2, 1) and tracker.input_size == (64, 96)

    ckpt = run_dir / "checkpoints" / "last.ckpt"
    docs = []
    for model, out in ((str(ckpt), "from_ckpt"), (f"hf-hub:{repo}@v1", "from_hub")):
        (result,) = evaluate(
            evaluate_config(
                [
                    f"model={model}",
                    "data=synth_vos",
                    "data.synth_preset=tiny",
                    f"out={tmp_path / out}",
                    "progress=false",
                ]
            )
        )
        docs.append(result.metrics)
    assert docs[0] == docs[1]
    from zoo.data.formats.davis import read_palette_mask

    pngs = sorted((tmp_path / "from_ckpt").glob("*/*.png"))
    assert pngs
    for a in pngs:
        b = tmp_path / "from_hub" / a.parent.name / a.name
        assert np.array_equal(read_palette_mask(a), read_palette_mask(b))
    snapshot = next((tmp_path / "hf-cache").glob("models--*/snapshots/*"))
    config = json.loads((snapshot / "config.json").read_text())
    assert config["method"] == "dmp" and config["task"] == "vos"
    assert (
        config["tracker_config"]["memory_size"] == [2, 1] and config["tracker_config"]["prune"] == "distinct"
    )
    card = (run_dir / "README.md").read_text()  # the card the repo got (zoo.load fetches no README)
    assert "Choices the paper left open" in card
    assert "| region grid s | not stated | 4 | `4` |" in card

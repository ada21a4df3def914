"""FineTrack end to end on ZooSynth tiny: train the CPU recipe (SGS batches from MOTDataModule, tracking
evaluation callback), then evaluate the checkpoint through ``zoo.evaluate``'s checkpoint path."""

from __future__ import annotations

import json

import pytest
import torch

import zoo.methods.finetrack  # noqa: F401  (registers "finetrack" for zoo.evaluate's checkpoint loader)
from zoo.config import compose
from zoo.evaluate import evaluate
from zoo.evaluate import load_config as evaluate_config
from zoo.train import run


def test_tiny_fit_then_evaluate(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_RUN_DIR", raising=False)  # zoo.train exports it; restored afterwards
    cfg = compose(
        [
            "recipe=finetrack",
            "data.synth_preset=tiny",
            "data.num_workers=0",
            "trainer.max_epochs=1",
            f"run_dir={tmp_path / 'run'}",
            "progress=none",
        ]
    )
    run_dir = run(cfg)

    ckpt = run_dir / "checkpoints" / "last.ckpt"
    raw = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert raw["zoo"]["method"] == "finetrack" and raw["zoo"]["task"] == "mot"
    assert raw["hyper_parameters"]["num_identities"] > 0  # from the data module's identity space
    train_result = json.loads((run_dir / "results.json").read_text())
    assert train_result["method"] == "finetrack" and train_result["benchmark"] == "synth_mot"
    hota = train_result["metrics"]["HOTA"]
    assert 0.0 < hota <= 1.0
    metrics = (run_dir / "logs" / "metrics.csv").read_text()
    assert "train/loss" in metrics and "train/div" in metrics and "val/HOTA" in metrics
    card = (run_dir / "README.md").read_text()  # the model card written at the end of training
    assert "FineTrack" in card and "model-index" in card

    out = tmp_path / "eval"
    ecfg = evaluate_config([f"model={ckpt}", "data.synth_preset=tiny", f"out={out}", "progress=false"])
    (result,) = evaluate(ecfg)
    # same weights, same runner, same detections: the CLI reproduces the training-time evaluation
    assert result.metrics["HOTA"] == pytest.approx(hota, abs=1e-9)
    assert sorted(p.stem for p in out.glob("*.txt")) == sorted(train_result["per_sequence"])

"""FineTrack end to end on ZooSynth tiny: train the CPU recipe (SGS batches from MOTDataModule, tracking
evaluation callback), then evaluate the checkpoint through ``zoo.evaluate``'s checkpoint path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from omegaconf import OmegaConf

import zoo.methods.finetrack  # noqa: F401  (registers "finetrack" for zoo.evaluate's checkpoint loader)
from zoo.config import compose
from zoo.data.synth import GENERATOR_VERSION
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
    # which generated data it was trained and scored on: the training record, the card, results.json
    generated = f"ZooSynth {GENERATOR_VERSION} (preset tiny, seed 0)"
    assert json.loads((run_dir / "training.json").read_text())["data"]["generated"] == generated
    assert f"Trained on **ZooSynth-MOT** ({generated})" in card
    assert train_result["evaluator"]["conventions"]["data"] == generated

    out = tmp_path / "eval"
    ecfg = evaluate_config([f"model={ckpt}", "data.synth_preset=tiny", f"out={out}", "progress=false"])
    (result,) = evaluate(ecfg)
    # same weights, same runner, same detections: the CLI reproduces the training-time evaluation
    assert result.metrics["HOTA"] == pytest.approx(hota, abs=1e-9)
    assert sorted(p.stem for p in out.glob("*.txt")) == sorted(train_result["per_sequence"])


@pytest.mark.ddp
def test_tiny_ddp_fit_with_clipping_and_mixed_precision(tmp_path):
    """Two CPU ranks (gloo) with gradient clipping and bf16 autocast (the CPU stand-in for the GPU preset's
    16-mixed): the training-time evaluation shards the val sequences over the ranks, and its merged metrics
    equal a single-process ``zoo.evaluate`` of the same checkpoint."""
    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "ZOO_RUN_DIR"}
    cmd = [
        sys.executable, "-m", "zoo.train", "recipe=finetrack", "trainer=ddp_cpu", "data.synth_preset=tiny",
        "data.num_workers=0", "trainer.max_epochs=1", "trainer.gradient_clip_val=1.0",
        "trainer.precision=bf16-mixed", f"run_dir={run_dir}", "progress=none",
    ]  # fmt: skip
    out = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    doc = json.loads((run_dir / "results.json").read_text())
    assert doc["hardware"]["world_size"] == 2 and len(doc["per_sequence"]) == 2
    cfg = OmegaConf.load(run_dir / "config.yaml")
    assert cfg.trainer.gradient_clip_val == 1.0 and cfg.trainer.precision == "bf16-mixed"
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    ecfg = evaluate_config([f"model={ckpt}", "data.synth_preset=tiny", f"out={tmp_path / 'eval'}", "progress=false"])
    (result,) = evaluate(ecfg)
    for key in ("HOTA", "AssA", "DetA", "IDF1", "MOTA"):
        assert result.metrics[key] == pytest.approx(doc["metrics"][key], abs=1e-9)
    assert result.metrics["IDSW"] == doc["metrics"]["IDSW"]

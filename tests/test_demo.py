"""``make demo``'s FineTrack step: train ``recipe=finetrack`` in a child process, evaluate ``last.ckpt`` on
ZooSynth-MOT val beside the baselines, reuse a finished run (ZooSynth tiny, one epoch)."""

from __future__ import annotations

import json

from rich.console import Console

from zoo.demo import train_and_compare
from zoo.evaluate import evaluate_baselines


def test_train_and_compare_then_reuse(tmp_path):
    console = Console(record=True, width=240)
    evaluate_baselines("mot", preset="tiny", out=tmp_path / "baselines_mot", progress=False, console=console)
    overrides = ["trainer.max_epochs=1", "callbacks.tracking_eval=null", "checkpoint.monitor=null", "progress=none"]
    run_dir = train_and_compare(tmp_path, "tiny", overrides, console)
    text = console.export_text()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file() and (run_dir / "training.json").is_file()
    doc = json.loads((run_dir / "eval_val" / "results.json").read_text())
    assert doc["method"] == "finetrack" and doc["split"] == "val" and 0 <= doc["metrics"]["HOTA"] <= 1
    table = text[text.index("MOT on synth_mot") :]
    assert all(name in table for name in ("finetrack", "bytetrack", "sort"))
    # a second demo run reuses the finished training instead of starting over
    again = Console(record=True, width=240)
    train_and_compare(tmp_path, "tiny", overrides, again)
    assert "already finished" in again.export_text()

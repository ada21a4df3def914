"""Smoke tests of the scripts behind docs/sftrack.md (benchmarks/sftrack_spectral.py, sftrack_render.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_spectral_benchmark_quick_run_agrees_with_the_explicit_iteration():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "sftrack_spectral.py"), "--quick", "--repeats", "1"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [
        line.split() for line in out.stdout.splitlines() if line.strip().startswith(("4x16x16", "8x32x32"))
    ]
    assert len(rows) == 2
    for row in rows:
        assert float(row[8]) < 1e-5  # max |diff| of the two after the same iterations
    assert "max |diff| = " in out.stdout and float(out.stdout.rsplit("= ", 1)[1]) < 1e-12


def test_render_writes_the_channel_picture(tmp_path, monkeypatch):
    import importlib.util

    from zoo.methods.sftrack import SFTrackModule

    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "data"))
    spec = importlib.util.spec_from_file_location("sftrack_render", BENCHMARKS / "sftrack_render.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    torch.manual_seed(0)
    model = SFTrackModule(trackers=["kcf", "mosse"], phase=3, window=3, feat2seg_widths=[4, 8],
                          seg2box_widths=[2, 4], image_size=[24, 32])  # fmt: skip
    ckpt = tmp_path / "m.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams),
                "pytorch-lightning_version": "2.0.0"}, ckpt)  # fmt: skip
    monkeypatch.setattr(render, "SOTDataModule", lambda: __import__("zoo.data.modules", fromlist=["x"]).SOTDataModule(
        synth_preset="tiny"))  # fmt: skip
    ious = render.render(str(ckpt), 0, 5, tmp_path / "pic.png")
    assert (tmp_path / "pic.png").stat().st_size > 1000
    assert set(ious) == {"kcf", "mosse", "sftrack"} and all(0 <= v <= 1 for v in ious.values())


def test_speed_benchmark_splits_the_tracker_into_its_parts(tmp_path, monkeypatch):
    """benchmarks/sftrack_speed.py on a tiny net: every part is timed, the warm-cache frame is the sum of its
    parts and the cold cache costs the base trackers on top; the training table has one row per phase."""
    import importlib.util

    from zoo.data.modules import SOTDataModule
    from zoo.methods.sftrack import SFTrackModule

    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "data"))
    spec = importlib.util.spec_from_file_location("sftrack_speed", BENCHMARKS / "sftrack_speed.py")
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    model = SFTrackModule(trackers=["kcf", "mosse"], phase=3, window=3, feat2seg_widths=[4, 8],
                          seg2box_widths=[2, 4], image_size=[24, 32]).eval()  # fmt: skip
    seqs = SOTDataModule(synth_preset="tiny").sequences("val")[:1]
    parts, frames = speed.tracker_parts(model, seqs, tmp_path / "cache")
    assert frames == len(seqs[0]) - 1
    names = {"base trackers (cold cache)", "cache read (warm cache)", "feat2seg", "spectral", "seg2box", "box"}
    assert set(parts) == names and all(parts[n] > 0 for n in names)
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 2  # one entry per base tracker
    rows = speed.training_throughput("sftrack", steps=1, batch_cap=1)
    assert [r[0] for r in rows] == ["feat2seg", "spectral", "seg2box"]
    assert [r[1:3] for r in rows] == [(1, 1), (1, 5), (1, 5)] and all(r[3] > 0 for r in rows)

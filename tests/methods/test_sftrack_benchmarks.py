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

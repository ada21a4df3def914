"""Smoke tests of the scripts behind docs/dmp.md's Speed section and picture (benchmarks/dmp_speed.py,
benchmarks/dmp_render.py) and of the mask overlay they draw with (zoo.viz.vos_render)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo.viz.mot_render import id_color
from zoo.viz.vos_render import overlay_masks, strip

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def speed():
    return _script("dmp_speed")


def test_window_equals_dense_restricted_to_the_window(speed) -> None:
    (row,) = speed.affinity_rows([("tiny", 10, 14, 2, 8, 3)], repeats=1, dense_limit_gib=1.0)
    assert row["diff_window"] < 1e-5  # same softmax over the same candidates
    assert row["diff_unrestricted"] > 1e-3  # the window does change the output
    (big,) = speed.affinity_rows([("big", 10, 14, 2, 8, 3)], repeats=1, dense_limit_gib=0.0)
    assert "dense_ms" not in big and big["window_ms"] > 0  # too large: the dense one is skipped, not run


def test_steady_state_uses_a_full_memory(speed) -> None:
    module = speed.build_module("recipe", channels=[8, 8, 8, 8], stem_width=8, embed_dim=8)
    with torch.no_grad():
        r = speed._time_tracker(module.tracker(input_size=None), (32, 48), 1, steady=True)
    s = module.net.settings
    assert r["refs"] == 1 + s.memory_size[1] + s.memory_size[0]  # first + long + short
    assert r["encoder_ms"] > 0 and r["rest_ms"] > 0 and r["fps"] > 0


def test_memory_probe_reports_its_own_peak(speed) -> None:
    r = speed.probe_memory("grow", 4, (16, 24), threads=1)
    assert r["peak_mib"] >= r["before_mib"] > 0
    assert r["held_mib"] > 0 and r["last_ms"] > 0


def test_training_step_throughput(speed) -> None:
    tiny = ["data.image_size=[32,32]", "data.clip_len=3", "data.batch_size=2", "model.channels=[8,8,8,8]",
            "model.stem_width=8", "model.embed_dim=8", "model.train_radius=2"]  # fmt: skip
    r = speed.train_throughput(1, tiny, random_clips=True)
    assert r["clips"] == 2 and r["clips_s"] > 0


def test_occlusion_frames_bracket_the_hidden_run() -> None:
    render = _script("dmp_render")
    gt = np.zeros((30, 8, 8), np.uint8)
    gt[:, :2, :2] = 2
    gt[:, 4:, 4:] = 1
    gt[12:16, 4:, 4:] = 0  # object 1 hidden on frames 12..15
    obj, frames = render.occlusion_frames(gt)
    assert obj == 1 and frames[0] == 0 and frames[-1] == 29
    assert (
        any(12 <= t <= 15 for t in frames)
        and any(t < 12 for t in frames[1:])
        and any(15 < t < 29 for t in frames)
    )


def test_overlay_fills_objects_and_outlines_gt() -> None:
    frame = np.zeros((20, 30, 3), np.uint8)
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 5:10] = 3
    gt = np.zeros_like(mask)
    gt[2:18, 15:28] = 1
    out = overlay_masks(frame, mask, alpha=1.0, gt=gt)
    assert tuple(out[7, 7]) == id_color(3)
    assert tuple(out[0, 0]) == (0, 0, 0)
    assert tuple(out[2, 20]) == (255, 255, 255) and tuple(out[10, 20]) == (0, 0, 0)  # outline, not fill
    with pytest.raises(ValueError, match="shape"):
        overlay_masks(frame, mask[:10])
    tiles = strip([out, out, out], ["a", "b", "c"], columns=2, scale=0.5, gap=2, caption_height=10)
    assert tiles.shape == (2 * (10 + 10 + 2) - 2, 2 * (15 + 2) - 2, 3)

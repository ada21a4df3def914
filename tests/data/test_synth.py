"""ZooSynth: deterministic, cached with a manifest, loadable by the real-format readers, and built to exercise
what the methods need (shared parts, occlusion, re-appearance, low-score detections, large SOT targets)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from zoo.core.boxes import box_iou
from zoo.data.formats.davis import load_davis, read_palette_mask
from zoo.data.formats.got10k import load_got10k
from zoo.data.formats.motchallenge import load_split
from zoo.data.synth import PRESETS, content_hash, ensure_synth, render_preview
from zoo.data.synth import store as synth_store
from zoo.data.synth.sprites import make_identities


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return ensure_synth("tiny", root=tmp_path_factory.mktemp("synth"), seed=0)


def test_manifest_and_layout(tiny):
    manifest = json.loads((tiny / "manifest.json").read_text())
    assert manifest["preset"] == "tiny" and manifest["seed"] == 0
    assert manifest["content_hash"] == content_hash(tiny)
    assert manifest["fingerprint"] == synth_store.fingerprint(PRESETS["tiny"], 0)
    for rel in ("mot/seqmaps/train.txt", "vos/ImageSets/2017/val.txt", "sot/val/list.txt"):
        assert (tiny / rel).is_file()


def test_deterministic_by_seed(tiny, tmp_path):
    again = ensure_synth("tiny", root=tmp_path / "a", seed=0)
    assert content_hash(again) == content_hash(tiny)
    other = ensure_synth("tiny", root=tmp_path / "b", seed=1)
    assert content_hash(other) != content_hash(tiny)


@pytest.fixture
def counted_generate(tiny, monkeypatch):
    """Replace the generator by a copy of the tiny dataset and count the calls: the cache logic is what is
    under test here (real generation is covered by the determinism test)."""
    calls: list[int] = []

    def fake(config, out, seed, **kw):
        calls.append(seed)
        time.sleep(0.3)  # long enough for a concurrent caller to hit the lock
        for src in tiny.rglob("*"):
            if src.is_file() and src.name != "manifest.json":
                dst = Path(out) / src.relative_to(tiny)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)

    monkeypatch.setattr(synth_store, "generate", fake)
    return calls


def test_cache_reused_and_regenerated_when_generator_changes(tmp_path, monkeypatch, counted_generate):
    first = ensure_synth("tiny", root=tmp_path, seed=0)
    assert counted_generate == [0]
    stamp = (first / "manifest.json").stat().st_mtime_ns
    frame = next((first / "mot" / "train").rglob("*.jpg"))
    frame_stamp = frame.stat().st_mtime_ns
    assert ensure_synth("tiny", root=tmp_path, seed=0) == first
    assert counted_generate == [0]  # reused: nothing rewritten
    assert (first / "manifest.json").stat().st_mtime_ns == stamp and frame.stat().st_mtime_ns == frame_stamp
    # a same-size change is only seen by verify=True (content hash); a missing file always
    frame.write_bytes(frame.read_bytes()[:-10] + b"0123456789")
    ensure_synth("tiny", root=tmp_path, seed=0)
    assert counted_generate == [0]
    ensure_synth("tiny", root=tmp_path, seed=0, verify=True)
    assert counted_generate == [0, 0]
    next((first / "sot" / "val").rglob("*.png")).unlink()
    ensure_synth("tiny", root=tmp_path, seed=0)
    assert counted_generate == [0, 0, 0]
    stamp = (first / "manifest.json").stat().st_mtime_ns
    monkeypatch.setattr(synth_store, "GENERATOR_VERSION", "test-bump")
    ensure_synth("tiny", root=tmp_path, seed=0)
    assert counted_generate == [0, 0, 0, 0]
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["generator_version"] == "test-bump" and (first / "manifest.json").stat().st_mtime_ns != stamp
    assert manifest["content_hash"] == content_hash(first)
    assert not [p for p in tmp_path.joinpath("zoosynth").iterdir() if p.name.startswith(".tiny-seed0.") and
                p.is_dir()]


def test_concurrent_callers_share_one_generation(tmp_path, counted_generate):
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(ensure_synth("tiny", root=tmp_path, seed=3)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and len(set(results)) == 1
    assert counted_generate == [3]  # the lock holder generated; the others waited and reused it
    assert json.loads((results[0] / "manifest.json").read_text())["content_hash"] == content_hash(results[0])


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown ZooSynth preset 'huge'; presets: tiny, default"):
        ensure_synth("huge")


def test_mot_loads_with_occlusion_distractors_and_detection_noise(tiny):
    for split in ("train", "val"):
        seqs = load_split(tiny / "mot" / split, seqmap=tiny / "mot" / "seqmaps" / f"{split}.txt")
        assert len(seqs) == 2
    seq = seqs[0]
    gt, det = seq.gt, seq.det
    assert set(np.unique(gt.classes)) >= {1} and (gt.scores[gt.classes != 1] == 0).all()
    assert (gt.visibility < 0.5).any() and (gt.visibility == 1).any()  # occlusion happens
    _check_visibility_drops_under_occlusion(seqs)
    low = (det.scores > 0.1) & (det.scores <= 0.6)
    assert low.sum() >= 5 and (det.scores > 0.6).sum() >= 5  # ByteTrack's two stages both matter
    false_pos = 0
    for t in range(1, len(seq) + 1):
        d, g = det.frame(t), gt.frame(t)
        if len(d):
            best = box_iou(d.boxes, g.boxes).max(1) if len(g) else np.zeros(len(d))
            false_pos += int((best < 0.3).sum())
    assert false_pos > 0


def _check_visibility_drops_under_occlusion(seqs) -> None:
    """A box half-covered by a nearer person's box (lower feet = nearer) must have lost visibility."""
    covered, free = [], []
    for seq in seqs:
        W, H = seq.info.im_width, seq.info.im_height
        for t in range(1, len(seq) + 1):
            g = seq.gt.frame(t)
            b = g.boxes
            inside = (b[:, 0] >= 0) & (b[:, 1] >= 0) & (b[:, 2] <= W) & (b[:, 3] <= H)
            iw = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
            ih = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
            ioa = iw * ih / ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[:, None]  # share of row i under box j
            nearer = b[None, :, 3] > b[:, None, 3] + 2
            hidden = ((ioa >= 0.5) & nearer).any(1)
            covered += list(g.visibility[inside & hidden])
            free += list(g.visibility[inside & ~((ioa > 0) & nearer).any(1)])
    assert len(covered) >= 3 and len(free) >= 10
    assert max(covered) < 1.0 and np.median(covered) < 0.8
    assert np.median(free) > 0.95  # unoccluded people inside the frame are (nearly) fully visible


def test_identities_share_parts():
    ids = make_identities(np.random.default_rng(0), 40, (4, 4, 4))
    shared = [int((a == b).sum()) for a, b in combinations(ids, 2)]
    assert len({tuple(r) for r in ids.tolist()}) == len(ids)  # identities are distinct ...
    assert shared.count(2) >= len(ids)  # ... and many pairs differ in exactly one part


def test_vos_masks_every_frame_and_reappearance(tiny):
    seqs = load_davis(tiny / "vos", split="val")
    assert len(seqs) == 2
    for seq in seqs:
        assert sorted(seq.annotations) == list(range(len(seq)))
        masks = np.stack([read_palette_mask(seq.annotations[i]) for i in range(len(seq))])
        first = set(np.unique(masks[0])) - {0}
        assert len(first) >= 2
        present = np.array([[k in np.unique(m) for m in masks] for k in sorted(first)])
        # object 1 walks behind the pillar: gone for some middle frames, back before the end
        gone = np.flatnonzero(~present[0])
        assert gone.size >= 2 and present[0, gone.max() + 1:].any() and 0 < gone.min()


def test_sot_large_targets_and_labels(tiny):
    seqs = load_got10k(tiny / "sot", split="val")
    assert len(seqs) == 2
    for seq in seqs:
        sides = np.minimum(seq.boxes[:, 2] - seq.boxes[:, 0], seq.boxes[:, 3] - seq.boxes[:, 1])
        assert sides.min() >= 64, sides.min()
        assert seq.cover is not None and seq.masks is not None and len(seq.masks) == len(seq)
        mask = read_palette_mask(seq.masks[0]) > 0
        ys, xs = np.nonzero(mask)
        assert mask.any() and xs.min() >= seq.boxes[0, 0] - 1 and xs.max() <= seq.boxes[0, 2] + 1


def test_preview_writes_one_video_per_task(tiny, tmp_path):
    videos = render_preview(tiny, tmp_path)
    assert sorted(videos) == ["mot", "sot", "vos"]
    assert all(p.is_file() and p.stat().st_size > 1000 for p in videos.values())

"""zoo.appearance: extractors, the per-sequence cache (hits, invalidation, corruption) and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.data.formats_fixtures import mot_sequence
from zoo.appearance import (
    PrecomputedFeatures,
    TimmCropExtractor,
    build_extractor,
    cache_key,
    sequence_features,
)
from zoo.data.formats import motchallenge
from zoo.data.graphs import detection_table

SMALL = {"kind": "timm", "model": "resnet18", "crop_size": [32, 16], "out_dim": 8, "seed": 0}


@pytest.fixture
def seq(tmp_path):
    folder = mot_sequence(tmp_path / "train", n=3)
    rng = np.random.default_rng(0)
    for t in range(1, 4):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(folder / "img1" / f"{t:06d}.jpg")
    (s,) = motchallenge.load_split(tmp_path / "train")
    return s


class Counting:
    """Wraps an extractor and counts ``extract`` calls (one per frame with detections)."""

    def __init__(self, inner):
        self.inner, self.calls, self.dim = inner, 0, inner.dim

    def identity(self):
        return self.inner.identity()

    def extract(self, frame, boxes):
        self.calls += 1
        return self.inner.extract(frame, boxes)


def test_timm_extractor_shapes_norm_and_determinism():
    a, b = build_extractor(SMALL), build_extractor(SMALL)
    frame = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    boxes = np.array([[1.0, 2, 20, 40], [30, 5, 60, 45]])
    fa = a.extract(frame, boxes)
    assert fa.shape == (2, 8) and fa.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fa, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(fa, b.extract(frame, boxes))
    assert a.identity() == b.identity()
    assert a.extract(frame, np.zeros((0, 4))).shape == (0, 8)
    assert isinstance(a, torch.nn.Module) and not any(p.requires_grad for p in a.parameters())


def test_identity_changes_with_weights_and_settings():
    base = build_extractor(SMALL).identity()
    assert build_extractor({**SMALL, "seed": 1}).identity()["weights"] != base["weights"]
    assert build_extractor({**SMALL, "crop_size": [16, 8]}).identity() != base


def test_pretrained_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="HF_HUB_OFFLINE"):
        TimmCropExtractor("resnet18", pretrained=True)
    with pytest.raises(ValueError, match="appearance kind"):
        build_extractor({"kind": "nope"})


def test_cache_hit_then_invalidation(seq, tmp_path):
    rows = detection_table(seq.det)
    ex = Counting(build_extractor(SMALL))
    first = sequence_features(seq, rows, ex, cache_dir=tmp_path / "c")
    assert ex.calls == 2  # frames 1 and 3 hold detections
    second = sequence_features(seq, rows, ex, cache_dir=tmp_path / "c")
    assert ex.calls == 2
    np.testing.assert_array_equal(first, second)
    # another extractor (other weights) never reads the first one's entry
    other = Counting(build_extractor({**SMALL, "seed": 5}))
    feats = sequence_features(seq, rows, other, cache_dir=tmp_path / "c")
    assert other.calls == 2 and not np.array_equal(feats, first)
    # other detections: another key
    moved = detection_table(seq.det)
    moved.boxes = moved.boxes + 1.0
    assert cache_key(ex.identity(), seq, moved)[0] != cache_key(ex.identity(), seq, rows)[0]
    sequence_features(seq, moved, ex, cache_dir=tmp_path / "c")
    assert ex.calls == 4


def test_corrupt_entry_is_recomputed_with_a_warning(seq, tmp_path):
    rows = detection_table(seq.det)
    ex = Counting(build_extractor(SMALL))
    good = np.array(sequence_features(seq, rows, ex, cache_dir=tmp_path))
    key, _ = cache_key(ex.identity(), seq, rows)
    (tmp_path / f"{key}.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.warns(UserWarning, match="recomputing"):
        again = sequence_features(seq, rows, ex, cache_dir=tmp_path)
    np.testing.assert_array_equal(again, good)
    assert ex.calls == 4


def test_precomputed_file_checks_length_dimension_and_frames(seq, tmp_path):
    rows = detection_table(seq.det)
    root = tmp_path / "feats"
    root.mkdir()
    np.save(root / "SEQ-01.npy", np.ones((3, 4), np.float32))
    ex = PrecomputedFeatures(root)
    assert ex.dim == 4
    np.testing.assert_array_equal(sequence_features(seq, rows, ex), np.ones((3, 4)))
    np.save(root / "SEQ-01.npy", np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"SEQ-01\.npy: sequence SEQ-01: 2 feature rows for 3 detections"):
        sequence_features(seq, rows, ex)
    with pytest.raises(ValueError, match=r"dimension 4, expected 6"):
        np.save(root / "SEQ-01.npy", np.ones((3, 4), np.float32))
        sequence_features(seq, rows, PrecomputedFeatures(root, dim=6))
    (root / "SEQ-01.npy").unlink()
    np.savez(root / "SEQ-01.npz", features=np.ones((3, 4)), frames=np.array([1, 3, 3]))
    with pytest.raises(ValueError, match=r"row 1 is frame 3, but detection row 1 is in frame 1"):
        sequence_features(seq, rows, ex)


def test_a_sequence_without_detections_is_refused_by_name(seq):
    empty = detection_table(seq.det, min_score=2.0)
    with pytest.raises(ValueError, match=r"sequence SEQ-01 .*no detections"):
        sequence_features(seq, empty, build_extractor(SMALL))


def test_zoo_extractor_loads_a_finetrack_checkpoint_offline(tmp_path):
    """Any zoo tracker with embed(frame, boxes) gives features; its identity carries a weights digest."""
    from zoo.methods.finetrack import FineTrackModule

    def save(seed):
        torch.manual_seed(seed)
        m = FineTrackModule(trunk="resnet18", fpn_dim=32, roi_size=[8, 4], attn_dim=16, input_size=[64, 96],
                            num_identities=4)
        path = tmp_path / f"ft{seed}.ckpt"
        torch.save({"state_dict": m.state_dict(), "hyper_parameters": dict(m.hparams),
                    "zoo": {"method": "finetrack", "task": "mot"}}, path)
        return path

    a = build_extractor({"kind": "zoo", "source": str(save(0))})
    b = build_extractor(str(save(1)))
    frame = np.zeros((64, 96, 3), np.uint8)
    assert a.extract(frame, np.array([[1.0, 2, 30, 50]])).shape == (1, a.dim)
    assert a.identity()["kind"] == "zoo" and a.identity()["weights"] != b.identity()["weights"]

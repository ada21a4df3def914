from __future__ import annotations

import numpy as np
import pytest

from tests.data.formats_fixtures import jpg, text, trackingnet_root
from zoo.data.formats import FormatError
from zoo.data.formats.trackingnet import load_trackingnet


def test_test_split_first_box_only(tmp_path):
    (seq,) = load_trackingnet(trackingnet_root(tmp_path))
    assert (
        seq.name == "t9"
        and len(seq) == 4
        and [f.name for f in seq.frames] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    )
    np.testing.assert_array_equal(seq.boxes[0], [1, 2, 6, 8])
    assert np.isnan(seq.boxes[1:]).all() and not seq.absent.any()


def test_train_chunks(tmp_path):
    root = trackingnet_root(tmp_path)
    seqs = load_trackingnet(root, split="TRAIN")
    assert [s.name for s in seqs] == ["a1", "b2"]
    np.testing.assert_array_equal(seqs[0].boxes[:, 3], [2 + 6, 2 + 7, 2 + 8])  # y + h, rows (1+i, 2, 5, 6+i)
    assert [s.name for s in load_trackingnet(root, split="TRAIN", chunks=[1])] == ["b2"]
    assert [s.name for s in load_trackingnet(root, split="TRAIN", chunks=["TRAIN_0"])] == ["a1"]
    assert [s.name for s in load_trackingnet(root, split="TRAIN", sequences=["b2"])] == ["b2"]


def test_frame_numbers_sort_numerically(tmp_path):
    root = tmp_path
    for i in range(12):
        jpg(root / "TRAIN_0" / "frames" / "s" / f"{i}.jpg")
    text(root / "TRAIN_0" / "anno" / "s.txt", "1,1,2,2\n" * 12)
    (seq,) = load_trackingnet(root, split="TRAIN")
    assert [f.name for f in seq.frames][9:] == ["9.jpg", "10.jpg", "11.jpg"]


def test_errors(tmp_path):
    root = trackingnet_root(tmp_path)
    (root / "TRAIN_0" / "frames" / "a1" / "1.jpg").unlink()
    with pytest.raises(FormatError, match="jumps to 2.jpg") as info:
        load_trackingnet(root, split="TRAIN")
    assert info.value.path.name == "1.jpg"
    jpg(root / "TRAIN_0" / "frames" / "a1" / "1.jpg")
    text(root / "TRAIN_1" / "anno" / "b2.txt", "1,2,3,4\n")
    with pytest.raises(FormatError, match="1 boxes for 2 frames"):
        load_trackingnet(root, split="TRAIN")
    with pytest.raises(FormatError, match="not found in any chunk"):
        load_trackingnet(root, split="TRAIN", chunks=[0], sequences=["b2"])
    with pytest.raises(FormatError, match="annotation folder not found"):
        load_trackingnet(root, split="TRAIN", chunks=[7])
    with pytest.raises(ValueError):
        load_trackingnet(root, split="VAL")
    text(root / "TEST" / "anno" / "t9.txt", "1,2,3\n")
    with pytest.raises(FormatError, match="expected 4 columns"):
        load_trackingnet(root)

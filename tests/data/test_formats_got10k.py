from __future__ import annotations

import numpy as np
import pytest

from tests.data.formats_fixtures import GOT_BOXES, got10k_root, text
from zoo.data.formats import FormatError
from zoo.data.formats.got10k import (
    load_got10k,
    read_meta_info,
    read_results,
    write_groundtruth,
    write_labels,
    write_list,
    write_meta_info,
    write_results,
)


def _xyxy(rows):
    a = np.array(rows, float)
    return np.stack([a[:, 0], a[:, 1], a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]], 1)


def test_load_val(tmp_path):
    (seq,) = load_got10k(got10k_root(tmp_path))
    assert seq.name == "GOT-10k_Val_000001" and len(seq) == 4
    assert seq.frames[0].name == "00000001.jpg"
    np.testing.assert_array_equal(seq.boxes, _xyxy(GOT_BOXES))
    np.testing.assert_array_equal(seq.absent, [False, False, False, True])
    np.testing.assert_array_equal(seq.cover, [8, 5, 1, 0])
    assert seq.image_size == (8, 8) and seq.masks is None


def test_load_test_split_first_box_only(tmp_path):
    (seq,) = load_got10k(got10k_root(tmp_path, split="test", names=("GOT-10k_Test_000001",)), split="test")
    assert len(seq) == 4 and seq.boxes.shape == (4, 4)
    np.testing.assert_array_equal(seq.boxes[0], _xyxy(GOT_BOXES[:1])[0])
    assert np.isnan(seq.boxes[1:]).all() and not seq.absent.any() and seq.cover is None


def test_masks_folder(tmp_path):
    (seq,) = load_got10k(got10k_root(tmp_path, masks=True))
    assert [m.name for m in seq.masks] == [f"{i:08d}.png" for i in range(1, 5)]
    (seq.masks[2]).unlink()
    with pytest.raises(FormatError, match="missing mask") as info:
        load_got10k(tmp_path)
    assert info.value.frame == 3


def test_writers_round_trip(tmp_path):
    boxes = _xyxy([(1.25, 2, 3, 4), (0.1, 0.2, 0.30000000000000004, 5)])
    p = write_groundtruth(tmp_path / "g.txt", boxes)
    raw = np.loadtxt(p, delimiter=",")  # independent reader, as the got10k toolkit uses
    np.testing.assert_array_equal(raw, [(1.25, 2, 3, 4), (0.1, 0.2, 0.30000000000000004, 5)])
    assert p.read_text().splitlines()[0] == "1.25,2,3,4"
    assert write_labels(tmp_path / "l.label", [0, 1, 1]).read_text() == "0\n1\n1\n"
    assert write_list(tmp_path / "list.txt", ["a", "b"]).read_text() == "a\nb\n"
    meta = write_meta_info(tmp_path / "meta_info.ini", {"resolution": (640, 480), "object_class": "ant"})
    assert read_meta_info(meta) == {"resolution": "(640, 480)", "object_class": "ant"}
    with pytest.raises(ValueError):
        write_labels(tmp_path / "x.label", [0.5])
    with pytest.raises(ValueError):
        write_groundtruth(tmp_path / "x.txt", np.array([[0, 0, np.nan, 1.0]]))


def test_write_results_layout(tmp_path):
    boxes = _xyxy([(1, 2, 3, 4), (1.5, 2.5, 3, 4)])
    seq_dir = write_results(tmp_path / "MyTracker", "GOT-10k_Val_000001", boxes, [0.01, 0.0125])
    assert sorted(p.name for p in seq_dir.iterdir()) == [
        "GOT-10k_Val_000001_001.txt",
        "GOT-10k_Val_000001_time.txt",
    ]
    np.testing.assert_array_equal(
        np.loadtxt(seq_dir / "GOT-10k_Val_000001_001.txt", delimiter=","), [(1, 2, 3, 4), (1.5, 2.5, 3, 4)]
    )
    np.testing.assert_array_equal(np.loadtxt(seq_dir / "GOT-10k_Val_000001_time.txt"), [0.01, 0.0125])
    b, t = read_results(tmp_path / "MyTracker", "GOT-10k_Val_000001")
    np.testing.assert_array_equal(b, boxes)
    np.testing.assert_array_equal(t, [0.01, 0.0125])
    with pytest.raises(ValueError):
        write_results(tmp_path, "x", boxes, [0.1])


@pytest.mark.parametrize(
    "fname,body,fragment,line",
    [
        ("absence.label", "0\n0\n1\n", "3 labels for 4 frames", None),
        ("cover.label", "8\n9\n1\n0\n", "label 9 is outside 0..8", 2),
        ("cut_by_image.label", "0\n0\n0.5\n0\n", "must be an integer", 3),
        ("groundtruth.txt", "1,2,3,4\n1,2,3,4\n1,2,-3,4\n1,2,3,4\n", "negative width", 3),
        ("groundtruth.txt", "1,2,3,4\n1,2,3,4\n", "2 boxes for 4 frames", None),
        ("groundtruth.txt", "1,2,3,4\n1,2,3\n1,2,3,4\n1,2,3,4\n", "expected 4 columns", 2),
        ("groundtruth.txt", "nan,nan,nan,nan\n1,2,3,4\n1,2,3,4\n1,2,3,4\n", "first frame has no box", 1),
        ("groundtruth.txt", "1,2,3,4\n1,2,nan,4\n1,2,3,4\n1,2,3,4\n", "only whole NaN rows", 2),
        ("meta_info.ini", "[METAINFO]\nresolution: 640x480\n", "resolution must read", None),
        ("meta_info.ini", "url: x\n", "[METAINFO]", 1),
    ],
)
def test_malformed_sequence_files(tmp_path, fname, body, fragment, line):
    root = got10k_root(tmp_path)
    path = text(root / "val" / "GOT-10k_Val_000001" / fname, body)
    with pytest.raises(FormatError) as info:
        load_got10k(root)
    assert fragment in info.value.reason and info.value.path == path and info.value.line == line


def test_nan_rows_are_no_box(tmp_path):
    root = got10k_root(tmp_path)
    text(
        root / "val" / "GOT-10k_Val_000001" / "groundtruth.txt",
        "1,2,3,4\nnan,nan,nan,nan\n1,2,3,4\n1,2,3,4\n",
    )
    (seq,) = load_got10k(root)
    assert np.isnan(seq.boxes[1]).all() and np.isfinite(seq.boxes[[0, 2, 3]]).all()


def test_missing_frames_and_layout(tmp_path):
    root = got10k_root(tmp_path)
    (root / "val" / "GOT-10k_Val_000001" / "00000002.jpg").unlink()
    with pytest.raises(FormatError, match="missing frame") as info:
        load_got10k(root)
    assert info.value.path.name == "00000002.jpg"
    assert len(load_got10k(root, check_images=False)[0]) == 4
    with pytest.raises(FormatError, match="split folder not found"):
        load_got10k(root, split="train")
    with pytest.raises(FormatError, match="listed but its folder is missing"):
        load_got10k(root, sequences=["GOT-10k_Val_000999"])

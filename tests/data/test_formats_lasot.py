from __future__ import annotations

import numpy as np
import pytest

from tests.data.formats_fixtures import LASOT_BOXES, lasot_root, text
from zoo.data.formats import FormatError
from zoo.data.formats.lasot import load_lasot


def test_load_test_split_from_list(tmp_path):
    seqs = load_lasot(lasot_root(tmp_path))
    assert [s.name for s in seqs] == ["airplane-2", "cat-13"]
    s = seqs[0]
    assert len(s) == 3 and s.frames[0] == tmp_path / "airplane" / "airplane-2" / "img" / "00000001.jpg"
    b = np.array(LASOT_BOXES, float)
    np.testing.assert_array_equal(s.boxes, np.c_[b[:, :2], b[:, :2] + b[:, 2:]])
    # full_occlusion 0,1,0 | out_of_view 0,0,1
    np.testing.assert_array_equal(s.absent, [False, True, True])
    assert s.absent.dtype == bool


def test_split_none_and_missing_lists(tmp_path):
    root = lasot_root(tmp_path, names=("cat-2", "cat-10", "airplane-1"))
    assert [s.name for s in load_lasot(root, split=None)] == ["airplane-1", "cat-2", "cat-10"]
    # no training_set.txt: every sequence found
    assert len(load_lasot(root, split="train")) == 3
    assert [s.name for s in load_lasot(root, sequences=["cat-10"])] == ["cat-10"]
    with pytest.raises(ValueError):
        load_lasot(root, split="val")


def test_one_flag_a_line_is_accepted(tmp_path):
    root = lasot_root(tmp_path)
    text(root / "cat" / "cat-13" / "full_occlusion.txt", "1\n0\n0\n")
    s = load_lasot(root, sequences=["cat-13"])[0]
    np.testing.assert_array_equal(s.absent, [True, False, True])


@pytest.mark.parametrize(
    "fname,body,fragment",
    [
        ("full_occlusion.txt", "0,1\n", "2 labels for 3 frames"),
        ("out_of_view.txt", "0,2,0\n", "label 2 is outside 0..1"),
        ("out_of_view.txt", "0,1,0\n1,0,0\n", "one line of values"),
        ("groundtruth.txt", "1,2,3,4\n1,2,3\n1,2,3,4\n", "expected 4 columns"),
        ("groundtruth.txt", "1,2,3,4\n1,2,3,4\n1,2,3,-4\n", "negative height"),
        ("groundtruth.txt", "", "no boxes"),
    ],
)
def test_malformed_files(tmp_path, fname, body, fragment):
    root = lasot_root(tmp_path)
    path = text(root / "cat" / "cat-13" / fname, body)
    with pytest.raises(FormatError) as info:
        load_lasot(root)
    assert fragment in info.value.reason and info.value.path == path


def test_missing_pieces(tmp_path):
    root = lasot_root(tmp_path)
    (root / "cat" / "cat-13" / "img" / "00000002.jpg").unlink()
    with pytest.raises(FormatError, match="missing frame") as info:
        load_lasot(root)
    assert info.value.frame == 2
    assert len(load_lasot(root, check_images=False)) == 2
    (root / "cat" / "cat-13" / "out_of_view.txt").unlink()
    with pytest.raises(FormatError, match="not found"):
        load_lasot(root)
    text(root / "testing_set.txt", "airplane_3\n")
    with pytest.raises(FormatError, match="'<category>-<n>'"):
        load_lasot(root)
    with pytest.raises(FormatError, match="sequence folder missing"):
        load_lasot(root, sequences=["dog-4"])

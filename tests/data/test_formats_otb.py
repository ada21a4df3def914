from __future__ import annotations

import numpy as np
import pytest

from tests.data.formats_fixtures import otb_sequence, text
from zoo.data.formats import FormatError
from zoo.data.formats.otb import OTB_FRAME_RANGES, load_otb, read_otb_boxes, write_otb_boxes


def _gt(n: int, start: int = 0, sep: str = ",") -> str:
    return "".join(sep.join(str(v) for v in (start + i, 2, 3, 4)) + "\n" for i in range(n))


def test_delimiters_mixed_per_file(tmp_path):
    body = "1,2,3,4\n5\t6\t7\t8\n9 10 11 12\n13, 14,\t15  16\n"
    boxes = read_otb_boxes(text(tmp_path / "g.txt", body))
    ref = np.arange(1, 17, dtype=float).reshape(4, 4)
    np.testing.assert_array_equal(boxes, np.c_[ref[:, :2], ref[:, :2] + ref[:, 2:]])
    tabs = read_otb_boxes(text(tmp_path / "t.txt", "1\t2\t3\t4\n5\t6\t7\t8\n"))
    np.testing.assert_array_equal(tabs[1], [5, 6, 12, 14])


def test_write_read_round_trip(tmp_path):
    boxes = np.array([[0.5, 1, 10.25, 20], [3, 4, 5, 6]])
    p = write_otb_boxes(tmp_path / "o.txt", boxes)
    np.testing.assert_array_equal(read_otb_boxes(p), boxes)
    np.testing.assert_array_equal(np.loadtxt(p, delimiter=","), [[0.5, 1, 9.75, 19], [3, 4, 2, 2]])


def test_plain_and_multi_target_sequences(tmp_path):
    otb_sequence(tmp_path, "Basketball", range(1, 4), _gt(3))
    otb_sequence(tmp_path, "Jogging", range(1, 3), _gt(2), gt_name="groundtruth_rect.1.txt")
    text(tmp_path / "Jogging" / "groundtruth_rect.2.txt", _gt(2, start=50, sep="\t"))
    otb_sequence(tmp_path, "Board", range(1, 3), _gt(2), digits=5)
    seqs = load_otb(tmp_path)
    assert [s.name for s in seqs] == ["Basketball", "Board", "Jogging.1", "Jogging.2"]
    assert seqs[1].frames[0].name == "00001.jpg"  # Board uses 5 digits
    assert seqs[3].boxes[0, 0] == 50 and len(seqs[3]) == 2
    assert [s.name for s in load_otb(tmp_path, sequences=["Jogging"])] == ["Jogging.1", "Jogging.2"]
    assert [s.name for s in load_otb(tmp_path, sequences=["Jogging.2"])] == ["Jogging.2"]
    with pytest.raises(FormatError, match="no such OTB sequence"):
        load_otb(tmp_path, sequences=["Jogging.3"])


def test_sequences_starting_later(tmp_path):
    assert OTB_FRAME_RANGES["David"] == (300, 770) and OTB_FRAME_RANGES["Tiger1"] == (6, 354)
    # David: 471 boxes for frames 300..770
    otb_sequence(tmp_path, "David", range(300, 771), _gt(471))
    # Tiger1: 354 boxes from frame 1, the first five skipped
    otb_sequence(tmp_path, "Tiger1", range(1, 355), _gt(354))
    david, tiger = load_otb(tmp_path)
    assert len(david) == 471 and david.frames[0].name == "0300.jpg" and david.frames[-1].name == "0770.jpg"
    assert len(tiger) == 349 and tiger.frames[0].name == "0006.jpg" and tiger.boxes[0, 0] == 5
    (tmp_path / "David" / "img" / "0301.jpg").unlink()
    with pytest.raises(FormatError, match="missing frame") as info:
        load_otb(tmp_path, sequences=["David"])
    assert info.value.frame == 301


def test_errors(tmp_path):
    otb_sequence(tmp_path, "David", range(300, 771), _gt(100))
    with pytest.raises(FormatError, match="frames 300..770"):
        load_otb(tmp_path)
    otb_sequence(tmp_path / "b", "Car", range(1, 3), "1,2,3,4\n1,2,3,x\n")
    with pytest.raises(FormatError, match="not a number") as info:
        load_otb(tmp_path / "b")
    assert info.value.line == 2
    (tmp_path / "c" / "Empty" / "img").mkdir(parents=True)
    with pytest.raises(FormatError, match="no annotation file"):
        load_otb(tmp_path / "c")
    with pytest.raises(FormatError, match="OTB root not found"):
        load_otb(tmp_path / "zzz")

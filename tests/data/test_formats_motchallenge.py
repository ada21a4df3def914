from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import zoo.data.formats._text as T
from tests.data.formats_fixtures import GT_ROWS, RES_ROWS, SEQINFO, mot_sequence, rows_text, text
from zoo.data.formats import FormatError
from zoo.data.formats.motchallenge import (
    load_sequence,
    load_split,
    read_mot_file,
    read_seqinfo,
    read_seqmap,
    write_mot_file,
    write_seqinfo,
    write_seqmap,
)
from zoo.data.types import MOTRows, SeqInfo

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "mot17-train-trackeval"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="real MOT17 data not present")


def _ref_boxes(arr: np.ndarray) -> np.ndarray:
    """MOT xywh (1-based) -> 0-based xyxy, written out independently of zoo.core.boxes."""
    left, top, w, h = arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5]
    return np.stack([left - 1.0, top - 1.0, left + w - 1.0, top + h - 1.0], axis=1)


# ------------------------------------------------------------------------------------------ valid files
def test_gt_det_results_fixture_values(tmp_path):
    seq = mot_sequence(tmp_path)
    gt = read_mot_file(seq / "gt" / "gt.txt", "gt")
    ref = np.array(GT_ROWS, float)
    np.testing.assert_array_equal(gt.frames, [1, 1, 2, 2, 3])
    np.testing.assert_array_equal(gt.ids, [1, 2, 1, 3, 2])
    # hand-computed: left 30.5, w 6.25 -> x0 = 29.5, x1 = 35.75
    np.testing.assert_array_equal(gt.boxes[1], [29.5, 3.0, 35.75, 13.0])
    np.testing.assert_array_equal(gt.boxes, _ref_boxes(ref))
    np.testing.assert_array_equal(gt.scores, [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(gt.classes, [1, 1, 1, 7, 1])
    np.testing.assert_array_equal(gt.visibility, [1.0, 0.5, 0.875, 0.0, 1.0])
    assert gt.frames.dtype == np.int64 and gt.boxes.dtype == np.float64

    det = read_mot_file(seq / "det" / "det.txt", "det")
    np.testing.assert_array_equal(det.ids, [-1, -1, -1])
    np.testing.assert_array_equal(det.scores, [0.9, 0.35, 0.8])
    np.testing.assert_array_equal(det.classes, [-1, -1, -1])
    np.testing.assert_array_equal(det.visibility, [-1, -1, -1])

    res = read_mot_file(text(tmp_path / "r.txt", rows_text(RES_ROWS)), "results")
    np.testing.assert_array_equal(res.boxes, _ref_boxes(np.array(RES_ROWS, float)))
    np.testing.assert_array_equal(res.scores, [1, 0.5, 0.75])


def test_variants_whitespace_crlf_blank_lines_trailing_comma(tmp_path):
    base = read_mot_file(text(tmp_path / "a.txt", rows_text(RES_ROWS)), "results")
    variants = {
        "spaces": "".join(" ".join(str(v) for v in r) + "\n" for r in RES_ROWS),
        "crlf": rows_text(RES_ROWS).replace("\n", "\r\n"),
        "blank": "\n" + rows_text(RES_ROWS[:1]) + "\n  \n" + rows_text(RES_ROWS[1:]) + "\n\n",
        "trailing_comma": "".join(",".join(str(v) for v in r) + ",\n" for r in RES_ROWS),
        "spaced_commas": "".join(", ".join(str(v) for v in r) + "\n" for r in RES_ROWS),
        "no_final_newline": rows_text(RES_ROWS).rstrip("\n"),
    }
    for name, body in variants.items():
        got = read_mot_file(text(tmp_path / f"{name}.txt", body), "results")
        for field in ("frames", "ids", "boxes", "scores", "classes", "visibility"):
            np.testing.assert_array_equal(getattr(got, field), getattr(base, field), err_msg=name)


def test_short_column_layouts(tmp_path):
    six = read_mot_file(text(tmp_path / "r6.txt", "1,3,1,1,2,2\n2,3,1,1,2,2\n"), "results")
    np.testing.assert_array_equal(six.scores, [1.0, 1.0])  # no score column -> 1
    np.testing.assert_array_equal(six.classes, [-1, -1])
    det7 = read_mot_file(text(tmp_path / "d7.txt", "1,-1,1,1,2,2,0.25\n"), "det")
    np.testing.assert_array_equal(det7.scores, [0.25])
    # MOT15-style gt: 10 columns with world coordinates, no class/visibility
    gt15 = read_mot_file(text(tmp_path / "g15.txt", "1,1,5,5,3,4,1,12.5,-3.25,0\n"), "gt")
    np.testing.assert_array_equal(gt15.classes, [-1])
    np.testing.assert_array_equal(gt15.visibility, [-1.0])


def test_empty_file_is_zero_rows(tmp_path):
    for body in ("", "\n\n", "  \n"):
        rows = read_mot_file(text(tmp_path / "e.txt", body), "results")
        assert len(rows) == 0 and rows.boxes.shape == (0, 4)


@pytest.mark.parametrize("kind", ["gt", "det", "results"])
def test_write_read_round_trip(tmp_path, kind):
    rng = np.random.default_rng(3)
    n = 200
    frames = np.sort(rng.integers(1, 50, n))
    ids = np.arange(n) + 1  # unique, so no duplicates within a frame
    x0 = rng.uniform(-20, 600, n)
    y0 = rng.uniform(-20, 400, n)
    wh = rng.uniform(0.5, 80, (n, 2))
    # float32-derived values (as detectors write) and long random doubles
    x0[: n // 2] = x0[: n // 2].astype(np.float32)
    boxes = np.stack([x0, y0, x0 + wh[:, 0], y0 + wh[:, 1]], 1)
    rows = MOTRows(
        frames=frames,
        ids=ids if kind != "det" else np.full(n, -1),
        boxes=boxes,
        scores=rng.integers(0, 2, n).astype(float) if kind == "gt" else rng.uniform(0, 1, n),
        classes=rng.integers(1, 14, n) if kind == "gt" else np.full(n, -1),
        visibility=rng.uniform(0, 1, n) if kind == "gt" else np.full(n, -1.0),
    )
    path = write_mot_file(tmp_path / f"{kind}.txt", rows, kind)
    raw = np.loadtxt(path, delimiter=",")
    assert raw.shape == (n, 9 if kind == "gt" else 10)
    back = read_mot_file(path, kind)
    np.testing.assert_array_equal(back.frames, rows.frames)
    np.testing.assert_array_equal(back.ids, rows.ids)
    np.testing.assert_allclose(back.boxes, rows.boxes, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(back.scores, rows.scores)  # written verbatim: exact
    np.testing.assert_array_equal(back.classes, rows.classes)
    np.testing.assert_array_equal(back.visibility, rows.visibility)
    # the file's own numbers are exact fixed points: write(read(file)) reproduces the file
    again = write_mot_file(tmp_path / f"{kind}2.txt", back, kind)
    assert read_mot_file(again, kind).boxes.tobytes() == back.boxes.tobytes()
    if kind == "det":
        assert set(raw[:, 1]) == {-1.0} and set(raw[:, 7:].ravel()) == {-1.0}
    # integers are written without a decimal point
    assert path.read_text().split("\n")[0].split(",")[0] == str(rows.frames[0])


def test_write_refuses_rows_that_cannot_be_read(tmp_path):
    bad = MOTRows(
        np.array([1]),
        np.array([1]),
        np.array([[5.0, 5.0, 5.0, 9.0]]),
        np.ones(1),
        np.ones(1, int),
        np.ones(1),
    )
    with pytest.raises(ValueError, match="width or height"):
        write_mot_file(tmp_path / "x.txt", bad, "results")
    assert not (tmp_path / "x.txt").exists()


def test_atomic_write_leaves_no_temp_files(tmp_path):
    rows = read_mot_file(text(tmp_path / "src.txt", rows_text(RES_ROWS)), "results")
    out = tmp_path / "out" / "res.txt"
    write_mot_file(out, rows, "results")
    write_mot_file(out, rows.select(rows.frames == 1), "results")  # overwrite
    assert sorted(p.name for p in out.parent.iterdir()) == ["res.txt"]
    assert len(read_mot_file(out, "results")) == 1


# -------------------------------------------------------------------------------------------- errors
CASES = [  # kind, body, expected line, message fragment
    ("gt", "1,1,1,1,2,2,1,1,1\n1,1,1,1,2,2,1,1\n", 2, "expected 9 or 10 columns"),
    ("det", "1,-1,1,1,2,2,0.5,-1\n", 1, "expected 7 or 10 columns"),
    ("results", "1,1,1,1,2\n", 1, "expected 6 to 10 columns"),
    ("results", "1,1,1,1,2,2\n1,2,1,1,2,2,1\n", 2, "7 columns where earlier lines have 6"),
    ("results", "1,1,1,1,2,2,1\n2,1,x1,1,2,2,1\n", 2, "column 3: 'x1' is not a number"),
    ("results", "1,1,1,1,2,2,nan\n", 1, "column 7 is nan"),
    ("results", "1,1,1,1,inf,2,1\n", 1, "column 5 is inf"),
    ("results", "1,1,1,1,2,2,1\n1,2,1,1,0,2,1\n", 2, "width must be > 0"),
    ("det", "1,-1,1,1,2,-2,1,-1,-1,-1\n", 1, "height must be > 0"),
    ("gt", "0,1,1,1,2,2,1,1,1\n", 1, "frame 0 < 1"),
    ("results", "1.5,1,1,1,2,2,1\n", 1, "column 1 (frame) must be an integer"),
    ("results", "1,2.5,1,1,2,2,1\n", 1, "column 2 (id) must be an integer"),
    ("gt", "1,1,1,1,2,2,1,14,1\n", 1, "gt class 14 is outside 1..13"),
    ("gt", "1,1,1,1,2,2,1,0,1\n", 1, "gt class 0 is outside 1..13"),
    ("gt", "1,1,1,1,2,2,1,1,1.5\n", 1, "visibility 1.5 is outside [0, 1]"),
    (
        "gt",
        "1,4,1,1,2,2,1,1,1\n2,4,1,1,2,2,1,1,1\n1,4,3,3,2,2,1,1,1\n",
        3,
        "duplicate id 4 in frame 1 (also on line 1)",
    ),
    ("results", "3,4,1,1,2,2,1\n3,4,5,5,2,2,1\n", 2, "duplicate id 4 in frame 3"),
    ("results", "1,,1,1,2,2,1\n", 1, "empty field"),
    ("results", "1;1;1;1;2;2;1\n", 1, "expected 6 to 10 columns, found 1"),
    ("results", '1,1,"1",1,2,2,1\n', 1, "not a number"),
    ("results", "1,1,1_0,1,2,2,1\n", 1, "not a number"),
]


@pytest.mark.parametrize("use_pandas", [True, False])
@pytest.mark.parametrize("kind,body,line,fragment", CASES)
def test_malformed_rows_name_file_line_and_problem(
    tmp_path, monkeypatch, use_pandas, kind, body, line, fragment
):
    monkeypatch.setattr(T, "USE_PANDAS", use_pandas)
    monkeypatch.setattr(T, "PANDAS_MIN_BYTES", 0)  # small bodies: exercise the pandas tokenizer too
    path = text(tmp_path / "f.txt", body)
    with pytest.raises(FormatError) as info:
        read_mot_file(path, kind)
    err = info.value
    assert err.path == path and err.line == line
    assert fragment in err.reason, err.reason
    assert str(path) in str(err) and f"line {line}" in str(err)


def test_detections_may_repeat_ids(tmp_path):
    rows = read_mot_file(
        text(tmp_path / "d.txt", "1,-1,1,1,2,2,0.5,-1,-1,-1\n1,-1,3,3,2,2,0.4,-1,-1,-1\n"), "det"
    )
    assert len(rows) == 2


def test_frames_beyond_seq_length(tmp_path):
    info = SeqInfo("S", "img1", 30.0, 3, 64, 48, ".jpg")
    path = text(tmp_path / "r.txt", "3,1,1,1,2,2,1\n4,1,1,1,2,2,1\n")
    with pytest.raises(FormatError, match="frame 4 is beyond seqLength=3") as info_:
        read_mot_file(path, "results", info)
    assert info_.value.line == 2
    assert len(read_mot_file(path, "results")) == 2  # no seq_info: no bound


def test_non_utf8_and_missing_file(tmp_path):
    p = tmp_path / "bin.txt"
    p.write_bytes(b"1,1,1,1,2,2,1\n1,2,\xff\xfe,1,2,2,1\n")
    with pytest.raises(FormatError) as info:
        read_mot_file(p, "results")
    assert info.value.line == 2
    with pytest.raises(FormatError, match="not found"):
        read_mot_file(tmp_path / "nope.txt", "gt")
    with pytest.raises(ValueError, match="kind"):
        read_mot_file(p, "tracks")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- seqinfo
def test_seqinfo_read_write(tmp_path):
    p = text(tmp_path / "seqinfo.ini", SEQINFO.format(name="MOT17-02-SDP", n=600))
    info = read_seqinfo(p)
    assert info == SeqInfo("MOT17-02-SDP", "img1", 30.0, 600, 64, 48, ".jpg")
    assert isinstance(info.seq_length, int) and isinstance(info.frame_rate, float)
    info2 = SeqInfo("x", "img1", 12.5, 7, 10, 20, ".png")
    assert read_seqinfo(write_seqinfo(tmp_path / "w.ini", info2)) == info2


@pytest.mark.parametrize(
    "edit,fragment",
    [
        (lambda s: s.replace("seqLength=5\n", ""), "lacks the key 'seqLength'"),
        (lambda s: s.replace("imExt=.jpg\n", ""), "lacks the key 'imExt'"),
        (lambda s: s.replace("seqLength=5", "seqLength=five"), "seqLength must be a number, got 'five'"),
        (lambda s: s.replace("imWidth=64", "imWidth=64.5"), "imWidth must be an integer"),
        (lambda s: s.replace("frameRate=30", "frameRate=-1"), "frameRate must be a positive number"),
        (lambda s: s.replace("[Sequence]", "[Seq]"), "no [Sequence] section"),
        (lambda s: s.replace("name=S\n", "name=S\nname S\n"), "expected 'key=value'"),
        (lambda s: s + "seqLength=6\n", "given twice"),
        (lambda s: s.replace("imExt=.jpg", "imExt=jpg"), "imExt must start with '.'"),
    ],
)
def test_seqinfo_errors_name_the_key(tmp_path, edit, fragment):
    p = text(tmp_path / "seqinfo.ini", edit(SEQINFO.format(name="S", n=5)))
    with pytest.raises(FormatError) as info:
        read_seqinfo(p)
    assert fragment in info.value.reason and info.value.path == p


# ---------------------------------------------------------------------------------------------- seqmaps
def test_seqmap_round_trip_and_errors(tmp_path):
    p = write_seqmap(tmp_path / "map.txt", ["A-01", "B-02"])
    assert p.read_text() == "name\nA-01\nB-02\n"
    assert read_seqmap(p) == ["A-01", "B-02"]
    with pytest.raises(FormatError, match="header line 'name'"):
        read_seqmap(text(tmp_path / "m2.txt", "A-01\nB-02\n"))
    with pytest.raises(FormatError, match="listed twice") as info:
        read_seqmap(text(tmp_path / "m3.txt", "name\nA\nB\nA\n"))
    assert info.value.line == 4


# -------------------------------------------------------------------------------------------- sequences
def test_load_sequence_and_split(tmp_path):
    mot_sequence(tmp_path / "train", "SEQ-01")
    mot_sequence(tmp_path / "train", "SEQ-02")
    seq = load_sequence(tmp_path / "train" / "SEQ-01")
    assert seq.name == "SEQ-01" and len(seq) == 3 and len(seq.gt) == 5 and len(seq.det) == 3
    assert seq.image_path(2) == tmp_path / "train" / "SEQ-01" / "img1" / "000002.jpg"
    assert load_sequence(tmp_path / "train" / "SEQ-01", load_gt=False, load_det=False).gt is None
    assert [s.name for s in load_split(tmp_path / "train")] == ["SEQ-01", "SEQ-02"]
    assert [s.name for s in load_split(tmp_path / "train", ["SEQ-02"])] == ["SEQ-02"]
    write_seqmap(tmp_path / "map.txt", ["SEQ-02", "SEQ-01"])
    assert [s.name for s in load_split(tmp_path / "train", tmp_path / "map.txt")] == ["SEQ-02", "SEQ-01"]


def test_load_sequence_errors(tmp_path):
    seq = mot_sequence(tmp_path, "S")
    (seq / "img1" / "000002.jpg").unlink()
    with pytest.raises(FormatError, match="missing image") as info:
        load_sequence(seq)
    assert info.value.frame == 2 and info.value.path.name == "000002.jpg"
    assert load_sequence(seq, check_images=False).name == "S"
    (seq / "seqinfo.ini").unlink()
    with pytest.raises(FormatError, match="expected a MOTChallenge sequence folder"):
        load_sequence(seq)
    with pytest.raises(FormatError, match="expected a MOTChallenge split folder"):
        load_split(tmp_path / "missing")
    with pytest.raises(FormatError, match="listed but its folder is missing"):
        load_split(tmp_path, ["NOPE"])
    # gt beyond seqLength is caught when the sequence is loaded
    seq2 = mot_sequence(tmp_path, "S2", n=2)
    with pytest.raises(FormatError, match="beyond seqLength=2"):
        load_sequence(seq2)


# ------------------------------------------------------------------------------------------ real MOT17
@needs_real
def test_every_real_mot17_file_reads_and_matches_an_independent_parse():
    gt_files = sorted((REAL / "gt" / "MOT17-train").glob("*/gt/gt.txt"))
    res_files = sorted((REAL / "tracker" / "data").glob("*.txt"))
    assert len(gt_files) == 21 and len(res_files) == 21
    for path, kind in [(p, "gt") for p in gt_files[::4]] + [(p, "results") for p in res_files[::4]]:
        ref = np.loadtxt(path, delimiter=",")
        rows = read_mot_file(path, kind)
        np.testing.assert_array_equal(rows.frames, ref[:, 0])
        np.testing.assert_array_equal(rows.ids, ref[:, 1])
        np.testing.assert_array_equal(rows.boxes, _ref_boxes(ref))
        np.testing.assert_array_equal(rows.scores, ref[:, 6])
        np.testing.assert_array_equal(rows.classes, ref[:, 7])


@needs_real
def test_real_mot17_split_loads_with_tracker_files_and_is_fast():
    t0 = time.perf_counter()
    seqs = load_split(REAL / "gt" / "MOT17-train", REAL / "seqmaps" / "MOT17-train.txt", check_images=False)
    results = [read_mot_file(REAL / "tracker" / "data" / f"{s.name}.txt", "results", s.info) for s in seqs]
    elapsed = time.perf_counter() - t0
    assert len(seqs) == 21 and seqs[0].name == "MOT17-02-DPM" and seqs[0].info.seq_length == 600
    assert sum(len(s.gt) for s in seqs) == 613503  # total gt lines (wc -l)
    assert sum(len(r) for r in results) == 322917
    print(f"\nread 21 gt + 21 tracker files (46.9 MB) in {elapsed:.2f} s")


@needs_real
def test_fast_paths_equal_the_validating_scan_on_real_files(monkeypatch):
    path = REAL / "tracker" / "data" / "MOT17-02-SDP.txt"
    fast = T.read_table(path)
    monkeypatch.setattr(T, "USE_PANDAS", False)
    loadtxt = T.read_table(path)
    rows, lines = T._scan(path, path.read_text(), None, False)
    assert fast.values.tobytes() == loadtxt.values.tobytes() == np.asarray(rows).tobytes()
    np.testing.assert_array_equal(fast.lines, lines)


@needs_real
def test_real_tracker_file_survives_read_write_read_exactly(tmp_path):
    src = REAL / "tracker" / "data" / "MOT17-09-SDP.txt"
    rows = read_mot_file(src, "results")
    out = write_mot_file(tmp_path / "res.txt", rows, "results")
    a, b = np.loadtxt(src, delimiter=","), np.loadtxt(out, delimiter=",")
    np.testing.assert_array_equal(b[:, [0, 1, 6]], a[:, [0, 1, 6]])  # frame, id, score: bit for bit
    # left/top/w/h pass through xyxy arithmetic: equal up to the last bit (1 ulp at these magnitudes)
    np.testing.assert_allclose(b[:, 2:6], a[:, 2:6], rtol=4e-16, atol=2.3e-13)
    assert (b[:, 2:4] == a[:, 2:4]).mean() > 0.99


def test_dancetrack_eight_digit_frames(tmp_path):
    """DanceTrack names frames img1/00000001.jpg (8 digits); MOTChallenge uses 6."""
    from zoo.core.video import write_image
    from zoo.data.formats.motchallenge import load_sequence, write_seqinfo
    from zoo.data.types import SeqInfo

    seq = tmp_path / "dancetrack0001"
    write_seqinfo(seq / "seqinfo.ini", SeqInfo("dancetrack0001", "img1", 20.0, 3, 8, 8, ".jpg"))
    for t in range(1, 4):
        write_image(seq / "img1" / f"{t:08d}.jpg", np.zeros((8, 8, 3), np.uint8))
    loaded = load_sequence(seq)
    assert loaded.frame_digits == 8 and loaded.image_path(3).name == "00000003.jpg" and loaded.image_path(3).exists()
    (seq / "img1" / "00000002.jpg").unlink()
    with pytest.raises(FormatError, match="00000002.jpg.*missing image"):
        load_sequence(seq)


def test_identical_files_are_parsed_once_and_callers_get_private_copies(tmp_path, monkeypatch):
    import zoo.data.formats.motchallenge as M

    body = rows_text(GT_ROWS)
    a, b = text(tmp_path / "a" / "gt.txt", body), text(tmp_path / "b" / "gt.txt", body)
    monkeypatch.setattr(M, "_PARSED", type(M._PARSED)())
    parsed = []
    real = M._parse_mot_rows
    monkeypatch.setattr(M, "_parse_mot_rows", lambda *args: parsed.append(args[0]) or real(*args))
    first, second = read_mot_file(a, "gt"), read_mot_file(b, "gt")
    assert parsed == [a]  # the second file's bytes were seen before
    for field in ("frames", "ids", "boxes", "scores", "classes", "visibility"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    first.boxes[:] = -1  # a caller editing its rows in place never reaches the memo or the other copy
    assert (read_mot_file(b, "gt").boxes != -1).all() and (second.boxes != -1).all()
    read_mot_file(a, "results")  # another kind, another parse and validation
    info = SeqInfo("S", "img1", 30.0, 1, 64, 48, ".jpg")
    with pytest.raises(FormatError, match="beyond seqLength=1"):  # seqLength is part of the key
        read_mot_file(b, "gt", info)
    changed = text(tmp_path / "c" / "gt.txt", body.replace(",", ", ", 1))
    read_mot_file(changed, "gt")
    assert parsed.count(changed) == 1


def test_memo_is_bounded(tmp_path, monkeypatch):
    import zoo.data.formats.motchallenge as M

    monkeypatch.setattr(M, "_PARSED", type(M._PARSED)())
    monkeypatch.setattr(M, "_PARSED_MAX_ROWS", 2)
    for i in range(4):
        read_mot_file(text(tmp_path / f"{i}.txt", f"{i + 1},1,1,1,2,2,1\n"), "results")
    assert len(M._PARSED) == 2

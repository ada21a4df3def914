from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat

from tests.data.formats_fixtures import jhmdb_clip, png, text
from zoo.data.formats import FormatError
from zoo.data.formats._mat import read_mat_numeric
from zoo.data.formats.jhmdb import load_jhmdb, read_joint_positions


def test_load_clip_keypoints(tmp_path):
    clip, pos = jhmdb_clip(tmp_path)
    split = text(tmp_path / "val.txt", "brush_hair/clip_a\n")
    (seq,) = load_jhmdb(tmp_path, split)
    assert seq.name == "clip_a" and len(seq) == 3 and seq.frames[0] == clip / "00001.png"
    assert seq.keypoints.shape == (3, 15, 2) and seq.keypoints.dtype == np.float64
    # hand index: joint 4 of frame 2 (0-based t=1): x = pos[0, 4, 1] - 1, y = pos[1, 4, 1] - 1
    assert seq.keypoints[1, 4, 0] == pos[0, 4, 1] - 1 and seq.keypoints[1, 4, 1] == pos[1, 4, 1] - 1
    # absolute paths work too
    (seq2,) = load_jhmdb(tmp_path / "elsewhere", text(tmp_path / "abs.txt", f"{clip}\n"))
    np.testing.assert_array_equal(seq2.keypoints, seq.keypoints)


def test_original_release_layout(tmp_path):
    for t in range(1, 3):
        png(tmp_path / "Rename_Images" / "run" / "c1" / f"{t:05d}.png")
    mat_dir = tmp_path / "joint_positions" / "run" / "c1"
    mat_dir.mkdir(parents=True)
    savemat(str(mat_dir / "joint_positions.mat"), {"pos_img": np.ones((2, 15, 2)) * 3})
    (seq,) = load_jhmdb(tmp_path, text(tmp_path / "s.txt", "Rename_Images/run/c1\n"))
    assert (seq.keypoints == 2).all() and len(seq) == 2


@pytest.mark.parametrize(
    "content,fragment",
    [
        ({"pos_world": np.ones((2, 15, 3))}, "no variable 'pos_img'"),
        ({"pos_img": np.ones((2, 14, 3))}, "(2, 15, T)"),
        ({"pos_img": np.ones((15, 3))}, "(2, 15, T)"),
        ({"pos_img": np.full((2, 15, 3), np.nan)}, "NaN or inf"),
        ({"pos_img": np.array(["a"])}, "numeric"),
    ],
)
def test_bad_mat_contents(tmp_path, content, fragment):
    clip, _ = jhmdb_clip(tmp_path)
    savemat(str(clip / "joint_positions.mat"), content)
    with pytest.raises(FormatError) as info:
        read_joint_positions(clip / "joint_positions.mat")
    assert fragment in info.value.reason


def test_broken_files(tmp_path):
    clip, _ = jhmdb_clip(tmp_path)
    mat = clip / "joint_positions.mat"
    data = mat.read_bytes()
    mat.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="claims .* bytes, only .* remain"):
        read_joint_positions(mat)
    mat.write_bytes(b"garbage" * 30)
    with pytest.raises(FormatError, match="not a MATLAB level-5 MAT-file"):
        read_joint_positions(mat)
    # the byte flip that makes scipy.io.loadmat segfault: an unknown type code for the real part's tag
    bad = bytearray(data)
    at = data.index(b"pos_img") + 8
    assert bad[at] == 9  # miDOUBLE
    bad[at] = 246
    mat.write_bytes(bytes(bad))
    with pytest.raises(FormatError, match="unknown element type 246"):
        read_joint_positions(mat)
    mat.unlink()
    with pytest.raises(FormatError, match="not found"):
        load_jhmdb(tmp_path, text(tmp_path / "s.txt", "brush_hair/clip_a\n"))


def test_split_file_errors_and_missing_frames(tmp_path):
    clip, _ = jhmdb_clip(tmp_path)
    with pytest.raises(FormatError, match="clip folder") as info:
        load_jhmdb(tmp_path, text(tmp_path / "s.txt", "brush_hair/clip_a\nnope/clip\n"))
    assert info.value.line == 2
    with pytest.raises(FormatError, match="expected '<clip folder>"):
        load_jhmdb(tmp_path, text(tmp_path / "s.txt", "a b c\n"))
    (clip / "00002.png").unlink()
    with pytest.raises(FormatError, match="missing frame") as info:
        load_jhmdb(tmp_path, text(tmp_path / "s.txt", "brush_hair/clip_a\n"))
    assert info.value.frame == 2
    assert len(load_jhmdb(tmp_path, tmp_path / "s.txt", check_images=False)[0]) == 3


@pytest.mark.parametrize("compress", [False, True])
def test_mat_reader_matches_scipy(tmp_path, compress):
    from scipy.io import loadmat

    rng = np.random.default_rng(1)
    arrays = {
        "a": rng.normal(size=(2, 15, 4)),
        "b": rng.integers(0, 200, (3, 5)).astype(np.uint8),
        "c": rng.integers(-5, 5, (2, 3, 2)).astype(np.int16),
        "d": np.float32(rng.normal(size=(1, 7))),
        "e": np.zeros((0, 3)),
        "s": "a string",
        "pos_img": rng.uniform(0, 320, (2, 15, 1)),
    }
    path = tmp_path / "m.mat"
    savemat(str(path), arrays, do_compression=compress)
    ref = loadmat(str(path))
    for name in ("a", "b", "c", "d", "e", "pos_img"):
        got = read_mat_numeric(path, name)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, ref[name].astype(np.float64), err_msg=name)
    with pytest.raises(FormatError, match="not a numeric array"):
        read_mat_numeric(path, "s")
    # a one-frame clip: MATLAB/scipy keep (2, 15, 1)
    assert read_joint_positions(path).shape == (1, 15, 2)


def test_mat_writer_round_trips_through_scipy_and_is_deterministic(tmp_path):
    from scipy.io import loadmat

    from zoo.data.formats._mat import write_mat_numeric

    rng = np.random.default_rng(2)
    arrays = {
        "pos_img": rng.uniform(-3, 320, (2, 15, 5)),
        "visibility": rng.random((15, 5)) < 0.7,
        "small": np.arange(3, dtype=np.int32),
        "f": np.float32(rng.normal(size=(2, 3))),
    }
    a, b = tmp_path / "a.mat", tmp_path / "b.mat"
    write_mat_numeric(a, arrays)
    write_mat_numeric(b, arrays)
    assert a.read_bytes() == b.read_bytes()  # no time stamp in the header
    ref = loadmat(str(a))
    np.testing.assert_array_equal(ref["pos_img"], arrays["pos_img"])
    assert ref["visibility"].dtype == np.uint8
    np.testing.assert_array_equal(ref["visibility"], arrays["visibility"])
    np.testing.assert_array_equal(ref["small"], arrays["small"][None])
    np.testing.assert_array_equal(ref["f"], arrays["f"])
    for name in ("pos_img", "visibility", "f"):
        np.testing.assert_array_equal(read_mat_numeric(a, name), np.asarray(arrays[name], np.float64))
    assert read_mat_numeric(a, "missing", required=False) is None
    with pytest.raises(FormatError, match="no variable 'missing'"):
        read_mat_numeric(a, "missing")
    with pytest.raises(ValueError, match="real numeric"):
        write_mat_numeric(tmp_path / "c.mat", {"z": np.zeros(2, complex)})
    with pytest.raises(ValueError, match="identifiers"):
        write_mat_numeric(tmp_path / "c.mat", {"2x": np.zeros(2)})


def test_visibility_variable_marks_hidden_joints_nan(tmp_path):
    from zoo.data.formats.jhmdb import (
        read_joint_visibility,
        split_path,
        write_joint_positions,
        write_split,
    )

    rng = np.random.default_rng(3)
    kp = rng.uniform(0, 30, (3, 15, 2))
    visible = np.ones((3, 15), bool)
    visible[1, [2, 7]] = False
    clip = tmp_path / "zskp-val-00"
    for t in range(1, 4):
        png(clip / f"{t:05d}.png")
    write_joint_positions(clip / "joint_positions.mat", kp, visible)
    write_split(tmp_path / "val_list.txt", ["zskp-val-00"])
    assert split_path(tmp_path, "val") == tmp_path / "val_list.txt"  # a split name
    assert split_path(tmp_path, "val_list.txt") == tmp_path / "val_list.txt"  # a split file
    (seq,) = load_jhmdb(tmp_path, split_path(tmp_path, "val"))
    want = kp.copy()
    want[~visible] = np.nan
    np.testing.assert_allclose(seq.keypoints, want, rtol=0, atol=1e-12)  # pos_img is 1-based: x + 1 - 1
    # pos_img still holds every joint (plain JHMDB readers see the hidden ones' positions)
    np.testing.assert_allclose(read_joint_positions(clip / "joint_positions.mat"), kp, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(read_joint_visibility(clip / "joint_positions.mat", 3), visible)
    # a file without the variable (real JHMDB) has every joint
    write_joint_positions(clip / "joint_positions.mat", kp)
    assert read_joint_visibility(clip / "joint_positions.mat", 3) is None
    np.testing.assert_allclose(load_jhmdb(tmp_path, tmp_path / "val_list.txt")[0].keypoints, kp, atol=1e-12)
    # a malformed visibility is a FormatError naming the file
    savemat(
        str(clip / "joint_positions.mat"),
        {"pos_img": kp.transpose(2, 1, 0) + 1, "visibility": np.ones((15, 2))},
    )
    with pytest.raises(FormatError, match=r"visibility must be \(15, 3\)"):
        load_jhmdb(tmp_path, tmp_path / "val_list.txt")
    savemat(
        str(clip / "joint_positions.mat"),
        {"pos_img": kp.transpose(2, 1, 0) + 1, "visibility": np.full((15, 3), 2.0)},
    )
    with pytest.raises(FormatError, match="0 .hidden. or 1"):
        load_jhmdb(tmp_path, tmp_path / "val_list.txt")
    with pytest.raises(ValueError, match="finite"):
        write_joint_positions(clip / "x.mat", np.full((1, 15, 2), np.nan))

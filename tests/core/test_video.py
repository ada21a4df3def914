"""Image / video I/O round trips and error reporting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.core.video import (
    list_frames,
    read_frames,
    read_image,
    write_frame_folder,
    write_image,
    write_video,
)
from zoo.data.formats.errors import FormatError


def _smooth_frame(t: int, h: int = 48, w: int = 64) -> np.ndarray:
    """A smooth, moving colour pattern (lossy codecs reproduce it closely)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127 + 100 * np.sin((x + 3 * t) / 9)
    g = 127 + 100 * np.cos((y - 2 * t) / 7)
    b = np.full_like(x, 40.0 + 20 * t)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)


def _flat_frame(t: int) -> np.ndarray:
    """Four flat colour blocks (fits a GIF palette exactly), different for every t."""
    img = np.zeros((32, 40, 3), np.uint8)
    img[:16, :20] = (255, 0, 0)
    img[:16, 20:] = (0, 255, 0)
    img[16:, :20] = (0, 0, 255)
    img[16:, 20:] = (10 * t, 200, 30)
    return img


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------------- images
def test_png_round_trip_is_exact_and_rgb_ordered(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    img[0, 0] = (255, 0, 0)
    path = write_image(tmp_path / "a" / "b" / "x.png", img)  # parents created
    assert path == tmp_path / "a" / "b" / "x.png" and path.is_file()
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (17, 23, 3)
    np.testing.assert_array_equal(out, img)
    assert tuple(out[0, 0]) == (255, 0, 0)  # red stays in channel 0 (no BGR leak)
    assert _no_temp_files(path.parent)


def test_jpg_round_trip_is_close(tmp_path):
    img = _smooth_frame(0)
    for ext in (".jpg", ".JPEG"):
        out = read_image(write_image(tmp_path / f"x{ext}", img))
        assert out.shape == img.shape
        diff = np.abs(out.astype(int) - img.astype(int))
        assert diff.mean() < 2.0 and diff.max() < 40  # quality 95
    # Channel order survives lossy coding too.
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 250
    assert read_image(write_image(tmp_path / "red.jpg", red)).mean(axis=(0, 1)).argmax() == 0


def test_grey_input_becomes_rgb(tmp_path):
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8)
    out = read_image(write_image(tmp_path / "g.png", grey))
    np.testing.assert_array_equal(out, np.repeat(grey[..., None], 3, axis=2))


def test_write_image_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="extension"):
        write_image(tmp_path / "x.tiff", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        write_image(tmp_path / "x.png", np.zeros((4, 4, 4), np.uint8))


def test_missing_and_unreadable_images_name_the_file(tmp_path):
    missing = tmp_path / "nope.jpg"
    with pytest.raises(FormatError, match="not found") as err:
        read_image(missing)
    assert err.value.path == missing and str(missing) in str(err.value)

    garbage = tmp_path / "garbage.png"
    garbage.write_text("this is not an image")
    with pytest.raises(FormatError, match="decode") as err:
        read_image(garbage)
    assert str(garbage) in str(err.value)

    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty"):
        read_image(empty)


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_truncated_images_are_rejected(tmp_path, ext):
    # libjpeg alone would decode a truncated JPEG with a grey bottom and only print a warning.
    data = write_image(tmp_path / f"full{ext}", _smooth_frame(1)).read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(FormatError, match="truncated") as err:
        read_image(cut)
    assert str(cut) in str(err.value)
    # Trailing bytes after a complete file are harmless.
    padded = tmp_path / f"padded{ext}"
    padded.write_bytes(data + b"\x00" * 16)
    np.testing.assert_array_equal(read_image(padded), read_image(tmp_path / f"full{ext}"))


# --------------------------------------------------------------------------------------------- frame folders
def test_list_frames_natural_order_and_filters(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    for name in ["10.jpg", "2.jpg", "1.jpg", "img_003.PNG", "notes.txt", "b.jpeg"]:
        if name.endswith(".txt"):
            (tmp_path / name).write_text("x")
        else:
            write_image(tmp_path / name, img)
    (tmp_path / "sub.jpg").mkdir()  # a directory with an image-like name is not a frame
    assert [p.name for p in list_frames(tmp_path)] == ["1.jpg", "2.jpg", "10.jpg", "b.jpeg", "img_003.PNG"]
    assert [p.name for p in list_frames(tmp_path, exts=("png",))] == ["img_003.PNG"]
    with pytest.raises(FormatError, match="not found") as err:
        list_frames(tmp_path / "missing")
    assert "missing" in str(err.value)


def test_frame_folder_round_trip(tmp_path):
    frames = [_flat_frame(t) for t in range(12)]
    paths = write_frame_folder(tmp_path / "seq", frames, pattern="{:06d}.png", start=1)
    assert [p.name for p in paths] == [f"{i:06d}.png" for i in range(1, 13)]
    back = list(read_frames(tmp_path / "seq"))
    assert len(back) == 12
    for a, b in zip(back, frames):
        np.testing.assert_array_equal(a, b)
    jpgs = write_frame_folder(tmp_path / "jpg", frames[:3])
    assert [p.name for p in jpgs] == ["00000.jpg", "00001.jpg", "00002.jpg"]


# ------------------------------------------------------------------------------------------------------ video
def test_mp4_round_trip(tmp_path):
    frames = [_smooth_frame(t) for t in range(8)]
    path = write_video(tmp_path / "out" / "v.mp4", iter(frames), fps=5)  # any iterable
    assert path.is_file() and _no_temp_files(path.parent)
    back = list(read_frames(path))
    assert len(back) == len(frames)
    for a, b in zip(back, frames):
        assert a.shape == b.shape and a.dtype == np.uint8
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 8.0
    # Frames stay distinguishable and in order: each decoded frame is closest to its own source frame.
    errs = np.array([[np.abs(a.astype(int) - b.astype(int)).mean() for b in frames] for a in back])
    assert (errs.argmin(axis=1) == np.arange(len(frames))).all()


def test_gif_round_trip_loops(tmp_path):
    from PIL import Image

    frames = [_flat_frame(t) for t in range(6)]
    path = write_video(tmp_path / "v.gif", frames, fps=20)
    back = list(read_frames(path))
    assert len(back) == 6
    for a, b in zip(back, frames):
        np.testing.assert_array_equal(a, b)
    with Image.open(path) as im:
        assert im.info.get("loop") == 0 and im.info.get("duration") == 50


def test_write_video_errors_leave_nothing_behind(tmp_path):
    frames = [_smooth_frame(0), _smooth_frame(1, h=32)]
    for ext in (".mp4", ".gif"):
        with pytest.raises(ValueError, match="frame 1"):
            write_video(tmp_path / f"bad{ext}", frames)
        assert not (tmp_path / f"bad{ext}").exists()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="no frames"):
        write_video(tmp_path / "empty.mp4", [])
    with pytest.raises(ValueError, match="extension"):
        write_video(tmp_path / "v.mkv", [_smooth_frame(0)])
    with pytest.raises(ValueError, match="fps"):
        write_video(tmp_path / "v.mp4", [_smooth_frame(0)], fps=0)


def test_write_video_replaces_existing_file(tmp_path):
    path = tmp_path / "v.gif"
    write_video(path, [_flat_frame(t) for t in range(3)])
    write_video(path, [_flat_frame(t) for t in range(5)])
    assert len(list(read_frames(path))) == 5 and _no_temp_files(tmp_path)


def test_unreadable_videos_name_the_file(tmp_path):
    with pytest.raises(FormatError, match="not found") as err:
        read_frames(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(err.value)
    (tmp_path / "empty_seq").mkdir()
    with pytest.raises(FormatError, match="no images") as err:
        read_frames(tmp_path / "empty_seq")
    assert "empty_seq" in str(err.value)
    for name in ("broken.mp4", "broken.gif"):
        bad = tmp_path / name
        bad.write_bytes(b"\x00\x01garbage" * 50)
        with pytest.raises(FormatError) as err:
            list(read_frames(bad))
        assert str(bad) in str(err.value)

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.data.formats_fixtures import SIZE, davis_root, jpg, palette_png, png, text
from zoo.data.formats import FormatError
from zoo.data.formats.davis import (
    DAVIS_PALETTE,
    load_davis,
    read_imageset,
    read_palette_mask,
    write_imageset,
    write_palette_mask,
)


def test_palette_matches_the_davis_colours():
    assert DAVIS_PALETTE.shape == (256, 3) and DAVIS_PALETTE.dtype == np.uint8
    # colours of the DAVIS/PASCAL-VOC annotation PNGs, as listed in their palettes
    known = {
        0: (0, 0, 0),
        1: (128, 0, 0),
        2: (0, 128, 0),
        3: (128, 128, 0),
        4: (0, 0, 128),
        5: (128, 0, 128),
        6: (0, 128, 128),
        7: (128, 128, 128),
        8: (64, 0, 0),
        9: (192, 0, 0),
        15: (192, 128, 128),
        255: (224, 224, 192),
    }
    for label, rgb in known.items():
        assert tuple(DAVIS_PALETTE[label]) == rgb, label
    assert len({tuple(c) for c in DAVIS_PALETTE}) == 256  # a bijection


def test_write_read_palette_mask_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    mask = rng.integers(0, 6, (5, 7)).astype(np.uint8)
    mask[0, 0] = 255
    path = write_palette_mask(tmp_path / "a" / "00000.png", mask)
    with Image.open(path) as img:  # independent check of the file itself
        assert img.mode == "P" and img.size == (7, 5)
        pal = np.asarray(img.getpalette()[:768], np.uint8).reshape(-1, 3)
        np.testing.assert_array_equal(np.asarray(img), mask)
    np.testing.assert_array_equal(pal[:256], DAVIS_PALETTE)
    back = read_palette_mask(path)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, mask)
    np.testing.assert_array_equal(
        read_palette_mask(path, merge_objects=True), np.where((mask > 0) & (mask < 255), 1, mask)
    )
    assert [p.name for p in path.parent.iterdir()] == ["00000.png"]  # no temp file left
    with pytest.raises(ValueError):
        write_palette_mask(tmp_path / "b.png", np.full((2, 2), 300))
    with pytest.raises(ValueError):
        write_palette_mask(tmp_path / "b.png", np.zeros((2, 2, 3), np.uint8))


def test_read_hand_made_palette_png(tmp_path):
    labels = np.array([[0, 1], [2, 255]], np.uint8)
    np.testing.assert_array_equal(read_palette_mask(palette_png(tmp_path / "m.png", labels)), labels)


def test_davis2016_binary_masks_are_object_one(tmp_path):
    grey = np.zeros((4, 4), np.uint8)
    grey[1:3, 1:3] = 255
    Image.fromarray(grey).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_palette_mask(tmp_path / "m.png"), (grey == 255).astype(np.uint8))
    Image.fromarray(grey > 0).save(tmp_path / "b.png")  # mode "1"
    np.testing.assert_array_equal(read_palette_mask(tmp_path / "b.png"), (grey == 255).astype(np.uint8))


def test_bad_masks(tmp_path):
    with pytest.raises(FormatError, match="got mode 'RGB'"):
        read_palette_mask(png(tmp_path / "rgb.png"))
    grey = np.full((4, 4), 7, np.uint8)
    Image.fromarray(grey).save(tmp_path / "g.png")
    with pytest.raises(FormatError, match="not binary 0/255"):
        read_palette_mask(tmp_path / "g.png")
    good = write_palette_mask(tmp_path / "ok.png", np.ones((8, 8), np.uint8))
    data = good.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="unreadable") as info:
        read_palette_mask(tmp_path / "trunc.png")
    assert info.value.path.name == "trunc.png"
    (tmp_path / "junk.png").write_bytes(b"not a png at all")
    with pytest.raises(FormatError, match="unreadable"):
        read_palette_mask(tmp_path / "junk.png")
    with pytest.raises(FormatError, match="not found"):
        read_palette_mask(tmp_path / "missing.png")


def test_imagesets(tmp_path):
    p = write_imageset(tmp_path / "val.txt", ["bear", "car-shadow"])
    assert p.read_text() == "bear\ncar-shadow\n" and read_imageset(p) == ["bear", "car-shadow"]
    old = text(
        tmp_path / "2016.txt",
        "/JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png\n"
        "/JPEGImages/480p/bear/00001.jpg /Annotations/480p/bear/00001.png\n"
        "/JPEGImages/480p/blackswan/00000.jpg /Annotations/480p/blackswan/00000.png\n",
    )
    assert read_imageset(old) == ["bear", "blackswan"]
    with pytest.raises(FormatError) as info:
        read_imageset(text(tmp_path / "bad.txt", "bear\nbear car\n"))
    assert info.value.line == 2


def test_load_davis(tmp_path):
    root = davis_root(tmp_path)
    seqs = load_davis(root)
    assert [s.name for s in seqs] == ["bear", "car"]
    s = seqs[0]
    assert len(s) == 3 and s.frames[2].name == "00002.jpg" and sorted(s.annotations) == [0, 1, 2]
    m = read_palette_mask(s.annotations[1])
    assert m.shape == (SIZE, SIZE) and set(np.unique(m)) == {0, 1, 2, 255}
    assert [x.name for x in load_davis(root, sequences=["car"])] == ["car"]


def test_load_davis_first_frame_only(tmp_path):
    seqs = load_davis(davis_root(tmp_path, first_only=True))
    assert all(sorted(s.annotations) == [0] and len(s) == 3 for s in seqs)


def test_load_davis_errors(tmp_path):
    root = davis_root(tmp_path / "a")
    (root / "Annotations" / "480p" / "bear" / "00001.png").unlink()
    with pytest.raises(FormatError, match="jumps to 00002.png") as info:
        load_davis(root)
    assert info.value.path.name == "00001.png"

    root = davis_root(tmp_path / "b")
    (root / "JPEGImages" / "480p" / "car" / "00002.jpg").unlink()
    with pytest.raises(FormatError, match="beyond the last frame"):
        load_davis(root)

    root = davis_root(tmp_path / "c")
    jpg(root / "JPEGImages" / "480p" / "car" / "00001.jpg", size=(9, 8))
    with pytest.raises(FormatError, match="frame size") as info:
        load_davis(root)
    assert info.value.path.name == "00001.jpg"
    assert len(load_davis(root, check_images=False)) == 2

    root = davis_root(tmp_path / "d")
    palette_png(root / "Annotations" / "480p" / "bear" / "00002.png", np.zeros((SIZE, SIZE + 1), np.uint8))
    with pytest.raises(FormatError, match="annotation size"):
        load_davis(root)

    root = davis_root(tmp_path / "e")
    png(root / "Annotations" / "480p" / "bear" / "00001.png")
    with pytest.raises(FormatError, match="palette"):
        load_davis(root)

    with pytest.raises(FormatError, match="ImageSets list not found"):
        load_davis(root, split="test-dev")
    with pytest.raises(FormatError, match="frame folder not found"):
        load_davis(root, sequences=["nope"])
    with pytest.raises(FormatError, match="DAVIS root not found"):
        load_davis(tmp_path / "zzz")


def _png_bytes(labels: np.ndarray, filters: list[int]) -> bytes:
    """A palette PNG written by hand with the given row filters (only 0 = None and 1 = Sub here)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(kind)))

    h, w = labels.shape
    raw = b""
    for y in range(h):
        row = labels[y].astype(np.int64)
        if filters[y] == 1:
            row = (row - np.concatenate([[0], row[:-1]])) % 256
        raw += bytes([filters[y]]) + row.astype(np.uint8).tobytes()
    palette = bytes(np.repeat(np.arange(256, dtype=np.uint8), 3))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", palette) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_fast_palette_decoder_equals_pillow(tmp_path):
    from zoo.data.formats.davis import _plain_palette_png

    rng = np.random.default_rng(0)
    for shape in [(1, 1), (7, 13), (480, 854)]:
        labels = rng.choice(np.array([0, 1, 2, 3, 255], np.uint8), size=shape)
        path = write_palette_mask(tmp_path / f"m{shape[0]}.png", labels)
        fast = _plain_palette_png(path.read_bytes())
        assert fast is not None and fast.dtype == np.uint8  # Pillow writes filter-0 palette rows
        np.testing.assert_array_equal(fast, np.asarray(Image.open(path)))
        np.testing.assert_array_equal(read_palette_mask(path), labels)
        np.testing.assert_array_equal(read_palette_mask(path, merge_objects=True),
                                      np.where((labels > 0) & (labels < 255), 1, labels))
    labels = rng.integers(0, 4, (6, 9)).astype(np.uint8)
    sub = tmp_path / "sub.png"
    sub.write_bytes(_png_bytes(labels, [0, 1, 0, 1, 1, 0]))
    assert _plain_palette_png(sub.read_bytes()) is None  # a filtered row: Pillow decodes the file
    np.testing.assert_array_equal(read_palette_mask(sub), labels)
    plain = _png_bytes(labels, [0] * 6)
    np.testing.assert_array_equal(_plain_palette_png(plain), labels)
    corrupt = bytearray(plain)
    corrupt[-20] ^= 0xFF  # inside the IDAT data: the CRC no longer matches
    assert _plain_palette_png(bytes(corrupt)) is None
    import zlib

    import zoo.data.formats.davis as D

    big = write_palette_mask(tmp_path / "big.png", rng.integers(0, 5, (480, 854)).astype(np.uint8))
    assert D._inflate is not zlib.decompress  # zlib-ng is a dependency: the fast inflate is the one used
    with pytest.MonkeyPatch.context() as mp:  # without zlib-ng: the same labels through zlib
        mp.setattr(D, "_inflate", zlib.decompress)
        np.testing.assert_array_equal(_plain_palette_png(big.read_bytes()), np.asarray(Image.open(big)))
    grey = tmp_path / "grey.png"
    Image.fromarray(np.where(labels > 0, 255, 0).astype(np.uint8)).save(grey)
    assert _plain_palette_png(grey.read_bytes()) is None
    np.testing.assert_array_equal(read_palette_mask(grey), (labels > 0).astype(np.uint8))


def test_palette_mask_frames_read_lazily(tmp_path):
    """PaletteMaskFrames reads a file when it is indexed (so a broken file fails then, naming itself), gives
    read_palette_mask's labels as read-only arrays, and slices without reading."""
    from zoo.data.formats.davis import PaletteMaskFrames

    rng = np.random.default_rng(3)
    labels = [rng.choice(np.array([0, 1, 2, 255], np.uint8), size=(9, 14)) for _ in range(4)]
    paths = [write_palette_mask(tmp_path / f"{t:05d}.png", m) for t, m in enumerate(labels)]
    sub = tmp_path / "00004.png"
    sub.write_bytes(_png_bytes(labels[0], [0, 1, 0, 1, 1, 0, 1, 0, 0]))  # Pillow's path
    broken = tmp_path / "00005.png"
    broken.write_bytes(b"not a png")
    frames = PaletteMaskFrames([*paths, sub, broken, tmp_path / "missing.png"])
    assert len(frames) == 7 and len(frames[1:3]) == 2 and frames[1:3].paths == [str(p) for p in paths[1:3]]
    for t in range(4):
        np.testing.assert_array_equal(frames[t], labels[t])
        assert frames[t].dtype == np.uint8 and not frames[t].flags.writeable
    np.testing.assert_array_equal(frames[4], labels[0])
    with pytest.raises(FormatError, match="00005.png"):
        frames[5]
    with pytest.raises(FormatError, match="missing.png: mask file not found"):
        frames[6]

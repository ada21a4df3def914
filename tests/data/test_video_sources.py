"""Training sources for self-supervised video: a folder of the user's own videos (decoded once into a frame
cache, bad files skipped with a warning), a training source separate from the evaluation benchmark, and
training batches that carry (and open) no annotation."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import zoo.data.frame_cache as frame_cache
from zoo.core.video import write_frame_folder, write_video
from zoo.data.benchmarks import BENCHMARKS
from zoo.data.formats.errors import FormatError
from zoo.data.modules import VideoDataModule
from zoo.data.video_folder import CACHE_DIRNAME, LAYOUT, SkippedVideoWarning, load_video_folder

H, W = 32, 48


def _frames(n: int, shift: int = 0) -> list[np.ndarray]:
    """(H, W, 3) uint8 frames of a bright square moving right by 2 px a frame."""
    out = []
    for i in range(n):
        f = np.full((H, W, 3), 40, np.uint8)
        x = (2 * i + shift) % (W - 8)
        f[8:16, x : x + 8] = (220, 180, 60)
        out.append(f)
    return out


def _avi(path: Path, n: int) -> Path:
    """Motion-JPEG AVI (write_video only makes .mp4/.gif)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (W, H))
    assert writer.isOpened()
    for f in _frames(n):
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """a.mp4 (10 frames), b.avi (10), D.MOV (upper-case extension, 10), c/ (5 jpgs); bad: broken.mp4
    (random bytes), one.avi (1 frame), empty/ (no image); notes.txt is not a video and is ignored."""
    root = tmp_path / "videos"
    write_video(root / "a.mp4", _frames(10))
    _avi(root / "b.avi", 10)
    write_video(root / "mov.mp4", _frames(10, shift=3)).rename(root / "D.MOV")
    write_frame_folder(root / "c", _frames(5))
    (root / "broken.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    _avi(root / "one.avi", 1)
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("not a video\n")
    return root


def _skipped(record: list) -> dict[str, str]:
    """{file name: warning message} of the SkippedVideoWarnings in ``record``."""
    out = {}
    for w in record:
        if issubclass(w.category, SkippedVideoWarning):
            name = str(w.message).split(": ")[1].split("/")[-1]
            out[name] = str(w.message)
    return out


def test_videos_folder_decodes_files_keeps_frame_folders_and_skips_bad_ones(videos):
    with pytest.warns(SkippedVideoWarning) as record:
        seqs = load_video_folder(videos, progress=False)
    skipped = _skipped(record.list)
    assert sorted(skipped) == ["broken.mp4", "empty", "one.avi"]
    assert str(videos / "broken.mp4") in skipped["broken.mp4"] and "cannot open" in skipped["broken.mp4"]
    assert "too short: 1 frame(s)" in skipped["one.avi"]
    assert "no images" in skipped["empty"]
    assert [(s.name, len(s)) for s in seqs] == [("D", 10), ("a", 10), ("b", 10), ("c", 5)]
    assert all(not s.annotations and s.keypoints is None for s in seqs)
    # video files are read from the cache, frame folders in place
    cache = videos / CACHE_DIRNAME
    assert all(s.frames[0].parent.parent == cache for s in seqs if s.name != "c")
    assert seqs[3].frames[0].parent == videos / "c"
    assert sorted(p.name.rsplit("-", 1)[0] for p in cache.iterdir()) == ["D.MOV", "a.mp4", "b.avi", "one.avi"]
    first = cv2.cvtColor(cv2.imread(str(seqs[1].frames[4])), cv2.COLOR_BGR2RGB).astype(int)
    assert np.abs(first - _frames(10)[4]).mean() < 8  # lossy codec + JPEG, but the same picture


def test_videos_module_trains_on_every_usable_frame(videos, tmp_path):
    cache = tmp_path / "elsewhere"
    dm = VideoDataModule(
        root=str(videos),
        benchmark="videos",
        frame_cache=str(cache),
        clip_len=3,
        image_size=[16, 16],
        batch_size=2,
        num_workers=0,
    )
    assert dm.val_split is None
    with pytest.warns(SkippedVideoWarning):
        dm.prepare_data()
        dm.setup("fit")
    assert len(dm.train_dataset()) == 35  # D, a, b: 10 frames each; c: 5
    assert not (videos / CACHE_DIRNAME).exists() and len(list(cache.iterdir())) == 1  # one folder a root
    batch = next(iter(dm.train_dataloader()))
    assert batch["images"].shape == (2, 3, 3, 16, 16)
    with pytest.raises(ValueError, match="training only.*data.train_benchmark=videos"):
        dm.eval_sequences()
    # ``folder``, the older name, reads the same layout
    with pytest.warns(SkippedVideoWarning):
        old = VideoDataModule(root=str(videos), benchmark="folder", frame_cache=str(cache), num_workers=0)
        assert [s.name for s in old.train_sequences()] == ["D", "a", "b", "c"]


def test_all_bad_folder_lists_why_each_entry_was_rejected(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    (root / "x.mkv").write_bytes(b"\x00" * 100)
    _avi(root / "short.avi", 1)
    (root / "frames").mkdir()
    write_frame_folder(root / "frames", _frames(1))
    with pytest.warns(SkippedVideoWarning), pytest.raises(FormatError) as err:
        load_video_folder(root, progress=False)
    msg = str(err.value)
    assert str(root) in msg and "no usable video" in msg
    assert "x.mkv: cannot open video" in msg and "short.avi: too short" in msg and "frames: too short" in msg


def test_empty_or_missing_videos_root_fails_at_construction(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"videos: video files or frame folders in .*Expected layout"):
        VideoDataModule(root=str(tmp_path), benchmark="videos")
    with pytest.raises(FileNotFoundError, match="root folder"):
        VideoDataModule(root=str(tmp_path / "nope"), benchmark="videos")
    with pytest.raises(ValueError, match="needs data.root"):
        VideoDataModule(root=None, benchmark="videos")


def test_frame_cache_reuses_decodes_and_redecodes_changed_videos(tmp_path, monkeypatch):
    root = tmp_path / "v"
    write_video(root / "a.mp4", _frames(10))
    _avi(root / "b.avi", 6)
    first = load_video_folder(root, progress=False)
    assert [len(s) for s in first] == [10, 6]

    def no_decoding(path):
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(frame_cache, "read_frames", no_decoding)
    again = load_video_folder(root, progress=False)
    assert [s.frames for s in again] == [s.frames for s in first]

    monkeypatch.undo()
    old_entry = first[0].frames[0].parent
    write_video(root / "a.mp4", _frames(4))
    st = (root / "a.mp4").stat()
    os.utime(root / "a.mp4", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a later mtime on coarse clocks
    changed = load_video_folder(root, progress=False)
    assert [len(s) for s in changed] == [4, 6]
    assert changed[0].frames[0].parent != old_entry and not old_entry.exists()  # the old version is removed
    assert changed[1].frames == first[1].frames  # the unchanged video is not decoded again


def test_broken_cache_entry_is_redecoded(tmp_path):
    root = tmp_path / "v"
    write_video(root / "a.mp4", _frames(5))
    (seq,) = load_video_folder(root, progress=False)
    seq.frames[2].unlink()  # frames deleted by hand: the manifest no longer matches
    (again,) = load_video_folder(root, progress=False)
    assert len(again) == 5 and all(p.is_file() for p in again.frames)


# ------------------------------------------------------------------------------ separate training source
def test_train_from_videos_folder_evaluate_on_zoosynth(videos):
    dm = VideoDataModule(
        benchmark="synth_vos",
        synth_preset="tiny",
        train_root=str(videos),
        train_benchmark="videos",
        clip_len=3,
        image_size=[16, 16],
        batch_size=2,
        num_workers=0,
    )
    with pytest.warns(SkippedVideoWarning):
        dm.prepare_data()
        dm.setup("fit")
    assert [s.name for s in dm.train_sequences()] == ["D", "a", "b", "c"]
    assert len(dm.train_dataset()) == 35
    seqs = dm.eval_sequences()
    assert seqs and all(0 in s.annotations for s in seqs)  # DAVIS-layout ZooSynth val, labelled
    assert not {s.name for s in seqs} & {"D", "a", "b", "c"}
    assert next(iter(dm.train_dataloader()))["images"].shape == (2, 3, 3, 16, 16)


def test_train_source_root_checks_fail_fast(tmp_path, videos):
    with pytest.raises(FileNotFoundError, match=r"videos: root folder .*Point data.train_root"):
        VideoDataModule(synth_preset="tiny", train_root=str(tmp_path / "nope"), train_benchmark="videos")
    with pytest.raises(ValueError, match="needs data.train_root"):
        VideoDataModule(synth_preset="tiny", train_benchmark="videos")
    with pytest.raises(ValueError, match="train_benchmark 'jhmdb' cannot give training clips"):
        VideoDataModule(synth_preset="tiny", train_root=str(videos), train_benchmark="jhmdb")
    # a DAVIS training source needs its ImageSets list, checked at construction too
    with pytest.raises(FileNotFoundError, match=r"davis17: split 'train'.*train.txt.*data.train_root"):
        VideoDataModule(synth_preset="tiny", train_root=str(videos), train_benchmark="davis17")
    # the evaluation root is still checked when training comes from elsewhere
    with pytest.raises(FileNotFoundError, match=r"davis17: root folder .*Point data.root"):
        VideoDataModule(
            root=str(tmp_path / "davis"),
            benchmark="davis17",
            train_root=str(videos),
            train_benchmark="videos",
        )


def test_jhmdb_trains_only_from_another_source(tmp_path, videos):
    (tmp_path / "val_list.txt").write_text("")
    dm = VideoDataModule(root=str(tmp_path), benchmark="jhmdb", train_split=None, val_split="val_list.txt")
    with pytest.raises(ValueError, match="jhmdb is evaluation only"):
        dm.train_sequences()
    other = VideoDataModule(
        root=str(tmp_path),
        benchmark="jhmdb",
        train_split=None,
        val_split="val_list.txt",
        train_root=str(videos),
        train_benchmark="videos",
    )
    with pytest.warns(SkippedVideoWarning):
        assert len(other.train_sequences()) == 4


# ------------------------------------------------------------------------------------- no annotations
LABEL_KEYS = ("mask", "annotation", "keypoint", "label", "box", "object", "ids")


def test_training_batches_carry_and_open_no_annotation(monkeypatch):
    from zoo.data import datasets
    from zoo.data.formats import davis, jhmdb

    dm = VideoDataModule(
        benchmark="synth_vos",
        synth_preset="tiny",
        num_workers=0,
        batch_size=2,
        image_size=[32, 32],
        clip_len=3,
    )
    dm.prepare_data()  # ZooSynth generation writes masks: done before the trap is set
    annotations = dm.root / "Annotations"
    assert next(annotations.rglob("*.png"))

    def trap(*args, **kwargs):
        raise AssertionError(f"an annotation reader was called during training: {args}")

    def guarded(real):
        def open_(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and "Annotations" in Path(os.fsdecode(file)).parts:
                raise AssertionError(f"annotation file opened during training: {file}")
            return real(file, *args, **kwargs)

        return open_

    for module in (davis, datasets):
        monkeypatch.setattr(module, "read_palette_mask", trap)
    for name in [n for n in dir(jhmdb) if n.startswith(("read_", "load_"))]:
        monkeypatch.setattr(jhmdb, name, trap)
    monkeypatch.setattr(builtins, "open", guarded(builtins.open))
    monkeypatch.setattr(io, "open", guarded(io.open))  # pathlib's read_bytes goes through io.open
    monkeypatch.setattr(Image, "open", guarded(Image.open))
    with pytest.raises(AssertionError, match="annotation file opened"):  # the trap is live
        Path(next(annotations.rglob("*.png"))).read_bytes()

    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {"images", "frames", "gap", "video", "name"}
    assert not [k for k in batch if any(word in k.lower() for word in LABEL_KEYS)]
    assert batch["images"].shape == (2, 3, 3, 32, 32)
    assert all(not s.annotations for s in dm.train_sequences())


def test_benchmark_table_knows_the_videos_folder():
    assert BENCHMARKS["videos"].layout == LAYOUT == BENCHMARKS["folder"].layout
    assert BENCHMARKS["videos"].task == "vos" and BENCHMARKS["videos"].train_only
    assert not BENCHMARKS["davis17"].train_only

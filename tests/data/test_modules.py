"""zoo.data.modules: presets, root checks, evaluation sequences and shards, train loaders (ZooSynth tiny and
hand-made benchmark folders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.data.formats_fixtures import davis_root, got10k_root, lasot_root, otb_sequence, trackingnet_root
from tests.data.test_datasets import _mot_split
from zoo.data.modules import MOTDataModule, SOTDataModule, VideoDataModule
from zoo.data.samplers import ResumableDataLoader

CONF = Path(__file__).resolve().parents[2] / "zoo" / "conf" / "data"
REAL = {
    "mot17": "seqinfo.ini",
    "mot20": "seqinfo.ini",
    "dancetrack": "seqinfo.ini",
    "davis17": "JPEGImages",
    "davis17_objects": "JPEGImages",  # DAVIS-2017 as SOT, one sequence per object
    "jhmdb": "joint_positions.mat",
    "got10k": "groundtruth.txt",
    "lasot": "full_occlusion.txt",
    "otb": "groundtruth_rect.txt",
    "trackingnet": "anno",
    "videos": ".mp4",  # a folder of the user's own videos (training only)
}
SYNTH = ("synth_mot", "synth_vos", "synth_sot", "synth_kp", "synth_vos_objects")


def test_every_benchmark_has_a_preset():
    assert {p.stem for p in CONF.glob("*.yaml")} == set(REAL) | set(SYNTH)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_preset_on_empty_root_names_the_layout(name, tmp_path):
    cfg = OmegaConf.load(CONF / f"{name}.yaml")
    cfg.root = str(tmp_path)
    with pytest.raises(InstantiationException) as err:
        instantiate(cfg)
    assert isinstance(err.value.__cause__, FileNotFoundError)
    msg = str(err.value.__cause__)
    assert "Expected layout" in msg and REAL[name] in msg and name in msg


@pytest.mark.parametrize("name", ["mot17", "got10k"])
def test_real_preset_default_root_comes_from_zoo_datasets(name, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATASETS", str(tmp_path))
    cfg = OmegaConf.load(CONF / f"{name}.yaml")
    with pytest.raises(InstantiationException, match=str(tmp_path / name)):
        instantiate(cfg)


@pytest.mark.parametrize("name", SYNTH)
def test_synth_presets_instantiate_without_generating(name):
    dm = instantiate(OmegaConf.load(CONF / f"{name}.yaml"))
    assert dm.benchmark == name and dm._root is None  # ZooSynth is generated lazily (prepare_data)


def test_unknown_benchmark_and_missing_root():
    with pytest.raises(ValueError, match="unknown benchmark"):
        MOTDataModule(benchmark="got10k")
    with pytest.raises(ValueError, match="data.root"):
        SOTDataModule(benchmark="got10k", root=None)


def _mot17_root(root: Path) -> Path:
    split = _mot_split(root)  # SEQ-A (8 frames), SEQ-B (6 frames)
    for src, dst in (("SEQ-A", "MOT17-02-DPM"), ("SEQ-A", "MOT17-02-FRCNN"), ("SEQ-B", "MOT17-04-SDP")):
        target = split / dst
        target.mkdir()
        for p in (split / src).rglob("*"):
            if p.is_file():
                out = target / p.relative_to(split / src)
                out.parent.mkdir(parents=True, exist_ok=True)
                data = p.read_bytes()
                if p.name == "seqinfo.ini":
                    data = data.replace(f"name={src}".encode(), f"name={dst}".encode())
                out.write_bytes(data)
    for src in ("SEQ-A", "SEQ-B"):
        for p in sorted((split / src).rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        (split / src).rmdir()
    return root


def test_mot17_module_dedupes_training_copies_and_loads_batches(tmp_path):
    root = _mot17_root(tmp_path)
    dm = MOTDataModule(
        root=str(root),
        benchmark="mot17",
        train_split="train",
        val_split="train",
        group_size=3,
        image_size=[32, 48],
        num_workers=2,
    )
    assert [s.name for s in dm.eval_sequences()] == ["MOT17-02-DPM", "MOT17-02-FRCNN", "MOT17-04-SDP"]
    assert [s.name for s in dm.train_sequences()] == ["MOT17-02-DPM", "MOT17-04-SDP"]
    assert dm.num_identities == 3
    dm.setup("fit")
    dl = dm.train_dataloader()
    assert isinstance(dl, ResumableDataLoader) and len(dl) == 8 // 3 + 6 // 3
    batches = list(dl)
    assert len(batches) == 4
    for b in batches:
        assert b["image"].shape == (3, 3, 32, 48)
        assert all(ids.max() < 3 for ids in b["ids"] if len(ids))
    random_dm = MOTDataModule(
        root=str(root),
        benchmark="mot17",
        val_split="train",
        group_size=3,
        image_size=32,
        sampler="random",
        num_workers=0,
    )
    assert next(iter(random_dm.train_dataloader()))["image"].shape == (3, 3, 32, 32)


def test_mot_seqmap_detections_and_shards(tmp_path):
    root = _mot17_root(tmp_path)
    dets = tmp_path / "dets"
    dets.mkdir()
    (dets / "MOT17-04-SDP.txt").write_text("1,-1,5,6,10,20,0.9,-1,-1,-1\n")
    (dets / "MOT17-02-DPM.txt").write_text("2,-1,5,6,10,20,0.5,-1,-1,-1\n")
    dm = MOTDataModule(
        root=str(root),
        benchmark="mot17",
        val_split="train",
        seqmap=["MOT17-04-SDP", "MOT17-02-DPM"],
        detections=str(dets),
        num_workers=0,
    )
    seqs = dm.eval_sequences()
    assert [s.name for s in seqs] == ["MOT17-04-SDP", "MOT17-02-DPM"]
    np.testing.assert_allclose(seqs[0].det.boxes, [[4.0, 5.0, 14.0, 25.0]])
    assert seqs[1].det.frames.tolist() == [2]
    shards = [dm.eval_shard(r, 2) for r in range(2)]
    assert sorted(s.name for sh in shards for s in sh) == sorted(s.name for s in seqs)
    assert [s.name for s in shards[0]] == ["MOT17-02-DPM"]  # the longer one (8 frames) goes to rank 0
    bad = MOTDataModule(root=str(root), benchmark="mot17", val_split="train", seqmap=["MOT17-09-SDP"])
    with pytest.raises(FileNotFoundError, match="MOT17-09-SDP"):
        bad.eval_sequences()
    with pytest.raises(FileNotFoundError, match="detections folder"):
        MOTDataModule(root=str(root), benchmark="mot17", val_split="train", detections=str(tmp_path / "x"))


def test_sot_benchmarks_load_through_the_format_readers(tmp_path):
    got = got10k_root(got10k_root(tmp_path / "got", "val"), "test", names=("GOT-10k_Test_000001",))
    dm = SOTDataModule(root=str(got), benchmark="got10k", train_split=None, val_split="val")
    assert [s.name for s in dm.eval_sequences()] == ["GOT-10k_Val_000001"]
    assert np.isnan(dm.eval_sequences("test")[0].boxes[1]).all()
    las = SOTDataModule(root=str(lasot_root(tmp_path / "lasot")), benchmark="lasot", val_split="test")
    assert [s.name for s in las.eval_sequences()] == ["airplane-2", "cat-13"]
    otb_sequence(tmp_path / "otb", "Car", range(1, 4), "1,2,3,4\n1,2,3,4\n1,2,3,4\n")
    otb = SOTDataModule(root=str(tmp_path / "otb"), benchmark="otb", train_split=None, val_split="all")
    assert [len(s) for s in otb.eval_sequences()] == [3]
    tn = SOTDataModule(
        root=str(trackingnet_root(tmp_path / "tn")),
        benchmark="trackingnet",
        train_split="TRAIN",
        val_split="TEST",
    )
    assert [s.name for s in tn.sequences("TRAIN")] == ["a1", "b2"] and len(tn.eval_sequences()) == 1


def test_davis_module_eval_sequences(tmp_path):
    dm = VideoDataModule(root=str(davis_root(tmp_path / "davis")), benchmark="davis17", train_split=None)
    seqs = dm.eval_sequences()
    assert [s.name for s in seqs] == ["bear", "car"] and len(seqs[0].annotations) == 3
    with pytest.raises(ValueError, match="train_split is null"):
        dm.train_dataloader()


# -------------------------------------------------------------------------------------------- ZooSynth
@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    from zoo.data.synth import ensure_synth

    root = tmp_path_factory.mktemp("synth")
    ensure_synth("tiny", root=root)
    return root


def test_synth_mot_module(synth_root):
    dm = MOTDataModule(synth_preset="tiny", synth_root=str(synth_root), group_size=4, image_size=[64, 96])
    dm.prepare_data()
    dm.setup("fit")
    assert dm.num_identities > 0
    b = next(iter(dm.train_dataloader()))
    assert b["image"].shape == (4, 3, 64, 96) and len(b["boxes"]) == 4 and len(set(b["sequence"])) == 1
    assert all(bx.shape[1] == 4 and len(bx) == len(i) for bx, i in zip(b["boxes"], b["ids"]))
    seqs = dm.eval_sequences()
    assert seqs and all(s.gt is not None and s.det is not None for s in seqs)


def test_synth_vos_module(synth_root):
    dm = VideoDataModule(
        synth_preset="tiny", synth_root=str(synth_root), clip_len=4, image_size=48, batch_size=3
    )
    b = next(iter(dm.train_dataloader()))
    assert b["images"].shape == (3, 4, 3, 48, 48) and b["images"].min() >= 0 and b["images"].max() <= 1
    seqs = dm.eval_sequences()
    assert seqs and all(0 in s.annotations for s in seqs)


def test_synth_sot_module(synth_root):
    dm = SOTDataModule(
        synth_preset="tiny", synth_root=str(synth_root), batch_size=4, template_size=32, search_size=64
    )
    b = next(iter(dm.train_dataloader()))
    assert b["template"].shape == (4, 3, 32, 32) and b["search"].shape == (4, 3, 64, 64)
    assert b["search_mask"].shape == (4, 64, 64) and torch.isfinite(b["template_box"]).all()
    clip = SOTDataModule(
        synth_preset="tiny",
        synth_root=str(synth_root),
        mode="clip",
        clip_len=3,
        image_size=[48, 64],
        batch_size=2,
    )
    cb = next(iter(clip.train_dataloader()))
    assert cb["images"].shape == (2, 3, 3, 48, 64) and cb["boxes"].shape == (2, 3, 4)
    seqs = dm.eval_sequences()
    assert seqs and all(np.isfinite(s.boxes[0]).all() for s in seqs)

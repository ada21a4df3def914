"""ZooSynth-KP (generator 1.6): the people sprites' 15 JHMDB joints lie on the drawn limbs and follow them,
hidden joints are marked invisible, the JHMDB reader loads the written clips, the track is deterministic, and
the MOT/VOS/SOT tracks are byte-identical to what generator 1.5 wrote."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from zoo.data.formats.jhmdb import JOINT_NAMES, load_jhmdb, split_path
from zoo.data.synth import GENERATOR_VERSION, PRESETS, ensure_synth
from zoo.data.synth import store as synth_store
from zoo.data.synth.config import KPConfig
from zoo.data.synth.kp import TARGET, render_kp, simulate_kp
from zoo.data.synth.objects import random_look
from zoo.data.synth.sprites import PERSON, _person_index, draw_sprite, person_joints

#: per-task digests of the ``tiny`` preset, seed 0, as generator 1.5 wrote it (sha256 over "relpath\0sha256
#: of the file" of every file below the task folder, sorted): recorded from commit 9babc00 before the
#: keypoint track was added. The frames are JPEG/PNG bytes, so they are those of the locked OpenCV build.
TINY_1_5 = {
    "mot": "f93bdb36ad8cb9b41b6201f71c2c6f2aa2c798f3875873a479d75221fbb20d4f",
    "vos": "cf9210403f48ebfc0246a1e9dd121f13e88a38789b2cca857bbc29976114bf15",
    "sot": "65b6206b22246d7506e6f48ae9871107d8404d028552633ad52bbeadd1be100b",
}
TINY_KP = PRESETS["tiny"].kp


def _task_digest(root: Path, task: str) -> str:
    digest = hashlib.sha256()
    for p in sorted((root / task).rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            digest.update(rel.encode() + b"\0" + hashlib.sha256(p.read_bytes()).hexdigest().encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return ensure_synth("tiny", root=tmp_path_factory.mktemp("synth_kp"), seed=0)


def _render(cfg: KPConfig, seed: int, split: str = "val", index: int = 0):
    frames, labels = [], []

    def emit(t, rgb, lab):
        frames.append(rgb)
        labels.append(lab.copy())

    ann = render_kp(synth_store._rng(seed, "kp", split, index), cfg, 2.5, emit)
    return ann, np.stack(frames), np.stack(labels)


# ------------------------------------------------------------------------------------------ old tracks
def test_version_is_1_6_and_old_tracks_are_byte_identical_to_1_5(tiny):
    assert GENERATOR_VERSION == "1.6"
    manifest = json.loads((tiny / "manifest.json").read_text())
    assert manifest["generator_version"] == "1.6" and "kp" in manifest["config"]
    for task, want in TINY_1_5.items():
        assert _task_digest(tiny, task) == want, f"ZooSynth {task} files changed from generator 1.5"
    assert (tiny / "kp" / "val_list.txt").is_file()


def test_a_dataset_written_by_1_5_is_regenerated_cleanly(tmp_path, monkeypatch):
    """The generator version is part of the fingerprint: a cached folder whose manifest 1.5 wrote (complete,
    with every recorded file) is replaced as a whole by a 1.6 one, with no stale files left behind."""
    calls = []

    def fake(config, out, seed, **kw):  # the cache logic is under test, not the rendering
        calls.append(GENERATOR_VERSION_NOW[0])
        (Path(out) / "kp" if GENERATOR_VERSION_NOW[0] == "1.6" else Path(out) / "old").mkdir(parents=True)
        (Path(out) / "mot.txt").write_text(GENERATOR_VERSION_NOW[0])

    GENERATOR_VERSION_NOW = ["1.5"]
    monkeypatch.setattr(synth_store, "generate", fake)
    monkeypatch.setattr(synth_store, "GENERATOR_VERSION", "1.5")
    old = ensure_synth("tiny", root=tmp_path, seed=0)
    assert json.loads((old / "manifest.json").read_text())["generator_version"] == "1.5"
    GENERATOR_VERSION_NOW[0] = "1.6"
    monkeypatch.setattr(synth_store, "GENERATOR_VERSION", GENERATOR_VERSION)
    new = ensure_synth("tiny", root=tmp_path, seed=0)
    assert new == old and calls == ["1.5", "1.6"]
    manifest = json.loads((new / "manifest.json").read_text())
    assert manifest["generator_version"] == "1.6" and (new / "kp").is_dir() and not (new / "old").exists()
    assert (new / "mot.txt").read_text() == "1.6"
    assert ensure_synth("tiny", root=tmp_path, seed=0) == new and calls == ["1.5", "1.6"]  # reused now
    assert sorted(p.name for p in (tmp_path / "zoosynth").iterdir() if not p.name.endswith(".lock")) == [
        "tiny-seed0"
    ]


# ------------------------------------------------------------------------------------------ the joints
def test_joints_lie_on_their_drawn_parts_and_follow_the_legs():
    """Every joint's pixel is on the sprite's silhouette (any look, size >= 20 px, any phase), on its own
    part (LUT: 1 skin, 2 hair/hat, 3-4 torso and sleeves, 5-6 legs and shoes), and knees and ankles move with
    the walking phase like the drawn legs."""
    rng = np.random.default_rng(0)
    parts = {"neck": {1, 2, 3, 4}, "face": {1}, "belly": {3, 4}}
    for name in JOINT_NAMES:
        if name.endswith(("shoulder", "elbow", "wrist")):
            parts[name] = {3}
        elif name.endswith(("hip", "knee", "ankle")):
            parts[name] = {1, 5, 6}  # legs pattern 1 shows skin below the knee
    for _ in range(150):
        look = random_look(rng, PERSON)
        h = float(rng.uniform(20, 200))
        x, y = float(rng.uniform(50, 250)), float(rng.uniform(h + 2, 268))
        box = np.array([x - 0.2 * h, y - h, x + 0.2 * h, y])
        phase = float(rng.uniform(0, 2 * np.pi))
        frame, labels = np.zeros((270, 300, 3), np.float32), np.zeros((270, 300), np.int32)
        draw_sprite(frame, labels, 1, look, box, phase)
        pix = np.floor(person_joints(box, phase) + 0.5).astype(int)
        assert (labels[pix[:, 1], pix[:, 0]] == 1).all()
        # the part under each joint, from the sprite's own colour-index map
        xc, y0 = 0.5 * (box[0] + box[2]), box[1]
        u = ((pix[:, 0] + 0.5 - xc) / h).astype(np.float32)
        v = ((pix[:, 1] + 0.5 - y0) / h).astype(np.float32)
        for j, name in enumerate(JOINT_NAMES):
            idx = int(_person_index(u[j : j + 1][None], v[j : j + 1][:, None], look, phase)[0, 0])
            assert idx in parts[name], (name, idx, look.patterns)
    # the legs scissor: knee/ankle x relative to the hips changes with the phase, by the drawn shear
    box = np.array([100.0, 20.0, 180.0, 220.0])
    a, b = person_joints(box, np.pi / 2), person_joints(box, -np.pi / 2)
    right_ankle, left_ankle = JOINT_NAMES.index("right_ankle"), JOINT_NAMES.index("left_ankle")
    assert a[right_ankle, 0] - b[right_ankle, 0] == pytest.approx(2 * 0.05 * 0.85 * 200)
    assert a[left_ankle, 0] - b[left_ankle, 0] == pytest.approx(-2 * 0.05 * 0.85 * 200)
    np.testing.assert_allclose(a[:5], b[:5])  # the upper body does not move with the legs
    # and the drawn leg is there: with the legs apart, the right leg's pixel run on the ankle row is centred
    # on the joint
    frame, labels = np.zeros((240, 300, 3), np.float32), np.zeros((240, 300), np.int32)
    draw_sprite(frame, labels, 1, random_look(np.random.default_rng(1), PERSON), box, -np.pi / 2)
    x, y = np.floor(b[right_ankle] + 0.5).astype(int)
    row = np.flatnonzero(labels[y, : int(0.5 * (box[0] + box[2]))])
    assert abs(0.5 * (row[0] + row[-1]) - b[right_ankle, 0]) <= 1.0


def test_visible_joints_on_the_mask_and_hidden_joints_behind_occluders():
    """Visible joints are on the person's pixels of the rendered label map; every joint the label map does
    not show as the person (a pillar, a distractor in front, outside the frame) is invisible; frame 0 shows
    every joint; over a few clips pillars and distractors both hide joints."""
    cfg = KPConfig(length=24, width=160, height=120, pan_px=12)
    by_pillar = by_object = 0
    for index in range(6):
        ann, _, labels = _render(cfg, 0, "val", index)
        scene = simulate_kp(synth_store._rng(0, "kp", "val", index), cfg)
        assert ann.visible[0].all()
        for t in range(cfg.length):
            pix = np.floor(ann.joints[t] + 0.5).astype(int)
            inside = (pix[:, 0] >= 0) & (pix[:, 0] < cfg.width) & (pix[:, 1] >= 0) & (pix[:, 1] < cfg.height)
            shown = np.zeros(15, bool)
            shown[inside] = labels[t][pix[inside, 1], pix[inside, 0]] == TARGET
            np.testing.assert_array_equal(ann.visible[t], shown)
            # a hidden joint inside the frame is on the person's own silhouette when drawn alone: occluded
            alone = np.zeros((cfg.height, cfg.width), np.int32)
            off = int(scene.offsets[t])
            draw_sprite(np.zeros((cfg.height, cfg.width, 3), np.float32), alone, 1, scene.person.look,
                        scene.person.box(t, off), float(scene.person.phase[t]))  # fmt: skip
            assert (alone[pix[inside, 1], pix[inside, 0]] == 1).all()
            hidden = inside & ~ann.visible[t]
            on_object = labels[t][pix[hidden, 1], pix[hidden, 0]] > TARGET
            by_object += int(on_object.sum())
            by_pillar += int((~on_object).sum())
    assert by_pillar > 0 and by_object > 0


def test_reader_round_trips_the_written_clips(tiny):
    root = tiny / "kp"
    names = {"train": TINY_KP.train_seqs, "val": TINY_KP.val_seqs}
    for split, count in names.items():
        seqs = load_jhmdb(root, split_path(root, split))
        assert [s.name for s in seqs] == [f"zskp-{split}-{i:02d}" for i in range(count)]
        for i, seq in enumerate(seqs):
            ann, frames, _ = _render(TINY_KP, 0, split, i)
            assert len(seq.frames) == TINY_KP.length and seq.frames[0].name == "00001.png"
            want = np.where(ann.visible[..., None], ann.joints, np.nan)
            np.testing.assert_allclose(seq.keypoints, want, rtol=0, atol=1e-9)
            from zoo.core.video import read_image

            np.testing.assert_array_equal(read_image(seq.frames[3]), frames[3])  # lossless PNG


def test_keypoint_track_is_deterministic_for_a_seed(tmp_path):
    cfg = PRESETS["tiny"]
    a = synth_store.write_kp_sequence(tmp_path / "a", cfg, 0, "val", 1)
    synth_store.write_kp_sequence(tmp_path / "b", cfg, 0, "val", 1)
    synth_store.write_kp_sequence(tmp_path / "c", cfg, 1, "val", 1)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == TINY_KP.length + 1
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    mat = Path("kp") / a / "joint_positions.mat"
    assert (tmp_path / "a" / mat).read_bytes() != (tmp_path / "c" / mat).read_bytes()


@pytest.mark.parametrize("size", [(160, 120), (320, 240)])
def test_every_joint_is_visible_in_frame_0(size):
    """The person starts in full view, clear of the pillar and the distractors (the first-frame joints are
    the tracker's input), over many clips."""
    cfg = KPConfig(length=2, width=size[0], height=size[1])
    for index in range(40):
        ann, _, _ = _render(cfg, 7, "train", index)
        assert ann.visible[0].all(), index

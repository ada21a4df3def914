"""Fuzz the readers: corrupted copies of valid benchmark folders must either raise FormatError naming a file
inside the folder, or load to a result that satisfies the format's invariants. Any other exception fails.

Cases are drawn with a seeded RNG (reproducible); a failure message lists every failing case by name.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

import zoo.data.formats._text as T
from tests.data.formats_fixtures import (
    davis_root,
    got10k_root,
    jhmdb_clip,
    lasot_root,
    mot_sequence,
    otb_sequence,
    png,
    text,
    trackingnet_root,
)
from zoo.data.formats import (
    FormatError,
    load_davis,
    load_got10k,
    load_jhmdb,
    load_lasot,
    load_otb,
    load_sequence,
    load_split,
    load_trackingnet,
    read_mot_file,
    read_palette_mask,
)
from zoo.data.types import MOTRows, SOTSequence, VOSSequence

SEED = 20240611
WORDS = ["abc", "1.2.3", "--", "0x1F", "\uff11", "1e", "+-1", "NA", '"3"', "1_0", "#", "٣", "∞", ""]
NONFINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e999"]


# ------------------------------------------------------------------------------------------ text mutations
def _fields(line: str) -> tuple[list[str], str]:
    for sep in (",", "\t", " "):
        if sep in line:
            return line.split(sep), sep
    return [line], ","


def _on_line(body: str, rng, fn: Callable[[list[str]], list[str]]) -> str:
    lines = body.split("\n")
    idx = [i for i, s in enumerate(lines) if s.strip()]
    if not idx:
        return body
    i = int(rng.choice(idx))
    f, sep = _fields(lines[i])
    lines[i] = sep.join(fn(f))
    return "\n".join(lines)


def _set_col(col: int, value: Callable[[np.random.Generator, str], str]):
    def apply(body: str, rng) -> str:
        def fn(f):
            if len(f) > col:
                f[col] = value(rng, f[col])
            return f

        return _on_line(body, rng, fn)

    return apply


def _m_delete_col(body, rng):
    return _on_line(body, rng, lambda f: f[: (k := int(rng.integers(len(f))))] + f[k + 1 :])


def _m_delete_col_all(body, rng):
    k = int(rng.integers(4))
    return "\n".join(
        sep.join(f[:k] + f[k + 1 :]) if s.strip() else s for s in body.split("\n") for f, sep in [_fields(s)]
    )


def _m_dup_col(body, rng):
    return _on_line(body, rng, lambda f: f[: (k := int(rng.integers(len(f))))] + [f[k]] + f[k:])


def _m_truncate_line(body, rng):
    return _on_line(body, rng, lambda f: (s := ",".join(f))[: int(rng.integers(len(s) + 1))].split(","))


def _m_truncate_file(body, rng):
    return body[: int(rng.integers(len(body) + 1))]


def _m_inject_text(body, rng):
    return _on_line(
        body,
        rng,
        lambda f: [str(rng.choice(WORDS)) if i == rng.integers(len(f)) else x for i, x in enumerate(f)],
    )


def _m_inject_nonfinite(body, rng):
    k = None

    def fn(f):
        nonlocal k
        k = int(rng.integers(len(f)))
        f[k] = str(rng.choice(NONFINITE))
        return f

    return _on_line(body, rng, fn)


def _m_nan_row(body, rng):
    return _on_line(body, rng, lambda f: ["nan"] * len(f))


def _m_dup_row(body, rng):
    lines = [s for s in body.split("\n") if s.strip()]
    if not lines:
        return body
    return body + lines[int(rng.integers(len(lines)))] + "\n"


def _m_delete_row(body, rng):
    lines = body.split("\n")
    if len(lines) > 1:
        del lines[int(rng.integers(len(lines) - 1))]
    return "\n".join(lines)


def _m_swap_delims(body, rng):
    new = str(rng.choice([";", "|", "\t", " ", ", ", ",,", " ,"]))
    if rng.random() < 0.5:
        return body.replace(",", new)
    return _on_line(body, rng, lambda f: [new.join(f)])


def _m_blank_noise(body, rng):
    lines = body.split("\n")
    i = int(rng.integers(len(lines) + 1))
    return "\n".join(lines[:i] + [str(rng.choice(["", "   ", "\t", "\r"]))] + lines[i:])


def _m_crlf(body, rng):
    return body.replace("\n", "\r\n")


def _m_empty(body, rng):
    return ""


def _m_big_number(body, rng):
    return _set_col(int(rng.integers(6)), lambda r, x: str(r.choice(["9" * 30, "1e300", "-0", "1e-320"])))(
        body, rng
    )


TEXT_MUTATIONS = {
    name[3:]: fn for name, fn in globals().copy().items() if name.startswith("_m_") and callable(fn)
}
MOT_MUTATIONS = {
    "zero_width": _set_col(4, lambda r, x: "0"),
    "negative_height": _set_col(5, lambda r, x: f"-{x}"),
    "frame_beyond": _set_col(0, lambda r, x: str(int(r.integers(4, 9)))),
    "frame_zero": _set_col(0, lambda r, x: str(r.choice(["0", "-1"]))),
    "fractional_id": _set_col(1, lambda r, x: f"{x}.5"),
    "class_out_of_range": _set_col(7, lambda r, x: str(r.choice(["0", "14", "-3"]))),
    "visibility_out": _set_col(8, lambda r, x: str(r.choice(["1.5", "-0.1"]))),
}


def _mutate_text(path: Path, rng, extra: dict | None = None) -> str:
    pool = {**TEXT_MUTATIONS, **(extra or {})}
    name = str(rng.choice(sorted(pool)))
    body = path.read_text()
    if name == "non_utf8":
        path.write_bytes(body.encode() + b"\xff\xfe1\n")
        return name
    path.write_text(pool[name](body, rng))
    return name


TEXT_MUTATIONS["non_utf8"] = None  # handled in _mutate_text (bytes level)


# --------------------------------------------------------------------------------------- binary mutations
def _rgb_instead_of_palette(p: Path, rng) -> None:
    png(p)


def _truncate_bytes(p: Path, rng) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: int(rng.integers(1, max(2, len(data) - 1)))])


def _garbage(p: Path, rng) -> None:
    p.write_bytes(rng.integers(0, 256, int(rng.integers(0, 64)), dtype=np.uint8).tobytes())


def _flip_bytes(p: Path, rng) -> None:
    data = bytearray(p.read_bytes())
    for i in rng.integers(0, len(data), 4):
        data[i] ^= 0xFF
    p.write_bytes(bytes(data))


def _delete(p: Path, rng) -> None:
    p.unlink()


def _wrong_size(p: Path, rng) -> None:
    Image.fromarray(np.zeros((5, 9), np.uint8)).convert("P").save(p)


def _grey(p: Path, rng) -> None:
    Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(p)


BINARY_MUTATIONS = {
    f.__name__[1:]: f
    for f in (_rgb_instead_of_palette, _truncate_bytes, _garbage, _flip_bytes, _delete, _wrong_size, _grey)
}


# ------------------------------------------------------------------------------------------- invariants
def _check_rows(rows: MOTRows, seq_length: int | None) -> None:
    n = len(rows)
    assert rows.frames.dtype == np.int64 and rows.ids.dtype == np.int64 and rows.boxes.shape == (n, 4)
    for a in (rows.ids, rows.scores, rows.classes, rows.visibility):
        assert a.shape == (n,)
    assert np.isfinite(rows.boxes).all() and np.isfinite(rows.scores).all()
    assert (rows.boxes[:, 2] > rows.boxes[:, 0]).all() and (rows.boxes[:, 3] > rows.boxes[:, 1]).all()
    assert (rows.frames >= 1).all()
    if seq_length is not None:
        assert (rows.frames <= seq_length).all()


def _check_sot(seqs: list[SOTSequence], check_images: bool = True) -> None:
    for s in seqs:
        n = len(s.frames)
        assert n > 0 and s.boxes.shape == (n, 4) and s.boxes.dtype == np.float64
        assert s.absent.shape == (n,) and s.absent.dtype == bool
        nan = np.isnan(s.boxes)
        assert (nan.any(1) == nan.all(1)).all() and not nan[0].any() and not np.isinf(s.boxes).any()
        assert (s.boxes[~nan.any(1), 2:] >= s.boxes[~nan.any(1), :2]).all()
        if s.cover is not None:
            assert s.cover.shape == (n,) and ((s.cover >= 0) & (s.cover <= 8)).all()
        if check_images:
            assert all(f.exists() for f in s.frames)
        if s.masks is not None:
            assert len(s.masks) == n and all(m.exists() for m in s.masks)


def _check_davis(seqs: list[VOSSequence]) -> None:
    for s in seqs:
        assert s.frames and all(f.exists() for f in s.frames)
        assert 0 in s.annotations and set(s.annotations) <= set(range(len(s)))
        for path in s.annotations.values():
            mask = read_palette_mask(path)  # decoding errors must be FormatError too
            assert mask.dtype == np.uint8 and mask.shape == (8, 8)


def _check_jhmdb(seqs: list[VOSSequence]) -> None:
    for s in seqs:
        assert s.keypoints.shape == (len(s), 15, 2) and np.isfinite(s.keypoints).all()
        assert all(f.exists() for f in s.frames)


# ---------------------------------------------------------------------------------------------- cases
@dataclass
class Case:
    name: str
    run: Callable[[], object]  # load (+ check invariants); may raise FormatError
    root: Path
    table: Path | None = None  # a numeric text file to cross-check the fast and validating parsers on


def _mot_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = base / "tpl_mot"
    mot_sequence(tpl, "S")
    text(
        tpl / "S" / "res.txt",
        "1,5,10,12,5,9,1,-1,-1,-1\n2,5,11,12,5,9,0.5,-1,-1,-1\n3,6,31,5,6,10,0.75,-1,-1,-1\n",
    )
    text(tpl / "map.txt", "name\nS\n")
    cases = []
    for i in range(n):
        d = base / f"mot{i}"
        shutil.copytree(tpl, d)
        target = str(rng.choice(["gt/gt.txt", "det/det.txt", "res.txt", "seqinfo.ini", "map.txt", "img"]))
        if target == "img":
            (d / "S" / "img1" / f"{int(rng.integers(1, 4)):06d}.jpg").unlink()
            label = "missing_image"
            table = None
        else:
            path = d / target if target == "map.txt" else d / "S" / target
            extra = MOT_MUTATIONS if target.endswith("txt") and target != "map.txt" else None
            if target == "seqinfo.ini":
                extra = {
                    "drop_key": lambda b, r: "\n".join(
                        s
                        for s in b.split("\n")
                        if not s.startswith(
                            str(r.choice(["seqLength", "imExt", "imDir", "frameRate", "imWidth", "name"]))
                        )
                    )
                }
            label = f"{target}:{_mutate_text(path, rng, extra)}"
            table = path if target.endswith(".txt") and target != "map.txt" else None

        def run(d=d):
            (seq,) = load_split(d, d / "map.txt")
            _check_rows(seq.gt, seq.info.seq_length)
            _check_rows(seq.det, seq.info.seq_length)
            res = read_mot_file(d / "S" / "res.txt", "results", seq.info)
            _check_rows(res, seq.info.seq_length)
            assert load_sequence(d / "S").name == "S"

        cases.append(Case(f"mot{i}:{label}", run, d, table))
    return cases


def _got_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = got10k_root(base / "tpl_got", masks=True)
    files = ["groundtruth.txt", "absence.label", "cover.label", "cut_by_image.label", "meta_info.ini"]
    cases = []
    for i in range(n):
        d = base / f"got{i}"
        shutil.copytree(tpl, d)
        seq = d / "val" / "GOT-10k_Val_000001"
        kind = rng.integers(10)
        table = None
        if kind == 0:
            (seq / f"{int(rng.integers(1, 5)):08d}.jpg").unlink()
            label = "missing_frame"
        elif kind == 1:
            BINARY_MUTATIONS["delete"](seq / "masks" / f"{int(rng.integers(1, 5)):08d}.png", rng)
            label = "missing_mask"
        elif kind == 2:
            label = f"list.txt:{_mutate_text(d / 'val' / 'list.txt', rng)}"
        else:
            f = str(rng.choice(files))
            label = f"{f}:{_mutate_text(seq / f, rng)}"
            table = seq / f if f != "meta_info.ini" else None
        cases.append(Case(f"got{i}:{label}", lambda d=d: _check_sot(load_got10k(d)), d, table))
    return cases


def _lasot_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = lasot_root(base / "tpl_lasot")
    cases = []
    for i in range(n):
        d = base / f"lasot{i}"
        shutil.copytree(tpl, d)
        seq = d / "cat" / "cat-13"
        if rng.random() < 0.1:
            (seq / "img" / f"{int(rng.integers(1, 4)):08d}.jpg").unlink()
            label, table = "missing_frame", None
        else:
            f = str(
                rng.choice(
                    ["groundtruth.txt", "full_occlusion.txt", "out_of_view.txt", "../../testing_set.txt"]
                )
            )
            label = f"{f}:{_mutate_text(seq / f, rng)}"
            table = seq / f if "testing" not in f else None
        cases.append(Case(f"lasot{i}:{label}", lambda d=d: _check_sot(load_lasot(d)), d, table))
    return cases


def _otb_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = base / "tpl_otb"
    otb_sequence(tpl, "Car", range(1, 5), "1,2,3,4\n2\t3\t4\t5\n3 4 5 6\n4,5,6,7\n")
    otb_sequence(tpl, "Jogging", range(1, 4), "1,2,3,4\n2,3,4,5\n3,4,5,6\n", gt_name="groundtruth_rect.1.txt")
    cases = []
    for i in range(n):
        d = base / f"otb{i}"
        shutil.copytree(tpl, d)
        f = next((d / str(rng.choice(["Car", "Jogging"]))).glob("groundtruth_rect*.txt"))
        label = f"{f.parent.name}:{_mutate_text(f, rng)}"
        cases.append(Case(f"otb{i}:{label}", lambda d=d: _check_sot(load_otb(d)), d, f))
    return cases


def _trackingnet_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = trackingnet_root(base / "tpl_tn")
    cases = []
    for i in range(n):
        d = base / f"tn{i}"
        shutil.copytree(tpl, d)
        split = str(rng.choice(["TRAIN", "TEST"]))
        if rng.random() < 0.15:
            frames = d / ("TEST/frames/t9" if split == "TEST" else "TRAIN_0/frames/a1")
            (frames / f"{int(rng.integers(0, 3))}.jpg").unlink()
            label, table = "missing_frame", None
        else:
            f = d / ("TEST/anno/t9.txt" if split == "TEST" else "TRAIN_1/anno/b2.txt")
            label, table = _mutate_text(f, rng), f
        cases.append(
            Case(f"tn{i}:{split}:{label}", lambda d=d, s=split: _check_sot(load_trackingnet(d, s)), d, table)
        )
    return cases


def _davis_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = davis_root(base / "tpl_davis")
    cases = []
    for i in range(n):
        d = base / f"davis{i}"
        shutil.copytree(tpl, d)
        r = rng.random()
        if r < 0.6:
            p = (
                d
                / "Annotations"
                / "480p"
                / str(rng.choice(["bear", "car"]))
                / f"{int(rng.integers(0, 3)):05d}.png"
            )
            m = str(rng.choice(sorted(BINARY_MUTATIONS)))
            BINARY_MUTATIONS[m](p, rng)
            label = f"annotation:{m}"
        elif r < 0.85:
            p = d / "JPEGImages" / "480p" / "car" / f"{int(rng.integers(0, 3)):05d}.jpg"
            m = str(rng.choice(["truncate_bytes", "garbage", "delete", "wrong_size"]))
            if m == "wrong_size":
                Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(p, format="JPEG")
            else:
                BINARY_MUTATIONS[m](p, rng)
            label = f"frame:{m}"
        else:
            label = f"imageset:{_mutate_text(d / 'ImageSets' / '2017' / 'val.txt', rng)}"
        cases.append(Case(f"davis{i}:{label}", lambda d=d: _check_davis(load_davis(d)), d))
    return cases


def _jhmdb_cases(base: Path, rng, n: int) -> list[Case]:
    tpl = base / "tpl_jhmdb"
    jhmdb_clip(tpl)
    text(tpl / "split.txt", "brush_hair/clip_a\n")
    contents = [
        {"pos_world": np.ones((2, 15, 3))},
        {"pos_img": np.ones((2, 15, 2))},  # fewer joints' frames than images: loads the first two
        {"pos_img": np.ones((2, 15, 5))},  # more frames than images: missing frame
        {"pos_img": np.ones((3, 15, 3))},
        {"pos_img": np.full((2, 15, 3), np.inf)},
        {"pos_img": np.ones((2, 15, 0))},
        {"pos_img": "text"},
    ]
    cases = []
    for i in range(n):
        d = base / f"jhmdb{i}"
        shutil.copytree(tpl, d)
        mat = d / "brush_hair" / "clip_a" / "joint_positions.mat"
        r = int(rng.integers(5))
        if r == 0:
            savemat(str(mat), contents[int(rng.integers(len(contents)))])
            label = "mat_contents"
        elif r == 1:
            m = str(rng.choice(["truncate_bytes", "garbage", "flip_bytes", "delete"]))
            BINARY_MUTATIONS[m](mat, rng)
            label = f"mat:{m}"
        elif r == 2:
            (d / "brush_hair" / "clip_a" / f"{int(rng.integers(1, 4)):05d}.png").unlink()
            label = "missing_frame"
        else:
            label = f"split:{_mutate_text(d / 'split.txt', rng)}"
        cases.append(Case(f"jhmdb{i}:{label}", lambda d=d: _check_jhmdb(load_jhmdb(d, d / "split.txt")), d))
    return cases


BUILDERS = {
    "mot": (_mot_cases, 70),
    "got10k": (_got_cases, 40),
    "lasot": (_lasot_cases, 30),
    "otb": (_otb_cases, 25),
    "trackingnet": (_trackingnet_cases, 25),
    "davis": (_davis_cases, 30),
    "jhmdb": (_jhmdb_cases, 25),
}


def _outcome(fn: Callable[[], object]):
    try:
        out = fn()
    except FormatError as exc:
        return ("error", exc.reason, exc.line)
    return ("ok", out.values.tobytes(), tuple(out.lines)) if hasattr(out, "values") else ("ok",)


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
def test_corrupted_inputs_raise_format_error_or_load_valid(tmp_path, fmt):
    build, n = BUILDERS[fmt]
    rng = np.random.default_rng([SEED, sorted(BUILDERS).index(fmt)])
    cases = build(tmp_path, rng, n)
    failures, raised = [], 0
    for case in cases:
        try:
            case.run()
        except FormatError as exc:
            raised += 1
            if str(case.root) not in str(exc) or not str(exc.path).startswith(str(case.root)):
                failures.append(f"{case.name}: FormatError does not name a file in the case: {exc}")
        except Exception as exc:  # anything else is a reader bug
            failures.append(f"{case.name}: {type(exc).__name__}: {exc}")
        if case.table is not None and case.table.exists():
            # The fast tokenizers and the validating scan must agree on every corrupted table.
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(T, "PANDAS_MIN_BYTES", 0)  # the pandas tokenizer, whatever the file's size
                fast = _outcome(lambda p=case.table: T.read_table(p, nan_rows=True))
                mp.setattr(T, "USE_PANDAS", False)
                loadtxt = _outcome(lambda p=case.table: T.read_table(p, nan_rows=True))
                mp.setattr(T, "_fast", lambda data: None)
                scan = _outcome(lambda p=case.table: T.read_table(p, nan_rows=True))
            if not fast == loadtxt == scan:
                failures.append(
                    f"{case.name}: parsers disagree: pandas={fast[:3]} loadtxt={loadtxt[:3]} scan={scan[:3]}"
                )
    print(f"\n{fmt}: {len(cases)} cases, {raised} raised FormatError, {len(cases) - raised} loaded valid")
    assert not failures, "\n".join(failures)
    # the corruption must bite (most cases are errors) without making everything fail
    assert 0.3 * len(cases) <= raised < len(cases), f"{raised} of {len(cases)} raised"


def test_fuzz_corpus_size():
    assert sum(n for _, n in BUILDERS.values()) >= 200

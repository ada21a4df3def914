"""``python -m zoo.evaluate``: running and scoring modes end to end, renders and plots, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tasks.fixtures import ScriptedMOT, switch_script, write_got10k_split, write_mot_split
from zoo.data.formats import motchallenge
from zoo.evaluate import main
from zoo.tasks import mot
from zoo.tasks.results import SCHEMA_KEYS

MOT17 = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot17-train-trackeval"


@pytest.fixture
def mot_root(tmp_path: Path) -> Path:
    write_mot_split(tmp_path / "dance", ("hand-01", "hand-02"))
    return tmp_path / "dance"


def _mot_args(root: Path) -> list[str]:
    return ["data=dancetrack", f"data.root={root}", "data.val_split=train", "progress=false"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of model="),
        (["model=sort", "results=/tmp"], "give exactly one of model="),
        (["model=sort", "colour=red"], "unknown config key 'colour'.*Valid keys at the top level: .*model"),
        (["model=sort", "data=mot18"], "unknown data preset 'mot18'. Did you mean 'mot17'.*synth_mot"),
        (["model=sortt"], "unknown model 'sortt'.*mot trackers: .*bytetrack"),
        (["model=csrt"], "'csrt' is a sot tracker; the benchmark is a mot benchmark"),
        (["model=csrt", "data=synth_sot", "render=x"], "render= draws MOT tracks"),
        (["model=sort", "max_sequences=0"], "max_sequences must be >= 1"),
        (["--frobnicate"], "unknown option '--frobnicate'"),
    ],
)
def test_bad_input_gives_clear_errors(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    import re

    assert re.search(message, err), err


def test_help_lists_trackers_and_benchmarks(capsys: pytest.CaptureFixture) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "results=DIR" in out and "bytetrack" in out and "csrt" in out and "synth_vos" in out


def test_run_mode_with_render(mot_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["model=bytetrack", *_mot_args(mot_root), f"out={out}", "render=hand-01"]) == 0
    text = capsys.readouterr().out
    assert "bytetrack on dancetrack" in text and "COMBINED" in text
    doc = json.loads((out / "results.json").read_text())
    assert (
        list(doc) == list(SCHEMA_KEYS) and doc["method"] == "bytetrack" and doc["benchmark"] == "dancetrack"
    )
    assert sorted(p.name for p in out.glob("*.txt")) == ["hand-01.txt", "hand-02.txt"]
    assert (out / "render_hand-01.mp4").stat().st_size > 1000
    # the CLI's numbers are the runner's numbers
    seqs = motchallenge.load_split(mot_root / "train")
    assert mot.score_results(out, seqs, None, benchmark="dancetrack").metrics == doc["metrics"]
    assert main(["model=bytetrack", *_mot_args(mot_root), f"out={out}", "render=nope"]) == 2
    assert "render=nope: no such sequence; evaluated: hand-01, hand-02" in capsys.readouterr().err


def test_scoring_mode_and_missing_result(
    mot_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    seqs = motchallenge.load_split(mot_root / "train")
    raw = tmp_path / "mine"
    ran = mot.run_benchmark(ScriptedMOT(switch_script()), seqs, raw, benchmark="dancetrack", progress=False)
    out = tmp_path / "scored"
    # data.root may be the split folder itself
    assert (
        main(["results=" + str(raw), "data=dancetrack", f"data.root={mot_root / 'train'}", f"out={out}"]) == 0
    )
    doc = json.loads((out / "results.json").read_text())
    assert (
        doc["metrics"]
        == json.loads((raw / "results.json").read_text())["metrics"]
        == ran.to_json()["metrics"]
    )
    assert doc["method"] == "mine"
    (raw / "hand-02.txt").unlink()
    assert main(["results=" + str(raw), *_mot_args(mot_root), f"out={out}"]) == 2
    err = capsys.readouterr().err
    assert "no result for sequence hand-02: expected" in err and "hand-02.txt" in err


def test_model_all_sot_comparison_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = write_got10k_split(tmp_path / "got")
    out = tmp_path / "out"
    args = [
        "model=all",
        "data=got10k",
        f"data.root={root}",
        "data.train_split=null",
        f"out={out}",
        "progress=false",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    from zoo.registry import list_methods

    names = list_methods("sot", kind="baseline")
    assert len(names) >= 7
    table = text[text.index("SOT on got10k") :]
    for name in names:
        assert name in table
        assert json.loads((out / name / "results.json").read_text())["method"] == name
    assert (out / "sot_success_got10k.png").stat().st_size > 10_000
    assert (out / "sot_precision_got10k.png").stat().st_size > 10_000


@pytest.mark.skipif(not MOT17.is_dir(), reason="real MOT17 tracker data not available")
def test_cli_rescoring_of_mot17_equals_trackeval(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The end-to-end proof: the CLI on TrackEval's own MOT17 test data prints TrackEval's numbers."""
    args = [
        f"results={MOT17 / 'tracker' / 'data'}", "data=mot17", f"data.root={MOT17 / 'gt' / 'MOT17-train'}",
        f"seqmap={MOT17 / 'seqmaps' / 'MOT17-train.txt'}", f"out={tmp_path}", "progress=false",
    ]  # fmt: skip
    assert main(args) == 0
    combined = next(line for line in capsys.readouterr().out.splitlines() if "COMBINED" in line)
    for value in ("75.272", "79.75", "71.465", "90.32", "88.466", "81.859", "1605", "1716", "8466", "22539"):
        assert value in combined, combined
    doc = json.loads((tmp_path / "results.json").read_text())
    assert doc["benchmark"] == "mot17" and doc["split"] == "train" and len(doc["per_sequence"]) == 21


@pytest.mark.skipif(not MOT17.is_dir(), reason="real MOT17 tracker data not available")
def test_cli_subprocess_rescoring_of_mot17(tmp_path: Path) -> None:
    """The same as a user runs it: a fresh ``python -m zoo.evaluate`` process."""
    cmd = [
        sys.executable, "-m", "zoo.evaluate", f"results={MOT17 / 'tracker' / 'data'}", "data=mot17",
        f"data.root={MOT17 / 'gt' / 'MOT17-train'}", f"seqmap={MOT17 / 'seqmaps' / 'MOT17-train.txt'}",
        f"out={tmp_path}", "progress=false",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "75.272" in next(line for line in proc.stdout.splitlines() if "COMBINED" in line)


def test_hub_models_load_through_zoo_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    import zoo.hub
    from zoo.config import ConfigError
    from zoo.evaluate import build_trackers
    from zoo.registry import get_method
    from zoo.trackers.byte import ByteTrack

    class Loaded:
        spec = get_method("bytetrack")
        module = None
        model_id = "org/name"
        commit = "0" * 40

        def tracker(self) -> ByteTrack:
            return ByteTrack(track_thresh=0.42)

    calls = []
    monkeypatch.setattr(
        zoo.hub, "load_pretrained", lambda model, device=None: calls.append(model) or Loaded()
    )
    (entry,) = build_trackers("hf-hub:org/name@main", "mot")
    assert calls == ["hf-hub:org/name@main"]
    assert entry.meta == {"method": "bytetrack", "model_id": "org/name", "revision": "0" * 40, "params": 0}
    assert entry.factory().track_thresh == 0.42
    with pytest.raises(ConfigError, match="is a mot tracker; the benchmark is a sot benchmark"):
        build_trackers("hf-hub:org/name", "sot")


def test_tracker_settings_reach_the_tracker_and_name_the_row(mot_root: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    assert main(["model=bytetrack", *_mot_args(mot_root), f"out={base}"]) == 0
    assert main(["model=bytetrack", *_mot_args(mot_root), f"out={tuned}", "+tracker.new_track_thresh=1.01"]) == 0
    a, b = (json.loads((d / "results.json").read_text()) for d in (base, tuned))
    assert a["model_id"] is None or "[tracker" not in a["model_id"]
    assert b["model_id"] == "bytetrack [tracker: new_track_thresh=1.01]"
    # no detection can start a track above a threshold of 1.01: the setting reached the tracker
    assert a["metrics"]["HOTA"] > 0 and b["metrics"]["HOTA"] == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["model=bytetrack", "+tracker.colour=red"], "tracker settings {'colour': 'red'} for bytetrack: .*colour"),
        (["model=all", "+tracker.track_thresh=0.5"], "configure one tracker; name it with model=NAME"),
    ],
)
def test_bad_tracker_settings_fail_before_running(mot_root: Path, args: list[str], message: str,
                                                  capsys: pytest.CaptureFixture) -> None:
    import re

    assert main([*args, *_mot_args(mot_root)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err

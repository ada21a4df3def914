"""zoo.load from local sources, and every refusal with a clear message (config.json is data, never code)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .tiny_method import METHOD, TinyTracker, TinyTrackerModule


@pytest.fixture
def export(run_dir: Path) -> Path:
    from zoo.publish import export_run

    return export_run(run_dir, run_dir.parent / "export", repo_id="org/tiny").folder


def _edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        node = config
        *parents, last = key.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    (folder / "config.json").write_text(json.dumps(config))


def _state(run_dir: Path) -> dict:
    import torch

    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.parametrize("which", ["export", "run", "checkpoint"])
def test_load_local_sources(which, run_dir, export):
    import torch

    import zoo

    source = {"export": export, "run": run_dir, "checkpoint": run_dir / "checkpoints" / "last.ckpt"}[which]
    tracker = zoo.load(str(source))
    assert isinstance(tracker, TinyTracker) and tracker.score_thresh == 0.3
    module = tracker.module
    assert isinstance(module, TinyTrackerModule) and not module.training and not module.norm.training
    trained = _state(run_dir)
    for key, value in module.state_dict().items():
        assert torch.equal(value, trained[key]), key
    assert module.norm.num_batches_tracked.item() == 8  # buffers come back too, not only parameters


def test_pretrained_flag_is_forced_off(run_dir, export):
    from zoo.hub import load_pretrained

    _edit_config(export, init_args__pretrained=True)
    loaded = load_pretrained(export)
    assert loaded.config["init_args"]["pretrained"] is True  # recorded as trained
    assert loaded.module.hparams.pretrained is False  # but never re-downloaded on load


def test_baseline_without_weights(tmp_path):
    import zoo
    from zoo.hub import FORMAT, FORMAT_VERSION
    from zoo.trackers.byte import ByteTrack

    folder = tmp_path / "bytetrack"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "format": FORMAT, "format_version": FORMAT_VERSION, "zoo_version": zoo.__version__,
        "method": "bytetrack", "task": "mot", "kind": "baseline", "init_args": {"track_thresh": 0.5}}))
    tracker = zoo.load(folder)
    assert isinstance(tracker, ByteTrack) and tracker.track_thresh == 0.5


def test_corrupt_and_missing_weights(export):
    from zoo.hub import HubError, load

    weights = export / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the last tensor
    weights.write_bytes(bytes(data))
    with pytest.raises(HubError, match="model.safetensors is corrupt: sha256"):
        load(export)
    weights.write_bytes(b"not safetensors")
    _edit_config(export, weights__sha256=None)
    with pytest.raises(HubError, match="not a readable safetensors file"):
        load(export)
    weights.unlink()
    with pytest.raises(HubError, match="model.safetensors is missing"):
        load(export)


@pytest.mark.parametrize(("changes", "message"), [
    ({"zoo_version": "99.0"}, "written by zoo 99.0 .*Upgrade: pip install -U zoo-tracking"),
    ({"format_version": 2}, "config format 2"),
    ({"zoo_version": "banana"}, "not a version number"),
    ({"format": "something-else"}, "not a zoo tracker config"),
    ({"method": "no_such_method"}, "method 'no_such_method' is not registered in this zoo"),
    ({"method": "os.system"}, "method 'os.system' is not registered"),
    ({"task": "sot"}, "task 'sot' disagrees with the registered"),
    ({"init_args__hidden": 16}, "shape mismatch: embed.weight: file \\(8, 4\\) vs model \\(16, 4\\)"),
    ({"init_args___target_": "os.system"}, "init_args \\['_target_'\\] are not arguments of TinyTrackerModule"),
    ({"init_args": ["dim", 4]}, "init_args must be an object of plain JSON values"),
    ({"weights": None}, "a method needs weights"),
])
def test_config_refusals(export, changes, message):
    from zoo.hub import HubError, load

    _edit_config(export, **changes)
    with pytest.raises(HubError, match=message):
        load(export)


def test_config_never_imports_anything(export, monkeypatch):
    """A hostile config.json naming modules or callables by path is refused before anything is built."""
    import builtins
    import sys

    from zoo.hub import HubError, load

    _edit_config(export, method="evil_module_xyz.Thing", init_args={"_target_": "evil_module_xyz.run"})
    real_import = builtins.__import__
    seen = []

    def spy(name, *args, **kwargs):
        seen.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", spy)
    with pytest.raises(HubError):
        load(export)
    assert not any(name.startswith("evil_module_xyz") for name in seen)
    assert "evil_module_xyz" not in sys.modules


def test_unregistered_method_of_a_checkpoint(run_dir, monkeypatch):
    from zoo import registry
    from zoo.hub import HubError, load

    monkeypatch.delitem(registry._REGISTRY, METHOD)
    with pytest.raises(HubError, match=f"unknown method '{METHOD}'"):
        load(run_dir)


@pytest.mark.parametrize(("text", "kind", "repo", "rev"), [
    ("hf-hub:org/name@v1", "hub", "org/name", "v1"),
    ("hf-hub:org/name", "hub", "org/name", None),
    ("org/name", "hub", "org/name", None),
    ("org/name@refs/pr/1", "hub", "org/name", "refs/pr/1"),
])
def test_parse_hub_sources(text, kind, repo, rev):
    from zoo.hub import parse_source

    source = parse_source(text)
    assert (source.kind, source.repo_id, source.revision) == (kind, repo, rev)
    assert parse_source(text, revision="main").revision == "main"


@pytest.mark.parametrize(("text", "message"), [
    ("hf-hub:bad name/x", "not a valid Hub repo id"),
    ("hf-hub:single", "needs a namespace"),
    ("missing.ckpt", "no such file or folder"),
    ("a/b/c", "no such file or folder"),
])
def test_parse_bad_sources(text, message, tmp_path, monkeypatch):
    from zoo.hub import HubError, parse_source

    monkeypatch.chdir(tmp_path)
    with pytest.raises(HubError, match=message):
        parse_source(text)
    (tmp_path / "empty").mkdir()
    with pytest.raises(HubError, match="a folder must hold config.json"):
        parse_source(tmp_path / "empty")


def test_local_folder_wins_over_repo_id(export, tmp_path, monkeypatch):
    from zoo.hub import parse_source

    (tmp_path / "org").mkdir()
    os.symlink(export, tmp_path / "org" / "tiny")
    monkeypatch.chdir(tmp_path)
    assert parse_source("org/tiny").kind == "folder"
    assert parse_source("hf-hub:org/tiny").kind == "hub"


def test_tracker_must_implement_the_task_protocol(export, monkeypatch):
    from zoo.hub import HubError, load

    monkeypatch.setattr(TinyTrackerModule, "tracker", lambda self: object())
    with pytest.raises(HubError, match="object, which does not implement MOTTracker or OfflineMOTTracker"):
        load(export)


def test_tied_and_strided_tensors_are_saved(tmp_path):
    import torch
    from safetensors.torch import load_file

    from zoo.hub import save_weights

    base = torch.arange(12.0).reshape(3, 4)
    state = {"a": base, "tied": base, "view": base[:, 1], "t": base.t()}
    info = save_weights(state, tmp_path / "w.safetensors")
    back = load_file(tmp_path / "w.safetensors")
    for key, value in state.items():
        assert torch.equal(back[key], value), key
    assert info["tensors"] == 4 and info["numel"] == 12 + 12 + 3 + 12

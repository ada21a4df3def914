"""Exporting a run: the Hub folder's files and config.json, atomic writes, the card rule, the CLI."""

from __future__ import annotations

import csv
import json

import pytest

from .tiny_method import METHOD, PER_SEQUENCE


def _main(*args: str) -> int:
    from zoo.publish import main

    return main(list(args))


def test_dry_run_writes_the_hub_folder(run_dir, capsys):
    import torch
    from safetensors import safe_open

    from zoo.hub import file_sha256

    assert _main(f"run={run_dir}", "repo_id=org/tiny", "dry_run=true") == 0
    out = run_dir / "hub_export"
    assert capsys.readouterr().out.strip() == str(out)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["README.md", "config.json", "model.safetensors", "results/per_sequence.csv",
                     "results/per_sequence.png", "results/raw/val-seq0.txt", "results/raw/val-seq1.txt",
                     "results/results.json"]
    config = json.loads((out / "config.json").read_text())
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    training = json.loads((run_dir / "training.json").read_text())
    results = json.loads((run_dir / "results.json").read_text())
    assert (config["format"], config["method"], config["task"], config["kind"]) == (
        "zoo-tracker", METHOD, "mot", "method")
    assert config["init_args"] == dict(ckpt["hyper_parameters"])
    assert config["tracker_config"] == {"score_thresh": 0.3}
    assert config["input_contract"]["image_size"] == [64, 112]
    assert config["weights"]["sha256"] == file_sha256(out / "model.safetensors")
    assert config["weights"]["numel"] == 65 + 16 + 1  # 65 parameters + BN running mean/var + count
    prov = config["provenance"]
    assert prov["recipe"] == "hub_tiny" and prov["git_sha"] == training["git_sha"]
    assert prov["data"]["manifest_sha256"] == training["data"]["manifest_sha256"]
    assert prov["evaluator"] == results["evaluator"] and prov["hardware"] == training["hardware"]
    assert prov["wall_time_s"] == training["wall_time_s"] and prov["checkpoint"]["global_step"] == 8
    assert "run_dir" not in prov["recipe_config"] and prov["recipe_config"]["logger"]["save_dir"] == "${run_dir}"
    # weights: exactly the checkpoint's tensors, read back without pickle
    with safe_open(out / "model.safetensors", framework="pt") as f:
        assert sorted(f.keys()) == sorted(ckpt["state_dict"])
        for key in f.keys():
            assert torch.equal(f.get_tensor(key), ckpt["state_dict"][key]), key
        assert f.metadata()["zoo_method"] == METHOD
    published = json.loads((out / "results" / "results.json").read_text())
    assert published["model_id"] == "org/tiny" and published["metrics"] == results["metrics"]
    rows = list(csv.DictReader((out / "results" / "per_sequence.csv").open()))
    assert [r["sequence"] for r in rows] == list(PER_SEQUENCE)
    assert float(rows[1]["HOTA"]) == PER_SEQUENCE["val-seq1"]["HOTA"] and int(rows[0]["IDSW"]) == 3
    assert 'zoo.load("hf-hub:org/tiny")' in (out / "README.md").read_text()


def test_failed_export_keeps_the_previous_one(run_dir, monkeypatch):
    import zoo.publish as publish
    from zoo.hub import HubError

    first = publish.export_run(run_dir)
    before = {p: p.read_bytes() for p in first.folder.rglob("*") if p.is_file()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(publish, "_write_results", broken)
    with pytest.raises(OSError, match="disk full"):
        publish.export_run(run_dir)
    after = {p: p.read_bytes() for p in first.folder.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in run_dir.iterdir() if p.name.startswith(".hub_export")] == []  # no temp left

    monkeypatch.undo()
    from .tiny_method import TinyTrackerModule

    def no_tracker(self):
        raise RuntimeError("tracker needs a detector")

    monkeypatch.setattr(TinyTrackerModule, "tracker", no_tracker)
    with pytest.raises(HubError, match="tracker\\(\\) fails on the rebuilt module: RuntimeError"):
        publish.export_run(run_dir, run_dir / "other")
    assert not (run_dir / "other").exists()


def test_card_rule_rerender_or_reuse(run_dir):
    from zoo.publish import export_run

    fresh = export_run(run_dir, repo_id="org/a")
    assert fresh.card.startswith("re-rendered")
    assert 'zoo.load("hf-hub:org/a")' in (fresh.folder / "README.md").read_text()
    edited = (run_dir / "README.md").read_text() + "\n## Notes\n\nHand-written remark.\n"
    (run_dir / "README.md").write_text(edited)
    reused = export_run(run_dir, repo_id="org/a")
    assert reused.card.startswith("reused") and (reused.folder / "README.md").read_text() == edited


def test_export_without_results_or_raw(run_dir):
    from huggingface_hub import ModelCard

    from zoo.publish import export_run

    (run_dir / "results.json").unlink()
    export = export_run(run_dir, raw=False)
    assert not (export.folder / "results").exists() or not any((export.folder / "results").iterdir())
    assert export.config["provenance"]["evaluator"] is None
    assert not ModelCard.load(export.folder / "README.md").data.eval_results


def test_bad_runs_are_refused(run_dir, tmp_path):
    import torch

    from zoo.hub import HubError
    from zoo.publish import export_run

    with pytest.raises(HubError, match="config.yaml is missing"):
        export_run(tmp_path)
    with pytest.raises(HubError, match="no best-\\*.ckpt"):
        export_run(run_dir, checkpoint="best")
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    ckpt["hyper_parameters"]["dim"] = (4, 4)  # a tuple is not a plain JSON value
    torch.save(ckpt, run_dir / "checkpoints" / "tuple.ckpt")
    with pytest.raises(HubError, match="init arg 'dim' is a tuple"):
        export_run(run_dir, checkpoint="checkpoints/tuple.ckpt")
    ckpt["hyper_parameters"]["dim"] = 4
    del ckpt["zoo"]
    (run_dir / "config.yaml").write_text((run_dir / "config.yaml").read_text().replace(
        f"method: {METHOD}", "method: null"))
    torch.save(ckpt, run_dir / "checkpoints" / "anonymous.ckpt")
    with pytest.raises(HubError, match="cannot tell which method"):
        export_run(run_dir, checkpoint="checkpoints/anonymous.ckpt")


@pytest.mark.parametrize(("args", "message"), [
    (["repo_id=org/x"], "run=RUN_DIR is required"),
    (["run=x"], "repo_id=ORG/NAME is required"),
    (["run=x", "repo=org/x"], "unknown key 'repo'. Did you mean 'repo_id'? Valid keys: run, repo_id"),
    (["run=x", "dry_run=maybe"], "dry_run must be true or false"),
    (["run=x", "tag"], "expected key=value"),
])
def test_cli_usage_errors(args, message, capsys):
    assert _main(*args) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_cli_reports_export_errors(tmp_path, capsys):
    assert _main(f"run={tmp_path}", "dry_run=true") == 1
    assert "config.yaml is missing" in capsys.readouterr().err


def test_cli_help(capsys):
    assert _main("--help") == 0
    out = capsys.readouterr().out
    assert "python -m zoo.publish run=RUN_DIR repo_id=ORG/NAME" in out and "checkpoint=last|best|PATH" in out

"""The whole cycle through the real huggingface_hub client against the local test Hub: publish, publish again,
tag, load by tag vs main, read the card's metrics back, then stop the server and load from the cache offline."""

from __future__ import annotations

import json
import uuid

import pytest

from .hub_server import FakeHub
from .tiny_method import TinyTracker

# huggingface_hub's own LFS upload passes raw bytes as `data=` to httpx2
pytestmark = pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")


def _publish(*args: str) -> int:
    from zoo.publish import main

    return main(list(args))


def _shifted_checkpoint(run_dir, name: str, delta: float) -> str:
    """A second checkpoint of the run with every embedding weight moved by ``delta`` (a 'new training')."""
    import torch

    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    ckpt["state_dict"]["embed.weight"] = ckpt["state_dict"]["embed.weight"] + delta
    torch.save(ckpt, run_dir / "checkpoints" / name)
    return f"checkpoints/{name}"


def test_publish_tag_reload_offline(hub, run_dir, monkeypatch, capsys):
    import torch
    from huggingface_hub import HfApi, ModelCard, constants

    import zoo
    from zoo.hub import HubError

    private = FakeHub(token=hub.token)  # its own server: this test stops it
    endpoint = private.start()
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    repo = f"org/tiny-{uuid.uuid4().hex[:6]}"
    trained = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    try:
        # 1. publish v1
        assert _publish(f"run={run_dir}", f"repo_id={repo}", "tag=v1") == 0
        assert capsys.readouterr().out.strip() == f"{endpoint}/{repo}"
        api = HfApi()
        v1 = {t.name: t.target_commit for t in api.list_repo_refs(repo).tags}["v1"]
        assert sorted(api.list_repo_files(repo)) == [
            ".gitattributes", "README.md", "config.json", "model.safetensors", "results/per_sequence.csv",
            "results/per_sequence.png", "results/raw/val-seq0.txt", "results/raw/val-seq1.txt",
            "results/results.json"]
        # 2. publish again: other weights, no raw outputs (removed from the repo), no tag
        assert _publish(f"run={run_dir}", f"repo_id={repo}", f"checkpoint={_shifted_checkpoint(run_dir, 'b.ckpt', 1.0)}",
                        "raw=false", "message=second") == 0
        main = api.model_info(repo).sha
        assert main != v1 and "results/raw/val-seq0.txt" not in api.list_repo_files(repo)
        # 3. the tag still names the first release; main the second
        by_tag = zoo.load(f"hf-hub:{repo}@v1")
        by_main = zoo.load(repo)
        assert isinstance(by_tag, TinyTracker) and not by_tag.module.training
        assert torch.equal(by_tag.module.embed.weight, trained["embed.weight"])
        assert torch.equal(by_main.module.embed.weight, trained["embed.weight"] + 1.0)
        # 4. the card on the Hub carries the metrics (model-index) and the load snippet
        card = ModelCard.load(repo)
        metrics = {r.metric_name: r.metric_value for r in card.data.eval_results}
        results = json.loads((run_dir / "results.json").read_text())["metrics"]
        assert metrics["HOTA"] == pytest.approx(results["HOTA"] * 100) and metrics["IDSW"] == results["IDSW"]
        assert f'zoo.load("hf-hub:{repo}")' in card.text
        # 5. a tag is a release: publishing v1 again is refused before anything is uploaded
        assert _publish(f"run={run_dir}", f"repo_id={repo}", "tag=v1") == 1
        assert "tag 'v1' already exists" in capsys.readouterr().err
        assert api.model_info(repo).sha == main
        # 6. a branch: main stays where it was
        assert _publish(f"run={run_dir}", f"repo_id={repo}", "revision=dev",
                        f"checkpoint={_shifted_checkpoint(run_dir, 'c.ckpt', 2.0)}") == 0
        assert api.model_info(repo).sha == main
        assert torch.equal(zoo.load(f"{repo}@dev").module.embed.weight, trained["embed.weight"] + 2.0)
        assert zoo.list_models(online=True) == sorted({repo, *zoo.list_models(online=True)})
    finally:
        private.stop()

    # 7. server gone, offline: everything loaded before comes from the cache
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert torch.equal(zoo.load(f"hf-hub:{repo}@v1").module.embed.weight, trained["embed.weight"])
    assert torch.equal(zoo.load(repo).module.embed.weight, trained["embed.weight"] + 1.0)
    assert repo in zoo.list_models() and repo in zoo.list_models(task="mot") and not zoo.list_models(task="vos")
    with pytest.raises(HubError, match="HF_HUB_OFFLINE=1 and config.json of this revision is not in the Hub cache"):
        zoo.load(f"{repo}@v9")
    with pytest.raises(HubError, match="HF_HUB_OFFLINE=1 is set"):
        zoo.list_models(online=True)
    # online again but the server is down: cached revisions load, others fail at once (no back-off retries)
    import huggingface_hub.utils._http as hf_http

    def no_sleep(seconds):
        raise AssertionError(f"huggingface_hub retried with a {seconds} s back-off")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_http.time, "sleep", no_sleep)
    assert torch.equal(zoo.load(f"hf-hub:{repo}@v1").module.embed.weight, trained["embed.weight"])
    with pytest.raises(HubError, match="cannot reach .* and config.json is not cached"):
        zoo.load(f"{repo}@v9")


def test_unknown_repo_revision_and_non_zoo_repo(hub, tmp_path):
    from huggingface_hub import HfApi

    from zoo.hub import HubError, load

    with pytest.raises(HubError, match="unknown repo 'org/nothing-here'"):
        load("hf-hub:org/nothing-here")
    repo = f"org/plain-{uuid.uuid4().hex[:6]}"
    api = HfApi()
    api.create_repo(repo)
    with pytest.raises(HubError, match="revision 'v7' does not exist"):
        load(f"{repo}@v7")
    with pytest.raises(HubError, match="the repo has no config.json; it is not a zoo tracker export"):
        load(repo)
    (tmp_path / "config.json").write_text('{"architectures": ["Bert"]}')
    api.upload_folder(repo_id=repo, folder_path=tmp_path, commit_message="a transformers config")
    with pytest.raises(HubError, match="not a zoo tracker config"):
        load(repo)


def test_corrupt_weights_on_the_hub_are_caught(hub, run_dir):
    from huggingface_hub import HfApi

    from zoo.hub import HubError, load
    from zoo.publish import export_run

    repo = f"org/corrupt-{uuid.uuid4().hex[:6]}"
    folder = export_run(run_dir, repo_id=repo).folder
    weights = bytearray((folder / "model.safetensors").read_bytes())
    weights[-1] ^= 0x01
    (folder / "model.safetensors").write_bytes(bytes(weights))
    api = HfApi()
    api.create_repo(repo)
    api.upload_folder(repo_id=repo, folder_path=folder, commit_message="tampered")
    with pytest.raises(HubError, match="model.safetensors is corrupt"):
        load(repo)


def test_failed_upload_publishes_nothing(hub, run_dir, capsys):
    from huggingface_hub import HfApi

    repo = f"org/fail-{uuid.uuid4().hex[:6]}"
    hub.fail_next("POST", f"/api/models/{repo}/commit/", 500)
    assert _publish(f"run={run_dir}", f"repo_id={repo}", "tag=v1") == 1
    assert "the Hub refused the upload" in capsys.readouterr().err
    api = HfApi()
    assert sorted(api.list_repo_files(repo)) == [".gitattributes"]  # created, but nothing committed
    assert api.list_repo_refs(repo).tags == []
    assert (run_dir / "hub_export" / "config.json").is_file()  # the export itself is complete and kept


def test_not_logged_in(hub, run_dir, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    assert _publish(f"run={run_dir}", "repo_id=org/nope") == 1
    assert "not authenticated for this Hub" in capsys.readouterr().err

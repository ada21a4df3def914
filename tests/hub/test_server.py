"""The test Hub speaks the real protocol: the unmodified huggingface_hub client uploads, lists, tags and downloads
through it, and gets its own typed errors back (so the zoo's publish/load tests exercise real client code)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.filterwarnings("ignore:Use .content=:DeprecationWarning")]  # the client's LFS PUT


def _repo() -> str:
    return f"tests/server-{uuid.uuid4().hex[:8]}"


def _folder(tmp_path: Path, **files: bytes) -> Path:
    folder = tmp_path / f"upload-{uuid.uuid4().hex[:6]}"
    for name, data in files.items():
        path = folder / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def test_upload_list_download_roundtrip(hub, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    repo = _repo()
    weights = bytes(range(256)) * 64
    folder = _folder(tmp_path, **{"model.safetensors": weights, "config.json": b'{"a": 1}',
                                  "results__results.json": b"{}"})
    api.create_repo(repo)
    api.create_repo(repo, exist_ok=True)  # 409 -> accepted
    info = api.upload_folder(repo_id=repo, folder_path=folder, commit_message="first")
    # the weights went through the LFS batch/PUT/verify path, the small files inline in the ndjson commit
    assert any(path.startswith("/lfs/") for _, path in hub.requests)
    assert hub.repos[repo].commits[info.oid].files["model.safetensors"].lfs
    assert not hub.repos[repo].commits[info.oid].files["config.json"].lfs
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", "config.json", "model.safetensors",
                                                  "results/results.json"]
    assert api.model_info(repo).sha == info.oid
    path = Path(hf_hub_download(repo, "model.safetensors"))
    assert path.read_bytes() == weights
    assert path.parent.name == info.oid  # the cache snapshot is named after X-Repo-Commit
    lfs = [f for f in api.list_repo_tree(repo, recursive=True) if getattr(f, "lfs", None)]
    assert [f.lfs.sha256 for f in lfs] == [hashlib.sha256(weights).hexdigest()]
    assert hub.unhandled == []


def test_branches_tags_and_deletions(hub, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    repo = _repo()
    api.create_repo(repo)
    first = api.upload_folder(repo_id=repo, folder_path=_folder(tmp_path, **{"a.txt": b"1", "old.txt": b"x"}),
                              commit_message="one")
    api.create_tag(repo, tag="v1", revision=first.oid)
    second = api.upload_folder(repo_id=repo, folder_path=_folder(tmp_path, **{"a.txt": b"2"}),
                               commit_message="two", delete_patterns=["*"])
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", "a.txt"]
    assert sorted(api.list_repo_files(repo, revision="v1")) == [".gitattributes", "a.txt", "old.txt"]
    assert Path(hf_hub_download(repo, "a.txt", revision="v1")).read_bytes() == b"1"
    assert Path(hf_hub_download(repo, "a.txt")).read_bytes() == b"2"
    api.create_branch(repo, branch="dev")
    api.upload_folder(repo_id=repo, folder_path=_folder(tmp_path, **{"a.txt": b"3"}), revision="dev",
                      commit_message="dev")
    refs = api.list_repo_refs(repo)
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": first.oid}
    assert {b.name for b in refs.branches} == {"main", "dev"}
    assert Path(hf_hub_download(repo, "a.txt", revision="dev")).read_bytes() == b"3"
    assert api.model_info(repo).sha == second.oid


def test_typed_errors(hub, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi()
    repo = _repo()
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(repo, "config.json")
    api.create_repo(repo)
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(repo, "config.json")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo, ".gitattributes", revision="nope")
    with pytest.raises(HfHubHTTPError) as denied:
        HfApi(token="hf_wrong").create_repo(_repo())
    assert denied.value.response.status_code == 401


def test_bad_card_metadata_is_refused(hub, tmp_path):
    from huggingface_hub import HfApi

    api = HfApi()
    repo = _repo()
    api.create_repo(repo)
    card = b"---\nmodel-index:\n- name: x\n  results:\n  - task: {type: t}\n    dataset: {type: d}\n" \
           b"    metrics: [{type: m, value: 1}]\n---\n# card\n"
    with pytest.raises(ValueError, match="dataset.name"):
        api.upload_folder(repo_id=repo, folder_path=_folder(tmp_path, **{"README.md": card}), commit_message="c")
    assert sorted(api.list_repo_files(repo)) == [".gitattributes"]


def test_failed_commit_changes_nothing(hub, tmp_path):
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi()
    repo = _repo()
    api.create_repo(repo)
    head = api.model_info(repo).sha
    hub.fail_next("POST", f"/api/models/{repo}/commit/", 500)
    with pytest.raises(HfHubHTTPError):
        api.upload_folder(repo_id=repo, folder_path=_folder(tmp_path, **{"a.txt": b"1"}), commit_message="x")
    assert api.model_info(repo).sha == head
    assert sorted(api.list_repo_files(repo)) == [".gitattributes"]

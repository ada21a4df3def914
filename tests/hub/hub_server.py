"""A small Hugging Face Hub-compatible HTTP server for tests (loopback only, in-memory, one thread per request).

It implements exactly the endpoints that ``huggingface_hub`` 2.x calls for the zoo's publish/load cycle, with
the same request and response shapes as the real Hub, so the REAL client runs unmodified against it:

- ``POST /api/repos/create``: create a model repo (initial commit holding ``.gitattributes``; 409 if taken).
- ``POST /api/validate-yaml``: check a README's YAML front matter and its ``model-index`` (400 with errors).
- ``GET /api/models`` (search by ``filter`` tags), ``GET /api/models/{id}[/revision/{rev}]`` (model info).
- ``GET /api/models/{id}/tree/{rev}[/{path}]``: file listing (files with ``oid``/``size``/``lfs``).
- ``GET /api/models/{id}/refs``; ``POST .../branch/{name}``; ``POST .../tag/{rev}``; ``DELETE .../tag/{tag}``.
- ``POST /api/models/{id}/preupload/{rev}``: upload mode per file (``lfs`` for weights and files >= 10 MiB).
- ``POST /{id}.git/info/lfs/objects/batch``, ``PUT /lfs/{oid}``, ``POST /lfs/{oid}/verify``: basic LFS.
- ``POST /api/models/{id}/commit/{rev}``: the ndjson commit (``header``, ``file``, ``lfsFile``, deletions),
  atomic: a failing commit changes nothing.
- ``HEAD``/``GET /{id}/resolve/{rev}/{path}``: file download with ``ETag``, ``X-Repo-Commit``, sizes.

Errors carry ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) as the real Hub's
do, so the client raises its own typed exceptions. Writes need ``Authorization: Bearer <token>``.
``fail_next(method, pattern, status)`` injects one failure (to test partial-failure handling); every
request is logged in ``requests`` and any route this server does not know in ``unhandled``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".npz", ".h5", ".onnx")
LFS_MIN_SIZE = 10 * 1024 * 1024
GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
_YAML_BLOCK = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def git_blob_oid(data: bytes) -> str:
    """git's object id of a blob (what the Hub reports for regular files)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Entry:
    """One file of a commit: its bytes, and whether it is stored through LFS."""

    data: bytes
    lfs: bool

    @property
    def oid(self) -> str:
        return hashlib.sha256(self.data).hexdigest() if self.lfs else git_blob_oid(self.data)


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    date: str
    files: dict[str, Entry]


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


class HubError(Exception):
    """An error response: status, X-Error-Code and message."""

    def __init__(self, status: int, message: str, code: str | None = None, commit: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.commit = status, message, code, commit
        self.extra = extra or {}


class FakeHub:
    """The server state and its lifecycle. ``start()`` returns the endpoint ``http://127.0.0.1:<port>``."""

    def __init__(self, token: str = "hf_test_token") -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.lfs_store: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.unhandled: list[tuple[str, str]] = []
        self._failures: list[tuple[str, re.Pattern, int]] = []
        self._lock = threading.RLock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[Any] = set()
        self._thread: threading.Thread | None = None
        self.endpoint = ""

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> str:
        hub = self

        class Handler(_Handler):
            state = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self.endpoint

    def stop(self) -> None:
        """Stop accepting and cut every open (kept-alive) connection, as a server going down would."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def fail_next(self, method: str, pattern: str, status: int = 500) -> None:
        """Answer the next ``method`` request whose path matches ``pattern`` with ``status``."""
        with self._lock:
            self._failures.append((method.upper(), re.compile(pattern), status))

    def _take_failure(self, method: str, path: str) -> int | None:
        with self._lock:
            for i, (m, pattern, status) in enumerate(self._failures):
                if m == method and pattern.search(path):
                    del self._failures[i]
                    return status
        return None

    # -- repository model ----------------------------------------------------------------------------
    def _new_oid(self, *parts: str) -> str:
        self._counter += 1
        return hashlib.sha1("\0".join((*parts, str(self._counter))).encode()).hexdigest()

    def repo(self, repo_id: str) -> Repo:
        try:
            return self.repos[repo_id]
        except KeyError:
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound") from None

    def resolve(self, repo: Repo, revision: str) -> Commit:
        oid = repo.branches.get(revision) or repo.tags.get(revision)
        if oid is None and re.fullmatch(r"[0-9a-f]{40}", revision) and revision in repo.commits:
            oid = revision
        if oid is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return repo.commits[oid]

    def create_repo(self, repo_id: str, private: bool) -> Repo:
        if repo_id in self.repos:
            # like the Hub: the conflict still names the repo URL (create_repo(exist_ok=True) reads it)
            raise HubError(409, "You already created this model repo", extra={"url": f"{self.endpoint}/{repo_id}"})
        repo = Repo(repo_id, private)
        commit = Commit(self._new_oid(repo_id, "init"), None, "initial commit", _now(),
                        {".gitattributes": Entry(GITATTRIBUTES, lfs=False)})
        repo.commits[commit.oid] = commit
        repo.branches["main"] = commit.oid
        self.repos[repo_id] = repo
        return repo


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", ".000Z")


def _front_matter(text: str) -> dict[str, Any]:
    match = _YAML_BLOCK.match(text)
    if not match:
        return {}
    data = yaml.safe_load(match.group(1))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("the YAML metadata block must be a mapping")
    return data


def validate_card_metadata(text: str) -> list[str]:
    """Errors the Hub would report for a README's metadata (YAML syntax, model-index structure)."""
    try:
        meta = _front_matter(text)
    except (yaml.YAMLError, ValueError) as error:
        return [f"invalid YAML metadata: {error}"]
    errors = []
    index = meta.get("model-index")
    if index is None:
        return errors
    if not isinstance(index, list) or not index:
        return ['"model-index" must be a non-empty list']
    for i, model in enumerate(index):
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            errors.append(f'"model-index[{i}].name" must be a string')
            continue
        for j, result in enumerate(model.get("results") or []):
            where = f"model-index[{i}].results[{j}]"
            if not isinstance((result.get("task") or {}).get("type"), str):
                errors.append(f'"{where}.task.type" must be a string')
            dataset = result.get("dataset") or {}
            for key in ("type", "name"):
                if not isinstance(dataset.get(key), str):
                    errors.append(f'"{where}.dataset.{key}" must be a string')
            metrics = result.get("metrics")
            if not isinstance(metrics, list) or not metrics:
                errors.append(f'"{where}.metrics" must be a non-empty list')
                continue
            for k, metric in enumerate(metrics):
                if not isinstance(metric.get("type"), str):
                    errors.append(f'"{where}.metrics[{k}].type" must be a string')
                if not isinstance(metric.get("value"), (int, float, str)) or isinstance(metric.get("value"), bool):
                    errors.append(f'"{where}.metrics[{k}].value" must be a number or a string')
    return errors


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the :class:`FakeHub` held in ``state``."""

    state: FakeHub
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default stderr log
        pass

    def setup(self) -> None:
        super().setup()
        with self.state._lock:
            self.state._connections.add(self.connection)

    def finish(self) -> None:
        with self.state._lock:
            self.state._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:  # the connection was cut by stop()
            pass

    # -- plumbing ------------------------------------------------------------------------------------
    def _body(self) -> bytes:
        return self.body

    def _json_body(self) -> Any:
        body = self._body()
        return json.loads(body) if body else {}

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, doc: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(doc).encode(), headers)

    def _error(self, error: HubError) -> None:
        headers = {"X-Error-Message": error.message}
        if error.code:
            headers["X-Error-Code"] = error.code
        if error.commit:
            headers["X-Repo-Commit"] = error.commit
        self._json(error.status, {"error": error.message, **error.extra}, headers)

    def _require_token(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.state.token}":
            raise HubError(401, "Invalid credentials in Authorization header")

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        # read the whole body first: an error answered before reading it would desync the kept-alive stream
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        self.state.requests.append((self.command, url.path))
        failure = self.state._take_failure(self.command, url.path)
        try:
            if failure is not None:
                raise HubError(failure, f"injected failure {failure}")
            with self.state._lock:
                handled = self._route(parts)
            if not handled:
                self.state.unhandled.append((self.command, url.path))
                self._json(404, {"error": f"no route for {self.command} {url.path}"})
        except HubError as error:
            self._error(error)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch

    def _route(self, p: list[str]) -> bool:
        m = self.command
        if p[:2] == ["api", "repos"] and p[2:] == ["create"] and m == "POST":
            return self._create_repo()
        if p == ["api", "validate-yaml"] and m == "POST":
            return self._validate_yaml()
        if p == ["api", "models"] and m == "GET":
            return self._list_models()
        if p[:2] == ["api", "models"] and len(p) >= 4:
            repo_id, rest = f"{p[2]}/{p[3]}", p[4:]
            if not rest and m == "GET":
                return self._model_info(repo_id, "main")
            action = rest[0]
            if action == "revision" and len(rest) == 2 and m == "GET":
                return self._model_info(repo_id, rest[1])
            if action == "tree" and len(rest) >= 2 and m == "GET":
                return self._tree(repo_id, rest[1], "/".join(rest[2:]))
            if action == "refs" and m == "GET":
                return self._refs(repo_id)
            if action == "preupload" and len(rest) == 2 and m == "POST":
                return self._preupload(repo_id, rest[1])
            if action == "commit" and len(rest) == 2 and m == "POST":
                return self._commit(repo_id, rest[1])
            if action == "branch" and len(rest) == 2 and m == "POST":
                return self._create_branch(repo_id, rest[1])
            if action == "tag" and len(rest) == 2 and m == "POST":
                return self._create_tag(repo_id, rest[1])
            if action == "tag" and len(rest) == 2 and m == "DELETE":
                return self._delete_tag(repo_id, rest[1])
            return False
        if p[:1] == ["lfs"] and len(p) == 2 and m == "PUT":
            return self._lfs_put(p[1])
        if p[:1] == ["lfs"] and len(p) == 3 and p[2] == "verify" and m == "POST":
            return self._lfs_verify(p[1])
        if len(p) == 6 and p[1].endswith(".git") and p[2:] == ["info", "lfs", "objects", "batch"] and m == "POST":
            return self._lfs_batch(f"{p[0]}/{p[1][:-4]}")
        if len(p) >= 5 and p[2] == "resolve" and m in ("GET", "HEAD"):
            return self._resolve(f"{p[0]}/{p[1]}", p[3], "/".join(p[4:]))
        return False

    # -- repos and metadata --------------------------------------------------------------------------
    def _create_repo(self) -> bool:
        self._require_token()
        body = self._json_body()
        if body.get("type", "model") != "model":
            raise HubError(400, "this test Hub serves model repos only")
        repo_id = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
        self.state.create_repo(repo_id, body.get("visibility") == "private")
        self._json(200, {"url": f"{self.state.endpoint}/{repo_id}", "name": repo_id})
        return True

    def _validate_yaml(self) -> bool:
        body = self._json_body()
        errors = validate_card_metadata(body.get("content", ""))
        if errors:
            self._json(400, {"errors": [{"message": e} for e in errors], "warnings": []})
        else:
            self._json(200, {"errors": [], "warnings": []})
        return True

    def _info_doc(self, repo: Repo, commit: Commit) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        readme = commit.files.get("README.md")
        if readme is not None:
            try:
                meta = _front_matter(readme.data.decode("utf-8"))
            except (yaml.YAMLError, ValueError, UnicodeDecodeError):
                meta = {}
        tags = list(meta.get("tags") or [])
        if meta.get("library_name"):
            tags.append(str(meta["library_name"]))
        return {
            "id": repo.repo_id, "modelId": repo.repo_id, "sha": commit.oid, "private": repo.private,
            "lastModified": commit.date, "tags": tags, "library_name": meta.get("library_name"),
            "cardData": meta or None,
            "siblings": [{"rfilename": path} for path in sorted(commit.files)],
        }

    def _model_info(self, repo_id: str, revision: str) -> bool:
        repo = self.state.repo(repo_id)
        self._json(200, self._info_doc(repo, self.state.resolve(repo, revision)))
        return True

    def _list_models(self) -> bool:
        wanted = set(self.query.get("filter", []))
        out = []
        for repo in self.state.repos.values():
            info = self._info_doc(repo, repo.commits[repo.branches["main"]])
            if wanted <= set(info["tags"]):
                info.pop("siblings")
                out.append(info)
        self._json(200, out)
        return True

    def _tree(self, repo_id: str, revision: str, prefix: str) -> bool:
        repo = self.state.repo(repo_id)
        commit = self.state.resolve(repo, revision)
        recursive = (self.query.get("recursive", ["false"])[0]).lower() in ("1", "true")
        prefix = prefix.strip("/")
        base = f"{prefix}/" if prefix else ""
        if prefix and not any(path.startswith(base) for path in commit.files):
            raise HubError(404, f"{prefix} does not exist", "EntryNotFound", commit.oid)
        entries: dict[str, dict[str, Any]] = {}
        for path, entry in sorted(commit.files.items()):
            if not path.startswith(base):
                continue
            rel = path[len(base):].split("/")
            dirs = rel[:-1] if recursive else rel[:1] if len(rel) > 1 else []
            for depth in range(1, len(dirs) + 1):
                folder = base + "/".join(dirs[:depth])
                entries.setdefault(folder, {"type": "directory", "path": folder, "oid": git_blob_oid(folder.encode())})
            if recursive or len(rel) == 1:
                doc: dict[str, Any] = {"type": "file", "path": path, "size": len(entry.data),
                                       "oid": git_blob_oid(entry.data)}
                if entry.lfs:
                    doc["lfs"] = {"oid": entry.oid, "size": len(entry.data), "pointerSize": 134}
                entries[path] = doc
        self._json(200, list(entries.values()))
        return True

    def _refs(self, repo_id: str) -> bool:
        repo = self.state.repo(repo_id)

        def refs(kind: str, items: dict[str, str]) -> list[dict[str, str]]:
            return [{"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": oid} for n, oid in sorted(items.items())]

        self._json(200, {"branches": refs("heads", repo.branches), "converts": [], "tags": refs("tags", repo.tags),
                         "pullRequests": []})
        return True

    def _create_branch(self, repo_id: str, branch: str) -> bool:
        self._require_token()
        repo = self.state.repo(repo_id)
        body = self._json_body()
        if branch in repo.branches:
            raise HubError(409, f"Reference refs/heads/{branch} already exists")
        start = self.state.resolve(repo, body.get("startingPoint") or "main")
        repo.branches[branch] = start.oid
        self._json(200, {})
        return True

    def _create_tag(self, repo_id: str, revision: str) -> bool:
        self._require_token()
        repo = self.state.repo(repo_id)
        body = self._json_body()
        tag = body["tag"]
        if tag in repo.tags:
            raise HubError(409, f"Tag {tag} already exists")
        repo.tags[tag] = self.state.resolve(repo, revision).oid
        self._json(200, {})
        return True

    def _delete_tag(self, repo_id: str, tag: str) -> bool:
        self._require_token()
        repo = self.state.repo(repo_id)
        if repo.tags.pop(tag, None) is None:
            raise HubError(404, f"Invalid rev id: {tag}", "RevisionNotFound")
        self._json(200, {})
        return True

    # -- uploads ---------------------------------------------------------------------------------------
    def _preupload(self, repo_id: str, revision: str) -> bool:
        self._require_token()
        repo = self.state.repo(repo_id)
        commit = self.state.resolve(repo, revision)
        files = []
        for item in self._json_body()["files"]:
            base64.b64decode(item["sample"])  # the client sends the first 512 bytes; malformed -> 500
            lfs = item["path"].endswith(LFS_SUFFIXES) or int(item["size"]) >= LFS_MIN_SIZE
            existing = commit.files.get(item["path"])
            oid = existing.oid if existing is not None and existing.lfs == lfs else None
            files.append({"path": item["path"], "uploadMode": "lfs" if lfs else "regular",
                          "shouldIgnore": False, "oid": oid})
        self._json(200, {"files": files, "commitOid": commit.oid})
        return True

    def _lfs_batch(self, repo_id: str) -> bool:
        self._require_token()
        self.state.repo(repo_id)
        body = self._json_body()
        if body.get("operation") != "upload":
            raise HubError(400, "only uploads go through this LFS endpoint")
        objects = []
        for obj in body["objects"]:
            doc: dict[str, Any] = {"oid": obj["oid"], "size": int(obj["size"])}
            if obj["oid"] not in self.state.lfs_store:
                doc["actions"] = {
                    "upload": {"href": f"{self.state.endpoint}/lfs/{obj['oid']}", "header": {}},
                    "verify": {"href": f"{self.state.endpoint}/lfs/{obj['oid']}/verify", "header": {}},
                }
            objects.append(doc)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects}).encode(),
                   content_type="application/vnd.git-lfs+json")
        return True

    def _lfs_put(self, oid: str) -> bool:
        data = self._body()
        if hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, f"LFS object does not hash to {oid}")
        self.state.lfs_store[oid] = data
        self._send(200)
        return True

    def _lfs_verify(self, oid: str) -> bool:
        self._require_token()
        body = self._json_body()
        data = self.state.lfs_store.get(oid)
        if data is None or len(data) != int(body.get("size", -1)):
            raise HubError(404, f"LFS object {oid} missing or of the wrong size")
        self._json(200, {"success": True})
        return True

    def _commit(self, repo_id: str, revision: str) -> bool:
        self._require_token()
        repo = self.state.repo(repo_id)
        if revision not in repo.branches:
            raise HubError(404, f"Invalid rev id: {revision} (commits go to branches)", "RevisionNotFound")
        head = repo.commits[repo.branches[revision]]
        files = dict(head.files)
        header: dict[str, Any] = {}
        for line in self._body().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"unsupported encoding for {value['path']}")
                files[value["path"]] = Entry(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                data = self.state.lfs_store.get(value["oid"])
                if data is None or len(data) != int(value["size"]):
                    raise HubError(400, f"LFS object {value['oid']} of {value['path']} was not uploaded")
                files[value["path"]] = Entry(data, lfs=True)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                for path in [p for p in files if p.startswith(prefix)]:
                    del files[path]
            else:
                raise HubError(400, f"unknown commit operation {key!r}")
        if not header.get("summary"):
            raise HubError(400, "commit summary is required")
        parent = header.get("parentCommit")
        if parent is not None and parent != head.oid:
            raise HubError(412, f"parent commit {parent} is not the head of {revision}")
        commit = Commit(self.state._new_oid(repo_id, head.oid, header["summary"]), head.oid, header["summary"],
                        _now(), files)
        repo.commits[commit.oid] = commit
        repo.branches[revision] = commit.oid
        self._json(200, {"success": True, "commitOid": commit.oid,
                         "commitUrl": f"{self.state.endpoint}/{repo_id}/commit/{commit.oid}",
                         "pullRequestUrl": None})
        return True

    # -- downloads -------------------------------------------------------------------------------------
    def _resolve(self, repo_id: str, revision: str, path: str) -> bool:
        repo = self.state.repo(repo_id)
        commit = self.state.resolve(repo, revision)
        entry = commit.files.get(path)
        if entry is None:
            raise HubError(404, f"Entry {path} not found", "EntryNotFound", commit.oid)
        headers = {"ETag": f'"{entry.oid}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "none"}
        if entry.lfs:
            headers["X-Linked-Etag"] = f'"{entry.oid}"'
            headers["X-Linked-Size"] = str(len(entry.data))
        self._send(200, entry.data, headers, content_type="application/octet-stream")
        return True


def publish_and_go_offline(run_dir: Any, prefix: str, hub: FakeHub, monkeypatch: Any) -> str:
    """Publish a trained run (``zoo.publish``, tag ``v1``) to a private local Hub, check the repo's files,
    load it once to fill the cache, stop the server and switch ``huggingface_hub`` offline. Returns the repo id
    (``org/<prefix>-<random>``); ``zoo.load("hf-hub:<repo>@v1")`` then reads the cache only."""
    import uuid

    from huggingface_hub import HfApi, constants

    import zoo
    from zoo.publish import main as publish

    private = FakeHub(token=hub.token)
    endpoint = private.start()
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    repo = f"org/{prefix}-{uuid.uuid4().hex[:6]}"
    try:
        assert publish([f"run={run_dir}", f"repo_id={repo}", "tag=v1"]) == 0
        files = HfApi().list_repo_files(repo)
        assert {"README.md", "config.json", "model.safetensors", "results/results.json"} <= set(files)
        zoo.load(f"hf-hub:{repo}@v1")  # fills the cache
    finally:
        private.stop()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return repo

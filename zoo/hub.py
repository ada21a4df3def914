"""Load whole trackers (weights + tracker config) from the Hugging Face Hub, a local folder or a checkpoint.

``zoo.load(source)`` returns a ready tracker of the right task (MOT/VOS/SOT protocol of :mod:`zoo.tasks`),
its module in eval mode, with weights loaded strictly from safetensors. Sources:

- ``"hf-hub:ORG/NAME@REV"`` or ``"ORG/NAME[@REV]"``: a Hub repo (``REV`` a branch, tag or commit; ``main``
  by default), downloaded through the Hub cache (``HF_HOME``/``HF_HUB_CACHE``); ``HF_HUB_OFFLINE=1`` loads
  from the cache only. A local path wins over a repo id of the same spelling (use ``hf-hub:`` to force).
- a local folder written by ``python -m zoo.publish`` (``config.json`` + ``model.safetensors``);
- a run directory of ``python -m zoo.train`` (its ``checkpoints/last.ckpt``) or a ``.ckpt`` file.

Hub repo layout (written by :mod:`zoo.publish`): ``model.safetensors``, ``config.json``, ``README.md`` (the
model card, :mod:`zoo.cards`), ``results/`` (``results.json``, per-sequence CSV, plots, raw outputs).

``config.json`` (:data:`FORMAT`, version :data:`FORMAT_VERSION`)::

    {format, format_version, zoo_version, method, task, kind, init_args{...}, tracker_config{...},
     input_contract{image_size, mean, std, detections, ...}, weights{file, sha256, bytes, tensors, numel},
     provenance{git_sha, recipe, recipe_config, command, checkpoint, data{benchmark, splits, manifest_sha256},
                evaluator{name, version, conventions}, hardware, wall_time_s, created}}

Safety: a downloaded ``config.json`` is data, never code. Only a ``method`` registered in
:mod:`zoo.registry` is accepted; its registered class is built with ``init_args`` as keyword arguments;
nothing in the file is imported or instantiated by path (``_target_`` strings in the provenance are
ignored). Weights are read with :mod:`safetensors` only (no unpickling of downloaded files) and checked
against the SHA-256 that ``config.json`` records. Local ``.ckpt`` files (your own runs) are read with
``torch.load(weights_only=True)``.

Contract with methods (what a method implements so that it can be published and loaded):

- it is a ``LightningModule`` registered with ``@register(name, task=..., kind="method")``;
- its ``__init__`` arguments are plain JSON values (str, int, float, bool, None, lists, dicts) saved with
  ``self.save_hyperparameters()`` (``checkpoint["hyper_parameters"]``); they rebuild the module exactly;
- ``module.tracker()`` returns a tracker of the task's protocol built from the module's weights;
- optional ``module.tracker_config() -> dict`` (thresholds, memory sizes...) and
  ``module.input_contract() -> dict`` (``image_size`` [H, W], ``mean``/``std``, ``detections`` source)
  are stored in ``config.json`` and shown in the model card;
- ``on_save_checkpoint`` stores ``checkpoint["zoo"] = {"method", "task", "version"}`` (otherwise the run's
  ``config.yaml`` key ``method`` names it);
- a boolean init argument named ``pretrained`` (backbone ImageNet weights, e.g. timm) is forced to
  ``False`` when a module is rebuilt for loading: the published weights replace them, and loading must not
  download anything else.

``tracker_config`` and ``input_contract`` in ``config.json`` document what the module derives from its init
args; loading does not read them back (the init args alone rebuild the tracker).

Loading builds ``spec.cls(**init_args)``, loads the safetensors state dict with ``strict=True`` (missing,
unexpected or mis-shaped tensors raise :class:`HubError` naming them), calls ``.eval()`` and returns
``module.tracker()``. Baselines (``kind="baseline"``) publish only their constructor kwargs in
``init_args`` and no weights; loading returns ``spec.cls(**init_args)``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_NAME",
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHTS_NAME",
    "HubError",
    "Pretrained",
    "Source",
    "build_module",
    "check_config",
    "check_protocol",
    "file_sha256",
    "list_models",
    "load",
    "load_state_strict",
    "load_pretrained",
    "parse_source",
    "read_checkpoint",
    "save_weights",
]

FORMAT = "zoo-tracker"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
RESULTS_DIR = "results"
LIBRARY_TAG = "zoo-tracking"
_HUB_PREFIX = "hf-hub:"


class HubError(RuntimeError):
    """A tracker cannot be published or loaded; the message names the source and what to do."""


# ---------------------------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class Source:
    """Where a tracker comes from.

    Attributes:
        kind: ``hub`` (a Hub repo), ``folder`` (an exported folder), ``run`` (a training run directory) or
            ``checkpoint`` (a ``.ckpt`` file).
        repo_id: ``ORG/NAME`` for ``hub``.
        revision: branch, tag or commit for ``hub`` (None: ``main``).
        path: the local path for the other kinds.
    """

    kind: str
    repo_id: str | None = None
    revision: str | None = None
    path: Path | None = None

    def __str__(self) -> str:
        if self.kind == "hub":
            return f"hf-hub:{self.repo_id}" + (f"@{self.revision}" if self.revision else "")
        return str(self.path)


def parse_source(source: str | os.PathLike, revision: str | None = None) -> Source:
    """Classify ``source`` (see the module docstring); ``revision`` overrides an ``@REV`` suffix.

    Raises:
        HubError: a path that exists but is neither a folder nor a checkpoint, or a malformed repo id.
    """
    text = os.fspath(source)
    if not text.startswith(_HUB_PREFIX):
        path = Path(text).expanduser()
        if path.is_dir():
            if (path / CONFIG_NAME).is_file():
                return Source("folder", path=path.resolve())
            if (path / "config.yaml").is_file() and (path / "checkpoints").is_dir():
                return Source("run", path=path.resolve())
            raise HubError(f"{path}: a folder must hold {CONFIG_NAME} (a zoo export) or config.yaml + "
                           "checkpoints/ (a zoo.train run directory)")
        if path.is_file():
            if path.suffix == ".ckpt":
                return Source("checkpoint", path=path.resolve())
            raise HubError(f"{path}: expected a Lightning checkpoint (.ckpt), a folder or a Hub repo id")
        if text.endswith(".ckpt") or text.startswith((".", "/", "~")) or (text.count("/") != 1 and "@" not in text):
            raise HubError(f"{text}: no such file or folder, and not a Hub repo id (ORG/NAME[@REV])")
    repo_id, _, rev = text.removeprefix(_HUB_PREFIX).partition("@")
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise HubError(f"{text}: not a valid Hub repo id ({error})") from None
    if "/" not in repo_id:
        raise HubError(f"{text}: a Hub repo id needs a namespace: ORG/NAME")
    return Source("hub", repo_id=repo_id, revision=revision or rev or None)


# --------------------------------------------------------------------------------------------- weights
def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def save_weights(state_dict: Mapping[str, Any], path: str | os.PathLike,
                 metadata: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Write a state dict as safetensors; tensors sharing storage are copied (safetensors forbids aliasing).

    Returns:
        the ``weights`` entry of ``config.json``: file name, sha256, bytes, tensor count and ``numel`` (values
        in all tensors, buffers included).

    Raises:
        HubError: a non-tensor entry (e.g. an extra state object) in ``state_dict``.
    """
    import torch
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise HubError(f"state_dict entry {key!r} is a {type(value).__name__}, not a tensor; "
                           "safetensors stores tensors only")
        tensor = value.detach().to("cpu")
        storage = tensor.untyped_storage().data_ptr()
        if tensor.numel() and (storage in storages or not tensor.is_contiguous()):
            tensor = tensor.clone(memory_format=torch.contiguous_format)  # tied or strided: an own copy
        storages.add(tensor.untyped_storage().data_ptr())
        tensors[key] = tensor
    save_file(tensors, os.fspath(path), metadata=dict(metadata or {}))
    return {
        "file": Path(path).name,
        "sha256": file_sha256(path),
        "bytes": Path(path).stat().st_size,
        "tensors": len(tensors),
        "numel": int(sum(t.numel() for t in tensors.values())),
    }


def _read_weights(path: Path, expected: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """Check a safetensors file against the sha256 recorded in config.json, then read it (no pickle)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.is_file():
        raise HubError(f"{where}: {path.name} is missing (the weights of this model)")
    if expected and expected.get("sha256"):
        actual = file_sha256(path)
        if actual != expected["sha256"]:
            raise HubError(f"{where}: {path.name} is corrupt: sha256 {actual[:12]}... does not match "
                           f"{expected['sha256'][:12]}... recorded in {CONFIG_NAME} (delete the cached file "
                           "and download it again)")
    try:
        return load_file(os.fspath(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise HubError(f"{where}: {path.name} is not a readable safetensors file ({error})") from None


def load_state_strict(module: Any, state: Mapping[str, Any], where: str) -> None:
    """``load_state_dict(strict=True)`` with an error naming missing, unexpected and mis-shaped tensors."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
                  for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    problems = []
    for label, items in (("shape mismatch", mismatched), ("missing", missing), ("unexpected", unexpected)):
        if items:
            shown = "; ".join(items[:5]) + (f"; ... ({len(items)} in all)" if len(items) > 5 else "")
            problems.append(f"{label}: {shown}")
    if problems:
        raise HubError(f"{where}: the weights do not fit {type(module).__name__} built from its init args: "
                       + " | ".join(problems))
    module.load_state_dict(state, strict=True)


# ---------------------------------------------------------------------------------------------- config
def _zoo_version() -> str:
    import zoo

    return zoo.__version__


def _is_plain_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_is_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain_json(v) for k, v in value.items())
    return False


def check_config(doc: Any, where: str) -> Any:
    """Validate a ``config.json`` document and return the registered spec of its method.

    Raises:
        HubError: not a zoo config, a newer format or zoo version, an unregistered method, a task/kind that
            disagrees with the registry, init args that are not plain JSON or not accepted by the class.
    """
    from packaging.version import InvalidVersion, Version

    from zoo.registry import get_method, list_methods

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise HubError(f"{where}: not a zoo tracker config ({CONFIG_NAME} lacks \"format\": \"{FORMAT}\")")
    fmt = doc.get("format_version")
    if not isinstance(fmt, int) or fmt < 1:
        raise HubError(f"{where}: format_version must be a positive integer, got {fmt!r}")
    installed = _zoo_version()
    try:
        written = Version(str(doc.get("zoo_version")))
    except InvalidVersion:
        raise HubError(f"{where}: zoo_version {doc.get('zoo_version')!r} is not a version number") from None
    if fmt > FORMAT_VERSION or written > Version(installed):
        raise HubError(f"{where}: written by zoo {written} (config format {fmt}); this is zoo {installed} "
                       f"(format {FORMAT_VERSION}). Upgrade: pip install -U zoo-tracking")
    method = doc.get("method")
    if not isinstance(method, str):
        raise HubError(f"{where}: \"method\" must be a string, got {method!r}")
    try:
        spec = get_method(method)
    except KeyError:
        raise HubError(f"{where}: method {method!r} is not registered in this zoo (registered: "
                       f"{', '.join(list_methods()) or 'none'}); a newer zoo may provide it") from None
    for key, want in (("task", spec.task), ("kind", spec.kind)):
        if doc.get(key) != want:
            raise HubError(f"{where}: {key} {doc.get(key)!r} disagrees with the registered {method!r} ({want!r})")
    init_args = doc.get("init_args")
    if not isinstance(init_args, dict) or not _is_plain_json(init_args):
        raise HubError(f"{where}: init_args must be an object of plain JSON values")
    _check_signature(spec.cls, init_args, where)
    if spec.kind == "method":
        weights = doc.get("weights")
        if not isinstance(weights, dict) or weights.get("file") != WEIGHTS_NAME:
            raise HubError(f"{where}: a method needs weights {{\"file\": \"{WEIGHTS_NAME}\", \"sha256\": ...}}")
    return spec


def _check_signature(cls: type, init_args: Mapping[str, Any], where: str) -> None:
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n, p in params.items() if n != "self" and p.kind is not inspect.Parameter.VAR_POSITIONAL]
    unknown = sorted(set(init_args) - set(valid))
    if unknown:
        raise HubError(f"{where}: init_args {unknown} are not arguments of {cls.__name__} "
                       f"(valid: {', '.join(valid)}); was it saved by another version of the method?")


def build_module(spec: Any, init_args: Mapping[str, Any]) -> Any:
    """``spec.cls(**init_args)`` with ``pretrained`` forced off (the published weights replace it)."""
    kwargs = dict(init_args)
    if isinstance(kwargs.get("pretrained"), bool):
        kwargs["pretrained"] = False
    return spec.cls(**kwargs)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A Lightning checkpoint read with ``weights_only=True`` (plain containers and tensors only).

    Raises:
        HubError: missing or unreadable file.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise HubError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as error:
        raise HubError(f"{path}: not a readable checkpoint ({str(error).splitlines()[0]})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise HubError(f"{path}: not a Lightning checkpoint (no state_dict)")
    return ckpt


def checkpoint_method(ckpt: Mapping[str, Any], path: Path, run_config: Mapping[str, Any] | None = None) -> str:
    """The method name of a checkpoint: ``checkpoint["zoo"]["method"]``, else the run's ``method`` key.

    Raises:
        HubError: neither names one.
    """
    meta = ckpt.get("zoo")
    if isinstance(meta, Mapping) and isinstance(meta.get("method"), str):
        return str(meta["method"])
    if run_config and isinstance(run_config.get("method"), str):
        return str(run_config["method"])
    raise HubError(f"{path}: cannot tell which method this checkpoint belongs to: it has no "
                   "checkpoint['zoo']['method'] and its run config.yaml sets no `method`")


def checkpoint_init_args(ckpt: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The module's init args (``hyper_parameters``), checked to be plain JSON.

    Raises:
        HubError: naming the first argument that is not plain JSON.
    """
    hparams = dict(ckpt.get("hyper_parameters") or {})
    for key, value in hparams.items():
        if not _is_plain_json(value):
            raise HubError(f"{path}: init arg {key!r} is a {type(value).__name__}, not a plain JSON value; "
                           "methods must keep their init args plain (see zoo.hub)")
    return hparams


# ------------------------------------------------------------------------------------------------ load
@dataclass
class Pretrained:
    """A loaded tracker's parts.

    Attributes:
        spec: the registry entry of its method or baseline.
        config: the ``config.json`` document (for checkpoints: the equivalent built from the checkpoint).
        module: the LightningModule in eval mode (None for baselines).
        source: where it came from.
        commit: the Hub commit it was loaded from (None for local sources).
        folder: the local folder holding its files (Hub snapshot, export folder or run directory).
    """

    spec: Any
    config: dict[str, Any]
    module: Any
    source: Source
    commit: str | None = None
    folder: Path | None = None

    @property
    def model_id(self) -> str:
        return self.source.repo_id if self.source.kind == "hub" else str(self.source.path)

    def tracker(self, **settings: Any) -> Any:
        """A fresh tracker of the method's task protocol; ``settings`` replace tracker settings (a
        baseline's constructor arguments, a method's ``module.tracker(**settings)``).

        Raises:
            HubError: the object built does not implement the task's protocol.
        """
        if self.module is None:
            tracker = self.spec.cls(**{**self.config["init_args"], **settings})
        else:
            tracker = self.module.tracker(**settings)
        check_protocol(tracker, self.spec.task, str(self.source))
        return tracker


def check_protocol(tracker: Any, task: str, where: str) -> None:
    """Raise :class:`HubError` unless ``tracker`` implements the protocol of ``task`` (:mod:`zoo.tasks.protocols`)."""
    from zoo.tasks.protocols import MOTTracker, OfflineMOTTracker, SOTTracker, VOSTracker

    protocols = {"mot": (MOTTracker, OfflineMOTTracker), "vos": (VOSTracker,), "sot": (SOTTracker,)}[task]
    if not isinstance(tracker, protocols):
        names = " or ".join(p.__name__ for p in protocols)
        raise HubError(f"{where}: the {task} tracker built is a {type(tracker).__name__}, which does not implement "
                       f"{names} (zoo.tasks.protocols)")


def _finish(spec: Any, config: dict[str, Any], state: Mapping[str, Any] | None, where: str,
            device: str | None) -> Any:
    if spec.kind != "method":
        return None
    module = build_module(spec, config["init_args"])
    load_state_strict(module, state or {}, where)
    if device is not None:
        module = module.to(device)
    module.eval()
    return module


def _load_folder(folder: Path, where: str, device: str | None) -> tuple[Any, dict[str, Any], Any]:
    try:
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HubError(f"{where}: cannot read {CONFIG_NAME} ({error})") from None
    spec = check_config(config, where)
    state = _read_weights(folder / WEIGHTS_NAME, config.get("weights"), where) if spec.kind == "method" else None
    return spec, config, _finish(spec, config, state, where, device)


def _load_checkpoint(path: Path, run_dir: Path | None, device: str | None) -> tuple[Any, dict[str, Any], Any]:
    from zoo.registry import get_method

    run_config = None
    if run_dir is not None and (run_dir / "config.yaml").is_file():
        from omegaconf import OmegaConf

        run_config = OmegaConf.to_container(OmegaConf.load(run_dir / "config.yaml"), resolve=False)
    ckpt = read_checkpoint(path)
    name = checkpoint_method(ckpt, path, run_config)
    try:
        spec = get_method(name)
    except KeyError as error:
        raise HubError(f"{path}: {error.args[0]}") from None
    config = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "zoo_version": _zoo_version(), "method": spec.name,
        "task": spec.task, "kind": spec.kind, "init_args": checkpoint_init_args(ckpt, path),
    }
    _check_signature(spec.cls, config["init_args"], str(path))
    return spec, config, _finish(spec, config, ckpt["state_dict"], str(path), device)


def _hub_download(source: Source, filename: str, revision: str | None, cache_dir: str | None,
                  token: str | bool | None) -> Path:
    """One file of a Hub repo through the cache, with the Hub's errors turned into :class:`HubError`.

    Online, one HEAD request without retries comes first: when the Hub cannot be reached the file comes from
    the cache or the call fails at once (``hf_hub_download`` alone retries with back-off for ~25 s first).
    """
    import httpx2
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    kwargs = {"revision": revision, "cache_dir": cache_dir, "token": token, "library_name": "zoo-tracking",
              "library_version": _zoo_version()}
    try:
        if not constants.HF_HUB_OFFLINE:
            try:
                get_hf_file_metadata(hf_hub_url(source.repo_id, filename, revision=revision), token=token)
            except httpx2.TransportError:
                kwargs["local_files_only"] = True  # unreachable: the cache or a clear error, without retries
        return Path(hf_hub_download(source.repo_id, filename, **kwargs))
    except GatedRepoError:
        raise HubError(f"{source}: the repo is gated; accept its terms on the Hub and log in") from None
    except RepositoryNotFoundError:
        raise HubError(f"{source}: unknown repo {source.repo_id!r} on {constants.ENDPOINT} (or private: log "
                       "in with `hf auth login`); zoo.list_models(online=True) lists published ones") from None
    except RevisionNotFoundError:
        raise HubError(f"{source}: revision {revision!r} does not exist in {source.repo_id}") from None
    except RemoteEntryNotFoundError:
        raise HubError(f"{source}: the repo has no {filename}; it is not a zoo tracker export") from None
    except LocalEntryNotFoundError:
        if constants.HF_HUB_OFFLINE and not kwargs.get("local_files_only"):
            raise HubError(f"{source}: HF_HUB_OFFLINE=1 and {filename} of this revision is not in the Hub cache "
                           f"({cache_dir or constants.HF_HUB_CACHE}); load it once online first") from None
        raise HubError(f"{source}: cannot reach {constants.ENDPOINT} and {filename} is not cached; check the "
                       "connection (or set HF_HUB_OFFLINE=1 to use the cache only)") from None
    except HfHubHTTPError as error:
        raise HubError(f"{source}: the Hub answered {error.response.status_code} for {filename}") from None


def load_pretrained(source: str | os.PathLike, *, revision: str | None = None, device: str | None = None,
                    cache_dir: str | os.PathLike | None = None, token: str | bool | None = None) -> Pretrained:
    """Load a published tracker's module and config (see the module docstring for sources and checks).

    Args:
        source: ``hf-hub:ORG/NAME@REV``, ``ORG/NAME[@REV]``, an export folder, a run directory or a ``.ckpt``.
        revision: Hub branch/tag/commit (overrides ``@REV``).
        device: move the module there (``"cpu"``, ``"cuda"``...); None leaves it on CPU.
        cache_dir: Hub cache directory (default: the Hub's, from ``HF_HUB_CACHE``/``HF_HOME``).
        token: Hub token for private repos (default: the logged-in one).

    Raises:
        HubError: for every failure, naming the source and what to do.
    """
    src = parse_source(source, revision)
    where = str(src)
    if src.kind == "folder":
        spec, config, module = _load_folder(src.path, where, device)
        return Pretrained(spec, config, module, src, folder=src.path)
    if src.kind in ("run", "checkpoint"):
        from zoo.runs import LAST_CKPT

        ckpt = src.path / LAST_CKPT if src.kind == "run" else src.path
        run_dir = src.path if src.kind == "run" else src.path.parent.parent
        spec, config, module = _load_checkpoint(ckpt, run_dir, device)
        return Pretrained(spec, config, module, src, folder=run_dir if src.kind == "run" else None)
    cache = None if cache_dir is None else os.fspath(cache_dir)
    config_path = _hub_download(src, CONFIG_NAME, src.revision, cache, token)
    commit = config_path.parent.name  # .../snapshots/<commit>/config.json: pin the weights to that commit
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HubError(f"{where}: {CONFIG_NAME} is not valid JSON ({error})") from None
    spec = check_config(config, where)
    state = None
    if spec.kind == "method":
        weights = _hub_download(src, WEIGHTS_NAME, commit, cache, token)
        state = _read_weights(weights, config.get("weights"), where)
    module = _finish(spec, config, state, where, device)
    return Pretrained(spec, config, module, src, commit=commit, folder=config_path.parent)


def load(source: str | os.PathLike, *, revision: str | None = None, device: str | None = None,
         cache_dir: str | os.PathLike | None = None, token: str | bool | None = None) -> Any:
    """A ready tracker (task protocol of :mod:`zoo.tasks.protocols`) from the Hub, a folder or a checkpoint.

    Example::

        tracker = zoo.load("hf-hub:ORG/finetrack-zoosynth@v1")
        tracker.reset(seq_info); tracks = tracker.step(frame, detections)

    See :func:`load_pretrained` for the arguments and the module docstring for the checks.
    """
    return load_pretrained(source, revision=revision, device=device, cache_dir=cache_dir, token=token).tracker()


# ----------------------------------------------------------------------------------------- list models
def _cached_zoo_repos(cache_dir: str | None) -> dict[str, dict[str, Any]]:
    """Zoo repos present in the Hub cache: repo id -> config.json of its newest cached snapshot."""
    from huggingface_hub import constants

    root = Path(cache_dir or constants.HF_HUB_CACHE)
    found: dict[str, dict[str, Any]] = {}
    for repo_dir in sorted(root.glob("models--*")) if root.is_dir() else []:
        snapshots = sorted((repo_dir / "snapshots").glob(f"*/{CONFIG_NAME}"), key=lambda p: p.stat().st_mtime)
        if not snapshots:
            continue
        try:
            doc = json.loads(snapshots[-1].read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(doc, dict) and doc.get("format") == FORMAT:
            found[repo_dir.name.removeprefix("models--").replace("--", "/", 1)] = doc
    return found


def list_models(*, task: str | None = None, method: str | None = None, online: bool = False,
                cache_dir: str | os.PathLike | None = None) -> list[str]:
    """Known published tracker ids (``ORG/NAME``), sorted.

    The zoo repos in the local Hub cache (works offline) and, with ``online=True``, every Hub model tagged
    ``zoo-tracking`` (the tag each card published by :mod:`zoo.publish` carries). ``task``/``method``
    filter by the cached configs and by the Hub tags ``task:<task>``/``method:<name>``.

    Raises:
        HubError: ``online=True`` while offline or when the Hub cannot be reached.
    """
    cached = _cached_zoo_repos(None if cache_dir is None else os.fspath(cache_dir))
    ids = {rid for rid, doc in cached.items()
            if (task is None or doc.get("task") == task) and (method is None or doc.get("method") == method)}
    if online:
        from huggingface_hub import HfApi, constants
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

        tags = [LIBRARY_TAG] + ([f"task:{task}"] if task else []) + ([f"method:{method}"] if method else [])
        try:
            ids |= {m.id for m in HfApi().list_models(filter=tags)}
        except OfflineModeIsEnabled:
            raise HubError("list_models(online=True): HF_HUB_OFFLINE=1 is set") from None
        except (HfHubHTTPError, OSError) as error:
            raise HubError(f"list_models(online=True): cannot query {constants.ENDPOINT} ({error})") from None
    return sorted(ids)

"""Where leaderboard rows come from: local ``results.json`` files, Hub repos, evaluations and training runs.

Every source fails on its own: a missing file, an unreachable or uncached Hub repo, a failing evaluation is
recorded as a :class:`SourceError` (naming the source and what to do) and the board is built from the rest.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.leaderboard.config import EvalSpec, TrainSpec
from zoo.leaderboard.schema import Entry, normalise

__all__ = [
    "RESULTS_GLOB",
    "SourceError",
    "find_results_files",
    "gather_hub",
    "gather_runs",
    "parse_hub_entry",
    "read_entry",
    "run_evaluation",
    "run_training",
]

#: results files of a Hub export (zoo.publish): results/results.json, results/results_<bench>_<split>.json
RESULTS_GLOB = "results/results*.json"
_RESULTS_NAME = re.compile(r"^results(_.+)?\.json$")
_HUB_PREFIX = "hf-hub:"

Log = Callable[[str], None]


@dataclass(frozen=True)
class SourceError:
    """A source that gave no rows, and why."""

    source: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "message": self.message}


def _display(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` when below it (stable across machines), else absolute."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


# ---------------------------------------------------------------------------------------------- local runs
def find_results_files(patterns: Iterable[str], base: Path) -> tuple[list[Path], list[str]]:
    """Files named by ``runs:`` globs (``**`` recursive): results files, and folders searched for them.

    Returns:
        (unique resolved paths in sorted order, the patterns that matched nothing).
    """
    found: set[Path] = set()
    empty = []
    for pattern in patterns:
        full = pattern if os.path.isabs(os.path.expanduser(pattern)) else str(base / pattern)
        hits = 0
        for match in glob.glob(os.path.expanduser(full), recursive=True):
            path = Path(match)
            if path.is_dir():
                files = [p for p in path.rglob("results*.json") if _RESULTS_NAME.match(p.name)]
            elif path.is_file():
                files = [path]
            else:
                files = []
            found.update(p.resolve() for p in files)
            hits += len(files)
        if not hits:
            empty.append(pattern)
    return sorted(found), empty


def _run_dir(path: Path) -> Path | None:
    """The training run directory (``config.yaml`` + ``checkpoints/``) holding a results file, if any."""
    for parent in list(path.parents)[:4]:
        if (parent / "config.yaml").is_file() and (parent / "checkpoints").is_dir():
            return parent
    return None


def _local_identity(path: Path, doc: dict[str, Any], base: Path) -> str | None:
    """A model id for results without ``model_id``: the run directory or export folder (``config.json`` next
    to ``results/``) holding the file; None for neither (baselines, named by their method)."""
    if doc.get("model_id"):
        return None
    run = _run_dir(path)
    if run is not None:
        return _display(run, base)
    for parent in list(path.parents)[:2]:
        if (parent / "config.json").is_file() and (parent / "results").is_dir():
            return _display(parent, base)
    return None


def _relative_model_id(doc: dict[str, Any], base: Path) -> str | None:
    """A ``model_id`` that is an absolute path below ``base`` (a checkpoint ``zoo.evaluate`` ran, possibly
    with ``[tracker: ...]`` settings after it) shown relative to ``base``, a checkpoint inside a run directory
    as that run: stable across machines and the same label as the run's own results. None otherwise."""
    model_id = doc.get("model_id")
    if not isinstance(model_id, str):
        return None
    head, sep, tail = model_id.partition(" [")
    path = Path(head)
    if not path.is_absolute():
        return None
    if path.parent.name == "checkpoints" and (path.parent.parent / "config.yaml").is_file():
        path = path.parent.parent
    try:
        rel = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return None
    return rel + sep + tail


def _superseded_epoch(path: Path) -> bool:
    """A per-epoch copy (``<run>/results/epoch_XXX/results.json``) of a run whose final ``<run>/results.json``
    exists, or the last phase's own results of a phased run (``<run>/<phase>/``, marked by its
    ``phase_done.json``), which ``zoo.train`` copies to ``<run>/results.json``: the run's final evaluation is its
    row once, the others are not results of other models."""
    run = _run_dir(path)
    if run is None:
        return False
    if path != run / "results.json" and (run / "results.json").is_file():
        return True
    return (run / "phase_done.json").is_file() and (run.parent / "results.json").is_file()


def read_entry(path: Path, base: Path, origin: str = "run") -> Entry:
    """The row of one local results file.

    Raises:
        ValueError, FileNotFoundError: unreadable or invalid results (naming the file).
    """
    from zoo.tasks.results import read_results_json

    doc = read_results_json(path)
    return normalise(doc, source=_display(path, base), origin=origin, model=_local_identity(path, doc, base) or _relative_model_id(doc, base))


def gather_runs(patterns: Iterable[str], base: Path, log: Log) -> tuple[list[Entry], list[SourceError]]:
    """Rows of every results file the ``runs:`` globs name (per-epoch copies of a finished training run left
    out); invalid files become errors."""
    files, empty = find_results_files(patterns, base)
    for pattern in empty:
        log(f"runs: {pattern} matched no results.json")
    entries, errors = [], []
    for path in files:
        if _superseded_epoch(path):
            continue
        try:
            entries.append(read_entry(path, base))
        except (OSError, ValueError) as error:
            errors.append(SourceError(_display(path, base), str(error)))
    return entries, errors


# -------------------------------------------------------------------------------------------------- Hub
def parse_hub_entry(text: str) -> tuple[str, str | None]:
    """``ORG/NAME``, ``ORG/NAME@REV`` or ``hf-hub:ORG/NAME@REV`` -> (repo id, revision or None).

    Raises:
        ValueError: not a valid repo id.
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    repo_id, _, rev = text.strip().removeprefix(_HUB_PREFIX).partition("@")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ValueError(f"hub entry {text!r}: not a valid Hub repo id ({error})") from None
    if "/" not in repo_id:
        raise ValueError(f"hub entry {text!r}: a Hub repo id needs a namespace: ORG/NAME")
    return repo_id, rev or None


def _download_results(repo_id: str, revision: str | None, cache_dir: str | None) -> Path:
    """The snapshot folder holding the repo's ``results/results*.json`` (downloaded or from the cache).

    Raises:
        RuntimeError: with a message saying what failed and what to do.
    """
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    cache = cache_dir or constants.HF_HUB_CACHE
    try:
        folder = snapshot_download(
            repo_id, revision=revision, allow_patterns=[RESULTS_GLOB], cache_dir=cache_dir,
            library_name="zoo-tracking",
        )  # fmt: skip
    except GatedRepoError:
        raise RuntimeError("the repo is gated: accept its terms on the Hub and log in") from None
    except RepositoryNotFoundError:
        raise RuntimeError(
            f"no such repo on {constants.ENDPOINT} (or private: log in with `hf auth login`)"
        ) from None
    except RevisionNotFoundError:
        raise RuntimeError(f"revision {revision!r} does not exist") from None
    except LocalEntryNotFoundError:
        if constants.HF_HUB_OFFLINE:
            raise RuntimeError(
                f"HF_HUB_OFFLINE=1 and this revision's results are not in the Hub cache ({cache}); "
                "run the leaderboard once online to cache them"
            ) from None
        raise RuntimeError(
            f"cannot reach {constants.ENDPOINT} and the results are not cached; check the connection "
            "(or set HF_HUB_OFFLINE=1 to use the cache only)"
        ) from None
    except HfHubHTTPError as error:
        raise RuntimeError(f"the Hub answered {error.response.status_code}") from None
    except OSError as error:  # IncompleteSnapshotError, disk errors
        raise RuntimeError(str(error).splitlines()[0]) from None
    return Path(folder)


def gather_hub(
    items: Iterable[str], log: Log, cache_dir: str | None = None
) -> tuple[list[Entry], list[SourceError]]:
    """Rows of the results of each Hub repo (``results/results*.json`` of a :mod:`zoo.publish` export).

    The model id is the repo id and the revision the commit the files came from (a branch or tag is
    resolved; offline, the cached commit of that ref), so a moved tag never mixes two models' numbers.
    """
    entries, errors = [], []
    for item in items:
        try:
            repo_id, rev = parse_hub_entry(item)
        except ValueError as error:
            errors.append(SourceError(item, str(error)))
            continue
        where = f"hf-hub:{repo_id}" + (f"@{rev}" if rev else "")
        try:
            folder = _download_results(repo_id, rev, cache_dir)
        except RuntimeError as error:
            errors.append(SourceError(where, str(error)))
            log(f"hub: {where}: {error}")
            continue
        files = sorted(p for p in (folder / "results").glob("results*.json") if _RESULTS_NAME.match(p.name))
        if not files:
            errors.append(
                SourceError(
                    where,
                    "no results/results*.json in the repo: publish it with results "
                    "(python -m zoo.publish run=RUN_DIR ...)",
                )
            )
            continue
        commit = folder.name
        for path in files:
            source = f"{where}:results/{path.name}"
            try:
                from zoo.tasks.results import read_results_json

                doc = read_results_json(path)
                entries.append(
                    normalise(
                        doc,
                        source=source,
                        origin="hub",
                        model=repo_id,
                        revision=commit,
                        ref=rev or str(doc.get("revision") or "") or None,
                    )
                )
            except (OSError, ValueError) as error:
                errors.append(SourceError(source, str(error).replace(str(path), source)))
        log(f"hub: {where}: {len(files)} results file(s) at commit {commit[:7]}")
    return entries, errors


# ----------------------------------------------------------------------------------------- evaluations
def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.removeprefix(_HUB_PREFIX)).strip("_") or "model"


def _evaluate_pretrained(spec: EvalSpec, out: Path, progress: bool) -> list[Path]:
    """Evaluate a Hub tracker (``hf-hub:ID``) through its task's runner, as ``zoo.evaluate`` does for
    registered names and checkpoints (same data module, sequences, runner and results.json)."""
    import torch
    from hydra.utils import instantiate

    from zoo.config import ConfigError
    from zoo.hub import load_pretrained
    from zoo.tasks._common import count_parameters
    from zoo.tasks.benchmarks import runner, select_sequences, task_of

    cfg = _compose(spec, out)
    bench = str(cfg.data.benchmark)
    task = task_of(bench)
    pre = load_pretrained(spec.model, device=str(cfg.device))
    if pre.spec.task != task:
        raise ConfigError(f"{spec.model} is a {pre.spec.task} tracker; {bench} is a {task} benchmark")
    split = cfg.split if cfg.split is not None else cfg.data.get("val_split")
    split = None if split is None else str(split)
    sequences = select_sequences(instantiate(cfg.data).eval_sequences(split), cfg.seqmap, cfg.max_sequences)
    meta = {
        "method": pre.spec.name,
        "model_id": pre.model_id,
        "revision": pre.commit,
        "params": count_parameters(pre.module) if pre.module is not None else 0,
    }
    kwargs: dict[str, Any] = {"detections": str(cfg.detections)} if task == "mot" else {}
    with torch.no_grad():
        result = runner(task).run_benchmark(
            pre.tracker,
            sequences,
            out,
            benchmark=bench,
            split=split,
            progress=progress,
            meta=meta,
            device=str(cfg.device),
            **kwargs,
        )
    return [Path(result.out_dir or out) / "results.json"]


def _compose(spec: EvalSpec, out: Path) -> Any:
    from zoo.evaluate import load_config

    args = [f"model={spec.model}", f"data={spec.data}", f"out={out}", "plots=false"]
    if spec.split is not None:
        args.append(f"split={spec.split}")
    return load_config([*args, *spec.overrides])


def run_evaluation(spec: EvalSpec, work_dir: Path, *, progress: bool = False) -> list[Path]:
    """Evaluate one ``evaluate:`` entry through :mod:`zoo.evaluate` (registry names, ``all``, checkpoints)
    or the task runner (``hf-hub:`` models); returns the results.json files written.

    Outputs go to ``<work_dir>/<data>/<model>/`` (``model: all``: one sub-folder per baseline).
    """
    from zoo.evaluate import evaluate
    from zoo.tasks.results import RESULTS_FILE

    out = work_dir / _slug(spec.data) / _slug(spec.model)
    if spec.model.startswith(_HUB_PREFIX):
        return _evaluate_pretrained(spec, out, progress)
    cfg = _compose(spec, out)
    cfg.progress = progress
    results = evaluate(cfg)
    return [Path(r.out_dir or out) / RESULTS_FILE for r in results if r.scored]


# -------------------------------------------------------------------------------------------- training
def _finished_runs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob("*/results.json") if (p.parent / "config.yaml").is_file())


def run_training(spec: TrainSpec, work_dir: Path, log: Log, *, again: bool = False) -> Path:
    """Train one ``train:`` recipe with ``python -m zoo.train`` (a subprocess: its own Hydra and Lightning
    state) under ``<work_dir>/train/``; a recipe with a finished run there is skipped unless ``again``.

    Returns:
        the run directory (its results.json holds the final evaluation).

    Raises:
        RuntimeError: the training failed (exit code and the end of its output).
    """
    root = work_dir / "train"
    done = _finished_runs(root / spec.recipe)
    if done and not again:
        log(f"train: {spec.recipe}: finished run {done[-1]} found, not training again (retrain=true does)")
        return done[-1]
    cmd = [sys.executable, "-m", "zoo.train", f"recipe={spec.recipe}", f"output_root={root}", "progress=none",
           *spec.overrides]  # fmt: skip
    log(f"train: {' '.join(cmd[1:])}")
    env = dict(os.environ)
    env.pop("ZOO_RUN_DIR", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise RuntimeError(f"python -m zoo.train recipe={spec.recipe} exited with {proc.returncode}:\n{tail}")
    runs = _finished_runs(root / spec.recipe)
    if not runs:
        raise RuntimeError(f"python -m zoo.train recipe={spec.recipe} wrote no results.json under {root}")
    return runs[-1]

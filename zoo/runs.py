"""Run directories: ``<output_root>/<recipe>/<timestamp>/`` with ``config.yaml``, ``checkpoints/``,
``logs/``, ``results/``, ``results.json`` and ``README.md`` (the model card).

All ranks of a distributed run must agree on one directory. Rank 0 picks it and exports ``ZOO_RUN_DIR`` so
processes Lightning relaunches inherit it; under torchrun or SLURM every process starts independently, so
the directory is named after the job (``TORCHELASTIC_RUN_ID`` / ``SLURM_JOB_ID``) or pinned with ``run_dir=``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RUN_DIR_ENV = "ZOO_RUN_DIR"
LAST_CKPT = Path("checkpoints") / "last.ckpt"


def _job_name() -> str | None:
    elastic = os.environ.get("TORCHELASTIC_RUN_ID")
    if elastic and elastic != "none":
        return f"torchrun-{elastic}"
    slurm = os.environ.get("SLURM_JOB_ID")
    if slurm:
        return f"slurm-{slurm}"
    return None


def choose_run_dir(output_root: str | Path, recipe: str, pinned: str | Path | None = None) -> Path:
    """The run directory for a new run (created by the caller).

    Order: an explicit ``run_dir`` (``pinned``), ``$ZOO_RUN_DIR`` (set by rank 0 for relaunched ranks), the
    job id of torchrun/SLURM, else a fresh timestamp (``%Y-%m-%d_%H-%M-%S``, suffixed if taken).
    """
    if pinned:
        return Path(pinned).expanduser().resolve()
    inherited = os.environ.get(RUN_DIR_ENV)
    if inherited:
        return Path(inherited)
    base = Path(output_root).expanduser().resolve() / recipe
    job = _job_name()
    if job:
        return base / job
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    candidate, n = base / stamp, 1
    while candidate.exists():
        candidate, n = base / f"{stamp}_{n}", n + 1
    return candidate


def find_last_run(output_root: str | Path, recipe: str | None = None) -> Path:
    """Newest run directory (by ``last.ckpt`` modification time) under ``output_root`` that can be resumed.

    Raises:
        FileNotFoundError: no run with ``checkpoints/last.ckpt`` exists there.
    """
    root = Path(output_root).expanduser().resolve()
    pattern = f"{recipe}/*/{LAST_CKPT}" if recipe else f"*/*/{LAST_CKPT}"
    candidates = [(p.stat().st_mtime, p.parents[1]) for p in root.glob(pattern)]
    # a run trained in phases keeps its checkpoints under <run>/<phase>/
    phased = f"{recipe}/*/*/{LAST_CKPT}" if recipe else f"*/*/*/{LAST_CKPT}"
    candidates += [(p.stat().st_mtime, p.parents[2]) for p in root.glob(phased) if (p.parents[2] / "config.yaml").is_file()]
    if not candidates:
        what = f"recipe {recipe!r}" if recipe else "any recipe"
        raise FileNotFoundError(f"resume=last: no run of {what} with {LAST_CKPT} under {root}")
    return max(candidates, key=lambda c: c[0])[1]


def phase_checkpoints(run_dir: Path) -> list[Path]:
    """The ``last.ckpt`` files of a run trained in phases (``<run>/<phase>/checkpoints/last.ckpt``)."""
    return sorted(Path(run_dir).glob(f"*/{LAST_CKPT}"))


def resolve_resume(value: str, output_root: str | Path, recipe: str | None = None) -> Path:
    """The run directory named by ``resume=RUN_DIR|last``, checked to hold a config and a last checkpoint.

    Raises:
        FileNotFoundError: naming what is missing.
    """
    run_dir = find_last_run(output_root, recipe) if value == "last" else Path(value).expanduser().resolve()
    if not run_dir.is_dir():
        raise FileNotFoundError(f"resume={value}: run directory {run_dir} does not exist")
    if (run_dir / "config.yaml").is_file() and phase_checkpoints(run_dir):
        return run_dir  # trained in phases: zoo.train finds the unfinished phase itself
    for needed in ("config.yaml", LAST_CKPT):
        if not (run_dir / needed).is_file():
            raise FileNotFoundError(f"resume={value}: {run_dir / needed} is missing; cannot resume this run")
    return run_dir

"""Train a method: ``python -m zoo.train recipe=NAME [key=value ...]``.

Precedence: command line > recipe > packaged base config (``zoo/conf/train.yaml``). Presets:
``trainer=cpu|gpu|ddp|ddp_cpu``, ``logger=csv|tensorboard|wandb``, ``data=<benchmark>``. Every run gets a
directory (see :mod:`zoo.runs`); ``resume=RUN_DIR|last`` continues an interrupted run from its last
checkpoint. ``python -m zoo.train --help`` lists recipes, methods and presets.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from zoo.config import (
    ConfigError,
    available_recipes,
    compose,
    presets,
    recipe_description,
)
from zoo.core.atomic import atomic_write_text
from zoo.runs import LAST_CKPT, RUN_DIR_ENV, choose_run_dir, resolve_resume

USAGE = """\
usage: python -m zoo.train recipe=NAME [key=value ...]
       python -m zoo.train resume=RUN_DIR|last [key=value ...]

Trains a method of the zoo with PyTorch Lightning. Precedence: command line > recipe > base config.
Examples:
  python -m zoo.train recipe=finetrack
  python -m zoo.train recipe=finetrack trainer=ddp trainer.devices=4 logger=wandb
  python -m zoo.train recipe=finetrack data=mot17 data.root=/datasets/MOT17
  python -m zoo.train resume=last recipe=finetrack
  python -m zoo.train recipe=sftrack phase=seg2box model.init_from=RUN/spectral/checkpoints/last.ckpt
Options:
  --help, -h        this message
  --cfg             print the composed config and exit (nothing is trained)
"""


def help_text() -> str:
    """Usage plus the recipes, registered methods and presets, as ``--help`` prints them."""
    from zoo.registry import catalogue

    lines = [USAGE, "recipes:"]
    recipes = available_recipes()
    width = max((len(n) for n in recipes), default=8) + 2
    lines += [f"  {name:<{width}}{recipe_description(path)}" for name, path in recipes.items()]
    if not recipes:
        lines.append("  (none installed)")
    lines.append("\nmethods and baselines (zoo.list_methods()):")
    lines += [
        f"  {e.name:<14}{e.task:<5}{e.kind:<10}{('recipe=' + e.default_recipe) if e.default_recipe else ''}"
        for e in catalogue()
    ] or ["  (none registered)"]
    lines.append("\npresets:")
    lines += [f"  {group}={'|'.join(presets(group))}" for group in ("trainer", "logger", "data")]
    lines.append(
        "\nuser recipes: put YAML files in a directory listed in $ZOO_RECIPE_PATH. Outputs go to "
        "outputs/<recipe>/<timestamp>/ (output_root=..., or run_dir=... to pin)."
    )
    return "\n".join(lines)


def _is_rank_zero() -> bool:
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK", "JSM_NAMESPACE_RANK"):
        if var in os.environ:
            return int(os.environ[var]) == 0
    return True


def load_config(overrides: Sequence[str]) -> tuple[DictConfig, Path | None]:
    """Compose the run's config; for ``resume=...`` reload the run's saved config instead.

    Returns:
        (config, checkpoint to resume from or None).
    """
    overrides = list(overrides)
    resume = next((o.partition("=")[2] for o in overrides if o.startswith("resume=")), None)
    if not resume or resume in ("null", "None"):
        return compose(overrides), None
    recipe = next((o.partition("=")[2] for o in overrides if o.startswith("recipe=")), None)
    output_root = next((o.partition("=")[2] for o in overrides if o.startswith("output_root=")), "outputs")
    try:
        run_dir = resolve_resume(resume, output_root, recipe)
    except FileNotFoundError as error:
        raise ConfigError(str(error)) from None
    cfg = OmegaConf.load(run_dir / "config.yaml")
    rest = [o for o in overrides if not o.startswith(("resume=", "recipe=", "output_root="))]
    try:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(rest))
    except Exception as error:
        raise ConfigError(f"cannot apply {rest} to {run_dir / 'config.yaml'}: {error}") from None
    cfg.run_dir = str(run_dir)
    cfg.resume = str(run_dir)
    return cfg, run_dir / LAST_CKPT


def _configure_wandb(run_dir: Path) -> bool:
    """Keep every W&B file inside the run directory; run offline when no API key is configured.

    Returns True when W&B runs offline.
    """
    for var, sub in (("WANDB_DIR", ""), ("WANDB_DATA_DIR", "wandb/data"), ("WANDB_CACHE_DIR", "wandb/cache"),
                     ("WANDB_CONFIG_DIR", "wandb/config")):
        path = run_dir / sub
        path.mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(path)
    has_key = bool(os.environ.get("WANDB_API_KEY"))
    netrc = Path.home() / ".netrc"
    if not has_key and netrc.is_file():
        has_key = "api.wandb.ai" in netrc.read_text(errors="ignore")
    if os.environ.get("WANDB_MODE") in ("offline", "disabled") or not has_key:
        os.environ.setdefault("WANDB_MODE", "offline")
        return True
    return False


def build_logger(cfg: DictConfig, run_dir: Path) -> Any:
    """Instantiate the logger preset (``cfg.logger``); W&B is configured first (see _configure_wandb)."""
    from hydra.utils import instantiate

    if cfg.get("logger") is None:
        return False
    target = str(cfg.logger.get("_target_", ""))
    kwargs: dict[str, Any] = {}
    if target.endswith("WandbLogger"):
        offline = _configure_wandb(run_dir)
        kwargs["offline"] = offline
        if offline and _is_rank_zero():
            print(f"[zoo] W&B: no API key configured, logging offline to {run_dir / 'wandb'} "
                  "(upload later with `wandb sync`)")
    return instantiate(cfg.logger, **kwargs)


def _keep_csv_history(logger: Any, ckpt_path: Path) -> None:
    """Resuming with the CSV logger: keep the rows logged before the checkpoint.

    Lightning's CSV writer deletes an existing ``metrics.csv`` when it starts; move it aside first, then
    put back the rows up to the checkpoint's step (steps after it are re-run and logged again).
    """
    import csv

    import torch
    from lightning.pytorch.loggers import CSVLogger

    if not isinstance(logger, CSVLogger) or not _is_rank_zero():
        return
    metrics = Path(logger.log_dir) / "metrics.csv"
    if not metrics.is_file():
        return
    with metrics.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    metrics.unlink()
    step = int(torch.load(ckpt_path, map_location="cpu", weights_only=True, mmap=True).get("global_step", 0))
    rows = [r for r in rows if not r.get("step") or int(float(r["step"])) < step]
    writer = logger.experiment  # created now, with nothing left to delete
    with metrics.open("w", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=header)
        out.writeheader()
        out.writerows(rows)
    writer.metrics_keys = sorted(header)


def _tracking_eval_names(cfg: DictConfig) -> list[str]:
    """Names of the configured callbacks that evaluate tracking (they need an evaluation split)."""
    return [
        name for name, node in (cfg.get("callbacks") or {}).items()
        if node is not None and str(node.get("_target_", "")).endswith("TrackingEvaluation")
    ]  # fmt: skip


def build_callbacks(cfg: DictConfig, run_dir: Path) -> list[Any]:
    """Checkpointing (``last.ckpt`` + best by ``checkpoint.monitor``), progress display, user callbacks."""
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar

    from zoo.callbacks.checkpoint import LastAndBestCheckpoint

    ck = cfg.checkpoint
    # Training-only data (data=videos: a user's own unlabelled videos) has nothing to evaluate on: the
    # recipe's tracking evaluation and the best-checkpoint monitor it feeds are dropped, with a note.
    evaluable = "val_split" not in cfg.data or cfg.data.val_split is not None
    monitor = ck.monitor if evaluable else None
    if not evaluable and (ck.monitor or _tracking_eval_names(cfg)):
        print(
            f"[zoo] data={cfg.data.get('benchmark')} has no evaluation split: training without the tracking "
            "evaluation and best-checkpoint selection (last.ckpt is kept); evaluate the checkpoint with "
            "python -m zoo.evaluate model=.../last.ckpt data=<benchmark>"
        )
    callbacks: list[Any] = [
        LastAndBestCheckpoint(
            dirpath=run_dir / "checkpoints",
            filename="best-{epoch:03d}-{step:06d}" if monitor else "epoch{epoch:03d}-step{step:06d}",
            monitor=monitor,
            mode=ck.mode,
            save_top_k=ck.save_top_k if monitor else 0,
            save_last=True,
            every_n_epochs=ck.every_n_epochs if not ck.every_n_train_steps else None,
            every_n_train_steps=ck.every_n_train_steps,
            auto_insert_metric_name=False,
        )
    ]
    if cfg.progress == "rich":
        callbacks.append(RichProgressBar())
    elif cfg.progress == "tqdm":
        callbacks.append(TQDMProgressBar())
    elif cfg.progress != "none":
        raise ConfigError(f"progress must be rich, tqdm or none, got {cfg.progress!r}")
    skip = set() if evaluable else set(_tracking_eval_names(cfg))
    for name, node in (cfg.get("callbacks") or {}).items():
        if node is not None and name not in skip:
            if "_target_" not in node:
                raise ConfigError(f"callbacks.{name} needs a _target_ (a Lightning Callback class path)")
            callbacks.append(instantiate(node))
    from zoo.callbacks.model_card import ModelCardCallback

    # The card is written at teardown on rank 0, after results.json; one instance only (it is stateful:
    # it carries the wall time across resumes, and Lightning refuses two stateful callbacks of a type).
    if not any(isinstance(c, ModelCardCallback) for c in callbacks):
        callbacks.append(ModelCardCallback(run_dir))
    return callbacks


PHASE_DONE = "phase_done.json"
#: "<run_dir>::<phase>::<last phase>" of the phases being trained, for DDP ranks Lightning relaunches
PHASE_ENV = "ZOO_PHASE"


def phase_config(cfg: DictConfig, name: str, run_dir: Path) -> DictConfig:
    """The config of phase ``name``: the run's config with the phase's overrides merged over it."""
    base = OmegaConf.masked_copy(cfg, [k for k in cfg if k not in ("phases", "phase")])
    try:
        out = OmegaConf.merge(base, cfg.phases[name])
    except Exception as error:
        raise ConfigError(f"phases.{name}: cannot merge its overrides: {error}") from None
    out.phases, out.phase = None, None
    out.run_dir = str(run_dir / name)
    return out


def run_phases(cfg: DictConfig) -> Path:
    """Train the recipe's ``phases`` in order (see ``zoo/conf/train.yaml``); returns the run directory.

    A phase whose directory holds ``phase_done.json`` is finished and skipped; one with a ``last.ckpt`` and
    no marker is resumed from it; a new phase starts from the previous phase's ``last.ckpt``.
    """
    import shutil

    names = [str(n) for n in cfg.phases]
    if cfg.phase is not None and str(cfg.phase) not in names:
        raise ConfigError(f"phase={cfg.phase}: this recipe's phases are {names}")
    chosen = names if cfg.phase is None else [str(cfg.phase)]
    if not _is_rank_zero() and os.environ.get(PHASE_ENV):
        # A DDP rank relaunched by Lightning re-runs this command once, during the first phase rank 0 trains
        # in this process; later phases' fits reuse the ranks (no relaunch), so it stays for them too.
        root, current, last = os.environ[PHASE_ENV].split("::")
        cfg.run_dir = root
        chosen = names[names.index(current) : names.index(last) + 1]
    run_dir = choose_run_dir(cfg.output_root, cfg.recipe_name, cfg.run_dir)
    os.environ[RUN_DIR_ENV] = str(run_dir)
    cfg.run_dir = str(run_dir)
    if _is_rank_zero():
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    previous = cfg.model.get("init_from")
    last_dir = None
    for name in names:
        pdir = run_dir / name
        selected = name in chosen
        if (pdir / PHASE_DONE).is_file() or not selected:
            if (pdir / LAST_CKPT).is_file():
                previous = str(pdir / LAST_CKPT)
            if selected:
                print(f"[zoo] phase {name}: finished earlier ({pdir / PHASE_DONE}), skipped")
            continue
        pcfg = phase_config(cfg, name, run_dir)
        resume = pdir / LAST_CKPT if (pdir / LAST_CKPT).is_file() else None
        if resume is None and previous:
            pcfg.model.init_from = str(previous)
        print(f"[zoo] phase {name} ({names.index(name) + 1}/{len(names)})")
        os.environ.pop(RUN_DIR_ENV, None)
        os.environ[PHASE_ENV] = f"{run_dir}::{name}::{chosen[-1]}"  # inherited by relaunched DDP ranks
        run(pcfg, resume)
        os.environ.pop(PHASE_ENV, None)
        if _is_rank_zero():
            atomic_write_text(pdir / PHASE_DONE, '{"done": true}\n')
        previous, last_dir = str(pdir / LAST_CKPT), pdir
    os.environ[RUN_DIR_ENV] = str(run_dir)
    if last_dir is not None and last_dir.name == names[-1] and _is_rank_zero():
        # the finished model where a one-phase run keeps it: evaluate, publish and the leaderboard find it
        for rel in (LAST_CKPT, Path("results.json"), Path("README.md")):
            if (last_dir / rel).is_file():
                (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                tmp = run_dir / rel.parent / f".{rel.name}.tmp"
                shutil.copyfile(last_dir / rel, tmp)
                os.replace(tmp, run_dir / rel)
    return run_dir


def run(cfg: DictConfig, ckpt_path: Path | None = None) -> Path:
    """Train ``cfg.model`` on ``cfg.data`` with ``cfg.trainer``; returns the run directory.

    A config with ``phases`` trains them in order (:func:`run_phases`); ``ckpt_path`` is then ignored, each
    phase finds its own.
    """
    if cfg.get("phases"):
        return run_phases(cfg)
    import lightning as L
    from hydra.utils import instantiate

    from zoo.callbacks.checkpoint_io import AtomicCheckpointIO

    run_dir = choose_run_dir(cfg.output_root, cfg.recipe_name, cfg.run_dir)
    os.environ[RUN_DIR_ENV] = str(run_dir)  # ranks relaunched by Lightning inherit the same directory
    cfg.run_dir = str(run_dir)
    if _is_rank_zero():
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        action = f"resuming from {ckpt_path}" if ckpt_path else "new run"
        print(f"[zoo] recipe={cfg.recipe_name} ({action}); run directory: {run_dir}")

    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    datamodule = instantiate(cfg.data)
    model = instantiate(cfg.model)
    logger = build_logger(cfg, run_dir)
    trainer_kwargs = OmegaConf.to_container(cfg.trainer, resolve=True)
    trainer = L.Trainer(
        **trainer_kwargs,
        logger=logger,
        callbacks=build_callbacks(cfg, run_dir),
        default_root_dir=str(run_dir),
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=cfg.progress != "none",
    )
    if logger and ckpt_path:
        _keep_csv_history(logger, ckpt_path)
    if logger:
        trainer.logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    trainer.fit(model, datamodule=datamodule, ckpt_path=str(ckpt_path) if ckpt_path else None)
    return run_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m zoo.train``; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help", "help") for a in args):
        print(help_text())
        return 0
    show_cfg = "--cfg" in args
    args = [a for a in args if a != "--cfg"]
    bad = [a for a in args if a.startswith("-")]
    if bad:
        print(f"error: unknown option {bad[0]!r}; options are --help and --cfg, settings are key=value",
              file=sys.stderr)
        return 2
    try:
        cfg, ckpt = load_config(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if show_cfg:
        print(OmegaConf.to_yaml(cfg))
        return 0
    run(cfg, ckpt)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Lightning callback that writes a run's ``training.json`` and its model card (``README.md``) when a fit ends.

``training.json`` records what the checkpoint cannot: the command line, wall time (accumulated over resumed
segments through the callback's checkpoint state), hardware, the zoo version and git commit, and the data
split manifest (per role ``train``/``val``: the split name and its ``[sequence, frames]`` list, hashed with
SHA-256 over canonical JSON, so two runs on the same sequences share the hash). ``zoo.publish`` puts these
into ``config.json`` and reuses the card.

Only rank 0 writes, in ``teardown(stage="fit")``: after every callback's ``on_fit_end`` (so results written
there by the evaluation callback are in the card) and only when the fit finished normally.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn

__all__ = ["ModelCardCallback", "data_manifest", "manifest_sha256"]


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def data_manifest(datamodule: Any) -> dict[str, Any] | None:
    """``{"benchmark", "synth_preset", "generated", "splits": {"train"|"val": {"split", "sequences": [[name,
    frames], ...]}}}`` of a zoo data module (None for data modules without ``sequences``); ``generated`` names
    the generator version of ZooSynth data (:func:`zoo.data.synth.generated_by`), None for real data."""
    from zoo.tasks._common import data_provenance

    if datamodule is None or not hasattr(datamodule, "sequences"):
        return None
    splits: dict[str, Any] = {}
    generated = None
    train_split = getattr(datamodule, "train_split", None)
    if train_split:
        # the MOT module filters training sequences (seqmaps, MOT17 copies): record what it trains on
        seqs = datamodule.train_sequences() if hasattr(datamodule, "train_sequences") else \
            datamodule.sequences(train_split)
        splits["train"] = {"split": train_split, "sequences": [[s.name, len(s)] for s in seqs]}
        generated = data_provenance(seqs)
    val_split = getattr(datamodule, "val_split", None)
    if val_split:
        seqs = datamodule.eval_sequences(val_split) if hasattr(datamodule, "eval_sequences") else \
            datamodule.sequences(val_split)
        splits["val"] = {"split": val_split, "sequences": [[s.name, len(s)] for s in seqs]}
        generated = generated or data_provenance(seqs)
    return {"benchmark": getattr(datamodule, "benchmark", None),
            "synth_preset": getattr(datamodule, "synth_preset", None), "generated": generated, "splits": splits}


def _command(argv: list[str], recipe: str | None) -> str:
    """The training command as typed: ``python -m zoo.train <args>`` when run through zoo.train."""
    entry = Path(argv[0]) if argv else Path()
    if (entry.name == "train.py" and entry.parent.name == "zoo") or entry.name == "zoo-train":
        return "python -m zoo.train " + " ".join(shlex.quote(a) for a in argv[1:])
    # trained in-process (a notebook, a test): the overrides are unknown; the card shows the resolved recipe
    return f"python -m zoo.train recipe={recipe}" if recipe else "unknown (not started through zoo.train)"


def _module_dict(module: Any, name: str) -> dict[str, Any]:
    from zoo.tasks.results import jsonable

    method = getattr(module, name, None)
    return dict(jsonable(method())) if callable(method) else {}


class ModelCardCallback(L.Callback):
    """Write ``training.json`` and ``README.md`` into the run directory at the end of a successful fit.

    Args:
        run_dir: the run directory (default: the trainer's ``default_root_dir``, which zoo.train sets).
        checkpoint: which checkpoint the card describes: ``last``, ``best`` or a path.
        strict: raise instead of warning when the card cannot be written (tests); a finished training run
            keeps its checkpoints either way.
    """

    def __init__(self, run_dir: str | os.PathLike | None = None, checkpoint: str = "last",
                 strict: bool = False) -> None:
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.checkpoint = checkpoint
        self.strict = strict
        self._previous_seconds = 0.0
        self._t0: float | None = None
        self._started: str | None = None
        self._argv = list(sys.argv)

    # wall time survives resuming: it travels in the checkpoint as this callback's state
    def state_dict(self) -> dict[str, Any]:
        return {"wall_time_s": self._elapsed()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._previous_seconds = float(state_dict.get("wall_time_s", 0.0))

    def _elapsed(self) -> float:
        return self._previous_seconds + (time.perf_counter() - self._t0 if self._t0 is not None else 0.0)

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = time.perf_counter()
        self._started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage != "fit" or not trainer.is_global_zero:
            return
        try:
            self.write(trainer, pl_module)
        except Exception as error:
            if self.strict:
                raise
            rank_zero_warn(f"model card not written: {type(error).__name__}: {error}")

    def write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> Path:
        """Write ``training.json`` then the card; returns the card's path."""
        import zoo
        from zoo.cards import TRAINING_FILE, read_run, write_run_card
        from zoo.core.atomic import atomic_write_text
        from zoo.hub import file_sha256
        from zoo.tasks.results import git_sha, hardware_info

        run_dir = (self.run_dir or Path(trainer.default_root_dir)).resolve()
        manifest = data_manifest(getattr(trainer, "datamodule", None))
        recipe = None
        if (run_dir / "config.yaml").is_file():
            from omegaconf import OmegaConf

            recipe = OmegaConf.load(run_dir / "config.yaml").get("recipe_name")
        training: dict[str, Any] = {
            "command": _command(self._argv, recipe),
            "argv": self._argv,
            "started": self._started,
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_time_s": round(self._elapsed(), 3),
            "hardware": hardware_info(str(trainer.strategy.root_device), trainer.world_size),
            "epochs": int(trainer.current_epoch),
            "global_step": int(trainer.global_step),
            "zoo_version": zoo.__version__,
            "git_sha": git_sha(),
            "data": None if manifest is None else {
                "benchmark": manifest["benchmark"],
                "generated": manifest["generated"],
                "train_split": (manifest["splits"].get("train") or {}).get("split"),
                "val_split": (manifest["splits"].get("val") or {}).get("split"),
                "splits": {role: part["sequences"] for role, part in manifest["splits"].items()},
                "manifest_sha256": manifest_sha256(manifest),
            },
        }
        path = run_dir / TRAINING_FILE
        atomic_write_text(path, json.dumps(training, indent=2) + "\n")
        info, _ = read_run(run_dir, self.checkpoint)
        info.tracker_config = _module_dict(pl_module, "tracker_config")
        info.input_contract = _module_dict(pl_module, "input_contract")
        card = write_run_card(info)
        # publish re-renders the card only if it is still the one written here (not edited by hand)
        training["card_sha256"] = file_sha256(card)
        atomic_write_text(path, json.dumps(training, indent=2) + "\n")
        return card

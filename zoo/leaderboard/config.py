"""``leaderboard.yaml``: what the leaderboard gathers, (re-)evaluates and trains.

::

    out: leaderboard                  # where leaderboard.md/.json/.html and the PNG charts go
    work_dir: outputs/leaderboard     # evaluation and training outputs of evaluate=true / train=true
    readme: README.md                 # the file whose zoo-table block readme=true rewrites
    runs:                             # local results: globs of results.json files or folders holding them
      - outputs/**/results.json
    hub:                              # Hub repos (zoo.publish): ORG/NAME, ORG/NAME@REV, hf-hub:ORG/NAME@REV
      - my-org/finetrack-zoosynth@v1
    evaluate:                         # evaluated through zoo.evaluate only with evaluate=true
      - {model: all, data: synth_mot}             # every registered baseline of the task
      - {model: bytetrack, data: mot17, overrides: [data.root=/data/MOT17]}
      - {model: hf-hub:my-org/finetrack-zoosynth@v1, data: synth_mot}
    train:                            # trained through zoo.train only with train=true (skipped when done)
      - {recipe: finetrack, overrides: [trainer.max_epochs=3]}

Relative paths are relative to the folder of the YAML file. Unknown keys are errors naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BoardConfig", "EvalSpec", "TrainSpec", "load_board_config"]

_TOP_KEYS = ("out", "work_dir", "readme", "runs", "hub", "evaluate", "train")
_EVAL_KEYS = ("model", "data", "split", "overrides")
_TRAIN_KEYS = ("recipe", "overrides")


@dataclass(frozen=True)
class EvalSpec:
    """A model to (re-)evaluate: ``model`` (registry name, ``all``, checkpoint or ``hf-hub:ID``) on the data
    preset ``data`` (``synth_mot``, ``mot17``...), with extra ``zoo.evaluate`` settings."""

    model: str
    data: str
    split: str | None = None
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainSpec:
    """A recipe to train with ``zoo.train`` (its run's results.json joins the board)."""

    recipe: str
    overrides: tuple[str, ...] = ()


@dataclass
class BoardConfig:
    """The parsed ``leaderboard.yaml`` (paths absolute)."""

    base: Path
    out: Path
    work_dir: Path
    readme: Path
    runs: list[str] = field(default_factory=list)
    hub: list[str] = field(default_factory=list)
    evaluate: list[EvalSpec] = field(default_factory=list)
    train: list[TrainSpec] = field(default_factory=list)
    path: Path | None = None


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise ValueError(f"{where}: expected a list of strings, got {value!r}")


def _mapping(item: Any, keys: Sequence[str], required: Sequence[str], where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping with keys {list(keys)}, got {item!r}")
    unknown = [k for k in item if k not in keys]
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(keys)}")
    missing = [k for k in required if not item.get(k)]
    if missing:
        raise ValueError(f"{where}: missing {missing[0]!r}")
    return item


def _resolve(base: Path, value: str | os.PathLike) -> Path:
    path = Path(os.path.expanduser(os.fspath(value)))
    return path if path.is_absolute() else (base / path).resolve()


def load_board_config(
    path: str | os.PathLike | None = None,
    base: str | os.PathLike | None = None,
    doc: Mapping[str, Any] | None = None,
) -> BoardConfig:
    """Read ``leaderboard.yaml`` (or take ``doc``); a missing file gives the defaults (gather ``outputs/``).

    Args:
        path: the YAML file (None: no file, only ``doc`` or the defaults).
        base: folder relative paths refer to (default: the file's folder, else the working directory).
        doc: the parsed document instead of a file.

    Raises:
        ValueError: not a mapping, unknown keys, malformed entries (naming the file and the entry).
        FileNotFoundError: ``path`` given but missing.
    """
    import yaml

    where = str(path) if path is not None else "leaderboard config"
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file}: leaderboard config not found")
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ValueError(f"{file}: not valid YAML ({error})") from None
        base = base if base is not None else file.resolve().parent
    doc = {} if doc is None else doc
    if not isinstance(doc, Mapping):
        raise ValueError(f"{where}: expected a mapping with keys {list(_TOP_KEYS)}")
    unknown = [k for k in doc if k not in _TOP_KEYS]
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(_TOP_KEYS)}")
    root = Path(base).resolve() if base is not None else Path.cwd()
    evaluate = []
    for i, item in enumerate(doc.get("evaluate") or []):
        item = _mapping(item, _EVAL_KEYS, ("model", "data"), f"{where}: evaluate[{i}]")
        evaluate.append(
            EvalSpec(
                str(item["model"]),
                str(item["data"]),
                None if item.get("split") is None else str(item["split"]),
                tuple(_strings(item.get("overrides"), f"{where}: evaluate[{i}].overrides")),
            )
        )
    train = []
    for i, item in enumerate(doc.get("train") or []):
        item = _mapping(item, _TRAIN_KEYS, ("recipe",), f"{where}: train[{i}]")
        train.append(
            TrainSpec(
                str(item["recipe"]), tuple(_strings(item.get("overrides"), f"{where}: train[{i}].overrides"))
            )
        )
    runs = _strings(doc.get("runs", ["outputs/**/results.json"]), f"{where}: runs")
    return BoardConfig(
        base=root,
        out=_resolve(root, doc.get("out") or "leaderboard"),
        work_dir=_resolve(root, doc.get("work_dir") or "outputs/leaderboard"),
        readme=_resolve(root, doc.get("readme") or "README.md"),
        runs=runs,
        hub=_strings(doc.get("hub"), f"{where}: hub"),
        evaluate=evaluate,
        train=train,
        path=None if path is None else Path(path).resolve(),
    )  # fmt: skip

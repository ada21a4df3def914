"""Hydra composition for the zoo's CLIs: recipes, presets and friendly errors.

Recipes are YAML files registered as the config group ``recipe`` (package ``_global_``) in Hydra's
ConfigStore, so they compose on top of the packaged ``zoo/conf/train.yaml`` from any working directory and
from an installed wheel. Sources, later ones shadowing earlier ones of the same name:

1. the recipes shipped with zoo (``zoo/recipes`` inside a wheel, ``recipes/`` in a source checkout);
2. every directory in ``$ZOO_RECIPE_PATH`` (``os.pathsep``-separated): your own recipes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

CONF_MODULE = "zoo.conf"
PRESET_GROUPS = ("trainer", "logger", "data")


class ConfigError(ValueError):
    """A bad command line: unknown recipe, preset or key. The message lists the valid choices."""


def to_plain(value: Any) -> Any:
    """OmegaConf containers, tuples and mappings -> plain dicts/lists (what checkpoint hparams, loaded with
    ``weights_only=True``, and Hub ``config.json`` files can hold)."""
    if isinstance(value, (DictConfig, ListConfig)):
        value = OmegaConf.to_container(value, resolve=True)
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def builtin_recipes_dir() -> Path:
    """Directory of the shipped recipes: ``zoo/recipes`` in a wheel, ``<checkout>/recipes`` otherwise."""
    package = Path(__file__).resolve().parent
    inside = package / "recipes"
    return inside if inside.is_dir() else package.parent / "recipes"


def recipe_dirs() -> list[Path]:
    """Recipe directories in increasing priority (user directories from ``$ZOO_RECIPE_PATH`` last)."""
    dirs = [builtin_recipes_dir()]
    for entry in os.environ.get("ZOO_RECIPE_PATH", "").split(os.pathsep):
        if entry:
            dirs.append(Path(entry).expanduser())
    return dirs


def available_recipes() -> dict[str, Path]:
    """Recipe name -> YAML file, later directories shadowing earlier ones."""
    found: dict[str, Path] = {}
    for directory in recipe_dirs():
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                found[path.stem] = path
    return dict(sorted(found.items()))


def recipe_description(path: Path) -> str:
    """The recipe's ``description`` key (one line for ``--help``)."""
    try:
        return str(OmegaConf.load(path).get("description", "") or "")
    except Exception as error:  # a broken recipe must not break --help; say what is wrong instead
        return f"(unreadable: {error})"


def presets(group: str) -> list[str]:
    """Preset names of a packaged config group (``trainer``, ``logger``, ``data``)."""
    directory = Path(__file__).resolve().parent / "conf" / group
    return sorted(p.stem for p in directory.glob("*.yaml"))


def _register_recipes() -> None:
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name, path in available_recipes().items():
        try:
            node = OmegaConf.load(path)
        except Exception as error:
            raise ConfigError(f"{path}: cannot parse recipe {name!r}: {error}") from error
        store.store(group="recipe", name=name, node=node, package="_global_")


def _override_value(overrides: Sequence[str], key: str) -> str | None:
    value = None
    for item in overrides:
        k, sep, v = item.partition("=")
        if sep and k.lstrip("+~") == key:
            value = v
    return value


def _choices_message(kind: str, value: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(valid) if valid else "(none found)"
    return f"unknown {kind} {value!r}.{hint} Valid choices: {listed}"


def validate_choices(overrides: Sequence[str]) -> str:
    """Check ``recipe=`` and preset choices before composing; return the recipe name.

    Raises:
        ConfigError: missing or unknown recipe, unknown preset, listing the valid choices.
    """
    recipes = available_recipes()
    recipe = _override_value(overrides, "recipe")
    if recipe is None:
        raise ConfigError("no recipe given: use recipe=NAME. " + _choices_message("recipe", "", list(recipes)))
    if recipe not in recipes:
        raise ConfigError(_choices_message("recipe", recipe, list(recipes)))
    for group in PRESET_GROUPS:
        value = _override_value(overrides, group)
        if value is not None and value not in presets(group):
            raise ConfigError(_choices_message(f"{group} preset", value, presets(group)))
    return recipe


def _valid_keys(cfg: DictConfig | None, prefix: str) -> list[str]:
    if cfg is None:
        return []
    node = OmegaConf.select(cfg, prefix) if prefix else cfg
    if not isinstance(node, DictConfig):
        return []
    return [f"{prefix}.{k}" if prefix else str(k) for k in node.keys()]


def compose(overrides: Sequence[str], config_name: str = "train") -> DictConfig:
    """Compose the packaged primary config with a recipe and CLI overrides (CLI > recipe > base).

    ``recipe_name`` is filled in from the chosen recipe. Returns an unresolved DictConfig (``run_dir`` is
    resolved later by :mod:`zoo.runs`).

    Raises:
        ConfigError: unknown recipe/preset/key, with the valid choices.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    overrides = list(overrides)
    recipe = validate_choices(overrides)
    _register_recipes()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONF_MODULE, version_base="1.3"):
            try:
                cfg = hydra_compose(config_name, overrides=[*overrides, f"recipe_name={recipe}"])
            except HydraException as error:
                raise _explain(error, overrides) from None
    finally:
        GlobalHydra.instance().clear()
    return cfg


def _explain(error: Exception, overrides: Sequence[str], base: DictConfig | None = None) -> ConfigError:
    """Turn Hydra's composition errors into one message naming the bad key and the valid ones.

    ``base`` is the config whose keys are listed as valid (default: the train config of the recipe).
    """
    text = str(error)
    for item in overrides:
        key = item.partition("=")[0].lstrip("+~")
        if f"'{key}'" in text or f"Key '{key.split('.')[-1]}'" in text:
            parent = key.rpartition(".")[0]
            if base is None:
                base = _base_config_for_hints(overrides)
            valid = _valid_keys(base, parent)
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            where = f"under {parent!r}" if parent else "at the top level"
            extra = " (prefix it with + to add a new key)" if not item.startswith("+") else ""
            return ConfigError(
                f"unknown config key {key!r}{extra}.{hint} Valid keys {where}: {', '.join(valid) or '(none)'}"
            )
    return ConfigError(text)


def _base_config_for_hints(overrides: Sequence[str]) -> DictConfig | None:
    """Compose with only the choice overrides (recipe and presets) to list valid keys for a hint."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    keep = [o for o in overrides if o.partition("=")[0] in ("recipe", *PRESET_GROUPS)]
    recipe = _override_value(overrides, "recipe")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONF_MODULE, version_base="1.3"):
            return hydra_compose("train", overrides=[*keep, f"recipe_name={recipe}"])
    except Exception:
        return None
    finally:
        GlobalHydra.instance().clear()


def compose_primary(
    config_name: str, overrides: Sequence[str], groups: Sequence[str] = ("data",)
) -> DictConfig:
    """Compose another packaged primary config (e.g. ``evaluate``) with CLI overrides; no recipe.

    Same friendly errors as :func:`compose`: an unknown preset of ``groups`` or an unknown key raises
    :class:`ConfigError` listing the valid choices/keys. Plain command lines compose without Hydra
    (:func:`zoo.fast_compose.compose_plain`, the same result); the rest go to Hydra.
    """
    overrides = list(overrides)
    for group in groups:
        value = _override_value(overrides, group)
        if value is not None and value not in presets(group):
            raise ConfigError(_choices_message(f"{group} preset", value, presets(group)))
    from zoo.fast_compose import compose_plain

    plain = compose_plain(config_name, overrides)
    if plain is not None:  # the same config, without Hydra's ~0.45 s (zoo/fast_compose.py)
        return plain
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=CONF_MODULE, version_base="1.3"):
            try:
                return hydra_compose(config_name, overrides=overrides)
            except HydraException as error:
                keep = [o for o in overrides if o.partition("=")[0] in groups]
                try:
                    base = hydra_compose(config_name, overrides=keep)
                except HydraException:
                    base = None
                raise _explain(error, overrides, base) from None
    finally:
        GlobalHydra.instance().clear()

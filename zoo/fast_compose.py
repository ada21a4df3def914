"""Hydra's composition of a packaged primary config, for plain command lines, without importing Hydra.

``python -m zoo.evaluate results=DIR data=davis17 data.root=/x`` spends about 0.45 s of a 2 s command in
Hydra: its import, its ANTLR override parser and its own ``hydra/*`` configs, none of which the result holds.
For the command lines people type (a preset choice per group, ``key=value`` overrides of existing keys with
plain values) this module composes the same config with OmegaConf alone, in the same steps as Hydra 1.3's
``ConfigLoaderImpl``: an empty config merged with each entry of the primary's defaults list in order (a
group's file under the group's key, ``_self_`` as the primary's own keys), struct mode on the root, then
``OmegaConf.update(cfg, key, value, merge=True)`` per override with Hydra's value types.

Anything else returns None and the caller asks Hydra, which then also words the errors: ``+``/``++``/``~``
prefixes, quoting, lists, dicts, sweeps, interpolations, escapes, a repeated key, a key the config does not
have, a value whose Hydra type this module would have to guess (``1_000``, ``inf``, ``00``...), a defaults
entry other than ``GROUP: NAME`` or ``_self_``, a group file with its own defaults list or ``@package``
header. ``tests/test_fast_compose.py`` holds both paths equal on every packaged preset and on the value
grammar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

__all__ = ["compose_plain", "plain_value"]

CONF_DIR = Path(__file__).resolve().parent / "conf"

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
# Hydra's unquoted value characters without those that start something else: $ (interpolation), \ (escape),
# ~ , = whitespace brackets braces quotes (delete, sweeps, key=value, lists, dicts, quoting).
_STRING = re.compile(r"[A-Za-z0-9_./:@+%*?|-]+\Z")
_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)\Z")
# Hydra's integer part is 0 or has no leading zero (01.5 is a string to Hydra, not a float).
_FLOAT = re.compile(
    r"[+-]?(?:(?:(?:0|[1-9][0-9]*)\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?:0|[1-9][0-9]*)[eE][+-]?[0-9]+)\Z"
)
# Text that Hydra's lexer may read as several number tokens (1_000, 00, .5x, 1.2.3): Hydra decides.
_NUMBERISH = re.compile(r"[+-]?\.?[0-9]")
_SPECIAL_FLOATS = {"inf", "+inf", "-inf", "nan", "+nan", "-nan"}


class _NotPlain(Exception):
    """The command line needs Hydra."""


def plain_value(text: str) -> Any:
    """The value Hydra's override grammar gives an unquoted ``text``: None, bool, int, float or str.

    Raises:
        ValueError: ``text`` is not one of the plain forms this module knows Hydra's answer for.
    """
    low = text.lower()
    if low == "null":
        return None
    if low in ("true", "false"):
        return low == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if low in _SPECIAL_FLOATS or _NUMBERISH.match(text) or not _STRING.match(text):
        raise ValueError(f"{text!r} is not a plain value")
    return text


def _load(path: Path) -> DictConfig:
    if not path.is_file():
        raise _NotPlain  # Hydra reports the missing config
    if "@package" in path.read_text(encoding="utf-8")[:512]:
        raise _NotPlain
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig):
        raise _NotPlain
    return cfg


def _defaults(primary: DictConfig) -> list[tuple[str, str] | None]:
    """The primary's defaults list as (group, name) entries and None for ``_self_``."""
    raw = OmegaConf.to_container(primary.get("defaults", ["_self_"]), resolve=False)
    out: list[tuple[str, str] | None] = []
    if not isinstance(raw, list):
        raise _NotPlain
    for entry in raw:
        if entry == "_self_":
            out.append(None)
        elif isinstance(entry, dict) and len(entry) == 1:
            ((group, name),) = entry.items()
            if not (
                isinstance(group, str) and isinstance(name, str) and _KEY.match(group) and "." not in group
            ):
                raise _NotPlain  # optional/override entries, packages, nested groups, null choices
            out.append((group, name))
        else:
            raise _NotPlain
    groups = [entry[0] for entry in out if entry is not None]
    if len(groups) != len(set(groups)) or out.count(None) > 1:
        raise _NotPlain  # Hydra refuses a group listed twice
    if None not in out:
        out.append(None)  # Hydra appends _self_ when the list does not name it
    return out


def compose_plain(config_name: str, overrides: Sequence[str], conf_dir: Path = CONF_DIR) -> DictConfig | None:
    """``hydra.compose(config_name, overrides)`` for plain overrides, or None where Hydra must compose.

    Args:
        config_name: a primary config in ``conf_dir`` (``evaluate``, ``precompute``).
        overrides: ``GROUP=NAME`` choices of the primary's defaults list and ``key.path=value`` overrides.
        conf_dir: the config directory (the packaged ``zoo/conf``).

    Returns:
        The composed config (struct mode on, no ``hydra`` node), as Hydra returns it; None if any part of
        the command line or the configs is outside the plain subset described in the module docstring.
    """
    try:
        return _compose(config_name, overrides, conf_dir)
    except _NotPlain:
        return None
    except Exception:  # noqa: BLE001 - any OmegaConf complaint (a missing key, a type): Hydra words it
        return None


def _compose(config_name: str, overrides: Sequence[str], conf_dir: Path) -> DictConfig:
    primary = _load(conf_dir / f"{config_name}.yaml")
    if "hydra" in primary:
        raise _NotPlain  # Hydra moves a primary's hydra: node into its own config
    defaults = _defaults(primary)
    groups = {entry[0] for entry in defaults if entry is not None}
    choices: dict[str, str] = {}
    values: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not _KEY.match(key) or key in seen or key.split(".")[0] == "hydra":
            raise _NotPlain
        seen.add(key)
        if key in groups:
            if not _STRING.match(text) or _NUMBERISH.match(text) or text.lower() in ("null", "true", "false"):
                raise _NotPlain
            choices[key] = text
        else:
            try:
                values.append((key, plain_value(text)))
            except ValueError:
                raise _NotPlain from None
    body = OmegaConf.masked_copy(primary, [k for k in primary if k != "defaults"])
    cfg = OmegaConf.create()
    for entry in defaults:
        if entry is None:
            cfg.merge_with(body)
            continue
        group, name = entry
        loaded = _load(conf_dir / group / f"{choices.get(group, name)}.yaml")
        if "defaults" in loaded:
            raise _NotPlain
        cfg.merge_with(OmegaConf.create({group: loaded}))
    OmegaConf.set_struct(cfg, True)
    for key, value in values:
        OmegaConf.update(cfg, key, value, merge=True)  # raises on a key the config lacks: Hydra explains
    return cfg

"""The method/baseline registry: one name per tracker, like timm's model registry.

A method registers its LightningModule (trainable); a baseline registers a tracker class (no training).
Registration happens at import of the defining module; :func:`_import_builtin` imports the zoo's own
modules lazily; listing (:func:`list_methods`, :func:`catalogue`) reads a static catalogue of the built-in
names, so ``--help`` and ``zoo.list_methods()`` never import torch-heavy code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

TASKS = ("mot", "vos", "sot")
KINDS = ("method", "baseline")


@dataclass(frozen=True)
class MethodSpec:
    """What the zoo knows about one registered tracker.

    Attributes:
        name: registry name (``finetrack``, ``bytetrack``...), lower case.
        task: one of ``mot``, ``vos``, ``sot``.
        kind: ``method`` (trainable LightningModule) or ``baseline`` (non-learned tracker).
        cls: the LightningModule class (methods) or tracker class (baselines).
        default_recipe: recipe name that trains it (methods), None for baselines.
        paper: citation-style title of the paper it implements.
        summary: one line for tables and ``--help``.
    """

    name: str
    task: str
    kind: str
    cls: type
    default_recipe: str | None = None
    paper: str = ""
    summary: str = ""


_REGISTRY: dict[str, MethodSpec] = {}


@dataclass(frozen=True)
class CatalogueEntry:
    """A built-in tracker as the zoo lists it without importing it: the fields ``--help`` and
    :func:`list_methods` need, plus the module whose import registers it (timm's ``_model_to_module``).

    ``tests/test_registry.py`` checks that every entry equals what its module registers, so the listing
    cannot drift from the code.
    """

    name: str
    task: str
    kind: str
    module: str
    default_recipe: str | None = None


# The zoo's own trackers, in listing order. Listed (not discovered) so that listing never imports torch,
# OpenCV or a method package: `zoo.evaluate --help` and `zoo.list_methods()` answer in milliseconds, and
# `get_method(name)` imports only the one module that defines `name`.
BUILTIN_CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("sort", "mot", "baseline", "zoo.trackers.sort"),
    CatalogueEntry("bytetrack", "mot", "baseline", "zoo.trackers.byte"),
    *(
        CatalogueEntry(name, "sot", "baseline", "zoo.trackers.opencv_sot")
        for name in ("csrt", "kcf", "mil", "mosse", "medianflow", "boosting", "tld")
    ),
    CatalogueEntry("box_average", "sot", "baseline", "zoo.trackers.ensemble"),
    CatalogueEntry("copy_first", "vos", "baseline", "zoo.trackers.vos_baselines"),
    CatalogueEntry("flow_warp", "vos", "baseline", "zoo.trackers.vos_baselines"),
    CatalogueEntry("finetrack", "mot", "method", "zoo.methods.finetrack", "finetrack"),
    CatalogueEntry("kfe_iff", "mot", "method", "zoo.methods.kfe_iff", "kfe_iff"),
    CatalogueEntry("sushi", "mot", "method", "zoo.methods.kfe_iff", "sushi"),
    CatalogueEntry("dmp", "vos", "method", "zoo.methods.dmp", "dmp"),
    CatalogueEntry("sftrack", "sot", "method", "zoo.methods.sftrack", "sftrack"),
)
_BUILTIN_BY_NAME = {entry.name: entry for entry in BUILTIN_CATALOGUE}
_BUILTIN_MODULES: tuple[str, ...] = tuple(dict.fromkeys(entry.module for entry in BUILTIN_CATALOGUE))
_imported = False


def register(
    name: str,
    *,
    task: str,
    kind: str = "method",
    default_recipe: str | None = None,
    paper: str = "",
    summary: str = "",
) -> Callable[[type], type]:
    """Class decorator registering a method or baseline under ``name``.

    Raises:
        ValueError: unknown task/kind, or ``name`` already taken by another class.
    """
    if task not in TASKS:
        raise ValueError(f"register({name!r}): task must be one of {TASKS}, got {task!r}")
    if kind not in KINDS:
        raise ValueError(f"register({name!r}): kind must be one of {KINDS}, got {kind!r}")

    def decorator(cls: type) -> type:
        key = name.lower()
        existing = _REGISTRY.get(key)
        if existing is not None and existing.cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"tracker name {key!r} is already registered by {existing.cls.__module__}")
        _REGISTRY[key] = MethodSpec(key, task, kind, cls, default_recipe, paper, summary or _first_line(cls))
        return cls

    return decorator


def _first_line(cls: type) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def _import_builtin() -> None:
    global _imported
    if _imported:
        return
    _imported = True
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def catalogue() -> list[CatalogueEntry]:
    """Every known tracker without importing any: the built-in catalogue, then trackers registered by
    modules imported so far (a user's or a plugin's ``@register``), in listing order."""
    entries = {entry.name: entry for entry in BUILTIN_CATALOGUE}
    for name, spec in _REGISTRY.items():
        if name not in entries:
            entries[name] = CatalogueEntry(name, spec.task, spec.kind, spec.cls.__module__, spec.default_recipe)
    return list(entries.values())


def list_methods(task: str | None = None, kind: str | None = None) -> list[str]:
    """Registered tracker names, optionally filtered by task (``mot``/``vos``/``sot``) and kind.

    Imports nothing: built-in names come from :data:`BUILTIN_CATALOGUE`.
    """
    return [
        e.name
        for e in catalogue()
        if (task is None or e.task == task) and (kind is None or e.kind == kind)
    ]


def get_method(name: str) -> MethodSpec:
    """The spec registered under ``name``, importing only the module that defines it.

    Raises:
        KeyError: with the list of valid names.
    """
    key = name.lower()
    if key not in _REGISTRY and key in _BUILTIN_BY_NAME:
        importlib.import_module(_BUILTIN_BY_NAME[key].module)
    if key not in _REGISTRY:
        _import_builtin()
    try:
        return _REGISTRY[key]
    except KeyError:
        valid = ", ".join(sorted(_REGISTRY)) or "(none registered)"
        raise KeyError(f"unknown method {name!r}; registered: {valid}") from None


def specs() -> list[MethodSpec]:
    """All registered specs (importing every built-in module), in catalogue order, then the others."""
    _import_builtin()
    ordered = [_REGISTRY[e.name] for e in BUILTIN_CATALOGUE if e.name in _REGISTRY]
    return ordered + [s for n, s in _REGISTRY.items() if n not in _BUILTIN_BY_NAME]

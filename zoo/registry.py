"""The method/baseline registry: one name per tracker, like timm's model registry.

A method registers its LightningModule (trainable); a baseline registers a tracker class (no training).
Registration happens at import of the defining module; :func:`_import_builtin` imports the zoo's own
modules lazily so ``zoo.list_methods()`` is complete without importing torch-heavy code at ``import zoo``.
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

# Modules that register the zoo's own trackers. Listed here (not discovered) so that importing the
# registry never scans the file system and the order of `list_methods()` is stable.
_BUILTIN_MODULES: tuple[str, ...] = (
    "zoo.trackers.sort",
    "zoo.trackers.byte",
    "zoo.trackers.opencv_sot",
    "zoo.trackers.vos_baselines",
    "zoo.methods.finetrack",
    "zoo.methods.kfe_iff",
)
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


def list_methods(task: str | None = None, kind: str | None = None) -> list[str]:
    """Registered tracker names, optionally filtered by task (``mot``/``vos``/``sot``) and kind."""
    _import_builtin()
    return [
        n
        for n, s in _REGISTRY.items()
        if (task is None or s.task == task) and (kind is None or s.kind == kind)
    ]


def get_method(name: str) -> MethodSpec:
    """The spec registered under ``name``.

    Raises:
        KeyError: with the list of valid names.
    """
    _import_builtin()
    try:
        return _REGISTRY[name.lower()]
    except KeyError:
        valid = ", ".join(sorted(_REGISTRY)) or "(none registered)"
        raise KeyError(f"unknown method {name!r}; registered: {valid}") from None


def specs() -> list[MethodSpec]:
    """All registered specs, in registration order."""
    _import_builtin()
    return list(_REGISTRY.values())

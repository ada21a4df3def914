"""zoo: a PyTorch Lightning model zoo for video object tracking.

Public API: :func:`load` (a ready tracker from the Hub, an export folder or a checkpoint), :func:`list_models`
(known published tracker ids), :func:`list_methods` (registered methods and baselines) and the
``python -m zoo.train`` / ``python -m zoo.evaluate`` / ``python -m zoo.publish`` entry points.
"""

from typing import Any

from zoo.registry import get_method, list_methods, register

__version__ = "0.1.0"

__all__ = ["__version__", "get_method", "list_methods", "list_models", "load", "register"]


def __getattr__(name: str) -> Any:
    # zoo.load / zoo.list_models import the Hub machinery on first use only: `import zoo` stays light
    if name in ("load", "list_models"):
        from zoo import hub

        return getattr(hub, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")

"""zoo: a PyTorch Lightning model zoo for video object tracking.

Public API: :func:`list_methods` (registered methods and baselines) and the ``python -m zoo.train`` /
``python -m zoo.evaluate`` entry points.
"""

from zoo.registry import get_method, list_methods, register

__version__ = "0.1.0"

__all__ = ["__version__", "get_method", "list_methods", "register"]

"""numpy / torch interchange without importing torch.

Metric and file code is numpy-only so that re-scoring (``zoo.evaluate results=...``) starts in well under a
second; it still accepts torch tensors from the model paths. An object can only be a tensor once torch has
been imported, so looking torch up in ``sys.modules`` answers the question without paying for the import.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_tensor", "to_numpy"]


def is_tensor(x: object) -> bool:
    """True for a ``torch.Tensor`` (False whenever torch has not been imported)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def to_numpy(x: Any) -> Any:
    """A tensor as a numpy array (detached, on the CPU); anything else unchanged."""
    return x.detach().cpu().numpy() if is_tensor(x) else x

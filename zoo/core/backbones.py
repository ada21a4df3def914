"""timm model construction with the zoo's error messages: an unknown name and unreachable pretrained
weights both raise at once, saying what to do (tests and CI run offline, so a silent hang is not an option).
"""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["create_timm_model"]


def create_timm_model(
    name: str, *, pretrained: bool = False, what: str = "trunk", **kwargs: Any
) -> nn.Module:
    """``timm.create_model(name, pretrained=pretrained, **kwargs)`` with clear failures.

    Args:
        name: timm model name (``resnet18``, ``resnet50``...).
        pretrained: load timm's ImageNet weights (Hugging Face Hub or its local cache).
        what: what the model is for, named in error messages (``"the FineTrack trunk"``).
        kwargs: passed to ``timm.create_model`` (``features_only``, ``channels``...).

    Raises:
        ValueError: timm has no model of that name.
        RuntimeError: ``pretrained=True`` and the weights cannot be fetched (offline without a cached copy).
    """
    import timm

    try:
        return timm.create_model(name, pretrained=pretrained, **kwargs)
    except RuntimeError as error:
        if "Unknown model" in str(error):
            raise ValueError(f"unknown timm model {name!r} for {what}: {error}") from None
        raise
    except (OSError, ValueError) as error:
        if not pretrained:
            raise
        raise RuntimeError(
            f"cannot load pretrained weights for timm model {name!r} ({type(error).__name__}: {error}). "
            "The weights come from the Hugging Face Hub: go online once to cache them, point HF_HOME at "
            "a cache holding them, or set pretrained=false (model.pretrained=false) to start from scratch."
        ) from None

"""Checkpoint I/O that never leaves a truncated ``.ckpt`` behind and never unpickles arbitrary objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from zoo.core.atomic import atomic_save


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning ``CheckpointIO`` writing through a temp file + ``os.replace`` and loading with
    ``weights_only=True``.

    Lightning's own writer streams into the final path, so a process killed mid-write (SIGKILL, OOM,
    pre-emption) can leave a truncated ``last.ckpt`` that breaks resuming. Here the previous checkpoint
    survives until the new one is complete on disk.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not support storage_options, got {storage_options!r}")
        atomic_save(path, lambda handle: torch.save(checkpoint, handle))

    def load_checkpoint(
        self, path: str | Path, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"checkpoint file not found: {path}")
        # Checkpoints hold tensors and plain containers only (hyper-parameters are kept plain on purpose).
        return torch.load(path, map_location=map_location or "cpu", weights_only=True)

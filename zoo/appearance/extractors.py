"""Appearance extractors: one vector per detection box.

Three kinds, built from a plain config by :func:`build_extractor`:

- ``timm``: any timm trunk on box crops (:class:`TimmCropExtractor`, an ``nn.Module``: a LightningModule that
  owns it saves and publishes its weights);
- ``zoo``: the ``embed(frame, boxes)`` of any tracker ``zoo.load`` returns (a FineTrack run folder,
  checkpoint or ``hf-hub:`` id, with a pinned revision), never importing that method's package;
- ``file``: a user's precomputed per-sequence features (:class:`PrecomputedFeatures`).

Every extractor has an :meth:`identity`: a plain-JSON description that changes whenever its output can
(settings and a digest of its weights), which keys the on-disk cache (:mod:`zoo.appearance.cache`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from zoo.data.transforms import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["EXTRACTOR_KINDS", "AppearanceExtractor", "PrecomputedFeatures", "TimmCropExtractor",
           "ZooModelExtractor", "build_extractor", "weights_digest"]

EXTRACTOR_KINDS = ("timm", "zoo", "file")


@runtime_checkable
class AppearanceExtractor(Protocol):
    """``extract(frame (H, W, 3) uint8 RGB, boxes (N, 4) float64 xyxy) -> (N, dim) float32``."""

    dim: int

    def identity(self) -> dict[str, Any]: ...

    def extract(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray: ...


def weights_digest(module: nn.Module) -> str:
    """sha256 (hex, 16 chars) over a module's parameters and buffers, names and values."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class TimmCropExtractor(nn.Module):
    """A timm trunk (global pooled, no classifier) on bilinear box crops, optionally projected and
    L2-normalised.

    Args:
        model: timm model name; pretrained: load timm's weights (needs the Hub; fails fast offline).
        crop_size: (H, W) crop in pixels (Re-ID convention 256 x 128; CPU presets smaller).
        out_dim: linear projection width (None: the trunk's width); seeded random init, saved with the module.
        normalize: L2-normalise the output vectors.
        seed: initialisation seed (trunk when not pretrained, and projection).
        batch_size: crops per forward pass.
    """

    def __init__(self, model: str = "resnet18", pretrained: bool = False, crop_size: tuple[int, int] = (64, 32),
                 out_dim: int | None = 64, normalize: bool = True, seed: int = 0, batch_size: int = 256) -> None:
        super().__init__()
        import timm

        self.settings = {"kind": "timm", "model": str(model), "pretrained": bool(pretrained),
                         "crop_size": [int(crop_size[0]), int(crop_size[1])],
                         "out_dim": None if out_dim is None else int(out_dim), "normalize": bool(normalize),
                         "seed": int(seed)}
        self.batch_size = int(batch_size)
        if pretrained and os.environ.get("HF_HUB_OFFLINE") == "1":
            raise RuntimeError(f"appearance: timm model {model!r} with pretrained=true needs the Hugging Face Hub, "
                               "but HF_HUB_OFFLINE=1; use pretrained=false or a cached/zoo extractor")
        with torch.random.fork_rng():
            torch.manual_seed(int(seed))
            self.trunk = timm.create_model(model, pretrained=pretrained, num_classes=0)
            width = int(self.trunk.num_features)
            self.proj = nn.Linear(width, int(out_dim)) if out_dim is not None else None
        self.dim = int(out_dim) if out_dim is not None else width
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def identity(self) -> dict[str, Any]:
        return {**self.settings, "weights": weights_digest(self)}

    @torch.no_grad()
    def extract(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        from zoo.core.roi import roi_align

        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if boxes.shape[0] == 0:
            return np.zeros((0, self.dim), np.float32)
        device = self.mean.device
        img = torch.from_numpy(np.ascontiguousarray(frame)).to(device).permute(2, 0, 1)[None].float() / 255.0
        img = (img - self.mean) / self.std
        out = []
        h, w = self.settings["crop_size"]
        for k in range(0, boxes.shape[0], self.batch_size):
            b = torch.as_tensor(boxes[k:k + self.batch_size], dtype=torch.float32, device=device)
            crops = roi_align(img, [b], (h, w), 1.0, sampling_ratio=2)
            f = self.trunk(crops)
            if self.proj is not None:
                f = self.proj(f)
            if self.settings["normalize"]:
                f = torch.nn.functional.normalize(f, dim=1)
            out.append(f.float().cpu())
        return torch.cat(out).numpy()

    def train(self, mode: bool = True) -> TimmCropExtractor:
        return super().train(False)  # frozen: BatchNorm statistics never move


class ZooModelExtractor:
    """The ``embed(frame, boxes)`` of a zoo tracker loaded by :func:`zoo.load` (run folder, checkpoint or
    ``hf-hub:ORG/NAME`` at ``revision``)."""

    def __init__(self, source: str, revision: str | None = None, device: str | None = None) -> None:
        import zoo

        self.source, self.revision = str(source), revision
        self.tracker = zoo.load(source, revision=revision, device=device)
        if not callable(getattr(self.tracker, "embed", None)):
            raise TypeError(f"appearance source {source!r} loads a {type(self.tracker).__name__}, which has no "
                            "embed(frame, boxes) method to give appearance vectors")
        params = getattr(self.tracker, "parameters", None)
        h = hashlib.sha256()
        if callable(params):
            for p in params():
                h.update(p.detach().cpu().contiguous().numpy().tobytes())
        self._digest = h.hexdigest()[:16]
        self.dim = int(np.asarray(self.tracker.embed(np.zeros((64, 64, 3), np.uint8),
                                                     np.array([[8.0, 8.0, 40.0, 56.0]]))).shape[1])

    def identity(self) -> dict[str, Any]:
        return {"kind": "zoo", "source": self.source, "revision": self.revision, "weights": self._digest}

    def extract(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if boxes.shape[0] == 0:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self.tracker.embed(frame, boxes), np.float32)


class PrecomputedFeatures:
    """A user's features, one file per sequence: ``<root>/<sequence>.npy``, a float (N, D) array whose rows
    follow the sequence's detection rows in the tracker's order (sorted by frame, file order within a frame,
    after the score threshold), or ``<root>/<sequence>.npz`` with ``features`` (N, D) and optionally
    ``frames`` (N,) to check that order. ``dim`` (optional) is checked too."""

    def __init__(self, root: str | os.PathLike, dim: int | None = None) -> None:
        self.root = Path(os.path.expanduser(str(root)))
        if not self.root.is_dir():
            raise FileNotFoundError(f"appearance: feature folder {self.root} not found")
        self.dim = int(dim) if dim is not None else self._probe_dim()

    def _probe_dim(self) -> int:
        for path in sorted(self.root.iterdir()):
            if path.suffix in (".npy", ".npz"):
                return int(self._read(path)[0].shape[1])
        raise FileNotFoundError(f"appearance: no <sequence>.npy or .npz feature files in {self.root}")

    @staticmethod
    def _read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if "features" not in z:
                    raise ValueError(f"{path}: the .npz holds no 'features' array (found {sorted(z.files)})")
                return np.asarray(z["features"]), (np.asarray(z["frames"]) if "frames" in z else None)
        return np.load(path, allow_pickle=False), None

    def identity(self) -> dict[str, Any]:
        return {"kind": "file", "root": str(self.root.resolve()), "dim": self.dim}

    def sequence_file(self, name: str) -> Path:
        for ext in (".npy", ".npz"):
            path = self.root / f"{name}{ext}"
            if path.is_file():
                return path
        raise FileNotFoundError(f"appearance: no features for sequence {name}: expected {self.root / name}.npy "
                                f"or .npz")

    def load(self, name: str, frames: np.ndarray) -> np.ndarray:
        """(N, D) float32 features of sequence ``name``, checked against its N detection ``frames``."""
        path = self.sequence_file(name)
        feats, file_frames = self._read(path)
        if feats.ndim != 2:
            raise ValueError(f"{path}: sequence {name}: features must be a 2-D (N, D) array, got shape {feats.shape}")
        if feats.shape[0] != len(frames):
            raise ValueError(f"{path}: sequence {name}: {feats.shape[0]} feature rows for {len(frames)} detections")
        if feats.shape[1] != self.dim:
            raise ValueError(f"{path}: sequence {name}: features have dimension {feats.shape[1]}, expected {self.dim}")
        if file_frames is not None and not np.array_equal(np.asarray(file_frames, np.int64), frames):
            bad = int(np.flatnonzero(np.asarray(file_frames, np.int64) != frames)[0])
            raise ValueError(f"{path}: sequence {name}: row {bad} is frame {int(file_frames[bad])}, but detection "
                             f"row {bad} is in frame {int(frames[bad])}")
        if not np.isfinite(feats).all():
            raise ValueError(f"{path}: sequence {name}: features hold NaN or inf")
        return feats.astype(np.float32)

    def extract(self, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        raise TypeError("PrecomputedFeatures gives whole sequences (sequence_features), not single frames")


def build_extractor(spec: Mapping[str, Any] | str) -> Any:
    """An extractor from a plain config: ``{"kind": "timm", "model": ..., ...}``, ``{"kind": "zoo",
    "source": ..., "revision": ...}`` or ``{"kind": "file", "root": ...}`` (a string is a ``zoo`` source)."""
    if isinstance(spec, str):
        spec = {"kind": "zoo", "source": spec}
    spec = dict(spec)
    kind = spec.pop("kind", "timm")
    if kind == "timm":
        if "crop_size" in spec:
            spec["crop_size"] = tuple(spec["crop_size"])
        return TimmCropExtractor(**spec)
    if kind == "zoo":
        return ZooModelExtractor(**spec)
    if kind == "file":
        return PrecomputedFeatures(**spec)
    raise ValueError(f"appearance kind must be one of {EXTRACTOR_KINDS}, got {kind!r} (spec {json.dumps(spec)})")

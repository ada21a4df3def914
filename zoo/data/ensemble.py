"""Training windows for ensembles over base trackers (SFTrack++): frames, GT masks and boxes, and every base
tracker's box on each frame, from the cache of :mod:`zoo.trackers.cache`.

A sample is the window of ``window`` consecutive frames ending at frame ``t`` (``t >= window - 1``, so every
window is whole), resized to ``image_size`` (aspect not kept: boxes are scaled per axis), flipped
horizontally with probability ``hflip`` (one draw per window).

Sample keys:
    images (T, 3, H, W) float32 RGB in [0, 1]; boxes (T, 4) float32 ``xyxy`` GT in output pixels (NaN where
    the target is absent); channels (T, K, 4) float32 base-tracker boxes in output pixels; masks (T, H, W)
    float32 {0, 1} GT target masks (only with ``with_masks``; the sequence's ``mask_label`` only, where it has
    one); frames (T,) int64 0-based; name (str).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.core.video import read_image
from zoo.data.datasets import _read_target_mask
from zoo.data.samplers import seed_from_torch
from zoo.data.types import SOTSequence
from zoo.trackers.cache import TrackerSource, precompute, tracker_outputs

__all__ = ["SOTWindowDataset"]


class SOTWindowDataset(Dataset):
    """Windows of single-object sequences with the base trackers' boxes.

    Args:
        sequences: sequences with a box on every frame (and masks, with ``with_masks``).
        sources: the base trackers (names or :class:`~zoo.trackers.cache.TrackerSource`), in channel order.
        window: frames per sample (the current one and ``window - 1`` before it).
        image_size: output (H, W).
        with_masks: read GT masks (phases 1-2); a sequence without masks is then an error naming it.
        hflip: probability of a horizontal flip of the whole window.
        cache_dir: the tracker cache (None: ``$ZOO_DATA/trackers``); missing entries are computed first, with
            a progress bar, in ``workers`` processes.
    """

    def __init__(
        self,
        sequences: Sequence[SOTSequence],
        sources: Sequence[TrackerSource | str],
        *,
        window: int = 5,
        image_size: Sequence[int] = (96, 160),
        with_masks: bool = True,
        hflip: float = 0.5,
        cache_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        progress: bool = True,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1 frame, got {window}")
        if not sources:
            raise ValueError("an ensemble needs at least one base tracker")
        self.sources = [TrackerSource(s) if isinstance(s, str) else s for s in sources]
        self.window = int(window)
        self.size = (int(image_size[0]), int(image_size[1]))
        self.with_masks = bool(with_masks)
        self.hflip = float(hflip)
        self.sequences = [s for s in sequences if len(s) >= 1]
        for seq in self.sequences:
            if with_masks and (seq.masks is None or len(seq.masks) != len(seq)):
                raise ValueError(f"sequence {seq.name}: has no target masks, needed here (with_masks=true)")
        precompute(self.sources, self.sequences, cache_dir, workers, progress=progress)
        #: per sequence: (T, K, 4) float64 base-tracker boxes in the sequence's own pixels
        self.channels = [
            np.stack([tracker_outputs(src, seq, cache_dir).boxes for src in self.sources], 1)
            for seq in self.sequences
        ]
        self.index = [
            (v, t)
            for v, seq in enumerate(self.sequences)
            for t in range(min(self.window, len(seq)) - 1, len(seq))
        ]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict:
        v, t = self.index[i]
        seq = self.sequences[v]
        frames = np.arange(t - self.window + 1, t + 1)
        frames = np.clip(frames, 0, None)  # sequences shorter than a window repeat their first frame
        h, w = self.size
        rng = np.random.default_rng(seed_from_torch())
        flip = rng.random() < self.hflip
        imgs, masks = [], []
        src_h = src_w = None
        for f in frames:
            img = read_image(seq.frames[f])
            src_h, src_w = img.shape[:2]
            imgs.append(cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA))
            if self.with_masks:
                try:
                    m = _read_target_mask(seq.masks[f], seq.mask_label)
                except (OSError, ValueError) as err:
                    raise ValueError(
                        f"sequence {seq.name}, frame {f + 1}: cannot read the target mask "
                        f"{seq.masks[f]}: {err}"
                    ) from err
                masks.append(cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST_EXACT))
        scale = np.array([w / src_w, h / src_h, w / src_w, h / src_h])
        boxes = np.asarray(seq.boxes, np.float64)[frames] * scale
        boxes[np.asarray(seq.absent, bool)[frames]] = np.nan
        chans = self.channels[v][frames] * scale
        images = np.stack(imgs)
        if flip:
            images = images[:, :, ::-1]
            boxes = np.stack([w - boxes[..., 2], boxes[..., 1], w - boxes[..., 0], boxes[..., 3]], -1)
            chans = np.stack([w - chans[..., 2], chans[..., 1], w - chans[..., 0], chans[..., 3]], -1)
        sample = {
            "images": torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0,
            "boxes": torch.from_numpy(boxes.astype(np.float32)),
            "channels": torch.from_numpy(chans.astype(np.float32)),
            "frames": torch.from_numpy(frames.astype(np.int64)),
            "name": seq.name,
        }
        if self.with_masks:
            m = np.stack(masks)
            if flip:
                m = m[:, :, ::-1]
            sample["masks"] = torch.from_numpy(np.ascontiguousarray(m)).float()
        return sample

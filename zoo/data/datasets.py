"""torch Datasets over benchmark sequences: MOT frame groups, unlabelled video clips, SOT template/search pairs.

Datasets take loaded sequences (``zoo.data.types``), never paths, so the same class serves every benchmark
and hand-made test fixtures. Images are read with :func:`zoo.core.video.read_image` (RGB uint8); every
random choice (frame gap, crop jitter, augmentation) is seeded from torch's generator
(:func:`zoo.data.samplers.seed_from_torch`), which DataLoader seeds per worker and epoch.

Samples are dicts of tensors (and a few strings); :func:`collate` stacks equal-shaped tensors and keeps the
rest (variable box counts) as lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.core.video import read_image
from zoo.data.formats.davis import read_palette_mask
from zoo.data.samplers import seed_from_torch
from zoo.data.transforms import ClipTransform, context_side, crop_region
from zoo.data.types import MOTRows, MOTSequence, SOTSequence, VOSSequence

Sample = dict[str, Any]


def collate(samples: Sequence[Sample]) -> dict[str, Any]:
    """Merge samples key by key: tensors of one shape are stacked (new leading dim), ints/floats/bools
    become a tensor, anything else (tensors of varying shape, strings, None) stays a list."""
    if not samples:
        raise ValueError("cannot collate an empty batch")
    out: dict[str, Any] = {}
    for key in samples[0]:
        vals = [s[key] for s in samples]
        first = vals[0]
        if isinstance(first, torch.Tensor) and all(
            isinstance(v, torch.Tensor) and v.shape == first.shape for v in vals
        ):
            out[key] = torch.stack(vals)
        elif isinstance(first, (bool, int, float, np.integer, np.floating)) and not isinstance(first, str):
            out[key] = torch.as_tensor(np.asarray(vals))
        else:
            out[key] = vals
    return out


def _runs(keys: np.ndarray) -> list[slice]:
    """Slices of maximal runs of equal consecutive values of ``keys``."""
    if keys.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(keys) != 0) + 1
    edges = np.concatenate([[0], cuts, [keys.size]])
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


# ------------------------------------------------------------------------------------------------- MOT
class MOTGroupDataset(Dataset):
    """Frames of MOT training sequences with boxes and global identity labels.

    Index space: global frame index over ``sequences`` (see :mod:`zoo.data.samplers`). Use with a
    ``ShuffleGroupSampler`` batch sampler: the DataLoader hands a whole batch to :meth:`__getitems__`,
    which applies ONE augmentation draw to each run of consecutive frames of one video (a group).

    Identities: every ``(sequence, track id)`` kept by the filters gets a contiguous label in
    ``0 .. num_identities - 1`` across all sequences (sequences in the given order, ids ascending).

    Args:
        sequences: training sequences with ``gt``.
        transform: the clip pipeline (e.g. :func:`zoo.data.transforms.train_transform`).
        classes: gt classes to keep (MOTChallenge: 1 = pedestrian); rows without a class (-1) are kept.
        consider_only: keep only rows whose consider flag (column 7) is 1.
        min_visibility: keep rows with visibility >= this (rows without visibility, -1, are kept).

    Sample (one frame): ``image`` (3, H, W) float32, ``boxes`` (N, 4) float32 ``xyxy`` in the transformed
    image, ``ids`` (N,) int64 global identity labels, ``frame`` 1-based frame number, ``video`` index into
    ``sequences``, ``sequence`` name. :func:`collate` makes ``images`` (B, 3, H, W) under key ``image``.
    """

    def __init__(
        self,
        sequences: Sequence[MOTSequence],
        transform: ClipTransform,
        *,
        classes: Sequence[int] = (1,),
        consider_only: bool = True,
        min_visibility: float = 0.0,
    ) -> None:
        if not sequences:
            raise ValueError("MOTGroupDataset needs at least one sequence")
        self.sequences = list(sequences)
        self.transform = transform
        self.frame_counts = np.array([len(s) for s in self.sequences], np.int64)
        self.offsets = np.cumsum(self.frame_counts) - self.frame_counts
        self._rows: list[MOTRows] = []
        self._starts: list[np.ndarray] = []  # per video: (len + 1,) row index where each frame starts
        self.identity_table: list[tuple[str, int]] = []
        self._id_maps: list[np.ndarray] = []
        classes_arr = np.asarray(list(classes), np.int64)
        for seq in self.sequences:
            if seq.gt is None:
                raise ValueError(
                    f"sequence {seq.name} ({seq.root}) has no gt/gt.txt: it cannot be used to train"
                )
            gt = seq.gt
            keep = (gt.classes < 0) | np.isin(gt.classes, classes_arr)
            if consider_only:
                keep &= gt.scores > 0.5
            keep &= (gt.visibility < 0) | (gt.visibility >= min_visibility)
            rows = gt.select(keep)
            order = np.lexsort((rows.ids, rows.frames))
            rows = rows.select(order)
            self._rows.append(rows)
            self._starts.append(np.searchsorted(rows.frames, np.arange(1, len(seq) + 2)))
            uniq = np.unique(rows.ids)
            self._id_maps.append(uniq)
            self.identity_table += [(seq.name, int(i)) for i in uniq]
        self._id_offsets = np.cumsum([0] + [len(u) for u in self._id_maps])
        self.num_identities = int(self._id_offsets[-1])

    def __len__(self) -> int:
        return int(self.frame_counts.sum())

    def locate(self, index: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global frame index -> (video, 0-based frame in video)."""
        idx = np.asarray(index, np.int64)
        if (idx < 0).any() or (idx >= len(self)).any():
            raise IndexError(f"frame index out of range [0, {len(self)}): {idx}")
        video = np.searchsorted(self.offsets, idx, side="right") - 1
        return video, idx - self.offsets[video]

    def annotations(self, video: int, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (N, 4) float64 ``xyxy`` and global ids (N,) int64 of 1-based ``frame`` of ``video``."""
        rows = self._rows[video]
        a, b = self._starts[video][frame - 1], self._starts[video][frame]
        ids = np.searchsorted(self._id_maps[video], rows.ids[a:b]) + self._id_offsets[video]
        return rows.boxes[a:b], ids.astype(np.int64)

    def __getitems__(self, indices: Sequence[int]) -> list[Sample]:
        videos, frames0 = self.locate(np.asarray(indices, np.int64))
        out: list[Sample] = []
        # runs of the same video get one draw; a new run starts where the video changes
        run_key = np.cumsum(np.concatenate([[0], (np.diff(videos) != 0) | (np.diff(frames0) != 1)]))
        for sl in _runs(run_key):
            v = int(videos[sl][0])
            seq = self.sequences[v]
            fnums = (frames0[sl] + 1).tolist()
            images = np.stack([read_image(seq.image_path(f)) for f in fnums])
            ann = [self.annotations(v, f) for f in fnums]
            clip = self.transform(images, boxes=[a[0] for a in ann], seed=seed_from_torch())
            for k, f in enumerate(fnums):
                out.append(
                    {
                        "image": clip.images[k],
                        "boxes": clip.boxes[k],
                        "ids": torch.from_numpy(ann[k][1][clip.box_index[k].numpy()]),
                        "frame": f,
                        "video": v,
                        "sequence": seq.name,
                    }
                )
        return out

    def __getitem__(self, index: int) -> Sample:
        return self.__getitems__([index])[0]


# ----------------------------------------------------------------------------------------------- video
def _video_frames(video: VOSSequence | Sequence[Path]) -> list[Path]:
    return list(video.frames) if isinstance(video, VOSSequence) else [Path(p) for p in video]


class VideoClipDataset(Dataset):
    """Unlabelled clips of ``clip_len`` frames with a random frame gap (self-supervised correspondence).

    Each clip draws one gap from ``gaps`` with ``gap_probs`` (MAST: {2, 5, 8} with 0.4/0.4/0.2) among the
    gaps that fit the video (renormalised; a video too short for any uses the largest gap that fits, and
    one shorter than ``clip_len`` repeats its last frame). Index = global frame index, the clip's first
    frame (moved back so the clip fits).

    Args:
        videos: sequences (or lists of frame paths), any labels are ignored.
        clip_len: T, frames per clip.
        transform: the clip pipeline (e.g. ``train_transform(size, mode="crop", normalize=False)``).
        gaps, gap_probs: the frame-gap schedule.

    Sample: ``images`` (T, 3, H, W) float32, ``frames`` (T,) int64 0-based frame indices, ``gap``,
    ``video`` index, ``name``.
    """

    def __init__(
        self,
        videos: Sequence[VOSSequence | Sequence[Path]],
        clip_len: int,
        transform: ClipTransform,
        *,
        gaps: Sequence[int] = (2, 5, 8),
        gap_probs: Sequence[float] = (0.4, 0.4, 0.2),
    ) -> None:
        if clip_len < 1:
            raise ValueError(f"clip_len must be >= 1, got {clip_len}")
        if len(gaps) != len(gap_probs) or not gaps:
            raise ValueError(
                f"gaps {list(gaps)} and gap_probs {list(gap_probs)} must be non-empty, same length"
            )
        probs = np.asarray(gap_probs, np.float64)
        if (probs < 0).any() or probs.sum() <= 0 or any(int(g) < 1 for g in gaps):
            raise ValueError(
                f"gaps must be >= 1 and gap_probs >= 0 with a positive sum, got {gaps}, {gap_probs}"
            )
        self.frames = [_video_frames(v) for v in videos]
        self.names = [v.name if isinstance(v, VOSSequence) else Path(v[0]).parent.name for v in videos]
        if not self.frames or any(len(f) == 0 for f in self.frames):
            raise ValueError("VideoClipDataset needs videos with at least one frame each")
        self.clip_len = int(clip_len)
        self.transform = transform
        self.gaps = np.asarray(gaps, np.int64)
        self.gap_probs = probs / probs.sum()
        self.frame_counts = np.array([len(f) for f in self.frames], np.int64)
        self.offsets = np.cumsum(self.frame_counts) - self.frame_counts

    def __len__(self) -> int:
        return int(self.frame_counts.sum())

    def clip_indices(self, n: int, start: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """(T,) 0-based frame indices of a clip in a video of ``n`` frames anchored at ``start``, and its gap."""
        span = self.clip_len - 1
        fits = self.gaps * span < n
        if span == 0:
            gap = 1
        elif fits.any():
            p = self.gap_probs * fits
            gap = int(rng.choice(self.gaps, p=p / p.sum())) if p.sum() > 0 else int(self.gaps[fits].max())
        else:
            gap = max(1, (n - 1) // span)
        first = min(start, max(0, n - 1 - gap * span))
        idx = np.minimum(first + gap * np.arange(self.clip_len), n - 1)
        return idx.astype(np.int64), gap

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self):
            raise IndexError(f"clip index {index} out of range [0, {len(self)})")
        v = int(np.searchsorted(self.offsets, index, side="right") - 1)
        seed = seed_from_torch()
        idx, gap = self.clip_indices(
            int(self.frame_counts[v]), int(index - self.offsets[v]), np.random.default_rng(seed)
        )
        images = np.stack([read_image(self.frames[v][i]) for i in idx])
        clip = self.transform(images, seed=seed)
        return {
            "images": clip.images,
            "frames": torch.from_numpy(idx),
            "gap": gap,
            "video": v,
            "name": self.names[v],
        }


# ------------------------------------------------------------------------------------------------- SOT
def _read_target_mask(path: Path, label: int | None = None) -> np.ndarray:
    """Palette PNG -> (H, W) uint8 {0, 1} target mask.

    Args:
        path: the frame's palette PNG.
        label: the target's object label (``SOTSequence.mask_label``): pixels ``== label`` -> 1, everything
            else (background, void 255, other objects) -> 0. None: any object label 1..254 -> 1, void -> 0.

    Raises:
        ValueError: ``label`` outside 1..254.
        FormatError: as :func:`~zoo.data.formats.davis.read_palette_mask`.
    """
    m = read_palette_mask(path)
    if label is None:
        return ((m > 0) & (m < 255)).astype(np.uint8)
    if not 1 <= int(label) <= 254:
        raise ValueError(f"a target mask label must be an object label 1..254, got {label} (reading {path})")
    return (m == int(label)).astype(np.uint8)


class SOTPairDataset(Dataset):
    """Template/search pairs (or short clips) from single-object sequences.

    ``mode="pair"``: the template is frame i (the index, moved to the nearest frame with a visible target),
    the search frame j != i is drawn within ``max_gap`` frames among visible ones. The template crop is a
    square of :func:`~zoo.data.transforms.context_side` (SiamFC context ``context``) around the box,
    resized to ``template_size``; the search crop is ``search_factor`` times larger around the search box,
    with its centre shifted by up to ``center_jitter`` of its side and its side scaled by
    ``exp(U(-scale_jitter, scale_jitter))``, resized to ``search_size``. One photometric draw (flip,
    colour) is applied to both crops (``transform``, called with one seed).

    ``mode="clip"``: ``clip_len`` frames from the index on, with stride ``clip_stride`` (repeating the last
    frame at the end), whole frames through ``transform`` (one geometric+photometric draw).

    Args:
        sequences: training sequences (boxes for every frame).
        transform: :func:`~zoo.data.transforms.photometric_transform` (pairs) or
            :func:`~zoo.data.transforms.train_transform` (clips).
        with_masks: also return target masks where sequences carry them (ZooSynth-SOT, DAVIS objects: only
            the sequence's ``mask_label``).

    Pair sample: ``template`` (3, Ht, Wt), ``search`` (3, Hs, Ws), ``template_box`` / ``search_box`` (4,)
    float32 ``xyxy`` in crop pixels, optional ``template_mask`` / ``search_mask`` (H, W) int64 {0, 1},
    ``frames`` (2,) int64 0-based, ``video``, ``name``.
    Clip sample: ``images`` (T, 3, H, W), ``boxes`` (T, 4) float32 (NaN where the target is absent or left
    the image), ``absent`` (T,) bool, optional ``masks`` (T, H, W) int64, ``frames`` (T,), ``video``, ``name``.
    """

    def __init__(
        self,
        sequences: Sequence[SOTSequence],
        transform: ClipTransform,
        *,
        mode: Literal["pair", "clip"] = "pair",
        template_size: int = 64,
        search_size: int = 128,
        context: float = 0.5,
        search_factor: float = 2.0,
        max_gap: int = 50,
        center_jitter: float = 0.2,
        scale_jitter: float = 0.25,
        clip_len: int = 8,
        clip_stride: int = 1,
        with_masks: bool = True,
    ) -> None:
        if mode not in ("pair", "clip"):
            raise ValueError(f"mode must be 'pair' or 'clip', got {mode!r}")
        self.mode = mode
        self.transform = transform
        self.template_size, self.search_size = int(template_size), int(search_size)
        self.context, self.search_factor = float(context), float(search_factor)
        self.max_gap = int(max_gap)
        self.center_jitter, self.scale_jitter = float(center_jitter), float(scale_jitter)
        self.clip_len, self.clip_stride = int(clip_len), int(clip_stride)
        self.with_masks = with_masks
        self.sequences: list[SOTSequence] = []
        self.valid: list[np.ndarray] = []  # per sequence: sorted 0-based frames with a usable box
        for seq in sequences:
            b = np.asarray(seq.boxes, np.float64)
            ok = (
                np.isfinite(b).all(1)
                & (b[:, 2] > b[:, 0])
                & (b[:, 3] > b[:, 1])
                & ~np.asarray(seq.absent, bool)
            )
            if ok.sum() >= (2 if mode == "pair" else 1):
                self.sequences.append(seq)
                self.valid.append(np.flatnonzero(ok))
        if not self.sequences:
            raise ValueError("no sequence has enough frames with a visible target box")
        self.frame_counts = np.array([len(s) for s in self.sequences], np.int64)
        self.offsets = np.cumsum(self.frame_counts) - self.frame_counts

    def __len__(self) -> int:
        return int(self.frame_counts.sum())

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range [0, {len(self)})")
        v = int(np.searchsorted(self.offsets, index, side="right") - 1)
        return v, int(index - self.offsets[v])

    def _mask(self, seq: SOTSequence, f: int) -> np.ndarray | None:
        if not self.with_masks or seq.masks is None:
            return None
        return _read_target_mask(seq.masks[f], seq.mask_label)

    def __getitem__(self, index: int) -> Sample:
        v, f = self._locate(index)
        seed = seed_from_torch()
        rng = np.random.default_rng(seed)
        if self.mode == "clip":
            return self._clip(v, f, seed)
        return self._pair(v, f, rng, seed)

    def _pair(self, v: int, f: int, rng: np.random.Generator, seed: int) -> Sample:
        seq, valid = self.sequences[v], self.valid[v]
        ti = int(valid[np.argmin(np.abs(valid - f))])
        near = valid[(np.abs(valid - ti) <= self.max_gap) & (valid != ti)]
        if near.size == 0:  # no other visible frame within max_gap: take the nearest one
            others = valid[valid != ti]
            near = others[np.abs(others - ti) == np.abs(others - ti).min()]
        si = int(rng.choice(near))

        tbox, sbox = seq.boxes[ti], seq.boxes[si]
        t_img, s_img = read_image(seq.frames[ti]), read_image(seq.frames[si])
        t_side = context_side(tbox, self.context)
        t_crop, t_mask, t_geo = crop_region(
            t_img,
            ((tbox[0] + tbox[2]) / 2, (tbox[1] + tbox[3]) / 2),
            t_side,
            self.template_size,
            self._mask(seq, ti),
        )
        s_side = context_side(sbox, self.context) * self.search_factor
        s_side *= float(np.exp(rng.uniform(-self.scale_jitter, self.scale_jitter)))
        shift = rng.uniform(-self.center_jitter, self.center_jitter, 2) * s_side
        centre = ((sbox[0] + sbox[2]) / 2 + shift[0], (sbox[1] + sbox[3]) / 2 + shift[1])
        s_crop, s_mask, s_geo = crop_region(s_img, centre, s_side, self.search_size, self._mask(seq, si))

        out_t = self.transform(
            t_crop[None],
            boxes=[t_geo.boxes_to_crop(tbox)[None]],
            masks=None if t_mask is None else t_mask[None],
            seed=seed,
        )
        out_s = self.transform(
            s_crop[None],
            boxes=[s_geo.boxes_to_crop(sbox)[None]],
            masks=None if s_mask is None else s_mask[None],
            seed=seed,
        )
        sample: Sample = {
            "template": out_t.images[0],
            "search": out_s.images[0],
            "template_box": _one_box(out_t.boxes[0]),
            "search_box": _one_box(out_s.boxes[0]),
            "frames": torch.tensor([ti, si], dtype=torch.int64),
            "video": v,
            "name": seq.name,
        }
        if out_t.masks is not None and out_s.masks is not None:
            sample["template_mask"] = out_t.masks[0]
            sample["search_mask"] = out_s.masks[0]
        return sample

    def _clip(self, v: int, f: int, seed: int) -> Sample:
        seq = self.sequences[v]
        n = len(seq)
        idx = np.minimum(f + self.clip_stride * np.arange(self.clip_len), n - 1).astype(np.int64)
        images = np.stack([read_image(seq.frames[i]) for i in idx])
        boxes = np.asarray(seq.boxes, np.float64)[idx]
        absent = np.asarray(seq.absent, bool)[idx] | ~np.isfinite(boxes).all(1)
        masks = None
        if self.with_masks and seq.masks is not None:
            masks = np.stack([_read_target_mask(seq.masks[i], seq.mask_label) for i in idx])
        per_frame = [b[None] if not a else np.zeros((0, 4)) for b, a in zip(boxes, absent)]
        clip = self.transform(images, boxes=per_frame, masks=masks, seed=seed)
        out_boxes = torch.stack([_one_box(b) for b in clip.boxes])
        sample: Sample = {
            "images": clip.images,
            "boxes": out_boxes,
            "absent": torch.from_numpy(absent) | torch.isnan(out_boxes).any(1),
            "frames": torch.from_numpy(idx),
            "video": v,
            "name": seq.name,
        }
        if clip.masks is not None:
            sample["masks"] = clip.masks
        return sample


def _one_box(boxes: torch.Tensor) -> torch.Tensor:
    """(N, 4) with N in {0, 1} -> (4,) float32 (NaN when the box was dropped)."""
    if boxes.shape[0] == 0:
        return torch.full((4,), float("nan"))
    return boxes[0].float()

"""The online SFTrack++ tracker (SOT protocol): base trackers stepped live, one refined mask and box a frame.

Per frame: every base tracker steps and gives a box; the frame is resized to the network's input size;
NN_feat2seg turns (frame, box_i) into the channel map S_i (kept for the next ``window - 1`` frames, so each
frame's maps are computed once); the channels of the last ``window`` frames are combined and refined by Eq. 1;
the current frame's refined mask goes through NN_seg2box (or, with ``box_from="mask"``, straight to the box
extractor, the paper's no-seg2box ablation); the box is the bounding rectangle of the largest component,
scaled back to the frame. When the mask is empty the last box is carried with score 0. Memory is bounded by
the window whatever the sequence length.

With ``cache=True``, a runner that calls :meth:`SFTrackTracker.begin_sequence` (the zoo's SOT runner does)
gets the base trackers' boxes from :mod:`zoo.trackers.cache` (run once per sequence, then read): the same
boxes live stepping gives, since each base tracker starts from the same first box, at the cost of the
network alone. Without that call (``init``/``step`` from user code) the base trackers step live.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

import cv2
import numpy as np
import torch

from zoo.data.types import SOTSequence
from zoo.methods.sftrack.model import SFTrackNet, mask_to_box
from zoo.tasks.protocols import SOTOutput
from zoo.trackers.cache import TrackerSource, tracker_outputs

__all__ = ["SFTrackTracker"]


class SFTrackTracker:
    """SFTrack++ over live base trackers.

    Args:
        net: the trained :class:`~zoo.methods.sftrack.model.SFTrackNet` (put in eval mode here).
        sources: the base trackers, in the order the network's channels were trained with.
        image_size: network input (H, W).
        window: frames in the spectral volume (the current one and ``window - 1`` before it).
        box_from: ``seg2box`` (phase 3's net) or ``mask`` (the refined mask itself, thresholded at 0.5).
        iterations: spectral iterations (None: the network's setting; 0 turns the step off).
        device: torch device of the network.
        cache: read base-tracker boxes from the cache when the runner names the sequence.
        cache_dir: the cache folder (None: ``$ZOO_DATA/trackers``).
    """

    def __init__(
        self,
        net: SFTrackNet,
        sources: Sequence[TrackerSource | str],
        image_size: Sequence[int] = (96, 160),
        window: int = 5,
        box_from: Literal["seg2box", "mask"] = "seg2box",
        iterations: int | None = None,
        device: str | torch.device = "cpu",
        cache: bool = True,
        cache_dir: str | None = None,
    ) -> None:
        if box_from not in ("seg2box", "mask"):
            raise ValueError(f"box_from must be 'seg2box' or 'mask', got {box_from!r}")
        self.sources = [TrackerSource(s) if isinstance(s, str) else s for s in sources]
        if len(self.sources) != net.channels:
            raise ValueError(
                f"the network was trained on {net.channels} base trackers, got {len(self.sources)}"
            )
        self.net = net.eval().to(device)
        self.device = torch.device(device)
        self.size = (int(image_size[0]), int(image_size[1]))
        self.window = int(window)
        self.box_from = box_from
        self.iterations = iterations
        self.cache, self.cache_dir = bool(cache), cache_dir
        self._pending: SOTSequence | None = None
        self._cached: np.ndarray | None = None  # (T, K, 4) base-tracker boxes of the current sequence
        self._t = 0
        self._trackers: list[Any] = []
        self._maps: deque[torch.Tensor] = deque(maxlen=self.window)
        self._box: np.ndarray | None = None
        self._frame_size = (0, 0)

    # -------------------------------------------------------------- helpers
    def _scale(self) -> np.ndarray:
        h, w = self._frame_size
        return np.array([self.size[1] / w, self.size[0] / h] * 2)

    @torch.no_grad()
    def _push(self, frame: np.ndarray, boxes: np.ndarray) -> None:
        """Channel maps of one frame ((K, 4) boxes in frame pixels) into the window."""
        img = cv2.resize(frame, (self.size[1], self.size[0]), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(img).to(self.device).permute(2, 0, 1).float().div_(255.0)
        b = torch.from_numpy((boxes * self._scale()).astype(np.float32)).to(self.device)
        k = b.shape[0]
        maps = torch.sigmoid(self.net.feat2seg_logits(x[None].expand(k, -1, -1, -1), b))
        self._maps.append(maps)  # (K, H, W)

    # -------------------------------------------------------------- protocol
    def begin_sequence(self, seq: SOTSequence) -> None:
        """Called by the SOT runner before ``init``: the next sequence is ``seq`` (read its cached boxes)."""
        self._pending = seq if self.cache else None

    def init(self, frame0: np.ndarray, box0: np.ndarray) -> None:
        """Start every base tracker on ``frame0`` ((H, W, 3) uint8 RGB) at ``box0`` ((4,) ``xyxy``)."""
        box = np.asarray(box0, np.float64).reshape(-1)
        if box.shape != (4,) or not np.isfinite(box).all() or box[2] <= box[0] or box[3] <= box[1]:
            raise ValueError(f"box0 must be 4 finite xyxy numbers with positive size, got {box0!r}")
        self._frame_size = frame0.shape[:2]
        seq, self._pending = self._pending, None
        self._cached, self._trackers, self._t = None, [], 0
        if seq is not None and np.array_equal(np.asarray(seq.boxes[0], np.float64), box):
            self._cached = np.stack(
                [tracker_outputs(src, seq, self.cache_dir).boxes for src in self.sources], 1
            )
        else:
            self._trackers = [s.build() for s in self.sources]
            for t in self._trackers:
                t.init(frame0, box)
        self._maps.clear()
        self._box = box.copy()
        self._push(frame0, np.repeat(box[None], len(self.sources), 0))

    @torch.no_grad()
    def step(self, frame: np.ndarray) -> SOTOutput:
        if self._box is None:
            raise RuntimeError("SFTrackTracker.step called before init")
        self._t += 1
        if self._cached is not None:
            if self._t >= len(self._cached):
                raise ValueError(
                    f"frame {self._t + 1} is past the {len(self._cached)} frames of the cached sequence"
                )
            boxes = self._cached[self._t]
        else:
            boxes = np.stack([np.asarray(t.step(frame).box, np.float64) for t in self._trackers])
        self._push(frame, boxes)
        maps = torch.stack(list(self._maps))[None]  # (1, T, K, H, W)
        refined = self.net.refine(maps, self.iterations)["refined"][0, -1]  # (H, W)
        if self.box_from == "seg2box":
            prob = torch.sigmoid(self.net.seg2box_logits(refined[None]))[0]
        else:
            prob = refined
        s = self.net.settings
        box = mask_to_box((prob > s.box_threshold).cpu().numpy(), s.box_mode)
        h, w = self._frame_size
        mask = cv2.resize(refined.cpu().numpy(), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
        if box is None:
            return SOTOutput(box=self._box.copy(), mask=mask, score=0.0)
        self._box = box / self._scale()
        return SOTOutput(box=self._box.copy(), mask=mask, score=float(prob.max()))

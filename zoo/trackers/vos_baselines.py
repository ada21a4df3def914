"""Two non-learned VOS baselines: copy the first frame's labels, or carry them along dense optical flow.

Both speak :class:`zoo.tasks.protocols.VOSTracker`: ``init(frame0, labels0)`` with an ``(H, W)`` uint8 mask
of object ids (0 = background) or ``(J, 2)`` float keypoints ``(x, y)`` in pixels (NaN or negative =
invisible), then ``step(frame)`` returns labels of the same kind for each later frame. Frames are
``(H, W, 3)`` uint8 RGB.

:class:`FlowWarp` computes OpenCV's Farneback flow (Farneback, "Two-Frame Motion Estimation Based on
Polynomial Expansion", SCIA 2003) between consecutive grayscale frames.
"""

from __future__ import annotations

import cv2
import numpy as np

from zoo.registry import register

MASK = "mask"
KEYPOINTS = "keypoints"

# Coordinate given to pixels whose source lies outside the first frame. Far enough outside the image that
# bilinear mixing with a valid neighbour still lands outside, so the final lookup returns background.
_OUTSIDE = np.float32(-1e5)


def _check_frame(frame: np.ndarray, what: str, size: tuple[int, int] | None = None) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        desc = f"{frame.dtype} array of shape {frame.shape}" if isinstance(frame, np.ndarray) else type(frame)
        raise ValueError(f"{what} must be an (H, W, 3) uint8 RGB array, got {desc}")
    if size is not None and frame.shape[:2] != size:
        raise ValueError(f"{what} has size {frame.shape[:2]}, but the first frame had {size}")


def check_labels(frame0: np.ndarray, labels0: np.ndarray) -> tuple[str, np.ndarray]:
    """Classify and normalise first-frame labels.

    Returns:
        ``("mask", (H, W) uint8 copy)`` for an integer/bool array of the frame's size, or
        ``("keypoints", (J, 2) float64 copy)`` for a floating ``(J, 2)`` array.

    Raises:
        ValueError: any other shape/dtype, or mask ids outside 0..255.
    """
    _check_frame(frame0, "frame0")
    labels = np.asarray(labels0)
    if labels.shape == frame0.shape[:2] and (
        labels.dtype == np.bool_ or np.issubdtype(labels.dtype, np.integer)
    ):
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError(f"mask ids must lie in 0..255, got {labels.min()}..{labels.max()}")
        return MASK, labels.astype(np.uint8, copy=True)
    if labels.ndim == 2 and labels.shape[1] == 2 and np.issubdtype(labels.dtype, np.floating):
        return KEYPOINTS, labels.astype(np.float64, copy=True)
    raise ValueError(
        f"labels0 must be an (H, W)={frame0.shape[:2]} integer mask or a (J, 2) float keypoint array, "
        f"got {labels.dtype} array of shape {labels.shape}"
    )


def visible_keypoints(points: np.ndarray) -> np.ndarray:
    """(J, 2) keypoints -> (J,) bool: both coordinates finite and non-negative."""
    return np.all(np.isfinite(points), axis=1) & np.all(points >= 0, axis=1)


def sample_bilinear(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinearly sample an (H, W, C) field at (J, 2) float ``(x, y)`` pixel positions -> (J, C) float64.

    Positions are clamped to the image, so a point on the last row/column reads that row/column.
    """
    h, w = field.shape[:2]
    x = np.clip(points[:, 0], 0.0, w - 1.0)
    y = np.clip(points[:, 1], 0.0, h - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.int64), w - 2) if w > 1 else np.zeros(len(x), np.int64)
    y0 = np.minimum(np.floor(y).astype(np.int64), h - 2) if h > 1 else np.zeros(len(y), np.int64)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    ax = (x - x0)[:, None]
    ay = (y - y0)[:, None]
    f = field.astype(np.float64, copy=False)
    top = f[y0, x0] * (1 - ax) + f[y0, x1] * ax
    bottom = f[y1, x0] * (1 - ax) + f[y1, x1] * ax
    return top * (1 - ay) + bottom * ay


@register("copy_first", task="vos", kind="baseline")
class CopyFirstMask:
    """Copy-first-mask baseline: every frame gets the first frame's labels (masks or keypoints) unchanged.

    It is the "no motion" floor every propagation method must beat.
    """

    def __init__(self) -> None:
        self._labels: np.ndarray | None = None
        self._size: tuple[int, int] | None = None

    def init(self, frame0: np.ndarray, labels0: np.ndarray) -> None:
        """Remember ``labels0`` ((H, W) uint8 mask or (J, 2) float keypoints) for ``frame0`` ((H, W, 3) uint8)."""
        _, self._labels = check_labels(frame0, labels0)
        self._size = frame0.shape[:2]

    def step(self, frame: np.ndarray) -> np.ndarray:
        """A copy of the first labels: (H, W) uint8 or (J, 2) float64."""
        if self._labels is None:
            raise RuntimeError("CopyFirstMask.step called before init")
        _check_frame(frame, "frame", self._size)
        return self._labels.copy()


@register("flow_warp", task="vos", kind="baseline")
class FlowWarp:
    """Optical-flow warping baseline: labels follow OpenCV Farneback flow between consecutive frames.

    Masks are warped backward. For each frame ``t`` the backward flow ``b_t`` (frame ``t`` -> ``t-1``) gives,
    for every pixel ``x``, where it was one frame earlier; the tracker keeps the composed map
    ``phi_t(x) = phi_{t-1}(x + b_t(x))`` (bilinear in the coordinates) from frame ``t`` to the first frame and
    returns ``labels0(phi_t(x))`` with nearest lookup. Composing coordinates instead of re-warping the last
    hard mask keeps sub-pixel motion: re-warping a label map with nearest rounds every frame's displacement,
    so a target moving 0.4 px/frame would never move. Pixels whose source left the image (new content at
    the borders) become background.

    Keypoints move forward: ``p_t = p_{t-1} + f_t(p_{t-1})`` with the forward flow ``f_t`` (``t-1`` -> ``t``)
    sampled bilinearly. Invisible keypoints (NaN or negative) are returned unchanged; a keypoint carried
    outside the image is lost and returned as ``(-1, -1)``.

    Args:
        pyr_scale, levels, winsize, iterations, poly_n, poly_sigma: ``cv2.calcOpticalFlowFarneback``
            parameters (image-pyramid scale < 1, number of extra pyramid levels, averaging window in
            pixels, iterations per level, pixel-neighbourhood size for the polynomial expansion and its
            Gaussian sigma). Defaults are OpenCV's documented example values.
        gaussian_window: use a Gaussian instead of a box averaging window (``OPTFLOW_FARNEBACK_GAUSSIAN``).
    """

    def __init__(
        self,
        pyr_scale: float = 0.5,
        levels: int = 3,
        winsize: int = 15,
        iterations: int = 3,
        poly_n: int = 5,
        poly_sigma: float = 1.2,
        gaussian_window: bool = False,
    ) -> None:
        if not 0.0 < pyr_scale < 1.0:
            raise ValueError(f"pyr_scale must lie in (0, 1), got {pyr_scale}")
        if levels < 1 or winsize < 1 or iterations < 1 or poly_n < 1 or poly_sigma <= 0:
            raise ValueError(
                "levels, winsize, iterations, poly_n must be >= 1 and poly_sigma > 0, got "
                f"{levels=}, {winsize=}, {iterations=}, {poly_n=}, {poly_sigma=}"
            )
        self.pyr_scale = float(pyr_scale)
        self.levels = int(levels)
        self.winsize = int(winsize)
        self.iterations = int(iterations)
        self.poly_n = int(poly_n)
        self.poly_sigma = float(poly_sigma)
        self.gaussian_window = bool(gaussian_window)
        self._mode: str | None = None
        self._prev: np.ndarray | None = None
        self._labels0: np.ndarray | None = None
        self._grid: np.ndarray | None = None
        self._phi: np.ndarray | None = None
        self._points: np.ndarray | None = None

    def flow(self, src_gray: np.ndarray, dst_gray: np.ndarray) -> np.ndarray:
        """Dense flow from ``src`` to ``dst`` ((H, W) uint8): (H, W, 2) float32 ``(dx, dy)`` pixels with
        ``src(x) ~ dst(x + flow(x))``."""
        flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN if self.gaussian_window else 0
        return cv2.calcOpticalFlowFarneback(
            src_gray,
            dst_gray,
            None,
            self.pyr_scale,
            self.levels,
            self.winsize,
            self.iterations,
            self.poly_n,
            self.poly_sigma,
            flags,
        )

    def init(self, frame0: np.ndarray, labels0: np.ndarray) -> None:
        """Start from ``frame0`` ((H, W, 3) uint8 RGB) and its labels ((H, W) uint8 mask or (J, 2) keypoints)."""
        self._mode, labels = check_labels(frame0, labels0)
        self._prev = cv2.cvtColor(frame0, cv2.COLOR_RGB2GRAY)
        if self._mode == MASK:
            h, w = labels.shape
            xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            self._grid = np.stack([xs, ys], axis=-1)
            self._phi = self._grid.copy()
            self._labels0 = labels
            self._points = None
        else:
            self._points = labels
            self._labels0 = self._grid = self._phi = None

    def step(self, frame: np.ndarray) -> np.ndarray:
        """Labels for the next frame ((H, W, 3) uint8 RGB): (H, W) uint8 mask or (J, 2) float64 keypoints."""
        if self._prev is None:
            raise RuntimeError("FlowWarp.step called before init")
        _check_frame(frame, "frame", self._prev.shape)
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        out = self._step_mask(gray) if self._mode == MASK else self._step_keypoints(gray)
        self._prev = gray
        return out

    def _step_mask(self, gray: np.ndarray) -> np.ndarray:
        assert self._grid is not None and self._phi is not None and self._labels0 is not None
        back = self._grid + self.flow(gray, self._prev)
        # cv2.remap interpolates with 1/32-pixel weights; the resulting error is far below a pixel even
        # after hundreds of frames, and it is ~50x faster than exact numpy gathers at 480p.
        self._phi = cv2.remap(
            self._phi,
            back[..., 0],
            back[..., 1],
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(float(_OUTSIDE), float(_OUTSIDE)),
        )
        return cv2.remap(
            self._labels0,
            self._phi[..., 0],
            self._phi[..., 1],
            interpolation=cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )

    def _step_keypoints(self, gray: np.ndarray) -> np.ndarray:
        assert self._points is not None
        points = self._points.copy()
        vis = visible_keypoints(points)
        if vis.any():
            moved = points[vis] + sample_bilinear(self.flow(self._prev, gray), points[vis])
            h, w = gray.shape
            inside = (moved[:, 0] <= w - 1) & (moved[:, 1] <= h - 1) & np.all(moved >= 0, axis=1)
            moved[~inside] = -1.0
            points[vis] = moved
        self._points = points
        return points.copy()

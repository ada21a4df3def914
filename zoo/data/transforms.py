"""albumentations pipelines for clips: ONE random draw applied to every frame, boxes, masks and keypoints.

A clip goes through albumentations' video inputs in a single call: frames as ``images`` (T, H, W, 3),
masks as ``masks`` (T, H, W), and the boxes / keypoints of ALL frames concatenated into one list with the
frame index as a label field. Every transform draws its parameters once per call, so all frames get the
same crop, scale, flip and colour change and the annotations stay consistent with the pixels. For inputs of
different sizes (SOT template and search crops), call the same transform with the same ``seed``: the
photometric and flip transforms used there draw the same parameters whatever the image size.

Geometric presets use only resizing, padding, cropping, flipping and axis-aligned scaling/translation,
under which a box stays the bounding box of its object (rotation would inflate boxes, so none is used).

SOT crops (template/search regions around a box) are plain affine crops done with OpenCV here
(:func:`crop_region`), before the photometric pipeline.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import albumentations as A
import albumentations.augmentations.pixel.functional as _afp
import cv2
import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PAD_FILL = 114  # grey padding (YOLOX/ByteTrack letterbox convention)

ResizeMode = Literal["letterbox", "resize", "crop"]


@dataclass
class TransformedClip:
    """A clip after one augmentation draw.

    Attributes:
        images: (T, 3, H, W) float32; ImageNet-normalised, or raw RGB in [0, 1] when ``normalize=False``.
        boxes: per frame, (N_t, 4) float32 ``xyxy`` pixels in the transformed image (clipped to it).
        box_index: per frame, (N_t,) int64 row of each kept box in that frame's input boxes (boxes that
            left the image or fell under the area/visibility limits are dropped), to gather ids or scores.
        masks: (T, H, W) int64 label maps, or None.
        keypoints: (T, J, 2) float32 ``(x, y)`` pixels, or None.
        keypoints_visible: (T, J) bool, False where the input was invisible or the point left the image.
    """

    images: torch.Tensor
    boxes: list[torch.Tensor]
    box_index: list[torch.Tensor]
    masks: torch.Tensor | None = None
    keypoints: torch.Tensor | None = None
    keypoints_visible: torch.Tensor | None = None


def to_tensor(
    frames: np.ndarray,
    normalize: bool = True,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """(T, H, W, 3) uint8 RGB -> (T, 3, H, W) float32, in [0, 1] then ``(x - mean) / std`` if normalising."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    # reorder while still uint8 (4x less memory traffic), then one scale and one shift on contiguous NCHW:
    # about 3x faster than normalising a permuted (channels-last strided) float tensor
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).contiguous().float()
    if not normalize:
        return x.mul_(1.0 / 255.0)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    return x.mul_(1.0 / (255.0 * std_t)).sub_(mean_t / std_t)


class ClipTransform:
    """Apply one draw of an albumentations pipeline to all frames of a clip and return tensors.

    Args:
        ops: albumentations transforms, applied in order (geometric and photometric).
        normalize: ImageNet mean/std normalisation (False: raw RGB in [0, 1], e.g. for DMP's Lab input).
        mean, std: per-channel statistics in [0, 1] units.
        min_visibility: drop a box when less than this fraction of its area stays inside the image.
        min_area: drop a box whose area in the output is below this many pixels.
    """

    def __init__(
        self,
        ops: Sequence[A.BasicTransform],
        *,
        normalize: bool = True,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        min_visibility: float = 0.0,
        min_area: float = 1.0,
    ) -> None:
        self.normalize = normalize
        self.mean = tuple(float(v) for v in mean)
        self.std = tuple(float(v) for v in std)
        with warnings.catch_warnings():
            # photometric-only pipelines have no geometric op for the box/keypoint processors: harmless
            warnings.filterwarnings("ignore", message="Got processor for", category=UserWarning)
            self.compose = self._build(ops, min_visibility, min_area)

    @staticmethod
    def _build(ops: Sequence[A.BasicTransform], min_visibility: float, min_area: float) -> A.Compose:
        return A.Compose(
            list(ops),
            bbox_params=A.BboxParams(
                format="pascal_voc",
                label_fields=["box_frame", "box_row"],
                min_visibility=min_visibility,
                min_area=min_area,
                clip=True,
            ),
            keypoint_params=A.KeypointParams(format="xy", label_fields=["kp_frame"], remove_invisible=False),
        )

    def __call__(
        self,
        frames: np.ndarray | Sequence[np.ndarray],
        boxes: Sequence[np.ndarray] | None = None,
        masks: np.ndarray | None = None,
        keypoints: np.ndarray | None = None,
        seed: int | None = None,
    ) -> TransformedClip:
        """Transform a clip.

        Args:
            frames: (T, H, W, 3) uint8 RGB (or a list of T such frames of equal size).
            boxes: per frame, (N_t, 4) ``xyxy`` pixels (0-based); None for no boxes.
            masks: (T, H, W) integer label maps (0 = background), or None.
            keypoints: (T, J, 2) ``(x, y)`` continuous pixel coordinates like boxes (the centre of pixel
                (i, j) is (i + 0.5, j + 0.5)), NaN (or negative) for invisible joints, or None.
            seed: reseed the pipeline first, so equal seeds give equal draws (pairs of different sizes).
        """
        images = np.ascontiguousarray(np.stack(frames) if not isinstance(frames, np.ndarray) else frames)
        t = images.shape[0]
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"frames must be (T, H, W, 3) uint8, got {images.shape} {images.dtype}")
        if seed is not None:
            self.compose.set_random_seed(seed)
        data: dict = {"images": images}

        h, w = images.shape[1:3]
        if boxes is not None:
            if len(boxes) != t:
                raise ValueError(f"boxes must hold one array per frame ({t}), got {len(boxes)}")
            flat = [np.asarray(b, np.float64).reshape(-1, 4) for b in boxes]
            allb = np.concatenate(flat) if flat else np.zeros((0, 4))
            frame_of = np.repeat(np.arange(t), [len(b) for b in flat])
            row_of = np.concatenate([np.arange(len(b)) for b in flat]) if flat else np.zeros(0, np.int64)
            # boxes wholly outside the frame or degenerate would make albumentations raise: drop them here
            x0, y0 = np.clip(allb[:, 0], 0, w), np.clip(allb[:, 1], 0, h)
            x1, y1 = np.clip(allb[:, 2], 0, w), np.clip(allb[:, 3], 0, h)
            ok = (x1 > x0) & (y1 > y0) & np.isfinite(allb).all(1)
            data["bboxes"] = allb[ok]
            data["box_frame"] = frame_of[ok]
            data["box_row"] = row_of[ok]
        else:
            data["bboxes"] = np.zeros((0, 4))
            data["box_frame"] = np.zeros(0, np.int64)
            data["box_row"] = np.zeros(0, np.int64)

        if masks is not None:
            masks = np.asarray(masks)
            if masks.shape != images.shape[:3]:
                raise ValueError(f"masks must be (T, H, W) = {images.shape[:3]}, got {masks.shape}")
            data["masks"] = np.ascontiguousarray(
                masks.astype(np.uint8) if masks.max(initial=0) < 256 else masks
            )

        if keypoints is not None:
            kp = np.asarray(keypoints, np.float64)
            if kp.ndim != 3 or kp.shape[0] != t or kp.shape[2] != 2:
                raise ValueError(f"keypoints must be (T, J, 2) with T = {t}, got {kp.shape}")
            vis_in = np.isfinite(kp).all(-1) & (kp >= 0).all(-1)
            # albumentations cannot carry NaN: park invisible joints at the origin, keep the flag aside
            data["keypoints"] = np.where(vis_in[..., None], kp, 0.0).reshape(-1, 2)
            data["kp_frame"] = np.repeat(np.arange(t), kp.shape[1])
        else:
            data["keypoints"] = np.zeros((0, 2))
            data["kp_frame"] = np.zeros(0, np.int64)

        out = self.compose(**data)
        imgs = np.asarray(out["images"])
        oh, ow = imgs.shape[1:3]

        ob = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
        of = np.asarray(out["box_frame"], np.int64).reshape(-1)
        orow = np.asarray(out["box_row"], np.int64).reshape(-1)
        order = np.lexsort((orow, of))
        ob, of, orow = ob[order], of[order], orow[order]
        split = np.searchsorted(of, np.arange(1, t))
        res_boxes = [torch.from_numpy(np.ascontiguousarray(b)) for b in np.split(ob, split)]
        res_index = [torch.from_numpy(np.ascontiguousarray(r)) for r in np.split(orow, split)]

        res_masks = None
        if masks is not None:
            res_masks = torch.from_numpy(np.asarray(out["masks"]).astype(np.int64))

        res_kp = res_vis = None
        if keypoints is not None:
            okp = np.asarray(out["keypoints"], np.float32)[:, :2].reshape(t, -1, 2)
            inside = (okp[..., 0] >= 0) & (okp[..., 0] < ow) & (okp[..., 1] >= 0) & (okp[..., 1] < oh)
            res_kp = torch.from_numpy(okp)
            res_vis = torch.from_numpy(vis_in & inside)

        return TransformedClip(
            images=to_tensor(imgs, self.normalize, self.mean, self.std),
            boxes=res_boxes,
            box_index=res_index,
            masks=res_masks,
            keypoints=res_kp,
            keypoints_visible=res_vis,
        )


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = (int(v) for v in size)
    return h, w


class RandomFit(A.DualTransform):
    """Fit a frame to (H, W) by ``letterbox`` (keep aspect, grey pad bottom/right) or ``resize`` (stretch),
    optionally followed by a random axis-aligned scale about the output centre and a random shift.

    The whole map is ONE affine warp, so masks are resampled once (nearest) and stay within half a pixel
    of the exactly transformed boxes and keypoints; chaining resize, pad and affine ops would resample
    masks repeatedly and let the errors add up.

    Args:
        size: output (H, W).
        mode: ``letterbox`` or ``resize``.
        scale: (lo, hi) range of the random scale factor, or None for no jitter (deterministic fit).
        translate: random shift as a fraction of the output size, each axis in [-translate, translate].
        jitter_p: probability of drawing the random scale/shift for a call.
        fill: grey level of the padding; masks are padded with 0.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        mode: Literal["letterbox", "resize"] = "letterbox",
        scale: Sequence[float] | None = None,
        translate: float = 0.0,
        jitter_p: float = 0.5,
        fill: int = PAD_FILL,
    ) -> None:
        super().__init__(p=1.0)
        if mode not in ("letterbox", "resize"):
            raise ValueError(f"unknown resize mode {mode!r}; use 'letterbox' or 'resize'")
        self.size = _size(size)
        self.mode = mode
        self.scale = None if scale is None else (float(scale[0]), float(scale[1]))
        self.translate = float(translate)
        self.jitter_p = float(jitter_p)
        self.fill = fill

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("size", "mode", "scale", "translate", "jitter_p", "fill")

    def get_params_dependent_on_data(self, params: dict, data: dict) -> dict:
        h, w = params["shape"][:2]
        oh, ow = self.size
        sx, sy = ow / w, oh / h
        if self.mode == "letterbox":
            sx = sy = min(sx, sy)
        # continuous coordinates: out = a * in + b per axis
        ax, ay, bx, by = sx, sy, 0.0, 0.0
        if self.scale is not None and self.py_random.random() < self.jitter_p:
            k = self.py_random.uniform(*self.scale)
            tx = self.py_random.uniform(-self.translate, self.translate) * ow
            ty = self.py_random.uniform(-self.translate, self.translate) * oh
            # scale about the output centre, then shift
            ax, ay = ax * k, ay * k
            bx = (1 - k) * ow / 2 + tx
            by = (1 - k) * oh / 2 + ty
        return {"fit": (ax, ay, bx, by), "in_hw": (h, w)}

    def _warp(self, img: np.ndarray, fit: tuple, interp: int, fill: float | tuple) -> np.ndarray:
        ax, ay, bx, by = fit
        # cv2 works on pixel indices (centres at continuous i + 0.5)
        m = np.array([[ax, 0.0, bx + 0.5 * ax - 0.5], [0.0, ay, by + 0.5 * ay - 0.5]])
        oh, ow = self.size
        out = cv2.warpAffine(img, m, (ow, oh), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
        return out.reshape(oh, ow, *img.shape[2:])

    def apply(self, img: np.ndarray, fit: tuple = (1.0, 1.0, 0.0, 0.0), **params) -> np.ndarray:
        fill = (self.fill,) * (img.shape[2] if img.ndim == 3 else 1)
        return self._warp(img, fit, cv2.INTER_LINEAR, fill)

    def apply_to_mask(self, mask: np.ndarray, fit: tuple = (1.0, 1.0, 0.0, 0.0), **params) -> np.ndarray:
        return self._warp(mask, fit, cv2.INTER_NEAREST, 0)

    def apply_to_bboxes(self, bboxes: np.ndarray, fit: tuple = (1.0, 1.0, 0.0, 0.0), in_hw=(1, 1), **params):
        # albumentations keeps boxes normalised by the current image size
        ax, ay, bx, by = fit
        h, w = in_hw
        oh, ow = self.size
        out = bboxes.copy()
        out[:, [0, 2]] = (bboxes[:, [0, 2]] * w * ax + bx) / ow
        out[:, [1, 3]] = (bboxes[:, [1, 3]] * h * ay + by) / oh
        return out

    def apply_to_keypoints(self, keypoints: np.ndarray, fit: tuple = (1.0, 1.0, 0.0, 0.0), **params):
        ax, ay, bx, by = fit
        out = keypoints.copy()
        out[:, 0] = keypoints[:, 0] * ax + bx
        out[:, 1] = keypoints[:, 1] * ay + by
        return out


class HorizontalFlip(A.HorizontalFlip):
    """Horizontal flip whose keypoints follow the box convention (continuous: ``x -> W - x``).

    albumentations flips keypoints as pixel indices (``x -> W - 1 - x``) but scales them as continuous
    coordinates; using the continuous rule everywhere keeps keypoints and boxes consistent.
    """

    def apply_to_keypoints(self, keypoints: np.ndarray, **params) -> np.ndarray:
        out = super().apply_to_keypoints(keypoints, **params)
        out[:, 0] = params["shape"][1] - keypoints[:, 0]
        return out


def resize_ops(size: int | Sequence[int], mode: ResizeMode = "letterbox", fill: int = PAD_FILL) -> list:
    """Deterministic geometry to (H, W): ``letterbox`` (keep aspect, pad bottom/right with grey) or
    ``resize`` (stretch)."""
    if mode == "crop":
        raise ValueError("resize mode 'crop' is random: use train_transform(mode='crop')")
    return [RandomFit(size, mode, fill=fill)]


def shift_hue(img: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue of an (H, W, 3) RGB image by ``factor`` turns (torchvision's ``adjust_hue``).

    uint8 images go through OpenCV's float32 HSV conversion and are rounded back. OpenCV 5.1's uint8
    ``COLOR_HSV2RGB`` rounds the first 64 pixels of every row differently from the rest (its SIMD and scalar
    paths disagree by 1/255 on about three colours in four; 4.x and 5.0 agree), so the uint8 path would
    make a flat colour patch non-flat and give one colour draw different results on crops of different
    widths. The float path is the same at every pixel in every OpenCV release we lock or test.
    """
    if factor == 0 or img.ndim != 3 or img.shape[-1] != 3:
        return img
    if img.dtype != np.uint8:
        return _afp.adjust_hue_torchvision(img, factor)
    hsv = cv2.cvtColor(img.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2HSV)  # H in degrees
    hsv[..., 0] = np.mod(hsv[..., 0] + np.float32(factor * 360.0), np.float32(360.0))
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(np.rint(rgb * np.float32(255)), 0, 255).astype(np.uint8)


class ColorJitter(A.ColorJitter):
    """albumentations' ``ColorJitter`` (same parameters, draws and order of operations) whose hue step is
    :func:`shift_hue`: the result at a pixel depends only on that pixel's colour and the draw, never on its
    position or the image size."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.transforms = [*self.transforms[:3], shift_hue]


def color_ops(strength: float, p: float = 0.8) -> list:
    """Colour jitter of ``strength`` (brightness/contrast/saturation, hue at a quarter of it); none at 0."""
    if strength <= 0:
        return []
    return [ColorJitter(strength, strength, strength, min(0.5, strength / 4), p=p)]


def train_transform(
    size: int | Sequence[int],
    *,
    mode: ResizeMode = "letterbox",
    hflip: float = 0.5,
    color_jitter: float = 0.2,
    scale: Sequence[float] | None = (0.8, 1.2),
    translate: float = 0.1,
    crop_scale: Sequence[float] = (0.3, 1.0),
    normalize: bool = True,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    min_visibility: float = 0.2,
) -> ClipTransform:
    """Training pipeline for whole frames (MOT groups, VOS/SOT clips).

    Args:
        size: output (H, W) (an int for square).
        mode: ``letterbox``/``resize`` to the size, then a random axis-aligned affine (``scale`` range,
            ``translate`` fraction, grey fill); or ``crop``: a random resized crop covering ``crop_scale``
            of the frame area (self-supervised video clips).
        hflip: probability of a horizontal flip.
        color_jitter: colour-jitter strength (0 disables).
        normalize, mean, std: see :class:`ClipTransform`.
        min_visibility: boxes keeping less of their area in the output are dropped.
    """
    h, w = _size(size)
    if mode == "crop":
        # centre-aligned nearest for masks: plain INTER_NEAREST shifts masks by up to half a source pixel
        ops: list = [
            A.RandomResizedCrop(
                size=(h, w), scale=tuple(crop_scale), mask_interpolation=cv2.INTER_NEAREST_EXACT
            )
        ]
    else:
        ops = [RandomFit((h, w), mode, scale=scale, translate=translate)]
    if hflip > 0:
        ops.append(HorizontalFlip(p=hflip))
    ops += color_ops(color_jitter)
    return ClipTransform(ops, normalize=normalize, mean=mean, std=std, min_visibility=min_visibility)


def eval_transform(
    size: int | Sequence[int],
    *,
    mode: ResizeMode = "letterbox",
    normalize: bool = True,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> ClipTransform:
    """Deterministic evaluation pipeline: letterbox/resize to ``size`` and normalise.

    Map boxes back with :func:`letterbox_scale` (letterbox: divide by the scale; padding is bottom/right).
    """
    return ClipTransform(resize_ops(size, mode), normalize=normalize, mean=mean, std=std, min_visibility=0.0)


def photometric_transform(
    *,
    hflip: float = 0.5,
    color_jitter: float = 0.2,
    normalize: bool = True,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> ClipTransform:
    """Flip + colour only (no geometry): for SOT template/search crops, whose draws depend on no image
    size, so calling it with the same ``seed`` on both crops applies one draw to the pair."""
    ops: list = [HorizontalFlip(p=hflip)] if hflip > 0 else []
    ops += color_ops(color_jitter)
    return ClipTransform(ops, normalize=normalize, mean=mean, std=std, min_visibility=0.0)


def letterbox_scale(image_hw: Sequence[int], size: int | Sequence[int]) -> float:
    """Scale factor that :func:`resize_ops` ``letterbox`` applies to an image of (H, W) ``image_hw``."""
    h, w = _size(size)
    return min(h / image_hw[0], w / image_hw[1])


# ---- SOT crops ---------------------------------------------------------------------------------------
def context_side(box: np.ndarray, context: float = 0.5) -> float:
    """SiamFC-style crop side of an ``xyxy`` box: ``sqrt((w + c (w + h)) (h + c (w + h)))``, pixels."""
    w = float(box[2] - box[0])
    h = float(box[3] - box[1])
    pad = context * (w + h)
    return float(np.sqrt(max(w + pad, 1e-6) * max(h + pad, 1e-6)))


@dataclass
class CropGeometry:
    """Map from frame pixels to a square crop: ``crop = (frame - (x0, y0)) * scale``.

    Attributes:
        x0, y0: frame coordinates of the crop's top-left corner (may be outside the frame).
        scale: output pixels per frame pixel.
    """

    x0: float
    y0: float
    scale: float

    def boxes_to_crop(self, boxes: np.ndarray) -> np.ndarray:
        """(..., 4) frame ``xyxy`` -> crop ``xyxy``."""
        off = np.array([self.x0, self.y0, self.x0, self.y0])
        return (np.asarray(boxes, np.float64) - off) * self.scale

    def boxes_to_frame(self, boxes: np.ndarray) -> np.ndarray:
        """(..., 4) crop ``xyxy`` -> frame ``xyxy``."""
        off = np.array([self.x0, self.y0, self.x0, self.y0])
        return np.asarray(boxes, np.float64) / self.scale + off


def crop_region(
    frame: np.ndarray,
    center: Sequence[float],
    side: float,
    out_size: int,
    mask: np.ndarray | None = None,
    fill: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, CropGeometry]:
    """Square crop of ``side`` frame pixels centred at ``center`` (x, y), resized to ``out_size``.

    Args:
        frame: (H, W, 3) uint8 RGB.
        center: crop centre in frame pixels (continuous coordinates, pixel centres at +0.5).
        side: crop side in frame pixels (> 0).
        out_size: output side in pixels.
        mask: optional (H, W) integer mask, cropped with nearest-neighbour sampling.
        fill: padding colour where the crop leaves the frame (default: the frame's mean colour).

    Returns:
        ``(crop (out_size, out_size, 3) uint8, mask crop (out_size, out_size) or None, geometry)``.
    """
    if side <= 0 or not np.isfinite(side):
        raise ValueError(f"crop side must be a positive number of pixels, got {side}")
    scale = out_size / side
    x0 = float(center[0]) - side / 2
    y0 = float(center[1]) - side / 2
    # continuous coords: crop pixel u covers frame [x0 + u/scale, ...]; warpAffine maps pixel centres
    m = np.array(
        [[scale, 0.0, -x0 * scale + 0.5 * scale - 0.5], [0.0, scale, -y0 * scale + 0.5 * scale - 0.5]]
    )
    if fill is None:
        fill = cv2.mean(frame)[:3]  # numpy's axis-0 mean over (H*W, 3) uint8 is ~20x slower
    crop = cv2.warpAffine(
        frame,
        m,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(v) for v in fill),
    )
    mcrop = None
    if mask is not None:
        src = mask.astype(np.uint8) if mask.max(initial=0) < 256 else mask.astype(np.int32)
        mcrop = cv2.warpAffine(
            src,
            m,
            (out_size, out_size),
            flags=cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
    return crop, mcrop, CropGeometry(x0, y0, scale)


def mask_boxes(masks: np.ndarray | torch.Tensor, label: int = 1) -> np.ndarray:
    """(T, H, W) label maps -> (T, 4) float64 ``xyxy`` tight boxes of ``label`` (NaN rows where absent).

    Pixel (x, y) covers [x, x + 1) x [y, y + 1), so a mask spanning columns a..b gives x0 = a, x1 = b + 1.
    """
    m = np.asarray(masks) == label
    out = np.full((m.shape[0], 4), np.nan)
    cols, rows = m.any(1), m.any(2)
    has = cols.any(1)
    w, h = m.shape[2], m.shape[1]
    out[has, 0] = cols[has].argmax(1)
    out[has, 2] = w - cols[has][:, ::-1].argmax(1)
    out[has, 1] = rows[has].argmax(1)
    out[has, 3] = h - rows[has][:, ::-1].argmax(1)
    return out

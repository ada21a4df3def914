"""sRGB <-> CIE L*a*b* colour conversion for tensors — the zoo's one implementation.

Conventions match OpenCV's ``COLOR_RGB2Lab`` for float images: sRGB transfer curve with its linear segment
(knee at 0.04045 / 0.0031308), the sRGB -> XYZ matrix for D65 with OpenCV's coefficients, and the D65 white
point taken as that matrix applied to RGB = (1, 1, 1) so white maps to exactly (100, 0, 0). ``L`` is in
[0, 100]; ``a`` and ``b`` lie roughly in [-128, 127] for in-gamut colours.

Both directions are batched over any leading dims (channel axis -3), preserve dtype and device (float16 /
bfloat16 are computed in float32 and cast back), and are differentiable: there are no in-place ops, and each
power is evaluated only on values clamped to its own side of the knee, so gradients stay finite at 0 and
at the knees (a bare ``t ** (1/3)`` would give an infinite derivative at 0 that ``torch.where`` turns into
NaN).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["lab_to_rgb", "rgb_to_lab"]

# Linear sRGB -> CIE XYZ (D65), the coefficients OpenCV uses.
_RGB2XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_XYZ2RGB = np.linalg.inv(_RGB2XYZ)  # exact inverse (not OpenCV's rounded one) so round trips are tight
_WHITE = _RGB2XYZ.sum(axis=1)  # D65 white (0.950456, 1.0, 1.088754)

_DELTA = 6.0 / 29.0  # CIE f(t) knee: t = delta^3 ~ 0.008856
_SRGB_KNEE = 0.04045  # encoded value where the sRGB curve switches from linear to power
_LIN_KNEE = 0.0031308  # the same knee in linear light


def _work_dtype(x: torch.Tensor) -> torch.dtype:
    if not x.is_floating_point():
        raise TypeError(f"expected a floating-point tensor, got {x.dtype}")
    if x.ndim < 3 or x.shape[-3] != 3:
        raise ValueError(f"expected shape (..., 3, H, W), got {tuple(x.shape)}")
    return x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32


def _mix(matrix: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    """Apply a 3x3 colour matrix along the channel axis (-3)."""
    m = torch.as_tensor(matrix, dtype=x.dtype, device=x.device)
    return torch.einsum("ij,...jhw->...ihw", m, x)


def _channel_scale(values: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(values, dtype=x.dtype, device=x.device).view(3, 1, 1)


def _srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    power = ((c.clamp(min=_SRGB_KNEE) + 0.055) / 1.055) ** 2.4
    return torch.where(c > _SRGB_KNEE, power, c / 12.92)


def _linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    power = 1.055 * c.clamp(min=_LIN_KNEE) ** (1.0 / 2.4) - 0.055
    return torch.where(c > _LIN_KNEE, power, c * 12.92)


def _f(t: torch.Tensor) -> torch.Tensor:
    cube_root = t.clamp(min=_DELTA**3) ** (1.0 / 3.0)
    return torch.where(t > _DELTA**3, cube_root, t / (3 * _DELTA**2) + 4.0 / 29.0)


def _f_inv(f: torch.Tensor) -> torch.Tensor:
    return torch.where(f > _DELTA, f.clamp(min=_DELTA) ** 3, 3 * _DELTA**2 * (f - 4.0 / 29.0))


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB -> CIE Lab (D65).

    Args:
        rgb: (..., 3, H, W) float, gamma-encoded sRGB in [0, 1] (values outside are extrapolated).

    Returns:
        (..., 3, H, W) ``(L, a, b)``, L in [0, 100], same dtype and device.
    """
    dtype = _work_dtype(rgb)
    x = rgb.to(dtype)
    xyz = _mix(_RGB2XYZ, _srgb_to_linear(x)) / _channel_scale(_WHITE, x)
    f = _f(xyz)
    fx, fy, fz = f[..., 0, :, :], f[..., 1, :, :], f[..., 2, :, :]
    lab = torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-3)
    return lab.to(rgb.dtype)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """CIE Lab (D65) -> sRGB, the inverse of :func:`rgb_to_lab`.

    Args:
        lab: (..., 3, H, W) float ``(L, a, b)``.

    Returns:
        (..., 3, H, W) gamma-encoded sRGB, same dtype and device. Not clipped: out-of-gamut Lab colours
        give values outside [0, 1] (clamp them if an image is needed; clipping would zero the gradient).
    """
    dtype = _work_dtype(lab)
    x = lab.to(dtype)
    fy = (x[..., 0, :, :] + 16.0) / 116.0
    fx = fy + x[..., 1, :, :] / 500.0
    fz = fy - x[..., 2, :, :] / 200.0
    xyz = _f_inv(torch.stack([fx, fy, fz], dim=-3)) * _channel_scale(_WHITE, x)
    return _linear_to_srgb(_mix(_XYZ2RGB, xyz)).to(lab.dtype)

"""SFSeg's spectral step (Eq. 1 of SFTrack++): power iteration on the space-time pixel graph by 3-D filtering.

The graph's nodes are the pixels of a video volume ``(T, H, W)``; its adjacency is

    M_ij = S_i^p S_j^p G(i - j) (1/alpha - (F_i - F_j)^2)

(``G`` a normalised 3-D Gaussian over (time, y, x), ``S`` the unary map, ``F`` the pairwise feature map).
Expanding ``(F_i - F_j)^2 = F_i^2 - 2 F_i F_j + F_j^2`` gives, for ``Y = M X``,

    Y = S^p (1/alpha - F^2) G*(S^p X) - S^p G*(F^2 S^p X) + 2 S^p F G*(F S^p X)

so one power-iteration step costs three Gaussian filterings of the volume, linear in its size, and ``M``
(``(THW)^2`` entries) is never formed. The filtering pads with zeros, which is exactly ``M`` restricted to
the nodes inside the volume (``temporal_padding="replicate"`` pads time by repeating the end frames
instead, for short windows; that is a different graph and is documented as such).

All maps are float tensors shaped ``(B, T, H, W)``; values of ``S`` and ``F`` lie in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

__all__ = [
    "SpectralSettings",
    "adjacency_product",
    "explicit_adjacency",
    "gaussian_kernel_1d",
    "gaussian_kernel_3d",
    "gaussian_filter_3d",
    "normalize_per_frame",
    "spectral_refine",
]

TemporalPadding = Literal["zeros", "replicate"]


@dataclass(frozen=True)
class SpectralSettings:
    """Constants of Eq. 1.

    Attributes:
        kernel: Gaussian kernel size (kt, kh, kw), odd; std (k - 1) / 4 per axis. SFSeg: (5, 5, 5);
            SFTrack++ phase 2: (3, 5, 5).
        p: exponent of the unary map (SFSeg 0.5, SFTrack++ 0.1).
        alpha: weight of the pairwise term (SFSeg 1, SFTrack++ 0.5); ``1/alpha >= 1`` keeps ``M >= 0``
            for ``F`` in [0, 1].
        iterations: power-iteration steps (SFSeg 10, SFTrack++ 1-2; 0 turns the step off).
        temporal_padding: ``zeros`` (exactly ``M`` on the window) or ``replicate`` (end frames repeated).
        eps: guards the per-frame L2 and min-max divisions.
    """

    kernel: tuple[int, int, int] = (3, 5, 5)
    p: float = 0.1
    alpha: float = 0.5
    iterations: int = 2
    temporal_padding: TemporalPadding = "zeros"
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if len(self.kernel) != 3 or any(int(k) < 1 or int(k) % 2 == 0 for k in self.kernel):
            raise ValueError(f"spectral kernel must be three odd sizes (kt, kh, kw), got {self.kernel}")
        if self.alpha <= 0:
            raise ValueError(f"spectral alpha must be > 0, got {self.alpha}")
        if self.iterations < 0:
            raise ValueError(f"spectral iterations must be >= 0, got {self.iterations}")
        if self.temporal_padding not in ("zeros", "replicate"):
            raise ValueError(
                f"temporal_padding must be 'zeros' or 'replicate', got {self.temporal_padding!r}"
            )


def gaussian_kernel_1d(size: int, *, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """(size,) Gaussian with std ``(size - 1) / 4``, summing to 1 (a delta for ``size == 1``)."""
    size = int(size)
    if size < 1 or size % 2 == 0:
        raise ValueError(f"Gaussian kernel size must be odd and >= 1, got {size}")
    if size == 1:
        return torch.ones(1, dtype=dtype, device=device)
    sigma = (size - 1) / 4.0
    x = torch.arange(size, dtype=torch.float64, device=device) - (size - 1) / 2
    g = torch.exp(-0.5 * (x / sigma) ** 2)
    return (g / g.sum()).to(dtype)


def gaussian_kernel_3d(
    kernel: Sequence[int], *, dtype: torch.dtype = torch.float32, device=None
) -> torch.Tensor:
    """(kt, kh, kw) separable Gaussian, the outer product of the per-axis kernels; sums to 1."""
    gt, gy, gx = (gaussian_kernel_1d(k, dtype=torch.float64, device=device) for k in kernel)
    return (gt[:, None, None] * gy[None, :, None] * gx[None, None, :]).to(dtype)


def gaussian_filter_3d(
    x: torch.Tensor, kernel: Sequence[int], temporal_padding: TemporalPadding = "zeros"
) -> torch.Tensor:
    """``G * x`` for ``x`` (B, T, H, W): three 1-D passes (time, y, x), output the same shape.

    Space is zero-padded; time per ``temporal_padding``.
    """
    if x.ndim != 4:
        raise ValueError(f"expected a (B, T, H, W) volume, got shape {tuple(x.shape)}")
    kt, kh, kw = (int(k) for k in kernel)
    b, t, h, w = x.shape
    v = x.reshape(b, 1, t, h, w)
    gt, gy, gx = (gaussian_kernel_1d(k, dtype=x.dtype, device=x.device) for k in (kt, kh, kw))
    if kt > 1:
        if temporal_padding == "replicate":
            v = F.pad(v, (0, 0, 0, 0, kt // 2, kt // 2), mode="replicate")
            v = F.conv3d(v, gt.view(1, 1, kt, 1, 1))
        else:
            v = F.conv3d(v, gt.view(1, 1, kt, 1, 1), padding=(kt // 2, 0, 0))
    if kh > 1:
        v = F.conv3d(v, gy.view(1, 1, 1, kh, 1), padding=(0, kh // 2, 0))
    if kw > 1:
        v = F.conv3d(v, gx.view(1, 1, 1, 1, kw), padding=(0, 0, kw // 2))
    return v.reshape(b, t, h, w)


def adjacency_product(
    x: torch.Tensor, s: torch.Tensor, f: torch.Tensor, settings: SpectralSettings
) -> torch.Tensor:
    """``M x`` (unnormalised) for the volume adjacency ``M`` above; all arguments (B, T, H, W)."""
    sp = s.clamp_min(0).pow(settings.p)
    spx = sp * x
    f2 = f * f
    k, pad = settings.kernel, settings.temporal_padding
    return (
        sp * (1.0 / settings.alpha - f2) * gaussian_filter_3d(spx, k, pad)
        - sp * gaussian_filter_3d(f2 * spx, k, pad)
        + 2.0 * sp * f * gaussian_filter_3d(f * spx, k, pad)
    )


def normalize_per_frame(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Each frame of ``x`` (B, T, H, W) divided by its L2 norm, then min-max scaled to [0, 1].

    A constant frame maps to zeros (its range is 0).
    """
    flat = x.flatten(2)
    flat = flat / flat.norm(dim=2, keepdim=True).clamp_min(eps)
    lo = flat.amin(dim=2, keepdim=True)
    hi = flat.amax(dim=2, keepdim=True)
    return ((flat - lo) / (hi - lo).clamp_min(eps)).view_as(x)


def spectral_refine(
    s: torch.Tensor,
    f: torch.Tensor | None = None,
    settings: SpectralSettings | None = None,
    x0: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq. 1 iterated ``settings.iterations`` times from ``x0`` (default ``S``), each step normalised per frame.

    Args:
        s: (B, T, H, W) unary map in [0, 1].
        f: (B, T, H, W) pairwise map in [0, 1] (None: ``S``, as SFTrack++ shares them).
        settings: the constants (default :class:`SpectralSettings`, SFTrack++'s phase-2 values).
        x0: (B, T, H, W) start (default ``s``).

    Returns:
        (B, T, H, W) refined map in [0, 1]; ``x0`` unchanged when ``iterations == 0``.
    """
    settings = settings or SpectralSettings()
    f = s if f is None else f
    if s.shape != f.shape or s.ndim != 4:
        raise ValueError(
            f"S and F must be equal (B, T, H, W) volumes, got {tuple(s.shape)} and {tuple(f.shape)}"
        )
    x = s if x0 is None else x0
    for _ in range(settings.iterations):
        x = normalize_per_frame(adjacency_product(x, s, f, settings), settings.eps)
    return x


def explicit_adjacency(s: torch.Tensor, f: torch.Tensor, settings: SpectralSettings) -> torch.Tensor:
    """``M`` of one (T, H, W) volume as a sparse COO ``(THW, THW)`` tensor — for tests and benchmarks.

    Built offset by offset (one shifted copy of the volume per kernel tap), so it holds
    ``THW * kt * kh * kw`` entries. Same zero-padding convention as :func:`gaussian_filter_3d`: node pairs
    further apart than the kernel's half-size on any axis are not connected.
    """
    if settings.temporal_padding != "zeros":
        raise ValueError("the explicit adjacency exists for temporal_padding='zeros' only")
    if s.ndim != 3 or s.shape != f.shape:
        raise ValueError(f"expected two equal (T, H, W) volumes, got {tuple(s.shape)} and {tuple(f.shape)}")
    t, h, w = s.shape
    g = gaussian_kernel_3d(settings.kernel, dtype=s.dtype, device=s.device)
    rt, ry, rx = (k // 2 for k in settings.kernel)
    node = torch.arange(t * h * w, device=s.device).view(t, h, w)
    sp = s.clamp_min(0).pow(settings.p)
    rows, cols, vals = [], [], []
    for dt in range(-rt, rt + 1):
        for dy in range(-ry, ry + 1):
            for dx in range(-rx, rx + 1):
                # pairs (i, j) with j = i + (dt, dy, dx), both inside the volume
                ti, yi, xi = (
                    slice(max(0, -dt), t - max(0, dt)),
                    slice(max(0, -dy), h - max(0, dy)),
                    slice(max(0, -dx), w - max(0, dx)),
                )
                tj, yj, xj = (
                    slice(max(0, dt), t - max(0, -dt)),
                    slice(max(0, dy), h - max(0, -dy)),
                    slice(max(0, dx), w - max(0, -dx)),
                )
                gv = g[dt + rt, dy + ry, dx + rx]
                m = (
                    sp[ti, yi, xi]
                    * sp[tj, yj, xj]
                    * gv
                    * (1.0 / settings.alpha - (f[ti, yi, xi] - f[tj, yj, xj]) ** 2)
                )
                rows.append(node[ti, yi, xi].reshape(-1))
                cols.append(node[tj, yj, xj].reshape(-1))
                vals.append(m.reshape(-1))
    n = t * h * w
    return torch.sparse_coo_tensor(
        torch.stack([torch.cat(rows), torch.cat(cols)]), torch.cat(vals), (n, n), check_invariants=False
    ).coalesce()

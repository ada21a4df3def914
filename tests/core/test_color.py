"""sRGB <-> Lab against OpenCV, published values, round trips and autograd."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from zoo.core.color import lab_to_rgb, rgb_to_lab


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.detach().permute(1, 2, 0).cpu().numpy()


def _srgb_decode(c: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 transfer function, written independently of the module."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


@pytest.fixture()
def rgb() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 24, 24, generator=g, dtype=torch.float64)
    x[:, 0, :4] = torch.tensor([0.0, 0.02, 0.04045, 1.0]).view(1, 4)  # dark values and the knee
    return x


def test_matches_opencv_linear_rgb_path(rgb):
    # cv2's LRGB2Lab (linear light in) is computed directly; feeding it our independently decoded sRGB
    # checks the matrix, white point and CIE f(t) (both branches). Pixels go in as one column: OpenCV's
    # SIMD path for wide rows is itself off by up to ~0.012 in a/b near the f(t) knee, its scalar path
    # is exact to float32.
    lin = _srgb_decode(_hwc(rgb)).astype(np.float32)
    ref = cv2.cvtColor(lin.reshape(-1, 1, 3), cv2.COLOR_LRGB2Lab).reshape(lin.shape)
    np.testing.assert_allclose(_hwc(rgb_to_lab(rgb)), ref, atol=1e-3)
    wide = cv2.cvtColor(lin, cv2.COLOR_LRGB2Lab)
    np.testing.assert_allclose(_hwc(rgb_to_lab(rgb)), wide, atol=2e-2)


def test_opencv_inverts_our_lab(rgb):
    # cv2's float Lab2RGB is exact (its RGB2Lab float path is a LUT approximation, see below), so it checks
    # the full sRGB path including the gamma curve.
    back = cv2.cvtColor(_hwc(rgb_to_lab(rgb)).astype(np.float32), cv2.COLOR_Lab2RGB)
    np.testing.assert_allclose(back, _hwc(rgb), atol=1e-3)
    lab = rgb_to_lab(rgb)
    ref = cv2.cvtColor(_hwc(lab).astype(np.float32), cv2.COLOR_Lab2RGB)
    np.testing.assert_allclose(_hwc(lab_to_rgb(lab)), ref, atol=1e-3)


def test_close_to_opencv_srgb_lut_path(rgb):
    # cv2.COLOR_RGB2Lab on float32 interpolates a 3-D lookup table (errors of a few tenths in a/b), so the
    # tolerance here is loose; it still catches a missing gamma curve (errors of tens).
    ref = cv2.cvtColor(_hwc(rgb).astype(np.float32), cv2.COLOR_RGB2Lab)
    np.testing.assert_allclose(_hwc(rgb_to_lab(rgb)), ref, atol=0.6)


def test_known_values():
    colours = torch.tensor(
        [
            [1.0, 1.0, 1.0],
            [0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.5, 0.5, 0.5],
        ],
        dtype=torch.float64,
    ).T[:, :, None]  # (3, 6, 1)
    lab = rgb_to_lab(colours)[:, :, 0].T.numpy()
    # White and black exactly; primaries from Lindbloom's sRGB/D65 tables; mid grey L from the sRGB curve.
    expected = [
        [100.0, 0.0, 0.0],
        [0.0, 0.0, 0.0],
        [53.2408, 80.0925, 67.2032],
        [87.7347, -86.1827, 83.1793],
        [32.2970, 79.1875, -107.8602],
        [53.3889, 0.0, 0.0],
    ]
    np.testing.assert_allclose(lab[:2], expected[:2], atol=1e-9)
    np.testing.assert_allclose(lab[2:], expected[2:], atol=1e-2)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-4), (torch.float64, 1e-10)])
def test_round_trip_any_leading_dims(dtype, tol):
    g = torch.Generator().manual_seed(1)
    for shape in [(3, 5, 7), (2, 3, 5, 7), (2, 4, 3, 6, 6)]:
        x = torch.rand(shape, generator=g).to(dtype)
        lab = rgb_to_lab(x)
        assert lab.shape == x.shape and lab.dtype == dtype
        assert lab[..., 0, :, :].min() >= 0 and lab[..., 0, :, :].max() <= 100 + 1e-4
        torch.testing.assert_close(lab_to_rgb(lab), x, atol=tol, rtol=0)
    # batched == per-image
    x = torch.rand(4, 3, 5, 5, generator=g, dtype=dtype)
    torch.testing.assert_close(rgb_to_lab(x)[2], rgb_to_lab(x[2]))


def test_gradcheck_away_from_knees():
    g = torch.Generator().manual_seed(2)
    # Mixed values, both sides of each knee but not on one (finite differences need a smooth neighbourhood).
    x = (0.05 + 0.95 * torch.rand(2, 3, 3, 3, generator=g, dtype=torch.float64)).requires_grad_()
    x.data[0, :, 0, 0] = torch.tensor([0.02, 0.01, 0.03], dtype=torch.float64)  # linear sRGB segment
    assert torch.autograd.gradcheck(rgb_to_lab, (x,))
    lab = rgb_to_lab(x.detach()).requires_grad_()
    assert torch.autograd.gradcheck(lab_to_rgb, (lab,))


def test_gradients_finite_at_zero_and_knees():
    knees = torch.tensor([0.0, 0.04045, 0.0031308 * 12.92, 1.0], dtype=torch.float64)
    x = knees.view(1, 4, 1).expand(3, 4, 1).clone().requires_grad_()
    rgb_to_lab(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    # At black the gradient is the slope of the linear branches (not inf / NaN from a cube root at 0).
    assert x.grad[:, 0].abs().sum() > 0
    lab = torch.tensor([[0.0, 8.0, 50.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)[:, :, None]
    lab.requires_grad_()
    lab_to_rgb(lab).sum().backward()
    assert torch.isfinite(lab.grad).all()


def test_dtype_device_and_errors():
    x = torch.rand(3, 4, 4)
    assert rgb_to_lab(x.half()).dtype == torch.float16
    torch.testing.assert_close(rgb_to_lab(x.half()).float(), rgb_to_lab(x), atol=0.3, rtol=0)
    assert lab_to_rgb(rgb_to_lab(x).bfloat16()).dtype == torch.bfloat16
    with pytest.raises(TypeError, match="floating"):
        rgb_to_lab((x * 255).to(torch.uint8))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        rgb_to_lab(torch.rand(4, 4, 3))
    if torch.cuda.is_available():
        y = x.cuda()
        out = rgb_to_lab(y)
        assert out.device == y.device
        torch.testing.assert_close(out.cpu(), rgb_to_lab(x), atol=1e-4, rtol=1e-5)

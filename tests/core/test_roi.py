"""roi_align against hand-computed bilinear sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zoo.core.roi import boxes_to_rois, roi_align


def _bilinear(fmap: np.ndarray, y: float, x: float) -> np.ndarray:
    """Value of (C, H, W) ``fmap`` at continuous (y, x), pixel i's value sitting at coordinate i."""
    y0, x0 = math.floor(y), math.floor(x)
    dy, dx = y - y0, x - x0
    y1, x1 = min(y0 + 1, fmap.shape[1] - 1), min(x0 + 1, fmap.shape[2] - 1)
    return (
        fmap[:, y0, x0] * (1 - dy) * (1 - dx)
        + fmap[:, y0, x1] * (1 - dy) * dx
        + fmap[:, y1, x0] * dy * (1 - dx)
        + fmap[:, y1, x1] * dy * dx
    )


def _manual_roi_align(fmap, box, out_hw, scale, ratio, aligned):
    """Each bin averages ratio x ratio samples on a regular grid inside it."""
    off = 0.5 if aligned else 0.0
    x0, y0, x1, y1 = (v * scale - off for v in box)
    bin_h, bin_w = (y1 - y0) / out_hw[0], (x1 - x0) / out_hw[1]
    out = np.zeros((fmap.shape[0], *out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            acc = 0.0
            for sy in range(ratio):
                for sx in range(ratio):
                    y = y0 + (i + (sy + 0.5) / ratio) * bin_h
                    x = x0 + (j + (sx + 0.5) / ratio) * bin_w
                    acc = acc + _bilinear(fmap, y, x)
            out[:, i, j] = acc / ratio**2
    return out


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("ratio", [1, 2, 3])
def test_matches_manual_bilinear_sampling(aligned, ratio):
    g = torch.Generator().manual_seed(0)
    feats = torch.rand(2, 3, 12, 16, generator=g, dtype=torch.float64)
    scale = 0.5  # stride-2 feature map
    boxes = [
        torch.tensor([[4.0, 4.0, 20.0, 14.0], [3.3, 5.1, 9.7, 21.9]], dtype=torch.float64),
        torch.tensor([[10.0, 2.0, 28.0, 20.0]], dtype=torch.float64),
    ]
    out = roi_align(feats, boxes, (3, 4), spatial_scale=scale, sampling_ratio=ratio, aligned=aligned)
    assert out.shape == (3, 3, 3, 4) and out.dtype == torch.float64
    expected = [
        _manual_roi_align(feats[0].numpy(), boxes[0][0].tolist(), (3, 4), scale, ratio, aligned),
        _manual_roi_align(feats[0].numpy(), boxes[0][1].tolist(), (3, 4), scale, ratio, aligned),
        _manual_roi_align(feats[1].numpy(), boxes[1][0].tolist(), (3, 4), scale, ratio, aligned),
    ]
    np.testing.assert_allclose(out.numpy(), np.stack(expected), atol=1e-12)


def test_linear_map_gives_bin_centres():
    # On f(y, x) = 2x - 3y + 1 bilinear sampling is exact, and a symmetric sample grid averages to the
    # value at the bin centre: an independent closed form for the aligned convention.
    H, W, scale = 20, 24, 0.25
    ys, xs = torch.meshgrid(
        torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij"
    )
    feats = (2 * xs - 3 * ys + 1)[None, None]
    box = [8.0, 12.0, 72.0, 60.0]  # input pixels
    out = roi_align(feats, [torch.tensor([box], dtype=torch.float64)], (4, 2), spatial_scale=scale)
    x0, y0, x1, y1 = (v * scale - 0.5 for v in box)
    cy = y0 + (np.arange(4) + 0.5) * (y1 - y0) / 4
    cx = x0 + (np.arange(2) + 0.5) * (x1 - x0) / 2
    np.testing.assert_allclose(out[0, 0].numpy(), 2 * cx[None, :] - 3 * cy[:, None] + 1, atol=1e-12)


def test_list_and_roi_tensor_inputs_agree_and_dtype_follows_features():
    feats = torch.rand(2, 4, 10, 10)
    boxes = [torch.tensor([[1.0, 1.0, 8.0, 9.0]]), torch.tensor([[0.0, 2.0, 5.0, 5.0], [2.0, 2.0, 9.0, 9.0]])]
    rois = boxes_to_rois(boxes)
    torch.testing.assert_close(rois[:, 0], torch.tensor([0.0, 1.0, 1.0]))
    torch.testing.assert_close(rois[1:, 1:], boxes[1])
    a = roi_align(feats, boxes, (2, 2), spatial_scale=1.0)
    b = roi_align(feats, rois, (2, 2), spatial_scale=1.0)
    torch.testing.assert_close(a, b)
    # float64 boxes on float32 features are converted, not rejected
    c = roi_align(feats, [x.double() for x in boxes], (2, 2), spatial_scale=1.0)
    assert c.dtype == torch.float32
    torch.testing.assert_close(a, c)


def test_empty_box_lists():
    feats = torch.rand(2, 3, 8, 8)
    out = roi_align(feats, [torch.zeros(0, 4), torch.zeros(0, 4)], (5, 5), spatial_scale=1.0)
    assert out.shape == (0, 3, 5, 5)
    out = roi_align(feats, [torch.zeros(0, 4), torch.tensor([[1.0, 1.0, 6.0, 6.0]])], (2, 2), 1.0)
    assert out.shape == (1, 3, 2, 2)
    torch.testing.assert_close(out, roi_align(feats[1:], [torch.tensor([[1.0, 1.0, 6.0, 6.0]])], (2, 2), 1.0))
    assert boxes_to_rois([]).shape == (0, 5)
    assert roi_align(feats, torch.zeros(0, 5), (2, 2), 1.0).shape == (0, 3, 2, 2)


def test_gradient_reaches_features():
    feats = torch.rand(1, 2, 10, 10, requires_grad=True)
    out = roi_align(feats, [torch.tensor([[2.0, 2.0, 8.0, 7.0], [1.0, 3.0, 6.0, 9.0]])], (3, 3), 1.0)
    out.sum().backward()
    # Bilinear weights of each in-image sample sum to 1 and each bin averages its samples, so the total
    # gradient per channel equals the number of output bins.
    torch.testing.assert_close(feats.grad.sum(dim=(0, 2, 3)), torch.full((2,), 2 * 9.0))


def test_bad_inputs():
    feats = torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match="batch of 2"):
        roi_align(feats, [torch.zeros(1, 4)], (2, 2), 1.0)
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        roi_align(feats, [torch.zeros(1, 5), torch.zeros(1, 4)], (2, 2), 1.0)
    with pytest.raises(ValueError, match="batch indices"):
        roi_align(feats, torch.tensor([[2.0, 0, 0, 4, 4]]), (2, 2), 1.0)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        roi_align(feats[0], [torch.zeros(1, 4)], (2, 2), 1.0)
    with pytest.raises(TypeError, match="floating"):
        roi_align(feats.long(), [torch.zeros(1, 4), torch.zeros(0, 4)], (2, 2), 1.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    feats = torch.rand(2, 3, 16, 16)
    boxes = [torch.tensor([[1.0, 2.0, 12.0, 15.0]]), torch.tensor([[0.5, 0.5, 7.0, 9.0]])]
    cpu = roi_align(feats, boxes, (4, 4), 1.0)
    gpu = roi_align(feats.cuda(), boxes, (4, 4), 1.0)  # CPU boxes are moved to the features' device
    assert gpu.device.type == "cuda"
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-5, rtol=1e-5)

"""FineTrack's Flow Alignment Module, FAFPN and timm trunk."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zoo.methods.finetrack.fafpn import FAFPN, FlowAlignment, TimmTrunk, flow_warp


def test_zero_flow_warp_is_bilinear_upsampling_align_corners():
    torch.manual_seed(0)
    coarse = torch.randn(2, 5, 6, 9)
    out = flow_warp(coarse, torch.zeros(2, 2, 12, 17))
    ref = F.interpolate(coarse, size=(12, 17), mode="bilinear", align_corners=True)
    assert out.shape == (2, 5, 12, 17)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    # and NOT the align_corners=False upsampling (the two differ on this grid)
    other = F.interpolate(coarse, size=(12, 17), mode="bilinear", align_corners=False)
    assert (out - other).abs().max() > 1e-2


def test_fam_with_zero_flow_upsamples_the_original_coarse_map():
    torch.manual_seed(1)
    fam = FlowAlignment(8)
    torch.nn.init.zeros_(fam.flow.weight)  # the flow head now predicts zero flow everywhere
    fine, coarse = torch.randn(1, 8, 10, 14), torch.randn(1, 8, 5, 7)
    out = fam(fine, coarse)
    ref = F.interpolate(coarse, size=(10, 14), mode="bilinear", align_corners=True)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)  # all 8 channels: the ORIGINAL map is warped


def test_flow_unit_is_about_half_a_pixel_the_sfnet_grid_quirk():
    # a horizontal ramp x[j] = j warped with constant flow u along x: grid offset u / W in [-1, 1] units,
    # one pixel is 2 / (W - 1) units, so the shift is u (W - 1) / (2 W) pixels, not u pixels.
    w, u = 20, 2.0
    ramp = torch.arange(w, dtype=torch.float64).expand(1, 1, 4, w).contiguous()
    flow = torch.zeros(1, 2, 4, w, dtype=torch.float64)
    flow[:, 0] = u
    out = flow_warp(ramp, flow)
    shift = u * (w - 1) / (2 * w)
    interior = out[0, 0, :, : w - 2]
    torch.testing.assert_close(interior, ramp[0, 0, :, : w - 2] + shift)


def test_fam_shapes_and_halved_channels():
    fam = FlowAlignment(16)
    assert fam.down_fine.out_channels == 8 and fam.down_coarse.out_channels == 8
    assert fam.flow.out_channels == 2 and fam.flow.kernel_size == (3, 3)
    assert fam.down_fine.bias is None and fam.flow.bias is None
    assert fam(torch.randn(2, 16, 12, 12), torch.randn(2, 16, 6, 6)).shape == (2, 16, 12, 12)


@pytest.mark.parametrize(
    ("name", "size", "fpn_dim", "channels"),
    [
        ("resnet18", (96, 128), 128, [64, 128, 256, 512]),
        ("resnet50", (64, 96), 256, [256, 512, 1024, 2048]),
        ("efficientnet_b0", (64, 96), 32, [24, 40, 112, 320]),
        ("convnext_atto", (64, 96), 32, [40, 80, 160, 320]),
    ],
)
def test_fafpn_output_is_stride_4_for_timm_trunks(name, size, fpn_dim, channels):
    torch.manual_seed(0)
    trunk = TimmTrunk(name, pretrained=False)
    assert trunk.channels == channels
    fpn = FAFPN(trunk.channels, fpn_dim).eval()
    with torch.no_grad():
        feats = trunk(torch.randn(2, 3, *size))
        assert [f.shape[-1] for f in feats] == [size[1] // s for s in (4, 8, 16, 32)]
        out = fpn(feats)
    assert out.shape == (2, fpn_dim, size[0] // 4, size[1] // 4)
    assert torch.isfinite(out).all()


def test_fafpn_rejects_wrong_number_of_levels():
    fpn = FAFPN([8, 16, 32, 64], 16)
    with pytest.raises(ValueError, match="4 levels"):
        fpn([torch.randn(1, 8, 8, 8)] * 3)


def test_pretrained_offline_fails_fast_with_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RuntimeError, match="pretrained=false"):
        TimmTrunk("resnet18", pretrained=True)


def test_trunk_without_stride_4_is_rejected():
    with pytest.raises(ValueError, match="strides"):
        TimmTrunk("vit_tiny_patch16_224", pretrained=False)


def test_unknown_trunk_name():
    with pytest.raises(ValueError, match="unknown timm model"):
        TimmTrunk("resnet_does_not_exist")

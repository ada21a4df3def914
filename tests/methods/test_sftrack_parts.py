"""SFTrack++'s parts: Eq. 1 against the explicit power iteration, the Gaussian kernel, the per-frame
normalisation, the channel combination, the U-Nets and the mask -> box extractor."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.core.boxes import box_masks
from zoo.methods.sftrack.losses import weighted_bce
from zoo.methods.sftrack.model import (
    ChannelCombination,
    Seg2BoxNet,
    SFTrackNet,
    SFTrackSettings,
    mask_to_box,
)
from zoo.methods.sftrack.spectral import (
    SpectralSettings,
    adjacency_product,
    explicit_adjacency,
    gaussian_filter_3d,
    gaussian_kernel_1d,
    gaussian_kernel_3d,
    normalize_per_frame,
    spectral_refine,
)
from zoo.methods.sftrack.unet import UNet

SFSEG = SpectralSettings(kernel=(5, 5, 5), p=0.5, alpha=1.0, iterations=10)
SFTRACK = SpectralSettings()  # kernel (3, 5, 5), p 0.1, alpha 0.5, 2 iterations


def _volume(t=4, h=6, w=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(t, h, w, generator=g, dtype=torch.float64) for _ in range(3))


@pytest.mark.parametrize("settings", [SFSEG, SFTRACK], ids=["sfseg", "sftrack"])
def test_one_filtering_step_is_one_power_iteration_step_of_the_explicit_adjacency(settings):
    s, f, x = _volume()
    m = explicit_adjacency(s, f, settings).to_dense()
    assert torch.equal(m, m.T) and m.min() >= 0  # symmetric, non-negative for F in [0, 1], 1/alpha >= 1
    # M_ij = S_i^p S_j^p G(i - j) (1/alpha - (F_i - F_j)^2), checked entry by entry on one pair
    g = gaussian_kernel_3d(settings.kernel, dtype=torch.float64)
    i, j = (1, 2, 3), (2, 3, 5)
    rt, ry, rx = (k // 2 for k in settings.kernel)
    d = [j[a] - i[a] for a in range(3)]
    expect = (
        (s[i] * s[j]) ** settings.p
        * g[d[0] + rt, d[1] + ry, d[2] + rx]
        * (1 / settings.alpha - (f[i] - f[j]) ** 2)
    )
    assert torch.isclose(
        m[np.ravel_multi_index(i, s.shape), np.ravel_multi_index(j, s.shape)], expect, atol=1e-15
    )
    y = adjacency_product(x[None], s[None], f[None], settings)[0]
    assert torch.allclose(y.reshape(-1), m @ x.reshape(-1), atol=1e-12, rtol=0)
    one = SpectralSettings(settings.kernel, settings.p, settings.alpha, 1)
    stepped = spectral_refine(s[None], f[None], one, x0=x[None])[0]
    assert torch.allclose(stepped, normalize_per_frame((m @ x.reshape(-1)).view(1, *s.shape))[0], atol=1e-12)


def test_iterating_converges_to_the_principal_eigenvector():
    s, f, _ = _volume(3, 5, 6, seed=1)
    m = explicit_adjacency(s, f, SFSEG).to_dense()
    vals, vecs = torch.linalg.eigh(m)
    assert vals[-1] > vals[-2]  # a simple principal eigenvalue
    principal = vecs[:, -1] * torch.sign(vecs[:, -1].sum())
    x = torch.rand(s.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for _ in range(3000):
        x = adjacency_product(x.view(1, *s.shape), s[None], f[None], SFSEG).reshape(-1)
        x = x / x.norm()
    assert (x - principal).abs().max() < 1e-6
    assert (principal > 0).all()  # Perron-Frobenius: the object volume is one positive cluster


@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_gaussian_kernel_sums_to_one_with_std_a_quarter_of_the_span(size):
    g = gaussian_kernel_1d(size, dtype=torch.float64)
    assert g.shape == (size,) and torch.isclose(g.sum(), torch.tensor(1.0, dtype=torch.float64))
    if size > 1:
        sigma = (size - 1) / 4
        x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        # the ratios fix the std whatever the normalisation
        assert torch.allclose(g / g[size // 2], torch.exp(-0.5 * (x / sigma) ** 2), atol=1e-15)
    g3 = gaussian_kernel_3d((3, 5, 5), dtype=torch.float64)
    assert g3.shape == (3, 5, 5) and torch.isclose(g3.sum(), torch.tensor(1.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="odd"):
        gaussian_kernel_1d(4)


def test_gaussian_filter_of_a_delta_is_the_kernel_and_keeps_mass_inside():
    x = torch.zeros(1, 7, 9, 9, dtype=torch.float64)
    x[0, 3, 4, 4] = 1.0
    y = gaussian_filter_3d(x, (3, 5, 5))
    assert torch.allclose(y[0, 2:5, 2:7, 2:7], gaussian_kernel_3d((3, 5, 5), dtype=torch.float64))
    assert torch.isclose(y.sum(), torch.tensor(1.0, dtype=torch.float64))
    # replicate padding in time: a constant volume stays constant at the ends too
    c = torch.ones(1, 3, 9, 9, dtype=torch.float64)
    assert torch.allclose(gaussian_filter_3d(c, (3, 1, 1), "replicate"), c)
    assert gaussian_filter_3d(c, (3, 1, 1), "zeros")[0, 0, 0, 0] < 1


def test_normalisation_is_per_frame_l2_then_min_max():
    x = torch.rand(2, 3, 5, 6, dtype=torch.float64)
    x[0, 1] *= 100  # one loud frame must not change the others
    y = normalize_per_frame(x)
    flat = y.flatten(2)
    assert torch.allclose(flat.amin(2), torch.zeros(2, 3, dtype=torch.float64))
    assert torch.allclose(flat.amax(2), torch.ones(2, 3, dtype=torch.float64))
    z = normalize_per_frame(x * torch.tensor([1.0, 7.0, 0.5], dtype=torch.float64).view(1, 3, 1, 1))
    assert torch.allclose(y, z, atol=1e-12)
    assert torch.equal(normalize_per_frame(torch.ones(1, 1, 3, 3)), torch.zeros(1, 1, 3, 3))


def test_zero_iterations_leave_the_unary_map():
    s = torch.rand(1, 4, 6, 6)
    off = SpectralSettings(iterations=0)
    assert torch.equal(spectral_refine(s, settings=off), s)


def test_refinement_fills_a_hole_and_suppresses_an_isolated_speck():
    s = torch.full((1, 5, 16, 16), 0.05, dtype=torch.float64)
    s[:, :, 4:12, 4:12] = 0.9
    s[:, 2, 7, 7] = 0.05  # a hole in one frame of a consistent object
    s[:, 2, 0, 15] = 0.9  # a one-frame, one-pixel speck far away
    x = spectral_refine(s, settings=SFTRACK)
    # the hole's neighbours in space and time lift it above the object's own corner (S^p still weighs it
    # down: 0.05^0.1 = 0.74); the speck has no support and drops to near 0 (it started at the object's 0.9)
    assert x[0, 2, 7, 7] > x[0, 2, 4, 4] > 0.3
    assert x[0, 2, 0, 15] < 0.05 and x[0, 2, 8, 8] > 0.95


def test_channel_combination_limits():
    maps = torch.rand(2, 3, 7, 5, 6)
    comb = ChannelCombination(7)
    with torch.no_grad():
        comb.weight.zero_()
        comb.bias.fill_(20.0)
    assert torch.allclose(comb(maps), torch.ones(2, 3, 5, 6), atol=1e-8)
    with torch.no_grad():
        comb.bias.fill_(-20.0)
    assert comb(maps).max() < 1e-8
    default = ChannelCombination(7)  # w_i = 6 / K, b = -3: sigmoid(6 * mean - 3)
    assert torch.allclose(default(maps), torch.sigmoid(6 * maps.mean(2) - 3), atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        default(torch.rand(1, 3, 4, 4))


@pytest.mark.parametrize("hw", [(37, 53), (1, 1), (64, 64), (15, 8)])
def test_unet_keeps_odd_sizes(hw):
    net = UNet(4, 1, (4, 8, 16))
    out = net(torch.rand(2, 4, *hw))
    assert out.shape == (2, 1, *hw)


def test_paper_size_unets_fit_the_preregistration_parameter_ranges():
    f2s = UNet(4, 1, (16, 32, 64, 128))
    s2b = UNet(1, 1, (8, 16, 32, 64))
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert 100_000 <= n(f2s) <= 1_000_000 and 50_000 <= n(s2b) <= 500_000


def test_mask_to_box_takes_the_largest_component():
    m = np.zeros((20, 30), bool)
    m[2:5, 3:6] = True  # 9 px
    m[10:18, 12:25] = True  # 104 px
    m[0, 29] = True
    assert mask_to_box(m).tolist() == [12, 10, 25, 18]
    assert mask_to_box(m, "all").tolist() == [3, 0, 30, 18]
    assert mask_to_box(np.zeros((4, 4), bool)) is None
    diag = np.eye(5, dtype=bool)  # 8-connected: one component
    assert mask_to_box(diag).tolist() == [0, 0, 5, 5]


def test_box_masks_cover_pixel_centres_and_nan_is_empty():
    b = torch.tensor([[1.0, 1.0, 3.0, 2.0], [float("nan"), 0, 1, 1], [0.6, 0.0, 1.4, 1.0]])
    m = box_masks(b, 3, 4)
    assert m[0].nonzero().tolist() == [[1, 1], [1, 2]]
    assert m[1].sum() == 0 and m[2].sum() == 0  # [0.6, 1.4) holds no pixel centre
    assert np.array_equal(box_masks(b.numpy(), 3, 4), m.numpy())


def test_weighted_bce_matches_bce_with_logits_pos_weight():
    logits = torch.randn(3, 5, 5)
    target = (torch.rand(3, 5, 5) > 0.5).float()
    ref = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(5.0))
    assert torch.isclose(weighted_bce(torch.sigmoid(logits), target, 5.0), ref, atol=1e-5)


def test_network_shapes_and_settings():
    net = SFTrackNet(3, SFTrackSettings(feat2seg_widths=(4, 8), seg2box_widths=(2, 4)))
    images = torch.rand(2, 4, 3, 17, 23)
    boxes = torch.tensor([2.0, 3.0, 12.0, 14.0]).expand(2, 4, 3, 4)
    out = net(images, boxes)
    assert out["maps"].shape == (2, 4, 3, 17, 23)
    assert out["refined"].shape == out["unary"].shape == (2, 4, 17, 23)
    assert out["box_logits"].shape == (2, 17, 23)
    assert out["pairwise"] is out["unary"]  # shared S = F, w_s = w_f
    sep = SFTrackNet(3, SFTrackSettings(feat2seg_widths=(4,), seg2box_widths=(2,), share_pairwise=False))
    assert sep.combine_f is not None
    with pytest.raises(TypeError, match="unknown SFTrack"):
        SFTrackSettings.from_kwargs(kernal=(3, 5, 5))
    with pytest.raises(ValueError, match="odd"):
        SFTrackSettings(kernel=(2, 5, 5))


@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_seg2box_skip_starts_as_the_mask_own_box(threshold):
    torch.manual_seed(0)
    net = Seg2BoxNet((2, 4), skip=True, gain=10.0, threshold=threshold).train()
    mask = torch.rand(3, 1, 19, 26)
    mask[0, 0, 4:12, 5:20] = 0.95  # an object
    probs = torch.sigmoid(net(mask))
    # before training: foreground exactly where the mask is, so the box is the mask's own box
    assert torch.equal(probs > threshold, mask > threshold)
    for m, p in zip(mask[:, 0], probs[:, 0], strict=True):
        assert np.array_equal(mask_to_box((p > threshold).numpy()), mask_to_box((m > threshold).numpy()))
    # the skip is logit(threshold) + gain * (x - threshold): at x = 1, sigmoid(gain * 0.5) for threshold 0.5
    if threshold == 0.5:
        one = torch.sigmoid(net(torch.ones(1, 1, 4, 4)))
        assert torch.allclose(one, torch.sigmoid(torch.tensor(5.0)).expand_as(one))


def test_seg2box_skip_learns_a_correction_and_off_is_a_plain_unet():
    torch.manual_seed(0)
    net = Seg2BoxNet((2, 4), skip=True)
    mask = torch.zeros(4, 1, 16, 16)
    mask[:, :, 4:12, 4:12] = 1.0
    target = torch.zeros_like(mask)
    target[:, :, 2:14, 2:14] = 1.0  # the box is larger than the mask: the skip alone misses its border
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    loss = lambda: torch.nn.functional.binary_cross_entropy_with_logits(net(mask), target)  # noqa: E731
    before = float(loss())
    for _ in range(20):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert float(loss()) < before and net.head.weight.abs().sum() > 0 and net.gain.grad is not None
    plain = Seg2BoxNet((2, 4), skip=False)
    assert not hasattr(plain, "gain")
    assert set(plain.state_dict()) == set(UNet(1, 1, (2, 4)).state_dict())  # old checkpoints still load
    with pytest.raises(ValueError, match="seg2box_skip_gain"):
        SFTrackSettings(seg2box_skip_gain=0.0)
    assert SFTrackNet(2, SFTrackSettings(seg2box_widths=(2,), seg2box_skip=True)).seg2box.skip

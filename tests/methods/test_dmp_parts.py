"""DMP's parts in isolation: the stride-4 encoder, local-window affinity and its restrictions, region
clustering, every memory rule, the loss-weighted fusion and the self-supervised channel-drop objective."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from zoo.methods.dmp.affinity import (
    backward_restriction,
    backward_topk,
    cluster_restriction,
    grid_coords,
    propagate,
    window_restriction,
)
from zoo.methods.dmp.clustering import kmeans, region_clusters
from zoo.methods.dmp.encoder import StrideFourEncoder
from zoo.methods.dmp.memory import (
    FeatureStats,
    LongTermMemory,
    frechet_distance,
    gaussian_blur,
    mask_iou,
    select_short_term,
    soft_iou,
    target_position,
)
from zoo.methods.dmp.model import KEEP_SCALE, LAB_MEAN, LAB_STD, DMPNet, DMPSettings, fuse, normalized_lab

SMALL = {"channels": (8, 16, 16, 16), "stem_width": 8, "embed_dim": 8}


# ------------------------------------------------------------------------------------------------ encoder
@pytest.mark.parametrize("trunk", ["resnet18", "resnet34", "resnet50"])
def test_encoder_is_stride_four_with_mast_layout(trunk):
    enc = StrideFourEncoder(trunk, **SMALL)
    assert isinstance(enc.trunk.maxpool, torch.nn.Identity)
    for stage in (enc.trunk.layer3, enc.trunk.layer4):
        assert all(m.stride == (1, 1) for m in stage.modules() if isinstance(m, torch.nn.Conv2d))
    assert enc.trunk.layer2[0].downsample[0].stride == (2, 2)
    assert enc(torch.randn(2, 3, 32, 48)).shape == (2, 8, 8, 12)


def test_encoder_paper_width_and_refusals():
    enc = StrideFourEncoder()  # paper: resnet18, layer4 256 wide, 64-d projection
    assert enc.trunk.num_features == 256 and enc.project.out_channels == 64
    with pytest.raises(ValueError, match="multiple of 4"):
        enc(torch.randn(1, 3, 30, 32))
    with pytest.raises(ValueError, match="not a ResNet"):
        StrideFourEncoder("vit_tiny_patch16_224", **SMALL)
    with pytest.raises(ValueError, match="unknown timm model"):
        StrideFourEncoder("no_such_net", **SMALL)


# ----------------------------------------------------------------------------------------------- affinity
def test_identical_frames_give_identity_like_affinity():
    """Distinct unit features per cell and a sharp temperature: every query copies its own cell."""
    h, w = 5, 6
    feats = F.normalize(torch.randn(h * w, 32, generator=torch.Generator().manual_seed(0)), dim=1)
    coords = grid_coords(h, w).float()
    out = propagate(feats, feats, coords, window_restriction(h, w, 1, 2), temperature=0.01)
    assert torch.allclose(out, coords, atol=1e-3)
    out_topk = propagate(
        feats, feats, coords, window_restriction(h, w, 1, 2), temperature=0.01, topk=3, chunk=7
    )
    assert torch.allclose(out_topk, coords, atol=1e-3)


def test_window_excludes_far_candidates_even_when_they_match_best():
    h, w = 1, 10
    q = torch.zeros(h * w, 2)
    q[0] = torch.tensor([1.0, 0.0])
    keys = torch.zeros(h * w, 2)
    keys[9] = torch.tensor([50.0, 0.0])  # a perfect match 9 cells away
    values = torch.arange(h * w, dtype=torch.float32)[:, None]
    out = propagate(q, keys, values, window_restriction(h, w, 1, 3))
    assert out[0, 0] <= 3.0  # only cells 0..3 can contribute
    wide = propagate(q, keys, values, window_restriction(h, w, 1, 9))
    assert wide[0, 0] > 8.9


def test_window_tiles_over_reference_frames_and_is_symmetric():
    win = window_restriction(3, 4, 2, 1)
    m = win(0, 12)
    assert m.shape == (12, 24) and torch.equal(m[:, :12], m[:, 12:])
    assert torch.equal(win.single, win.single.T)
    assert torch.equal(win.of_candidates(12, 24), win.single)


def test_cluster_restriction_keeps_matching_clusters_and_never_empties_a_row():
    h, w = 2, 4
    win = window_restriction(h, w, 1, 5)
    qc = torch.tensor([0, 0, 1, 1, 0, 0, 2, 2])
    cc = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])  # cluster 2 has no candidate
    m = cluster_restriction(win, qc, cc)(0, 8)
    assert m.any(dim=1).all()
    assert torch.equal(m[0], cc == 0) and torch.equal(m[2], cc == 1)
    assert torch.equal(m[6], win(6, 7)[0])  # falls back to the plain window


def test_backward_restriction_allows_only_cycle_consistent_pairs():
    h, w = 1, 6
    gen = torch.Generator().manual_seed(1)
    q = torch.randn(h * w, 4, generator=gen)
    k = torch.randn(h * w, 4, generator=gen)
    win = window_restriction(h, w, 1, 2)
    bw = backward_topk(q, k, win, 1, chunk=4)
    assert bw.shape == (6, 1)
    for j in range(6):  # each candidate's best query lies in its own window
        assert abs(int(bw[j, 0]) - j) <= 2
        logits = (k[j] @ q.T).masked_fill(~win.single[j], float("-inf"))
        assert int(bw[j, 0]) == int(logits.argmax())
    m = backward_restriction(win, bw, 6)(0, 6)
    for i in range(6):
        targets = (bw[:, 0] == i).nonzero().flatten().tolist()
        if targets:
            assert m[i].nonzero().flatten().tolist() == targets
        else:
            assert torch.equal(m[i], win(i, i + 1)[0])


@pytest.mark.parametrize(
    ("h", "w", "frames", "radius", "tile"), [(7, 9, 1, 2, 3), (13, 17, 3, 3, 4), (10, 6, 2, 12, 5)]
)
@pytest.mark.parametrize("topk", [None, 10])
def test_tiled_window_equals_the_dense_one_under_every_restriction(h, w, frames, radius, tile, topk):
    """The tiled local window (480p inference) gives the dense masked block's answer: the plain window, the
    cluster restriction and the backward (cycle-consistent) restriction, top-k or full softmax, tiles cut by
    the grid's edges and a radius larger than the grid; backward_topk tiled equals its dense form."""
    gen = torch.Generator().manual_seed(h * w + frames)
    n, nc = h * w, frames * h * w
    q = torch.randn(n, 8, generator=gen)
    k = torch.randn(nc, 8, generator=gen)
    v = torch.randn(nc, 5, generator=gen)
    win = window_restriction(h, w, frames, radius)
    cells = sorted(int(c) for qc, cc in win.tiles(tile) for c in qc)
    assert cells == list(range(n))  # every query in exactly one tile
    qc = torch.randint(0, 3, (n,), generator=gen)
    cc = torch.randint(0, 4, (nc,), generator=gen)  # cluster 3 never matches: those rows fall back
    bw_dense = backward_topk(q, k, win, 4, chunk=7)
    bw_tiled = backward_topk(q, k, win, 4, tile=tile)
    assert torch.equal(bw_dense, bw_tiled)
    for allowed in (win, cluster_restriction(win, qc, cc), backward_restriction(win, bw_dense, nc)):
        dense = propagate(q, k, v, allowed, temperature=0.07, topk=topk, chunk=11)
        tiled = propagate(q, k, v, allowed, temperature=0.07, topk=topk, tile=tile)
        torch.testing.assert_close(tiled, dense, rtol=0, atol=1e-5)
    with pytest.raises(TypeError, match="window restriction"):
        propagate(q, k, v, lambda q0, q1: win(q0, q1), tile=tile)


# --------------------------------------------------------------------------------------------- clustering
def test_clustering_separates_two_regions_and_is_deterministic():
    feats = torch.zeros(2, 4, 8, 8)
    feats[:, 0, :, :4] = 1.0  # left half one material, right half another
    feats[:, 1, :, 4:] = 1.0
    a = region_clusters(feats, grid=4, clusters=2, lam=0.1)
    b = region_clusters(feats, grid=4, clusters=2, lam=0.1)
    assert torch.equal(a, b) and a.shape == (2, 8, 8)
    assert (a[:, :, :4] == a[0, 0, 0]).all() and (a[:, :, 4:] == a[0, 0, 7]).all()
    assert a[0, 0, 0] != a[0, 0, 7]


def test_spatial_weight_splits_uniform_features_by_position():
    feats = torch.ones(1, 4, 8, 8)
    ids = region_clusters(feats, grid=4, clusters=2, lam=1.0)
    assert ids[0, 0, 0] != ids[0, 7, 7]  # same features everywhere: only position can separate them


def test_kmeans_caps_k_and_keeps_empty_clusters_alive():
    pts = torch.tensor([[0.0, 0.0], [0.0, 0.1], [5.0, 5.0]])
    assert kmeans(pts, 10).max() <= 2
    lab = kmeans(pts, 2)
    assert lab[0] == lab[1] != lab[2]


# ------------------------------------------------------------------------------------------------- memory
def test_target_position_is_the_blurred_argmax():
    r = torch.zeros(10, 20)
    r[2, 3] = 1.0  # an isolated spike
    r[6:9, 14:17] = 0.6  # a broader blob wins once blurred
    assert torch.allclose(target_position(r, 0.0), torch.tensor([2.5 / 10, 3.5 / 20]))
    assert torch.allclose(target_position(r, 1.0), torch.tensor([7.5 / 10, 15.5 / 20]))
    blurred = gaussian_blur(r, 1.0)
    assert torch.allclose(blurred[5:10, 12:19].sum(), r[6:9, 14:17].sum(), rtol=0.05)  # normalised kernel
    assert torch.equal(gaussian_blur(r, 0.0), r)


def test_short_term_memory_takes_recent_frames_within_beta():
    pos = [
        torch.tensor([0.5, 0.5]),
        torch.tensor([0.9, 0.9]),
        torch.tensor([0.55, 0.5]),
        torch.tensor([0.5, 0.6]),
    ]
    cur = torch.tensor([0.5, 0.5])
    assert select_short_term(pos, cur, 0.15, 10) == [0, 2, 3]
    assert select_short_term(pos, cur, 0.15, 2) == [2, 3]  # the most recent ones
    assert select_short_term(pos, cur, 0.06, 10) == [0, 2]
    assert select_short_term(pos, cur, 0.04, 10) == [0]
    assert select_short_term(pos, cur, 0.15, 0) == []


def test_ious():
    a = torch.zeros(4, 4, dtype=torch.bool)
    b = a.clone()
    assert mask_iou(a, b) == 1.0
    a[:2] = True
    b[1:3] = True
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    x = torch.rand(5, 5)
    assert soft_iou(x, x) == 1.0 and soft_iou(x, 1 - x) < 0.6


def test_frechet_distance():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(200, 3, generator=gen)
    sa = FeatureStats.of(a)
    assert frechet_distance(sa, sa) == pytest.approx(0.0, abs=1e-8)
    shifted = FeatureStats.of(a + torch.tensor([3.0, 0.0, 0.0]))
    assert frechet_distance(sa, shifted) == pytest.approx(9.0, rel=1e-6)  # same covariance: |mu diff|^2
    # closed form for diagonal covariances: sum (sqrt(s1) - sqrt(s2))^2
    d1, d2 = (
        FeatureStats(torch.zeros(2, dtype=torch.float64), torch.diag(torch.tensor([1.0, 4.0]).double())),
        FeatureStats(torch.zeros(2, dtype=torch.float64), torch.diag(torch.tensor([4.0, 9.0]).double())),
    )
    assert frechet_distance(d1, d2) == pytest.approx(1.0 + 1.0)


def _stats(v):
    return FeatureStats(torch.tensor([float(v), 0.0], dtype=torch.float64), torch.eye(2, dtype=torch.float64))


def test_long_term_memory_prunes_the_least_distinct_not_the_oldest():
    mem = LongTermMemory(3, "distinct")
    for name, v in (("a", 0.0), ("b", 10.0), ("c", 10.5), ("d", 20.0)):
        mem.add(name, _stats(v))
    assert mem.entries == ["a", "c", "d"]  # b and c are near twins: the older of them goes
    fifo = LongTermMemory(3, "fifo")
    for name, v in (("a", 0.0), ("b", 10.0), ("c", 10.5), ("d", 20.0)):
        fifo.add(name, _stats(v))
    assert fifo.entries == ["b", "c", "d"]
    off = LongTermMemory(0)
    off.add("a", _stats(0))
    assert len(off) == 0
    with pytest.raises(ValueError, match="prune"):
        LongTermMemory(2, "lru")


# ------------------------------------------------------------------------------------------------- fusion
def test_fusion_weights_sum_to_one_favour_the_better_branch_and_stay_finite_at_zero_loss():
    recons = {"forward": torch.ones(3, 1), "backward": torch.zeros(3, 1), "plain": torch.full((3, 1), 2.0)}
    losses = {"forward": torch.tensor(0.5), "backward": torch.tensor(1.0), "plain": torch.tensor(2.0)}
    fused, w = fuse(recons, losses, 1e-6)
    total = sum(w.values())
    assert float(total) == pytest.approx(1.0)
    assert w["forward"] > w["backward"] > w["plain"]
    assert float(w["forward"]) == pytest.approx((1 / 0.5) / (1 / 0.5 + 1 / 1.0 + 1 / 2.0), rel=1e-5)
    zero = {**losses, "backward": torch.tensor(0.0)}
    fused0, w0 = fuse(recons, zero, 1e-6)
    assert all(torch.isfinite(v) for v in w0.values()) and torch.isfinite(fused0).all()
    assert float(w0["backward"]) > 0.999


# --------------------------------------------------------------------------------------------- objective
def test_lab_normalisation():
    white = torch.ones(3, 2, 2)
    lab = normalized_lab(white)
    assert torch.allclose(lab[0], torch.ones(2, 2), atol=1e-4)  # L = 100 -> (100 - 50) / 50
    assert torch.allclose(lab[1:], torch.zeros(2, 2, 2), atol=1e-4)
    assert LAB_MEAN == (50.0, 0.0, 0.0) and LAB_STD == (50.0, 127.0, 127.0)


def test_channel_drop_zeroes_one_chroma_channel_and_scales_the_other():
    net = DMPNet(**SMALL, settings={"memory_size": [1, 1], "train_radius": 2})
    seen = {}
    net.encoder.trunk.conv1.register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0].clone()))
    images = torch.rand(2, 3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    net.clip_losses(images, drop=torch.tensor([1, 2]))
    x = seen["x"].view(2, 3, 3, 16, 16)
    lab = normalized_lab(images)
    assert (x[0, :, 1] == 0).all() and torch.allclose(x[0, :, 2], KEEP_SCALE * lab[0, :, 2])
    assert (x[1, :, 2] == 0).all() and torch.allclose(x[1, :, 1], KEEP_SCALE * lab[1, :, 1])
    assert torch.allclose(x[:, :, 0], lab[:, :, 0])


def test_objective_is_finite_differentiable_and_reports_branches():
    torch.manual_seed(0)
    net = DMPNet(**SMALL, settings={"memory_size": [2, 2], "train_radius": 2})
    out = net.clip_losses(torch.rand(2, 4, 3, 16, 16))
    assert {"loss", "recon", "loss_forward", "loss_backward", "loss_plain", "weight_forward"} <= set(out)
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(p.grad is not None for p in net.parameters())
    single = DMPNet(
        **SMALL,
        settings={"bidirectional": False, "clustering": False, "short_term": False, "long_term": False},
    )
    out1 = single.clip_losses(torch.rand(1, 3, 3, 16, 16))
    assert float(out1["references"]) == 1.0 and float(out1["loss"].detach()) == pytest.approx(
        float(out1["recon"].detach())
    )


def test_training_references_follow_the_memory_rules():
    net = DMPNet(**SMALL, settings={"memory_size": [2, 1], "beta": 0.15, "gamma": 0.85, "blur_sigma": 0.0})
    feats = torch.zeros(5, 2, 8, 8)
    for t, (y, x) in enumerate([(1, 1), (6, 6), (4, 4), (4, 5), (4, 4)]):  # frame 4 is the query
        feats[t, 0, y, x] = 5.0
    chan = torch.zeros(5, 8, 8)
    refs = net.training_references(feats, chan)
    assert set(refs) - {0} == {2, 3}  # short-term: frames 2 and 3 lie within beta of the query's target
    net_off = DMPNet(**SMALL, settings={"short_term": False, "long_term": False})
    assert net_off.training_references(feats, chan) == [3]  # single reference: the previous frame


def test_settings_refuse_unknown_and_bad_values():
    with pytest.raises(ValueError, match="unknown DMP settings"):
        DMPSettings.from_dict({"betta": 0.1})
    with pytest.raises(ValueError, match="memory_size"):
        DMPSettings(memory_size=(1,))
    with pytest.raises(ValueError, match="prune"):
        DMPSettings(prune="random")
    assert DMPSettings().branches() == ["forward", "backward", "plain"]
    assert DMPSettings(bidirectional=False).branches() == ["forward"]

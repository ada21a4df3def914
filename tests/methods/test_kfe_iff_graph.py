"""SUSHI's hierarchy: invariants, edge features on hand-computed cases, labels, the flow projector, the MPN,
the oracle, one optimisation step, and IFF / KFE in isolation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from tests.methods.kfe_iff_fixtures import walkers
from zoo.methods.kfe_iff.hierarchy import (
    build_edges,
    edge_features,
    edge_labels,
    level0_nodes,
    merge_nodes,
    window_of,
)
from zoo.methods.kfe_iff.iff import IFF, frame_graph
from zoo.methods.kfe_iff.kfe import KFEConfig, frame_descriptors, key_frame_segments
from zoo.methods.kfe_iff.losses import focal_loss
from zoo.methods.kfe_iff.model import SushiNet, levels_for
from zoo.methods.kfe_iff.mpn import MPN
from zoo.methods.kfe_iff.projector import flow_violations, project_flow


def _two_node_level(boxes_a, boxes_b, frames_a=(1, 1), frames_b=(3, 3), feats=((0.0, 0.0), (3.0, 4.0))):
    """Two nodes (a ends before b starts) at some level, with given boxes and features."""
    nodes = level0_nodes(np.array([frames_a[0], frames_b[0]]), np.array([boxes_a, boxes_b], float),
                         torch.tensor(feats, dtype=torch.float64), np.array([5, 5]), np.array([0, 1]))
    nodes.end = np.array([frames_a[1], frames_b[1]])
    return nodes


def test_edge_features_on_a_hand_computed_pair():
    # a: x 10..30, y 0..40 (h 40, w 20), frame 1;  b: x 20..60, y 10..90 (h 80, w 40), frame 3
    nodes = _two_node_level([10, 0, 30, 40], [20, 10, 60, 90])
    f = edge_features(nodes, np.array([0]), np.array([1]), level=0, fps=10.0).numpy()[0]
    mean_h = 60.0
    expect = [0.2, (40 - 20) / mean_h, (90 - 40) / mean_h, np.log(2.0), np.log(2.0), 5.0]
    np.testing.assert_allclose(f, expect, rtol=1e-9, atol=1e-9)
    assert edge_features(nodes, np.array([0]), np.array([1]), level=1, fps=10.0).shape == (1, 7)


def test_forecast_giou_is_one_for_a_perfect_linear_motion_and_missing_for_single_frames():
    # two tracklets moving +2 px/frame in x: a covers frames 1..3, b covers 7..9; forecasts meet exactly
    nodes = _two_node_level([0, 0, 10, 20], [12, 0, 22, 20], frames_a=(1, 3), frames_b=(7, 9))
    nodes.start_box = np.array([[0, 0, 10, 20], [12, 0, 22, 20]], float)
    nodes.end_box = np.array([[4, 0, 14, 20], [16, 0, 26, 20]], float)
    f = edge_features(nodes, np.array([0]), np.array([1]), level=2, fps=10.0).numpy()[0]
    assert f[6] == pytest.approx(1.0)
    single = _two_node_level([0, 0, 10, 20], [12, 0, 22, 20])
    assert edge_features(single, np.array([0]), np.array([1]), level=1, fps=10.0).numpy()[0, 6] == -2.0


def test_hierarchy_invariants_every_level():
    clip = walkers(seed=1, frames=32, people=8, false_positives=10)
    net = SushiNet(16, hierarchy={"num_levels": 5})
    nodes = level0_nodes(clip.frames, clip.boxes, clip.feat, clip.gt, clip.slots)
    total = levels_for(clip.slots, 5)
    assert total == 5
    for level in range(total):
        last = level == total - 1
        src, dst = build_edges(nodes, level, last, top_k=10)
        # every edge goes forward in time, inside one window, never within a frame
        assert (nodes.end[src] < nodes.start[dst]).all()
        win = window_of(nodes, level, last)
        assert (win[src] == win[dst]).all()
        # coverage: a level-d window spans at most 2 ** (d + 1) frames (the last: the clip)
        if not last:
            for w in np.unique(win):
                members = win == w
                assert nodes.end[members].max() - nodes.start[members].min() < 2 ** (level + 1)
        # top-k: no node has more than k kept edges on either side... and reciprocal: each is in both lists
        assert np.bincount(src, minlength=len(nodes)).max(initial=0) <= 10
        assert np.bincount(dst, minlength=len(nodes)).max(initial=0) <= 10
        lab = edge_labels(nodes, src, dst, level, last)
        keep = project_flow(src, dst, lab, len(nodes))
        nodes = merge_nodes(nodes, src[keep], dst[keep], clip.gt)
        # every detection belongs to exactly one node of the next level, and nodes are non-empty
        assert nodes.det_node.shape == (len(clip),)
        assert np.array_equal(np.unique(nodes.det_node), np.arange(len(nodes)))
        # a node never holds two detections of one frame
        pairs = np.stack([nodes.det_node, clip.frames], 1)
        assert np.unique(pairs, axis=0).shape[0] == len(clip)
    del net


def test_labels_mark_only_the_next_same_id_node():
    frames = np.array([1, 2, 3, 3])
    boxes = np.array([[0, 0, 10, 20]] * 4, float)
    nodes = level0_nodes(frames, boxes, torch.zeros(4, 2), np.array([7, 7, 7, -1]), np.zeros(4, np.int64))
    src = np.array([0, 0, 1, 0, 1])
    dst = np.array([1, 2, 2, 3, 3])
    np.testing.assert_array_equal(edge_labels(nodes, src, dst, 0, True), [1, 0, 1, 0, 0])


def test_merge_takes_ends_mean_appearance_and_majority_id():
    frames = np.array([1, 2, 3, 4])
    boxes = np.array([[0, 0, 10, 20], [1, 0, 11, 20], [2, 0, 12, 20], [50, 0, 60, 20]], float)
    feat = torch.tensor([[1.0, 0], [3.0, 0], [5.0, 0], [9.0, 9.0]])
    det_gt = np.array([4, 4, -1, 2])
    nodes = level0_nodes(frames, boxes, feat, det_gt, np.zeros(4, np.int64))
    merged = merge_nodes(nodes, np.array([0, 1]), np.array([1, 2]), det_gt)
    assert len(merged) == 2
    k = merged.det_node[0]
    assert merged.start[k] == 1 and merged.end[k] == 3
    np.testing.assert_array_equal(merged.start_box[k], boxes[0])
    np.testing.assert_array_equal(merged.end_box[k], boxes[2])
    torch.testing.assert_close(merged.feat[k], torch.tensor([3.0, 0.0]))
    assert merged.gt[k] == 4  # 2 of 3 detections: a majority
    merged2 = merge_nodes(nodes, np.array([0, 2]), np.array([2, 3]), np.array([4, 5, 6, 7]))
    assert merged2.gt[merged2.det_node[0]] == -1  # 1 of 3: no majority


def _brute_force(src, dst, prob, m, threshold=0.5):
    best_val = 0.0
    for bits in itertools.product([0, 1], repeat=src.size):
        x = np.array(bits, bool)
        if flow_violations(src, dst, x, m):
            continue
        val = float(((prob - threshold) * x).sum())
        if val > best_val + 1e-12:
            best_val = val
    return best_val


@pytest.mark.parametrize("seed", range(20))
def test_lp_projector_is_feasible_and_optimal_on_tiny_graphs(seed):
    rng = np.random.default_rng(seed)
    m = 6
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)]
    pick = rng.choice(len(pairs), size=9, replace=False)
    src = np.array([pairs[p][0] for p in pick])
    dst = np.array([pairs[p][1] for p in pick])
    prob = rng.uniform(0.3, 1.0, src.size)
    for method in ("lp", "greedy"):
        keep = project_flow(src, dst, prob, m, method=method)
        assert flow_violations(src, dst, keep, m) == 0
        assert (prob[keep] > 0.5).all()
    keep = project_flow(src, dst, prob, m, method="lp")
    assert float(((prob - 0.5) * keep).sum()) == pytest.approx(_brute_force(src, dst, prob, m))


def test_projector_keeps_a_conflict_free_selection_unchanged():
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 3])
    prob = np.array([0.9, 0.4, 0.8])
    np.testing.assert_array_equal(project_flow(src, dst, prob, 4), [True, False, True])


def test_mpn_shapes_and_direction_outputs():
    mpn = MPN(6, 16)
    x = torch.zeros(5, 16)
    src, dst = np.array([0, 1, 2]), np.array([3, 3, 4])
    out = mpn(x, src, dst, torch.randn(3, 6), torch.zeros(16))
    assert out.shape == (11, 2, 3)
    assert sum(p.numel() for p in mpn.parameters()) > 0


def test_focal_loss_gamma_zero_is_bce_and_gamma_discounts_easy_edges():
    logits = torch.tensor([3.0, -2.0, 0.1])
    labels = torch.tensor([1.0, 0.0, 1.0])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    torch.testing.assert_close(focal_loss(logits, labels, 0.0), bce)
    assert focal_loss(logits, labels, 1.0) < bce


def test_oracle_edges_recover_every_identity_across_a_gap():
    clip = walkers(seed=3, frames=32, people=6, gap=(9, 14))
    net = SushiNet(16, hierarchy={"num_levels": 5})
    tracks = net.oracle(clip)
    # one trajectory per identity, each pure
    assert len(set(zip(tracks.tolist(), clip.gt.tolist()))) == 6
    assert len(np.unique(tracks)) == 6


def test_one_optimisation_step_lowers_the_loss():
    torch.manual_seed(0)
    clip = walkers(seed=2, frames=16, people=5)
    net = SushiNet(16, hierarchy={"num_levels": 4}, iff={"mode": "gcn"})
    opt = torch.optim.Adam(net.parameters(), lr=3e-4, weight_decay=1e-4)
    _, before, _ = net.solve(clip, 1, with_loss=True)
    opt.zero_grad()
    before.backward()
    assert net.iff.b.grad is not None and net.mpn0.classifier[0].weight.grad.abs().sum() > 0
    opt.step()
    _, after, _ = net.solve(clip, 1, with_loss=True)
    assert after.item() < before.item()


def test_iff_with_b_zero_is_the_identity_bit_for_bit():
    clip = walkers(seed=4)
    for mode in ("gcn", "average"):
        iff = IFF(16, mode=mode, b=0.0)
        out = iff(clip.feat, clip.frames, clip.boxes)
        assert torch.equal(out, clip.feat)


def test_iff_average_mixes_only_same_frame_neighbours():
    frames = np.array([1, 1, 1, 2])
    boxes = np.array([[0, 0, 10, 40], [12, 0, 22, 40], [500, 0, 510, 40], [0, 0, 10, 40]], float)
    feat = torch.tensor([[1.0], [3.0], [7.0], [100.0]])
    out = IFF(1, mode="average", a=1.0, b=0.5)(feat, frames, boxes)
    torch.testing.assert_close(out, torch.tensor([[1 + 1.5], [3 + 0.5], [7 + 3.5], [100 + 50.0]]))
    src, dst = frame_graph(frames, boxes)
    assert set(zip(src.tolist(), dst.tolist())) == {(0, 1), (1, 0)}


def test_iff_gcn_rows_sum_symmetric_normalisation():
    # with identity weights and no ReLU effect (positive inputs), one propagation of ones gives
    # sum_j 1/sqrt(d_i d_j) over the closed neighbourhood
    iff = IFF(1, mode="gcn")
    frames = np.array([1, 1, 1])
    boxes = np.array([[0, 0, 10, 40], [12, 0, 22, 40], [24, 0, 34, 40]], float)
    s, d = frame_graph(frames, boxes, radius=0.4)  # centre distance 12 < 0.4 * 40 = 16: a chain 0-1-2
    deg = torch.tensor([2.0, 3.0, 2.0])
    out = iff._propagate(torch.ones(3, 1), torch.as_tensor(s), torch.as_tensor(d), deg.rsqrt())
    expect = torch.tensor([1 / 2 + 1 / np.sqrt(6), 1 / 3 + 2 / np.sqrt(6), 1 / 2 + 1 / np.sqrt(6)],
                          dtype=torch.float32)[:, None]
    torch.testing.assert_close(out, expect)


def test_kfe_respects_bounds_and_is_seeded():
    rng = np.random.default_rng(0)
    # three scenes with different appearance: 40, 25 and 60 frames
    phi = np.concatenate([np.tile(rng.normal(size=8), (n, 1)) + 0.05 * rng.normal(size=(n, 8))
                          for n in (40, 25, 60)])
    phi /= np.linalg.norm(phi, axis=1, keepdims=True)
    cfg = KFEConfig(min_len=8, max_len=32, episodes=60, seed=3)
    seg = key_frame_segments(phi, cfg)
    lengths = seg[:, 1] - seg[:, 0] + 1
    assert seg[0, 0] == 0 and seg[-1, 1] == len(phi) - 1
    assert (seg[1:, 0] == seg[:-1, 1] + 1).all()
    assert (lengths[:-1] >= 8).all() and (lengths <= 32).all()
    np.testing.assert_array_equal(seg, key_frame_segments(phi, cfg))
    other = key_frame_segments(phi, KFEConfig(min_len=8, max_len=32, episodes=60, seed=4))
    assert other.shape[1] == 2  # another seed may differ, but stays valid
    with pytest.raises(ValueError, match="min_len"):
        KFEConfig(min_len=10, max_len=5)


def test_kfe_frame_descriptors_fill_empty_frames():
    frames = np.array([2, 2, 4])
    feats = np.array([[1.0, 0], [1.0, 0], [0, 2.0]])
    phi = frame_descriptors(frames, feats, 1, 5)
    np.testing.assert_allclose(phi, [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]])


def test_kfe_frame_descriptors_in_chunks_equal_one_pass(monkeypatch):
    """Long sequences are normalised a chunk of rows at a time (bounded memory): bit-identical output."""
    import zoo.methods.kfe_iff.kfe as kfe

    rng = np.random.default_rng(0)
    frames = np.sort(rng.integers(1, 40, 500))
    feats = rng.normal(size=(500, 8)).astype(np.float32)
    whole = frame_descriptors(frames, feats, 1, 45)
    monkeypatch.setattr(kfe, "_CHUNK_ROWS", 7)
    assert np.array_equal(frame_descriptors(frames, feats, 1, 45), whole)

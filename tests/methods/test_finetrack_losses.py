"""FineTrack's loss terms and weights on hand-made cases."""

from __future__ import annotations

import math

import pytest
import torch

from zoo.methods.finetrack.losses import FineTrackLoss, batch_hard_triplet, diversity_loss


def test_diversity_is_mean_off_diagonal_cosine_on_hand_made_vectors():
    s = 1 / math.sqrt(2)
    # target 0: parts e1, e2, (e1 + e2)/sqrt2 -> pairwise cosines 0, s, s (each counted twice: i != j ordered)
    # target 1: three identical parts -> cosine 1 for all 6 ordered pairs
    parts = torch.tensor(
        [
            [[1.0, 0.0], [0.0, 1.0], [3.0, 3.0]],
            [[2.0, 1.0], [4.0, 2.0], [0.2, 0.1]],
        ]
    )
    expected = (2 * (0 + s + s) + 6 * 1.0) / (2 * 3 * 2)
    assert diversity_loss(parts).item() == pytest.approx(expected, abs=1e-6)


def test_diversity_of_orthogonal_parts_is_zero_and_of_one_part_is_zero():
    assert diversity_loss(torch.eye(4).expand(3, 4, 4)).item() == pytest.approx(0.0, abs=1e-7)
    one = torch.ones(2, 1, 3, requires_grad=True)
    assert diversity_loss(one).item() == 0.0  # K = 1: no pair of different parts
    diversity_loss(one).backward()  # and it still backpropagates (zero gradient)
    assert one.grad is not None and not one.grad.any()
    with pytest.raises(ValueError, match="at least 1 part"):
        diversity_loss(torch.ones(2, 0, 3))


def test_batch_hard_triplet_on_points_of_a_line():
    # labels 0 0 1 1 at x = 0 1 3 5: only the anchor at 3 violates the margin: d_ap = 2, d_an = 2 -> 0.3
    feats = torch.tensor([[0.0], [1.0], [3.0], [5.0]])
    labels = torch.tensor([0, 0, 1, 1])
    assert batch_hard_triplet(feats, labels, 0.3).item() == pytest.approx(0.3 / 4, abs=1e-5)
    # an identity seen once has no positive: it adds no anchor (still 4 valid anchors), but it is a negative
    feats5 = torch.cat([feats, torch.tensor([[2.0]])])
    labels5 = torch.tensor([0, 0, 1, 1, 2])
    # anchors: 0 (pos 1, neg 2) 0; 1 (pos 1, neg 1) 0.3; 3 (pos 2, neg 1) 1.3; 5 (pos 2, neg 3) 0
    assert batch_hard_triplet(feats5, labels5, 0.3).item() == pytest.approx((0 + 0.3 + 1.3 + 0) / 4, abs=1e-5)


def test_batch_hard_triplet_batched_equals_mean_of_sets_and_handles_no_valid_anchor():
    torch.manual_seed(0)
    feats = torch.randn(3, 6, 4)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    per_set = [batch_hard_triplet(f, labels).item() for f in feats]
    assert batch_hard_triplet(feats, labels).item() == pytest.approx(sum(per_set) / 3, rel=1e-5)
    x = torch.randn(3, 4, requires_grad=True)
    zero = batch_hard_triplet(x, torch.tensor([0, 1, 2]))
    assert zero.item() == 0.0 and zero.requires_grad


def _hand_case(k: int) -> dict[str, torch.Tensor]:
    labels = torch.tensor([0, 0, 1, 1])
    n, ids = 4, 3
    part_line = torch.tensor([0.0, 1.0, 3.0, 5.0])  # triplet 0.3 / 4 (see above), for every part
    global_line = torch.tensor([0.0, 1.0, 1.2, 5.0])  # anchors: 0.1, 1.1, 3.9, 0.1 -> mean 1.3
    return {
        "part_logits": torch.zeros(n, k, ids),  # uniform prediction: CE = log 3 with or without smoothing
        "global_logits": torch.zeros(n, ids),
        "part_feats": part_line.view(n, 1, 1).expand(n, k, 1).clone(),
        "global_feat": global_line.view(n, 1),
        "part_bn": torch.ones(n, k, 2),  # identical parts: L_div = 1
        "labels": labels,
    }


@pytest.mark.parametrize("k", [4, 6])
def test_loss_weights_alpha_half_k_beta_gamma_on_hand_case(k):
    loss = FineTrackLoss(num_parts=k)
    assert loss.alpha == 0.5 * k and loss.beta == 0.3 and loss.gamma == 2.0
    assert loss.label_smoothing == 0.1 and loss.margin == 0.3
    out = loss(**_hand_case(k))
    log3 = math.log(3)
    assert out["cls_part"].item() == pytest.approx(log3, abs=1e-6)
    assert out["tri_part"].item() == pytest.approx(0.075, abs=1e-5)
    assert out["cls_global"].item() == pytest.approx(log3, abs=1e-6)
    assert out["tri_global"].item() == pytest.approx(1.3, abs=1e-5)
    assert out["div"].item() == pytest.approx(1.0, abs=1e-6)
    expected = 0.5 * k * (log3 + 0.075) + 0.3 * (log3 + 1.3) + 2.0 * 1.0
    assert out["loss"].item() == pytest.approx(expected, abs=1e-5)


def test_cross_entropy_uses_label_smoothing_point_one():
    case = _hand_case(2)
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [0.0, 3.0, 1.0], [-1.0, 1.0, 0.0]])
    case["global_logits"] = logits
    out = FineTrackLoss(num_parts=2)(**case)
    logp = torch.log_softmax(logits, dim=1)
    y = case["labels"]
    eps, n_cls = 0.1, 3
    manual = (-(1 - eps) * logp[torch.arange(4), y] - eps / n_cls * logp.sum(1)).mean()
    assert out["cls_global"].item() == pytest.approx(manual.item(), abs=1e-6)


def test_labels_out_of_range_are_rejected():
    case = _hand_case(2)
    case["labels"] = torch.tensor([0, 0, 1, 3])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        FineTrackLoss(num_parts=2)(**case)


def test_losses_stay_finite_in_half_precision_and_under_autocast():
    torch.manual_seed(0)
    feats = torch.randn(6, 8)
    feats[1] = feats[0]  # identical rows: zero distance, the case that breaks float16 sqrt gradients
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    half = feats.half().requires_grad_()
    loss = batch_hard_triplet(half, labels)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(half.grad).all()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        x = feats.clone().requires_grad_()
        tri = batch_hard_triplet(x @ torch.eye(8), labels)  # the matmul runs in bfloat16
        div = diversity_loss((x @ torch.eye(8)).view(3, 2, 8))
    assert tri.dtype == torch.float32 and div.dtype == torch.float32
    (tri + div).backward()
    assert torch.isfinite(x.grad).all()
    ref = batch_hard_triplet(feats, labels)
    assert tri.item() == pytest.approx(ref.item(), abs=0.05)

"""Box conversions and overlaps: hand-computed cases, numpy/torch agreement, a per-pair loop reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from zoo.core.boxes import (
    FORMATS,
    box_area,
    box_giou,
    box_iou,
    clip_boxes,
    convert,
    cxcywh_to_xyxy,
    mot_to_xyxy,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_mot,
    xyxy_to_xywh,
)


def _random_xyxy(rng: np.random.Generator, *shape: int) -> np.ndarray:
    xy = rng.uniform(-20, 100, size=(*shape, 2))
    wh = rng.uniform(0.5, 60, size=(*shape, 2))
    return np.concatenate([xy, xy + wh], axis=-1)


def _loop_iou_giou(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straightforward per-pair reference in plain Python floats."""
    iou = np.zeros((len(a), len(b)))
    giou = np.zeros((len(a), len(b)))
    for i, (ax0, ay0, ax1, ay1) in enumerate(a.tolist()):
        for j, (bx0, by0, bx1, by1) in enumerate(b.tolist()):
            iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
            ih = max(0.0, min(ay1, by1) - max(ay0, by0))
            inter = iw * ih
            union = (
                max(0.0, ax1 - ax0) * max(0.0, ay1 - ay0) + max(0.0, bx1 - bx0) * max(0.0, by1 - by0) - inter
            )
            enclose = (max(ax1, bx1) - min(ax0, bx0)) * (max(ay1, by1) - min(ay0, by0))
            iou[i, j] = inter / union if union > 0 else 0.0
            giou[i, j] = iou[i, j] - ((enclose - union) / enclose if enclose > 0 else 0.0)
    return iou, giou


# ------------------------------------------------------------------------------------------------ conversions
def test_hand_computed_conversions():
    xyxy = np.array([1.0, 2.0, 4.0, 8.0])
    np.testing.assert_allclose(xyxy_to_xywh(xyxy), [1, 2, 3, 6])
    np.testing.assert_allclose(xyxy_to_cxcywh(xyxy), [2.5, 5, 3, 6])
    np.testing.assert_allclose(xywh_to_xyxy(np.array([1.0, 2, 3, 6])), xyxy)
    np.testing.assert_allclose(cxcywh_to_xyxy(np.array([2.5, 5, 3, 6])), xyxy)


def test_motchallenge_is_one_based_xywh():
    # MOTChallenge row "left=1, top=1, w=10, h=20" is the box covering pixels 0..9 x 0..19 (0-based).
    np.testing.assert_allclose(mot_to_xyxy(np.array([1.0, 1.0, 10.0, 20.0])), [0, 0, 10, 20])
    np.testing.assert_allclose(xyxy_to_mot(np.array([0.0, 0.0, 10.0, 20.0])), [1, 1, 10, 20])
    t = mot_to_xyxy(torch.tensor([[5.5, 3.0, 2.0, 4.0]]))
    torch.testing.assert_close(t, torch.tensor([[4.5, 2.0, 6.5, 6.0]]))
    # Integer MOT files (common) come back as float.
    assert mot_to_xyxy(np.array([1, 1, 10, 20])).dtype.kind == "f"
    assert xyxy_to_mot(np.array([0, 0, 10, 20])).dtype.kind == "f"


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_round_trips_all_formats(lib):
    rng = np.random.default_rng(0)
    boxes = _random_xyxy(rng, 3, 7)  # batched leading dims
    b = torch.from_numpy(boxes) if lib == "torch" else boxes
    for src, dst in itertools.product(FORMATS, FORMATS):
        there = convert(convert(b, "xyxy", src), src, dst)
        back = convert(there, dst, "xyxy")
        np.testing.assert_allclose(np.asarray(back), boxes, atol=1e-9)
        assert type(back) is type(b) and back.shape == b.shape
    np.testing.assert_allclose(np.asarray(mot_to_xyxy(xyxy_to_mot(b))), boxes, atol=1e-9)


def test_conversions_keep_float32_and_differentiable():
    b = torch.tensor([[1.0, 2.0, 5.0, 9.0]], requires_grad=True)
    out = xyxy_to_cxcywh(b)
    assert out.dtype == torch.float32
    out.sum().backward()
    torch.testing.assert_close(b.grad, torch.tensor([[-0.5, -0.5, 1.5, 1.5]]))  # d(cx + w)/dx0 = 1/2 - 1
    n = np.zeros((2, 4), dtype=np.float32)
    for f in (xyxy_to_xywh, xywh_to_xyxy, xyxy_to_cxcywh, cxcywh_to_xyxy, mot_to_xyxy, xyxy_to_mot):
        assert f(n).dtype == np.float32, f.__name__


def test_bad_shapes_and_formats_raise():
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        xyxy_to_xywh(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="box formats"):
        convert(np.zeros((1, 4)), "xyxy", "tlbr")
    with pytest.raises(ValueError):
        box_iou(np.zeros((2, 3)), np.zeros((2, 4)))


# ------------------------------------------------------------------------------------------------ overlaps
HAND_CASES = [
    # a, b, IoU, GIoU
    ([0, 0, 2, 2], [1, 1, 3, 3], 1 / 7, 1 / 7 - 2 / 9),  # overlap 1, union 7, enclosing 9
    ([0, 0, 1, 1], [2, 2, 3, 3], 0.0, -7 / 9),  # disjoint: union 2, enclosing 9
    ([0, 0, 4, 4], [1, 1, 2, 2], 1 / 16, 1 / 16),  # containment: enclosing == union
    ([0, 0, 2, 1], [1, 0, 3, 1], 1 / 3, 1 / 3),  # side by side, half overlap
    ([0, 0, 2, 2], [0, 0, 2, 2], 1.0, 1.0),
    ([0, 0, 1, 1], [1, 0, 2, 1], 0.0, 0.0),  # touching edges: enclosing == union
]


@pytest.mark.parametrize("a,b,iou,giou", HAND_CASES)
@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_hand_computed_iou_giou(a, b, iou, giou, lib):
    conv = (
        (lambda x: torch.tensor([x], dtype=torch.float64))
        if lib == "torch"
        else (lambda x: np.array([x], float))
    )
    got_iou = np.asarray(box_iou(conv(a), conv(b)))
    got_giou = np.asarray(box_giou(conv(a), conv(b)))
    np.testing.assert_allclose(got_iou, [[iou]], atol=1e-12)
    np.testing.assert_allclose(got_giou, [[giou]], atol=1e-12)
    # Symmetric in its arguments.
    np.testing.assert_allclose(np.asarray(box_iou(conv(b), conv(a))), [[iou]], atol=1e-12)


def test_random_against_per_pair_loop_and_torch():
    rng = np.random.default_rng(1)
    a, b = _random_xyxy(rng, 9), _random_xyxy(rng, 13)
    ref_iou, ref_giou = _loop_iou_giou(a, b)
    assert (ref_iou > 0).sum() > 5 and (ref_iou == 0).sum() > 5  # both regimes are exercised
    np.testing.assert_allclose(box_iou(a, b), ref_iou, atol=1e-12)
    np.testing.assert_allclose(box_giou(a, b), ref_giou, atol=1e-12)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    np.testing.assert_allclose(box_iou(ta, tb).numpy(), ref_iou, atol=1e-12)
    np.testing.assert_allclose(box_giou(ta, tb).numpy(), ref_giou, atol=1e-12)
    # float32 torch agrees to float32 precision
    np.testing.assert_allclose(box_iou(ta.float(), tb.float()).numpy(), ref_iou, atol=1e-5)
    np.testing.assert_allclose(box_area(a), (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]), rtol=1e-12)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_batched_leading_dims(lib):
    rng = np.random.default_rng(2)
    a, b = _random_xyxy(rng, 2, 3, 5), _random_xyxy(rng, 2, 3, 4)
    conv = torch.from_numpy if lib == "torch" else np.asarray
    iou = np.asarray(box_iou(conv(a), conv(b)))
    giou = np.asarray(box_giou(conv(a), conv(b)))
    assert iou.shape == (2, 3, 5, 4)
    for i, j in itertools.product(range(2), range(3)):
        ref_iou, ref_giou = _loop_iou_giou(a[i, j], b[i, j])
        np.testing.assert_allclose(iou[i, j], ref_iou, atol=1e-12)
        np.testing.assert_allclose(giou[i, j], ref_giou, atol=1e-12)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_degenerate_boxes_give_finite_values(lib):
    boxes = np.array(
        [
            [1.0, 1.0, 1.0, 1.0],  # a point
            [0.0, 0.0, 4.0, 0.0],  # a horizontal line
            [3.0, 3.0, 1.0, 1.0],  # inverted: area 0
            [0.0, 0.0, 2.0, 2.0],
        ]
    )
    conv = torch.from_numpy if lib == "torch" else np.asarray
    iou = np.asarray(box_iou(conv(boxes), conv(boxes)))
    giou = np.asarray(box_giou(conv(boxes), conv(boxes)))
    assert np.isfinite(iou).all() and np.isfinite(giou).all()
    np.testing.assert_allclose(np.asarray(box_area(conv(boxes))), [0, 0, 0, 4])
    # Zero-area boxes never overlap anything (union 0 -> IoU 0 by convention, not NaN).
    np.testing.assert_allclose(iou[:3], 0.0)
    assert iou[3, 3] == 1.0
    # A point inside a box: enclosing box == the box == union, so no GIoU penalty.
    np.testing.assert_allclose(giou[0, 3], 0.0)
    assert ((giou >= -1) & (giou <= 1)).all()


def test_empty_inputs():
    e = np.zeros((0, 4))
    assert box_iou(e, _random_xyxy(np.random.default_rng(0), 3)).shape == (0, 3)
    assert box_giou(torch.zeros(2, 4), torch.zeros(0, 4)).shape == (2, 0)


def test_torch_gradients_are_finite_for_degenerate_and_disjoint_boxes():
    a = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]], requires_grad=True)
    b = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 3.0, 3.0]], requires_grad=True)
    (box_iou(a, b).sum() + box_giou(a, b).sum()).backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    # GIoU has a useful gradient for disjoint boxes (IoU has none): growing a[2] towards the others
    # (decreasing its x0) raises the union and leaves the enclosing box unchanged, so GIoU increases.
    assert a.grad[2, 0] < 0


def test_integer_boxes_numpy_and_torch():
    a = np.array([[0, 0, 2, 2]])
    b = np.array([[1, 1, 3, 3]])
    np.testing.assert_allclose(box_iou(a, b), [[1 / 7]])
    torch.testing.assert_close(box_iou(torch.from_numpy(a), torch.from_numpy(b)), torch.tensor([[1 / 7]]))
    torch.testing.assert_close(
        box_giou(torch.from_numpy(a), torch.from_numpy(b)), torch.tensor([[1 / 7 - 2 / 9]])
    )


def test_iou_eps_and_clip():
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    np.testing.assert_allclose(box_iou(a, a, eps=4.0), [[0.5]])
    boxes = np.array([[-5.0, 2.0, 30.0, 50.0]], dtype=np.float32)
    out = clip_boxes(boxes, width=20, height=40)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0, 2, 20, 40]])
    torch.testing.assert_close(clip_boxes(torch.from_numpy(boxes), 20, 40), torch.tensor([[0.0, 2, 20, 40]]))


def test_core_package_reexports_every_name_lazily():
    import zoo.core as core

    assert core.__all__ == sorted(core._WHERE)
    for name in core.__all__:
        module = __import__(core._WHERE[name], fromlist=[name])
        assert getattr(core, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no attribute"):
        core.not_a_name  # noqa: B018

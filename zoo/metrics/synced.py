"""The zoo's metrics as torchmetrics ``Metric`` s whose states sync across DDP ranks.

The scoring itself lives in the numpy-only modules (:mod:`zoo.metrics.mot`, :mod:`~zoo.metrics.vos`,
:mod:`~zoo.metrics.sot`, :mod:`~zoo.metrics.keypoints`), which re-scoring imports without torch; these classes
keep each metric's sufficient statistics as tensor states (``sum`` or ``cat``) and reduce them with the same
functions, so a sharded run under DDP gives the single-process numbers exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from zoo.core.arrays import to_numpy
from zoo.metrics.keypoints import (
    CONVENTIONS,
    DEFAULT_ALPHAS,
    JHMDB_NUM_JOINTS,
    ArrayLike,
    Convention,
    pck_from_statistics,
    pck_statistics,
)
from zoo.metrics.mot import _N_A, METRICS, SequenceStats, _add, _check_metrics, _finalize, _Totals
from zoo.metrics.sot import (
    LASOT_CONVENTIONS,
    BoxesLike,
    LaSOTConvention,
    _ao_sr,
    _ope_reduce,
    got10k_frames,
    lasot_frames,
    otb_frames,
)
from zoo.metrics.vos import BOUND_TH, VOID, VoidMode, _summary, jf_sequence

__all__ = [
    "CLEARMetric",
    "DAVISJF",
    "GOT10kAO",
    "HOTAMetric",
    "IdentityMetric",
    "JHMDBPCK",
    "LaSOTOPE",
    "MOTMetrics",
    "OTBOPE",
    "cat_state",
]


def cat_state(state: list | torch.Tensor, dtype: type = np.float64) -> np.ndarray:
    """A torchmetrics ``dist_reduce_fx="cat"`` state as one numpy array: a list of tensors before sync, one
    tensor after it (both forms occur), empty list -> empty array."""
    if isinstance(state, list) and not state:
        return np.zeros(0, dtype)
    return dim_zero_cat(state).detach().cpu().numpy().astype(dtype, copy=False)


# ------------------------------------------------------------------------------------------------------ MOT


class MOTMetrics(Metric):
    """HOTA / CLEAR / Identity / Count over sequences, DDP-reducible.

    ``update(stats)`` takes one :class:`SequenceStats` (from :func:`sequence_stats`); ``compute()``
    returns :func:`combine` 's dict. States (float64, reduced by ``sum``): ``count`` (4,), ``hota`` (7, 19)
    = TP, FN, FP and the TP-weighted per-sequence AssA, AssRe, AssPr, LocA; ``clear`` (10,) = the CLEAR
    counts + MOTP_sum; ``identity`` (3,). Counts stay exact in float64 up to 2**53.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, metrics: Iterable[str] = METRICS, **kwargs) -> None:
        super().__init__(**kwargs)
        self.metrics = _check_metrics(metrics)
        f64 = torch.float64
        self.add_state("count", default=torch.zeros(4, dtype=f64), dist_reduce_fx="sum")
        self.add_state("hota", default=torch.zeros(7, _N_A, dtype=f64), dist_reduce_fx="sum")
        self.add_state("clear", default=torch.zeros(10, dtype=f64), dist_reduce_fx="sum")
        self.add_state("identity", default=torch.zeros(3, dtype=f64), dist_reduce_fx="sum")
        self.add_state("sequences", default=torch.zeros((), dtype=f64), dist_reduce_fx="sum")

    def update(self, stats: SequenceStats) -> None:
        """Add one sequence's statistics (it must carry every family in ``self.metrics``)."""
        tot = _Totals.zeros()
        _add(tot, stats, self.metrics)
        for name in ("count", "hota", "clear", "identity"):
            state = getattr(self, name)
            state += torch.as_tensor(getattr(tot, name), dtype=state.dtype, device=state.device)
        self.sequences += 1

    def compute(self) -> dict:
        """The combined fields (as :func:`combine`)."""
        tot = _Totals(*(getattr(self, n).detach().cpu().double().numpy().copy()
                        for n in ("count", "hota", "clear", "identity")))  # fmt: skip
        return _finalize(tot, self.metrics)


class HOTAMetric(MOTMetrics):
    """:class:`MOTMetrics` restricted to HOTA (Count is always reported)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(metrics=("HOTA",), **kwargs)


class CLEARMetric(MOTMetrics):
    """:class:`MOTMetrics` restricted to CLEAR (Count is always reported)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(metrics=("CLEAR",), **kwargs)


class IdentityMetric(MOTMetrics):
    """:class:`MOTMetrics` restricted to Identity (Count is always reported)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(metrics=("Identity",), **kwargs)


# ------------------------------------------------------------------------------------------------------ VOS


class DAVISJF(Metric):
    """DAVIS-2017 J&F as a torchmetrics Metric, one :meth:`update` per sequence.

    States: flat float64 ``[mean, recall, decay]`` per object for J and for F (``cat``), the sufficient
    statistics of the global numbers; :meth:`compute` averages them with an exactly rounded sum, so the
    result does not depend on how sequences were spread over DDP ranks.
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(
        self,
        void: int | None = VOID,
        void_mode: VoidMode = "background",
        bound_th: float = BOUND_TH,
        uint8_bins: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.void = void
        self.void_mode = void_mode
        self.bound_th = bound_th
        self.uint8_bins = uint8_bins
        self.add_state("j_stats", default=[], dist_reduce_fx="cat")
        self.add_state("f_stats", default=[], dist_reduce_fx="cat")

    def update(
        self,
        gt_masks: np.ndarray | torch.Tensor,
        pred_masks: np.ndarray | torch.Tensor,
        num_objects: int | None = None,
    ) -> None:
        """One sequence: (T, H, W) integer label maps (numpy or torch), as :func:`jf_sequence`."""
        res = jf_sequence(
            gt_masks, pred_masks, num_objects, self.void, self.void_mode, self.bound_th, self.uint8_bins
        )
        for state, key in ((self.j_stats, "J"), (self.f_stats, "F")):
            stats = np.stack([res[key][s] for s in ("mean", "recall", "decay")], 1)
            state.append(torch.as_tensor(stats.ravel(), dtype=torch.float64, device=self.device))

    def compute(self) -> dict[str, torch.Tensor]:
        """The keys of :data:`SUMMARY_KEYS` plus ``num_objects``, as float64 / int64 scalars."""
        j = cat_state(self.j_stats).reshape(-1, 3)
        f = cat_state(self.f_stats).reshape(-1, 3)
        out = {key: torch.tensor(v, dtype=torch.float64) for key, v in _summary(j, f).items()}
        out["num_objects"] = torch.tensor(j.shape[0], dtype=torch.int64)
        return out


# ------------------------------------------------------------------------------------------------------ SOT


def _tensor(x: np.ndarray, device: torch.device, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=dtype, device=device)


def _scalars(res: dict) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in res.items():
        if isinstance(value, float):
            out[key] = torch.tensor(value, dtype=torch.float64)
        elif isinstance(value, np.ndarray) and key.endswith("curve"):
            out[key] = torch.as_tensor(value, dtype=torch.float64)
    return out


class OTBOPE(Metric):
    """OTB OPE (success AUC, precision@20, curves), one :meth:`update` per sequence.

    States: per-frame IoU and centre error (``cat``) and per-sequence lengths (``cat``).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, box_format: str = "xyxy", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.box_format = box_format
        self.add_state("ious", default=[], dist_reduce_fx="cat")
        self.add_state("errors", default=[], dist_reduce_fx="cat")
        self.add_state("lengths", default=[], dist_reduce_fx="cat")

    def update(self, pred: BoxesLike, gt: BoxesLike) -> None:
        """One sequence: (T, 4) predicted and ground-truth boxes."""
        iou, err = otb_frames(pred, gt, self.box_format)
        self.ious.append(_tensor(iou, self.device))
        self.errors.append(_tensor(err, self.device))
        self.lengths.append(torch.tensor([iou.size], dtype=torch.int64, device=self.device))

    def compute(self) -> dict[str, torch.Tensor]:
        """``success_auc``, ``precision_20`` (float64 scalars) and both curves."""
        res = _ope_reduce(
            cat_state(self.ious), cat_state(self.errors), None, cat_state(self.lengths, np.int64)
        )
        return _scalars(res)


class LaSOTOPE(Metric):
    """LaSOT success AUC, precision@20 and normalised precision, one :meth:`update` per sequence.

    States: per-frame IoU, centre error and normalised centre error as coded by :func:`lasot_frames` for
    the chosen ``convention`` (``cat``), and per-sequence lengths (``cat``).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(
        self, convention: LaSOTConvention = "got10k", box_format: str = "xyxy", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if convention not in LASOT_CONVENTIONS:
            raise ValueError(f"LaSOT convention must be one of {LASOT_CONVENTIONS}, got {convention!r}")
        self.convention = convention
        self.box_format = box_format
        for name in ("ious", "errors", "norm_errors", "lengths"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(
        self, pred: BoxesLike, gt: BoxesLike, visible: np.ndarray | torch.Tensor | None = None
    ) -> None:
        """One sequence: (T, 4) boxes and optional (T,) visibility (used by the pytracking convention)."""
        visible = to_numpy(visible)
        frames = lasot_frames(pred, gt, visible, self.convention, self.box_format)
        for state, values in zip((self.ious, self.errors, self.norm_errors), frames):
            state.append(_tensor(values, self.device))
        self.lengths.append(torch.tensor([frames[0].size], dtype=torch.int64, device=self.device))

    def compute(self) -> dict[str, torch.Tensor]:
        """``success_auc``, ``precision_20``, ``norm_precision`` (float64 scalars) and the three curves."""
        res = _ope_reduce(
            cat_state(self.ious),
            cat_state(self.errors),
            cat_state(self.norm_errors),
            cat_state(self.lengths, np.int64),
            self.convention,
        )
        return _scalars(res)


class GOT10kAO(Metric):
    """GOT-10k AO, SR0.5 and SR0.75, one :meth:`update` per sequence (or repetition).

    States: the scored per-frame IoUs (``cat``) and how many each update added (``cat``).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, box_format: str = "xyxy", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.box_format = box_format
        self.add_state("ious", default=[], dist_reduce_fx="cat")
        self.add_state("lengths", default=[], dist_reduce_fx="cat")

    def update(
        self,
        pred: BoxesLike,
        gt: BoxesLike,
        image_size: tuple[float, float],
        cover: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        """One sequence: (T, 4) or (R, T, 4) predictions, (T, 4) GT, (width, height), optional (T,) cover."""
        cover = to_numpy(cover)
        ious = got10k_frames(pred, gt, image_size, cover, self.box_format)
        self.ious.append(_tensor(ious, self.device))
        self.lengths.append(torch.tensor([ious.size], dtype=torch.int64, device=self.device))

    def compute(self) -> dict[str, torch.Tensor]:
        """``AO``, ``SR0.5``, ``SR0.75`` as float64 scalars."""
        return _scalars(_ao_sr(cat_state(self.ious)))


# ------------------------------------------------------------------------------------------------ keypoints


class JHMDBPCK(Metric):
    """JHMDB PCK as a torchmetrics Metric, one :meth:`update` per video.

    States: ``hits`` (A, J) and ``counts`` (J,) int64, reduced with ``sum`` (exact under DDP).
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(
        self,
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        convention: Convention = "crw",
        num_joints: int = JHMDB_NUM_JOINTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if convention not in CONVENTIONS:
            raise ValueError(f"PCK convention must be one of {CONVENTIONS}, got {convention!r}")
        self.alphas = tuple(float(a) for a in alphas)
        self.convention = convention
        self.num_joints = num_joints
        self.add_state(
            "hits", default=torch.zeros(len(self.alphas), num_joints, dtype=torch.int64), dist_reduce_fx="sum"
        )
        self.add_state("counts", default=torch.zeros(num_joints, dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, pred: ArrayLike, gt: ArrayLike) -> None:
        """One video: (T, J, 2) predicted and ground-truth (x, y) pixels."""
        hits, counts = pck_statistics(pred, gt, self.alphas, self.convention)
        if counts.shape[0] != self.num_joints:
            raise ValueError(f"expected {self.num_joints} joints, got {counts.shape[0]}")
        self.hits += torch.as_tensor(hits, device=self.hits.device)
        self.counts += torch.as_tensor(counts, device=self.counts.device)

    def compute(self) -> dict[str, torch.Tensor]:
        """``PCK@<alpha>`` (float64 scalars, percent) and ``per_joint/PCK@<alpha>`` (J,)."""
        res = pck_from_statistics(
            self.hits.cpu().numpy(), self.counts.cpu().numpy(), self.alphas, self.convention
        )
        out = {}
        for key, row in res["per_joint"].items():
            out[key] = torch.tensor(res[key], dtype=torch.float64)
            out[f"per_joint/{key}"] = torch.as_tensor(row, dtype=torch.float64)
        return out

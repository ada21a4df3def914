"""MOT metrics: HOTA, CLEAR, Identity and Count, equal to TrackEval 1.3.0 (``MotChallenge2DBox``).

One numpy core, two faces:

- functional: :func:`evaluate_sequence` (rows in, flat dict out), :func:`sequence_stats` (the sufficient
  statistics of one sequence), :func:`combine` (TrackEval's ``combine_sequences``),
  :func:`evaluate_sequences` (many sequences + the combined row), :func:`format_table`;
- :class:`zoo.metrics.synced.MOTMetrics` (and ``HOTAMetric``, ``CLEARMetric``, ``IdentityMetric``):
  torchmetrics ``Metric`` s whose states are those statistics reduced with ``sum``, so sequences spread over
  DDP ranks give the numbers of one process. A sequence is never split across ranks. They live apart so
  that this module (re-scoring) never imports torch.

Result keys are TrackEval's field names. Values are fractions in [0, 1] (tables print percentages). HOTA's
per-alpha fields are given twice: ``"HOTA"`` etc. hold the mean over the 19 alphas (TrackEval's summary and
``___AUC`` value), ``"HOTA_alpha"`` etc. the (19,) arrays; ``HOTA_TP_alpha`` / ``_FN_`` / ``_FP_`` are int64
arrays. ``OWTA`` is the field older TrackEval versions print as ``RHOTA``.

Conventions reproduced from TrackEval (and named in ``EVALUATOR``): IoU without the +1 pixel; MOTChallenge
distractor preprocessing for MOT16/17/20 only; CLEAR's skipped empty frames keep track continuity; a sequence
without gt or without tracker boxes reports its CLEAR ratios as 0 (MLR 1) and ``CLR_Frames`` 0, and the
combined row sums those values as TrackEval does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from zoo.metrics._clear import CLEARStats, clear_fields, clear_stats
from zoo.metrics._hota import ALPHAS, HOTAStats, hota_fields, hota_stats
from zoo.metrics._identity import IdentityStats, identity_fields, identity_stats
from zoo.metrics._mot_preprocess import (
    BENCHMARKS,
    PREPROCESSED_BENCHMARKS,
    MOTEvalData,
    RowsLike,
    preprocess_mot_challenge,
)

__all__ = [
    "ALPHAS",
    "BENCHMARKS",
    "EVALUATOR",
    "METRICS",
    "PREPROCESSED_BENCHMARKS",
    "MOTEvalData",
    "SequenceStats",
    "combine",
    "evaluate_data",
    "evaluate_sequence",
    "evaluate_sequences",
    "format_table",
    "preprocess_mot_challenge",
    "sequence_results",
    "sequence_stats",
    "stats_from_data",
]

METRICS = ("HOTA", "CLEAR", "Identity", "Count")
EVALUATOR = {
    "name": "TrackEval",
    "version": "1.3.0",
    "conventions": "MotChallenge2DBox; IoU without +1 px; preprocessing for MOT16/17/20 only",
}

_HOTA_ARRAYS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")
_HOTA_SCALARS = ("HOTA(0)", "LocA(0)", "HOTALocA(0)")
_CLEAR_FLOATS = ("MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA", "CLR_F1",
                 "FP_per_frame", "MOTAL", "MOTP_sum")  # fmt: skip
_CLEAR_INTS = ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag", "CLR_Frames")
_N_A = int(ALPHAS.shape[0])


@dataclass
class SequenceStats:
    """Sufficient statistics of one sequence (what the metric states sum).

    Attributes:
        num_timesteps: frames in the sequence.
        gt_dets / tr_dets / gt_ids / tr_ids: Count fields (after preprocessing).
        hota / clear / identity: per-family statistics, None when that family was not requested.
    """

    num_timesteps: int
    gt_dets: int
    tr_dets: int
    gt_ids: int
    tr_ids: int
    hota: HOTAStats | None = None
    clear: CLEARStats | None = None
    identity: IdentityStats | None = None


def _check_metrics(metrics: Iterable[str]) -> tuple[str, ...]:
    metrics = tuple(metrics)
    bad = [m for m in metrics if m not in METRICS]
    if bad:
        raise ValueError(f"unknown MOT metrics {bad}; expected a subset of {METRICS}")
    return metrics


def stats_from_data(data: MOTEvalData, metrics: Iterable[str] = METRICS) -> SequenceStats:
    """Sufficient statistics of one already-preprocessed sequence."""
    metrics = _check_metrics(metrics)
    return SequenceStats(
        num_timesteps=data.num_timesteps,
        gt_dets=data.num_gt_dets,
        tr_dets=data.num_tr_dets,
        gt_ids=data.num_gt_ids,
        tr_ids=data.num_tr_ids,
        hota=hota_stats(data) if "HOTA" in metrics else None,
        clear=clear_stats(data) if "CLEAR" in metrics else None,
        identity=identity_stats(data) if "Identity" in metrics else None,
    )


def sequence_stats(
    gt: RowsLike,
    tr: RowsLike,
    seq_length: int,
    *,
    benchmark: str = "MOT17",
    metrics: Iterable[str] = METRICS,
) -> SequenceStats:
    """Preprocess one sequence (:func:`preprocess_mot_challenge`) and compute its sufficient statistics.

    Args:
        gt, tr: :class:`zoo.data.types.MOTRows` of the gt file and the tracker file (boxes ``xyxy``
            0-based; ids arbitrary ints, relabelled).
        seq_length: number of frames of the sequence.
        benchmark: ``MOT16`` / ``MOT17`` / ``MOT20`` (with distractor preprocessing) or ``MOT15`` /
            ``DanceTrack`` / ``ZooSynth`` (without).
        metrics: subset of :data:`METRICS` (Count is always computed and reported).
    """
    return stats_from_data(preprocess_mot_challenge(gt, tr, seq_length, benchmark), metrics)


def _hota_result(fields: dict, tp, fn, fp) -> dict:
    out: dict = {}
    for name in _HOTA_ARRAYS:
        arr = np.asarray(fields[name], dtype=np.float64)
        out[name] = float(np.mean(arr))
        out[name + "_alpha"] = arr
    for name in _HOTA_SCALARS:
        out[name] = float(fields[name])
    out["HOTA_TP_alpha"] = np.asarray(tp, dtype=np.int64)
    out["HOTA_FN_alpha"] = np.asarray(fn, dtype=np.int64)
    out["HOTA_FP_alpha"] = np.asarray(fp, dtype=np.int64)
    return out


def _count_result(dets: int, gt_dets: int, ids: int, gt_ids: int) -> dict:
    return {"Dets": int(dets), "GT_Dets": int(gt_dets), "IDs": int(ids), "GT_IDs": int(gt_ids)}


def sequence_results(stats: SequenceStats) -> dict:
    """Per-sequence fields exactly as TrackEval's ``eval_sequence`` reports them (quirks included)."""
    out = _count_result(stats.tr_dets, stats.gt_dets, stats.tr_ids, stats.gt_ids)
    h = stats.hota
    if h is not None:
        f = hota_fields(h.tp, h.fn, h.fp, h.ass_a, h.ass_re, h.ass_pr, h.loc, h.tp.astype(np.float64))
        out.update(_hota_result(f, h.tp, h.fn, h.fp))
    c = stats.clear
    if c is not None:
        fields = clear_fields(c)
        if stats.tr_dets == 0 or stats.gt_dets == 0:
            # TrackEval returns before computing any ratio: all 0 except MLR = 1
            fields.update({k: 0.0 for k in _CLEAR_FLOATS})
            fields["MLR"] = 1.0
        out.update(fields)
    if stats.identity is not None:
        out.update(identity_fields(stats.identity))
    return out


@dataclass
class _Totals:
    """Summed statistics over sequences (the metric states, as numpy arrays)."""

    count: np.ndarray  # (4,) Dets, GT_Dets, IDs, GT_IDs
    hota: np.ndarray  # (7, 19) TP, FN, FP, TP-weighted AssA, AssRe, AssPr, LocA
    clear: np.ndarray  # (10,) TP, FN, FP, IDSW, MT, PT, ML, Frag, Frames, MOTP_sum
    identity: np.ndarray  # (3,) IDTP, IDFN, IDFP

    @classmethod
    def zeros(cls) -> _Totals:
        return cls(np.zeros(4), np.zeros((7, _N_A)), np.zeros(10), np.zeros(3))


def _add(tot: _Totals, s: SequenceStats, metrics: Sequence[str]) -> None:
    """Add one sequence the way TrackEval's ``combine_sequences`` weighs it."""
    for name, part in (("HOTA", s.hota), ("CLEAR", s.clear), ("Identity", s.identity)):
        if name in metrics and part is None:
            raise ValueError(f"{name} was requested but a sequence carries no {name} statistics")
    tot.count += [s.tr_dets, s.gt_dets, s.tr_ids, s.gt_ids]
    if s.hota is not None:
        h = s.hota
        tp = h.tp.astype(np.float64)
        f = hota_fields(h.tp, h.fn, h.fp, h.ass_a, h.ass_re, h.ass_pr, h.loc, tp)
        tot.hota += np.stack(
            [tp, h.fn, h.fp, f["AssA"] * tp, f["AssRe"] * tp, f["AssPr"] * tp, f["LocA"] * tp]
        )
    if s.clear is not None:
        c = s.clear
        tot.clear += [c.tp, c.fn, c.fp, c.idsw, c.mt, c.pt, c.ml, c.frag, c.frames, c.motp_sum]
    if s.identity is not None:
        tot.identity += [s.identity.idtp, s.identity.idfn, s.identity.idfp]


def _finalize(tot: _Totals, metrics: Sequence[str]) -> dict:
    out = _count_result(*(int(round(v)) for v in tot.count))
    if "HOTA" in metrics:
        tp, fn, fp, wa, wr, wp, wl = tot.hota
        f = hota_fields(tp, fn, fp, wa, wr, wp, wl, tp)
        out.update(_hota_result(f, np.rint(tp), np.rint(fn), np.rint(fp)))
    if "CLEAR" in metrics:
        ints = [int(round(v)) for v in tot.clear[:9]]
        out.update(clear_fields(CLEARStats(*ints, motp_sum=float(tot.clear[9]))))
    if "Identity" in metrics:
        out.update(identity_fields(IdentityStats(*(int(round(v)) for v in tot.identity))))
    return out


def combine(stats: Iterable[SequenceStats], metrics: Iterable[str] = METRICS) -> dict:
    """TrackEval's ``combine_sequences``: counts summed, AssA/AssRe/AssPr/LocA TP-weighted per alpha,
    then every ratio recomputed (combined HOTA is not the mean of per-sequence HOTA)."""
    metrics = _check_metrics(metrics)
    tot = _Totals.zeros()
    for s in stats:
        _add(tot, s, metrics)
    return _finalize(tot, metrics)


def evaluate_data(data: MOTEvalData, metrics: Iterable[str] = METRICS) -> dict:
    """Per-sequence fields of one already-preprocessed sequence."""
    return sequence_results(stats_from_data(data, metrics))


def evaluate_sequence(
    gt: RowsLike,
    tr: RowsLike,
    seq_length: int,
    *,
    benchmark: str = "MOT17",
    metrics: Iterable[str] = METRICS,
) -> dict:
    """All fields of one sequence as TrackEval reports them (see :func:`sequence_stats` for the args).

    Returns:
        flat dict: floats in [0, 1] (and ``MOTA``-like values that may be negative), ints for counts,
        (19,) arrays under ``<field>_alpha``.
    """
    return sequence_results(sequence_stats(gt, tr, seq_length, benchmark=benchmark, metrics=metrics))


def evaluate_sequences(
    sequences: Mapping[str, tuple[RowsLike, RowsLike, int]],
    *,
    benchmark: str = "MOT17",
    metrics: Iterable[str] = METRICS,
) -> dict[str, dict]:
    """Evaluate many sequences: ``{name: (gt_rows, tracker_rows, seq_length)}`` ->
    ``{name: fields, ..., "COMBINED": fields}`` (file reading belongs to ``zoo.data.formats``)."""
    metrics = _check_metrics(metrics)
    if "COMBINED" in sequences:
        raise ValueError("'COMBINED' is reserved for the combined row; rename that sequence")
    out: dict[str, dict] = {}
    all_stats = []
    for name, (gt, tr, n) in sequences.items():
        st = sequence_stats(gt, tr, n, benchmark=benchmark, metrics=metrics)
        all_stats.append(st)
        out[name] = sequence_results(st)
    out["COMBINED"] = combine(all_stats, metrics)
    return out


_TABLE_FIELDS = (
    _HOTA_ARRAYS + _HOTA_SCALARS
    + ("MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA")
    + ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag")
    + ("IDF1", "IDR", "IDP", "IDTP", "IDFN", "IDFP", "Dets", "GT_Dets", "IDs", "GT_IDs")
)  # fmt: skip


def format_table(results: Mapping[str, Mapping], fields: Sequence[str] | None = None) -> str:
    """Text table, one row per sequence (``COMBINED`` last): ratios as percentages with 5 significant
    digits (TrackEval's summary style), counts as integers."""
    rows = [k for k in results if k != "COMBINED"] + (["COMBINED"] if "COMBINED" in results else [])
    if fields is None:
        present = set().union(*(results[r].keys() for r in rows)) if rows else set()
        fields = [f for f in _TABLE_FIELDS if f in present]
    width = max([len(r) for r in rows] + [8]) + 2
    lines = ["".ljust(width) + "".join(f"{f:>12}" for f in fields)]
    for r in rows:
        cells = []
        for f in fields:
            v = results[r].get(f)
            if v is None:
                cells.append(f"{'-':>12}")
            elif isinstance(v, (int, np.integer)):
                cells.append(f"{int(v):>12d}")
            else:
                cells.append(f"{100 * float(v):>12.5g}")
        lines.append(r.ljust(width) + "".join(cells))
    return "\n".join(lines)

"""SOT success and precision plots (OTB style) of every evaluated tracker on one benchmark, as PNG files.

The curves come from the results themselves (``metrics["success_curve"]`` over IoU thresholds
``linspace(0, 1, 21)``, ``metrics["precision_curve"]`` over 0..50 px, see :mod:`zoo.tasks.sot`), so plots can
be redrawn from ``results.json`` files alone. The legend ranks trackers by success AUC / precision@20 px.
Rendering uses matplotlib's Agg canvas directly (no global backend switch, no display needed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.atomic import atomic_save
from zoo.metrics.sot import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS

__all__ = ["plot_sot_curves"]


def _curves(result: Any) -> tuple[str, str, dict[str, Any]]:
    if isinstance(result, Mapping):
        return (
            str(result.get("method") or "?"),
            str(result.get("benchmark")),
            dict(result.get("metrics") or {}),
        )
    return result.method, result.benchmark, result.metrics


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, linestyle=":", linewidth=0.6)
    return fig, ax


def _save(fig: Any, path: Path) -> Path:
    return atomic_save(path, lambda handle: fig.savefig(handle, format="png"))


def plot_sot_curves(
    results: Sequence[Any], out_dir: str | os.PathLike, *, benchmark: str | None = None, prefix: str = "sot"
) -> tuple[Path, Path]:
    """Draw the success and precision plots of ``results`` (BenchmarkResults or results.json dicts).

    Args:
        results: one per tracker, all on one benchmark, each with ``success_curve`` (21,) and
            ``precision_curve`` (51,) in its metrics.
        out_dir: where ``<prefix>_success_<benchmark>.png`` and ``<prefix>_precision_<benchmark>.png`` go.
        benchmark: title; default the results' benchmark.

    Returns:
        (success plot path, precision plot path).

    Raises:
        ValueError: no results, results of several benchmarks, or a result without curves.
    """
    entries = [_curves(r) for r in results]
    if not entries:
        raise ValueError("no SOT results to plot")
    benches = {b for _, b, _ in entries}
    if benchmark is None:
        if len(benches) > 1:
            raise ValueError(f"results of several benchmarks {sorted(benches)}: plot one benchmark at a time")
        benchmark = next(iter(benches))
    for name, _, m in entries:
        if "success_curve" not in m or "precision_curve" not in m:
            raise ValueError(f"result of {name!r} has no success/precision curves (not an SOT result?)")
    out = Path(out_dir)

    fig, ax = _figure(f"Success plot of OPE on {benchmark}", "Overlap threshold (IoU)", "Success rate")
    for name, _, m in sorted(entries, key=lambda e: -float(e[2]["success_auc"])):
        curve = np.asarray(m["success_curve"], np.float64)
        ax.plot(
            SUCCESS_THRESHOLDS[: curve.size],
            curve,
            linewidth=1.8,
            label=f"{name} [AUC {100 * float(m['success_auc']):.1f}]",
        )
    ax.set_xlim(0.0, 1.0)
    ax.legend(loc="lower left", fontsize=8)
    success = _save(fig, out / f"{prefix}_success_{benchmark}.png")

    fig, ax = _figure(f"Precision plot of OPE on {benchmark}", "Location error threshold (px)", "Precision")
    for name, _, m in sorted(entries, key=lambda e: -float(e[2]["precision_20"])):
        curve = np.asarray(m["precision_curve"], np.float64)
        ax.plot(
            PRECISION_THRESHOLDS[: curve.size],
            curve,
            linewidth=1.8,
            label=f"{name} [P@20 {100 * float(m['precision_20']):.1f}]",
        )
    ax.axvline(20.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlim(0.0, 50.0)
    ax.legend(loc="lower right", fontsize=8)
    precision = _save(fig, out / f"{prefix}_precision_{benchmark}.png")
    return success, precision

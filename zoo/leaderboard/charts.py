"""One chart per task: horizontal bars of each benchmark's main metric, one panel per benchmark, best on top.

Drawn with matplotlib's object API (``Figure`` + Agg canvas: no pyplot state, no display needed) and saved
as PNG (``leaderboard_<task>.png``) and as an SVG string that the HTML page inlines (text kept as text).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from zoo.leaderboard.schema import TASK_TITLES, Entry, columns, format_metric

__all__ = ["task_figure", "figure_png", "figure_svg"]

_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac")  # fmt: skip
_BAR_INCHES = 0.3


def task_figure(task: str, groups: Sequence[tuple[str, Sequence[Entry]]]) -> Any:
    """The chart of one task.

    Args:
        task: ``mot``, ``vos`` or ``sot``.
        groups: (benchmark, entries sorted best first) for each benchmark of the task.

    Returns:
        a ``matplotlib.figure.Figure`` with one panel per benchmark (x: the main metric, in percent for
        ratios); bars coloured by method, the same colour for a method in every panel.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    methods = sorted({e.method for _, entries in groups for e in entries})
    colour = {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(methods)}
    heights = [0.9 + _BAR_INCHES * len(entries) for _, entries in groups]
    fig = Figure(figsize=(8.0, sum(heights) + 0.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(groups), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    fig.suptitle(TASK_TITLES[task], fontsize=12)
    for ax, (bench, entries) in zip(axes, groups):
        main = columns(task, entries)[0]
        scale = 100.0 if main.kind == "ratio" else 1.0
        values = [scale * float(e.metrics.get(main.key, 0.0)) for e in entries]
        labels = [e.model_ref for e in entries]
        ys = list(range(len(entries)))[::-1]  # best on top
        bars = ax.barh(ys, values, color=[colour[e.method] for e in entries], height=0.7)
        ax.set_yticks(ys, labels, fontsize=8)
        unit = " (%)" if main.kind == "ratio" else ""
        ax.set_title(f"{bench}: {main.label}{unit}", fontsize=10, loc="left")
        top = max(values + [0.0])
        ax.set_xlim(
            min(values + [0.0]) * 1.1, (100.0 if main.kind == "ratio" and top <= 100 else top * 1.15) or 1
        )
        for bar, e in zip(bars, entries):
            label = " " + format_metric(main, e.metrics.get(main.key))
            y = bar.get_y() + bar.get_height() / 2
            ax.text(bar.get_width(), y, label, va="center", ha="left", fontsize=7)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def figure_svg(fig: Any, salt: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog or DOCTYPE; ids salted so several charts can
    share one page; no date, so an unchanged board gives the same bytes)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"^<!DOCTYPE[^>]*>\s*", "", text)
    return text.strip()

"""Rich tables of evaluation results: per-sequence tables and one-row-per-tracker comparisons.

Inputs are :class:`zoo.tasks.results.BenchmarkResult` objects or ``results.json`` documents (dicts). Values
are stored as fractions; tables print ratios as percentages with 5 significant digits (TrackEval's summary
style: ``75.272``, ``90.32``) and counts as integers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "MOT_COLUMNS",
    "comparison_table",
    "format_value",
    "make_console",
    "mot_sequence_table",
    "print_table",
    "sequence_table",
    "table_text",
]

#: per-sequence MOT table: (column title, metric key)
MOT_COLUMNS = (
    ("HOTA", "HOTA"), ("DetA", "DetA"), ("AssA", "AssA"), ("LocA", "LocA"), ("MOTA", "MOTA"),
    ("MOTP", "MOTP"), ("IDF1", "IDF1"), ("IDSW", "IDSW"), ("Frag", "Frag"), ("MT", "MT"), ("ML", "ML"),
    ("FP", "CLR_FP"), ("FN", "CLR_FN"), ("IDs", "IDs"), ("GT IDs", "GT_IDs"),
)  # fmt: skip
_VOS_COLUMNS = tuple(
    (k, k) for k in ("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay")
)
_KP_COLUMNS = (("PCK@0.1", "PCK@0.1"), ("PCK@0.2", "PCK@0.2"))
_SOT_TITLES = {
    "AO": "AO", "SR0.5": "SR0.5", "SR0.75": "SR0.75", "success_auc": "Success AUC", "precision_20": "Prec@20",
    "norm_precision": "Norm. Prec",
}  # fmt: skip
#: keys that are not ratios (printed as plain numbers)
_PLAIN = {"fps", "frames", "FP_per_frame", "num_objects", "num_frames_ao", "num_joints_scored", "MOTP_sum"}


def format_value(key: str, value: Any) -> str:
    """A metric value for display: ints as ints, ratios as percentages (5 significant digits), fps with
    one decimal; missing values as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if key == "fps":
            return f"{value:.1f}"
        if key in _PLAIN:
            return f"{value:.5g}"
        return f"{100.0 * value:.5g}"
    return str(value)


def _doc(result: Any) -> dict[str, Any]:
    """The fields tables need, from a BenchmarkResult or a results.json dict."""
    if isinstance(result, Mapping):
        return {
            "method": result.get("method") or "?",
            "task": result.get("task"),
            "benchmark": result.get("benchmark"),
            "metrics": result.get("metrics") or {},
            "per_sequence": result.get("per_sequence") or {},
            "fps": result.get("fps"),
        }
    return {
        "method": result.method,
        "task": result.task,
        "benchmark": result.benchmark,
        "metrics": result.metrics,
        "per_sequence": result.per_sequence,
        "fps": result.fps,
    }


def _columns(doc: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    metrics = doc["metrics"] or next(iter(doc["per_sequence"].values()), {})
    if doc["task"] == "mot":
        return MOT_COLUMNS
    if doc["task"] == "vos":
        return _KP_COLUMNS if "PCK@0.1" in metrics else _VOS_COLUMNS
    keys = [
        k for k in ("AO", "SR0.5", "SR0.75", "success_auc", "precision_20", "norm_precision") if k in metrics
    ]
    return tuple((_SOT_TITLES[k], k) for k in keys)


def sequence_table(result: Any, title: str | None = None, max_rows: int | None = None) -> Table:
    """One row per sequence plus the combined row (bold), the task's columns, then frames and fps.

    ``max_rows`` caps the sequence rows (the first ones, in benchmark order) and adds a row saying how many
    were left out; the COMBINED row always covers every sequence. (Rich spends ~3 ms a row: GOT-10k val's
    180 rows cost half a second.)"""
    doc = _doc(result)
    cols = _columns(doc)
    table = Table(title=title or f"{doc['method']} on {doc['benchmark']}", show_lines=False)
    table.add_column("sequence", no_wrap=True)
    for name, _ in cols:
        table.add_column(name, justify="right")
    table.add_column("frames", justify="right")
    timed = doc["fps"] is not None or any(r.get("fps") is not None for r in doc["per_sequence"].values())
    if timed:
        table.add_column("fps", justify="right")
    per_sequence = list(doc["per_sequence"].items())
    shown = per_sequence if max_rows is None else per_sequence[: max(0, int(max_rows))]
    for seq, row in shown:
        cells = [format_value(k, row.get(k)) for _, k in cols] + [format_value("frames", row.get("frames"))]
        table.add_row(seq, *cells, *([format_value("fps", row.get("fps"))] if timed else []))
    if len(shown) < len(per_sequence):
        table.add_row(f"... {len(per_sequence) - len(shown)} more (results.json)", style="dim")
    if doc["metrics"]:
        frames = sum(int(r.get("frames", 0)) for r in doc["per_sequence"].values())
        cells = [format_value(k, doc["metrics"].get(k)) for _, k in cols] + [str(frames)]
        table.add_row("COMBINED", *cells, *([format_value("fps", doc["fps"])] if timed else []), style="bold")
    return table


def mot_sequence_table(result: Any, title: str | None = None) -> Table:
    """The per-sequence MOT table (HOTA, DetA, AssA, LocA, MOTA, MOTP, IDF1, IDSW, Frag, MT, ML, FP, FN...)."""
    doc = _doc(result)
    if doc["task"] != "mot":
        raise ValueError(f"mot_sequence_table needs a MOT result, got task {doc['task']!r}")
    return sequence_table(result, title)


def comparison_table(results: Sequence[Any], title: str | None = None, sort_by: str | None = None) -> Table:
    """One row per tracker (all results of one task and benchmark): the task's columns and fps.

    Args:
        results: BenchmarkResults or results.json dicts.
        sort_by: metric key to sort by (descending); default the first column.

    Raises:
        ValueError: the results mix tasks.
    """
    docs = [_doc(r) for r in results]
    if not docs:
        raise ValueError("no results to compare")
    tasks = {d["task"] for d in docs}
    if len(tasks) > 1:
        raise ValueError(f"cannot compare results of different tasks in one table: {sorted(map(str, tasks))}")
    cols = _columns(docs[0])
    key = sort_by or cols[0][1]
    docs.sort(
        key=lambda d: -(d["metrics"].get(key) if isinstance(d["metrics"].get(key), (int, float)) else -1e300)
    )
    benches = sorted({str(d["benchmark"]) for d in docs})
    table = Table(title=title or f"{docs[0]['task'].upper()} on {', '.join(benches)}")
    table.add_column("method", no_wrap=True)
    for name, _ in cols:
        table.add_column(name, justify="right")
    table.add_column("fps", justify="right")
    for d in docs:
        table.add_row(
            d["method"],
            *(format_value(k, d["metrics"].get(k)) for _, k in cols),
            format_value("fps", d["fps"]),
        )
    return table


def table_text(table: Table, width: int = 200) -> str:
    """The table rendered as plain text (no colours), e.g. for logs and tests."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(table)
    return buffer.getvalue()


def make_console() -> Console:
    """A stdout console; 200 columns wide when stdout is not a terminal (logs, pipes), so wide metric
    tables are not squeezed to 80 columns."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=200)


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a table on ``console`` (default: :func:`make_console`)."""
    (console or make_console()).print(table)

"""Markdown: ``leaderboard.md`` (one table per task and benchmark) and the README's model-zoo table.

The README block between :data:`README_START` and :data:`README_END` is rewritten in place; its content is a
pure function of the rows (no timestamps), so regenerating an unchanged board leaves README.md untouched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.core.atomic import atomic_write_text
from zoo.leaderboard.schema import (
    TASK_METRICS,
    TASK_TITLES,
    Dropped,
    Entry,
    MetricSpec,
    columns,
    data_mix_text,
    format_fps,
    format_metric,
    format_params,
    group_entries,
)

__all__ = [
    "README_END",
    "README_START",
    "evaluator_label",
    "evaluator_notes",
    "mixed_data_warning",
    "render_board",
    "render_readme_table",
    "replace_block",
    "update_readme",
]

README_START = "<!-- zoo-table:start -->"
README_END = "<!-- zoo-table:end -->"
FPS_NOTE = (
    "FPS: frames per second of tracker time (image reading and scoring excluded), on the hardware shown"
)


def _cell(text: Any) -> str:
    """A table cell: pipes escaped, no line breaks."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def evaluator_label(evaluator: Mapping[str, Any]) -> str:
    """``TrackEval 1.3.0``: the evaluator's name and version."""
    name = str(evaluator.get("name") or "unknown")
    version = evaluator.get("version")
    return f"{name} {version}" if version else name


def _flatten(conventions: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in conventions.items():
        if isinstance(value, Mapping):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(f"{prefix}{key}: {text}")
    return out


def evaluator_notes(entries: Sequence[Entry]) -> tuple[dict[str, int], list[tuple[int, str, list[str]]]]:
    """Distinct evaluators (name, version and conventions) of a table, numbered in order of appearance.

    Returns:
        (entry uid -> note number, [(number, label, convention lines)]).
    """
    numbers: dict[str, int] = {}
    seen: dict[str, int] = {}
    notes = []
    for e in entries:
        key = json.dumps(e.evaluator, sort_keys=True, default=str)
        if key not in seen:
            seen[key] = len(seen) + 1
            notes.append(
                (seen[key], evaluator_label(e.evaluator), _flatten(e.evaluator.get("conventions") or {}))
            )
        numbers[e.uid] = seen[key]
    return numbers, notes


def mixed_data_warning(entries: Sequence[Entry]) -> list[str]:
    """A warning paragraph (markdown lines) when the table's rows were scored on different generated data."""
    parts = data_mix_text(entries)
    if parts is None:
        return []
    return [
        f"> **Not comparable**: these rows were evaluated on different data ({_cell(parts)}). Evaluate the "
        "older ones again (`python -m zoo.leaderboard evaluate=true`, or remove their runs).",
        "",
    ]


def _table(task: str, entries: Sequence[Entry]) -> list[str]:
    cols: list[MetricSpec] = columns(task, entries)
    numbers, notes = evaluator_notes(entries)
    head = ["#", "model", "method", "split"] + [f"**{cols[0].label}**"] + [c.label for c in cols[1:]]
    head += ["FPS", "params", "hardware", "evaluator", "date"]
    align = ["--:", ":--", ":--", ":--"] + ["--:"] * len(cols) + ["--:", "--:", ":--", ":--", ":--"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for rank, e in enumerate(entries, 1):
        cells = [str(rank), e.model_ref, e.method, e.split or "-"]
        cells += [format_metric(c, e.metrics.get(c.key)) for c in cols]
        cells += [
            format_fps(e.fps),
            format_params(e.params),
            e.hardware_summary,
            f"{evaluator_label(e.evaluator)} [{numbers[e.uid]}]",
            (e.created or "-")[:10],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    direction = "higher is better" if cols[0].higher_is_better else "lower is better"
    lines.append(f"Sorted by {cols[0].label} ({direction}).")
    lines.append("")
    for number, label, conv in notes:
        lines.append(f"[{number}] {_cell(label)}" + (f": {'; '.join(conv)}" if conv else ""))
        lines.append("")
    return lines


def render_board(
    entries: Sequence[Entry],
    *,
    dropped: Sequence[Dropped] = (),
    errors: Sequence[Any] = (),
    charts: Mapping[str, str] | None = None,
    generated: str | None = None,
) -> str:
    """``leaderboard.md``: a section per task, one table per benchmark sorted by its main metric, the chart
    of each task, then the deduplication notes and the sources that failed.

    Args:
        charts: task -> chart image path relative to the markdown file.
        generated: timestamp for the header line (None: no timestamp).
    """
    lines = ["# zoo leaderboard", ""]
    stamp = f" on {generated}" if generated else ""
    lines += [
        f"Generated by `python -m zoo.leaderboard`{stamp} from {len(entries)} result(s). Ratios in percent "
        "(stored as fractions in leaderboard.json); IDSW is a count. " + FPS_NOTE + ".",
        "",
    ]
    if not entries:
        lines += [
            "No results yet: run `make leaderboard` (or list runs and Hub repos in leaderboard.yaml).",
            "",
        ]
    groups = group_entries(entries)
    for task in TASK_METRICS:
        keys = [k for k in groups if k[0] == task]
        if not keys:
            continue
        lines += [f"## {TASK_TITLES[task]}", ""]
        if charts and task in charts:
            lines += [f"![{task} chart]({charts[task]})", ""]
        for key in keys:
            lines += [f"### {key[1]}", ""]
            lines += mixed_data_warning(groups[key])
            lines += _table(task, groups[key])
    if dropped:
        lines += [
            "## Deduplicated",
            "",
            f"{len(dropped)} older result(s) of the same model id@revision, benchmark and split were "
            "dropped (the newest is kept):",
            "",
        ]
        lines += [f"- {_cell(d.message())}" for d in dropped] + [""]
    if errors:
        lines += ["## Sources that failed", ""]
        lines += [f"- `{_cell(e.source)}`: {_cell(e.message)}" for e in errors] + [""]
    return "\n".join(lines).rstrip() + "\n"


def render_readme_table(entries: Sequence[Entry], board_link: str | None = None) -> str:
    """The README's model-zoo table: one row per result, grouped by task and benchmark, best first, with the
    benchmark's main metric; deterministic (no dates) so regenerating an unchanged board changes nothing."""
    lines = ["<!-- generated by `python -m zoo.leaderboard readme=true`; edits here are overwritten -->", ""]
    if not entries:
        lines += ["No results yet: run `make leaderboard`."]
    else:
        lines += ["| task | benchmark | model | method | main metric | score | FPS | params |",
                  "|:--|:--|:--|:--|:--|--:|--:|--:|"]  # fmt: skip
        for (task, bench), group in group_entries(entries).items():
            main = columns(task, group)[0]
            for e in group:
                cells = [
                    task,
                    bench,
                    e.model_ref,
                    e.method,
                    main.label,
                    format_metric(main, e.metrics.get(main.key)),
                    format_fps(e.fps),
                    format_params(e.params),
                ]
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    generated = {}
    for (_, bench), group in group_entries(entries).items():
        data = sorted({e.data or "not recorded" for e in group}) if any(e.data for e in group) else []
        if data:
            generated[bench] = " and ".join(data) + (" (**mixed: not comparable**)" if len(data) > 1 else "")
    if generated:
        lines += ["", "Generated data: " + "; ".join(f"{b} on {d}" for b, d in generated.items()) + "."]
    if board_link:
        lines += [
            "",
            f"Every metric, the hardware and the evaluator conventions: [{board_link}]({board_link}).",
        ]
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str, where: str = "README.md") -> str:
    """``text`` with everything between the zoo-table markers replaced by ``block``.

    Raises:
        ValueError: a marker is missing, repeated or out of order (naming ``where``).
    """
    starts, ends = text.count(README_START), text.count(README_END)
    if starts != 1 or ends != 1:
        raise ValueError(
            f"{where}: expected exactly one {README_START} and one {README_END} marker line, found "
            f"{starts} and {ends}; add them where the model-zoo table belongs"
        )
    head, _, rest = text.partition(README_START)
    if README_END not in rest:
        raise ValueError(f"{where}: {README_END} comes before {README_START}")
    _, _, tail = rest.partition(README_END)
    return f"{head}{README_START}\n{block.strip()}\n{README_END}{tail}"


def update_readme(path: str | os.PathLike, block: str) -> bool:
    """Rewrite the zoo-table block of ``path`` (atomically); returns False when it was already up to date.

    Raises:
        FileNotFoundError: no such file. ValueError: markers missing (see :func:`replace_block`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: README not found")
    text = path.read_text(encoding="utf-8")
    new = replace_block(text, block, str(path))
    if new == text:
        return False
    atomic_write_text(path, new)
    return True

"""Build the leaderboard from its sources and write every output.

:func:`build_board` runs the optional training and evaluations, gathers local and Hub results, normalises
and deduplicates them; :func:`write_board` writes ``leaderboard.md``, ``leaderboard.json``,
``leaderboard.html`` and ``leaderboard_<task>.png`` (each atomically).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.core.atomic import atomic_write_bytes, atomic_write_text
from zoo.leaderboard.config import BoardConfig
from zoo.leaderboard.schema import TASK_METRICS, Dropped, Entry, columns, data_mix_text, dedupe, group_entries
from zoo.leaderboard.sources import (
    SourceError,
    gather_hub,
    gather_runs,
    read_entry,
    run_evaluation,
    run_training,
)

__all__ = ["FORMAT", "Board", "board_json", "build_board", "write_board"]

FORMAT = "zoo-leaderboard"
FORMAT_VERSION = 1
Log = Callable[[str], None]


@dataclass
class Board:
    """The leaderboard's content.

    Attributes:
        entries: deduplicated rows (unsorted; tables sort per task and benchmark).
        dropped: rows replaced by a newer evaluation of the same model, benchmark and split.
        errors: sources that gave no rows, with the reason.
        generated: UTC timestamp of the build (ISO 8601, seconds).
    """

    entries: list[Entry]
    dropped: list[Dropped] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    generated: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )


def build_board(
    cfg: BoardConfig,
    *,
    evaluate: bool = False,
    train: bool = False,
    retrain: bool = False,
    progress: bool = False,
    log: Log = print,
) -> Board:
    """Gather (and optionally train/evaluate) everything ``cfg`` lists into a deduplicated board.

    Order: ``train:`` recipes (``train=True``), ``evaluate:`` entries (``evaluate=True``), the ``runs:`` globs
    (which also see the work folder's outputs), then the ``hub:`` repos. A failing source is recorded in
    :attr:`Board.errors` and the rest goes on.
    """
    errors: list[SourceError] = []
    entries: list[Entry] = []
    seen: set[str] = set()
    runs = list(cfg.runs)
    if (
        cfg.work_dir.is_dir() or evaluate or train
    ):  # earlier evaluations/trainings join even if runs: skips them
        runs.append(str(cfg.work_dir / "**" / "results.json"))
    if train:
        for spec in cfg.train:
            try:
                run_dir = run_training(spec, cfg.work_dir, log, again=retrain)
                runs.append(str(run_dir / "results.json"))
            except Exception as error:  # a failed training must not lose the rest of the board
                errors.append(SourceError(f"train:{spec.recipe}", str(error)))
                log(f"train: {spec.recipe} failed: {error}")
    if evaluate:
        for spec in cfg.evaluate:
            where = f"evaluate:{spec.model}@{spec.data}"
            try:
                files = run_evaluation(spec, cfg.work_dir, progress=progress)
            except Exception as error:  # noqa: BLE001 - one failing evaluation is reported, the board goes on
                errors.append(SourceError(where, f"{type(error).__name__}: {error}"))
                log(f"{where} failed: {error}")
                continue
            for path in files:
                try:
                    entries.append(read_entry(path, cfg.base, origin="evaluate"))
                    seen.add(str(path.resolve()))
                except (OSError, ValueError) as error:
                    errors.append(SourceError(str(path), str(error)))
            log(f"{where}: {len(files)} result(s)")
    local, local_errors = gather_runs(runs, cfg.base, log)
    # a file both evaluated now and matched by a glob is one row (keep the "evaluate" origin)
    entries += [e for e in local if str((cfg.base / e.source).resolve()) not in seen]
    errors += local_errors
    hub, hub_errors = gather_hub(cfg.hub, log)
    entries += hub
    errors += hub_errors
    kept, dropped = dedupe(entries)
    for d in dropped:
        log(f"dedup: {d.message()}")
    for (task, bench), group in group_entries(kept).items():
        where = data_mix_text(group)
        if where is not None:
            log(f"warning: the {task} table {bench} mixes data, its rows are not comparable ({where})")
    return Board(kept, dropped, errors)


def board_json(board: Board) -> dict[str, Any]:
    """``leaderboard.json``: the normalised rows (one schema for every task) plus what was dropped/failed."""
    tables = []
    for (task, bench), group in group_entries(board.entries).items():
        cols = columns(task, group)
        tables.append({"task": task, "benchmark": bench, "main_metric": cols[0].key,
                       "metrics": [c.key for c in cols], "rows": [e.uid for e in group]})  # fmt: skip
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated": board.generated,
        "units": "ratios are fractions (HOTA 0.75); counts (IDSW) are integers; fps is frames per second",
        "task_metrics": {t: [s.key for s in specs] for t, specs in TASK_METRICS.items()},
        "tables": tables,
        "rows": [e.to_json() for e in board.entries],
        "dropped": [
            {**d.entry.to_json(), "superseded_by": d.kept.uid, "kept_source": d.kept.source}
            for d in board.dropped
        ],  # fmt: skip
        "errors": [e.to_json() for e in board.errors],
    }


def write_board(board: Board, out: str | os.PathLike, *, png: bool = True) -> dict[str, Path]:
    """Write the board into ``out``: ``leaderboard.md``, ``.json``, ``.html`` and one PNG chart per task.

    Returns:
        name -> path of every file written (``md``, ``json``, ``html``, ``png_<task>``).
    """
    from zoo.leaderboard.charts import figure_png, figure_svg, task_figure
    from zoo.leaderboard.html import render_html
    from zoo.leaderboard.markdown import render_board

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    groups = group_entries(board.entries)
    svgs: dict[str, str] = {}
    pngs: dict[str, str] = {}
    for task in TASK_METRICS:
        task_groups: Sequence[tuple[str, list[Entry]]] = [(b, g) for (t, b), g in groups.items() if t == task]
        if not task_groups:
            continue
        fig = task_figure(task, task_groups)
        svgs[task] = figure_svg(fig, salt=f"zoo-leaderboard-{task}")
        if png:
            name = f"leaderboard_{task}.png"
            written[f"png_{task}"] = atomic_write_bytes(out / name, figure_png(fig))
            pngs[task] = name
    written["md"] = atomic_write_text(
        out / "leaderboard.md",
        render_board(board.entries, dropped=board.dropped, errors=board.errors, charts=pngs,
                     generated=board.generated),
    )  # fmt: skip
    written["json"] = atomic_write_text(
        out / "leaderboard.json", json.dumps(board_json(board), indent=2, allow_nan=False) + "\n"
    )
    written["html"] = atomic_write_text(
        out / "leaderboard.html",
        render_html(board.entries, charts=svgs, dropped=board.dropped, errors=board.errors,
                    generated=board.generated),
    )  # fmt: skip
    return written

"""The shared leaderboard: ``python -m zoo.leaderboard [out=DIR] [evaluate=true] [readme=true]``.

It gathers ``results.json`` files (the schema of :mod:`zoo.tasks.results`) from local run directories and from
Hub repos published with :mod:`zoo.publish` (both listed in ``leaderboard.yaml``, see
:mod:`zoo.leaderboard.config`), optionally trains recipes and (re-)evaluates models through the one evaluation
path (:mod:`zoo.evaluate` / :mod:`zoo.tasks`), normalises every result to one row schema
(:mod:`zoo.leaderboard.schema`: method, model id@revision, task, benchmark, split, evaluator and
conventions, main metrics, fps, params, hardware, date), keeps the newest result per model, benchmark and
split, and writes:

- ``leaderboard.md``: one table per task and benchmark, sorted by the benchmark's main metric;
- ``leaderboard.json``: the normalised rows;
- ``leaderboard.html``: a static self-contained page (sortable tables, one inline SVG chart per task);
- ``leaderboard_<task>.png``: one chart per task.

``readme=true`` also rewrites the README's model-zoo table between ``<!-- zoo-table:start -->`` and
``<!-- zoo-table:end -->``.
"""

from __future__ import annotations

from zoo.leaderboard.board import Board, board_json, build_board, write_board
from zoo.leaderboard.config import BoardConfig, EvalSpec, TrainSpec, load_board_config
from zoo.leaderboard.markdown import (
    README_END,
    README_START,
    render_board,
    render_readme_table,
    replace_block,
    update_readme,
)
from zoo.leaderboard.schema import TASK_METRICS, Entry, dedupe, normalise

__all__ = [
    "README_END",
    "README_START",
    "TASK_METRICS",
    "Board",
    "BoardConfig",
    "Entry",
    "EvalSpec",
    "TrainSpec",
    "board_json",
    "build_board",
    "dedupe",
    "load_board_config",
    "main",
    "normalise",
    "render_board",
    "render_readme_table",
    "replace_block",
    "update_readme",
    "write_board",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m zoo.leaderboard`` (see :mod:`zoo.leaderboard.cli`)."""
    from zoo.leaderboard.cli import main as _main

    return _main(argv)

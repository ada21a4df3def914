"""``python -m zoo.leaderboard [key=value ...]``: gather results into the shared leaderboard."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "parse_args"]

USAGE = """\
usage: python -m zoo.leaderboard [config=leaderboard.yaml] [out=DIR] [evaluate=true] [train=true]
                                [readme=true] [key=value ...]

Gathers results.json files (local runs and Hub repos listed in leaderboard.yaml), optionally trains and
(re-)evaluates the listed models through zoo.train / zoo.evaluate, and writes leaderboard.md,
leaderboard.json, leaderboard.html and one PNG chart per task into out (default: leaderboard/).
Keys:
  config=FILE     the sources (default: ./leaderboard.yaml; without it: outputs/**/results.json)
  out=DIR         output folder (default: the config's out, else leaderboard/)
  evaluate=BOOL   run the config's evaluate: entries first (default false)
  train=BOOL      train the config's train: recipes first, skipping finished ones (default false)
  retrain=BOOL    with train=true, train again even when a finished run exists (default false)
  readme=BOOL     rewrite the README's model-zoo table between <!-- zoo-table:start/end --> (default false)
  readme_path=F   the README to rewrite (default: the config's readme, else README.md)
  png=BOOL        write the PNG charts (default true)
  progress=BOOL   per-sequence progress during evaluations (default false)
  strict=BOOL     exit with status 1 when a source failed (default false: failures are listed on the board)
Hub repos are read through the Hub cache; with HF_HUB_OFFLINE=1 an uncached repo is reported, not fatal.
"""

_BOOLS = ("evaluate", "train", "retrain", "readme", "png", "progress", "strict")
_KEYS = ("config", "out", "readme_path", *_BOOLS)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class UsageError(ValueError):
    """Bad command-line arguments."""


def parse_args(argv: Sequence[str]) -> dict[str, object]:
    """``key=value`` arguments -> settings (booleans parsed), defaults filled in.

    Raises:
        UsageError: an unknown key, a missing ``=`` or a bad boolean.
    """
    opts: dict[str, object] = {"config": None, "out": None, "readme_path": None, "png": True}
    opts.update({k: False for k in _BOOLS if k != "png"})
    for arg in argv:
        key, eq, value = arg.partition("=")
        key = key.lstrip("+")
        if not eq:
            raise UsageError(f"expected key=value, got {arg!r}")
        if key not in _KEYS:
            raise UsageError(f"unknown key {key!r}; valid keys: {', '.join(_KEYS)}")
        if key in _BOOLS:
            low = value.strip().lower()
            if low not in _TRUE + _FALSE:
                raise UsageError(f"{key}={value}: expected true or false")
            opts[key] = low in _TRUE
        else:
            opts[key] = value
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 a source failed with strict=true, 2 usage/config error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help", "help") for a in args):
        print(USAGE)
        return 0
    try:
        opts = parse_args(args)
    except UsageError as error:
        print(f"error: {error}\n\n{USAGE}", file=sys.stderr)
        return 2

    from zoo.leaderboard.board import build_board, write_board
    from zoo.leaderboard.config import load_board_config
    from zoo.leaderboard.markdown import render_readme_table, update_readme

    try:
        config = opts["config"]
        if config is None and Path("leaderboard.yaml").is_file():
            config = "leaderboard.yaml"
        cfg = load_board_config(config)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if opts["out"] is not None:
        cfg.out = Path(os.path.expanduser(str(opts["out"]))).resolve()
    if opts["readme_path"] is not None:
        cfg.readme = Path(os.path.expanduser(str(opts["readme_path"]))).resolve()

    def log(message: str) -> None:
        print(f"[leaderboard] {message}", flush=True)

    board = build_board(cfg, evaluate=bool(opts["evaluate"]), train=bool(opts["train"]),
                        retrain=bool(opts["retrain"]), progress=bool(opts["progress"]), log=log)  # fmt: skip
    written = write_board(board, cfg.out, png=bool(opts["png"]))
    log(f"{len(board.entries)} result(s), {len(board.dropped)} older duplicate(s) dropped, "
        f"{len(board.errors)} source(s) failed")  # fmt: skip
    for error in board.errors:
        log(f"failed: {error.source}: {error.message}")
    for path in written.values():
        log(f"wrote {path}")
    if opts["readme"]:
        link = os.path.relpath(written["md"], cfg.readme.parent).replace(os.sep, "/")
        try:
            changed = update_readme(cfg.readme, render_readme_table(board.entries, link))
        except (OSError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        log(f"{'updated' if changed else 'unchanged'}: the model-zoo table of {cfg.readme}")
    return 1 if opts["strict"] and board.errors else 0

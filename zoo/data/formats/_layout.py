"""Shared folder-layout checks: numbered frame files and their existence."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from zoo.data.formats.errors import FormatError

__all__ = ["check_exist", "list_dir", "list_numbered"]

_DIGITS = re.compile(r"[0-9]+")


def list_dir(folder: Path, what: str) -> set[str]:
    """File names in ``folder``; a missing or unreadable folder is a :class:`FormatError`."""
    if not folder.is_dir():
        raise FormatError(folder, f"{what} folder not found")
    try:
        return set(os.listdir(folder))
    except OSError as exc:
        raise FormatError(folder, f"cannot list {what} folder: {exc.strerror or exc}") from exc


def list_numbered(
    folder: Path, ext: str, *, start: int, digits: int | None, what: str = "frame"
) -> list[Path]:
    """The files ``<n><ext>`` of ``folder`` for n = start, start+1, ... without gaps.

    Args:
        folder: the folder to list.
        ext: file extension with the dot (matched case-sensitively, as the benchmarks name files).
        start: number of the first file (0 or 1).
        digits: zero-padded width (``00000001.jpg`` -> 8), or None for unpadded names (``17.jpg``).

    Raises:
        FormatError: no such folder, or a gap in the numbering (naming the first missing file).
    """
    numbers = []
    for name in list_dir(folder, what):
        if name.endswith(ext) and _DIGITS.fullmatch(stem := name[: -len(ext)]):
            if digits is None or len(stem) == digits:
                numbers.append(int(stem))
    numbers.sort()

    def name(n: int) -> str:
        return f"{n:0{digits}d}{ext}" if digits else f"{n}{ext}"

    for i, n in enumerate(numbers):
        if n != start + i:
            raise FormatError(
                folder / name(start + i), f"missing {what} (numbering jumps to {name(n)})", frame=i + 1
            )
    return [folder / name(n) for n in numbers]


def check_exist(paths: Sequence[Path], what: str = "frame", first: int = 1) -> None:
    """Raise a :class:`FormatError` naming the first of ``paths`` that does not exist.

    ``paths[i]`` is frame number ``first + i`` in the error.

    Lists each parent folder once instead of stat-ing every file.
    """
    listing: dict[Path, set[str]] = {}
    for i, p in enumerate(paths):
        parent = p.parent
        if parent not in listing:
            listing[parent] = list_dir(parent, what)
        if p.name not in listing[parent]:
            raise FormatError(p, f"missing {what}", frame=first + i)

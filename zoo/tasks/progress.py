"""Progress display of a benchmark run: one Rich bar for the sequences, one for the current sequence's frames.

Runners take ``progress=True|False`` or any object with the :class:`Progress` methods; only rank 0 shows a
display (other ranks get :class:`NoProgress`).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["NoProgress", "Progress", "RichProgress", "make_progress"]


class Progress(Protocol):
    """What a runner calls: ``start(total)`` once, then per sequence ``sequence(name, frames)``,
    ``advance(n)`` per processed frame, ``done()`` at the end of the sequence; ``close()`` last."""

    def start(self, total: int, description: str) -> None: ...

    def sequence(self, name: str, frames: int) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """Silent progress."""

    def start(self, total: int, description: str) -> None:
        pass

    def sequence(self, name: str, frames: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass

    def close(self) -> None:
        pass


class RichProgress:
    """Two Rich progress bars (sequences, frames of the current sequence) with frames per second."""

    def __init__(self, console: Any = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as _RichProgress

        self._bar = _RichProgress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._overall: Any = None
        self._current: Any = None
        self._started = False

    def start(self, total: int, description: str) -> None:
        if not self._started:
            self._bar.start()
            self._started = True
        self._overall = self._bar.add_task(description, total=total)

    def sequence(self, name: str, frames: int) -> None:
        if self._current is not None:
            self._bar.remove_task(self._current)
        self._current = self._bar.add_task(f"  {name}", total=frames)

    def advance(self, n: int = 1) -> None:
        if self._current is not None:
            self._bar.advance(self._current, n)

    def done(self) -> None:
        if self._overall is not None:
            self._bar.advance(self._overall, 1)

    def close(self) -> None:
        if self._current is not None:
            self._bar.remove_task(self._current)
            self._current = None
        if self._started:
            self._bar.stop()
            self._started = False


def make_progress(progress: bool | Progress, rank: int = 0) -> Progress:
    """``True`` -> :class:`RichProgress` on rank 0; ``False`` -> :class:`NoProgress`; objects pass through."""
    if progress is True:
        return RichProgress() if rank == 0 else NoProgress()
    if progress is False or progress is None:
        return NoProgress()
    return progress

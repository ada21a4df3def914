"""The one error every reader raises for malformed input."""

from __future__ import annotations

from pathlib import Path


class FormatError(ValueError):
    """A benchmark file is malformed.

    The message always names the file, the line (1-based, for text files) or frame, and what is wrong, so
    a user can open the file and fix it. Readers never let a bare ``IndexError``/``ValueError`` escape.

    Attributes:
        path: the offending file (or directory).
        line: 1-based line number in a text file, if the problem is on a line.
        frame: 1-based frame number, if the problem is tied to a frame rather than a line.
        reason: what is wrong, in words.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        line: int | None = None,
        frame: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        self.frame = frame
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if frame is not None:
            where += f", frame {frame}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple:
        # Rebuilt from its fields, so the error survives the trip back from a worker process (workers=N).
        return _rebuild, (str(self.path), self.reason, self.line, self.frame)


def _rebuild(path: str, reason: str, line: int | None, frame: int | None) -> FormatError:
    return FormatError(path, reason, line=line, frame=frame)

"""Shared parsing of numeric text tables (MOTChallenge, GOT-10k, OTB, LaSOT, TrackingNet files).

One table = one row per non-blank line, fields separated by commas and/or whitespace (TrackEval and the
OTB files accept both). Two parsers give bit-identical results:

- a fast path that hands the whole file to a C tokenizer in one call (pandas when installed, else
  ``np.loadtxt``): about 20 ms per real 4 MB MOT17 tracker file with pandas;
- a line-by-line scan that is the single source of truth for what is accepted and for error messages. It
  runs only when the fast path fails or returns anything unusual (ragged rows, non-finite values, blank
  lines it cannot place), so a malformed file always gets a :class:`FormatError` naming its line.

Number grammar (both paths): optional sign, decimal digits with an optional point, optional exponent;
``nan``/``inf`` are recognised only to be reported (or, with ``nan_rows``, accepted as a whole NaN row).
One trailing comma per line is tolerated (some tracker writers emit it, TrackEval drops it).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.core.atomic import atomic_write_text
from zoo.core.boxes import xywh_to_xyxy, xyxy_to_xywh
from zoo.data.formats.errors import FormatError

__all__ = [
    "Table",
    "check_integral",
    "fail_first",
    "format_rows",
    "format_xywh",
    "read_flags",
    "read_xywh_boxes",
    "read_bytes",
    "read_name_list",
    "read_table",
    "read_text",
    "write_name_list",
    "write_text",
]

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)", re.I)
_SPLIT = re.compile(r"\s*,\s*|\s+")
# Bytes a plain numeric table is made of; files with any other byte skip the fast tokenizers.
_FAST_BYTES = b"0123456789.+-eE,\t\r\n "

# Set to False (tests do) to exercise the np.loadtxt fast path even where pandas is installed.
USE_PANDAS = True
# Below this size np.loadtxt wins (pandas.read_csv costs ~0.35 ms a call; loadtxt ~0.03 ms plus ~3x pandas'
# per-byte cost), and re-scoring GOT-10k-style folders of small files never imports pandas (~0.4 s).
PANDAS_MIN_BYTES = 16 * 1024
_pandas = None


@dataclass
class Table:
    """A parsed numeric table.

    Attributes:
        values: (N, C) float64, one row per non-blank line.
        lines: (N,) int64, the 1-based line number of each row (for error messages).
    """

    values: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def ncols(self) -> int:
        return int(self.values.shape[1])


# ------------------------------------------------------------------------------------------------ reading
def read_bytes(path: str | Path, what: str = "file") -> bytes:
    """The raw bytes of ``path``; a missing or unreadable file is a :class:`FormatError`."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, f"{what} not found" if not path.exists() else f"{what} is not a regular file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FormatError(path, f"cannot read {what}: {exc.strerror or exc}") from exc


def read_text(path: str | Path, what: str = "file", data: bytes | None = None) -> str:
    """``path`` (or its already-read ``data``) decoded as UTF-8 (a leading BOM is dropped); undecodable
    bytes are a :class:`FormatError`."""
    if data is None:
        data = read_bytes(path, what)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError(path, f"not UTF-8 text (byte {exc.start})", line=line) from exc
    return text[1:] if text.startswith("\ufeff") else text


def read_name_list(path: str | Path, what: str = "list file") -> list[tuple[int, str]]:
    """Non-blank lines of a name list (seqmap, ImageSets, list.txt) as ``(line_number, stripped_text)``."""
    text = read_text(path, what)
    return [(i, s) for i, raw in enumerate(text.split("\n"), 1) if (s := raw.strip())]


def _counts_ok(ncols: int, columns: Collection[int] | None) -> bool:
    return columns is None or ncols in columns


def _describe(columns: Collection[int]) -> str:
    cols = sorted(set(columns))
    if len(cols) > 2 and cols == list(range(cols[0], cols[-1] + 1)):
        return f"{cols[0]} to {cols[-1]}"
    return " or ".join(str(c) for c in cols)


def _scan(
    path: Path, text: str, columns: Collection[int] | None, nan_rows: bool
) -> tuple[list[list[float]], list[int]]:
    """The reference parser: validate every line, raise on the first problem."""
    rows: list[list[float]] = []
    lines: list[int] = []
    width = None
    for lineno, raw in enumerate(text.split("\n"), 1):
        s = raw.strip()
        if not s:
            continue
        if s.endswith(","):
            s = s[:-1].rstrip()
        fields = _SPLIT.split(s)
        if any(f == "" for f in fields):
            raise FormatError(
                path, "empty field (two delimiters in a row, or a leading delimiter)", line=lineno
            )
        if not _counts_ok(len(fields), columns):
            raise FormatError(
                path, f"expected {_describe(columns)} columns, found {len(fields)}: {s[:80]!r}", line=lineno
            )
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            raise FormatError(path, f"{len(fields)} columns where earlier lines have {width}", line=lineno)
        row = []
        for col, f in enumerate(fields, 1):
            if _NUMBER.fullmatch(f) is None:
                raise FormatError(path, f"column {col}: {f[:40]!r} is not a number", line=lineno)
            row.append(float(f))
        finite = [np.isfinite(v) for v in row]
        if not all(finite):
            all_nan = all(np.isnan(v) for v in row)
            if not (nan_rows and all_nan):
                col = finite.index(False) + 1
                hint = " (only whole NaN rows are allowed here)" if nan_rows else ""
                raise FormatError(
                    path, f"column {col} is {row[col - 1]!r}, not a finite number{hint}", line=lineno
                )
        rows.append(row)
        lines.append(lineno)
    return rows, lines


def _fast(data: bytes) -> np.ndarray | None:
    """The whole file through one C tokenizer call; None where it cannot parse the file as a clean table."""
    global _pandas
    if data.translate(None, _FAST_BYTES):
        return None  # letters, quotes, NUL...: only the scan decides what such a file means
    sep = "," if b"," in data else r"\s+"
    try:
        if USE_PANDAS and _pandas is not False and len(data) >= PANDAS_MIN_BYTES:
            if _pandas is None:
                try:
                    import pandas

                    _pandas = pandas
                except ImportError:
                    _pandas = False
            if _pandas is not False:
                # pandas < 3 defaults to a float parser that is not always correctly rounded.
                kw = {} if int(_pandas.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
                with warnings.catch_warnings():  # pandas warns about odd files: the scan reports them
                    warnings.simplefilter("ignore")
                    frame = _pandas.read_csv(
                        io.BytesIO(data),
                        sep=sep,
                        header=None,
                        index_col=False,
                        dtype=np.float64,
                        engine="c",
                        skipinitialspace=True,
                        skip_blank_lines=True,
                        quoting=csv.QUOTE_NONE,
                        **kw,
                    )
                return frame.to_numpy(dtype=np.float64)
        return np.loadtxt(
            io.BytesIO(data), delimiter="," if sep == "," else None, comments=None, dtype=np.float64, ndmin=2
        )
    except Exception:  # any tokenizer complaint just means "let the validating scan look at it"
        return None


def read_table(
    path: str | Path,
    *,
    columns: Collection[int] | None = None,
    nan_rows: bool = False,
    what: str = "file",
    data: bytes | None = None,
) -> Table:
    """Parse a numeric text table.

    Args:
        path: the text file.
        columns: allowed column counts (all rows must have the same count); None accepts any.
        nan_rows: accept rows that are entirely NaN (``nan,nan,nan,nan``: "no box"); other non-finite
            values are always errors.
        what: the kind of file, for error messages.
        data: the file's bytes when the caller has read them already (``path`` then only names it).

    Returns:
        a :class:`Table`; an empty or blank file gives zero rows (``values`` of shape (0, min(columns))).

    Raises:
        FormatError: missing/unreadable file, non-UTF-8 bytes, ragged rows, a column count outside
            ``columns``, a field that is not a number, NaN or inf — naming the file and line.
    """
    path = Path(path)
    if data is None:
        data = read_bytes(path, what)
    width0 = min(columns) if columns else 0
    if not data.strip():
        return Table(np.zeros((0, width0), np.float64), np.zeros(0, np.int64))
    values = _fast(data)
    if values is not None and values.ndim == 2 and _counts_ok(values.shape[1], columns):
        if np.isfinite(values).all():
            n = values.shape[0]
            total = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
            if n == total:
                return Table(values, np.arange(1, n + 1, dtype=np.int64))
            nonblank = [i for i, raw in enumerate(data.split(b"\n"), 1) if raw.strip()]
            if len(nonblank) == n:
                return Table(values, np.asarray(nonblank, np.int64))
    text = read_text(path, what, data)
    rows, lines = _scan(path, text, columns, nan_rows)
    if not rows:
        return Table(np.zeros((0, width0), np.float64), np.zeros(0, np.int64))
    return Table(np.asarray(rows, np.float64), np.asarray(lines, np.int64))


# ---------------------------------------------------------------------------------------------- validation
def fail_first(path: str | Path, table: Table, bad: np.ndarray, reason: str | Callable[[int], str]) -> None:
    """Raise a :class:`FormatError` at the first row where the (N,) bool ``bad`` is true (no-op if none).

    ``reason`` is a message, or a function of the offending row index returning one.
    """
    idx = np.flatnonzero(bad)
    if idx.size:
        i = int(idx[0])
        msg = reason(i) if callable(reason) else reason
        raise FormatError(path, msg, line=int(table.lines[i]))


def check_integral(path: str | Path, table: Table, col: int, name: str) -> np.ndarray:
    """Column ``col`` (0-based) as int64, or a :class:`FormatError` at the first non-integer value."""
    v = table.values[:, col]
    fail_first(
        path,
        table,
        v != np.round(v),
        lambda i: f"column {col + 1} ({name}) must be an integer, got {float(v[i])!r}",
    )
    fail_first(
        path,
        table,
        np.abs(v) > 2**53,
        lambda i: f"column {col + 1} ({name}) is out of range: {float(v[i])!r}",
    )
    return v.astype(np.int64)


# ------------------------------------------------------------------------------------------------ writing
def _format_column(col: np.ndarray) -> np.ndarray:
    """(N,) numbers -> (N,) str: integers without a decimal point, other floats in shortest round-trip form."""
    col = np.asarray(col)
    if col.dtype.kind in "iub":
        return col.astype(np.int64).astype(str)
    col = col.astype(np.float64)
    out = col.astype(str)  # numpy prints the shortest string that parses back to the same double
    integral = np.isfinite(col) & (col == np.round(col)) & (np.abs(col) < 1e15)
    if integral.any():
        out = out.astype(object)
        out[integral] = col[integral].astype(np.int64).astype(str)
    return out


def format_rows(columns: Iterable[np.ndarray], sep: str = ",") -> str:
    """Join equal-length (N,) columns into ``N`` text lines (each ending in a newline).

    Numbers round-trip exactly through :func:`read_table` (shortest repr, ``12`` for integral values).
    """
    cols = [_format_column(c).tolist() for c in columns]
    if not cols or not cols[0]:
        return ""
    return "".join(sep.join(parts) + "\n" for parts in zip(*cols))


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` atomically (temp file in the same folder + ``os.replace``); parents are created."""
    return atomic_write_text(path, text)


def write_name_list(path: str | Path, names: Iterable[str], header: str | None = None) -> Path:
    """One name a line (after an optional header line); names must be non-empty single-line strings."""
    names = [str(n) for n in names]
    for n in names:
        if not n.strip() or "\n" in n or n != n.strip():
            raise ValueError(f"names must be non-empty, single-line and unpadded, got {n!r}")
    lines = ([header] if header is not None else []) + names
    return write_text(path, "".join(line + "\n" for line in lines))


# ------------------------------------------------------------------------------------------ shared shapes
def read_xywh_boxes(path: str | Path, *, what: str = "box file", nan_rows: bool = True) -> np.ndarray:
    """A file of ``x,y,w,h`` rows (GOT-10k, LaSOT, OTB, TrackingNet) as (N, 4) float64 ``xyxy``.

    Whole-NaN rows ("no box") pass through as NaN when ``nan_rows``; a negative width or height is an error
    (zero is allowed: some benchmarks mark absent targets with empty boxes).
    """
    table = read_table(path, columns=(4,), nan_rows=nan_rows, what=what)
    v = table.values
    with np.errstate(invalid="ignore"):
        fail_first(path, table, v[:, 2] < 0, lambda i: f"negative width {float(v[i, 2])!r}")
        fail_first(path, table, v[:, 3] < 0, lambda i: f"negative height {float(v[i, 3])!r}")
    return xywh_to_xyxy(v)


def read_flags(path: str | Path, length: int, *, high: int = 1, what: str = "label file") -> np.ndarray:
    """Per-frame integer labels in ``0..high``: one a line (GOT-10k ``*.label``) or one comma-separated line
    (LaSOT ``full_occlusion.txt``). Returns (length,) int64; a different count is an error."""
    table = read_table(path, what=what)
    if len(table) == 1 and table.ncols > 1:
        values, lines = table.values[0], np.full(table.ncols, table.lines[0])
    elif table.ncols <= 1:
        values, lines = table.values.reshape(-1), table.lines
    else:
        raise FormatError(
            path,
            f"expected one value a line or one line of values, found {table.ncols} columns "
            f"on {len(table)} lines",
        )
    flat = Table(values.reshape(-1, 1), lines)
    out = check_integral(path, flat, 0, "label")
    fail_first(path, flat, (out < 0) | (out > high), lambda i: f"label {out[i]} is outside 0..{high}")
    if out.shape[0] != length:
        raise FormatError(path, f"{out.shape[0]} labels for {length} frames")
    return out


def format_xywh(boxes_xyxy: np.ndarray) -> str:
    """(N, 4) ``xyxy`` -> ``x,y,w,h`` lines (NaN rows written as ``nan,nan,nan,nan``)."""
    boxes = np.asarray(boxes_xyxy, np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (N, 4), got {boxes.shape}")
    nan = np.isnan(boxes)
    if (nan.any(1) != nan.all(1)).any() or np.isinf(boxes).any():
        raise ValueError("boxes must be finite, or NaN in all four coordinates")
    xywh = xyxy_to_xywh(boxes)
    return format_rows(xywh.T)

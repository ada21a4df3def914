"""A strict reader for numeric arrays in MATLAB level-5 MAT-files (what JHMDB's ``joint_positions.mat`` is),
and a small deterministic writer of real numeric arrays (what ZooSynth writes its keypoint clips with).

``scipy.io.loadmat`` trusts the type codes and sizes inside the file: a single corrupted byte can make it
segfault (the fuzz tests found one: an unknown element type in a matrix's real part). This reader checks
every tag against the bytes that are really there and raises :class:`FormatError` instead.

Format facts (MathWorks, "MAT-File Format", level 5): a 128-byte header (text, subsystem offset, version
0x0100, endian indicator ``IM``/``MI``), then data elements. A tag is ``(u32 type, u32 nbytes)``, or for
``nbytes <= 4`` the "small element" form ``(u16 nbytes << 16 | u16 type)`` followed by the data in 4 bytes.
Elements inside a matrix are padded to 8 bytes. ``miCOMPRESSED`` (15) holds a zlib stream of one element;
``miMATRIX`` (14) holds array flags (class in the low byte, complex bit 0x800), dimensions (int32), name, and
the real part, stored column-major in any numeric type.

:func:`write_mat_numeric` writes uncompressed little-endian elements with a fixed header text:
``scipy.io.savemat`` stamps the creation time into the header, so equal arrays would give different bytes.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from zoo.core.atomic import atomic_write_bytes
from zoo.data.formats.errors import FormatError

__all__ = ["read_mat_numeric", "write_mat_numeric"]

_MI_MATRIX, _MI_COMPRESSED = 14, 15
_NUMERIC = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_NUMERIC_CLASSES = set(range(6, 16))  # mxDOUBLE .. mxUINT64


class _Bad(Exception):
    """Internal: a structural problem, turned into a FormatError with the file name."""


def _tag(buf: bytes, pos: int, end: int, order: str) -> tuple[int, bytes, int]:
    """(type, data, position after the element without padding) of the element at ``pos``."""
    if pos + 8 > end:
        raise _Bad(f"truncated element tag at byte {pos}")
    first, second = np.frombuffer(buf, dtype=f"{order}u4", count=2, offset=pos).tolist()
    if first >> 16:  # small data element: size and type packed in the first word
        nbytes, mtype = first >> 16, first & 0xFFFF
        if nbytes > 4:
            raise _Bad(f"small data element of {nbytes} bytes at byte {pos}")
        return mtype, buf[pos + 4 : pos + 4 + nbytes], pos + 8
    if pos + 8 + second > end:
        raise _Bad(f"element at byte {pos} claims {second} bytes, only {end - pos - 8} remain")
    return first, buf[pos + 8 : pos + 8 + second], pos + 8 + second


def _matrix(data: bytes, order: str, want: str) -> np.ndarray | None:
    """The array of a miMATRIX body if its name is ``want`` (else None)."""
    parts = []
    pos = 0
    while pos < len(data) and len(parts) < 5:
        mtype, body, nxt = _tag(data, pos, len(data), order)
        parts.append((mtype, body))
        pos = (nxt + 7) // 8 * 8  # subelements are 8-byte aligned
    if len(parts) < 3:
        raise _Bad("matrix element without flags, dimensions and name")
    (ftype, flags), (dtype_, dims_raw), (ntype, name_raw) = parts[:3]
    if ftype != 6 or len(flags) < 8:
        raise _Bad("matrix array-flags subelement is malformed")
    if dtype_ != 5 or len(dims_raw) % 4 or len(dims_raw) < 8:
        raise _Bad("matrix dimensions subelement is malformed")
    if ntype not in (1, 2):
        raise _Bad("matrix name subelement is malformed")
    try:
        name = name_raw.decode("ascii")
    except UnicodeDecodeError:
        raise _Bad("matrix name is not ASCII") from None
    if name != want:
        return None
    word = int(np.frombuffer(flags, dtype=f"{order}u4", count=1)[0])
    cls, complex_ = word & 0xFF, bool(word & 0x800)
    if cls not in _NUMERIC_CLASSES:
        raise _Bad(f"{want!r} is not a numeric array (MATLAB class {cls})")
    if complex_:
        raise _Bad(f"{want!r} is complex")
    dims = np.frombuffer(dims_raw, dtype=f"{order}i4").astype(np.int64)
    if (dims < 0).any():
        raise _Bad(f"{want!r} has negative dimensions {dims.tolist()}")
    count = int(np.prod(dims))
    if len(parts) < 4:
        if count:
            raise _Bad(f"{want!r} has no data")
        return np.zeros(tuple(dims), np.float64)
    rtype, real = parts[3]
    if rtype not in _NUMERIC:
        raise _Bad(f"{want!r} data has unknown element type {rtype}")
    itemsize = np.dtype(_NUMERIC[rtype]).itemsize
    if len(real) != count * itemsize:
        raise _Bad(f"{want!r} holds {len(real)} bytes for {count} values of {itemsize} bytes")
    values = np.frombuffer(real, dtype=f"{order}{_NUMERIC[rtype]}").astype(np.float64)
    return values.reshape(tuple(dims), order="F")


def read_mat_numeric(path: str | Path, name: str, *, required: bool = True) -> np.ndarray | None:
    """The real numeric variable ``name`` of a level-5 MAT-file, as float64 with MATLAB's dimensions.

    Args:
        required: False returns None when the file holds no variable ``name`` (every other problem still
            raises).

    Raises:
        FormatError: missing/unreadable file, not a level-5 MAT-file (v4, v7.3/HDF5), a structural
            inconsistency, no such variable (``required``), or a variable that is not a real numeric array.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "MAT-file not found")
    try:
        buf = path.read_bytes()
    except OSError as exc:
        raise FormatError(path, f"cannot read MAT-file: {exc.strerror or exc}") from exc
    if len(buf) < 128 or not buf[:6] == b"MATLAB":
        raise FormatError(path, "not a MATLAB level-5 MAT-file (no 'MATLAB' header)")
    indicator = buf[126:128]
    if indicator not in (b"IM", b"MI"):
        raise FormatError(path, "MAT-file header has no endian indicator (IM/MI)")
    order = "<" if indicator == b"IM" else ">"
    version = int(np.frombuffer(buf, dtype=f"{order}u2", count=1, offset=124)[0])
    if version != 0x0100:
        raise FormatError(
            path, f"MAT-file version {version:#06x} is not level 5 (v7.3 HDF5 files: save with -v7)"
        )
    try:
        pos = 128
        while pos < len(buf):
            mtype, data, pos = _tag(buf, pos, len(buf), order)
            if mtype == _MI_COMPRESSED:
                try:
                    inner = zlib.decompress(data)
                except zlib.error as exc:
                    raise _Bad(f"corrupt compressed element: {exc}") from None
                mtype, data, _ = _tag(inner, 0, len(inner), order)
            if mtype == _MI_MATRIX:
                array = _matrix(data, order, name)
                if array is not None:
                    return array
    except _Bad as exc:
        raise FormatError(path, str(exc)) from None
    if not required:
        return None
    raise FormatError(path, f"no variable {name!r}")


# ------------------------------------------------------------------------------------------------ writing
#: numpy dtype -> (MATLAB array class, MAT element type) for the arrays the writer accepts
_WRITE_TYPES = {
    np.dtype("f8"): (6, 9), np.dtype("f4"): (7, 7), np.dtype("i1"): (8, 1), np.dtype("u1"): (9, 2),
    np.dtype("i2"): (10, 3), np.dtype("u2"): (11, 4), np.dtype("i4"): (12, 5), np.dtype("u4"): (13, 6),
    np.dtype("i8"): (14, 12), np.dtype("u8"): (15, 13),
}  # fmt: skip
_HEADER = b"MATLAB 5.0 MAT-file, written by zoo.data.formats._mat (level 5, uncompressed)"


def _element(mtype: int, data: bytes) -> bytes:
    """A tagged element padded to 8 bytes."""
    pad = (-len(data)) % 8
    return np.array([mtype, len(data)], "<u4").tobytes() + data + b"\0" * pad


def write_mat_numeric(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write real numeric arrays as a level-5 MAT-file (what ``scipy.io.loadmat`` and MATLAB read), atomically.

    The bytes depend only on the arrays (their names, order, dtypes, shapes and values): no time stamp.
    Booleans are written as uint8; 0-d and 1-d arrays as MATLAB row vectors (1, N).

    Raises:
        ValueError: a name that is not a MATLAB identifier, or an array of another type (complex, object).
    """
    body = []
    for name, value in arrays.items():
        if not (name.isascii() and name.isidentifier() and not name.startswith("_") and len(name) <= 63):
            raise ValueError(
                f"MAT variable names must be identifiers of at most 63 ASCII characters, got {name!r}"
            )
        arr = np.asarray(value)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
        key = np.dtype(f"{arr.dtype.kind}{arr.dtype.itemsize}") if arr.dtype.kind in "fiu" else None
        if key not in _WRITE_TYPES:
            raise ValueError(f"{name!r}: cannot write a {arr.dtype} array (real numeric types only)")
        cls, mtype = _WRITE_TYPES[key]
        if arr.ndim < 2:
            arr = arr.reshape(1, -1)
        flags = _element(6, np.array([cls, 0], "<u4").tobytes())
        dims = _element(5, np.array(arr.shape, "<i4").tobytes())
        label = _element(1, name.encode("ascii"))
        real = _element(mtype, arr.astype(key.newbyteorder("<")).tobytes(order="F"))
        body.append(_element(_MI_MATRIX, flags + dims + label + real))
    header = _HEADER.ljust(116, b" ") + b"\0" * 8 + np.array([0x0100], "<u2").tobytes() + b"IM"
    return atomic_write_bytes(Path(path), header + b"".join(body))

"""Byte-level helpers over Arrow UTF-8 string arrays, for the fast paths of normalisation
and validation.

The pattern they serve: a transform that is exact but slow on every value (Unicode NFKC,
a regular-expression split, a date parser) is run only on the rows whose bytes show they
might change or need it, and the other rows keep their value. Finding those rows is a
few numpy comparisons over the array's data buffer, with no per-value Python object.

"Plain" text in this module is ASCII plus the CJK ideographs U+4000–U+9FFF (UTF-8 lead
bytes E4–E9): every such character is its own NFKC form, has no case, is not whitespace,
and no two of them compose (tests/unit/test_utf8.py checks this against the Arrow
functions the normaliser calls).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPACE = 0x20


def buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data) of a string or large_string Array, as numpy views (no copy).

    offsets has len(arr) + 1 entries (int32 or int64) indexing into data (uint8).
    """
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    _, offsets_buf, data_buf = arr.buffers()
    if offsets_buf is None or len(arr) == 0:
        offsets = np.zeros(len(arr) + 1, dtype=width)
    else:
        offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    return offsets, data


def byte_lengths(arr: pa.Array) -> np.ndarray:
    """UTF-8 length in bytes of every value (0 for nulls with an empty slot)."""
    offsets, _ = buffers(arr)
    return np.diff(offsets).astype(np.int64)


def rows_of_bytes(offsets: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """Boolean row mask: the rows whose bytes include any of `positions` (absolute offsets into data)."""
    mask = np.zeros(n, dtype=bool)
    if len(positions):
        mask[np.searchsorted(offsets, positions, side="right") - 1] = True
    return mask


def rows_with(arr: pa.Array, flag: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Boolean row mask: rows with at least one byte for which `flag(bytes)` is True."""
    offsets, data = buffers(arr)
    start = int(offsets[0])
    hits = np.flatnonzero(flag(data[start : int(offsets[-1])]))
    return rows_of_bytes(offsets, hits + start, len(arr))


def not_plain(data: np.ndarray) -> np.ndarray:
    """Bytes that start a character outside plain text: controls, space, and lead bytes other than E4–E9."""
    return (data <= SPACE) | (data >= 0xEA) | ((data - np.uint8(0xC0)) <= np.uint8(0xE3 - 0xC0))


def not_plain_or_lower(data: np.ndarray) -> np.ndarray:
    """`not_plain`, or an ASCII lower-case letter (what upper-casing would change)."""
    return not_plain(data) | ((data - np.uint8(ord("a"))) <= np.uint8(ord("z") - ord("a")))


def text_needs_work(arr: pa.Array) -> np.ndarray:
    """Rows a text clean-up (NFKC, brackets, spaces collapsed and trimmed) might change.

    Unlike codes, text may keep single inner spaces; a row needs work when it has a control
    character, a character outside plain text, two spaces in a row, or a space at either end.
    """
    offsets, data = buffers(arr)
    start, end = int(offsets[0]), int(offsets[-1])
    seg = data[start:end]
    odd = (seg < SPACE) | (seg >= 0xEA) | ((seg - np.uint8(0xC0)) <= np.uint8(0xE3 - 0xC0))
    mask = rows_of_bytes(offsets, np.flatnonzero(odd) + start, len(arr))
    if len(seg) > 1:
        double = np.flatnonzero((seg[:-1] == SPACE) & (seg[1:] == SPACE)) + start
        mask |= rows_of_bytes(offsets, double, len(arr))
    lengths = np.diff(offsets)
    nonempty = lengths > 0
    first = np.zeros(len(arr), dtype=bool)
    last = np.zeros(len(arr), dtype=bool)
    first[nonempty] = data[offsets[:-1][nonempty]] == SPACE
    last[nonempty] = data[offsets[1:][nonempty] - 1] == SPACE
    return mask | first | last


def patch(arr: pa.Array, rows: np.ndarray, transform: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`arr` with `transform` applied to the rows of the boolean mask `rows` only."""
    if not rows.any():
        return arr
    if rows.all():
        return transform(arr)
    fixed = transform(arr.filter(pa.array(rows)))
    return pc.replace_with_mask(arr, pa.array(rows), fixed.cast(arr.type))


def with_nulls(arr: pa.Array, nulls: np.ndarray) -> pa.Array:
    """`arr` with the rows of the boolean mask `nulls` set to null (data buffers shared, not copied)."""
    if not nulls.any():
        return arr
    valid = ~nulls
    if arr.null_count:
        valid &= pc.is_valid(arr).to_numpy(zero_copy_only=False)
    offsets, _ = buffers(arr)
    _, _, data_buf = arr.buffers()
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(arr.type, len(arr), [bitmap, pa.py_buffer(np.ascontiguousarray(offsets)), data_buf], null_count=int(len(arr) - valid.sum()))


def empty_to_null(arr: pa.Array) -> pa.Array:
    """Empty strings become null."""
    offsets, _ = buffers(arr)
    return with_nulls(arr, np.diff(offsets) == 0)


def fixed_width_matrix(arr: pa.Array, width: int) -> np.ndarray:
    """(n, width) uint8 matrix of an array whose values are all exactly `width` bytes long."""
    offsets, data = buffers(arr)
    start = int(offsets[0])
    return data[start : start + len(arr) * width].reshape(len(arr), width)


def per_chunk(fn: Callable[[pa.Array], pa.Array], arr: pa.ChunkedArray | pa.Array, out_type: pa.DataType | None = None) -> pa.ChunkedArray:
    """`fn` over each chunk of a chunked array (no combining copy)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = [fn(c) for c in chunks]
    return pa.chunked_array(out, type=out_type or (out[0].type if out else arr.type))

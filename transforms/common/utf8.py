"""Byte-level helpers over Arrow UTF-8 string arrays, for the fast paths of normalisation
and validation.

The pattern they serve: a transform that is exact but slow on every value (Unicode NFKC,
a regular-expression split, a date parser) is run only on the rows whose bytes show they
might change or need it, and the other rows keep their value. Finding those rows is a
few numpy comparisons over the array's data buffer, with no per-value Python object.

"Plain" text in this module is ASCII plus the CJK ideographs U+4000–U+9FFF (UTF-8 lead
bytes E4–E9): every such character is its own NFKC form, has no case, is not whitespace,
and no two of them compose (tests/unit/transforms/cohandling/test_fast_paths.py checks this against the Arrow
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


# Scanning a cache-sized block at a time keeps numpy's temporaries in L2: several times
# faster than one pass of each operation over a buffer of tens of megabytes.
_BLOCK_BYTES = 1 << 18


def positions(data: np.ndarray, flag: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Positions in `data` of the bytes for which `flag(bytes)` is True."""
    found = []
    for at in range(0, len(data), _BLOCK_BYTES):
        mask = flag(data[at : at + _BLOCK_BYTES])
        if mask.any():
            found.append(np.flatnonzero(mask) + at)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def rows_with(arr: pa.Array, flag: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Boolean row mask: rows with at least one byte for which `flag(bytes)` is True."""
    offsets, data = buffers(arr)
    start = int(offsets[0])
    return rows_of_bytes(offsets, positions(data[start : int(offsets[-1])], flag) + start, len(arr))


# Byte classes, each a couple of numpy operations (uint8 arithmetic wraps around, so
# `(b - lo) <= span` is the range lo..lo+span, possibly wrapping past 0xFF).


def not_plain(data: np.ndarray) -> np.ndarray:
    """Bytes that start a character outside plain text: controls, space, lead bytes C0–E3 and EA–FF."""
    return ((data - np.uint8(0xC0)) <= np.uint8(0xE3 - 0xC0)) | ((data - np.uint8(0xEA)) <= np.uint8(0x20 + 0x100 - 0xEA))


def not_ascii_or_space(data: np.ndarray) -> np.ndarray:
    """Bytes outside printable ASCII other than space: controls, space, anything from 0x80 up."""
    return (data - np.uint8(0x21)) >= np.uint8(0x80 - 0x21)


def not_ascii_space_or_lower(data: np.ndarray) -> np.ndarray:
    """`not_ascii_or_space`, or an ASCII lower-case letter (what upper-casing would change)."""
    return ((data - np.uint8(0x21)) >= np.uint8(0x80 - 0x21)) | ((data - np.uint8(ord("a"))) <= np.uint8(ord("z") - ord("a")))


def _odd_in_text(data: np.ndarray) -> np.ndarray:
    # Controls (below space), and lead bytes C0–E3 and EA–FF.
    return ((data - np.uint8(0xC0)) <= np.uint8(0xE3 - 0xC0)) | ((data - np.uint8(0xEA)) <= np.uint8(0x1F + 0x100 - 0xEA))


def _space(data: np.ndarray) -> np.ndarray:
    return data == SPACE


def text_needs_work(arr: pa.Array) -> np.ndarray:
    """Rows a text clean-up (NFKC, brackets, spaces collapsed and trimmed) might change.

    Unlike codes, text may keep single inner spaces; a row needs work when it has a control
    character, a character outside plain text, two spaces in a row, or a space at either end.
    """
    offsets, data = buffers(arr)
    start, end = int(offsets[0]), int(offsets[-1])
    seg = data[start:end]
    n = len(arr)
    mask = rows_of_bytes(offsets, positions(seg, _odd_in_text) + start, n)
    spaces = positions(seg, _space) + start
    if len(spaces):
        double = spaces[1:][np.diff(spaces) == 1]
        mask |= rows_of_bytes(offsets, double, n)
        nonempty = np.diff(offsets) > 0
        mask[nonempty] |= (data[offsets[:-1][nonempty]] == SPACE) | (data[offsets[1:][nonempty] - 1] == SPACE)
    return mask


def clean(arr: pa.Array, rows: np.ndarray, transform: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`arr` with `transform` applied to the rows of the boolean mask `rows` only, empty strings null.

    Only the rows the transform actually changes are spliced in. When every change is to
    an empty value (a blank field), or there is none, the result shares `arr`'s buffers
    and only its validity is new.
    """
    offsets, _ = buffers(arr)
    blank = np.diff(offsets) == 0
    idx = np.flatnonzero(rows)
    if len(idx):
        before = arr.take(pa.array(idx))
        after = transform(before).cast(arr.type)
        same = pc.fill_null(pc.equal(before, after), False).to_numpy(zero_copy_only=False)
        if before.null_count or after.null_count:
            same |= pc.is_null(before).to_numpy(zero_copy_only=False) & pc.is_null(after).to_numpy(zero_copy_only=False)
        changed = np.flatnonzero(~same)
        emptied = pc.fill_null(pc.equal(pc.binary_length(after), 0), True).to_numpy(zero_copy_only=False)
        if not emptied[changed].all():
            source = np.arange(len(arr))
            source[idx[changed]] = len(arr) + np.arange(len(changed))
            # A take over both arrays as chunks: one copy of the column, and twice as fast as
            # replace_with_mask.
            out = pc.take(pa.chunked_array([arr, after.take(pa.array(changed))]), pa.array(source)).combine_chunks()
            return with_nulls(out, np.diff(buffers(out)[0]) == 0)
        blank[idx[changed]] = True
    return with_nulls(arr, blank)


def nulls(arr: pa.Array) -> np.ndarray:
    """Boolean mask of the null values, unpacked straight from the validity bitmap."""
    if not arr.null_count:
        return np.zeros(len(arr), dtype=bool)
    bits = np.frombuffer(arr.buffers()[0], dtype=np.uint8)
    return ~np.unpackbits(bits, bitorder="little", count=arr.offset + len(arr))[arr.offset :].astype(bool)


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


def rows_all(mask: np.ndarray) -> np.ndarray:
    """Per row of a (k, w) boolean matrix: is every entry True? Read 8 bytes at a time.

    numpy's `all(axis=1)` pays per row; over short rows this is several times faster.
    """
    k, w = mask.shape
    if w < 8 or k == 0:
        out = np.ones(k, dtype=bool)
        for col in range(w):
            out &= mask[:, col]
        return out
    bad = np.ascontiguousarray(~mask)
    any_bad = np.zeros(k, dtype=np.uint64)
    for at in sorted({*range(0, w - 7, 8), w - 8}):
        any_bad |= np.ndarray(shape=(k,), dtype="<u8", buffer=bad, offset=at, strides=(w,))
    return any_bad == 0


_ADD_46, _SUB_30, _HIGH = np.uint64(0x4646464646464646), np.uint64(0x3030303030303030), np.uint64(0x8080808080808080)


def rows_digits(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Per row of a C-contiguous (k, w) uint8 matrix: are bytes start..stop-1 all ASCII digits?

    Eight bytes at a time: in a word of digits neither `+ 0x46` nor `- 0x30` sets any byte's
    high bit; the first byte that is not a digit sets one (carries and borrows only move
    upwards, past it), so a word has a non-digit exactly when a high bit is set.
    """
    k, w = matrix.shape
    if stop - start < 8 or k == 0:  # a column at a time (numpy's all(axis=1) pays per row)
        out = np.ones(k, dtype=bool)
        for col in range(start, stop):
            out &= (matrix[:, col] - np.uint8(48)) <= 9
        return out
    matrix = np.ascontiguousarray(matrix)
    bad = np.zeros(k, dtype=np.uint64)
    for at in sorted({*range(start, stop - 7, 8), stop - 8}):
        word = np.ndarray(shape=(k,), dtype="<u8", buffer=matrix, offset=at, strides=(w,))
        bad |= ((word + _ADD_46) | (word - _SUB_30)) & _HIGH
    return bad == 0


def decimal(matrix: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Per row of a (k, w) uint8 matrix: the number in ASCII digits in columns start..stop-1 (int32)."""
    out = np.zeros(len(matrix), dtype=np.int32)
    for col in range(start, stop):
        out *= 10
        out += matrix[:, col]
        out -= 48
    return out


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

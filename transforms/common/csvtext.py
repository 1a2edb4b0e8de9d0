"""Decoding a CSV that came from outside, line by line, so one damaged line is one damaged row.

Counties and institutions save CSV as UTF-8 (with or without BOM) or GB18030 (Chinese Excel /
WPS). A file is decoded as a whole in the encoding most of its non-ASCII lines are valid in;
a line that is not valid in it (an invalid UTF-8 byte pasted into one cell) is decoded with
U+FFFD replacement and reported by its physical line number, so the caller refuses that row
only. A file where neither encoding reads most non-ASCII lines is not text: `None`.
Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # utf-8 | gb18030
    bad_lines: frozenset[int]  # 1-based physical lines not valid in `encoding`


def _valid(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def decode_lines(data: bytes) -> Decoded | None:
    """The file's text, its encoding and its undecodable lines; None when it is not UTF-8 or GB18030 text."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return Decoded(data.decode("utf-8"), "utf-8", frozenset())
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    wide = [i for i, line in enumerate(lines, start=1) if any(b >= 0x80 for b in line)]
    bad = {enc: {i for i in wide if not _valid(lines[i - 1], enc)} for enc in ("utf-8", "gb18030")}
    encoding = "utf-8" if len(bad["utf-8"]) <= len(bad["gb18030"]) else "gb18030"
    if wide and len(bad[encoding]) * 2 > len(wide):
        return None  # neither encoding reads most of it: binary, or another encoding
    text = "".join(line.decode(encoding, errors="replace") for line in lines)
    return Decoded(text, encoding, frozenset(bad[encoding]))


def csv_records(decoded: Decoded, *, max_records: int, field_limit: int):
    """(record number, first physical line, last physical line, cells) for each CSV record.

    Stops after `max_records` + 1 records (the caller refuses a file over its row bound without
    reading the rest). `field_limit` is the longest field the reader accepts: the file's own
    size bound, so an oversized cell is read whole and refused by the caller, not by the reader.
    """
    csv.field_size_limit(max(field_limit, csv.field_size_limit()))  # global, only ever raised
    reader = csv.reader(io.StringIO(decoded.text, newline=""))
    first = 1
    for number, cells in enumerate(reader, start=1):
        last = reader.line_num
        yield number, first, last, cells
        first = last + 1
        if number > max_records:
            return

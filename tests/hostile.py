"""The hostile-input catalogue: values careless and hostile counterparts send, by kind.

Every input surface's hostile tests (tests/*/test_hostile_*.py) draw from `KINDS` and say
which (surface, kind) pairs they drove with `covers(surface, kind)`; the session prints the
pairs covered at the end (tests/conftest.py). `HOSTILE_DEPTH` (environment) multiplies the
number of generated examples: `make test` runs the default (1); `HOSTILE_DEPTH=20 make test`
goes deeper.

A kind's values are text unless the kind is about bytes (`invalid_utf8`); the surfaces that
take bytes (files, HTTP bodies) encode text kinds as UTF-8 themselves.
"""

from __future__ import annotations

import os

DEPTH = max(1, int(os.environ.get("HOSTILE_DEPTH", "1") or 1))

MB_CELL = "房" * (1 << 20)  # 1 M characters (3 MB of UTF-8)

KINDS: dict[str, list] = {
    "empty": [""],
    "null": [None],
    "whitespace": ["   ", "\t", "\u3000\u3000", "\u00a0"],
    "nul": ["abc\x00def", "\x00"],
    "c0_c1_control": ["a\x07b\x1bc", "x\x85y\x9bz", "\x7f"],
    "bidi": ["\u202eabc\u202c", "a\u2066b\u2069", "\u200f123"],
    "zero_width": ["\u200b", "a\u200db", "\ufeffabc", "abc\u2060"],
    "invalid_utf8": [b"\xff\xfe\xfa", b"abc\xc3(", b"\xed\xa0\x80"],
    "huge_cell": [MB_CELL],
    "out_of_range_number": ["99999999999999999999999", "-1", "1e309", "NaN", str(2**63)],
    "non_ascii_digits": ["١٢٣", "１２３", "²", "௧௨௩", "Ⅻ"],
    "wrong_json_type": [[1, 2], {"a": 1}, True, 3.5, 12],
    "line_break": ["济南市\n历下区", "a\r\nb", "a\u2028b"],
    "formula_prefix": ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"],
    "html": ["<script>alert(1)</script>", "<b>粗</b>", "&lt;&amp;", "\"'><img src=x onerror=alert(1)>"],
}

TEXT_KINDS = [k for k in KINDS if k not in ("invalid_utf8", "wrong_json_type", "null")]

_COVERED: set[tuple[str, str]] = set()


def covers(surface: str, kind: str) -> None:
    """Record that a test drove `surface` with values of `kind` and checked the outcome."""
    if kind not in KINDS:
        raise KeyError(f"unknown hostile kind {kind!r}")
    _COVERED.add((surface, kind))


def covered() -> set[tuple[str, str]]:
    return set(_COVERED)


def as_text(value) -> str | None:
    """A kind's value as text (bytes decoded with replacement; JSON kinds as their repr)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return repr(value)

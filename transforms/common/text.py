"""Text that crosses a trust boundary, handled one way at every ingest and every file written.

Every surface that takes text from outside (exchange rows, forms, checklists, result files,
feeds, events) passes it through `clean_text` before it is checked or stored, and every
file the gateway writes passes its cells through `safe_cell`:

- **NUL and the other C0/C1 control characters** are removed; a line break, tab or other
  line/paragraph separator inside a one-line value becomes a single space (an address typed
  over two lines is still the address). PostgreSQL cannot store NUL in text at all, and a
  control character breaks XML-based files (XLSX) and terminals.
- **Bidi controls** (U+202A–202E, U+2066–2069, U+200E/200F, U+061C) are removed: they make
  a value look different from what it is ("Trojan Source").
- **Zero-width characters** (U+200B–200D, U+2060, U+FEFF, U+180E) are removed; a
  **no-break or ideographic space** becomes an ordinary space.
- **Length** is bounded per field (`TextLimit`): a longer value is not cut silently — the
  caller isolates the unit with rule `TEXT_TOO_LONG` (`too_long`).

`clean_text` reports what it changed (`Cleaned.changes`: the kinds found), so a surface can
warn that a value was altered, and `shown` renders a raw value (str or bytes) for a reason a
person reads: invisible and control characters as `\\u200b` / `\\x00`, cut to a length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# C0 controls except the ones treated as whitespace below, DEL, and C1 controls.
_CONTROL = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)))
_LINEBREAK = "\t\n\r\u0085\u2028\u2029"  # \u0085 is C1 NEL: a line break, not a deletion
_CONTROL = _CONTROL.replace("\u0085", "")
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e"
_ODD_SPACE = "\u00a0\u2007\u202f\u3000"

_DROP = re.compile(f"[{re.escape(_CONTROL + _BIDI + _ZERO_WIDTH)}]")
_TO_SPACE = re.compile(f"[{re.escape(_LINEBREAK + _ODD_SPACE)}]+")
_ANY_ODD = re.compile(f"[{re.escape(_CONTROL + _BIDI + _ZERO_WIDTH + _LINEBREAK + _ODD_SPACE)}]")
_FORMULA_START = "=+-@\t\r"

KINDS = {"control": _CONTROL, "bidi": _BIDI, "zero_width": _ZERO_WIDTH, "line_break": _LINEBREAK, "odd_space": _ODD_SPACE}


@dataclass(frozen=True)
class Cleaned:
    value: str | None
    changes: tuple[str, ...]  # kinds of character removed or replaced, in KINDS order


def clean_text(value: object) -> Cleaned:
    """One value as the gateway keeps it: controls, bidi and zero-width marks out, breaks to a space."""
    if value is None:
        return Cleaned(None, ())
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = str(value)
    if not _ANY_ODD.search(value):
        return Cleaned(value, ())
    changes = tuple(kind for kind, chars in KINDS.items() if any(c in chars for c in value))
    out = _TO_SPACE.sub(" ", _DROP.sub("", value))
    return Cleaned(out, changes)


def clean(value: object) -> str | None:
    """`clean_text(value).value`: for callers that need only the cleaned value."""
    return clean_text(value).value


def clean_values(values: Iterable[object]) -> list[str | None]:
    """`clean` over many values; the common case (nothing odd) costs one regex search each."""
    return [clean_text(v).value for v in values]


def needs_cleaning(value: object) -> bool:
    return isinstance(value, str) and _ANY_ODD.search(value) is not None


def too_long(value: str | None, limit: int) -> bool:
    return value is not None and len(value) > limit


def shown(value: object, limit: int = 60) -> str:
    """A raw value made readable in a reason: odd characters escaped, at most `limit` characters."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="backslashreplace")
    else:
        text = str(value)
    out = []
    for ch in text:
        if _ANY_ODD.match(ch) or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    text = "".join(out)
    return text if len(text) <= limit else f"{text[:limit]}…（共 {len(text)} 字符）"


def safe_cell(value: object) -> object:
    """A cell for a file a person opens (CSV, XLSX): clean text, and never read as a formula.

    A value starting with = + - @ (or a tab / carriage return, which Excel skips) gets a leading
    apostrophe. Non-text values (numbers, dates, None) pass unchanged.
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value).value or ""
    if (value[:1] and value[:1] in _FORMULA_START) or (text[:1] and text.lstrip()[:1] in _FORMULA_START):
        return "'" + text
    return text

"""One entry of a receiver's feed (a handling result, a package status), checked before anything of
it is stored (pure: no I/O, no clock).

A feed is read from a cursor and the cursor only moves forward, so an entry that cannot be stored
must be set aside on its own — never stop the feed. `screen_entry` decides, field by field from a
spec (`Field`), whether an entry can go on to the business checks:

- the entry is a JSON object, at most `MAX_ENTRY_BYTES` as JSON and nested at most `MAX_DEPTH` deep;
- every field has its JSON type (an integer is a JSON integer — `true` is not one — or, where the
  spec allows, a string of ASCII digits: `"²"`, `"１２"`, `"١٢٣"` are not), integers lie in the range
  of the column they go to, finite numbers only;
- identifiers (`kind="id"`: keys, codes, statuses) are used exactly as sent, so a control, bidi or
  zero-width character in one refuses the entry; times (`kind="time"`) are ASCII;
- free text (`kind="text"`, and every string inside a `kind="json"` value) passes through
  `transforms.common.text.clean_text` (NUL and controls out, line breaks to a space) and is then bounded;
  a longer text is not cut: the entry is refused;
- a string carrying bytes that were not UTF-8 (lone surrogates after the page was decoded) refuses
  the entry wherever it is.

The first problem found is the entry's one reason (`Problem`: rule id, field, message in Chinese).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from transforms.common.text import clean_text, needs_cleaning, shown

MAX_ENTRY_BYTES = 64 * 1024  # one result or status is well under 2 KiB; 64 KiB leaves room for long reasons in every field
MAX_DEPTH = 8
INT32 = (0, 2**31 - 1)
INT64 = (0, 2**63 - 1)
_DIGITS = re.compile(r"[0-9]{1,19}")
_SURROGATE = re.compile("[\ud800-\udfff]")

RULES: dict[str, str] = {
    "FEED_NOT_OBJECT": "条目不是 JSON 对象",
    "FEED_ENTRY_TOO_LARGE": "条目过大或嵌套过深",
    "FEED_FIELD_TYPE": "字段类型不对",
    "FEED_FIELD_RANGE": "数值超出范围",
    "FEED_FIELD_TOO_LONG": "字段过长",
    "FEED_FIELD_CHARACTERS": "标识字段含控制字符、方向控制符、零宽字符或换行",
    "FEED_FIELD_ENCODING": "字段含非 UTF-8 字节",
    "FEED_FIELD_FORMAT": "时间须为 ASCII 的本地时间，如 2026-11-25T10:15:00",
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # id | text | time | int | json
    max_len: int = 0  # id, text, time: characters (after cleaning for text)
    low: int = 0  # int
    high: int = 0  # int
    digits_ok: bool = False  # int: a string of ASCII digits is accepted too


@dataclass(frozen=True)
class Problem:
    rule: str
    field: str | None
    message: str  # Chinese, naming the field and what was found


def screen_entry(entry: object, fields: tuple[Field, ...]) -> tuple[dict | None, Problem | None]:
    """(the entry with its spec'd fields cleaned and integers as int, None) or (None, its one problem)."""
    if not isinstance(entry, dict):
        return None, _problem("FEED_NOT_OBJECT", None, f"收到 {_json_type(entry)}")
    bad = _walk(entry)
    if bad is not None:
        return None, bad
    out = dict(entry)
    for spec in fields:
        value = entry.get(spec.name)
        if value is None:
            continue
        checked, problem = _field(spec, value)
        if problem is not None:
            return None, problem
        out[spec.name] = checked
    size = len(json.dumps(out, ensure_ascii=False).encode("utf-8"))
    if size > MAX_ENTRY_BYTES:
        return None, _problem("FEED_ENTRY_TOO_LARGE", None, f"{size} 字节，上限 {MAX_ENTRY_BYTES}")
    return out, None


def raw_json(entry: object) -> bytes:
    """An entry as JSON bytes for keeping it as received (lone surrogates kept as the bytes they stand for)."""
    try:
        text = json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str)
    except (ValueError, RecursionError):  # not finite, too deep: keep what can be shown
        text = repr(entry)
    try:
        return text.encode("utf-8", errors="surrogateescape")  # bytes that were not UTF-8 come back as they were
    except UnicodeEncodeError:  # a lone surrogate written as a JSON escape
        return text.encode("utf-8", errors="surrogatepass")


def _field(spec: Field, value: object) -> tuple[object, Problem | None]:
    name = spec.name
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None, _problem("FEED_FIELD_TYPE", name, f"{name} 应为整数，收到 {_json_type(value)} {shown(_plain(value), 40)}")
        if isinstance(value, str):
            if not (spec.digits_ok and _DIGITS.fullmatch(value)):
                return None, _problem("FEED_FIELD_TYPE", name, f"{name} 应为整数（ASCII 数字），收到字符串 {shown(value, 40)}")
            value = int(value)
        if not spec.low <= value <= spec.high:
            return None, _problem("FEED_FIELD_RANGE", name, f"{name} 应在 {spec.low} 到 {spec.high} 之间，收到 {shown(str(value), 40)}")
        return value, None
    if spec.kind == "json":
        return _clean_json(value), None
    if not isinstance(value, str):
        return None, _problem("FEED_FIELD_TYPE", name, f"{name} 应为字符串，收到 {_json_type(value)} {shown(_plain(value), 40)}")
    if spec.kind == "text":
        value = clean_text(value).value
    elif spec.kind == "id" and needs_cleaning(value):
        return None, _problem("FEED_FIELD_CHARACTERS", name, f"{name}：{shown(value, 60)}")
    elif spec.kind == "time" and not (value.isascii() and value.isprintable()):
        return None, _problem("FEED_FIELD_FORMAT", name, f"{name}：{shown(value, 40)}")
    if len(value) > spec.max_len:
        return None, _problem("FEED_FIELD_TOO_LONG", name, f"{name} {len(value)} 字符，上限 {spec.max_len}")
    return value, None


def _walk(entry: dict) -> Problem | None:
    """Depth, non-finite numbers and bytes that were not UTF-8, anywhere in the entry (iteratively)."""
    stack: list[tuple[str, object, int]] = [("", entry, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _problem("FEED_ENTRY_TOO_LARGE", path or None, f"嵌套超过 {MAX_DEPTH} 层：{path}")
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return _problem("FEED_FIELD_ENCODING", path or None, f"{path}：{shown(value.encode('utf-8', 'surrogateescape'), 40)}")
        elif isinstance(value, float):
            if not math.isfinite(value):
                return _problem("FEED_FIELD_RANGE", path or None, f"{path} 不是有限数值：{value}")
        elif isinstance(value, dict):
            for k, v in value.items():
                if _SURROGATE.search(k):
                    return _problem("FEED_FIELD_ENCODING", path or None, f"键名含非 UTF-8 字节：{shown(k.encode('utf-8', 'surrogateescape'), 40)}")
                stack.append((f"{path}.{k}" if path else k, v, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v, depth + 1) for i, v in enumerate(value))
    return None


def _clean_json(value: object) -> object:
    """Every string of a (bounded) JSON value cleaned."""
    if isinstance(value, str):
        return clean_text(value).value
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


def _problem(rule: str, field: str | None, detail: str) -> Problem:
    return Problem(rule, field, f"{RULES[rule]}：{detail}" if detail else RULES[rule])


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float)):
        return "数值"
    if isinstance(value, str):
        return "字符串"
    if isinstance(value, list):
        return "数组"
    if isinstance(value, dict):
        return "对象"
    return type(value).__name__


def _plain(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)[:80]
    except (ValueError, RecursionError):
        return repr(value)[:80]

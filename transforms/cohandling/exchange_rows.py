"""Admission of exchange rows (and remote-collection package rows) as read from the platform (pure).

The readers (connectors/exchange_db.py) hand over each chunk *as received*:
the change sequence, the write time, and every text column as raw bytes (Arrow `binary`), so
that nothing a row holds can stop the read. `admit_rows` then decides, row by row and mostly
vectorised, what the ledger may store:

- every text value goes through `transforms/text.clean_text` once (NUL, C0/C1 controls, bidi
  and zero-width marks out, line breaks to a space); a value that was changed is listed in
  `originals` (its bytes as received) so the ledger keeps the original and validation can warn
  (rule `TEXT_CLEANED`, naming the field);
- a row that cannot be stored is *rejected* with one rule and a reason naming its change
  sequence and field: bytes that are not UTF-8 (`TEXT_ENCODING`), a value longer than its
  field's limit (`TEXT_TOO_LONG`, limits in `EXCHANGE_LIMITS`: the platform's declared column
  sizes, or the ledger's where that is tighter), an OP other than I/U/D (`OP_INVALID`), a write
  time that cannot be read (`CHANGE_TIME_INVALID`). The caller dead-letters it with the row as
  received (`payload`) and moves its watermark past it all the same.

The first problem of a row, in column order, is its reason: one row, one reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from transforms.cohandling.annex1 import FIELD_CODES, LABELS
from transforms.common.text import KINDS, clean_text, shown

# Characters per field. The platform's exchange table declares these sizes (PostgreSQL DDL,
# sql/source/create_exchange_table.postgresql.sql); institution codes are held to the ledger's
# 32 (work_order.institution_code, institution.code: a longer code cannot be registered).
EXCHANGE_LIMITS: dict[str, int] = {
    "ROWGUID": 64, "YCYWH": 64, "ZRFXM": 500, "ZRFZJZL": 100, "ZRFZJHM": 500, "ZRFLXDH": 500,
    "ZCFXM": 500, "ZCFZJZL": 100, "ZCFZJHM": 500, "ZCFLXDH": 500, "XZQH": 12, "FWZL": 500,
    "FWJZMJ": 32, "BDCQZH": 200, "DBSJ": 32, "YDHH": 64, "YSHH": 64, "GSJGBM": 32, "GSJGMC": 200,
    "YQHH": 64, "RQJGBM": 32, "RQJGMC": 200, "YNHH": 64, "GRJGBM": 32, "GRJGMC": 200,
}
OPS = ("I", "U", "D")

RULE_TEXT = {
    "TEXT_ENCODING": ("不是有效的 UTF-8 文本", "not valid UTF-8 text"),
    "TEXT_TOO_LONG": ("超过长度上限 {limit} 字符（实际 {length} 字符）", "longer than its limit of {limit} characters ({length})"),
    "OP_INVALID": ("操作类型须为 I、U 或 D", "OP must be I, U or D"),
    "CHANGE_TIME_INVALID": ("写入时间无法识别", "CHANGE_TIME cannot be read"),
    "NUMBER_INVALID": ("不是 1 至 {limit} 之间的整数", "not an integer from 1 to {limit}"),
}

# The characters `clean_text` removes or replaces, as one RE2 class: a vectorised first pass
# finds the few values that need the Python path.
_ODD_CLASS = "[" + "".join(f"\\x{{{ord(c):04x}}}" for chars in KINDS.values() for c in chars) + "]"


@dataclass(frozen=True)
class Reject:
    change_seq: int
    field: str
    rule_id: str
    reason: str
    payload: bytes  # the row as received, JSON (a value that is not UTF-8 as {"hex": ...})
    row: int = -1  # its position in the chunk


@dataclass(frozen=True)
class Original:
    change_seq: int
    field: str
    value: bytes  # as received
    changes: str  # kinds of character cleaned out, comma-joined (transforms/text.KINDS)
    part: str = ""  # '' the row itself; applicant:<XH> / material:<XH> for a package's children


@dataclass
class Admitted:
    table: pa.Table  # rows that may be stored, text as Arrow strings, cleaned
    rejects: list[Reject] = field(default_factory=list)
    originals: list[Original] = field(default_factory=list)
    max_seq: int | None = None  # over every row read, rejected ones included: the watermark goes past them
    rows_read: int = 0

    @property
    def num_rows(self) -> int:
        return self.table.num_rows


def cell_bytes(value) -> bytes | None:
    """A database value of a text column as bytes (SQLite text_factory=bytes; a number or BLOB as stored)."""
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def cell_time(value) -> datetime | None:
    """CHANGE_TIME as the database gives it; None when SQLite holds something that is not a time (the row is refused later)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _decode(arr: pa.Array) -> tuple[pa.Array, dict[int, bytes]]:
    """binary -> string; values that are not UTF-8 become null, returned by row with their bytes."""
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return arr.cast(pa.string()), {}
    try:
        return arr.cast(pa.string()), {}
    except pa.ArrowInvalid:
        pass
    values, bad = [], {}
    for i, v in enumerate(arr.to_pylist()):
        if v is None:
            values.append(None)
            continue
        try:
            values.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            values.append(None)
            bad[i] = v
    return pa.array(values, pa.string()), bad


def _raw_value(v):
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return {"hex": v.hex()}
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ")
    return v


def row_payload(raw: pa.Table, row: int) -> bytes:
    """One row as received, as JSON bytes (column names upper-case as the platform writes them)."""
    record = {name.upper(): _raw_value(raw[name][row].as_py()) for name in raw.column_names}
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def admit_rows(
    raw: pa.Table,
    *,
    text_columns: list[str],
    limits: dict[str, int],
    labels: dict[str, str] | None = None,
    seq_column: str = "change_seq",
    op_column: str | None = "op",
    time_column: str | None = "change_time",
    key: str = "变更序号",
    part_of=None,
) -> Admitted:
    """Clean every text column of `raw` and reject the rows the ledger cannot store (see the module doc).

    `text_columns` are lower-case column names (binary or string); `limits` by upper-case name.
    """
    labels = labels or {}
    n = raw.num_rows
    seqs = raw[seq_column].to_pylist()
    first: dict[int, tuple[str, str, str]] = {}  # row -> (field, rule, detail)
    out = {}

    def reject(rows, fld: str, rule: str, detail: dict | None = None) -> None:
        for r in rows:
            if r not in first:
                first[r] = (fld, rule, json.dumps(detail or {}))

    originals: list[tuple[int, str, bytes, str]] = []
    if time_column is not None:
        times = raw[time_column]
        reject([int(i) for i in pc.indices_nonzero(pc.is_null(times)).to_pylist()], "CHANGE_TIME", "CHANGE_TIME_INVALID")
    for name in text_columns:
        upper = name.upper()
        arr = raw[name].combine_chunks() if isinstance(raw[name], pa.ChunkedArray) else raw[name]
        text, bad = _decode(arr)
        reject(sorted(bad), upper, "TEXT_ENCODING")
        if n and text.null_count < n:
            odd = pc.fill_null(pc.match_substring_regex(text, _ODD_CLASS), False)
            rows = pc.indices_nonzero(odd).to_pylist()
            if rows:
                values = text.to_pylist()
                for r in rows:
                    cleaned = clean_text(values[r])
                    originals.append((r, upper, values[r].encode("utf-8"), ",".join(cleaned.changes)))
                    values[r] = cleaned.value
                text = pa.array(values, pa.string())
            limit = limits.get(upper)
            if limit is not None:
                lengths = pc.fill_null(pc.utf8_length(text), 0)
                for r in pc.indices_nonzero(pc.greater(lengths, limit)).to_pylist():
                    reject([r], upper, "TEXT_TOO_LONG", {"limit": limit, "length": len(text[r].as_py())})
        out[name] = text
    if op_column is not None:
        ok = pc.fill_null(pc.is_in(out[op_column], value_set=pa.array(OPS)), False)
        reject(pc.indices_nonzero(pc.invert(ok)).to_pylist(), op_column.upper(), "OP_INVALID")

    columns = {name: (out[name] if name in out else raw[name]) for name in raw.column_names}
    table = pa.table(columns)
    rejects = []
    for r in sorted(first):
        fld, rule, detail = first[r]
        rejects.append(Reject(int(seqs[r]), fld, rule, reason(rule, seqs[r], fld, labels.get(fld), json.loads(detail), raw[fld.lower()][r].as_py() if fld.lower() in raw.column_names else None, key=key), row_payload(raw, r), r))
    if first:
        keep = pa.array([r not in first for r in range(n)])
        table = table.filter(keep)
    kept_originals = [Original(int(seqs[r]), fld, value, changes, part_of(r) if part_of else "") for r, fld, value, changes in originals if r not in first]
    max_seq = max((s for s in seqs if s is not None), default=None)
    return Admitted(table, rejects, kept_originals, None if max_seq is None else int(max_seq), n)


def reason(rule: str, seq, fld: str, label: str | None, detail: dict, value, *, key: str = "变更序号") -> str:
    """'变更序号 N 字段 X（label）：what；English', with the value as received (escaped, cut)."""
    zh, en = RULE_TEXT[rule]
    zh, en = zh.format(**detail), en.format(**detail)
    where = f"{fld}（{label}）" if label else fld
    sample = "" if rule == "TEXT_TOO_LONG" else f"；值 {_masked(shown(value, 40))}"
    return f"{key} {seq} 字段 {where}：{zh}{sample}。change_seq {seq}, field {fld}: {en}"


def _masked(text: str) -> str:
    """A reason's sample with any ID number or phone in it masked: reasons go to logs, lists and the dead letters."""
    import pandas as pd

    from transforms.common.mask import mask_in_text

    return str(mask_in_text(pd.Series([text])).iloc[0])


def admit_changes(raw: pa.Table) -> Admitted:
    """An exchange-table chunk (columns change_seq, change_time, op and the 25 Annex 1 fields, lower case) admitted."""
    return admit_rows(raw, text_columns=["op", *(c.lower() for c in FIELD_CODES)], limits=EXCHANGE_LIMITS, labels=dict(LABELS))


# --- remote-collection packages (异地代收): a package version is admitted whole ---------------

# The platform's declared sizes (sql/source/create_remote_tables.postgresql.sql), by upper-case name.
PACKAGE_LIMITS: dict[str, int] = {
    "BWID": 64, "SQBH": 64, "SJDWDM": 32, "SJDWMC": 200, "SJXZQH": 12, "SJSJ": 32, "SJRY": 100, "YWLX": 16,
    "BDCDYH": 64, "BDCQZH": 200, "ZL": 500, "XZQH": 12,
}
APPLICANT_LIMITS: dict[str, int] = {
    "BWID": 64, "SQRXM": 200, "ZJZL": 16, "ZJHM": 64, "SQRLB": 8, "HYDDM": 32, "HYXZQH": 12, "SFZDQ": 4, "HTJC": 4,
    "ZWCJ": 4, "DZQM": 4, "WXJLBH": 64, "HYSJ": 32,
}
MATERIAL_LIMITS: dict[str, int] = {"BWID": 64, "CLBM": 32, "CLMC": 200, "YS": 8, "WJDZ": 500, "WJHX": 64, "SFZZYJ": 4, "FILE_SHA256": 64}
XH_MAX = 9_999  # positions in one package; the ledger's XH is an INTEGER
CHILDREN = {"applicants": ("申请人", "applicant"), "materials": ("材料", "material")}


def _xh_column(raw: pa.Table) -> tuple[pa.Array, dict[int, object]]:
    """XH as int32; rows whose XH is not an integer in 1..XH_MAX, by row, with the value."""
    values, bad = [], {}
    for i, v in enumerate(raw["xh"].to_pylist()):
        try:
            text = v.decode("ascii") if isinstance(v, bytes) else v
            number = int(text)
            if not 1 <= number <= XH_MAX or (isinstance(text, str) and not text.strip().isdigit()):
                raise ValueError
            values.append(number)
        except (TypeError, ValueError, UnicodeDecodeError):
            values.append(None)
            bad[i] = v
    return pa.array(values, pa.int32()), bad


def _xh_text(value) -> str:
    return shown(value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value, 12)


def admit_packages(packages: pa.Table, applicants: pa.Table, materials: pa.Table, *, key: str = "变更序号") -> tuple[pa.Table, pa.Table, pa.Table, list[Reject], list[Original]]:
    """A chunk of package versions admitted whole: a bad package row, or a bad applicant or material
    row, refuses its package version (one reason naming change_seq, child XH and field); the others load."""
    text_of = lambda t, extra=(): [c for c in t.column_names if c not in ("change_seq", "change_time", "xh", "file_size", *extra)]  # noqa: E731
    head = admit_rows(packages, text_columns=text_of(packages), limits={**PACKAGE_LIMITS}, key=key)
    rejects = {r.change_seq: r for r in head.rejects}
    originals = list(head.originals)
    kept: dict[str, pa.Table] = {}
    raw_payload = {int(s): i for i, s in enumerate(packages["change_seq"].to_pylist())}
    for name, table, limits in (("applicants", applicants, APPLICANT_LIMITS), ("materials", materials, MATERIAL_LIMITS)):
        zh, en = CHILDREN[name]
        xh, bad_xh = _xh_column(table)
        xhs = table["xh"].to_pylist()  # as received
        seqs = table["change_seq"].to_pylist()
        table = table.set_column(table.column_names.index("xh"), "xh", xh)
        body = admit_rows(table, text_columns=text_of(table), limits=limits, op_column=None, time_column=None, key=key,
                          part_of=lambda r, xhs=xhs, en=en: f"{en}:{_xh_text(xhs[r])}")
        problems = [(row, f"{key} {seqs[row]} 字段 XH：{RULE_TEXT['NUMBER_INVALID'][0].format(limit=XH_MAX)}；值 {shown(v, 20)}") for row, v in bad_xh.items()]
        problems += [(r.row, r.reason) for r in body.rejects]
        for row, why in sorted(problems):
            seq = int(seqs[row])
            if seq in rejects or seq not in raw_payload:
                continue
            field_name = "XH" if row in bad_xh else next(r.field for r in body.rejects if r.row == row)
            payload = json.dumps({"package": json.loads(row_payload(packages, raw_payload[seq])), en: json.loads(row_payload(table, row))}, ensure_ascii=False)
            rejects[seq] = Reject(seq, f"{en}:{field_name}", "NUMBER_INVALID" if row in bad_xh else next(r.rule_id for r in body.rejects if r.row == row),
                                  f"{zh}第 {_xh_text(xhs[row])} 条（XH）：{why}", payload.encode("utf-8"), row)
        kept[name] = body.table
        originals += body.originals
    refused = pa.array(sorted(rejects), pa.int64())

    def without(t: pa.Table) -> pa.Table:
        return t.filter(pc.invert(pc.is_in(t["change_seq"], value_set=refused))) if len(refused) and t.num_rows else t

    originals = [o for o in originals if o.change_seq not in rejects]
    return without(head.table), without(kept["applicants"]), without(kept["materials"]), [rejects[s] for s in sorted(rejects)], originals

"""Handling results coming back (办理结果): reading institutions' result files, and checking
every result — from a file or a receiver's feed — before it counts.

The result file an account-mode institution uploads to its drop's `/inbox/` (documented in
docs/protocol/results.md): CSV, UTF-8 (with or without BOM) or GB18030, header row with
the codes below; one row per work order handled.

| code | meaning |
|---|---|
| GDBH | the work order's key as delivered (`ROWGUID:utility:version`); or give ROWGUID + XBLX |
| ROWGUID | 标识码 |
| XBLX | utility: water / gas / heat (水 / 气 / 热 accepted) |
| JGDM | result code (RESULT_CODES) |
| JGSM | reason (required words for a refusal) |
| BLSJ | handled time, e.g. 2026-11-23 10:15 (local time) |
| BLR | handler |

A result that cannot count goes to the exceptions list with a reason a person can act on
(EXCEPTIONS); the others in the same file still count. Pure: no I/O, no clock.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pandas as pd

from transforms.common.feeds import INT32, INT64, Field, Problem, screen_entry

RESULT_CODES: dict[str, tuple[str, str]] = {
    "0000": ("done", "办理成功"),
    "0201": ("done", "重复申请（已办理，视为成功）"),
    "0100": ("received", "已受理"),
    "0002": ("rejected", "户号不存在"),
    "0003": ("rejected", "欠费未结清"),
    "0009": ("rejected", "其他原因不予办理"),
}
UTILITY_WORDS = {"water": "water", "水": "water", "供水": "water", "gas": "gas", "气": "gas", "燃气": "gas",
                 "heat": "heat", "热": "heat", "供热": "heat", "electricity": "electricity", "电": "electricity"}
FILE_COLUMNS = ("GDBH", "ROWGUID", "XBLX", "JGDM", "JGSM", "BLSJ", "BLR")
ACCEPTED_COLUMNS = ("rowguid", "utility", "version", "result", "code", "reason", "handled_at", "handler", "row")  # what check_results accepts
MAX_RESULT_FILE_BYTES = 5 * 1024 * 1024
MAX_RESULT_ROWS = 20_000  # a day's results of the busiest institution are a few hundred rows
MAX_FILE_EXCEPTIONS = 100  # per file: the first ones are listed, then one line counts the rest
MAX_NAME_CHARS = 128
SAFE_NAME = re.compile(r"[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff_.-]{0,127}\.csv", re.IGNORECASE)
_GDBH = re.compile(r".{1,64}:[a-z]{1,16}:[0-9]{1,9}")
CELL_LIMITS = {"GDBH": 200, "ROWGUID": 64, "XBLX": 16, "JGDM": 8, "JGSM": 500, "BLSJ": 40, "BLR": 64}  # characters, checked before anything is stored

EXCEPTIONS: dict[str, str] = {
    "FILE_NAME_UNSAFE": "文件名不合规（只允许字母、数字、汉字、_ . -，以 .csv 结尾，不含路径，UTF-8 编码，不超过 128 个字符）",
    "FILE_TOO_LARGE": "文件过大",
    "FILE_TOO_MANY_ROWS": "结果行数超过上限，整个文件未处理",
    "FILE_INCOMPLETE": "文件在等待时限内没有上传完成",
    "FILE_UNREADABLE": "文件没有读取权限，在等待时限内仍无法读取",
    "FILE_ENCODING": "文件编码无法识别（应为 UTF-8 或 GB18030）",
    "FILE_COLUMNS_MISSING": "缺少必需的列",
    "FILE_EMPTY": "文件没有结果行",
    "RESULT_BAD_KEY": "工单编号格式不对（应为 ROWGUID:类型:版本）",
    "RESULT_UNKNOWN_WORK_ORDER": "没有这个已投递的工单",
    "RESULT_WRONG_SOURCE": "该工单不是投递给本机构/本系统的",
    "RESULT_UNKNOWN_CODE": "结果代码不在约定范围内",
    "RESULT_BAD_DATE": "办理时间无法识别",
    "RESULT_BEFORE_DELIVERY": "办理时间早于工单投递时间",
    "RESULT_FUTURE": "办理时间晚于当前时间",
    "RESULT_DUPLICATE": "重复的结果，已忽略",
    "RESULT_CONFLICT": "与已收到的最终结果矛盾，未采用",
    "RESULT_MALFORMED": "结果记录格式不对",
    "RESULT_WITHDRAWN": "工单已撤回或已取消（平台撤回记录，或更正后不再需要该项），结果未采用，不通知申请人",
    "RESULT_ENCODING": "本行含有不是文件编码（UTF-8 或 GB18030）的字节",
    "RESULT_CELL_TOO_LONG": "单元格内容过长",
    "RESULT_MORE_EXCEPTIONS": "本文件还有更多未采用的行（只列出前若干条）",
}
# work_order statuses ending a delivered order (transforms/cohandling/workorder_routing.py: a withdrawn or dropped order a
# receiver holds is cancel_pending until the receiver is told, then cancelled / cancel_refused).
WITHDRAWN_STATUSES = {
    "withdrawn": "平台已撤回该记录", "cancelled": "更正后不再需要该项或已撤回",
    "cancel_pending": "平台已撤回或更正，取消通知待发", "cancel_refused": "平台已撤回或更正（接收方答复已办理）",
}

# A results-feed entry's fields (docs/protocol/receivers.md), checked by transforms.common.feeds before any
# of it is stored: lengths are the ledger columns' (rowguid 64, utility 16, code 8) or the protocol's.
FEED_RESULT_FIELDS: tuple[Field, ...] = (
    Field("idempotency_key", "id", 200), Field("rowguid", "id", 64), Field("utility", "id", 16),
    Field("version", "int", low=1, high=INT32[1], digits_ok=True), Field("receipt_id", "text", 100), Field("result", "id", 16),
    Field("code", "id", 8), Field("reason", "text", 500), Field("handled_at", "time", 40), Field("handler", "text", 64),
    Field("seq", "int", low=INT64[0], high=INT64[1], digits_ok=True),
)


def screen_feed_results(entries: list) -> tuple[list[tuple[int, dict]], list[tuple[int, Problem]]]:
    """([(position in the page, entry cleaned)] fit to check, [(position, problem)] for each that is not); positions from 1."""
    good, bad = [], []
    for i, entry in enumerate(entries, start=1):
        checked, problem = screen_entry(entry, FEED_RESULT_FIELDS)
        if problem is None:
            good.append((i, checked))
        else:
            bad.append((i, problem))
    return good, bad


def exception(source: str, reason_code: str, *, row: int | None = None, rowguid=None, utility=None, value=None, detail: str = "") -> dict:
    return {"source": source, "row_number": row, "rowguid": rowguid, "utility": utility, "reason_code": reason_code,
            "reason": EXCEPTIONS[reason_code] + (f"：{detail}" if detail else ""), "value": None if value is None else str(value)[:500]}


def check_file_name(raw: bytes) -> tuple[str | None, str | None]:
    """(the name as text, None) for an allowed result-file name, or (None, why not): UTF-8, the safe characters, a length bound."""
    from transforms.common.text import shown

    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, f"文件名 {shown(raw, 80)} 不是 UTF-8 编码"
    if len(name) > MAX_NAME_CHARS + 4:
        return None, f"文件名有 {len(name)} 个字符，超过上限 {MAX_NAME_CHARS}"
    if not SAFE_NAME.fullmatch(name) or ".." in name:
        return None, f"文件名 {shown(name, 80)} 含有不允许的字符"
    return name, None


def read_result_file(name: str, data: bytes, *, source: str) -> tuple[pd.DataFrame | None, dict | None]:
    """(rows, None) or (None, a file-level exception). Rows: row, GDBH, ROWGUID, XBLX, JGDM, JGSM, BLSJ, BLR (text)."""
    rows, _, problem = parse_result_file(name, data, source=source)
    return rows, problem


def parse_result_file(name: str, data: bytes, *, source: str) -> tuple[pd.DataFrame | None, list[dict], dict | None]:
    """(rows, row exceptions, None) or (None, [], a file-level exception).

    Bounds before anything else: the name, the size, the number of rows (a file over it is
    refused whole with one reason, never a line per row). Each cell passes `clean_text`; a row
    with a line not valid in the file's encoding, or a cell over `CELL_LIMITS`, is refused
    alone (RESULT_ENCODING / RESULT_CELL_TOO_LONG) and the file's other rows go on."""
    from transforms.common.csvtext import csv_records, decode_lines
    from transforms.common.text import clean_text

    if not SAFE_NAME.fullmatch(name) or ".." in name:
        return None, [], exception(source, "FILE_NAME_UNSAFE", value=name)
    if len(data) > MAX_RESULT_FILE_BYTES:
        return None, [], exception(source, "FILE_TOO_LARGE", value=name, detail=f"{len(data)} 字节，上限 {MAX_RESULT_FILE_BYTES}")
    decoded = decode_lines(data)
    if decoded is None:
        return None, [], exception(source, "FILE_ENCODING", value=name)
    records = list(csv_records(decoded, max_records=MAX_RESULT_ROWS + 1, field_limit=MAX_RESULT_FILE_BYTES))
    if not records:
        return None, [], exception(source, "FILE_EMPTY", value=name)
    if len(records) > MAX_RESULT_ROWS + 1:  # + the header
        return None, [], exception(source, "FILE_TOO_MANY_ROWS", value=name, detail=f"超过 {MAX_RESULT_ROWS} 行（上限），请分成多个文件上传")
    header = [(clean_text(h).value or "").strip().upper() for h in records[0][3]]
    has_key = "GDBH" in header or ("ROWGUID" in header and "XBLX" in header)
    missing = [c for c in ("JGDM", "BLSJ") if c not in header] + ([] if has_key else ["GDBH（或 ROWGUID + XBLX）"])
    if missing:
        return None, [], exception(source, "FILE_COLUMNS_MISSING", value=name, detail="、".join(missing))
    where = {c: header.index(c) for c in FILE_COLUMNS if c in header}
    out, problems = [], []
    for number, first, last, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue
        if any(line in decoded.bad_lines for line in range(first, last + 1)):
            problems.append(exception(source, "RESULT_ENCODING", row=number, detail=f"第{number}行"))
            continue
        record = {c: (clean_text(cells[i]).value or "").strip() if i < len(cells) else "" for c, i in where.items()}
        long = [c for c, v in record.items() if len(v) > CELL_LIMITS[c]]
        if long:
            c = long[0]
            problems.append(exception(source, "RESULT_CELL_TOO_LONG", row=number, value=record[c][:80],
                                      detail=f"{c} 列 {len(record[c])} 个字符，上限 {CELL_LIMITS[c]}"))
            continue
        gdbh = record.get("GDBH", "")
        if gdbh and not _GDBH.fullmatch(gdbh):  # checked here too: a version of '²' or 20 digits must not reach int() or the database
            problems.append(exception(source, "RESULT_BAD_KEY", row=number, value=gdbh))
            continue
        out.append({"row": number, **{c: record.get(c, "") for c in FILE_COLUMNS}})
    if not out and not problems:
        return None, [], exception(source, "FILE_EMPTY", value=name)
    return pd.DataFrame(out, columns=["row", *FILE_COLUMNS]), problems, None


def cap_exceptions(problems: list[dict], *, source: str, limit: int = MAX_FILE_EXCEPTIONS) -> list[dict]:
    """A file's exceptions as listed: the first `limit`, then one line counting the rest by reason."""
    if len(problems) <= limit:
        return problems
    rest: dict[str, int] = {}
    for p in problems[limit:]:
        rest[p["reason_code"]] = rest.get(p["reason_code"], 0) + 1
    detail = f"另有 {len(problems) - limit} 行未采用：" + "，".join(f"{code} {n} 行" for code, n in sorted(rest.items()))
    return problems[:limit] + [exception(source, "RESULT_MORE_EXCEPTIONS", detail=detail)]


RECEIPT_HEADINGS = ["行 row", "规则 rule", "说明 reason", "值 value"]


def receipt_name(name: str | None, key: str) -> str:
    """The receipt's file name in the institution's `inbox/receipts/`: the file's (safe) stem and its key's first 12 hex digits."""
    stem = name.rsplit(".", 1)[0] if name else "file"
    return f"{stem}.{key[:12]}.receipt.csv"


def receipt_csv(*, shown_name: str, sha256: str | None, size: int, accepted: int, refused: list[dict], whole_file: bool) -> bytes:
    """The receipt an institution finds for every result file the gateway read (UTF-8 with BOM, opens in Excel / WPS).

    Names the file and its SHA-256, what was accepted and what was refused, with rule (code) and reason (Chinese) per
    row; ID numbers and phones in a reason or value masked (transforms/common/mask.py); every cell through `safe_cell`.
    The gateway signs it (jobs/cohandling/collect_results.py: `<name>.sig` beside it)."""
    import pandas as pd

    from transforms.common.mask import mask_in_text
    from transforms.common.text import safe_cell

    def masked(text: str) -> str:
        return mask_in_text(pd.Series([text], dtype=object)).iloc[0]

    buf = io.StringIO()
    writer = csv.writer(buf)
    rows_refused = sum(1 for p in refused if p.get("row_number") is not None)
    outcome = ("整个文件未处理 / file refused" if whole_file else f"已采用 {accepted} 行，未采用 {rows_refused} 行 / partly refused" if refused
               else f"已采用 {accepted} 行，全部采用 / all accepted")
    for label, value in (("文件 file", shown_name), ("SHA-256", sha256 or "未读取 / not read"), ("大小 size", f"{size} 字节"), ("结果 outcome", outcome)):
        writer.writerow([safe_cell(f"# {label}"), safe_cell(value)])
    writer.writerow(RECEIPT_HEADINGS)
    for p in refused:
        writer.writerow([safe_cell("" if p.get("row_number") is None else str(p["row_number"])), safe_cell(p["reason_code"]),
                         safe_cell(masked(p["reason"])), safe_cell("" if p.get("value") is None else masked(str(p["value"]))[:200])])
    return buf.getvalue().encode("utf-8-sig")


def rows_from_feed(items: list, positions: list[int] | None = None) -> pd.DataFrame:
    """A receiver's feed results in the file rows' shape (row = the feed's seq, else the entry's position)."""
    records = []
    for i, item in enumerate(items):
        i = positions[i] if positions is not None else i
        if not isinstance(item, dict):
            item = {}
        key = item.get("idempotency_key")
        version = item.get("version")
        if item.get("rowguid") and item.get("utility") and _small_int(version) is not None:
            key = f"{item['rowguid']}:{item['utility']}:{_small_int(version)}"  # the key may be a hash for odd ROWGUIDs: the fields are exact
        seq = item.get("seq")
        records.append({
            "row": seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= INT64[1] else i, "GDBH": "" if key is None else str(key), "ROWGUID": str(item.get("rowguid") or ""),
            "XBLX": str(item.get("utility") or ""), "JGDM": str(item.get("code") or ""), "JGSM": str(item.get("reason") or ""),
            "BLSJ": str(item.get("handled_at") or ""), "BLR": str(item.get("handler") or ""),
        })
    return pd.DataFrame(records, columns=["row", *FILE_COLUMNS])


def _small_int(value: object) -> int | None:
    """A version number: a JSON integer or ASCII digits, 1 to 2**31 - 1; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= INT32[1] else None


def parse_handled_at(text: str) -> datetime | None:
    t = (text or "").strip().replace("/", "-").replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return datetime.strptime(t, fmt)
        except ValueError:
            continue
    return None


class KnownWorkOrders:
    """What results are checked against: delivered versions by key, the latest delivered version per (ROWGUID, utility),
    and the final results known so far (updated as results are accepted, so a later row of the same file or page sees
    an earlier one; a later file or page sees it in the ledger, once `forget` has let go of what was read).

    Given whole (`deliveries`, `outcomes` frames), or read as needed: with `fetch` (ROWGUIDs -> those frames for just
    them, `Ledger.cohandling.known_of`), `check_results` asks for the ROWGUIDs a file or page names, and the collection lets go of them
    (`forget`) once that unit is stored — what a run holds is a unit's, not the ledger's (a year of work orders is
    millions) nor the run's."""

    def __init__(self, deliveries: pd.DataFrame | None = None, outcomes: pd.DataFrame | None = None, *, fetch=None) -> None:
        self.delivered: dict[tuple[str, str, int], object] = {}
        self.latest: dict[tuple[str, str], int] = {}
        self.final: dict[tuple[str, str, int], str] = {}
        self.acknowledged: set[tuple[str, str, int]] = set()  # versions the receiver already confirmed: a second 0100 is a repeat
        self.withdrawn: dict[tuple[str, str, int], str] = {}  # delivered versions whose work order was since withdrawn or cancelled
        self._fetch, self._asked = fetch, set()
        if deliveries is not None:
            self._add(deliveries, outcomes if outcomes is not None else pd.DataFrame(columns=["rowguid", "utility", "version", "result"]))

    def cover(self, rowguids) -> None:
        """Make sure what the ledger knows of these ROWGUIDs is here (with `fetch`; whole: nothing to do)."""
        if self._fetch is None:
            return
        new = {r.strip() for r in rowguids if isinstance(r, str) and r.strip()} - self._asked
        if new:
            self._asked |= new
            self._add(*self._fetch(sorted(new)))

    def forget(self) -> None:
        """Let go of what was read (with `fetch`): called when a file or feed page is stored, or given up — the ledger
        holds what it settled, the next unit reads what it names afresh. So a run holds one unit's work orders, not all
        it read; and what a unit that failed to store took as final is not taken as final by the next."""
        if self._fetch is None:
            return
        for held in (self.delivered, self.latest, self.final, self.acknowledged, self.withdrawn, self._asked):
            held.clear()

    def _add(self, deliveries: pd.DataFrame, outcomes: pd.DataFrame) -> None:
        for d in deliveries.itertuples(index=False):
            key = (d.rowguid, d.utility, int(d.version))
            self.delivered[key] = d
            self.latest[key[:2]] = max(self.latest.get(key[:2], 0), key[2])
            if getattr(d, "order_status", None) in WITHDRAWN_STATUSES and pd.notna(d.order_version) and int(d.order_version) > key[2]:
                self.withdrawn[key] = d.order_status
        acknowledged = "acknowledged_at" in outcomes.columns
        for o in outcomes.itertuples(index=False):
            key = (o.rowguid, o.utility, int(o.version))
            if isinstance(o.result, str):
                self.final.setdefault(key, o.result)
            if acknowledged and pd.notna(o.acknowledged_at):
                self.acknowledged.add(key)


def check_results(rows: pd.DataFrame, *, source: str, as_of: datetime, known: KnownWorkOrders | None = None,
                  deliveries: pd.DataFrame | None = None, outcomes: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Which results count, and an exception for each that does not.

    `source`: `sftp:<drop>` or `feed:<receiver>` (`feed:grid`, `feed:county/<xzqh>`).
    `known` (or `deliveries` — delivered work-order versions: rowguid, utility, version,
    channel, destination, delivered_at in local time — and `outcomes` — rowguid, utility,
    version, result). Accepted rows: rowguid, utility, version, result, code, reason,
    handled_at, handler, row.
    """
    known = known or KnownWorkOrders(deliveries, outcomes)
    known.cover(_named_rowguids(rows))
    accepted, problems = [], []
    for r in rows.itertuples(index=False):
        row = r.row if isinstance(r.row, int) else (int(r.row) if isinstance(r.row, str) and r.row.isascii() and r.row.isdigit() else None)
        where = {"row": row, "value": r.GDBH or r.ROWGUID}
        key = _key(r.GDBH, r.ROWGUID, r.XBLX, known.latest)
        if key is None:
            problems.append(exception(source, "RESULT_BAD_KEY", rowguid=r.ROWGUID or None, **where))
            continue
        rowguid, utility, version = key
        ctx = where | {"rowguid": rowguid, "utility": utility}
        delivery = known.delivered.get(key)
        if delivery is None:
            problems.append(exception(source, "RESULT_UNKNOWN_WORK_ORDER", **ctx, detail=f"{rowguid}:{utility}:{version}"))
            continue
        if not _from_its_receiver(source, delivery):
            problems.append(exception(source, "RESULT_WRONG_SOURCE", **ctx, detail=f"投递给 {delivery.destination}"))
            continue
        if key in known.withdrawn:
            problems.append(exception(source, "RESULT_WITHDRAWN", **ctx,
                                      detail=f"工单 {rowguid}:{utility}:{version}，{WITHDRAWN_STATUSES[known.withdrawn[key]]}（规则 RESULT_WITHDRAWN）"))
            continue
        code = (r.JGDM or "").strip()
        if code not in RESULT_CODES:
            problems.append(exception(source, "RESULT_UNKNOWN_CODE", **ctx, detail=code or "（空）"))
            continue
        handled = parse_handled_at(r.BLSJ)
        if handled is None:
            problems.append(exception(source, "RESULT_BAD_DATE", **ctx, detail=r.BLSJ or "（空）"))
            continue
        if pd.notna(delivery.delivered_at) and handled < pd.Timestamp(delivery.delivered_at).to_pydatetime() - timedelta(minutes=5):
            problems.append(exception(source, "RESULT_BEFORE_DELIVERY", **ctx, detail=f"办理 {handled:%Y-%m-%d %H:%M}，投递 {pd.Timestamp(delivery.delivered_at):%Y-%m-%d %H:%M}"))
            continue
        if handled > as_of + timedelta(hours=1):
            problems.append(exception(source, "RESULT_FUTURE", **ctx, detail=f"{handled:%Y-%m-%d %H:%M}"))
            continue
        result = RESULT_CODES[code][0]
        if result == "received":
            if key in known.acknowledged:  # replayed or sent again: the first confirmation is the one kept
                problems.append(exception(source, "RESULT_DUPLICATE", **ctx, detail="已收到该工单的受理或办理结果"))
                continue
        else:
            earlier = known.final.get(key)
            if earlier is not None:
                problems.append(exception(source, "RESULT_DUPLICATE" if earlier == result else "RESULT_CONFLICT", **ctx, detail=f"已有结果：{earlier}"))
                continue
            known.final[key] = result
        known.acknowledged.add(key)
        accepted.append({"rowguid": rowguid, "utility": utility, "version": version, "result": result, "code": code,
                         "reason": r.JGSM or (RESULT_CODES[code][1] if result == "rejected" else None),
                         "handled_at": handled, "handler": r.BLR or None, "row": where["row"]})
    return pd.DataFrame(accepted, columns=list(ACCEPTED_COLUMNS), dtype=object), problems


def _named_rowguids(rows: pd.DataFrame) -> set[str]:
    """The ROWGUIDs results rows name: GDBH's (ROWGUID:utility:version) or, without one, ROWGUID's — as `_key` reads them."""
    named = set()
    for gdbh, rowguid in zip(rows["GDBH"], rows["ROWGUID"]):
        gdbh = gdbh.strip() if isinstance(gdbh, str) else ""
        named.add(gdbh.rsplit(":", 2)[0] if gdbh else rowguid.strip() if isinstance(rowguid, str) else "")
    named.discard("")
    return named


def _key(gdbh: str, rowguid: str, xblx: str, latest: dict) -> tuple[str, str, int] | None:
    gdbh = (gdbh or "").strip()
    if gdbh:
        parts = gdbh.rsplit(":", 2)
        if len(parts) != 3 or _small_int(parts[2]) is None or parts[1] not in UTILITY_WORDS.values():
            return None
        return parts[0], parts[1], _small_int(parts[2])
    utility = UTILITY_WORDS.get((xblx or "").strip().lower()) or UTILITY_WORDS.get((xblx or "").strip())
    if not rowguid or utility is None:
        return None
    version = latest.get((rowguid.strip(), utility))
    return (rowguid.strip(), utility, version) if version else (rowguid.strip(), utility, 0)


def _from_its_receiver(source: str, delivery) -> bool:
    kind, _, name = source.partition(":")
    if kind == "sftp":
        return delivery.channel == "account" and delivery.destination == name
    if name == "grid":
        return delivery.channel == "grid"
    return delivery.channel == "system" and delivery.destination == "county_system_" + name.removeprefix("county/")

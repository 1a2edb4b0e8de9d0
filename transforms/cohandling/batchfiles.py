"""Batch files for account-mode institutions (配置账号): the work orders of one institution,
one run, in the format it chose (XLSX for people, the default: transforms/cohandling/batch_xlsx.py;
CSV, JSON lines, Parquet for machines) — and the manifest that says what a batch holds. A batch is
named `XB<day>_<its number at the institution>` (`batch_name`), the number also in the manifest.

Columns: the gateway's work-order columns, then the 25 Annex 1 fields under their Annex 1
codes (labels in `COLUMN_LABELS`, documented in docs/protocol/sftp-drop.md). Rows are
sorted by (ROWGUID, utility) and nothing depends on the clock, so the same work orders
always give the same bytes: a re-run recognises a file it already published by its hash.
Pure: bytes out, no I/O.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from transforms.cohandling.annex1 import FIELD_CODES, LABELS
from transforms.common.text import KINDS as TEXT_KINDS
from transforms.common.text import safe_cell

SCHEMA_VERSION = "1"
WORK_ORDER_FIELDS = ("GDBH", "XBLX", "BBH", "SFGZ")  # 工单编号, 协办类型, 版本号, 是否更正
COLUMN_LABELS = {
    "GDBH": "工单编号（ROWGUID:类型:版本，幂等键，与HTTP接口相同）",
    "XBLX": "协办类型（water 水 / gas 气 / heat 热 / electricity 电）",
    "BBH": "工单版本号（更正后递增）",
    "SFGZ": "是否更正（1 是，0 否）",
    **{code: LABELS[code] for code in FIELD_CODES},
}
COLUMNS = (*WORK_ORDER_FIELDS, *FIELD_CODES)
EXTENSIONS = {"xlsx": "xlsx", "csv": "csv", "csv_gb18030": "csv", "jsonl": "jsonl", "parquet": "parquet"}
DEFAULT_FORMAT = "xlsx"  # for an institution whose Annex 2 form leaves 文件格式 empty (transforms/registry/institution_forms.py)
# The short Chinese header row of an XLSX batch (its codes are in the row beneath).
HEADER_LABELS = {"GDBH": "工单编号", "XBLX": "协办类型", "BBH": "版本号", "SFGZ": "是否更正", **{code: LABELS[code] for code in FIELD_CODES}}


@dataclass(frozen=True)
class BatchFile:
    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


def work_order_key(rowguid: str, utility: str, version: int) -> str:
    """The idempotency key of one work-order version (the same on every channel)."""
    return f"{rowguid}:{utility}:{version}"


def batch_name(day: datetime, seq: int, prefix: str = "XB") -> str:
    """An account-mode batch's name: `XB<day>_<its number at the institution, 6 digits>` (cancellations: `XBCX…`).

    Fixed when planned, so a retry publishes the same files. Batches planned before migration 0014 keep their
    names `XB<day>_<batch id, 8 digits>`: a 6-digit name never equals one of them.
    """
    return f"{prefix}{day:%Y%m%d}_{seq:06d}"


def batch_sequence(batch: dict) -> int | None:
    """The number a batch shows (name and manifest): None for one named before the numbering, whose manifest stays as fixed."""
    seq = batch.get("seq")
    return seq if seq is not None and batch["name"].rsplit("_", 1)[-1] == f"{seq:06d}" else None


def batch_table(orders: pa.Table) -> pa.Table:
    """The file's rows: `orders` has rowguid, utility, version, correction and the Annex 1 fields (upper-case codes)."""
    import pyarrow.compute as pc

    orders = orders.sort_by([("rowguid", "ascending"), ("utility", "ascending"), ("version", "ascending")])
    key = pc.binary_join_element_wise(orders["rowguid"].cast(pa.string()), orders["utility"].cast(pa.string()), orders["version"].cast(pa.string()), ":")
    columns = {
        "GDBH": key,
        "XBLX": orders["utility"].cast(pa.string()),
        "BBH": orders["version"].cast(pa.int64()),
        "SFGZ": pc.if_else(orders["correction"], 1, 0).cast(pa.int8()),
    }
    for code in FIELD_CODES:
        columns[code] = orders[code].cast(pa.string()) if code in orders.column_names else pa.nulls(orders.num_rows, pa.string())
    return pa.table(columns)


# A text cell Excel / WPS would take for a formula (= + - @, or a tab / CR before one) or that
# holds a character `clean_text` removes: the few that need `safe_cell`, found vectorised.
_UNSAFE_CELL = r"^[=+\-@\t\r]|[" + "".join(f"\\x{{{ord(c):04x}}}" for chars in TEXT_KINDS.values() for c in chars) + "]"


def spreadsheet_safe(table: pa.Table) -> pa.Table:
    """Every text cell through `transforms/text.safe_cell`: for the CSV formats people open in Excel.

    A value starting with = + - @ gets a leading apostrophe (docs/protocol/sftp-drop.md says why);
    control, bidi and zero-width characters are removed. Other cells are left byte for byte.
    """
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if not pa.types.is_string(column.type):
            columns.append(column)
            continue
        arr = column.combine_chunks()
        flagged = pc.fill_null(pc.match_substring_regex(arr, _UNSAFE_CELL), False)
        rows = pc.indices_nonzero(flagged).to_pylist()
        if rows:
            values = arr.to_pylist()
            for r in rows:
                values[r] = safe_cell(values[r])
            arr = pa.array(values, pa.string())
        columns.append(arr)
    return pa.table(columns, names=table.column_names)


def render(table: pa.Table, file_format: str, *, labels: dict[str, str] | None = None, sheet: str = "工单", title: str = "",
           created: datetime | None = None) -> bytes:
    """One batch file's bytes in `file_format` (xlsx, csv = UTF-8 with BOM, csv_gb18030, jsonl, parquet).

    XLSX and the CSV formats are opened by people in Excel / WPS: their cells are `spreadsheet_safe`
    (XLSX: transforms/cohandling/batch_xlsx.py — every cell text, `labels` the Chinese header row, `title`
    the page header, `created` the workbook's fixed time). JSON lines and Parquet are read by programs and
    keep every value exactly.
    """
    if file_format == "xlsx":
        from transforms.cohandling.batch_xlsx import render_xlsx

        return render_xlsx(spreadsheet_safe(table), labels=labels or HEADER_LABELS, sheet=sheet, title=title, created=created)
    if file_format in ("csv", "csv_gb18030"):
        import pyarrow.csv as pacsv

        table = spreadsheet_safe(table)
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
        text = buf.getvalue().decode("utf-8")
        return ("\ufeff" + text).encode("utf-8") if file_format == "csv" else text.encode("gb18030")
    if file_format == "jsonl":
        lines = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in table.to_pylist())
        return ("\n".join(lines) + ("\n" if table.num_rows else "")).encode("utf-8")
    if file_format == "parquet":
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        # No creation metadata that varies between runs: the same rows give the same bytes.
        pq.write_table(table, buf, compression="zstd", write_statistics=False, store_schema=True)
        return buf.getvalue()
    raise ValueError(f"unknown file format {file_format!r}")


def batch_files(orders: pa.Table, *, base_name: str, file_format: str, run_id: str, batch_id: int, institution: str,
                rows_per_file: int = 50_000, sequence: int | None = None, created: datetime | None = None) -> list[BatchFile]:
    """The data files of one batch, then `<base>.sha256` (for `sha256sum -c`), then `<base>.manifest.json` — publish in that order.

    `sequence` is the batch's number at its institution (1, 2, 3, … without gaps; in the manifest as `"sequence"`;
    None for batches planned before the numbering, whose manifest stays as it was fixed); `created` the batch's
    planned time (the XLSX workbook's fixed time, so a re-render gives the same bytes).
    """
    table = batch_table(orders)
    ext = EXTENSIONS[file_format]
    parts = [table.slice(i, rows_per_file) for i in range(0, max(table.num_rows, 1), rows_per_file)]

    def part_name(n: int) -> str:
        return f"{base_name}{'' if len(parts) == 1 else f'_p{n + 1:03d}'}"

    data = [BatchFile(f"{part_name(n)}.{ext}", render(part, file_format, title=f"{institution} 协办工单 {part_name(n)}", created=created))
            for n, part in enumerate(parts)]
    sums = BatchFile(f"{base_name}.sha256", "".join(f"{f.sha256}  {f.name}\n" for f in data).encode("ascii"))
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "batch_id": batch_id,
        "institution": institution,
        "format": file_format,
        "columns": list(COLUMNS),
        "records": table.num_rows,
        "files": [{"name": f.name, "records": p.num_rows, "size": f.size, "sha256": f.sha256} for f, p in zip(data, parts)],
        "checksums": {"name": sums.name, "sha256": sums.sha256},
    }
    if sequence is not None:
        manifest["sequence"] = sequence
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return [*data, sums, BatchFile(f"{base_name}.manifest.json", text.encode("utf-8"))]


# --- cancellation batches (撤销批次) -----------------------------------------------------------

CANCEL_COLUMNS = ("GDBH", "ROWGUID", "YCYWH", "XBLX", "BBH", "CXDM", "CXYY")
CANCEL_LABELS = {
    "GDBH": "被撤销的工单编号（您收到的 GDBH：ROWGUID:类型:版本）",
    "ROWGUID": "标识码",
    "YCYWH": "“一网通办”平台业务号",
    "XBLX": "协办类型（water 水 / gas 气 / heat 热）",
    "BBH": "被撤销的工单版本号（该版本及您持有的更早版本一并撤销）",
    "CXDM": "撤销原因代码（RECORD_WITHDRAWN / UTILITY_DROPPED / DESTINATION_CHANGED）",
    "CXYY": "撤销原因（中文）",
}
CANCEL_HEADER_LABELS = {"GDBH": "被撤销的工单编号", "ROWGUID": "标识码", "YCYWH": "“一网通办”平台业务号", "XBLX": "协办类型",
                        "BBH": "被撤销的版本号", "CXDM": "撤销原因代码", "CXYY": "撤销原因"}


def cancel_table(items: list[dict]) -> pa.Table:
    """The rows of a cancellation file: `items` have rowguid, utility, version, reason_code, reason, YCYWH.
    Sorted by (ROWGUID, utility, version); text cells made safe for spreadsheets (transforms.common.text.safe_cell)."""
    from transforms.common.text import safe_cell

    rows = sorted(items, key=lambda i: (i["rowguid"], i["utility"], int(i["version"])))

    def text(v):
        return None if v is None else safe_cell(str(v))

    return pa.table({
        "GDBH": pa.array([text(work_order_key(i["rowguid"], i["utility"], int(i["version"]))) for i in rows], pa.string()),
        "ROWGUID": pa.array([text(i["rowguid"]) for i in rows], pa.string()),
        "YCYWH": pa.array([text(i.get("YCYWH")) for i in rows], pa.string()),
        "XBLX": pa.array([i["utility"] for i in rows], pa.string()),
        "BBH": pa.array([int(i["version"]) for i in rows], pa.int64()),
        "CXDM": pa.array([i["reason_code"] for i in rows], pa.string()),
        "CXYY": pa.array([text(i["reason"]) for i in rows], pa.string()),
    })


def cancel_files(items: list[dict], *, base_name: str, file_format: str, run_id: str, batch_id: int, institution: str,
                 sequence: int | None = None, created: datetime | None = None) -> list[BatchFile]:
    """A cancellation batch: `<base>.<ext>` (the work orders withdrawn from the institution), `<base>.sha256`, then
    `<base>.manifest.json` (`"kind": "cancel"`) — the same publication discipline as a work-order batch, the same
    bytes for the same cancellations. `sequence`: its number among the institution's cancellation batches."""
    table = cancel_table(items)
    data = BatchFile(f"{base_name}.{EXTENSIONS[file_format]}", render(table, file_format, labels=CANCEL_HEADER_LABELS, sheet="撤销",
                                                                      title=f"{institution} 撤销批次 {base_name}", created=created))
    sums = BatchFile(f"{base_name}.sha256", f"{data.sha256}  {data.name}\n".encode("ascii"))
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "cancel",
        "run_id": run_id,
        "batch_id": batch_id,
        "institution": institution,
        "format": file_format,
        "columns": list(CANCEL_COLUMNS),
        "records": table.num_rows,
        "files": [{"name": data.name, "records": table.num_rows, "size": data.size, "sha256": data.sha256}],
        "checksums": {"name": sums.name, "sha256": sums.sha256},
    }
    if sequence is not None:
        manifest["sequence"] = sequence
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return [data, sums, BatchFile(f"{base_name}.manifest.json", text.encode("utf-8"))]

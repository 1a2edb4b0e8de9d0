"""What a report was computed from (pure): its as-of, when it was generated, the ledger, the newest
ledger change and handling result it saw, and a fingerprint of its content — shown in the page's
footer, a 说明 sheet of the workbook and report.json.

The fingerprint is SHA-256 over every table's canonical CSV (the table's name, then its CSV: UTF-8,
no index, `\\n` line ends), in the report's table order. Two reports with the same fingerprint hold
the same tables cell for cell; a report as of T written again later (after more results arrived)
has the same fingerprint as the first, since as-of T reads only what the ledger had recorded by T.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

import pandas as pd

from transforms.common.localtime import to_utc
from transforms.reporting.cells import local_naive_one
from transforms.reporting.html_page import escape

LABELS: dict[str, str] = {
    "as_of": "数据截至（北京时间）",
    "known_by_utc": "账本记录截至（UTC）",
    "generated_at": "生成时间（北京时间）",
    "ledger": "账本",
    "newest_change_seq": "已见最新平台变更序号",
    "newest_change_received_at": "该变更入账时间（UTC）",
    "newest_result_id": "已见最新办理结果序号",
    "newest_result_received_at": "该结果入账时间（UTC）",
    "newest_package_change_seq": "已见最新报文变更序号",
    "newest_package_received_at": "该报文入账时间（UTC）",
    "newest_event_id": "已见最新状态事件序号",
    "newest_event_received_at": "该事件入账时间（UTC）",
    "reads": "读取范围",
    "fingerprint": "内容指纹（SHA-256）",
}
READS_REMOTE = "投递与状态事件：截至数据截至时间已入账的；报文版本、校验结论与纸质移交：账本当前所有记录"


def known_by(as_of: datetime) -> datetime:
    """A report's as-of (local time, naive or aware) as the ledger recording time it reads up to (naive UTC)."""
    return to_utc(local_naive_one(as_of))


def fingerprint(tables: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 (hex) over the tables' canonical CSV, in order (module docstring)."""
    digest = hashlib.sha256()
    for name, table in tables.items():
        digest.update(f"## {name}\n".encode())
        digest.update(table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return digest.hexdigest()


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return value.isoformat(sep=" ") if hasattr(value, "isoformat") else str(value)


def provenance_table(provenance: Mapping[str, object]) -> pd.DataFrame:
    """The workbook's 说明 sheet: one row per item (项目, 代码, 值)."""
    return pd.DataFrame({
        "项目": [LABELS.get(k, k) for k in provenance],
        "代码": list(provenance),
        "值": [_text(v) for v in provenance.values()],
    })


def provenance_html(provenance: Mapping[str, object]) -> str:
    """The page footer's account of what the report was computed from."""
    items = "".join(f"<dt>{escape(LABELS.get(k, k))}</dt><dd><code>{escape(_text(v))}</code></dd>" for k, v in provenance.items())
    return f'<dl class="provenance">{items}</dl>'


def provenance_json(provenance: Mapping[str, object]) -> dict[str, object]:
    """JSON-ready: times as ISO text, numbers as numbers."""
    return {k: (v if v is None or isinstance(v, (int, float, str)) else _text(v)) for k, v in provenance.items()}

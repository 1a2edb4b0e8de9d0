"""The quarantine list the people who fix records at the platform work from (pure)."""

from __future__ import annotations

import pandas as pd

from transforms.cohandling.annex1 import LABELS, UTILITY_LABELS
from transforms.common.mask import mask_id, mask_phone
from transforms.common.text import safe_cell

STATUS_LABELS = {"quarantined": "整条隔离", "duplicate": "标识码重复（隔离）", "partial": "部分业务隔离"}
HEADINGS = {
    "change_seq": "变更序号",
    "rowguid": "标识码(ROWGUID)",
    "ycywh": "平台业务号(YCYWH)",
    "xzqh": "行政区划代码(XZQH)",
    "zrfxm": "买方姓名(ZRFXM)",
    "zrfzjhm": "买方证件号码(ZRFZJHM，已脱敏)",
    "zrflxdh": "买方联系电话(ZRFLXDH，已脱敏)",
    "status": "处理结果",
    "utility": "受影响业务",
    "rule_id": "规则编号",
    "field": "字段",
    "field_label": "信息项",
    "value": "原始值（已脱敏）",
    "message_zh": "问题说明",
    "message_en": "Problem (English)",
}
PII_FIELDS = {"ZRFZJHM", "ZCFZJHM"}
PHONE_FIELDS = {"ZRFLXDH", "ZCFLXDH"}


def quarantine_list(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per (record version, failed rule), Chinese headings, IDs and phones masked, cells `safe_cell`."""
    if rows.empty:
        return pd.DataFrame(columns=list(HEADINGS.values()))
    out = rows.copy()
    out["zrfzjhm"] = mask_id(out["zrfzjhm"])
    out["zrflxdh"] = mask_phone(out["zrflxdh"])
    value = out["value"].astype(object)
    ids = out["field"].isin(PII_FIELDS)
    phones = out["field"].isin(PHONE_FIELDS)
    value[ids] = mask_id(value[ids])
    value[phones] = mask_phone(value[phones])
    out["value"] = value
    out["status"] = out["status"].map(STATUS_LABELS).fillna(out["status"])
    out["utility"] = out["utility"].map(lambda u: f"{UTILITY_LABELS[u]}（{u}）" if isinstance(u, str) and u in UTILITY_LABELS else "全部")
    out["field_label"] = out["field"].map(LABELS)
    out = out[list(HEADINGS)].rename(columns=HEADINGS)
    # Every cell as a person's file needs it: controls out (they break XLSX), never a formula.
    return out.apply(lambda column: column.map(safe_cell))

"""The quarantine list the people who fix records at the platform work from (pure): one line per quarantined record
version and failed rule, the rule's id with its Chinese name (transforms/cohandling/rule_catalogue.py), buyers'
names, ID numbers and phones masked, and where the record stands since (当前状态): still quarantined, corrected and
passed in a later version (which, and when), or withdrawn — as the ledger knew it at the list's cutoff
(connectors.ledger `quarantine(known_by=…)` gives each record's newest version validated by then: latest_*)."""

from __future__ import annotations

import pandas as pd

from transforms.cohandling.annex1 import LABELS, UTILITY_LABELS
from transforms.cohandling.rule_catalogue import RULES
from transforms.common.localtime import to_local
from transforms.common.mask import mask_id, mask_names, mask_phone
from transforms.common.text import safe_cell

STATUS_LABELS = {"quarantined": "整条隔离", "duplicate": "标识码重复（隔离）", "partial": "部分业务隔离"}
HEADINGS = {
    "change_seq": "变更序号",
    "rowguid": "标识码(ROWGUID)",
    "ycywh": "平台业务号(YCYWH)",
    "xzqh": "行政区划代码(XZQH)",
    "zrfxm": "买方姓名(ZRFXM，已脱敏)",
    "zrfzjhm": "买方证件号码(ZRFZJHM，已脱敏)",
    "zrflxdh": "买方联系电话(ZRFLXDH，已脱敏)",
    "version": "记录版本",
    "status": "处理结果",
    "state": "当前状态",
    "utility": "受影响业务",
    "rule_id": "规则编号",
    "rule_name": "规则名称",
    "field": "字段",
    "field_label": "信息项",
    "value": "原始值（已脱敏）",
    "message_zh": "问题说明",
    "message_en": "Problem (English)",
}
PII_FIELDS = {"ZRFZJHM", "ZCFZJHM"}
PHONE_FIELDS = {"ZRFLXDH", "ZCFLXDH"}
NAME_FIELDS = {"ZRFXM", "ZCFXM"}
STILL = "仍在隔离"
LATEST = ("latest_seq", "latest_status", "latest_blocked", "latest_validated_at", "latest_version")


def quarantine_list(rows: pd.DataFrame) -> pd.DataFrame:
    """One line per (record version, failed rule), Chinese headings, names, IDs and phones masked, the rule's Chinese
    name and the record's current state (current_state), cells `safe_cell`."""
    if rows.empty:
        return pd.DataFrame(columns=list(HEADINGS.values()))
    out = rows.copy()
    out["zrfxm"] = mask_names(out["zrfxm"])
    out["zrfzjhm"] = mask_id(out["zrfzjhm"])
    out["zrflxdh"] = mask_phone(out["zrflxdh"])
    value = out["value"].astype(object)
    ids = out["field"].isin(PII_FIELDS)
    phones = out["field"].isin(PHONE_FIELDS)
    names = out["field"].isin(NAME_FIELDS)
    value[ids] = mask_id(value[ids])
    value[phones] = mask_phone(value[phones])
    value[names] = mask_names(value[names])
    out["value"] = value
    out["state"] = current_state(out)
    out["version"] = pd.to_numeric(out["version"], errors="coerce").astype("Int64") if "version" in out else pd.array([pd.NA] * len(out), dtype="Int64")
    out["status"] = out["status"].map(STATUS_LABELS).fillna(out["status"])
    out["utility"] = out["utility"].map(lambda u: f"{UTILITY_LABELS[u]}（{u}）" if isinstance(u, str) and u in UTILITY_LABELS else "全部")
    out["rule_name"] = out["rule_id"].map(lambda r: RULES[r].zh if r in RULES else "")
    out["field_label"] = out["field"].map(LABELS)
    out = out[list(HEADINGS)].rename(columns=HEADINGS)
    # Every cell as a person's file needs it: controls out (they break XLSX), never a formula.
    return out.apply(lambda column: column.map(safe_cell))


def current_state(rows: pd.DataFrame) -> pd.Series:
    """Where each quarantined line's record stands, from its newest version validated by the list's cutoff (latest_*):
    仍在隔离 (this version is the newest, or a later one fails too / still blocks this utility), 已更正通过（版本n，日期）
    (a later version passed, or no longer blocks this utility), 已更正，部分业务通过 (a record-level failure corrected, some
    utility still blocked), 已撤回（版本n，日期） (the platform withdrew the record). A duplicate ROWGUID stays quarantined:
    a later version of that ROWGUID belongs to the record that held it first. Empty when the rows carry no latest_* (a
    list made without them)."""
    if not set(LATEST) <= set(rows.columns):
        return pd.Series([""] * len(rows), index=rows.index, dtype=object)
    out = []
    for seq, status, utility, latest_seq, latest, blocked, at, version in zip(
        rows["change_seq"], rows["status"], rows["utility"], rows["latest_seq"], rows["latest_status"], rows["latest_blocked"],
        rows["latest_validated_at"], rows["latest_version"],
    ):
        when = f"版本{int(version)}，{to_local(pd.Timestamp(at)).date().isoformat()}" if not pd.isna(version) and not pd.isna(at) else ""
        if status == "duplicate":
            out.append(f"{STILL}（标识码重复）")
        elif pd.isna(latest_seq) or int(latest_seq) <= int(seq):
            out.append(STILL)
        elif latest == "withdrawn":
            out.append(f"已撤回（{when}）")
        elif latest == "passed":
            out.append(f"已更正通过（{when}）")
        elif latest == "partial":
            still_blocked = isinstance(utility, str) and utility != "" and utility in str(blocked or "").split(",")
            if still_blocked:
                out.append(f"{STILL}（{when}仍未通过）")
            elif isinstance(utility, str) and utility != "":
                out.append(f"已更正通过（{when}）")
            else:
                out.append(f"已更正，部分业务通过（{when}）")
        else:
            out.append(f"{STILL}（{when}仍未通过）")
    return pd.Series(out, index=rows.index, dtype=object)

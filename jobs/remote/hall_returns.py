"""Remote collection (异地代收): what goes back to the collecting halls.

`write_hall_returns`: per collecting hall, what came back in a run — the gateway's validation
returns with every reason, the authorities' 补正 / 不予受理 with what is missing, and the
deliveries refused or not sent — one workbook per hall, ID numbers and phones masked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from connectors.ledger import Ledger

RETURN_HEADINGS = {
    "bwid": "报文编号 BWID", "change_seq": "版本号 CHANGE_SEQ", "collected": "收件时间 SJSJ", "xzqh": "不动产所在县 XZQH", "business_type": "业务类型 YWLX",
    "who": "退回方", "rule": "规则/状态", "item": "涉及对象", "value": "报送值（已脱敏）", "message": "原因（请据此补正）",
}


def hall_returns(ledger: Ledger, run_id: str):
    """What goes back to the collecting halls for a run (pandas): validation failures of returned
    versions, the authorities' 补正 / 不予受理 received in the run, and deliveries the receiver refused
    or the gateway could not send (a file changed). ID numbers and phones masked in every text."""
    import pandas as pd

    from transforms.common.mask import mask_in_text
    from transforms.remote.package_rules import BUSINESS_TYPES
    from transforms.remote.package_tracking import EVENT_STATUSES, missing_text

    returns = ledger.remote.remote_returns(run_id)
    frames = []
    if len(returns):
        errors = returns[returns["severity"] == "error"]
        frames.append(pd.DataFrame({
            "hall": errors["hall"], "hall_name": errors["hall_name"], "bwid": errors["bwid"], "change_seq": errors["change_seq"],
            "collected": errors["collected"], "xzqh": errors["xzqh"], "business_type": errors["business_type"], "who": "网关校验",
            "rule": errors["rule_id"], "item": (errors["field"].fillna("") + " " + errors["item"].fillna("")).str.strip(),
            "value": errors["value"].where(errors["value"] != "nan"), "message": errors["message_zh"],
        }))
    notices = ledger.remote.remote_hall_notices(run_id)
    if len(notices):
        events = notices["kind"] == "event"
        missing = [missing_text(d) for d in notices["detail"]]
        labels = {"rejected": "属地系统拒收", "failed": "未推送（文件问题）", "withdrawal_refused": "撤回未成功"}
        frames.append(pd.DataFrame({
            "hall": notices["hall"], "hall_name": notices["hall_name"], "bwid": notices["bwid"], "change_seq": notices["change_seq"],
            "collected": notices["collected"], "xzqh": notices["xzqh"], "business_type": notices["business_type"],
            "who": np.where(events, "属地登记机构 " + notices["xzqh"].fillna(""), "网关推送"),
            "rule": [f"{EVENT_STATUSES[s]} {s}" if e else f"{labels[s]} {s}" + (f" {c}" if isinstance(c, str) else "")
                     for s, e, c in zip(notices["status"], events, notices["code"])],
            "item": [m or "" for m in missing], "value": None,
            "message": [r if isinstance(r, str) and r else ("请补充：" + m if m else "") for r, m in zip(notices["reason"], missing)],
        }))
    if not frames:
        return pd.DataFrame(columns=["hall", "hall_name", *RETURN_HEADINGS])
    out = pd.concat(frames, ignore_index=True)
    for column in ("value", "message", "item"):
        out[column] = mask_in_text(out[column].astype(object))
    out["business_type"] = out["business_type"].map(lambda t: f"{BUSINESS_TYPES.get(t, '')} {t}".strip() if isinstance(t, str) else t)
    return out.sort_values(["hall", "change_seq", "who", "rule"]).reset_index(drop=True)


def write_hall_returns(ledger: Ledger, *, run_id: str, out_dir: Path) -> dict[str, str]:
    """One workbook per collecting hall with something coming back in this run: {hall: path}."""
    from jobs.cohandling.publish_report import _replacing, write_workbook
    from jobs.common.settings import safe_name
    from transforms.common.mask import neutralise_formula

    returns = hall_returns(ledger, run_id)
    paths = {}
    out_dir = Path(out_dir)
    for hall, group in returns.groupby("hall", sort=True):
        table = group.loc[:, list(RETURN_HEADINGS)].rename(columns=RETURN_HEADINGS)
        for column in table.columns:
            if table[column].dtype == object:
                text = table[column].map(lambda v: isinstance(v, str) and v != "").astype(bool)
                table.loc[text, column] = neutralise_formula(table.loc[text, column])
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"退回清单_{safe_name(hall)}_{safe_name(run_id)}.xlsx"
        with _replacing(path) as tmp:
            write_workbook({"退回清单": table}, tmp)
        paths[hall] = str(path)
    if paths:
        ledger.audit(run_id=run_id, actor="remote", action="hall_returns_written", object_type="remote_verdict", object_id=None,
                     detail={"halls": len(paths), "rows": len(returns)})
    return paths

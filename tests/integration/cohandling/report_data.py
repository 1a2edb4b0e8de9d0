"""A realistic reconciliation report's inputs, big enough to print (tests of the page in Chromium and the workbook in
LibreOffice): work orders across several cities and every county of them, each county with its water, gas and heat
companies (long official names) and the grid; OVERDUE overdue orders among others of every final and open status,
ROWGUIDs as 32 hex digits, 18-digit platform numbers, addresses as the platform writes them; exceptions and a
quarantine list with long raw values."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from jobs.common import reference
from simulators.synthetic_values import COMMUNITIES, ROADS
from transforms.cohandling.reconcile import daily_counts

PERIOD = (date(2026, 11, 1), date(2026, 11, 30))
AS_OF = datetime(2026, 12, 1, 8, 0)
CITIES = ("370100", "370200", "370300", "370600", "370700", "371300")  # 济南 青岛 淄博 烟台 潍坊 临沂
OVERDUE = 1327
OTHERS = {"done": 900, "done_late": 120, "rejected": 60, "acknowledged": 150, "delivered": 90, "pending": 40, "quarantined": 20}
COMPANIES = {"water": "{place}自来水有限责任公司", "gas": "{place}港华燃气有限公司", "heat": "{place}热力集团有限责任公司供热分公司"}


def statuses(seed: int = 17) -> pd.DataFrame:
    """reconcile()'s output shape (transforms/cohandling/reconcile.py) for OVERDUE overdue orders and OTHERS."""
    rng = np.random.default_rng(seed)
    divisions = reference.divisions()
    counties = [(code, d.name, d.parent_code) for code, d in divisions.items() if d.level == "county" and d.parent_code in CITIES]
    plan = ["overdue"] * OVERDUE + [s for s, n in OTHERS.items() for _ in range(n)]
    rows = []
    for i, status in enumerate(plan):
        xzqh, county, city_code = counties[int(rng.integers(len(counties)))]
        city = divisions[city_code].name
        utility = str(rng.choice(["electricity", "water", "gas", "heat"], p=[0.35, 0.35, 0.2, 0.1]))
        place = f"{city}{county}"
        institution_code = "" if utility == "electricity" else f"91{xzqh}MA3{utility[0].upper()}0001X{utility[1].upper()}"
        institution_name = "国网山东省电力公司" if utility == "electricity" else COMPANIES[utility].format(place=place)
        delivered = status not in ("pending", "quarantined")
        delivered_at = datetime(2026, 11, 1 + int(rng.integers(0, 25)), 9 + int(rng.integers(0, 8)), int(rng.integers(0, 60))) if delivered else None
        if status == "overdue":  # some were sent before the period and are still open
            delivered_at = delivered_at - timedelta(days=int(rng.integers(0, 40)))
        final = status in ("done", "done_late", "rejected")
        handle = float(rng.integers(1, 5) if status != "done_late" else rng.integers(6, 15)) if final else np.nan
        overdue_days = float(rng.integers(1, 40)) if status == "overdue" else np.nan
        community = str(rng.choice(COMMUNITIES))
        rows.append({
            "rowguid": f"{rng.integers(0, 2**63):016x}{rng.integers(0, 2**63):016x}", "utility": utility, "version": 1, "correction": bool(i % 23 == 0),
            "channel": "grid" if utility == "electricity" else str(rng.choice(["account", "system"])), "destination": "grid",
            "institution_code": institution_code, "institution_name": institution_name, "xzqh": xzqh, "county_name": county,
            "city_code": city_code, "city_name": city, "status": status, "delivered_at": delivered_at,
            "due_date": (delivered_at + timedelta(days=7)).date() if delivered else None,
            "handled_at": delivered_at + timedelta(days=handle * 1.4) if final else None,
            "result_code": "0000" if status in ("done", "done_late") else None, "result_reason": None,
            "handle_working_days": handle, "overdue_working_days": overdue_days, "due_provisional": False,
            "buyer_name": "欧阳娜娜、李四" if i % 11 == 0 else "张三", "buyer_phone": f"138{i:08d}", "buyer_id": f"37010219900101{i % 1000:03d}7",
            "address": f"山东省{place}{ROADS[i % len(ROADS)]}{int(rng.integers(1, 400))}号{community}{int(rng.integers(1, 40))}号楼"
                       f"{int(rng.integers(1, 6))}单元{int(rng.integers(1, 33))}{int(rng.integers(1, 5)):02d}室",
            "certificate": f"鲁(2026){city}不动产权第{i:07d}号", "platform_no": f"20261101{i + 1:010d}",
        })
    frame = pd.DataFrame(rows)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"])
    frame["handled_at"] = pd.to_datetime(frame["handled_at"])
    return frame


def exceptions(n: int = 60) -> pd.DataFrame:
    return pd.DataFrame([{
        "source": f"sftp:xb91370102ma3w{i:04d}xa:/inbox/result_20261122_{i:03d}.csv", "row": i + 2,
        "rowguid": f"{i:032x}", "utility": "water", "reason_code": "RESULT_UNKNOWN_CODE",
        "reason": "结果代码无法识别：" + "代码不在协议规定的取值范围内，" * 3,
        "value": f"{i:032x},water,7777,37010219900101004X,13812345678," + "x" * 80, "received_at": datetime(2026, 11, 22, 10, 0),
    } for i in range(n)])


def quarantine(n: int = 120) -> pd.DataFrame:
    """The quarantine list (transforms/cohandling/quarantine.py) of n failures: some records since corrected and passed,
    one withdrawn, the rest still quarantined; long ROWGUIDs and messages."""
    from transforms.cohandling.quarantine import quarantine_list

    rules = [("ID_CHECKSUM", "ZRFZJHM", "370102199003071235"), ("PHONE", "ZRFLXDH", "1381234567"), ("REQUIRED", "FWZL", ""),
             ("INSTITUTION_UNKNOWN", "SJGBM", "91370102MA3W9999XZ")]
    rows = []
    for i in range(n):
        rule, field, value = rules[i % len(rules)]
        later = {0: (10_000 + i, "passed", 2), 1: (10_000 + i, "withdrawn", 2)}.get(i % 5, (i + 1, "quarantined", 1))
        rows.append({
            "change_seq": i + 1, "rowguid": f"{i:032x}", "ycywh": f"20261101{i + 5000:010d}", "xzqh": "370102", "zrfxm": "欧阳娜娜",
            "zrfzjhm": "370102199003071234", "zrflxdh": "13812345678", "status": "quarantined", "utility": "", "rule_id": rule, "field": field,
            "value": value, "message_zh": f"{field}：校验未通过，请平台核实后更正重报" * 2, "message_en": "check failed", "version": 1,
            "latest_seq": later[0], "latest_status": later[1], "latest_blocked": "", "latest_validated_at": datetime(2026, 11, 25, 2, 0),
            "latest_version": later[2],
        })
    return quarantine_list(pd.DataFrame(rows))


def daily(frame: pd.DataFrame) -> pd.DataFrame:
    return daily_counts(frame, first=PERIOD[0], last=PERIOD[1])

"""The quarantine list's current state (当前状态), rule names and masking, from rows as connectors.ledger's
`quarantine(known_by=…)` gives them (the quarantined version, and its record's newest version validated by then)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from transforms.cohandling.quarantine import HEADINGS, current_state, quarantine_list

DAY = datetime(2026, 11, 20, 17, 30)  # UTC: 21 November in Beijing


def _row(seq, status, utility, latest_seq, latest_status, latest_blocked="", version=1, latest_version=None, **more) -> dict:
    return {
        "change_seq": seq, "rowguid": f"G{seq}", "ycywh": "202611010000000001", "xzqh": "370102", "zrfxm": "欧阳娜娜、李四",
        "zrfzjhm": "370102199003071234", "zrflxdh": "13812345678", "status": status, "utility": utility, "rule_id": "ID_CHECKSUM",
        "field": "ZRFZJHM", "value": "370102199003071234", "message_zh": "证件号码校验位错误", "message_en": "check digit",
        "version": version, "latest_seq": latest_seq, "latest_status": latest_status, "latest_blocked": latest_blocked,
        "latest_validated_at": DAY if latest_seq is not None else None, "latest_version": latest_version, **more,
    }


def test_each_record_reads_where_it_stands():
    rows = pd.DataFrame([
        _row(10, "quarantined", "", 10, "quarantined", latest_version=1),  # the newest version: still in quarantine
        _row(11, "quarantined", "", 30, "passed", latest_version=2),  # corrected, passed
        _row(12, "quarantined", "", 31, "quarantined", latest_version=3),  # corrected twice, still failing
        _row(13, "quarantined", "", 32, "withdrawn", latest_version=2),  # the platform withdrew it
        _row(14, "partial", "gas", 33, "partial", "gas", latest_version=2),  # gas still blocked in the correction
        _row(15, "partial", "gas", 34, "partial", "water", latest_version=2),  # gas fixed; water blocked now
        _row(16, "quarantined", "", 35, "partial", "heat", latest_version=2),  # the record fixed, one utility blocked
        _row(17, "duplicate", "", 3, "passed", latest_version=1),  # a second "new" record with a used ROWGUID
        _row(18, "quarantined", "", None, None),  # no ROWGUID: no later version can be known
    ])
    assert current_state(rows).tolist() == [
        "仍在隔离",
        "已更正通过（版本2，2026-11-21）",
        "仍在隔离（版本3，2026-11-21仍未通过）",
        "已撤回（版本2，2026-11-21）",
        "仍在隔离（版本2，2026-11-21仍未通过）",
        "已更正通过（版本2，2026-11-21）",
        "已更正，部分业务通过（版本2，2026-11-21）",
        "仍在隔离（标识码重复）",
        "仍在隔离",
    ]


def test_rows_without_the_newest_version_have_no_state_to_show():
    rows = pd.DataFrame([_row(10, "quarantined", "", 10, "quarantined")]).drop(columns=["latest_seq", "latest_status"])
    assert current_state(rows).tolist() == [""]


def test_the_list_names_the_rule_and_masks_the_buyer():
    table = quarantine_list(pd.DataFrame([_row(11, "quarantined", "", 30, "passed", latest_version=2),
                                          _row(12, "partial", "gas", 12, "partial", "gas", rule_id="INSTITUTION_UNKNOWN", field="ZRFXM",
                                               value="欧阳娜娜")]))
    assert list(table.columns) == list(HEADINGS.values())
    assert table[HEADINGS["rule_name"]].tolist() == ["证件号码校验位错误（身份证 GB 11643 MOD 11-2；香港、台湾身份证按其校验规则）", "机构编码不在该业务类型的机构名录中"]
    assert table[HEADINGS["state"]].tolist() == ["已更正通过（版本2，2026-11-21）", "仍在隔离"]
    assert table[HEADINGS["zrfxm"]].tolist() == ["欧***、李*"] * 2
    assert table[HEADINGS["zrfzjhm"]].tolist() == ["370102********1234"] * 2
    assert table[HEADINGS["zrflxdh"]].tolist() == ["138****5678"] * 2
    assert table[HEADINGS["value"]].tolist() == ["370102********1234", "欧***"]  # an ID and a name in the raw value masked too
    assert table[HEADINGS["utility"]].tolist() == ["全部", "气（gas）"]

"""The validate task's log shows the first quarantine lines, every personal value masked."""

from __future__ import annotations

import logging

import pandas as pd

from jobs.cohandling.validate_records import LOG_SAMPLE, _log_sample
from transforms.cohandling.quarantine import quarantine_list

ID = "370102199003071234"
PHONE = "13812345678"


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "change_seq": range(1, n + 1), "rowguid": [f"G{i:031d}" for i in range(n)], "ycywh": "Y1", "xzqh": "370102",
        "zrfxm": "欧阳娜娜", "zrfzjhm": ID, "zrflxdh": PHONE, "status": "quarantined", "utility": None,
        "rule_id": "ZRFZJHM_CHECK", "field": "ZRFZJHM", "value": ID,
        "message_zh": f"证件号码 {ID} 校验位不符", "message_en": "check digit",
    })


def test_the_first_lines_are_logged_masked(caplog):
    caplog.set_level(logging.INFO, logger="jobs.cohandling.validate_records")
    _log_sample(quarantine_list(_rows(LOG_SAMPLE + 3)))
    text = caplog.text
    assert f"{LOG_SAMPLE + 3} lines; the first {LOG_SAMPLE}" in text
    assert text.count("ZRFZJHM_CHECK") == LOG_SAMPLE
    assert ID not in text and PHONE not in text and "欧阳娜娜" not in text and "娜娜" not in text
    assert "370102********1234" in text and "138****5678" in text and "欧***" in text


def test_an_empty_list_logs_nothing(caplog):
    caplog.set_level(logging.INFO, logger="jobs.cohandling.validate_records")
    _log_sample(quarantine_list(_rows(0)))
    assert caplog.text == ""

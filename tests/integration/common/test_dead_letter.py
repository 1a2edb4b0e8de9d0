"""The dead-letter store on SQLite and PostgreSQL: a bad unit kept once, as received."""

from __future__ import annotations

import pytest

from connectors.ledger import Ledger
from connectors.ledger.deadletter_store import DEAD_LETTER_PAYLOAD_MAX


@pytest.fixture
def ledger(db_urls):
    ledger = Ledger(db_urls[1])
    ledger.migrate()
    yield ledger
    ledger.dispose()


def test_a_bad_unit_is_kept_once_with_its_bytes_and_resolved_by_its_correction(ledger):
    raw = b"\xff\xfe" + b"\x00" * 10
    kwargs = dict(surface="result_file", unit_key="sftp:xb0001:bad.csv:abc", origin="xb0001/inbox/bad.csv", location="第 3 行 / 列 结果", rule_id="FILE_ENCODING", reason="文件不是 UTF-8 或 GB18030 编码")
    assert ledger.dead_letter(**kwargs, payload=raw, owner="institution:0001") is True
    assert ledger.dead_letter(**kwargs, payload=raw) is False  # seen again: the same row
    held = ledger.dead_letters("result_file")
    assert len(held) == 1 and held.loc[0, "seen_count"] == 2 and held.loc[0, "payload_size"] == len(raw)
    assert ledger.dead_letter_payload(int(held.loc[0, "dl_id"])) == raw
    assert ledger.is_dead_lettered("result_file", "sftp:xb0001:bad.csv:abc")
    assert ledger.resolve_dead_letters("result_file", ["sftp:xb0001:bad.csv:abc"], resolution="corrected file received") == 1
    assert ledger.dead_letters("result_file").empty
    assert ledger.dead_letter_counts() == {"result_file": {"open": 0, "resolved": 1}}


def test_a_huge_unit_keeps_its_first_mebibyte_its_size_and_hash(ledger):
    raw = b"x" * (DEAD_LETTER_PAYLOAD_MAX + 10)
    ledger.dead_letter(surface="registry_form", unit_key="k" * 600, origin="inbox/big.xlsx", rule_id="FILE_TOO_LARGE", reason="too large", payload=raw)
    held = ledger.dead_letters("registry_form")
    assert held.loc[0, "payload_size"] == len(raw) and len(held.loc[0, "unit_key"]) <= 250
    assert len(ledger.dead_letter_payload(int(held.loc[0, "dl_id"]))) == DEAD_LETTER_PAYLOAD_MAX

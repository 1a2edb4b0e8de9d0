"""文件格式 left empty on an Annex 2 form: a new institution gets XLSX, one already registered keeps its format."""

from __future__ import annotations

import csv
from datetime import datetime

from connectors.ledger import Ledger
from jobs.registry.form_intake import load_form
from tests.unit.jobs.test_hostile_forms import ANNEX2_HEAD, GOOD


def _form(path, formats: dict[str, str]):
    rows = [["水气热机构信息摸底表"], ["城市：济南市", "", "填表部门：住建局"], ANNEX2_HEAD]
    rows += [["历下区", "水", f"历下供水公司{n}", code, "是", "0531-86001234", "王伟 13812345678", "配置账号", formats[code]]
             for n, code in enumerate(GOOD) if code in formats]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_an_empty_format_cell_gives_a_new_institution_xlsx_and_leaves_an_existing_one_as_it_was(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    first = load_form(ledger, _form(tmp_path / "附件2_济南市_1.csv", {GOOD[0]: "CSV", GOOD[1]: ""}), now=datetime(2026, 1, 1))
    assert first.errors == 0
    second = load_form(ledger, _form(tmp_path / "附件2_济南市_2.csv", {GOOD[0]: "", GOOD[1]: "", GOOD[2]: "", GOOD[3]: "JSONL"}),
                       now=datetime(2026, 2, 1))
    assert second.errors == 0
    formats = dict(ledger.registry.registry_at(datetime(2026, 3, 1))[["code", "file_format"]].itertuples(index=False))
    assert formats == {GOOD[0]: "csv", GOOD[1]: "xlsx", GOOD[2]: "xlsx", GOOD[3]: "jsonl"}
    ledger.dispose()

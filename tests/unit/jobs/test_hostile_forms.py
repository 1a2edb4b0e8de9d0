"""Hostile registry forms (Annex 2) and remote checklists, as .csv and .xlsx, through the inbox.

Each hostile kind of tests/hostile.KINDS goes into a cell of one row among good rows; each
hostile *file* (zip bomb, oversized, truncated, binary garbage, too many rows) goes into the
inbox before a good form. For each: the inbox loop completes; the hostile row gets at most
one error (rule + row + column) and the good rows load exactly as without it; a file that
cannot be read is dead-lettered once (by SHA-256, with its bytes), filed in `rejected/` with
the reason, and recognised when sent again; the issues list the county receives has no
formula-like or control-character cell.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from connectors.form_inbox import MAX_CELL_CHARS, MAX_FORM_BYTES, MAX_SHEET_ROWS
from connectors.ledger import Ledger
from jobs.common.inbox import load_inbox
from jobs.registry.form_intake import load_form
from jobs.remote.package_intake import load_checklist_form
from tests.hostile import DEPTH, KINDS, covers
from transforms.common.checkdigits import USCC_CHARSET, uscc_check_chars
from transforms.common.text import needs_cleaning

NOW = datetime(2021, 6, 1, 9, 0)
ANNEX2_HEAD = ["县（市、区）", "业务类型", "机构名称", "机构编码", "是否知晓", "过户业务服务电话", "联系人及电话", "协办方式", "文件格式"]
CHECK_HEAD = ["县（市、区）", "业务类型", "材料编码", "材料名称", "是否必须", "是否需要纸质原件", "备注"]


def _uscc(body: str) -> str:
    return body + uscc_check_chars(np.array([[USCC_CHARSET.index(c) for c in body]]))[0]


GOOD = [_uscc(f"91370102MA3C5LX{n:02d}") for n in range(4)]


def annex2_grid(bad_cell: tuple[int, object] | None = None) -> list[list]:
    """An Annex 2 form of 济南市 with four good rows; `bad_cell` = (column index, value) puts a hostile row third."""
    rows = [["水气热机构信息摸底表"], ["城市：济南市", "", "填表部门：住建局"], ANNEX2_HEAD]
    good = [["历下区", "水", f"历下供水公司{n}", code, "是", "0531-86001234", "王伟 13812345678", "配置账号", ""] for n, code in enumerate(GOOD)]
    rows += good[:2]
    if bad_cell is not None:
        col, value = bad_cell
        row = ["历下区", "气", "历下燃气公司", _uscc("91370102MA3C5LX99"), "是", "0531-86001234", "李娜 13912345678", "配置账号", ""]
        row[col] = value
        rows.append(row)
    return rows + good[2:]


def checklist_grid(bad_cell: tuple[int, object] | None = None) -> list[list]:
    """A checklist form: 历下区 抵押登记 (two rows, then the hostile row) and 市中区 抵押登记 (two rows)."""
    rows = [["异地代收服务材料清单"], ["城市：济南市", "", "生效日期：2024-07-01"], CHECK_HEAD,
            ["历下区", "抵押登记", "SQS", "不动产登记申请书", "是", "否", ""], ["历下区", "抵押登记", "SFZM", "申请人身份证明", "是", "否", ""]]
    if bad_cell is not None:
        col, value = bad_cell
        row = ["历下区", "抵押登记", "DYHT", "抵押合同", "是", "否", ""]
        row[col] = value
        rows.append(row)
    return rows + [["市中区", "抵押登记", "SQS", "不动产登记申请书", "是", "否", ""], ["市中区", "抵押登记", "SFZM", "申请人身份证明", "是", "否", ""]]


def write_csv(path: Path, grid: list[list], encoding: str = "utf-8-sig") -> Path:
    """A CSV as Excel saves it; a bytes cell goes in as those bytes (invalid UTF-8 stays invalid)."""
    out = bytearray("\ufeff".encode() if encoding == "utf-8-sig" else b"")
    for row in grid:
        buf = io.StringIO()
        marks = {}
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, bytes):
                marks[f"\ue000{i}\ue000"] = cell
                cells.append(f"\ue000{i}\ue000")
            else:
                cells.append("" if cell is None else cell if isinstance(cell, str) else str(cell))
        csv.writer(buf).writerow(cells)
        line = buf.getvalue().encode("utf-8")
        for mark, raw in marks.items():
            line = line.replace(mark.encode(), raw)
        out += line
    path.write_bytes(bytes(out))
    return path


def write_xlsx(path: Path, grid: list[list]) -> Path:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    ws = book.active
    ws.title = "摸底表"
    for row in grid:
        # openpyxl refuses control characters in a cell; Excel / WPS files carry them as _x0000_ escapes: write those
        ws.append([ILLEGAL_CHARACTERS_RE.sub(lambda m: f"_x{ord(m[0]):04X}_", c) if isinstance(c, str) else
                   c.decode("utf-8", errors="replace") if isinstance(c, bytes) else c if isinstance(c, int | float | type(None)) else str(c)
                   for c in row])
    book.save(path)
    return path


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    yield ledger
    ledger.dispose()


def _load(ledger, inbox: Path, checklist: bool):
    return load_inbox(ledger, inbox, now=NOW, load=load_checklist_form if checklist else load_form)


def _issues_csv_is_safe(inbox: Path) -> None:
    for path in inbox.rglob("*.issues.csv"):
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (path.name, cell)
                assert not needs_cleaning(cell.replace(" ", "")), (path.name, cell)


def _outcome(ledger, checklist: bool) -> set:
    if checklist:
        lists = ledger.remote.checklists()
        return {(r.xzqh, r.business_type, r.material_code) for r in lists.itertuples()} if len(lists) else set()
    return {(i["code"], i["name"]) for i in ledger.registry.registry_at(datetime(2030, 1, 1)).to_dict("records")}


# hostile value -> the columns it goes in: the name (free text) and the code (checked)
ANNEX2_COLS = {"name": 2, "code": 3}
CHECK_COLS = {"name": 3, "code": 2}
CASES = [(kind, i) for kind, values in KINDS.items() if kind != "wrong_json_type" for i in range(min(len(values), DEPTH))]


@pytest.mark.parametrize("checklist", [False, True], ids=["annex2", "checklist"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_hostile_cell_costs_its_row_at_most_and_the_good_rows_load(tmp_path, checklist, fmt):
    surface = "remote_checklist" if checklist else "registry_form"
    grid_of = checklist_grid if checklist else annex2_grid
    write = write_csv if fmt == "csv" else write_xlsx
    baseline = Ledger(f"sqlite:///{tmp_path / 'base.db'}")
    baseline.migrate()
    inbox = tmp_path / "base"
    inbox.mkdir()
    write(inbox / f"form.{fmt}", grid_of())
    _load(baseline, inbox, checklist)
    want = _outcome(baseline, checklist)
    assert len(want) == 4
    baseline.dispose()
    empty = tmp_path / "empty.db"
    template = Ledger(f"sqlite:///{empty}")
    template.migrate()
    template.dispose()
    n = 0
    for kind, i in CASES:
        if kind == "invalid_utf8" and fmt == "xlsx":
            continue  # an .xlsx holds text, never bytes: invalid UTF-8 can only come in a CSV
        value = KINDS[kind][i]
        for column, col in (CHECK_COLS if checklist else ANNEX2_COLS).items():
            n += 1
            shutil.copy(empty, tmp_path / f"l{n}.db")  # a migrated ledger of its own, without migrating each time
            ledger = Ledger(f"sqlite:///{tmp_path / f'l{n}.db'}")
            box = tmp_path / f"in{n}"
            box.mkdir()
            write(box / f"form.{fmt}", grid_of((col, value)))
            summaries = _load(ledger, box, checklist)  # completes: no exception for any value
            assert len(summaries) == 1, (kind, value, column)
            hostile_row = 6
            errors = [x for x in summaries[0].issues if x.severity == "error" and x.row == hostile_row]
            assert len(errors) <= 1, (kind, column, [str(e) for e in errors])
            assert all(e.rule and (e.column or e.rule == "FORM_ENCODING") for e in errors), [str(e) for e in errors]
            got = _outcome(ledger, checklist)
            if checklist:
                if errors:  # a list is never loaded without one of its rows: 历下区's list waits, 市中区's loads
                    assert got == {g for g in want if g[0] == "370103"}, (kind, column)
                    assert any(x.rule == "CHECKLIST_INCOMPLETE" for x in summaries[0].issues)
                else:
                    assert want <= got, (kind, column)
            else:
                assert want <= got, (kind, column)  # every good row loaded, whatever the hostile row holds
                assert len(got) == len(want) + (0 if errors else 1)
            for stored in got:
                assert not any(needs_cleaning(str(v).replace(" ", "")) for v in stored), stored  # nothing invisible stored
            if kind == "huge_cell":
                assert [e.rule for e in errors] == ["FORM_CELL_TOO_LONG"]
            if kind == "invalid_utf8":
                assert [e.rule for e in errors] == ["FORM_ENCODING"]
            if kind in ("nul", "c0_c1_control", "bidi", "zero_width") and not errors:
                assert any(x.rule == "FORM_TEXT_CLEANED" and x.row == hostile_row for x in summaries[0].issues), (kind, value)
            _issues_csv_is_safe(box)
            assert ledger.dead_letters(surface).empty  # a bad cell is the row's issue, not a dead form
            ledger.dispose()
            covers(surface, kind)
    assert n


def _xlsx_bytes(grid) -> bytes:
    buf = io.BytesIO()
    book = Workbook()
    for row in grid:
        book.active.append(row)
    book.save(buf)
    return buf.getvalue()


def _zip_bomb(path: Path) -> Path:
    """A small .xlsx whose worksheet unpacks to 40 MB of XML (a few dozen kB packed)."""
    with zipfile.ZipFile(io.BytesIO(_xlsx_bytes(annex2_grid()))) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (40 << 20), 1)
            dst.writestr(item.filename, data)
    return path


def _sparse_rows(path: Path) -> Path:
    """A small .xlsx with one cell a hundred thousand rows down."""
    book = Workbook()
    ws = book.active
    for row in annex2_grid():
        ws.append(row)
    ws.cell(row=100_000, column=1, value="x")
    book.save(path)
    return path


HOSTILE_FILES = {
    "zip_bomb.xlsx": ("FORM_XLSX_TOO_BIG", _zip_bomb),
    "truncated.xlsx": ("FORM_XLSX_BROKEN", lambda p: p.write_bytes(_xlsx_bytes(annex2_grid())[:900]) and p),
    "garbage.xlsx": ("FORM_XLSX_BROKEN", lambda p: p.write_bytes(os.urandom(5000)) and p),
    "garbage.csv": ("FORM_ENCODING", lambda p: p.write_bytes(bytes(range(128, 256)) * 40 + b"\n" + os.urandom(4000).replace(b"\n", b"")) and p),
    "oversized.csv": ("FORM_TOO_LARGE", lambda p: p.write_bytes(b"a," * (MAX_FORM_BYTES // 2 + 10)) and p),
    "many_rows.csv": ("FORM_TOO_MANY_ROWS", lambda p: p.write_bytes(b"x\n" * (MAX_SHEET_ROWS + 5)) and p),
    "sparse_rows.xlsx": ("FORM_TOO_MANY_ROWS", _sparse_rows),
    "notes.txt": ("FORM_FILE_TYPE", lambda p: p.write_text("说明") and p),
}


@pytest.mark.parametrize("checklist", [False, True], ids=["annex2", "checklist"])
def test_a_form_that_cannot_be_read_is_dead_lettered_once_and_the_forms_behind_it_load(tmp_path, ledger, checklist):
    surface = "remote_checklist" if checklist else "registry_form"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, (_, make) in HOSTILE_FILES.items():
        make(inbox / f"a_{name}")
    bad_name = os.fsencode(str(inbox)) + b"/a_\xff\xfe_bad.csv"
    with open(bad_name, "wb") as fh:
        fh.write(b"x")
    (write_csv if checklist else write_xlsx)(inbox / ("z_good.csv" if checklist else "z_good.xlsx"), (checklist_grid if checklist else annex2_grid)())

    summaries = _load(ledger, inbox, checklist)
    assert [s.file_name for s in summaries] == ["z_good.csv" if checklist else "z_good.xlsx"]  # the good form behind them loaded
    assert len(_outcome(ledger, checklist)) == 4
    held = ledger.dead_letters(surface)
    by_rule = sorted(held["rule_id"])
    assert by_rule == sorted([rule for rule, _ in HOSTILE_FILES.values()] + ["FORM_FILE_NAME"])
    assert held["reason"].map(bool).all() and held["payload_size"].notna().all()
    assert "\\xff\\xfe" in held[held["rule_id"] == "FORM_FILE_NAME"]["reason"].iloc[0]  # the raw name, escaped
    for name in HOSTILE_FILES:
        assert (inbox / "rejected" / f"a_{name}.why.txt").read_text(encoding="utf-8").strip()
    assert [p for p in inbox.iterdir() if p.is_file()] == []  # and no lock file: the inbox lock is in the ledger

    # the same files sent again are recognised by their SHA-256: not parsed, the same dead letter seen twice
    for name in HOSTILE_FILES:
        shutil.copy(inbox / "rejected" / f"a_{name}", inbox / f"a_{name}")
    again = _load(ledger, inbox, checklist)
    assert again == []
    held = ledger.dead_letters(surface)
    assert len(held) == len(HOSTILE_FILES) + 1  # nothing stored twice
    assert sorted(held["seen_count"]) == [1] + [2] * len(HOSTILE_FILES)
    for kind in ("huge_cell", "invalid_utf8"):
        covers(surface, kind)


def test_an_oversized_cell_in_the_heading_lines_keeps_the_whole_form_out(tmp_path, ledger):
    grid = annex2_grid()
    grid[1] = ["城市：济南市", "x" * (MAX_CELL_CHARS + 1)]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_csv(inbox / "form.csv", grid)
    [summary] = _load(ledger, inbox, False)
    assert [(i.row, i.rule) for i in summary.issues if i.severity == "error"] == [(2, "FORM_CELL_TOO_LONG")]
    assert summary.rows_loaded == 0

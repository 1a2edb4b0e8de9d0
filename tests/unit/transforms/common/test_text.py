from __future__ import annotations

import pytest

from connectors.ledger.deadletter_store import unit_key
from transforms.common.text import clean_text, safe_cell, shown


@pytest.mark.parametrize(
    ("raw", "clean", "changes"),
    [
        ("济南市历下区", "济南市历下区", ()),
        ("济南市\n历下区", "济南市 历下区", ("line_break",)),
        ("a\r\n\tb", "a b", ("line_break",)),
        ("abc\x00def", "abcdef", ("control",)),
        ("x\x85y", "x y", ("line_break",)),
        ("x\x9by", "xy", ("control",)),
        ("\u202eabc\u202c", "abc", ("bidi",)),
        ("370102199001011234\u200b", "370102199001011234", ("zero_width",)),
        ("\ufeffabc", "abc", ("zero_width",)),
        ("张\u00a0三\u3000", "张 三 ", ("odd_space",)),
        (None, None, ()),
        (b"ab\xffc", "ab\ufffdc", ()),
    ],
)
def test_clean_text_removes_invisible_and_controls(raw, clean, changes):
    out = clean_text(raw)
    assert out.value == clean
    assert out.changes == changes


def test_safe_cell_neutralises_formulas_even_behind_invisible_characters():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\u200b=1+1") == "'=1+1"
    assert safe_cell("\t=cmd") == "' =cmd"
    assert safe_cell("-3") == "'-3"
    assert safe_cell("张三") == "张三"
    assert safe_cell(12) == 12
    assert safe_cell(None) is None


def test_shown_escapes_and_cuts():
    assert shown("a\x00b\u200b") == "a\\x00b\\u200b"
    assert shown(b"\xff") == "\\xff"
    assert shown("房" * 100, limit=5) == "房房房房房…（共 100 字符）"
    assert shown(None) == "NULL"


def test_unit_key_is_bounded_and_stable():
    long = unit_key("sftp", "x" * 1000)
    assert len(long) <= 250 and long == unit_key("sftp", "x" * 1000) and long != unit_key("sftp", "x" * 999)

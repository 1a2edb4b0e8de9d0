from __future__ import annotations

import pytest

from connectors import sqlfiles

SQL_FILES = sorted(sqlfiles.SQL_DIR.rglob("*.sql"))


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(sqlfiles.SQL_DIR)))
def test_every_statement_file_states_its_purpose(path):
    assert path.read_text(encoding="utf-8").startswith("-- purpose: ")


def test_load_drops_comments_and_picks_the_dialect_file():
    text = sqlfiles.load("source/select_clock", "postgresql")
    assert "--" not in text and "clock_timestamp" in text
    assert "strftime" in sqlfiles.load("source/select_clock", "sqlite")


def test_pyformat_converts_named_placeholders_only():
    assert sqlfiles.pyformat("a > :after_seq AND b::text = '%'") == "a > %(after_seq)s AND b::text = '%%'"

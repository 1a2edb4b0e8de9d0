"""The retention purge's statements cover every personal column (connectors/ledger/personal.py): a column added to
PERSONAL without its purge would keep its clear value or token for ever."""

from __future__ import annotations

import re

from connectors import sqlfiles
from connectors.ledger.personal import PERSONAL, PERSONAL_BYTES
from connectors.ledger.retention_store import RetentionStore
from connectors.ledger.statements import path_of


def test_every_personal_column_is_read_and_written_back_by_the_purge():
    import inspect

    source = inspect.getsource(RetentionStore)
    for table, columns in (PERSONAL | PERSONAL_BYTES).items():
        update = sqlfiles.load(path_of(f"update_purged_{table}"), None)
        assert f'"{table}"' in source, f"{table}: no unit of the purge reaches it"
        for column in columns:
            assert re.search(rf"\b{column} = :v_{column}\b", update), f"{table}.{column}: not written back by update_purged_{table}.sql"
        reads = re.findall(rf"\"{table}\",\s*\"(select_purge_\w+)\"", source)
        assert reads, table
        for read in reads:
            text = sqlfiles.load(path_of(read), None)
            assert all(re.search(rf"\b{column}\b", text) for column in columns), f"{read}.sql does not read every personal column of {table}"

"""SQL statements kept as files under `sql/`, loaded by name; values are always bound."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@cache
def load(name: str, dialect: str | None = None) -> str:
    """The statement in `sql/<name>.sql`, or `sql/<name>.<dialect>.sql` where one exists.

    Comment lines (`-- ...`) are kept out so that drivers see only the statement.
    """
    path = SQL_DIR / f"{name}.{dialect}.sql" if dialect else None
    if path is None or not path.exists():
        path = SQL_DIR / f"{name}.sql"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";")


def statements(name: str, dialect: str | None = None) -> list[str]:
    """A script file split into its statements (for DDL files with several)."""
    return [s.strip() for s in load(name, dialect).split(";") if s.strip()]


def pyformat(statement: str) -> str:
    """`:name` placeholders to psycopg's `%(name)s` (for COPY, which psycopg binds client-side)."""
    return _NAMED.sub(r"%(\1)s", statement.replace("%", "%%"))

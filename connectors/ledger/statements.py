"""The ledger's statements, each a file under `sql/ledger/<line>/` (common, cohandling, registry, remote).

`statement("name")` finds `sql/ledger/*/name.sql` (a statement name is unique over the lines; a
`name.<dialect>.sql` beside it wins on that dialect) and returns it as a SQLAlchemy text clause
whose values are bound, never formatted in. Text clauses know nothing of column types, so
the types that need processing on the way in and out — timestamps, dates, booleans — are set
by name: a bound parameter or a result column named like a DateTime / Date / Boolean column of
the ledger's tables (or one of `_EXTRA_TYPES`) gets that type. SQLite then stores and compares
timestamps exactly as SQLAlchemy Core did (`YYYY-MM-DD HH:MM:SS.ffffff`) and returns datetimes
and booleans, not text and integers. A statement whose names need other types says so (`types`).
"""

from __future__ import annotations

import re
from functools import cache

import sqlalchemy as sa

from connectors import sqlfiles
from connectors.ledger.schema import metadata

LINES: tuple[str, ...] = ("common", "cohandling", "registry", "remote")
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# Bound values that are not named after a column.
_EXTRA_TYPES: dict[str, type[sa.types.TypeEngine]] = {
    "now": sa.DateTime, "before": sa.DateTime, "stale_before": sa.DateTime, "at": sa.DateTime, "since": sa.DateTime,
    "oldest": sa.DateTime, "known_by": sa.DateTime,
}
_TYPED = (sa.DateTime, sa.Date, sa.Boolean)


@cache
def _column_types() -> dict[str, type[sa.types.TypeEngine]]:
    """Column name -> DateTime / Date / Boolean, for names that have one such type in every table that has them."""
    seen: dict[str, set[type]] = {}
    for table in metadata.tables.values():
        for column in table.c:
            seen.setdefault(column.name, set()).add(type(column.type))
    out: dict[str, type[sa.types.TypeEngine]] = {}
    for name, kinds in seen.items():
        if len(kinds) == 1 and issubclass(next(iter(kinds)), _TYPED):
            out[name] = next(iter(kinds))
    return out | _EXTRA_TYPES


@cache
def path_of(name: str) -> str:
    """`ledger/<line>/<name>`: the one line that has the statement."""
    found = [line for line in LINES if any((sqlfiles.SQL_DIR / "ledger" / line).glob(f"{name}.*sql"))]
    if len(found) != 1:
        raise LookupError(f"statement {name!r}: {'in several lines ' + str(found) if found else 'no file'} under sql/ledger/")
    return f"ledger/{found[0]}/{name}"


def _typed(text: str, expanding: tuple[str, ...], types: tuple[tuple[str, type], ...]) -> sa.TextClause:
    known = _column_types() | dict(types)
    clause = sa.text(text)
    params = list(dict.fromkeys(_PARAM.findall(text)))
    if missing := set(expanding) - set(params):
        raise ValueError(f"{sorted(missing)} are not parameters of the statement")
    binds = [sa.bindparam(p, type_=known.get(p), expanding=p in expanding) for p in params]
    if binds:
        clause = clause.bindparams(*binds)
    # Every typed name, not only those in the text: `SELECT *` names its columns nowhere.
    return clause.columns(**known)


@cache
def statement(name: str, dialect: str | None = None, *, expanding: tuple[str, ...] = (), types: tuple[tuple[str, type], ...] = ()) -> sa.TextClause:
    """The statement `name` as a text clause, typed (module docstring); `expanding`: parameters bound to a list (`IN :keys`)."""
    return _typed(sqlfiles.load(path_of(name), dialect), expanding, types)


def script(name: str, dialect: str | None = None) -> list[str]:
    """A DDL file's statements (staging tables), each run as it is: they take no values."""
    return sqlfiles.statements(path_of(name), dialect)


@cache
def nested(outer: str, inner: str, *, expanding: tuple[str, ...] = ()) -> sa.TextClause:
    """Statement `outer` over statement `inner` as its derived table `(/*inner*/)` — two files, no value in either
    (the lifetime balance counts each surface's units with one outer statement; routing reads the records due and
    those waiting with one, and delivery the orders of a batch and the pending HTTP items with one)."""
    text = sqlfiles.load(path_of(outer))
    if "(/*inner*/)" not in text:
        raise ValueError(f"statement {outer!r} has no (/*inner*/) slot")
    return _typed(text.replace("(/*inner*/)", f"({sqlfiles.load(path_of(inner))})"), expanding, ())

"""Database URLs and engines, from a SQLAlchemy URL or an Airflow Connection id.

Secrets live only in Connections (`AIRFLOW_CONN_<ID>` in development and tests); this
module turns one into an engine and never hands the raw connection out.
"""

from __future__ import annotations

import sqlalchemy as sa


def normalise(url: str | sa.URL) -> sa.URL:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    url = sa.make_url(url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def engine_for(url: str | sa.URL) -> sa.Engine:
    url = normalise(url)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_conn.cursor()
            # WAL lets the demo's readers (summary, Airflow UI) read while a load commits.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def url_from_conn_id(conn_id: str) -> sa.URL:
    """The SQLAlchemy URL of an Airflow Connection (types `sqlite` and `postgres`)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type == "sqlite":
        return sa.URL.create("sqlite", database=conn.host or conn.schema)
    if conn.conn_type in ("postgres", "postgresql"):
        return sa.URL.create(
            "postgresql+psycopg", username=conn.login, password=conn.password, host=conn.host,
            port=conn.port, database=conn.schema,
        )
    raise ValueError(f"connection {conn_id!r}: type {conn.conn_type!r} is not a database this gateway speaks (sqlite, postgres)")

"""The platform side of the exchange database (sql/source/): `PlatformDB` creates the exchange table,
writes batches the way the platform does (COPY on PostgreSQL), and keeps the generator's labels in
the side table `SYN_TRUTH` so tests know the truth.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from transforms.cohandling.annex1 import FIELD_CODES

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "source"
EXCHANGE_TABLE = "BDC_SDQR_XBXX"


class PlatformDB:
    """The platform side of the exchange database: creates the table and writes batches."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name

    def create(self) -> None:
        ddl = (SQL_DIR / f"create_exchange_table.{self.dialect}.sql").read_text(encoding="utf-8")
        with self.engine.begin() as conn:
            for statement in _statements(ddl):
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS SYN_TRUTH (ROWGUID VARCHAR(64), YCYWH VARCHAR(64), OP CHAR(1), "
                "DEFECT VARCHAR(64), DEFECT_FIELD VARCHAR(32), ODDITY VARCHAR(64))"
            )

    def drop(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {EXCHANGE_TABLE}")
            conn.exec_driver_sql("DROP TABLE IF EXISTS SYN_TRUTH")

    def write(self, frame: pd.DataFrame) -> int:
        """Write a generated batch as the platform does (one transaction); returns the row count."""
        columns = ["OP", *FIELD_CODES]
        truth = frame[["ROWGUID", "YCYWH", "OP", "defect", "defect_field", "oddity"]]
        put = _copy_frame if self.dialect == "postgresql" else _insert_frame
        with self.engine.begin() as conn:
            put(conn, EXCHANGE_TABLE, columns, frame[columns])
            put(conn, "SYN_TRUTH", ["ROWGUID", "YCYWH", "OP", "DEFECT", "DEFECT_FIELD", "ODDITY"], truth)
        return len(frame)

    def write_rows(self, rows: list[dict]) -> int:
        """Write rows exactly as given, one by one in order, in one transaction (hostile tests).

        Values are bound as they are: on SQLite bytes go in as TEXT whatever they hold (invalid
        UTF-8 included: the platform's SQLite file does not check), text with NUL as is; on
        PostgreSQL the database refuses what a text column cannot hold, as it would the platform.
        """
        columns = ["OP", *FIELD_CODES]
        if self.dialect == "sqlite":
            marks = ", ".join("CAST(? AS TEXT)" for _ in columns)
        else:
            marks = ", ".join("%s" for _ in columns)
        statement = f"INSERT INTO {EXCHANGE_TABLE} ({', '.join(columns)}) VALUES ({marks})"
        with self.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            for row in rows:
                cursor.execute(statement, [row.get(c, "I" if c == "OP" else None) for c in columns])
        return len(rows)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {EXCHANGE_TABLE}").scalar_one())

    def truth(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT ROWGUID, YCYWH, OP, DEFECT, DEFECT_FIELD, ODDITY FROM SYN_TRUTH").fetchall()
        return pd.DataFrame(rows, columns=["ROWGUID", "YCYWH", "OP", "defect", "defect_field", "oddity"])

    def dispose(self) -> None:
        self.engine.dispose()


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _insert_frame(conn: sa.Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    data = pa.Table.from_pandas(frame, preserve_index=False)
    rows = list(zip(*(col.to_pylist() for col in data.columns)))
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", rows)


def _copy_frame(conn: sa.Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    """COPY a text frame into PostgreSQL: Arrow writes the CSV in C++, psycopg streams it."""
    data = pa.Table.from_pandas(frame, preserve_index=False)
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(buf.getbuffer())

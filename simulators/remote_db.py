"""The remote-collection module's side of the exchange database: `RemoteDB` creates the tables
(sql/source/create_remote_collection.*) and writes batches the way the module does, one
transaction per batch, children carrying their package row's CHANGE_SEQ; labels go to a side
table `SYN_YDDS_TRUTH` that never reaches the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "source"
PACKAGE_TABLE, APPLICANT_TABLE, MATERIAL_TABLE, FILE_TABLE, TRUTH_TABLE = "BDC_YDDS_BWXX", "BDC_YDDS_SQR", "BDC_YDDS_CL", "BDC_YDDS_WJ", "SYN_YDDS_TRUTH"
PACKAGE_FIELDS = ("BWID", "SQBH", "SJDWDM", "SJDWMC", "SJXZQH", "SJSJ", "SJRY", "YWLX", "BDCDYH", "BDCQZH", "ZL", "XZQH")
APPLICANT_FIELDS = ("BWID", "SQRXM", "ZJZL", "ZJHM", "SQRLB", "HYDDM", "HYXZQH", "SFZDQ", "HTJC", "ZWCJ", "DZQM", "WXJLBH", "HYSJ")
MATERIAL_FIELDS = ("BWID", "CLBM", "CLMC", "YS", "WJDZ", "WJHX", "SFZZYJ")
LABEL_COLUMNS = ("defect", "defect_rule", "defect_field", "defect_item", "oddity")


@dataclass
class RemoteBatch:
    """One batch as the module writes it. CHANGE_SEQ here is provisional (1.. in batch order)
    and links children to their package; `RemoteDB.write` maps it to the database's."""

    packages: pd.DataFrame
    applicants: pd.DataFrame
    materials: pd.DataFrame
    files: pd.DataFrame  # WJDZ, WJNR (bytes), WJDX

    def __len__(self) -> int:
        return len(self.packages)


class RemoteDB:
    """The module's side of the exchange database: creates the tables and writes batches."""

    def __init__(self, url: str) -> None:
        from connectors.dburl import engine_for

        self.engine = engine_for(url)
        self.dialect = self.engine.dialect.name

    def create(self) -> None:
        from connectors import sqlfiles

        with self.engine.begin() as conn:
            for statement in sqlfiles.statements("source/create_remote_collection", self.dialect):
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {TRUTH_TABLE} (CHANGE_SEQ BIGINT, BWID VARCHAR(64), OP CHAR(1), DEFECT VARCHAR(64), "
                "DEFECT_RULE VARCHAR(40), DEFECT_FIELD VARCHAR(16), DEFECT_ITEM VARCHAR(40), ODDITY VARCHAR(64))"
            )

    def drop(self) -> None:
        with self.engine.begin() as conn:
            for table in (PACKAGE_TABLE, APPLICANT_TABLE, MATERIAL_TABLE, FILE_TABLE, TRUTH_TABLE):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")

    def write(self, batch: RemoteBatch) -> int:
        """Write a batch as the module does: one transaction; children get their package row's CHANGE_SEQ."""
        with self.engine.begin() as conn:
            before = int(conn.exec_driver_sql(f"SELECT coalesce(max(CHANGE_SEQ), 0) FROM {PACKAGE_TABLE}").scalar_one())
            self._insert(conn, PACKAGE_TABLE, ["OP", *PACKAGE_FIELDS], batch.packages)
            # The module is the only writer and the rows go in in batch order, so the new
            # sequence numbers, ascending, belong to the batch's packages in order.
            assigned = list(conn.execute(sa.text(f"SELECT CHANGE_SEQ FROM {PACKAGE_TABLE} WHERE CHANGE_SEQ > :before ORDER BY CHANGE_SEQ"), {"before": before}).scalars())
            if len(assigned) != len(batch.packages):
                raise RuntimeError(f"{len(assigned)} sequence numbers for {len(batch.packages)} packages: another writer?")
            seq = dict(zip(batch.packages["CHANGE_SEQ"], assigned))
            for table, fields, frame in ((APPLICANT_TABLE, APPLICANT_FIELDS, batch.applicants), (MATERIAL_TABLE, MATERIAL_FIELDS, batch.materials)):
                frame = frame.assign(CHANGE_SEQ=frame["CHANGE_SEQ"].map(seq))
                self._insert(conn, table, ["CHANGE_SEQ", "XH", *fields], frame)
            if len(batch.files):
                marks = "?, ?, ?" if self.dialect == "sqlite" else "%s, %s, %s"
                conn.exec_driver_sql(f"INSERT INTO {FILE_TABLE} (WJDZ, WJNR, WJDX) VALUES ({marks})",
                                     [(r, bytes(b), int(s)) for r, b, s in zip(batch.files["WJDZ"], batch.files["WJNR"], batch.files["WJDX"])])
            truth = batch.packages.assign(CHANGE_SEQ=batch.packages["CHANGE_SEQ"].map(seq))
            self._insert(conn, TRUTH_TABLE, ["CHANGE_SEQ", "BWID", "OP", "DEFECT", "DEFECT_RULE", "DEFECT_FIELD", "DEFECT_ITEM", "ODDITY"],
                         truth.rename(columns={c: c.upper() for c in LABEL_COLUMNS}))
        return len(batch.packages)

    def _insert(self, conn: sa.Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        values = frame[columns].astype(object).where(frame[columns].notna(), None)
        rows = [tuple(None if v is None else (int(v) if isinstance(v, (np.integer,)) else v) for v in row) for row in values.itertuples(index=False)]
        if self.dialect == "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})", rows)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {PACKAGE_TABLE}").scalar_one())

    def truth(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            result = conn.exec_driver_sql(f"SELECT CHANGE_SEQ, BWID, OP, DEFECT, DEFECT_RULE, DEFECT_FIELD, DEFECT_ITEM, ODDITY FROM {TRUTH_TABLE} ORDER BY CHANGE_SEQ")
            rows = result.fetchall()
        return pd.DataFrame(rows, columns=["CHANGE_SEQ", "BWID", "OP", *LABEL_COLUMNS])

    def dispose(self) -> None:
        self.engine.dispose()

"""Counts over the ledger for the run summary and the records' balance (part of `Ledger`):
read-only, each one statement under sql/ledger/."""

from __future__ import annotations

import sqlalchemy as sa

from connectors.ledger.statements import statement


class SummaryStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine

    def record_state_counts(self) -> dict[str, int]:
        """Records by the state of their version in force."""
        with self.engine.connect() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(statement("select_record_state_counts"))}

    def records_with_work_orders(self) -> int:
        """Records (ROWGUIDs) with a work order in force."""
        with self.engine.connect() as conn:
            return int(conn.execute(statement("count_records_with_work_orders")).scalar_one())

    def registry_forms(self) -> list[dict]:
        """Every registry form loaded, in loading order."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_registry_forms")).mappings()]

    def registry_counts(self) -> dict[str, int]:
        """institutions (in force), account, system (by channel), open_counties (account-mode openings in force)."""
        with self.engine.connect() as conn:
            return {k: int(v) for k, v in conn.execute(statement("select_registry_counts")).mappings().one().items()}

    def audit_entries(self, action: str) -> list[dict]:
        """The audit log's entries of one action, oldest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_audit_action"), {"action": action}).mappings()]

    def extract_batches(self, status: str = "success") -> list[dict]:
        """Extraction batches of one status, oldest first."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_extract_batches"), {"status": status}).mappings()]

    def validation_runs(self) -> dict[str, dict]:
        """run_id -> that run's validation counts."""
        with self.engine.connect() as conn:
            return {r["run_id"]: dict(r) for r in conn.execute(statement("select_validation_runs")).mappings()}

    def result_file_counts(self) -> dict[str, int]:
        """Result files read, by status."""
        with self.engine.connect() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(statement("select_result_file_counts"))}

"""Validation of a run's records: normalise, every Annex 1 rule, verdicts into the ledger,
the Great Expectations suite with its Data Docs, and the quarantine list for the platform.

What an error stops (transforms/rules.py): a record-level error quarantines the whole
record; an error local to one utility (account without institution, unknown institution
code, name not matching the code) blocks only that utility's work order, and the record's
other utilities go on (status `partial`). A second new record under a ROWGUID already in
use is quarantined as `duplicate`; the first one stays in force. A later version of a
quarantined record (same ROWGUID, a correction) replaces it and flows on.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from connectors.ledger import Ledger
from gateway import reference

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationResult:
    run_id: str
    records_in: int
    passed: int
    partial: int
    quarantined: int
    withdrawn: int
    warnings: int
    quarantine_csv: str | None
    quarantine_xlsx: str | None
    docs_path: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def validate_run(
    ledger: Ledger,
    *,
    run_id: str,
    as_of: datetime,
    registry: pd.DataFrame,
    out_dir: Path,
    source: str = "platform",
    data_docs: bool = True,
) -> ValidationResult:
    """Validate every change run `run_id` received; write verdicts, quarantine list and Data Docs."""
    from transforms.normalize import normalize_records
    from transforms.rules import ROWGUID_MAX, build_context, evaluate, message

    table = ledger.run_changes_table(run_id, source)
    prior = ledger.prior_states(run_id, source)
    known = frozenset(prior)
    ctx = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=registry, as_of=as_of, known_rowguids=known)
    records = normalize_records(table)
    withdrawn = (records["OP"] == "D").to_numpy()
    failures, outcome = evaluate(records, ctx)
    failures, outcome = _with_cleaned_warnings(ledger, source, records, failures, outcome)
    status = outcome["status"].to_numpy(dtype=object)
    duplicate_rows = failures.loc[failures["rule_id"] == "ROWGUID_DUPLICATE", "row"].to_numpy()
    status[duplicate_rows] = "duplicate"
    status[withdrawn] = "withdrawn"
    failures = failures[~withdrawn[failures["row"].to_numpy()]] if len(failures) else failures

    seqs = records["change_seq"].to_numpy()
    verdicts = pa.table({
        "change_seq": pa.array(seqs, pa.int64()),
        # A missing ROWGUID (empty, NULL, blanks: REQUIRED) or one longer than the column
        # (ROWGUID_LENGTH) is quarantined with its rule; its verdict carries no ROWGUID.
        "rowguid": pa.array([g if isinstance(g, str) and len(g) <= ROWGUID_MAX else None for g in records["ROWGUID"].to_numpy(dtype=object)], pa.string()),
        "status": pa.array(status, pa.string()),
        "requested": pa.array(outcome["requested"].to_numpy(dtype=object), pa.string(), from_pandas=True),
        "blocked": pa.array(outcome["blocked"].to_numpy(dtype=object), pa.string(), from_pandas=True),
    })
    texts = [message(r, f) for r, f in zip(failures["rule_id"], failures["field"])]
    failure_table = pa.table({
        "change_seq": pa.array(seqs[failures["row"].to_numpy(dtype=int)] if len(failures) else [], pa.int64()),
        "rule_id": pa.array(failures["rule_id"].to_numpy(dtype=object), pa.string()),
        "field": pa.array(failures["field"].to_numpy(dtype=object), pa.string()),
        "utility": pa.array(failures["utility"].to_numpy(dtype=object), pa.string()),
        "severity": pa.array(failures["severity"].to_numpy(dtype=object), pa.string()),
        "value": pa.array([None if v is None or v != v else str(v) for v in failures["value"]], pa.string()),
        "message_zh": pa.array([t[0] for t in texts], pa.string()),
        "message_en": pa.array([t[1] for t in texts], pa.string()),
    })
    counts = pd.Series(status).value_counts()
    warned = failures.loc[failures["severity"] == "warning", "row"].nunique() if len(failures) else 0
    summary = {
        "as_of": as_of,
        "records_in": len(records),
        "passed": int(counts.get("passed", 0)),
        "partial": int(counts.get("partial", 0)),
        "quarantined": int(counts.get("quarantined", 0) + counts.get("duplicate", 0)),
        "warnings": int(warned),
    }
    withdrawn_n = int(counts.get("withdrawn", 0))
    # Nothing lost: every record that came in leaves with exactly one verdict.
    assert summary["passed"] + summary["partial"] + summary["quarantined"] + withdrawn_n == summary["records_in"]

    out_dir.mkdir(parents=True, exist_ok=True)
    docs = None
    if data_docs and len(records):
        from expectations.cohandling import run_suite

        docs = run_suite(records, registry=registry, ctx=ctx, docs_dir=out_dir / "data_docs", run_name=run_id)["docs"]
    summary["docs_path"] = docs
    ledger.save_validation(run_id=run_id, source=source, verdicts=verdicts, failures=failure_table, summary=summary)
    csv_path, xlsx_path = write_quarantine_list(ledger, run_id=run_id, out_dir=out_dir)
    log.info("validate %s: %s", run_id, summary)
    return ValidationResult(run_id, summary["records_in"], summary["passed"], summary["partial"], summary["quarantined"], withdrawn_n, summary["warnings"], csv_path, xlsx_path, docs)


def _with_cleaned_warnings(ledger: Ledger, source: str, records: pd.DataFrame, failures: pd.DataFrame, outcome: pd.DataFrame):
    """Add a TEXT_CLEANED warning per value the ingest sanitiser changed (original as received shown)."""
    from transforms.text import shown

    seqs = records["change_seq"].to_numpy()
    held = ledger.originals(source, seqs.tolist()) if len(seqs) else []
    held = [h for h in held if h[1] == ""]
    if not held:
        return failures, outcome
    row_of = {int(s): i for i, s in enumerate(seqs)}
    extra = pd.DataFrame({
        "row": np.array([row_of[h[0]] for h in held], dtype=np.int64),
        "rule_id": "TEXT_CLEANED",
        "field": [h[2] for h in held],
        "utility": "",
        "value": [shown(bytes(h[3]).decode("utf-8", errors="replace"), 200) for h in held],
        "severity": "warning",
        "scope": "record",
    })
    return pd.concat([failures, extra], ignore_index=True), outcome


def write_quarantine_list(ledger: Ledger, *, run_id: str, out_dir: Path) -> tuple[str, str]:
    """The run's quarantine list as CSV (UTF-8 with BOM, opens in Excel/WPS) and XLSX."""
    from transforms.quarantine import quarantine_list
    from transforms.text import safe_cell

    # quarantine_list already passes every cell through safe_cell; the headings too, and once
    # more here so that nothing reaching the files bypasses it.
    table = quarantine_list(ledger.quarantine(run_id))
    table = table.rename(columns=safe_cell).apply(lambda column: column.map(safe_cell))
    csv_path = out_dir / "quarantine.csv"
    xlsx_path = out_dir / "quarantine.xlsx"
    table.to_csv(csv_path, index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="隔离清单", index=False)
        sheet = writer.sheets["隔离清单"]
        sheet.freeze_panes = "A2"
        for column, width in zip("ABCDEFGHIJKLMNO", (10, 38, 20, 12, 14, 22, 18, 14, 12, 20, 10, 14, 40, 40, 50)):
            sheet.column_dimensions[column].width = width
    return str(csv_path), str(xlsx_path)

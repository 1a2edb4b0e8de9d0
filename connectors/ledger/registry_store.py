"""The institution registry in the ledger, with history (part of `Ledger`).

Every institution and every county opening is kept as versions: a form that changes an
institution closes the version in force (`valid_to`) and opens a new one from the form's
effective date; nothing is overwritten or deleted. Validity times are Shandong local time
(the forms' dates are local dates), like DBSJ and the run's `as_of`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from connectors.ledger.schema_registry import county_opening, registry_form_issue
from connectors.ledger.statements import statement

# What makes an institution version different from the one in force.
INSTITUTION_FIELDS = (
    "xzqh", "utility", "name", "channel", "file_format", "service_phone", "contact_name", "contact_mobile", "contact_landline", "informed",
)
OPENING_FIELDS = ("open_date", "gas", "heat", "water")


class FormIssueCounts:
    """Errors and warnings among a loaded form's `issues`, and the line for a form loaded before
    (shared by the registry's forms and the remote-collection checklists)."""

    file_name: str
    issues: list

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")

    def skipped_line(self) -> str:
        return f"{self.file_name}: 已于此前载入（内容相同），跳过 / already loaded, skipped"


def save_form_outcome(conn, summary, *, form_id: int, counts: str, loaded: dict[str, int], issue_table: sa.Table) -> None:
    """A loaded form's counts (statement `counts`; `loaded`: how many rows or lists it loaded, by column) and its
    issues, numbered from 1, into `issue_table` — the registry's forms and the remote-collection checklists alike."""
    conn.execute(statement(counts), {
        "form_id": form_id, **loaded, "added": len(summary.added), "changed": len(summary.changed),
        "unchanged": summary.unchanged, "errors": summary.errors, "warnings": summary.warnings,
    })
    if summary.issues:
        conn.execute(issue_table.insert(), [
            {"form_id": form_id, "seq": n, "sheet": i.sheet, "row_number": i.row, "column_name": i.column, "severity": i.severity,
             "rule": i.rule, "message": i.message}
            for n, i in enumerate(summary.issues, start=1)
        ])


@dataclass
class FormSummary(FormIssueCounts):
    """What loading one form did: counts, the changes, and every issue (its own and the registry's)."""

    form_id: int | None
    file_name: str
    kind: str
    already_loaded: bool = False
    rows_loaded: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # "code: field old → new"
    unchanged: int = 0
    issues: list = field(default_factory=list)  # transforms.registry.institution_forms.FormIssue

    def line(self) -> str:
        if self.already_loaded:
            return self.skipped_line()
        return (f"{self.file_name}: 载入{self.rows_loaded}行 — 新增{len(self.added)}，变更{len(self.changed)}，未变{self.unchanged}；"
                f"错误{self.errors}，提示{self.warnings}")


class RegistryStore:
    """Mixed into `Ledger`: load forms into the registry, read it as of a time."""

    engine: sa.Engine

    def form_by_hash(self, sha256: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_registry_form_by_hash"), {"sha256": sha256}).mappings().first()
        return dict(row) if row else None

    def apply_form(self, parsed, *, sha256: str, effective: datetime, loaded_at: datetime) -> FormSummary:
        """Load a parsed Annex 2 / Annex 3 form (transforms.registry.institution_forms.ParsedForm) in one transaction."""
        from transforms.common.form_sheets import FormIssue

        summary = FormSummary(None, parsed.file, parsed.kind, issues=list(parsed.issues))
        with self.engine.begin() as conn:
            if conn.execute(statement("select_registry_form_by_hash"), {"sha256": sha256}).first():
                summary.already_loaded = True
                return summary
            form_id = conn.execute(
                statement("insert_registry_form"),
                {"file_name": parsed.file, "sha256": sha256, "kind": parsed.kind, "city_code": parsed.city_code, "effective": effective,
                 "loaded_at": loaded_at},
            ).scalar_one()
            summary.form_id = int(form_id)

            def issue(row: dict, severity: str, rule: str, message: str, column: str | None = None) -> None:
                summary.issues.append(FormIssue(parsed.file, row["sheet"], row["row"], column, severity, rule, message))

            if parsed.kind == "annex2":
                self._apply_institutions(conn, parsed.rows, summary, form_id, effective, issue)
            else:
                self._apply_openings(conn, parsed.rows, summary, form_id, effective, issue)
            save_form_outcome(conn, summary, form_id=form_id, counts="update_registry_form_counts", loaded={"rows_loaded": summary.rows_loaded},
                              issue_table=registry_form_issue)
        return summary

    def _apply_institutions(self, conn, rows: list[dict], summary: FormSummary, form_id: int, effective: datetime, issue) -> None:
        from transforms.registry.drop_names import delivery_settings
        from transforms.registry.form_state_rules import has_error, institution_row_issues

        codes = sorted({r["code"] for r in rows} | {r["predecessor"] for r in rows if r.get("predecessor")})
        in_force = {
            r["code"]: dict(r) for r in conn.execute(statement("select_institutions_in_force", expanding=("codes",)), {"codes": codes}).mappings()
        } if codes else {}
        for row in rows:
            code = row["code"]
            current = in_force.get(code)
            predecessor = row.get("predecessor")
            before = in_force.get(predecessor) if predecessor else None
            found = institution_row_issues(row, current=current, predecessor=before, effective=effective)
            for severity, rule, message in found:
                issue(row, severity, rule, message)
            if has_error(found):
                continue
            if row["file_format"] is None:  # 文件格式 left empty: an institution keeps its format, a new one gets the default
                from transforms.registry.institution_forms import DEFAULT_FORMAT

                row = row | {"file_format": (current or before or {}).get("file_format") or DEFAULT_FORMAT}
            drop, endpoint = delivery_settings(code, row["channel"], row["xzqh"])
            values = {k: row[k] for k in INSTITUTION_FIELDS} | {"code": code, "drop_account": drop, "endpoint_conn_id": endpoint,
                                                                 "valid_from": effective, "form_id": form_id, "source_row": row["row"]}
            if predecessor:
                if before is not None:
                    conn.execute(statement("update_institution_closed"), {"version_id": before["version_id"], "valid_to": effective, "successor_code": code})
                    in_force.pop(predecessor)
                    if current is None:
                        summary.rows_loaded += 1
                        summary.changed.append(f"{predecessor} → {code}: 机构编码变更 / re-coded ({row['name']})")
                        in_force[code] = self._insert_version(conn, values)
                        continue
            summary.rows_loaded += 1
            if current is None:
                summary.added.append(f"{code} {row['name']}")
                in_force[code] = self._insert_version(conn, values)
                continue
            diffs = [f"{k}: {current[k]} → {row[k]}" for k in INSTITUTION_FIELDS if current[k] != row[k]]
            if not diffs:
                summary.unchanged += 1
                continue
            conn.execute(statement("update_institution_closed"), {"version_id": current["version_id"], "valid_to": effective, "successor_code": None})
            summary.changed.append(f"{code} {row['name']}: " + "; ".join(diffs))
            in_force[code] = self._insert_version(conn, values)

    @staticmethod
    def _insert_version(conn, values: dict) -> dict:
        version_id = conn.execute(statement("insert_institution"), values).scalar_one()
        return {**values, "version_id": version_id, "valid_to": None, "successor_code": None}

    def _apply_openings(self, conn, rows: list[dict], summary: FormSummary, form_id: int, effective: datetime, issue) -> None:
        from transforms.registry.form_state_rules import has_error, opening_row_issues

        counties = sorted({r["xzqh"] for r in rows})
        in_force = {
            r["xzqh"]: dict(r) for r in conn.execute(statement("select_openings_in_force", expanding=("counties",)), {"counties": counties}).mappings()
        } if counties else {}
        registered = conn.execute(statement("select_registered_in_counties", expanding=("counties",)), {"counties": counties}).all() if counties else []
        for row in rows:
            xzqh = row["xzqh"]
            current = in_force.get(xzqh)
            found = opening_row_issues(row, registered=[(r[1], r[2], int(r[3])) for r in registered if r[0] == xzqh], current=current, effective=effective)
            for severity, rule, message in found:
                issue(row, severity, rule, message)
            if has_error(found):
                continue
            summary.rows_loaded += 1
            values = {k: row[k] for k in OPENING_FIELDS} | {"xzqh": xzqh, "valid_from": effective, "form_id": form_id, "source_row": row["row"]}
            if current is None:
                summary.added.append(f"{xzqh} 开通日期 {row['open_date']}")
            elif all(current[k] == row[k] for k in OPENING_FIELDS):
                summary.unchanged += 1
                continue
            else:
                conn.execute(statement("update_opening_closed"), {"version_id": current["version_id"], "valid_to": effective})
                summary.changed.append(f"{xzqh}: " + "; ".join(f"{k}: {current[k]} → {row[k]}" for k in OPENING_FIELDS if current[k] != row[k]))
            conn.execute(county_opening.insert(), values)
            in_force[xzqh] = {**values, "valid_to": None}

    def registry_at(self, at: datetime):
        """Institutions in force at `at` (local time), plus codes retired by then that name a successor.

        One row per code: version_id, code, utility, xzqh, name, channel, file_format,
        drop_account, endpoint_conn_id, successor_code, valid_from, valid_to, in_force,
        open_date (the county's account-mode opening in force at `at`, or NaT).
        """
        import pandas as pd

        from connectors.ledger.schema_registry import institution

        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_registry_at"), {"at": at}).mappings().all()
            openings = conn.execute(statement("select_openings_at"), {"at": at}).all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in institution.columns])
        frame["in_force"] = frame["valid_to"].isna() | (pd.to_datetime(frame["valid_to"]) > pd.Timestamp(at))
        # A code has one version in force; among retired ones keep the last.
        frame = frame.sort_values(["code", "in_force", "valid_from"]).drop_duplicates("code", keep="last").reset_index(drop=True)
        opened = {x: pd.Timestamp(d) for x, d in openings}
        frame["open_date"] = pd.to_datetime(frame["xzqh"].map(opened))
        return frame

    def institution_history(self, code: str) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_institution_history"), {"code": code}).mappings()]

    def opening_history(self, xzqh: str) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_opening_history"), {"xzqh": xzqh}).mappings()]

    def form_issues(self, form_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_registry_form_issues"), {"form_id": form_id}).mappings()]


def as_local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)

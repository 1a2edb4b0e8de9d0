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

from connectors.ledger.schema import county_opening, institution, registry_form, registry_form_issue

# What makes an institution version different from the one in force.
INSTITUTION_FIELDS = (
    "xzqh", "utility", "name", "channel", "file_format", "service_phone", "contact_name", "contact_mobile", "contact_landline", "informed",
)
OPENING_FIELDS = ("open_date", "gas", "heat", "water")
UTILITY_ZH = {"water": "供水", "gas": "燃气", "heat": "供热"}


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


def drop_account(code: str) -> str:
    """The SFTP drop account of an account-mode institution: `xb` (协办) + its code in lower case."""
    return "xb" + code.lower()


def delivery_settings(code: str, channel: str, xzqh: str) -> tuple[str | None, str | None]:
    """(SFTP drop account, county endpoint connection id) an institution's channel needs.

    Account mode: the drop account is `xb` + the institution code in lower case (a valid
    Unix user name: it starts with a letter; 20 characters). System mode: the county system's
    Airflow connection `county_system_<XZQH>`.
    """
    if channel == "account":
        return drop_account(code), None
    return None, f"county_system_{xzqh}"


class RegistryStore:
    """Mixed into `Ledger`: load forms into the registry, read it as of a time."""

    engine: sa.Engine

    def form_by_hash(self, sha256: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(registry_form).where(registry_form.c.sha256 == sha256)).mappings().first()
        return dict(row) if row else None

    def apply_form(self, parsed, *, sha256: str, effective: datetime, loaded_at: datetime) -> FormSummary:
        """Load a parsed Annex 2 / Annex 3 form (transforms.registry.institution_forms.ParsedForm) in one transaction."""
        from transforms.registry.institution_forms import FormIssue

        summary = FormSummary(None, parsed.file, parsed.kind, issues=list(parsed.issues))
        with self.engine.begin() as conn:
            if conn.execute(sa.select(registry_form.c.form_id).where(registry_form.c.sha256 == sha256)).first():
                summary.already_loaded = True
                return summary
            form_id = conn.execute(
                registry_form.insert().returning(registry_form.c.form_id),
                {"file_name": parsed.file, "sha256": sha256, "kind": parsed.kind, "city_code": parsed.city_code, "effective": effective,
                 "loaded_at": loaded_at, "rows_loaded": 0, "added": 0, "changed": 0, "unchanged": 0, "errors": 0, "warnings": 0},
            ).scalar_one()
            summary.form_id = int(form_id)

            def issue(row: dict, severity: str, rule: str, message: str, column: str | None = None) -> None:
                summary.issues.append(FormIssue(parsed.file, row["sheet"], row["row"], column, severity, rule, message))

            if parsed.kind == "annex2":
                self._apply_institutions(conn, parsed.rows, summary, form_id, effective, issue)
            else:
                self._apply_openings(conn, parsed.rows, summary, form_id, effective, issue)
            conn.execute(
                registry_form.update().where(registry_form.c.form_id == form_id).values(
                    rows_loaded=summary.rows_loaded, added=len(summary.added), changed=len(summary.changed), unchanged=summary.unchanged,
                    errors=summary.errors, warnings=summary.warnings,
                )
            )
            if summary.issues:
                conn.execute(registry_form_issue.insert(), [
                    {"form_id": form_id, "seq": n, "sheet": i.sheet, "row_number": i.row, "column_name": i.column, "severity": i.severity,
                     "rule": i.rule, "message": i.message}
                    for n, i in enumerate(summary.issues, start=1)
                ])
        return summary

    def _apply_institutions(self, conn, rows: list[dict], summary: FormSummary, form_id: int, effective: datetime, issue) -> None:
        codes = {r["code"] for r in rows} | {r["predecessor"] for r in rows if r.get("predecessor")}
        in_force = {
            r["code"]: dict(r)
            for r in conn.execute(sa.select(institution).where(institution.c.code.in_(codes), institution.c.valid_to.is_(None))).mappings()
        } if codes else {}
        for row in rows:
            code = row["code"]
            current = in_force.get(code)
            if current is not None and current["utility"] != row["utility"]:
                issue(row, "error", "FORM_CODE_OTHER_TYPE",
                      f"机构编码“{code}”已登记为{UTILITY_ZH[current['utility']]}机构（{current['name']}），不能再登记为{UTILITY_ZH[row['utility']]}机构")
                continue
            if current is not None and current["valid_from"] > effective:
                issue(row, "error", "FORM_OLDER_THAN_IN_FORCE",
                      f"生效日期 {effective:%Y-%m-%d} 早于机构“{code}”现行信息的生效日期 {current['valid_from']:%Y-%m-%d}")
                continue
            drop, endpoint = delivery_settings(code, row["channel"], row["xzqh"])
            values = {k: row[k] for k in INSTITUTION_FIELDS} | {"code": code, "drop_account": drop, "endpoint_conn_id": endpoint,
                                                                 "valid_from": effective, "form_id": form_id, "source_row": row["row"]}
            predecessor = row.get("predecessor")
            if predecessor:
                before = in_force.get(predecessor)
                if before is None:
                    issue(row, "warning", "FORM_PREDECESSOR_UNKNOWN", f"原机构编码“{predecessor}”不在现行名录中，按新增机构登记")
                elif before["utility"] != row["utility"]:
                    issue(row, "error", "FORM_CODE_OTHER_TYPE", f"原机构编码“{predecessor}”是{UTILITY_ZH[before['utility']]}机构，不是{UTILITY_ZH[row['utility']]}机构")
                    continue
                else:
                    conn.execute(institution.update().where(institution.c.version_id == before["version_id"]).values(valid_to=effective, successor_code=code))
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
            conn.execute(institution.update().where(institution.c.version_id == current["version_id"]).values(valid_to=effective))
            summary.changed.append(f"{code} {row['name']}: " + "; ".join(diffs))
            in_force[code] = self._insert_version(conn, values)

    @staticmethod
    def _insert_version(conn, values: dict) -> dict:
        version_id = conn.execute(institution.insert().returning(institution.c.version_id), values).scalar_one()
        return {**values, "version_id": version_id, "valid_to": None, "successor_code": None}

    def _apply_openings(self, conn, rows: list[dict], summary: FormSummary, form_id: int, effective: datetime, issue) -> None:
        counties = [r["xzqh"] for r in rows]
        in_force = {
            r["xzqh"]: dict(r)
            for r in conn.execute(sa.select(county_opening).where(county_opening.c.xzqh.in_(counties), county_opening.c.valid_to.is_(None))).mappings()
        } if counties else {}
        registered = conn.execute(
            sa.select(institution.c.xzqh, institution.c.utility, institution.c.channel, sa.func.count())
            .where(institution.c.xzqh.in_(counties), institution.c.valid_to.is_(None))
            .group_by(institution.c.xzqh, institution.c.utility, institution.c.channel)
        ).all() if counties else []
        for row in rows:
            xzqh = row["xzqh"]
            mine = [r for r in registered if r[0] == xzqh]
            if mine:
                for kind, label in (("gas", "燃气公司"), ("heat", "热力公司"), ("water", "供水公司")):
                    have = sum(r[3] for r in mine if r[1] == kind)
                    if have != row[kind]:
                        issue(row, "warning", "FORM_COUNT_MISMATCH", f"申请写{label}{row[kind]}个，名录（附件2）中有{have}个")
                if any(r[2] == "system" for r in mine):
                    issue(row, "warning", "FORM_CHANNEL_CONFLICT", "名录中该县有“系统对接”的机构：这些机构仍走系统对接，开通日期只约束配置账号方式")
            current = in_force.get(xzqh)
            if current is not None and current["valid_from"] > effective:
                issue(row, "error", "FORM_OLDER_THAN_IN_FORCE", f"生效日期 {effective:%Y-%m-%d} 早于该县现行开通申请的生效日期 {current['valid_from']:%Y-%m-%d}")
                continue
            summary.rows_loaded += 1
            values = {k: row[k] for k in OPENING_FIELDS} | {"xzqh": xzqh, "valid_from": effective, "form_id": form_id, "source_row": row["row"]}
            if current is None:
                summary.added.append(f"{xzqh} 开通日期 {row['open_date']}")
            elif all(current[k] == row[k] for k in OPENING_FIELDS):
                summary.unchanged += 1
                continue
            else:
                conn.execute(county_opening.update().where(county_opening.c.version_id == current["version_id"]).values(valid_to=effective))
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

        live = sa.and_(institution.c.valid_from <= at, sa.or_(institution.c.valid_to.is_(None), institution.c.valid_to > at))
        retired = sa.and_(institution.c.valid_to <= at, institution.c.successor_code.is_not(None))
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(institution).where(sa.or_(live, retired)).order_by(institution.c.code, institution.c.valid_from)).mappings().all()
            openings = conn.execute(
                sa.select(county_opening.c.xzqh, county_opening.c.open_date)
                .where(county_opening.c.valid_from <= at, sa.or_(county_opening.c.valid_to.is_(None), county_opening.c.valid_to > at))
            ).all()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in institution.columns])
        frame["in_force"] = frame["valid_to"].isna() | (pd.to_datetime(frame["valid_to"]) > pd.Timestamp(at))
        # A code has one version in force; among retired ones keep the last.
        frame = frame.sort_values(["code", "in_force", "valid_from"]).drop_duplicates("code", keep="last").reset_index(drop=True)
        opened = {x: pd.Timestamp(d) for x, d in openings}
        frame["open_date"] = pd.to_datetime(frame["xzqh"].map(opened))
        return frame

    def institution_history(self, code: str) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(institution).where(institution.c.code == code).order_by(institution.c.valid_from, institution.c.version_id)).mappings()]

    def opening_history(self, xzqh: str) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(county_opening).where(county_opening.c.xzqh == xzqh).order_by(county_opening.c.valid_from, county_opening.c.version_id)).mappings()]

    def form_issues(self, form_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(registry_form_issue).where(registry_form_issue.c.form_id == form_id).order_by(registry_form_issue.c.seq)).mappings()]


def as_local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)

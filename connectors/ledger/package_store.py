"""Remote collection (异地代收) in the ledger (part of `Ledger`): packages as received, the
property counties' checklists with their history, and one verdict per package version.

- Packages: each chunk of package changes (connectors/exchange_db.py) loads with its applicants
  and materials and its watermark move in one transaction; a change already held (re-read
  from the settle window) is counted, never loaded twice. The watermark lives in
  `extract_watermark` under the source's name ("remote").
- Checklists: a form's lists (transforms/remote/checklists.py) apply per (county, business
  type) at the form's effective time: a list that differs from the version in force then
  closes it (`valid_to` = the effective time) and becomes a new version; an identical one is
  "unchanged". A form that arrives after a later one (forms are not always sent in order)
  fills the history up to that later version (`CHECKLIST_BACKDATED`, a warning). A form
  already loaded (same SHA-256) is not loaded again. Times are local (Shandong), like SJSJ.
- Verdicts: validation takes the package versions received and not yet validated, whichever
  run received them, page by page; each version gets one verdict, ever, and moves its BWID's
  version in force; a run's counts sum its pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from connectors.ledger.registry_store import FormIssueCounts, save_form_outcome
from connectors.ledger.schema_remote import remote_checklist_form_issue, remote_checklist_item, remote_failure, remote_verdict
from connectors.ledger.statements import statement

PACKAGE_LOAD_COLUMNS = ("source", "change_seq", "change_time", "op", "bwid", "sqbh", "sjdwdm", "sjdwmc", "sjxzqh", "sjsj", "sjry", "ywlx", "bdcdyh",
                        "bdcqzh", "zl", "xzqh", "run_id", "received_at")


@dataclass
class ChecklistSummary(FormIssueCounts):
    """What loading one checklist form did: lists added, changed, unchanged, and every issue."""

    form_id: int | None
    file_name: str
    already_loaded: bool = False
    lists_loaded: int = 0
    added: list[str] = field(default_factory=list)  # "370102 02 抵押登记 (6)"
    changed: list[str] = field(default_factory=list)  # "370102 02: +HKB; DYHT paper"
    unchanged: int = 0
    issues: list = field(default_factory=list)  # transforms.registry.institution_forms.FormIssue

    def line(self) -> str:
        if self.already_loaded:
            return self.skipped_line()
        return (f"{self.file_name}: 载入清单{self.lists_loaded}张 — 新增{len(self.added)}，变更{len(self.changed)}，未变{self.unchanged}；"
                f"错误{self.errors}，提示{self.warnings}")


@dataclass(frozen=True)
class PackagesLoaded:
    read: int
    new: int
    max_seq: int

    @property
    def known(self) -> int:
        return self.read - self.new


class RemoteStore:
    """Mixed into `Ledger`."""

    engine: sa.Engine
    dialect: str

    # --- checklists ---------------------------------------------------------------------------

    def checklist_form_by_hash(self, sha256: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_checklist_form_by_hash"), {"sha256": sha256}).mappings().first()
        return dict(row) if row else None

    def apply_checklist_form(self, parsed, *, sha256: str, effective: datetime, loaded_at: datetime) -> ChecklistSummary:
        """Load a parsed checklist form (transforms.registry.institution_forms.ParsedForm, kind 'checklist') in one transaction."""
        from transforms.common.form_sheets import FormIssue
        from transforms.remote.checklists import checklist_groups
        from transforms.remote.package_rules import BUSINESS_TYPES

        summary = ChecklistSummary(None, parsed.file, issues=list(parsed.issues))
        with self.engine.begin() as conn:
            if conn.execute(statement("select_checklist_form_by_hash"), {"sha256": sha256}).first():
                summary.already_loaded = True
                return summary
            form_id = int(conn.execute(
                statement("insert_checklist_form"),
                {"file_name": parsed.file, "sha256": sha256, "city_code": parsed.city_code, "effective": effective, "loaded_at": loaded_at},
            ).scalar_one())
            summary.form_id = form_id
            groups = checklist_groups(parsed.rows)
            timelines = self._checklist_timelines(conn, list(groups))
            for (xzqh, business_type), rows in groups.items():
                items = {r["material_code"]: (r["material_name"], r["required"], r["paper_original"]) for r in rows}
                versions = timelines.get((xzqh, business_type), [])
                before = [v for v in versions if v["valid_from"] <= effective]
                after = [v for v in versions if v["valid_from"] > effective]
                prev = before[-1] if before else None
                label = f"{xzqh} {business_type}"
                summary.lists_loaded += 1
                if prev is not None and prev["items"] == items:
                    summary.unchanged += 1
                    continue
                valid_to = after[0]["valid_from"] if after else None
                if valid_to is not None:
                    # A form that arrives after a later one: it fills the history up to that one.
                    first = rows[0]
                    summary.issues.append(FormIssue(parsed.file, first["sheet"], first["row"], None, "warning", "CHECKLIST_BACKDATED",
                                                    f"生效日期 {effective:%Y-%m-%d} 早于 {xzqh} {BUSINESS_TYPES[business_type]}已载入清单的生效日期 "
                                                    f"{valid_to:%Y-%m-%d}：作为历史版本载入，至 {valid_to:%Y-%m-%d} 止"))
                if prev is None:
                    summary.added.append(f"{label} ({len(items)})")
                else:
                    conn.execute(statement("update_checklist_closed"), {"version_id": prev["version_id"], "valid_to": effective})
                    summary.changed.append(f"{label}: " + _describe_change(prev["items"], items))
                version_id = conn.execute(
                    statement("insert_checklist"),
                    {"xzqh": xzqh, "business_type": business_type, "items": len(items), "valid_from": effective, "valid_to": valid_to, "form_id": form_id},
                ).scalar_one()
                conn.execute(remote_checklist_item.insert(), [
                    {"version_id": version_id, "material_code": r["material_code"], "material_name": r["material_name"], "required": r["required"],
                     "paper_original": r["paper_original"], "position": n, "source_row": r["row"]}
                    for n, r in enumerate(rows, start=1)
                ])
            save_form_outcome(conn, summary, form_id=form_id, counts="update_checklist_form_counts", loaded={"lists_loaded": summary.lists_loaded},
                              issue_table=remote_checklist_form_issue)
        return summary

    @staticmethod
    def _checklist_timelines(conn, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
        """(county, type) -> its versions, oldest first: {version_id, valid_from, valid_to, items: {code: (name, required, paper)}}."""
        if not keys:
            return {}
        counties = sorted({k[0] for k in keys})
        versions: dict[int, dict] = {}
        out: dict[tuple[str, str], list[dict]] = {}
        wanted = set(keys)
        for r in conn.execute(statement("select_checklist_timelines", expanding=("counties",)), {"counties": counties}).mappings():
            key = (r["xzqh"], r["business_type"])
            if key not in wanted:
                continue
            entry = versions.get(r["version_id"])
            if entry is None:
                entry = versions[r["version_id"]] = {"version_id": r["version_id"], "valid_from": r["valid_from"], "valid_to": r["valid_to"], "items": {}}
                out.setdefault(key, []).append(entry)
            entry["items"][r["material_code"]] = (r["material_name"], bool(r["required"]), bool(r["paper_original"]))
        return out

    def checklists(self):
        """Every checklist version with its items (transforms.remote.package_rules.CHECKLIST_COLUMNS), as a pandas frame."""
        import pandas as pd

        from transforms.remote.package_rules import CHECKLIST_COLUMNS

        with self.engine.connect() as conn:
            rows = conn.execute(statement("select_remote_checklists")).fetchall()
        frame = pd.DataFrame(rows, columns=list(CHECKLIST_COLUMNS))
        for column in ("valid_from", "valid_to"):
            frame[column] = pd.to_datetime(frame[column])
        frame["required"] = frame["required"].astype(bool)
        frame["paper_original"] = frame["paper_original"].astype(bool)
        return frame

    def checklist_history(self, xzqh: str, business_type: str) -> list[dict]:
        """Every version of one county's list for one business type, oldest first, each with its items."""
        with self.engine.connect() as conn:
            versions = [dict(r) for r in conn.execute(statement("select_checklist_versions"), {"xzqh": xzqh, "business_type": business_type}).mappings()]
            for v in versions:
                v["item_rows"] = [dict(r) for r in conn.execute(statement("select_checklist_items"), {"version_id": v["version_id"]}).mappings()]
        return versions

    def checklist_form_issues(self, form_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_checklist_form_issues"), {"form_id": form_id}).mappings()]

    # --- packages -----------------------------------------------------------------------------

    def load_packages(self, chunk, *, run_id: str, source: str, received_at: datetime, batch_id: int | None = None) -> PackagesLoaded:
        """Load one PackageChunk (connectors/exchange_db.py) and move the source's watermark, in one transaction;
        with `batch_id`, the chunk's counts are added to that extraction batch in the same transaction."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from connectors.ledger import _with_constants

        rejects, originals = getattr(chunk, "rejects", ()), getattr(chunk, "originals", ())
        if chunk.num_packages == 0 and not rejects:
            return PackagesLoaded(0, 0, chunk.high)
        with self.engine.begin() as conn:
            # Refused package versions and the originals of cleaned values, with the chunk (connectors/ledger/__init__.py).
            self._keep_rejects_and_originals(conn, list(rejects), list(originals), source=source, run_id=run_id, surface="package_row", table="BDC_YDDS_BWXX")
            held = {int(r[0]) for r in conn.execute(statement("select_remote_held_seqs"),
                                                    {"source": source, "low": chunk.low + 1, "high": chunk.high})}

            def fresh(table):
                if not held or table.num_rows == 0:
                    return table
                return table.filter(pc.invert(pc.is_in(table["change_seq"], value_set=pa.array(sorted(held), pa.int64()))))

            packages = _with_constants(fresh(chunk.packages), source=source, run_id=run_id, received_at=received_at)
            self._insert(conn, "remote_package", packages, PACKAGE_LOAD_COLUMNS)
            for name, table in (("remote_applicant", chunk.applicants), ("remote_material", chunk.materials)):
                table = fresh(table)
                table = self.seal(table.append_column("source", pa.array([source] * table.num_rows, pa.string())), name)  # applicants' IDs, names
                self._insert(conn, name, table, ["source", *(c for c in table.column_names if c != "source")])
            last = self._last_seq(conn, source)
            conn.execute(statement("upsert_watermark"),
                         {"source": source, "last_seq": max(last, chunk.high), "reread_from": None, "fence": None, "run_id": run_id, "updated_at": received_at})
            if batch_id is not None:
                read = chunk.num_packages + len(rejects)
                conn.execute(statement("update_batch_progress"),
                             {"batch_id": batch_id, "rows_read": read, "rows_new": packages.num_rows, "rows_known": chunk.num_packages - packages.num_rows, "max_seq": chunk.high})
        return PackagesLoaded(chunk.num_packages, packages.num_rows, chunk.high)

    def due_remote_packages(self, source: str = "remote", *, after_seq: int = 0, page_size: int = 50_000):
        """A page of package versions received and not yet validated (whichever run received them), in change
        order: (packages, applicants, materials) as pandas frames with the exchange's upper-case names;
        packages carry `received_by`, the run that received each. Pass the page's last CHANGE_SEQ as
        `after_seq` for the next page."""
        import pandas as pd

        with self.engine.connect() as conn:
            result = conn.execute(statement("select_due_remote_packages"),
                                  {"source": source, "after": after_seq, "page_size": page_size})
            packages = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            frames = [packages]
            low = int(packages["CHANGE_SEQ"].min()) if len(packages) else 0
            high = int(packages["CHANGE_SEQ"].max()) if len(packages) else -1
            for name in ("select_due_remote_applicants", "select_due_remote_materials"):
                result = conn.execute(statement(name), {"source": source, "low": low, "high": high})
                frames.append(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
        for frame in frames:
            frame["CHANGE_SEQ"] = frame["CHANGE_SEQ"].astype("int64")
        frames[1] = self.unseal(frames[1], "remote_applicant")  # validation reads the applicants' ID numbers
        return tuple(frames)

    def remote_known_bwids(self, source: str = "remote") -> set[str]:
        """BWIDs validated versions already took as new packages (a second new package under one is a duplicate)."""
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(statement("select_remote_known_bwids"), {"source": source})}

    # --- verdicts -----------------------------------------------------------------------------

    def save_remote_verdicts(self, *, run_id: str, source: str, verdicts, failures, summary: dict) -> None:
        """One page's verdicts and failures (Arrow), each BWID's version in force, and the page's counts
        added to the run's — one transaction.

        `verdicts`: change_seq, bwid, op, status, xzqh, sjdwdm, business_type, checklist_version_id,
        channel, destination, paper_collected, paper_handover, errors, warnings; `failures`:
        change_seq, rule_id, field, item, severity, value, message_zh, message_en. The page's
        versions had no verdict (they were due): a version gets one verdict, ever.
        `remote_validation_run` sums every page a run validated; an empty page still records the run.
        """
        self._save_verdict_page(run_id=run_id, source=source, verdicts=verdicts, failures=failures, summary=summary,
                                into=(remote_verdict, remote_failure), state="upsert_remote_package_state", run_table="remote_validation_run",
                                counted=("packages_in", "passed", "returned", "withdrawn", "warnings"), audit=("remote", "packages_validated"))

    def remote_validation_run(self, run_id: str) -> dict:
        """A run's package counts (every page it validated): as_of, packages_in, passed, returned, withdrawn, warnings."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_remote_validation_run"), {"run_id": run_id}).mappings().first()
        if row is None:
            return {"as_of": None, "packages_in": 0, "passed": 0, "returned": 0, "withdrawn": 0, "warnings": 0}
        return {k: row[k] for k in ("as_of", "packages_in", "passed", "returned", "withdrawn", "warnings")}

    def remote_counts(self) -> dict[str, int]:
        """Package versions received, verdicts by status, BWIDs with a version in force."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_remote_counts")).mappings().one()
        return {k: int(v) for k, v in row.items()}

    def remote_returns(self, run_id: str):
        """What goes back to the collecting halls for a run: one row per failure of each returned package version (pandas)."""
        import pandas as pd

        with self.engine.connect() as conn:
            result = conn.execute(statement("select_remote_returns"), {"run_id": run_id})
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def remote_verdicts(self, run_id: str | None = None) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement("select_remote_verdicts"), {"run_id": run_id}).mappings()]

    def remote_package_state(self, bwid: str) -> dict | None:
        """The version in force of one package (by BWID), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(statement("select_remote_package_state"), {"bwid": bwid}).mappings().first()
        return dict(row) if row else None


def _describe_change(old: dict, new: dict) -> str:
    """'+CODE; -CODE; CODE 必须/纸质' — what a new list version changes."""
    parts = [f"+{c}" for c in new if c not in old] + [f"-{c}" for c in old if c not in new]
    for code in new:
        if code in old and old[code] != new[code]:
            was, now = old[code], new[code]
            what = [w for w, a, b in (("名称", was[0], now[0]), ("必须", was[1], now[1]), ("纸质原件", was[2], now[2])) if a != b]
            parts.append(f"{code} {'/'.join(what)}")
    return "; ".join(parts) or "顺序"

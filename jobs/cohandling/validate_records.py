"""Validation of the changes due — received and not yet validated, whichever run received them:
normalise, every Annex 1 rule, verdicts into the ledger, the Great Expectations suite with
its Data Docs, the run's validation page (validation.html, offline, Chinese) and the quarantine list for the platform.

What an error stops (transforms/cohandling/record_rules.py): a record-level error quarantines the whole
record; an error local to one utility (account without institution, unknown institution
code, name not matching the code) blocks only that utility's work order, and the record's
other utilities go on (status `partial`). A second new record under a ROWGUID already in
use is quarantined as `duplicate`; the first one stays in force. A later version of a
quarantined record (same ROWGUID, a correction) replaces it and flows on.

Overlapping runs: validation holds the ledger lock `cohandling.validate:<source>` and runs as of
the `cohandling` clock when its run's as-of is older (a backfill; jobs/common/stage_clock.py): the
changes due were received up to a newer cut-off, and are checked against the registry and the
calendar of then, never of a past day.
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
from jobs.common import reference
from jobs.common.due_pages import due_pages
from jobs.common.outcomes import validate_line

log = logging.getLogger(__name__)


PAGE_SIZE = 50_000  # changes validated per transaction: a backlog of millions is worked through page by page, in bounded memory (issue 18: 200,000 peaked at 2.5 GB)


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
    carried_over: int = 0  # of the changes this call validated, those an earlier run received (it failed or stopped after extract)
    page_path: str | None = None  # the run's validation page (validation.html): self-contained, what the DAG run links to

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
    page_size: int | None = None,
) -> ValidationResult:
    """Validate every change received and not yet validated — whichever run received it — in change
    order, page by page; write verdicts, the run's quarantine list and Data Docs.

    A run that failed after extract left its changes without verdicts: the next run takes them.
    The counts returned are the run's (every page it validated, over its attempts); the
    quarantine list holds what this run validated. `registry` is the one in force at `as_of`;
    when the clock lifts `as_of` (module docstring), the one in force at the time used is read.
    """
    from jobs.common.settings import lock_wait_s

    with ledger.stage_lock(f"cohandling.validate:{source}", run_id=run_id, wait_s=lock_wait_s()):
        return _validate_run(ledger, run_id=run_id, as_of=as_of, registry=registry, out_dir=out_dir, source=source, data_docs=data_docs,
                             page_size=page_size)


def _validate_run(ledger: Ledger, *, run_id: str, as_of: datetime, registry: pd.DataFrame, out_dir: Path, source: str, data_docs: bool,
                  page_size: int | None) -> ValidationResult:
    from jobs.common.stage_clock import run_as_of

    used = run_as_of(ledger, "cohandling", as_of, run_id=run_id, stage="validate")
    if used != as_of:
        as_of, registry = used, ledger.registry.registry_at(used)
    page_size = page_size or PAGE_SIZE
    out_dir.mkdir(parents=True, exist_ok=True)
    carried = 0
    for table, received_by in due_pages(lambda after: ledger.due_changes(source, after_seq=after, page_size=page_size), page_size=page_size,
                                        rows=lambda page: page[0].num_rows, last_seq=lambda page: int(page[0]["change_seq"][-1].as_py())):
        carried += sum(1 for r in received_by if r != run_id)
        digest = _validate_page(ledger, table, run_id=run_id, as_of=as_of, registry=registry, out_dir=out_dir, source=source, data_docs=data_docs)
        if table.num_rows:  # an empty page (nothing due) only records the run
            _add_to_digest(out_dir, digest)
    run = ledger.validation_run(run_id)
    csv_path, xlsx_path = write_quarantine_list(ledger, run_id=run_id, out_dir=out_dir)
    withdrawn = run["records_in"] - run["passed"] - run["partial"] - run["quarantined"]
    totals = {**run, "withdrawn": withdrawn}
    page = write_validation_page(out_dir, totals, run_id=run_id, as_of=as_of, source=source)
    result = ValidationResult(run_id, run["records_in"], run["passed"], run["partial"], run["quarantined"], withdrawn, run["warnings"],
                              csv_path, xlsx_path, run["docs_path"], carried, page)
    log.info("%s", validate_line(result.as_dict()))
    return result


def _validate_page(ledger: Ledger, table: pa.Table, *, run_id: str, as_of: datetime, registry: pd.DataFrame, out_dir: Path, source: str,
                   data_docs: bool) -> dict:
    """Normalise, every Annex 1 rule, verdicts into the ledger (one transaction) for one page of due changes; returns the page's
    digest for the validation page (transforms/reporting/validation_page.py: counts per rule and expectation, masked samples)."""
    from transforms.cohandling.normalize import normalize_records
    from transforms.cohandling.record_rules import evaluate
    from transforms.cohandling.rule_catalogue import ROWGUID_MAX, build_context, message

    prior = {}
    if table.num_rows:
        import pyarrow.compute as pc

        low, high = (int(x.as_py()) for x in pc.min_max(table["change_seq"]).values())
        prior = ledger.due_prior_states(source, low=low, high=high)
    known = frozenset(prior)
    ctx = build_context(divisions=reference.divisions(), area_codes=reference.area_codes(), registry=registry, as_of=as_of, known_rowguids=known,
                        xzqh_history=reference.xzqh_history())
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

    docs, expectations = None, []
    if data_docs and len(records):
        from expectations.cohandling import run_suite

        # One set of Data Docs per page (a run's usual day is one page): data_docs/, then data_docs_<first change>/
        # for a further page or a retry's — an earlier attempt's docs are not written over.
        docs_dir, name = out_dir / "data_docs", run_id
        if docs_dir.exists():
            docs_dir, name = out_dir / f"data_docs_{int(seqs[0])}", f"{run_id}_{int(seqs[0])}"
        suite = run_suite(records, registry=registry, ctx=ctx, docs_dir=docs_dir, run_name=name)
        docs, expectations = suite["docs"], suite["expectations"]
    summary["docs_path"] = docs
    ledger.save_validation(run_id=run_id, source=source, verdicts=verdicts, failures=failure_table, summary=summary)
    return _page_digest(records, failures, expectations, run_id=run_id, as_of=as_of, source=source, docs=docs, out_dir=out_dir)


def _page_digest(records: pd.DataFrame, failures: pd.DataFrame, expectations: list[dict], *, run_id: str, as_of: datetime, source: str,
                 docs: str | None, out_dir: Path) -> dict:
    from transforms.reporting.validation_page import page_digest

    shown = failures.copy()
    if len(shown):
        rows = shown["row"].to_numpy(dtype=int)
        for column in ("ROWGUID", "YCYWH"):
            shown[column] = records[column].astype(object).to_numpy()[rows]
    relative = str(Path(docs).relative_to(out_dir)) if docs else None
    return page_digest(shown, expectations, run_id=run_id, as_of=as_of.isoformat(sep=" ", timespec="minutes"), source=source, data_docs=relative)


DIGEST_NAME = "validation.json"  # the run's digest: counts per rule and expectation, masked samples (no clear personal data)
PAGE_NAME = "validation.html"  # the run's validation page, beside its quarantine list
INDEX_NAME = "validation_index.html"  # the list of runs, in the folder that holds the runs' folders


def _add_to_digest(out_dir: Path, digest: dict) -> None:
    """The page's digest added to the run's (validation.json): once per validated page, after its verdicts are committed, so a
    retry of the run adds its pages to those of the attempt before."""
    import json

    from transforms.reporting.validation_page import merge_digests

    path = out_dir / DIGEST_NAME
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    if old and old.get("run_id") != digest["run_id"]:
        old = None
    _write_atomic(path, json.dumps(merge_digests(old, digest), ensure_ascii=False, indent=1))


def write_validation_page(out_dir: Path, totals: dict, *, run_id: str, as_of: datetime, source: str) -> str:
    """The run's validation page (validation.html) from its digest and the ledger's counts, and the index of the runs beside it
    (../validation_index.html); returns the page's path."""
    import json

    from transforms.reporting.validation_page import page_digest, render_index, render_run_page

    path = out_dir / DIGEST_NAME
    digest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    if not digest or digest.get("run_id") != run_id:  # nothing validated by this run: its page says so
        digest = page_digest(pd.DataFrame(), (), run_id=run_id, as_of=as_of.isoformat(sep=" ", timespec="minutes"), source=source)
        digest["pages"] = 0
        _write_atomic(path, json.dumps(digest, ensure_ascii=False, indent=1))
    files = {"隔离清单": "quarantine.xlsx"}
    for i, docs in enumerate(digest["data_docs"]):
        files[f"Great Expectations Data Docs{i + 1 if i else ''}（需联网）"] = docs
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)  # the page says 北京时间, whatever the worker's zone
    page = out_dir / PAGE_NAME
    _write_atomic(page, render_run_page(digest, totals, generated_at=now, files=files))
    runs = []
    for other in sorted(out_dir.parent.glob(f"*/{DIGEST_NAME}")):
        try:
            d = json.loads(other.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # another run's digest being written, or not ours
        if (other.parent / PAGE_NAME).exists():
            counts = totals if d.get("run_id") == run_id else d.get("totals", {})
            runs.append({**d, "totals": counts, "href": f"{other.parent.name}/{PAGE_NAME}"})
    # The run's totals kept in its digest for the index (the ledger's, over every page and attempt).
    _write_atomic(path, json.dumps({**digest, "totals": {k: int(v) for k, v in totals.items() if isinstance(v, int)}}, ensure_ascii=False, indent=1))
    _write_atomic(out_dir.parent / INDEX_NAME, render_index(runs, generated_at=now))
    return str(page)


def _write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename: a reader never sees half a page."""
    import os

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _with_cleaned_warnings(ledger: Ledger, source: str, records: pd.DataFrame, failures: pd.DataFrame, outcome: pd.DataFrame):
    """Add a TEXT_CLEANED warning per value the ingest sanitiser changed (original as received shown)."""
    from transforms.common.text import shown

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
    from openpyxl.utils import get_column_letter

    from jobs.cohandling.publish_report import print_setup
    from transforms.cohandling.quarantine import HEADINGS, quarantine_list
    from transforms.common.text import safe_cell

    # quarantine_list already passes every cell through safe_cell; the headings too, and once
    # more here so that nothing reaching the files bypasses it.
    table = quarantine_list(ledger.quarantine(run_id))
    table = table.rename(columns=safe_cell).apply(lambda column: column.map(safe_cell))
    csv_path = out_dir / "quarantine.csv"
    xlsx_path = out_dir / "quarantine.xlsx"
    _log_sample(table)
    table.to_csv(csv_path, index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="隔离清单", index=False)
        sheet = writer.sheets["隔离清单"]
        sheet.freeze_panes = "A2"
        widths = {"change_seq": 10, "rowguid": 38, "ycywh": 20, "xzqh": 12, "zrfxm": 14, "zrfzjhm": 22, "zrflxdh": 18, "version": 8,
                  "status": 14, "state": 30, "utility": 12, "rule_id": 20, "rule_name": 40, "field": 10, "field_label": 14, "value": 40,
                  "message_zh": 40, "message_en": 50}
        for index, key in enumerate(HEADINGS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = widths.get(key, 14)
        print_setup(sheet, table, title=f"协办记录隔离清单（运行 {run_id}）")  # A4 landscape, one page wide, heading row on each page
    return str(csv_path), str(xlsx_path)


LOG_SAMPLE = 5  # quarantine lines shown in the task log: enough to see what went wrong without opening the file


def _log_sample(table: pd.DataFrame) -> None:
    """The first quarantine lines in the task log, one line each, the buyer's name masked as well (the list
    already masks ID numbers and phones): the data engineer sees the kind of failure without opening the file."""
    from transforms.common.mask import mask_in_text, mask_names

    if table.empty:
        return
    sample = table.head(LOG_SAMPLE)
    from transforms.cohandling.quarantine import HEADINGS

    names = mask_names(sample[HEADINGS["zrfxm"]].fillna(""))  # masked by the list already; once more, should a list come unmasked
    messages = mask_in_text(sample["问题说明"].fillna("").astype(str))  # a message quoting a value is masked too
    log.info("quarantine list: %d lines; the first %d:", len(table), len(sample))
    for (_, row), name, message in zip(sample.iterrows(), names, messages):
        log.info("  %s 买方 %s 证件 %s 电话 %s — %s %s: %s", row["标识码(ROWGUID)"], name or "-", row["买方证件号码(ZRFZJHM，已脱敏)"] or "-",
                 row["买方联系电话(ZRFLXDH，已脱敏)"] or "-", row["规则编号"], row["字段"], message)

"""The remote-collection report: where every package version stands (tracking) and the report
files by collecting hall and by property county — report.html, report.xlsx, csv/<table>.csv
and report.json — written like the reconciliation reports (jobs/cohandling/publish_report.py: each file
renamed into place, so a reader never sees half of one)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from connectors.ledger import Ledger, utcnow
from transforms.common.localtime import to_local


def remote_status(ledger: Ledger, *, as_of: datetime, limits: dict[str, int] | None = None, bounded: bool = False) -> pd.DataFrame:
    """transforms.remote.package_tracking.track() over every package version in the ledger; `as_of` local. `bounded`:
    the deliveries and status events as the ledger knew them at `as_of` (recorded by then), not everything recorded since."""

    from jobs.common import reference
    from transforms.remote.package_rules import parse_local_time
    from transforms.remote.package_tracking import track
    from transforms.reporting.provenance import known_by

    packages, events = ledger.remote.remote_tracking_input(known_by(as_of) if bounded else None)
    collected = parse_local_time(packages["collected"])
    first = min([d for d in (collected.min(),) if pd.notna(d)], default=pd.Timestamp(as_of)).date() - timedelta(days=7)
    calendar = reference.workday_calendar(first, as_of.date() + timedelta(days=400))
    return track(packages, events, as_of=as_of, calendar=calendar, limits=limits)


def write_remote_report(ledger: Ledger, *, first: date, last: date, as_of: datetime, out_dir: Path, limits: dict[str, int] | None = None,
                        handover_days: int | None = None) -> dict[str, str]:
    """Report on the package versions collected from `first` to `last` (local dates), as of `as_of` (local)."""
    from jobs.cohandling.publish_report import _replacing, write_reports
    from jobs.common import reference
    from transforms.remote.package_rules import parse_local_time
    from transforms.remote.package_tracking import HANDOVER_DAYS, handover_state
    from transforms.reporting.provenance import READS_REMOTE, fingerprint, known_by, provenance_json, provenance_table
    from transforms.reporting.remote_html import render_remote_html
    from transforms.reporting.remote_tables import remote_report_tables, report_json

    everything = remote_status(ledger, as_of=as_of, limits=limits, bounded=True)
    collected = parse_local_time(everything["collected"]).dt.date
    tracked = everything[(collected >= first) & (collected <= last)]
    handover = handover_state(ledger.remote.paper_originals(), as_of=as_of.date(), max_days=handover_days or HANDOVER_DAYS)
    names = {}
    for code, division in reference.divisions().items():
        try:
            names[code] = reference.city_of(code).name + division.name if division.level in ("county", "functional_zone") else division.name
        except (KeyError, LookupError, ValueError):
            names[code] = division.name
    tables = remote_report_tables(tracked, handover, period=(first, last), as_of=as_of, county_names=names, outstanding=everything)
    # What it was computed from: deliveries and status events as recorded by as_of; package versions, verdicts and the
    # paper handover as the ledger holds them now (`reads` says so); the fingerprint tells two reports' tables apart.
    cutoff = known_by(as_of)
    provenance = {"as_of": as_of, "known_by_utc": cutoff, "generated_at": to_local(utcnow()), **ledger.remote.report_provenance(cutoff),
                  "reads": READS_REMOTE, "fingerprint": fingerprint(tables)}
    out_dir = Path(out_dir)
    paths = write_reports(tables, render_remote_html(tables, period=(first, last), as_of=as_of, provenance=provenance), out_dir=out_dir,
                          notes=provenance_table(provenance))
    meta = report_json(tables, period=(first, last), as_of=as_of) | {"provenance": provenance_json(provenance)}
    with _replacing(out_dir / "report.json") as tmp:
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    paths["json"] = str(out_dir / "report.json")
    ledger.audit(run_id=None, actor="remote", action="remote_report_written", object_type="report", object_id=str(out_dir),
                 detail={"first": first.isoformat(), "last": last.isoformat(), "as_of": as_of.isoformat(), "versions": len(tracked)})
    return paths

"""Names shared by the DAGs, the demo and the tests (no I/O here: DAG files import it)."""

from __future__ import annotations

from pathlib import Path

# Airflow Connection ids; the secrets behind them live only in Connections
# (AIRFLOW_CONN_GATEWAY_PLATFORM / AIRFLOW_CONN_GATEWAY_LEDGER in dev and tests). The delivery channels'
# ids (drops, county systems, grid, cross-province) are connectors/delivery.py's.
PLATFORM_CONN_ID = "gateway_platform"
LEDGER_CONN_ID = "gateway_ledger"

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var"  # everything `make run` writes; git ignores it


def run_output_dir(run_id: str) -> Path:
    """Where a run's files go (quarantine list, Data Docs): $GATEWAY_OUTPUT_DIR/<run id>."""
    import os
    import re

    base = Path(os.environ.get("GATEWAY_OUTPUT_DIR", str(VAR / "runs")))
    return base / re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id)


def page_url(path: str | Path) -> str:
    """The address a person opens a written page at: under $GATEWAY_REPORT_URL when the page is in the report folder
    ($GATEWAY_REPORT_DIR) and that folder is served at that URL, likewise $GATEWAY_OUTPUT_URL for the runs' folder
    ($GATEWAY_OUTPUT_DIR); else its file:// URL (a person on the machine, or a share mounted at the same path)."""
    import os
    from urllib.parse import quote

    page = Path(path).resolve()
    for base, url in ((report_dir(), os.environ.get("GATEWAY_REPORT_URL")), (run_output_dir("x").parent, os.environ.get("GATEWAY_OUTPUT_URL"))):
        if url and page.is_relative_to(base.resolve()):
            return url.rstrip("/") + "/" + quote(page.relative_to(base.resolve()).as_posix())
    return page.as_uri()


def registry_inbox() -> Path:
    """Where counties' Annex 2 / Annex 3 forms are dropped: $GATEWAY_REGISTRY_INBOX, default var/inbox/registry."""
    import os

    return Path(os.environ.get("GATEWAY_REGISTRY_INBOX", str(VAR / "inbox" / "registry")))


def report_dir() -> Path:
    """Where reconciliation reports go: $GATEWAY_REPORT_DIR, default var/reports."""
    import os

    return Path(os.environ.get("GATEWAY_REPORT_DIR", str(VAR / "reports")))


def checklist_inbox() -> Path:
    """Where counties' remote-collection checklist forms (材料清单) are dropped: $GATEWAY_CHECKLIST_INBOX, default var/inbox/checklists."""
    import os

    return Path(os.environ.get("GATEWAY_CHECKLIST_INBOX", str(VAR / "inbox" / "checklists")))


def safe_name(text: str) -> str:
    """Text as part of a file name: anything but letters, digits, '.', '_' and '-' becomes '_'; at most 80 characters."""
    import re

    return re.sub(r"[^0-9A-Za-z._-]+", "_", str(text))[:80]


REMOTE_WAIT_S = 600.0  # remote collection's stages run hourly with 15–40 minute timeouts: they wait less


def lock_wait_s(default: float = 1800.0) -> float:
    """How long a stage waits for its ledger lock before it fails naming the holder: $GATEWAY_LOCK_WAIT_S, else `default`
    seconds — chosen per stage below its task's execution timeout, so a long wait ends with the holder named rather than
    with Airflow's timeout (jobs/common/stage_clock.py lists the locks)."""
    import os

    value = os.environ.get("GATEWAY_LOCK_WAIT_S")
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"GATEWAY_LOCK_WAIT_S={value!r}: a number of seconds is expected") from None
    if not 0 <= seconds <= 24 * 3600:
        raise ValueError(f"GATEWAY_LOCK_WAIT_S={value!r}: between 0 and 86400 seconds is expected")
    return seconds

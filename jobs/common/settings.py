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


def signing_key_file() -> tuple[Path, bool]:
    """The gateway's Ed25519 signing key (PEM, PKCS#8; transforms/common/signing.py) and whether it is the configured
    secret: $GATEWAY_SIGNING_KEY_FILE (production: a secret mounted read-only; never in the repo) — else a throwaway
    under var/keys/ that jobs/common/signing_key.py makes on first use (development, `make run`, tests)."""
    import os

    configured = os.environ.get("GATEWAY_SIGNING_KEY_FILE")
    return (Path(configured), True) if configured else (VAR / "keys" / "gateway-signing-ed25519.pem", False)


FIELD_KEYS_CONN_ID = "gateway_field_keys"  # field encryption keys (docs/security.md): JSON in the extra, or in the password


def field_keys_file() -> tuple[Path, bool]:
    """The field encryption keys as a file, when no Connection holds them, and whether it is the configured secret:
    $GATEWAY_FIELD_KEYS_FILE (production: a secret mounted read-only; never in the repo) — else a throwaway under
    var/keys/ that jobs/common/field_keys.py makes on first use (development, `make run`, tests)."""
    import os

    configured = os.environ.get("GATEWAY_FIELD_KEYS_FILE", "").strip()
    return (Path(configured), True) if configured else (VAR / "keys" / "gateway-field-keys.json", False)


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


AUDIT_SEAL_CONN_ID = "gateway_audit_seal"  # the audit seal's signing key: PEM Ed25519 private key in the password field


def audit_seal_key_file() -> Path | None:
    """The audit seal's signing key as a file, when no Connection holds it: $GATEWAY_AUDIT_SEAL_KEY (unset: none)."""
    import os

    value = os.environ.get("GATEWAY_AUDIT_SEAL_KEY", "").strip()
    return Path(value) if value else None


def audit_seal_dir() -> Path:
    """Where audit seals are written — outside the ledger, ideally on other storage: $GATEWAY_AUDIT_SEAL_DIR, default var/seals."""
    import os

    return Path(os.environ.get("GATEWAY_AUDIT_SEAL_DIR", str(VAR / "seals")))


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


DELIVER_PENDING_HOURS = 24.0  # default: a work order still undelivered a day after it was routed (a daily run failed to send it twice) fails deliver


def _number(name: str, default: float, *, unit: str = "hours", top: float = 24 * 3650) -> float:
    import os

    value = os.environ.get(name)
    if not value:
        return default
    try:
        hours = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r}: a number of {unit} is expected") from None
    if not 0 <= hours <= top:
        raise ValueError(f"{name}={value!r}: {unit} between 0 and {top:g} are expected")
    return hours


def deliver_pending_after():
    """How long a work order (or a cancellation) may stay unconfirmed by its receiver before `cohandling_daily.deliver` fails,
    after doing all it can, naming each receiver and its count: $GATEWAY_DELIVER_PENDING_HOURS, default 24 (0: anything
    still pending at the end of the run fails it). Counted from routing (a cancellation: from its planning)."""
    from datetime import timedelta

    return timedelta(hours=_number("GATEWAY_DELIVER_PENDING_HOURS", DELIVER_PENDING_HOURS))


DAILY_DEADLINE_MINUTES = 180.0  # the daily push queued at 06:00 should be done by 09:00, when the counties' halls open


def daily_deadline():
    """The Deadline Alert of cohandling_daily: a run not finished this long after it was queued is reported
    (jobs/common/alerts.deadline_missed): $GATEWAY_DAILY_DEADLINE_MINUTES, default 180; 0 turns the alert off
    (None) — for `dag.test()`, which in Airflow 3.3.2 cannot finish a DAG that has one (at success
    `DagRun.update_state` looks its alerts up by the ids only the DAG processor gives them). Read when the DAG
    file is parsed."""
    from datetime import timedelta

    minutes = _number("GATEWAY_DAILY_DEADLINE_MINUTES", DAILY_DEADLINE_MINUTES, unit="minutes", top=24 * 60)
    return timedelta(minutes=minutes) if minutes else None


# Retention of personal data after its unit is final (issue 15 item 2, PIPL §19/§47; docs/security.md "Retention"): days,
# per kind, each overridable by $GATEWAY_RETENTION_DAYS_<KIND> (e.g. GATEWAY_RETENTION_DAYS_RECORD=365).
RETENTION_DAYS: dict[str, float] = {
    "record": 180,  # a co-handling record, every work order final (done, rejected, cancelled, withdrawn): two quarters of
                    # reconciliation with the institutions and of complaints about a transfer, then only the masked form
    "record_unrouted": 90,  # a record quarantined (or withdrawn) and never routed: a quarter for the platform's correction
    "package": 180,  # a remote-collection package closed (registered, certificate issued, refused) or withdrawn: as records
    "package_returned": 90,  # a package returned to the collecting hall and never resubmitted: as records never routed
    "result_exception": 180,  # an institution's result value the gateway could not match: as the records it was about
    "dead_letter": 90,  # a dead letter's payload, once resolved: its reason, origin, size and SHA-256 stay
}
PURGE_BATCH = 1000  # units (records, packages, exceptions, dead letters) examined per transaction, those due purged


def retention_days() -> dict[str, float]:
    """Days of retention per kind (RETENTION_DAYS), each from $GATEWAY_RETENTION_DAYS_<KIND> when set (0 to 36500)."""
    return {kind: _number(f"GATEWAY_RETENTION_DAYS_{kind.upper()}", days, unit="days", top=36500) for kind, days in RETENTION_DAYS.items()}


def purge_batch() -> int:
    """Units examined per transaction (those due purged): $GATEWAY_PURGE_BATCH, default 1000 (1 to 100000)."""
    size = int(_number("GATEWAY_PURGE_BATCH", PURGE_BATCH, unit="units", top=100_000))
    if size < 1:
        raise ValueError("GATEWAY_PURGE_BATCH: at least 1 unit per batch is expected")
    return size

"""Personal data at rest (issue 15 item 1, docs/security.md): after records went through the whole co-handling flow —
extracted (with hostile values: a cleaned ID, values that look like tokens, a row refused to the dead letters),
validated (quarantine failures), routed, delivered over HTTP to the receiver simulators, results collected (with an
exceptions-list row), the SMS queued — no ID number or phone the platform sent is anywhere in the ledger in clear: every
text and byte column of every table is searched. The receivers still got the clear values, and every reader that
shows them (quarantine list, reconciliation input, trace, SMS queue) reads them back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.exchange_db import RecordSource
from connectors.http_receiver import HttpReceiver
from connectors.ledger import Ledger
from jobs.cohandling.collect_results import collect_results
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.extract_records import extract_changes
from jobs.cohandling.route_records import route_run
from jobs.cohandling.validate_records import validate_run
from jobs.registry.form_intake import current_registry, load_form
from simulators.platform import generate
from simulators.platform_db import PlatformDB
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration.pipeline import AS_OF, SAMPLES
from transforms.common.fieldcrypt import kind_of

KEY, SECRET = "gw-at-rest", "at-rest-secret"
PERSONAL_FIELDS = ("ZRFZJHM", "ZCFZJHM", "ZRFLXDH", "ZCFLXDH")
LOOKS_LIKE_A_TOKEN = "sm4g1:dev1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def _needles(frame) -> set[str]:
    """Every ID number and phone the platform sent (each owner's own, however the list was separated)."""
    out = set()
    for field in PERSONAL_FIELDS:
        for value in frame[field].dropna():
            for part in re.split(r"[,，、;；/\s]+", str(value)):
                part = part.strip("\u200b")
                if sum(c.isdigit() for c in part) >= 7:
                    out.add(part)
    return out


def _clear_hits(engine: sa.Engine, needles: set[str]) -> list[str]:
    """table.column: needle — wherever a needle occurs in a text or byte column of any table."""
    hits = []
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)
                       if isinstance(c["type"], sa.String | sa.Text | sa.LargeBinary | sa.JSON) or "CHAR" in str(c["type"]).upper()
                       or "BLOB" in str(c["type"]).upper() or "BYTEA" in str(c["type"]).upper()]
            if not columns:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in conn.exec_driver_sql(f'SELECT {quoted} FROM "{table}"'):
                for name, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | memoryview) else str(value)
                    hits.extend(f"{table}.{name}: {n[:4]}…" for n in needles if n in text)
    return hits


@pytest.fixture
def receivers(tmp_path):
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as process:
        yield process


def test_no_clear_id_or_phone_in_any_ledger_column_after_a_run_and_the_receivers_still_get_them(db_urls, receivers, tmp_path):
    platform_url, ledger_url = db_urls
    frame = generate(160, seed=93, start="2026-10-01", end="2026-11-19", as_of=AS_OF)
    frame.loc[0, "ZRFZJHM"] = LOOKS_LIKE_A_TOKEN  # a value from outside that looks like a token is still a value
    frame.loc[1, "ZRFLXDH"] = "purged:" + str(frame.loc[1, "ZRFLXDH"])
    frame.loc[2, "ZRFZJHM"] = str(frame.loc[2, "ZRFZJHM"]) + "\u200b"  # cleaned (a zero-width space): its original bytes are kept
    refusing = platform_url.startswith("sqlite")  # PostgreSQL's exchange table declares VARCHAR(500): it cannot hold a longer value
    if refusing:
        frame.loc[3, "ZCFZJHM"] = "、".join([str(frame.loc[3, "ZRFZJHM"])] * 30)  # too long: refused, the row goes to the dead letters
    platform = PlatformDB(platform_url)
    platform.create()
    platform.write(frame)
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for form in SAMPLES:
        load_form(ledger, form, now=AS_OF - timedelta(days=300))
    extract_changes(RecordSource(platform_url), ledger, run_id="r1")
    validate_run(ledger, run_id="r1", as_of=AS_OF, registry=current_registry(ledger, AS_OF), out_dir=tmp_path / "out", data_docs=False)
    route_run(ledger, run_id="r1", as_of=AS_OF)
    receivers.results_mix(mix={"done": 0.8, "other": 0.2}, delay_days=[0, 1], acknowledge=False)

    sent: list[dict] = []

    class Recording(HttpReceiver):  # the items as they leave for the wire
        def deliver(self, items, **kw):
            sent.extend(items)
            return super().deliver(items, **kw)

    def receiver_for(channel, destination):
        url = receivers.grid_url() if channel == "grid" else receivers.county_url(destination.removeprefix("county_system_"))
        return Recording(url, KEY, SECRET, timeout_s=2, max_attempts=2, backoff_s=0.01)

    delivered = deliver_run(ledger, run_id="r1", day=AS_OF, receiver_for=receiver_for)
    assert delivered.http_delivered > 0
    receivers.inject("grid", {"rowguid": "nobody", "utility": "electricity", "version": 1, "result": "done",
                              "code": "0000", "reason": str(frame.loc[5, "ZRFZJHM"]), "handled_at": "2026-11-21T09:00:00+08:00"})
    later = (datetime.utcnow() + timedelta(hours=8, days=5)).replace(microsecond=0)  # results are planned after the real delivery time
    receivers.clock(later)
    collected = collect_results(ledger, as_of=later, feeds={"feed:grid": HttpReceiver(receivers.grid_url(), KEY, SECRET)})
    assert collected.errors == [] and collected.results > 0 and collected.exceptions == 1 and collected.notifications > 0

    needles = _needles(frame)
    assert len(needles) > 300
    assert _clear_hits(ledger.engine, needles) == []
    with ledger.engine.connect() as conn:
        names = [v for row in conn.exec_driver_sql("SELECT zrfxm, zcfxm FROM received_record") for v in row]
    assert names and {kind_of(v) for v in names} <= {"token", "null", "empty"}

    # The receivers got the clear values (only delivery decrypts, for sending).
    clear = frame.set_index("ROWGUID")
    wire = str(sent)
    clear_id = lambda item: str(clear.loc[item["rowguid"], "ZRFZJHM"]).rstrip("\u200b")  # noqa: E731 - the cleaned one goes out cleaned
    assert sent and [item["rowguid"] for item in sent if clear_id(item) not in str(item)] == []
    assert "sm4g1:" not in wire.replace(LOOKS_LIKE_A_TOKEN, "")
    # Every reader that shows a value reads it back (pages and reports mask it at once).
    quarantined = ledger.quarantine()
    assert LOOKS_LIKE_A_TOKEN in set(quarantined["zrfzjhm"]) | set(ledger.cohandling.reconciliation_input()["buyer_id"])
    assert {kind_of(m["phone"]) for m in ledger.cohandling.sms()} == {"clear"}
    with ledger.engine.connect() as conn:
        source, seq = conn.exec_driver_sql("SELECT source, change_seq FROM received_original WHERE field = 'ZRFZJHM'").one()
    assert [o[3] for o in ledger.originals(source, [seq])] == [(str(frame.loc[2, "ZRFZJHM"])).encode()]
    dead = ledger.dead_letters("exchange_row")
    assert len(dead) == int(refusing)
    if refusing:
        assert str(frame.loc[3, "ZRFZJHM"]).encode() in ledger.dead_letter_payload(int(dead["dl_id"].iloc[0]))
        assert str(frame.loc[3, "ZRFZJHM"]) not in str(dead.to_dict("records"))

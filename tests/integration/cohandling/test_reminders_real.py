"""Weekly overdue reminders against the real counterparts: the institutions' drops on a real OpenSSH sshd (each
chrooted to its own) and the county systems and the grid in the simulator process, over the signed HTTP protocol
(`POST /v1/reminders`). Once per ISO week, not twice: a second run of the week publishes and sends nothing; the next
week a new reminder. What the receivers noted is exactly the overdue work orders they hold, each once per week."""

from __future__ import annotations

import json
from datetime import timedelta

from connectors.http_receiver import HttpReceiver
from connectors.ledger import utcnow
from jobs.cohandling.collect_results import reconcile_now
from jobs.cohandling.deliver_orders import deliver_run
from jobs.cohandling.remind_overdue import remind_run
from simulators.receivers.receiver_process import ReceiverProcess
from tests.integration import openssh
from tests.integration.pipeline import AS_OF, routed_ledger
from transforms.cohandling.reminders import folder_name, iso_week

KEY, SECRET = "gw-test", "s3cret-for-tests-only"


def test_reminders_reach_real_drops_and_the_simulated_county_systems_once_per_week(sshd, tmp_path):
    ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=64)
    drops = sorted({w["destination"] for w in ledger.cohandling.work_orders() if w["channel"] == "account" and w["status"] == "ready"})
    for drop in drops:
        sshd.add_drop(drop)
    sftp = openssh.drops_for(sshd)
    with ReceiverProcess(tmp_path / "receivers.db", {KEY: SECRET}) as process:
        def receiver_for(channel: str, destination: str) -> HttpReceiver:
            url = process.grid_url() if channel == "grid" else process.county_url(destination.removeprefix("county_system_"))
            return HttpReceiver(url, KEY, SECRET, timeout_s=2, max_attempts=3, backoff_s=0.01, max_backoff_s=0.2)

        deliver_run(ledger, run_id="d1", day=AS_OF, drops=sftp, receiver_for=receiver_for)
        monday = (utcnow() + timedelta(hours=8, days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
        monday -= timedelta(days=monday.weekday())
        week = iso_week(monday.date())
        statuses = reconcile_now(ledger, as_of=monday)
        od = statuses[statuses["status"] == "overdue"]
        overdue = {(c, d, f"{r}:{u}:{v}") for c, d, r, u, v in zip(od["channel"], od["destination"], od["rowguid"], od["utility"], od["version"])}

        first = remind_run(ledger, run_id="w1", as_of=monday, county_dir=tmp_path / "reports", drops=sftp, receiver_for=receiver_for, fail_if_unsent=True)
        assert first.pending == {} and first.failed == {} and first.sent["account"] == len({d for c, d, _ in overdue if c == "account"})
        for drop in {d for c, d, _ in overdue if c == "account"}:
            folder = sshd.root / drop / "outbox" / folder_name(week)
            manifest = json.loads((folder / f"{folder_name(week)}.manifest.json").read_text(encoding="utf-8"))
            assert manifest["kind"] == "reminder" and manifest["records"] == len({k for c, d, k in overdue if d == drop})
        noted = process.reminded()
        assert sorted(n["idempotency_key"].rsplit(":remind:", 1)[0] for n in noted) == sorted(k for c, _, k in overdue if c != "account")
        by_receiver = {n["receiver"] for n in noted}
        assert "grid" in by_receiver and any(r.startswith("county/") for r in by_receiver)

        again = remind_run(ledger, run_id="w1-again", as_of=monday + timedelta(days=2), county_dir=tmp_path / "reports", drops=sftp,
                           receiver_for=receiver_for, fail_if_unsent=True)
        assert (again.planned, again.sent) == (0, {})
        assert [n["times_submitted"] for n in process.reminded()] == [1] * len(noted)
        for drop in drops:
            assert [p.name for p in (sshd.root / drop / "outbox").iterdir()].count(folder_name(week)) <= 1

        later = remind_run(ledger, run_id="w2", as_of=monday + timedelta(days=7), county_dir=tmp_path / "reports", drops=sftp,
                           receiver_for=receiver_for, fail_if_unsent=True)
        assert later.sent["account"] == first.sent["account"] and len(process.reminded()) == 2 * len(noted)
        assert all((sshd.root / d / "outbox" / folder_name(later.week)).is_dir() for c, d, _ in overdue if c == "account")
    ledger.dispose()

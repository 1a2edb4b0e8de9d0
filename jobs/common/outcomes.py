"""One readable line per outcome for the task logs (issue 17, item 5): what a job did, in counts, from
the dict its task returns (the XCom stays the dict; only the log line is written from it).

The dicts hold counts, run ids, batch names, destinations and file paths: no ID number, phone or
name reaches these lines. Problems (errors, alerts) are listed, at most `SHOWN` of them, with how
many more the task's result holds.
"""

from __future__ import annotations

SHOWN = 3


def _counts(pairs, *, skip_zero: bool = True) -> str:
    return ", ".join(f"{name} {n}" for name, n in pairs if n or not skip_zero) or "none"


def _problems(label: str, items) -> str:
    items = list(items or ())
    if not items:
        return ""
    more = f" (+{len(items) - SHOWN} more in the task's result)" if len(items) > SHOWN else ""
    return f"; {label} {len(items)}: " + " | ".join(str(x) for x in items[:SHOWN]) + more


def extract_line(d: dict) -> str:
    return (f"extract run {d['run_id']}: read {d['rows_read']} changes after seq {d['after_seq']} written before {str(d['before_time'])[:19].replace('T', ' ')} UTC "
            f"→ new {d['rows_new']}, already held {d['rows_known']}, refused (dead-lettered) {d.get('rows_dead_lettered', 0)}; "
            f"the run holds {d['run_changes']}")


def validate_line(d: dict) -> str:
    carried = f"; carried over from earlier runs {d['carried_over']}" if d.get("carried_over") else ""
    return (f"validate run {d['run_id']}: {d['records_in']} records in → passed {d['passed']}, partial {d['partial']}, "
            f"quarantined {d['quarantined']}, withdrawn {d['withdrawn']}; with warnings {d['warnings']}{carried}"
            + (f"; quarantine list {d['quarantine_xlsx']}" if d.get("quarantined") and d.get("quarantine_xlsx") else ""))


def route_line(d: dict) -> str:
    extra = _counts([("carried over", d.get("carried_over", 0)), ("rechecked in the registry", d.get("rechecked", 0))])
    return (f"route run {d['run_id']}: {d['records']} records → {d['work_orders_written']} work orders (new {d['new']}, "
            f"corrections {d['corrections']}, released {d['released']}); {_counts(sorted(d.get('by_status', {}).items()))}; "
            f"by channel {_counts(sorted((k if k not in ('', '-') else 'unroutable', v) for k, v in d.get('by_channel', {}).items()))}"
            + ("" if extra == "none" else f"; {extra}"))


def deliver_line(d: dict) -> str:
    batches = _counts([("delivered", d["account_delivered"]), ("pending", d["account_pending"]), ("failed", d["account_failed"])])
    http = _counts([("delivered", d["http_delivered"]), ("rejected", d["http_rejected"]), ("pending", d["http_pending"])])
    cancels = _counts([("sent", d["cancels_sent"]), ("refused", d["cancels_refused"]), ("pending", d["cancels_pending"])])
    return (f"deliver run {d['run_id']}: planned {d['planned']} work orders in {d['account_batches']} new account batches; "
            f"account batches {batches}; HTTP work orders {http}; cancellations planned {d['cancels_planned']} "
            f"({d['cancel_batches']} batches): {cancels}" + _problems("problems", d.get("errors")))


def collect_line(d: dict) -> str:
    return (f"collect results: files {d['files']} (refused whole {d['files_refused']}), results {d['results']}, "
            f"exceptions {d['exceptions']}, SMS queued {d['notifications']}, dead letters {d['dead_letters']}"
            + _problems("alerts", d.get("alerts")) + _problems("problems", d.get("errors")))


def remote_extract_line(run_id: str, d: dict) -> str:
    return (f"extract packages run {run_id}: read {d['read']} package versions after seq {d['after_seq']} → new {d['new']}, "
            f"already held {d['known']}, refused (dead-lettered) {d['dead_lettered']}")


def remote_validate_line(run_id: str, d: dict) -> str:
    carried = f"; carried over from earlier runs {d['carried_over']}" if d.get("carried_over") else ""
    return (f"validate packages run {run_id}: {d['packages_in']} package versions in → passed {d['passed']}, "
            f"returned to the halls {d['returned']}, withdrawn {d['withdrawn']}; with warnings {d['warnings']}{carried}")


def remote_deliver_line(run_id: str, d: dict) -> str:
    outcome = _counts([("delivered", d.get("delivered", 0)), ("rejected", d.get("rejected", 0)), ("failed", d.get("failed", 0)),
                       ("pending", d.get("pending", 0))])
    withdrawals = _counts([("done", d.get("withdrawn", 0)), ("refused (already recorded)", d.get("withdrawal_refused", 0)),
                           ("pending", d.get("withdrawal_pending", 0))])
    return (f"deliver packages run {run_id}: planned {d.get('planned', 0)} (superseded {d.get('superseded', 0)}), sent {d.get('sent', 0)} "
            f"→ {outcome}; files uploaded {d.get('files_uploaded', 0)}; withdrawals {withdrawals}"
            + (f"; problems {len(d['errors'])} (each on a line of its own below)" if d.get("errors") else ""))


def remote_events_line(run_id: str, d: dict) -> str:
    return (f"package statuses run {run_id}: {d['feeds']} feeds read, {d['events']} events → counted {d['accepted']}, "
            f"not counted {d['issues']}, dead letters {d['dead_letters']}" + _problems("problems", d.get("errors")))

"""What `make test-deploy` (tools/deploy_check.py) compares the gateway's ledger against: the truth the
counterparts hold, read on their side — the drop host's outboxes (as the institutions read them) and the
receiver simulators' own state — and the ledger's lifetime balance. The same comparisons `make run`'s
summary makes (tools/demo.py), with "exactly once" counted rather than assumed.

Each check returns a dict with `ok` and what it counted; problems name a few examples, identifiers masked.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path


def _mask(key: str) -> str:
    """A work-order key (ROWGUID:utility:version) with the ROWGUID shortened: enough to find it, nothing personal anyway."""
    rowguid, _, rest = str(key).partition(":")
    return f"{rowguid[:8]}…:{rest}" if rest else f"{rowguid[:8]}…"


def balance(ledger) -> dict:
    """The lifetime balance of the whole ledger (jobs/common/accounting.py; the `balance` task's and `tools.cli balance`'s)."""
    from jobs.common.accounting import lifetime_balance

    report = lifetime_balance(ledger)
    return {"ok": bool(report.ok), "text": report.text()}


def work_orders_at_receivers(ledger, drops_root: Path, receivers) -> dict:
    """Each work-order version delivered is held exactly once: in one batch of one drop, or accepted once by one
    receiver, and what the receivers hold in force equals what the ledger says they hold."""
    from simulators.institutions import held_in_force, read_batch

    in_batches: Counter = Counter()
    held: set[tuple] = set()
    for outbox in sorted(drops_root.glob("*/outbox")):
        drop = outbox.parent.name
        for folder in sorted(p for p in outbox.iterdir() if p.is_dir()):
            kind, rows = read_batch(folder)
            if kind == "work_orders":  # not cancellation batches, nor weekly reminders (CB<week>: work orders sent before)
                in_batches.update(str(r["GDBH"]) for r in rows)
        held |= {(drop, *k.rsplit(":", 2)) for k in held_in_force(outbox)}
    accepted = receivers.accepted()
    at_receivers = Counter(f"{i['rowguid']}:{i['utility']}:{i['version']}" for i in accepted)
    for item in receivers.in_force():
        receiver = "grid" if item["receiver"] == "grid" else "county_system_" + item["receiver"].removeprefix("county/")
        held.add((receiver, item["rowguid"], item["utility"], str(item["version"])))
    held = {(d, g, u, int(v)) for d, g, u, v in held}
    in_force = ledger.cohandling.in_force_at_receivers()
    twice = [k for k, n in (in_batches + at_receivers).items() if n > 1]
    per_order = Counter((g, u) for _, g, u, _ in held)
    two_places = [f"{g}:{u}" for (g, u), n in per_order.items() if n > 1]
    delivered = {(c, s): n for (c, s), n in ledger.cohandling.delivery_counts().items() if s == "delivered"}
    result = {
        "ok": not twice and not two_places and held == in_force,
        "versions_in_drops": sum(in_batches.values()), "versions_at_receivers": sum(at_receivers.values()),
        "ledger_delivered": sum(delivered.values()), "held_in_force": len(held), "ledger_in_force": len(in_force),
        "held_twice": [_mask(k) for k in twice[:5]], "held_in_two_places": [_mask(k) for k in two_places[:5]],
        "resubmitted_answered_duplicate": sum(1 for i in accepted if i.get("times_submitted", 1) > 1),
    }
    if held != in_force:
        result["held_not_in_ledger"] = [_mask(":".join(map(str, k[1:]))) for k in sorted(held - in_force)[:5]]
        result["ledger_not_held"] = [_mask(":".join(map(str, k[1:]))) for k in sorted(in_force - held)[:5]]
    return result


def packages_at_receivers(ledger, receivers) -> dict:
    """Each package version delivered is held once by its property county (or the cross-province channel), and
    what they hold equals what the ledger says was delivered."""
    truth = receivers.packages_truth()
    held = Counter(a["idempotency_key"] for a in truth["accepted"])
    delivered = {d["idempotency_key"] for d in ledger.remote.remote_deliveries() if d["status"] == "delivered"}
    counts = ledger.remote.remote_counts()
    balanced = counts["packages"] == counts["passed"] + counts["returned"] + counts["withdrawn"]
    twice = [k for k, n in held.items() if n > 1]
    return {"ok": balanced and not twice and set(held) == delivered, "held": len(held), "ledger_delivered": len(delivered),
            "held_twice": [_mask(k) for k in twice[:5]], "package_versions": counts["packages"], "balanced": balanced}


def extract_complete(ledger, platform_changes: int) -> dict:
    """Every platform change is in the ledger exactly once (received = the platform's rows)."""
    changes = ledger.counts()["changes"]
    return {"ok": changes == platform_changes, "ledger_changes": changes, "platform_changes": platform_changes}


class Watch:
    """Samples, while runs go on, what must never go backwards or wrongly change: the extract watermarks
    (`extract_watermark`: last sequence and start of the re-read window, per source) and the work orders'
    statuses (a version once held, ready or delivered that becomes quarantined at the same version was
    quarantined wrongly: no registry form changes during the test)."""

    def __init__(self, ledger, sources=("platform", "remote")) -> None:
        self.ledger, self.sources = ledger, sources
        self.marks: dict[str, list[tuple]] = {s: [] for s in sources}
        self.seen: dict[tuple[str, str, int], str] = {}
        self.wrongly_quarantined: dict[tuple[str, str, int], dict] = {}
        self.samples = 0

    def sample(self) -> None:
        for source in self.sources:
            mark = self.ledger.watermark(source)
            self.marks[source].append((mark.last_seq, mark.reread_from))
        for w in self.ledger.cohandling.work_orders():
            key = (w["rowguid"], w["utility"], int(w["version"]))
            before = self.seen.get(key)
            if w["status"] == "quarantined" and before is not None and before != "quarantined":
                self.wrongly_quarantined.setdefault(key, {"was": before, "reason_code": w["reason_code"], "run_id": w["run_id"]})
            self.seen[key] = w["status"]
        self.samples += 1

    def result(self) -> dict:
        backwards = {}
        for source, marks in self.marks.items():
            for (seq0, from0), (seq1, from1) in zip(marks, marks[1:]):
                if seq1 < seq0 or (from0 is not None and (from1 is None or from1 < from0)):
                    backwards.setdefault(source, []).append({"from": [seq0, str(from0)], "to": [seq1, str(from1)]})
        wrong = [{"work_order": _mask(f"{g}:{u}:{v}"), **d} for (g, u, v), d in list(self.wrongly_quarantined.items())[:5]]
        last = {s: [m[-1][0], str(m[-1][1])] for s, m in self.marks.items() if m}
        return {"ok": not backwards and not self.wrongly_quarantined, "samples": self.samples, "watermarks_last": last,
                "watermark_went_back": {s: b[:3] for s, b in backwards.items()},
                "wrongly_quarantined": len(self.wrongly_quarantined), "examples": wrong}


def dump(path: Path, summary: dict) -> None:
    path.write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str), encoding="utf-8")

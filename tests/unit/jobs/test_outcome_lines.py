"""Task logs carry one readable line per outcome (issue 17, item 5), written from the dict the task
returns (jobs/common/outcomes.py) — never the dict itself, and never an ID number or a phone."""

from __future__ import annotations

import ast
import logging
import re
from datetime import datetime
from pathlib import Path

from jobs.cohandling.collect_results import CollectResult
from jobs.cohandling.deliver_orders import DeliverResult
from jobs.cohandling.extract_records import ExtractResult
from jobs.cohandling.route_records import RouteResult
from jobs.cohandling.validate_records import ValidationResult
from jobs.common import outcomes

ROOT = Path(__file__).resolve().parents[3]
RAW = re.compile(r"\{'|\[\]|\{\}")  # a dict, an empty list or dict printed as Python
PERSONAL = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")  # an 18-digit ID number, an 11-digit mobile


def test_route_reads_as_a_sentence():
    line = outcomes.route_line(RouteResult("scheduled__2026-11-20", 3000, 7058, 7000, 58, 12, {"pending": 6900, "held": 100, "quarantined": 58},
                                           {"account": 4000, "grid": 3000, "-": 58}).as_dict())
    assert line == ("route run scheduled__2026-11-20: 3000 records → 7058 work orders (new 7000, corrections 58, released 12); "
                    "held 100, pending 6900, quarantined 58; by channel account 4000, grid 3000, unroutable 58")


def test_every_job_result_has_its_line():
    lines = [
        outcomes.extract_line(ExtractResult("r1", 4, 1200, datetime(2026, 11, 20, 1, 0), 3000, 2990, 10, 2990, 2).as_dict()),
        outcomes.validate_line(ValidationResult("r1", 3000, 2800, 100, 58, 42, 12, "/x/q.csv", "/x/q.xlsx", "/x/docs", 5).as_dict()),
        outcomes.deliver_line(DeliverResult("r1", planned=70, account_batches=3, account_delivered=2, account_pending=1, http_delivered=40,
                                            errors=["JY-1 → drop_a: OSError: gone", "b", "c", "d"]).as_dict()),
        outcomes.collect_line(CollectResult(files=3, results=120, exceptions=2, alerts=["feed x: 游标 '9' 之后的页面已 3 次无法读取"]).as_dict()),
        outcomes.remote_extract_line("r1", {"after_seq": 0, "before_time": "2026-11-20T01:00:00", "read": 600, "new": 600, "known": 0, "dead_lettered": 0}),
        outcomes.remote_validate_line("r1", {"as_of": None, "packages_in": 600, "passed": 540, "returned": 55, "withdrawn": 5, "warnings": 3,
                                             "carried_over": 0}),
        outcomes.remote_deliver_line("r1", {"planned": 540, "superseded": 0, "withdrawals": 0, "sent": 540, "delivered": 530, "rejected": 10,
                                            "failed": 0, "pending": 0, "files_uploaded": 1600, "withdrawn": 3, "withdrawal_refused": 3,
                                            "withdrawal_pending": 0, "errors": ["county_system_370102: timeout"]}),
        outcomes.remote_events_line("r1", {"feeds": 2, "events": 900, "accepted": 898, "issues": 2, "dead_letters": 0, "isolated": [], "alerts": [],
                                           "errors": []}),
    ]
    for line in lines:
        assert "\n" not in line and not RAW.search(line), line
    assert lines[0] == ("extract run r1: read 3000 changes after seq 1200 written before 2026-11-20 01:00:00 UTC → new 2990, already held 10, "
                        "refused (dead-lettered) 2; the run holds 2990")
    assert "3000 records in → passed 2800, partial 100, quarantined 58, withdrawn 42" in lines[1] and "carried over from earlier runs 5" in lines[1]
    assert "account batches delivered 2, pending 1" in lines[2] and "problems 4: JY-1 → drop_a: OSError: gone | b | c (+1 more" in lines[2]
    assert "alerts 1: feed x" in lines[3] and "problems" not in lines[3]
    assert "sent 540 → delivered 530, rejected 10" in lines[6] and "problems 1 (each on a line of its own below)" in lines[6]
    assert lines[7] == "package statuses run r1: 2 feeds read, 900 events → counted 898, not counted 2, dead letters 0"


def test_no_job_logs_a_dict():
    """A log call in jobs/ never passes `x.as_dict()`, a dict display or a dict comprehension."""
    found = []
    for path in sorted((ROOT / "jobs").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("debug", "info", "warning", "error") \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "log":
                for arg in node.args[1:]:
                    if isinstance(arg, ast.Dict | ast.DictComp) or (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
                                                                     and arg.func.attr == "as_dict"):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_a_daily_run_logs_one_line_per_stage_without_personal_data(tmp_path, caplog):
    from connectors.testing import FakeReceiver, LocalDrops
    from jobs.cohandling.deliver_orders import deliver_run
    from tests.integration.pipeline import AS_OF, routed_ledger

    with caplog.at_level(logging.INFO, logger="jobs"):
        ledger = routed_ledger(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, rows=120, seed=61)
        try:
            made: dict = {}
            deliver_run(ledger, run_id="r1", day=AS_OF, drops=LocalDrops(tmp_path / "drops"),
                        receiver_for=lambda channel, destination: made.setdefault(destination, FakeReceiver(destination)))
        finally:
            ledger.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("jobs.cohandling")]
    for stage in ("extract run r1: read 120 changes", "validate run r1: 120 records in", "route run r1: ", "deliver run r1: planned "):
        assert sum(line.startswith(stage) for line in lines) == 1, (stage, lines)
    outcome = [line for line in lines if line.split(" run ")[0] in ("extract", "validate", "route", "deliver")]
    assert all(not RAW.search(line) and not PERSONAL.search(line) for line in outcome), outcome

"""`make run`'s progress (tools/progress.py, issue 17 item 5): each step's start and elapsed seconds,
the tasks of the DAG run it follows as they start and end, and on a terminal a line while it runs."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime

import pytest

from tools.progress import Steps, task_events


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_step_prints_its_start_and_elapsed_seconds_and_a_summary():
    out, clock = io.StringIO(), Clock()
    steps = Steps(out=out, clock=clock, wall=lambda: datetime(2026, 11, 20, 9, 30, 5), tty=False)
    with steps.step("building the platform"):
        clock.now += 12.34
    steps.say("a note")
    with steps.step("run 1 of cohandling_daily"):
        clock.now += 40
    assert out.getvalue().splitlines() == [
        "[make run] 09:30:05 step 1: building the platform",
        "[make run]   step 1 done in 12.3s (total 12s)",
        "[make run] a note",
        "[make run] 09:30:05 step 2: run 1 of cohandling_daily",
        "[make run]   step 2 done in 40.0s (total 52s)",
    ]
    assert steps.summary().splitlines()[1:] == ["     40.0  step 2: run 1 of cohandling_daily", "     12.3  step 1: building the platform"]


def test_a_failed_step_says_so_and_the_error_goes_on():
    out, clock = io.StringIO(), Clock()
    steps = Steps(out=out, clock=clock, tty=False)
    with pytest.raises(SystemExit, match="the DAG failed"):
        with steps.step("run 2"):
            clock.now += 3
            raise SystemExit("the DAG failed")
    assert out.getvalue().splitlines()[-1] == "[make run]   step 1 failed after 3.0s" and steps.timings == []


def test_the_tasks_of_a_followed_dag_run_are_shown_as_they_start_and_end(tmp_path):
    log = tmp_path / "run-1.log"
    out = io.StringIO()
    steps = Steps(out=out, poll=0.01, tty=False)
    with steps.step("run 1", follow=log):
        with open(log, "w", encoding="utf-8") as fh:
            fh.write("[2026-11-20 09:30:05] INFO - [DAG TEST] starting task_id=extract map_index=-1\nnoise\n")
            fh.flush()
            time.sleep(0.1)
            fh.write("INFO - [DAG TEST] end task task_id=extract map_index=-1\nINFO - [DAG TEST] starting task_id=validate map_index=-1\n")
            fh.write("INFO - [DAG TEST] end task task_id=val")  # a line half written when the step ends ...
            fh.flush()
            time.sleep(0.1)
            fh.write("idate map_index=-1\n")  # ... is read whole
    lines = out.getvalue().splitlines()
    assert lines[1:4] == ["[make run]     · extract started", lines[2], "[make run]     · validate started"]
    assert re.fullmatch(r"\[make run\]     · extract done in 0\.\ds", lines[2]) and re.fullmatch(r"\[make run\]     · validate done in \d\.\ds", lines[4])
    assert lines[5].startswith("[make run]   step 1 done in ")


def test_on_a_terminal_a_long_step_says_it_is_still_running():
    out = io.StringIO()
    steps = Steps(out=out, tick=0.05, poll=0.01, tty=True)
    with steps.step("run 1"):
        time.sleep(0.3)
    ticks = [line for line in out.getvalue().splitlines() if "…" in line]
    assert len(ticks) >= 2 and all(re.fullmatch(r"\[make run\]     … \d+s", t) for t in ticks)


def test_task_events_reads_the_dag_test_lines():
    lines = ["x [DAG TEST] starting task_id=route map_index=-1", "[DAG TEST] running task <TaskInstance: route>", "[DAG TEST] end task task_id=route map_index=-1"]
    assert list(task_events(lines)) == [("start", "route"), ("end", "route")]

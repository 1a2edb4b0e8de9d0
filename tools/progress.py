"""Progress for `make run` (tools/demo.py): each step announced with its start time and ended with
its elapsed seconds; while a step runs, the tasks of the DAG run it follows (the `[DAG TEST]` lines
`dag.test()` writes to the run's log) are shown as they start and end, with their own timings; on a
terminal, a line at least every `tick` seconds says the step is still running and which task.

Plain lines, one event each, so the output reads the same in a terminal, a CI log or a file.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

TASK_EVENT = re.compile(r"\[DAG TEST\] (starting|end task) task_id=(\S+)")


def task_events(lines) -> Iterator[tuple[str, str]]:
    """("start" | "end", task_id) for every `[DAG TEST]` task line of a `dag.test()` log."""
    for line in lines:
        found = TASK_EVENT.search(line)
        if found:
            yield ("start" if found.group(1) == "starting" else "end"), found.group(2)


class Steps:
    def __init__(self, prefix: str = "[make run]", out: TextIO | None = None, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = datetime.now, tick: float = 10.0, poll: float = 0.5, tty: bool | None = None) -> None:
        self.prefix, self.out, self.clock, self.wall, self.tick, self.poll = prefix, out or sys.stdout, clock, wall, tick, poll
        self.tty = self.out.isatty() if tty is None else tty
        self.started = clock()
        self.timings: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._lock:
            print(f"{self.prefix} {text}", file=self.out, flush=True)

    @contextmanager
    def step(self, text: str, *, follow: Path | None = None) -> Iterator[None]:
        """Announce a step, time it; `follow`: the log of a `dag.test()` run whose tasks are shown as they go."""
        number = len(self.timings) + 1
        began = self.clock()
        self.say(f"{self.wall():%H:%M:%S} step {number}: {text}")
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(began, follow, stop), daemon=True) if follow is not None or self.tty else None
        if watcher is not None:
            watcher.start()
        try:
            yield
        except BaseException:
            self._end(watcher, stop)
            self.say(f"  step {number} failed after {self.clock() - began:.1f}s")
            raise
        self._end(watcher, stop)
        took = self.clock() - began
        self.timings.append((text, took))
        self.say(f"  step {number} done in {took:.1f}s (total {self.clock() - self.started:.0f}s)")

    def summary(self) -> str:
        """The steps' timings, slowest first."""
        rows = sorted(enumerate(self.timings, 1), key=lambda x: -x[1][1])
        return "\n".join(["timings (s):"] + [f"  {took:7.1f}  step {n}: {text[:90]}" for n, (text, took) in rows])

    def _end(self, watcher: threading.Thread | None, stop: threading.Event) -> None:
        if watcher is not None:
            stop.set()
            watcher.join()

    def _watch(self, began: float, follow: Path | None, stop: threading.Event) -> None:
        offset, rest, running, last_said = 0, "", {}, self.clock()
        while True:
            done = stop.wait(self.poll)
            if follow is not None and follow.exists():
                with open(follow, encoding="utf-8", errors="replace") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
                    offset = fh.tell()
                lines = (rest + chunk).split("\n")
                rest = lines.pop()
                for kind, task in task_events(lines):
                    now = self.clock()
                    if kind == "start":
                        running[task] = now
                        self.say(f"    · {task} started")
                    else:
                        self.say(f"    · {task} done in {now - running.pop(task, now):.1f}s")
                    last_said = now
            if done:
                return
            if self.tty and self.clock() - last_said >= self.tick:
                last_said = self.clock()
                busy = f", running {', '.join(running)}" if running else ""
                self.say(f"    … {last_said - began:.0f}s{busy}")

"""A small thread pool for the transforms' independent pieces (columns, blocks of rows).

Arrow compute kernels and numpy's loops release the GIL, so threads share the machine's
cores without copying any data between processes. Results come back in input order, so
what a transform returns does not depend on the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# A few threads are enough: past the core count they only add memory for their temporaries.
WORKERS = min(4, os.cpu_count() or 1)


def run_all(tasks: Iterable[Callable[[], T]]) -> list[T]:
    """Results of the tasks, in order; on a thread pool when there is more than one worker."""
    tasks = list(tasks)
    if WORKERS <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda task: task(), tasks))

"""What the staged benchmarks (bench_validate.py, bench_route.py) share: stage the input once, then measure it in a
fresh process, so that the peak memory measured is the work's alone and not the staging's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measured(script: str, stage: Callable[[Path, int], None], *, file_name: str, size_env: str = "BENCH_RECORDS",
             default_size: int = 1_000_000) -> dict:
    """`stage(path, records)` into a temporary `file_name` (records: $BENCH_RECORDS, or the `size_env` given, default
    1,000,000), then `script --measure path` in a new interpreter; returns the JSON object its last output line prints."""
    records = int(os.environ.get(size_env, str(default_size)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file_name
        t = time.perf_counter()
        stage(path, records)
        print(f"staged {records} records in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        out = subprocess.run([sys.executable, script, "--measure", str(path)], check=True, stdout=subprocess.PIPE, text=True,
                             env={"ARROW_DEFAULT_MEMORY_POOL": "system", **os.environ, "PYTHONPATH": str(ROOT)})  # as the gateway runs (Makefile)
    return json.loads(out.stdout.strip().splitlines()[-1])

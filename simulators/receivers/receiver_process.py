"""The simulated receivers as a real separate process on loopback (`python -m simulators.receivers`),
and the client of its /_sim controls that tests, `make run` and the demo use."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

from simulators.batch_envelope import CROSS_PROVINCE, local_text

ROOT = Path(__file__).resolve().parents[2]


class ReceiverProcess:
    """The simulator as a real separate process on loopback; `stop()` is an outage (killed).

    `start()` again reuses the state file, and the port if it is still free.
    """

    def __init__(self, state_path: str | Path, keys: dict[str, str], rate_per_s: float | None = None, *, startup_timeout_s: float = 30,
                 answer_keys: dict[str, str] | None = None) -> None:
        self.state_path = Path(state_path)
        self.keys = dict(keys)
        self.answer_keys = dict(answer_keys or {})
        self.rate_per_s = rate_per_s
        self.startup_timeout_s = startup_timeout_s
        self.log_path = self.state_path.with_name(self.state_path.name + ".log")
        self.url: str | None = None
        self._port = 0
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> ReceiverProcess:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> str:
        if self._proc is not None:
            return self.url
        try:
            return self._spawn(self._port)
        except RuntimeError:
            if not self._port:
                raise
            return self._spawn(0)  # the old port was taken meanwhile

    def stop(self) -> None:
        """Kill the process (no graceful shutdown: an outage, not a maintenance window)."""
        if self._proc is None:
            return
        self._proc.kill()
        self._proc.wait(timeout=10)
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- control helpers ---------------------------------------------------------------------

    def faults(self, **faults) -> dict:
        return self._control("POST", "/_sim/faults", json=faults)

    def reset(self, *, wipe: bool = False) -> dict:
        return self._control("POST", "/_sim/reset", json={"wipe": wipe})

    def accepted(self, receiver: str | None = None) -> list[dict]:
        return self._control("GET", "/_sim/accepted", params={"receiver": receiver} if receiver else None)["items"]

    def in_force(self, receiver: str | None = None) -> list[dict]:
        """What each receiver holds in force: the latest version accepted per work order, less what was cancelled."""
        return self._control("GET", "/_sim/in-force", params={"receiver": receiver} if receiver else None)["items"]

    def reminded(self, receiver: str | None = None) -> list[dict]:
        """Every overdue reminder item each receiver noted (POST /v1/reminders), once per key."""
        return self._control("GET", "/_sim/reminded", params={"receiver": receiver} if receiver else None)["items"]

    def cancelled(self, receiver: str | None = None) -> list[dict]:
        """Every cancellation accepted, with times_submitted."""
        return self._control("GET", "/_sim/cancelled", params={"receiver": receiver} if receiver else None)["items"]

    def stats(self) -> dict:
        return self._control("GET", "/_sim/stats")

    def results_mix(self, **config) -> dict:
        """Set how items accepted from now on are handled: mix, delay_days, late_days, acknowledge
        (keys not given take their defaults)."""
        return self._control("POST", "/_sim/results", json=config)

    def clock(self, now: str | datetime | None) -> dict:
        """Fix the business clock at `now` (local Asia/Shanghai time; an aware datetime is converted),
        or None: real time again."""
        if isinstance(now, datetime):
            now = local_text(now)
        return self._control("POST", "/_sim/clock", json={"now": now})

    def truth(self, receiver: str | None = None) -> list[dict]:
        """Every planned result, visible or not, with receiver, kind, fate, seq and visible."""
        return self._control("GET", "/_sim/results", params={"receiver": receiver} if receiver else None)["results"]

    def injected(self, receiver: str | None = None) -> list[dict]:
        return self._control("GET", "/_sim/results", params={"receiver": receiver} if receiver else None)["injected"]

    def inject(self, receiver: str, result: object) -> int:
        """Append `result` (any JSON) verbatim to the receiver's feed; returns its seq."""
        return self._control("POST", "/_sim/inject", json={"receiver": receiver, "result": result})["seq"]

    def packages_mix(self, **config) -> dict:
        """How package versions accepted from now on are handled: mix, delay_days, late_days, paper_rate."""
        return self._control("POST", "/_sim/packages", json=config)

    def packages_truth(self) -> dict:
        """Every package accepted, every status event planned (visible or not), every file held."""
        return self._control("GET", "/_sim/packages")

    def inject_package_event(self, receiver: str, event: object) -> int:
        return self._control("POST", "/_sim/package-events", json={"receiver": receiver, "event": event})["seq"]

    def cross_province_url(self) -> str:
        return f"{self.url}/{CROSS_PROVINCE}"

    def county_url(self, xzqh: str) -> str:
        return f"{self.url}/county/{xzqh}"

    def grid_url(self) -> str:
        return f"{self.url}/grid"

    # --- internals ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, **kw) -> dict:
        import httpx

        response = httpx.request(method, f"{self.url}{path}", timeout=10, **kw)
        response.raise_for_status()
        return response.json()

    def _spawn(self, port: int) -> str:
        command = [sys.executable, "-m", "simulators.receivers", "--port", str(port), "--state", str(self.state_path)]
        for key_id, secret in self.keys.items():
            command += ["--key", f"{key_id}:{secret}"]
        for key_id, secret in self.answer_keys.items():
            command += ["--answer-key", f"{key_id}:{secret}"]
        if self.rate_per_s:
            command += ["--rate", str(self.rate_per_s)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        ready = threading.Event()
        lines: list[str] = []

        def read() -> None:  # first line is LISTENING; keep draining so the pipe never fills
            for line in proc.stdout:
                if not lines:
                    lines.append(line.strip())
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait(self.startup_timeout_s)
        if not lines or not lines[0].startswith("LISTENING "):
            proc.kill()
            proc.wait(timeout=10)
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"receiver simulator did not start on port {port}: {lines[:1]}\n{tail}")
        self._proc = proc
        self.url = lines[0].split(" ", 1)[1]
        self._port = int(self.url.rsplit(":", 1)[1])

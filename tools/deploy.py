"""`make deploy-local` / `make deploy-stop`: the gateway on a real multi-process Airflow, on this machine.

    python -m tools.deploy up [--rows 5000] [--packages 600] [--unpause all|none|DAG,DAG]
    python -m tools.deploy down        # stop everything `up` started; exit 1 if a process is left
    python -m tools.deploy status
    python -m tools.deploy clean       # down, then drop its databases, its folder and the drop host's account

What `up` runs, all under supervisord (deploy/local/supervisord.conf.in → <home>/supervisord.conf):
the Airflow scheduler, dag-processor, api-server (127.0.0.1, a free port), triggerer and two Celery
workers (CeleryExecutor, broker and results on Redis 127.0.0.1:6379, a database number of the
deployment's own), on the machine's PostgreSQL (metadata, platform and ledger databases, created when
missing); as counterparts a real OpenSSH drop host (tools/deploy_sshd.py) and the simulated county
systems, grid and cross-province receivers (simulators/receivers). Before anything starts: secrets
generated once into <home>/secrets (mode 600: fernet key, JWT secret, API secret key, the receivers'
key, the drop host's client key, connections.json for Airflow's LocalFilesystemBackend — connections
never reach the metadata database), Airflow's and the ledger's migrations (once per deployment, never
in tasks), the pools of deploy/pools.json, the platform's first synthetic data (tools/deploy_seed.py).
`up` twice is harmless: what exists is kept, a running deployment is left running.

Where it lives: DEPLOY_HOME (default var/deploy; AIRFLOW_HOME is <home>/airflow); databases
<DEPLOY_DB_PREFIX>_airflow / _platform / _ledger (default prefix "gateway"); Redis database
DEPLOY_REDIS_DB (default 11); the drop host's account DEPLOY_SFTP_USER (default "gwdeploy"); Celery
workers DEPLOY_WORKERS (default 2), each running DEPLOY_CONCURRENCY tasks at once (default 4).
docs/deployment.md is the guide.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
TEMPLATES = ROOT / "deploy" / "local"
POOLS = ROOT / "deploy" / "pools.json"
GATEWAY_DAGS = sorted(p.stem for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))


@dataclass(frozen=True)
class Deployment:
    home: Path
    db_prefix: str = "gateway"
    redis_db: int = 11
    sftp_user: str = "gwdeploy"
    workers: int = 2
    concurrency: int = 4

    @classmethod
    def from_env(cls) -> Deployment:
        return cls(
            home=Path(os.environ.get("DEPLOY_HOME", ROOT / "var" / "deploy")).resolve(),
            db_prefix=os.environ.get("DEPLOY_DB_PREFIX", "gateway"),
            redis_db=int(os.environ.get("DEPLOY_REDIS_DB", "11")),
            sftp_user=os.environ.get("DEPLOY_SFTP_USER", "gwdeploy"),
            workers=int(os.environ.get("DEPLOY_WORKERS", "2")),
            concurrency=int(os.environ.get("DEPLOY_CONCURRENCY", "4")),
        )

    @property
    def databases(self) -> dict[str, str]:
        return {kind: f"{self.db_prefix}_{kind}" for kind in ("airflow", "platform", "ledger")}

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    @property
    def supervisor_conf(self) -> Path:
        return self.home / "supervisord.conf"

    def state(self) -> dict:
        path = self.home / "state.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def save_state(self, state: dict) -> None:
        (self.home / "state.json").write_text(json.dumps(state, indent=1), encoding="utf-8")

    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.state()['api_port']}"

    def env(self) -> dict[str, str]:
        """The environment of every process of the deployment (supervisord's, and the CLI steps')."""
        return {
            "GATEWAY_DEPLOYMENT": str(self.home),
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "PYTHONPATH": str(ROOT),
            "AIRFLOW_HOME": str(self.home / "airflow"),
            "AIRFLOW_CONFIG": str(self.home / "airflow" / "airflow.cfg"),
            "GATEWAY_REGISTRY_INBOX": str(self.home / "inbox" / "registry"),
            "GATEWAY_CHECKLIST_INBOX": str(self.home / "inbox" / "checklists"),
            "GATEWAY_OUTPUT_DIR": str(self.home / "runs"),
            "GATEWAY_REPORT_DIR": str(self.home / "reports"),
            "GATEWAY_AUDIT_SEAL_DIR": str(self.home / "seals"),
            "GATEWAY_SIGNING_KEY_FILE": str(self.secrets / "gateway_signing.pem"),
            "PYTHONUNBUFFERED": "1",
            "ARROW_DEFAULT_MEMORY_POOL": "system",  # Arrow on glibc's allocator (Makefile, README "Benchmarks")
            "LANG": "C.UTF-8",
        }

    def child_env(self) -> dict[str, str]:
        """This process's environment without any Airflow or gateway setting of the caller (the Makefile exports
        `make run`'s), plus the deployment's."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GATEWAY_", "DEPLOY_"))}
        return keep | self.env()


def _step(text: str) -> None:
    print(f"[deploy] {text}", flush=True)


# --- secrets, ports, generated files -------------------------------------------------------------

def ensure_secrets(dep: Deployment) -> None:
    """Generated once, never committed (var/ is git-ignored), mode 600 in a mode-700 folder."""
    from cryptography.fernet import Fernet

    from transforms.common.fieldcrypt import Keyring, new_key

    dep.secrets.mkdir(parents=True, exist_ok=True)
    os.chmod(dep.secrets, 0o700)
    makers = {
        "fernet_key": lambda: Fernet.generate_key().decode(),
        "jwt_secret": lambda: secrets.token_urlsafe(48),
        "api_secret_key": lambda: secrets.token_urlsafe(32),
        "receiver_key": lambda: f"gateway-deploy:{secrets.token_hex(24)}",
        "field_keys.json": lambda: json.dumps(Keyring([new_key("deploy1")], "deploy1").to_json()),  # docs/security.md
    }
    for name, make in makers.items():
        path = dep.secrets / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(make())
        os.chmod(path, 0o600)
    if not (dep.secrets / "audit_seal.pem").exists():  # the audit seal's key pair (docs/audit.md); .pub for the auditors
        from jobs.common.audit_seal import make_key

        make_key(dep.secrets / "audit_seal.pem")
    if not (dep.secrets / "gateway_signing.pem").exists():  # signs manifests and receipts in the drops (docs/protocol/sftp-drop.md)
        from jobs.common.audit_seal import make_key

        make_key(dep.secrets / "gateway_signing.pem")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def choose_ports(dep: Deployment) -> dict:
    """The ports of the last deployment where still free, else new free ones (kept in <home>/state.json)."""
    state = dep.state()
    for name in ("api_port", "sshd_port", "receivers_port"):
        if not (state.get(name) and _port_free(state[name])):
            state[name] = _free_port()
    dep.save_state(state)
    return state


def write_connections(dep: Deployment, sftp: dict, receivers_port: int) -> Path:
    """connections.json for Airflow's LocalFilesystemBackend: the gateway's connection ids (jobs/common/settings.py,
    connectors/delivery.py), read by the API server, the scheduler, the workers and the CLI — never stored in the DB."""
    key_id, secret = (dep.secrets / "receiver_key").read_text(encoding="ascii").strip().split(":", 1)
    http = {"conn_type": "http", "host": "127.0.0.1", "port": receivers_port, "login": key_id, "password": secret}
    db = {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres"}
    connections = {
        "gateway_platform": db | {"schema": dep.databases["platform"]},
        "gateway_ledger": db | {"schema": dep.databases["ledger"]},
        "gateway_sftp": sftp | {"extra": json.dumps(sftp["extra"])},
        "grid_marketing": http | {"extra": json.dumps({"base_path": "/grid", "rate_per_s": 40})},
        "county_system_default": http | {"extra": json.dumps({"base_path": "/county/{xzqh}"})},
        "cross_province": http | {"extra": json.dumps({"base_path": "/cross-province"})},
        "gateway_audit_seal": {"conn_type": "generic", "password": (dep.secrets / "audit_seal.pem").read_text(encoding="ascii")},
        "gateway_field_keys": {"conn_type": "generic", "password": (dep.secrets / "field_keys.json").read_text(encoding="utf-8")},
    }
    path = dep.secrets / "connections.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(connections, fh, indent=1)
    os.chmod(path, 0o600)
    return path


def _render(template: str, target: Path, **values) -> None:
    text = Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(**values)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def write_configs(dep: Deployment, state: dict) -> None:
    common = {"home": dep.home, "secrets": dep.secrets, "root": ROOT, "api_port": state["api_port"]}
    _render("airflow.cfg.in", dep.home / "airflow" / "airflow.cfg", **common, db_airflow=dep.databases["airflow"], redis_db=dep.redis_db,
            worker_concurrency=dep.concurrency)
    environment = ",".join(f'{k}="{v}"' for k, v in dep.env().items())
    workers = "\n".join(_worker_program(dep, n) for n in range(1, dep.workers + 1))
    _render("supervisord.conf.in", dep.supervisor_conf, **common, venv=VENV_BIN.parent, environment=environment,
            receivers_port=state["receivers_port"], grid_rate=50, workers=workers)


def _worker_program(dep: Deployment, n: int) -> str:
    """One Celery worker; its own name as the tasks' hostname (tools/deploy_hostname.py), its logs read from the
    shared log folder (no log server: two on one host would want the same port)."""
    name = f"worker-{n}"
    return f"""[program:{name}]
command = airflow celery worker --celery-hostname {name}@%(host_node_name)s --concurrency {dep.concurrency} --skip-serve-logs
environment = GATEWAY_WORKER_HOSTNAME="{name}.{socket.gethostname()}",AIRFLOW__CORE__HOSTNAME_CALLABLE="tools.deploy_hostname.worker_hostname"
directory = {ROOT}
priority = 40
startsecs = 10
stopwaitsecs = 60
stopasgroup = true
killasgroup = true
redirect_stderr = true
stdout_logfile = {dep.home}/logs/{name}.log
"""


# --- lifecycle -----------------------------------------------------------------------------------

def supervisord_pid(dep: Deployment) -> int | None:
    path = dep.home / "supervisord.pid"
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def supervisorctl(dep: Deployment, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "supervisorctl"), "-c", str(dep.supervisor_conf), *args], capture_output=True, text=True,
                          env=dep.child_env(), check=check)


def program_states(dep: Deployment) -> dict[str, str]:
    out = supervisorctl(dep, "status").stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if len(line.split()) >= 2}


def _cli(dep: Deployment, log, *command: str) -> None:
    log.write(f"\n$ {' '.join(command)}\n")
    log.flush()
    done = subprocess.run(list(command), cwd=ROOT, env=dep.child_env(), stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"deploy: {' '.join(command)} failed (exit {done.returncode}); see {log.name}")


def up(dep: Deployment, *, rows: int = 5000, packages: int = 600, unpause: list[str] | None = None, timeout_s: float = 600) -> dict:
    """Start the deployment (or leave it running) and wait until every process runs and every DAG is parsed."""
    from tools import deploy_seed, deploy_sshd

    started = time.monotonic()
    for folder in ("logs", "inbox/registry", "inbox/checklists", "runs", "reports", "receivers", "airflow"):
        (dep.home / folder).mkdir(parents=True, exist_ok=True)
    log_path = dep.home / "logs" / "deploy-steps.log"
    if supervisord_pid(dep):
        _step(f"already running (supervisord pid {supervisord_pid(dep)}): starting whatever is stopped, nothing else")
        supervisorctl(dep, "start", "all")
        with open(log_path, "a", encoding="utf-8") as log:
            _import_pools(dep, log)
    else:
        why = deploy_sshd.available()
        if why:
            raise SystemExit(f"deploy: the drop host cannot run here: {why}")
        ensure_secrets(dep)
        state = choose_ports(dep)
        _step(f"databases on 127.0.0.1:5432: {', '.join(dep.databases.values())}")
        created = deploy_seed.ensure_databases(list(dep.databases.values()))
        if created:
            _step(f"  created {', '.join(created)}")
        _step(f"the drop host: OpenSSH sshd on 127.0.0.1:{state['sshd_port']}, account {dep.sftp_user}, drops in {dep.home / 'drops'}")
        sftp = deploy_sshd.prepare(dep.home, dep.secrets, user=dep.sftp_user, port=state["sshd_port"], drops=deploy_sshd.registry_drops())
        write_connections(dep, sftp, state["receivers_port"])
        write_configs(dep, state)
        with open(log_path, "a", encoding="utf-8") as log:
            _step(f"migrations, once per deployment (log: {log_path}): airflow db migrate; tools.cli db upgrade --conn-id gateway_ledger")
            _cli(dep, log, str(VENV_BIN / "airflow"), "db", "migrate")
            _cli(dep, log, sys.executable, "-m", "tools.cli", "db", "upgrade", "--conn-id", "gateway_ledger")
            _import_pools(dep, log)
        seeded = deploy_seed.seed(dep.databases["platform"], dep.home, rows=rows, packages=packages)
        _step("platform data: " + ("seeded " if seeded.pop("seeded") else "kept (already there) ") + json.dumps(seeded, ensure_ascii=False))
        _step(f"starting supervisord: {dep.supervisor_conf}")
        subprocess.run([str(VENV_BIN / "supervisord"), "-c", str(dep.supervisor_conf)], cwd=ROOT, env=dep.child_env(), check=True)
        deploy_sshd.wait_listening(state["sshd_port"])
    wait_ready(dep, timeout_s=timeout_s)
    dags = GATEWAY_DAGS if unpause is None else unpause
    for dag_id in dags:
        api(dep, "PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    if dags:
        _step(f"unpaused: {', '.join(dags)}")
    summary = {"api": dep.api_url(), "home": str(dep.home), "programs": program_states(dep), "seconds": round(time.monotonic() - started, 1)}
    _step(f"up in {summary['seconds']}s: the Airflow UI at {summary['api']} (SimpleAuthManager, everyone admin: loopback only)")
    return summary


def _import_pools(dep: Deployment, log) -> None:
    if POOLS.exists():
        _cli(dep, log, str(VENV_BIN / "airflow"), "pools", "import", str(POOLS))
        _step(f"pools imported from {POOLS.relative_to(ROOT)}")


def api(dep: Deployment, method: str, path: str, **kw):
    """One call of Airflow's REST API (/api/v2); SimpleAuthManager's all-admins mode needs no token."""
    import httpx

    response = httpx.request(method, f"{dep.api_url()}/api/v2{path}", timeout=30, **kw)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return response.json() if response.content else None


def wait_ready(dep: Deployment, *, timeout_s: float = 600) -> None:
    """Until every program runs, the API server answers healthy and every gateway DAG is parsed."""
    import httpx

    deadline = time.monotonic() + timeout_s
    waiting = "programs"
    while time.monotonic() < deadline:
        states = program_states(dep)
        bad = {k: v for k, v in states.items() if v in ("FATAL", "BACKOFF", "EXITED")}
        if bad:
            raise SystemExit(f"deploy: {bad}: see {dep.home / 'logs'}")
        try:
            if states and all(v == "RUNNING" for v in states.values()):
                waiting = "the API server"
                health = httpx.get(f"{dep.api_url()}/api/v2/monitor/health", timeout=10).json()
                if all(part.get("status") == "healthy" for part in health.values() if isinstance(part, dict)):
                    waiting = "the DAGs to be parsed"
                    parsed = {d["dag_id"] for d in api(dep, "GET", "/dags", params={"limit": 100})["dags"]}
                    if set(GATEWAY_DAGS) <= parsed:
                        return
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass
        time.sleep(3)
    raise SystemExit(f"deploy: still waiting for {waiting} after {timeout_s:.0f}s; see {dep.home / 'logs'}")


def our_processes(dep: Deployment) -> list[int]:
    """Every process carrying this deployment's GATEWAY_DEPLOYMENT (supervisord, its programs, their children)."""
    marker = f"GATEWAY_DEPLOYMENT={dep.home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return sorted(found)


def down(dep: Deployment, *, timeout_s: float = 180) -> dict:
    """supervisorctl shutdown, then check that no process of the deployment is left (and end any left, by pid)."""
    pid = supervisord_pid(dep)
    if pid:
        _step(f"supervisorctl shutdown (supervisord pid {pid})")
        supervisorctl(dep, "shutdown")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and supervisord_pid(dep):
            time.sleep(0.5)
    left = our_processes(dep)
    if left:
        _step(f"processes left after the shutdown: {left}: ending them")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for p in left:
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
            time.sleep(5)
            left = our_processes(dep)
            if not left:
                break
    result = {"was_running": bool(pid), "left": left}
    _step("stopped: no process of the deployment is left" if not left else f"processes still running: {left}")
    return result


def clean(dep: Deployment, *, keep_folder: bool = False) -> None:
    """down, then drop the databases, the Redis database, the folder (unless `keep_folder`) and the drop host's account."""
    import shutil

    from tools import deploy_seed, deploy_sshd

    down(dep)
    deploy_seed.drop_databases(list(dep.databases.values()))
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", str(dep.redis_db), "FLUSHDB"], capture_output=True)
    if not keep_folder:
        shutil.rmtree(dep.home, ignore_errors=True)
    deploy_sshd.remove_account(dep.sftp_user)
    _step(f"removed {'' if keep_folder else f'{dep.home}, '}databases {', '.join(dep.databases.values())}, Redis db {dep.redis_db}, account {dep.sftp_user}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    u = sub.add_parser("up", help="start the deployment (idempotent)")
    u.add_argument("--rows", type=int, default=5000, help="synthetic platform records at the first deployment")
    u.add_argument("--packages", type=int, default=600, help="synthetic remote-collection packages at the first deployment")
    u.add_argument("--unpause", default="all", help="all (default), none, or DAG ids separated by commas")
    sub.add_parser("down", help="stop everything it started")
    sub.add_parser("status", help="the programs' states")
    sub.add_parser("clean", help="down, then remove its databases, folder and account")
    args = parser.parse_args(argv)
    dep = Deployment.from_env()
    if args.command == "up":
        unpause = None if args.unpause == "all" else [] if args.unpause == "none" else args.unpause.split(",")
        up(dep, rows=args.rows, packages=args.packages, unpause=unpause)
    elif args.command == "down":
        raise SystemExit(1 if down(dep)["left"] else 0)
    elif args.command == "status":
        print(supervisorctl(dep, "status").stdout or "not running")
    else:
        clean(dep)


if __name__ == "__main__":
    main()

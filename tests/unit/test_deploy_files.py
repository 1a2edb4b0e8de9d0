"""The deployment files held to the repository (issue 19): the Dockerfile (no engine runs here, so
it is read, not built), .dockerignore, and the values for the official Airflow Helm chart
(deploy/helm/), against the code's connection ids and folders, requirements.in's Airflow pin,
airflow.cfg and the chart's own keys."""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = ROOT / "deploy" / "helm"
# Folders the product's code lives in; each top-level import of theirs must be in the image.
RUNTIME_ROOTS = ("dags", "jobs", "transforms", "connectors", "expectations", "tools/cli.py")
NOT_IN_IMAGE = ("tests/unit/test_house.py", "bench/bench_route.py", "simulators/platform.py", "forms/samples", "var/airflow/airflow.db",
                ".venv/bin/python", "docs/domain.md", ".git/HEAD", "README.md", "airflow.cfg", "Makefile", "deploy/helm/values.yaml")

# The chart's keys this deployment may set, transcribed from the official chart's values.yaml
# (chart line 1.22: apache/airflow chart/values.yaml at 5f1ee0aea931). A key ending in "*" is
# free-form below it (resources, lists, airflow.cfg sections). A key not listed here fails the
# test: look it up in the chart's values.yaml and add it, or fix the spelling.
CHART_KEYS = {
    "defaultAirflowRepository", "defaultAirflowTag", "defaultAirflowDigest", "airflowVersion", "executor",
    "images.airflow.repository", "images.airflow.tag", "images.airflow.digest", "images.airflow.pullPolicy",
    "images.useDefaultImageForMigration", "images.migrationsWaitTimeout",
    "postgresql.enabled",
    "fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName",
    "data.metadataSecretName", "data.resultBackendSecretName", "data.brokerUrlSecretName",
    "secret*", "env*", "extraEnvFrom*", "volumes*", "volumeMounts*", "config*",
    "workers.celery.replicas", "workers.celery.resources*", "workers.celery.persistence.enabled", "workers.celery.persistence.size",
    "workers.celery.persistence.storageClassName", "workers.celery.extraVolumes*", "workers.celery.extraVolumeMounts*",
    "workers.celery.terminationGracePeriodSeconds", "workers.celery.queue",
    "workers.kubernetes.resources*", "workers.kubernetes.extraVolumes*", "workers.kubernetes.extraVolumeMounts*",
    "scheduler.replicas", "scheduler.resources*", "dagProcessor.replicas", "dagProcessor.resources*",
    "apiServer.replicas", "apiServer.resources*", "triggerer.replicas", "triggerer.resources*", "triggerer.persistence.size",
    "createUserJob.enabled",
    "migrateDatabaseJob.enabled", "migrateDatabaseJob.args*", "migrateDatabaseJob.extraVolumes*", "migrateDatabaseJob.extraVolumeMounts*",
    "migrateDatabaseJob.resources*",
    "pgbouncer.enabled", "pgbouncer.configSecretName", "pgbouncer.maxClientConn", "pgbouncer.metadataPoolSize",
    "pgbouncer.resultBackendPoolSize", "pgbouncer.metricsExporterSidecar.statsSecretName",
    "redis.enabled", "redis.passwordSecretName", "redis.persistence.enabled", "redis.persistence.size", "redis.persistence.storageClassName",
    "flower.enabled", "databaseCleanup.enabled", "databaseCleanup.retentionDays",
}
# Values that would be a secret written into the file (the chart accepts them; this deployment never does).
INLINE_SECRETS = ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey", "data.metadataConnection", "data.resultBackendConnection",
                  "data.brokerUrl", "redis.password", "flower.password", "createUserJob.defaultUser.password")


# --- reading the files ---------------------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        pending += (" " if pending else "") + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            word, _, rest = pending.partition(" ")
            out.append((word.upper(), rest.strip()))
            pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def docker_env() -> dict[str, str]:
    """ENV as the image ends up with it (${VAR} of earlier ENV resolved)."""
    env: dict[str, str] = {}
    for word, rest in dockerfile():
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], value)
    return env


def copies() -> list[tuple[list[str], str]]:
    """Each COPY's (sources, destination), flags dropped, ${VAR} resolved."""
    env, out = docker_env(), []
    for word, rest in dockerfile():
        if word == "COPY":
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            out.append((args[:-1], re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], args[-1])))
    assert not any("--from" in rest for word, rest in dockerfile() if word == "COPY"), "one stage: every COPY is from the build context"
    return out


def dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    """(excludes, pattern) per line, Docker's way: `**` any depth, `*` and `?` within a name, a
    leading `!` lets back in, a pattern that matches a folder matches all below it."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join(".*" if part == "**" else "[^/]*" if part == "*" else "[^/]" if part == "?" else re.escape(part)
                        for part in re.split(r"(\*\*|\*|\?)", pattern))
        rules.append((not negate, re.compile(rf"{regex}(/.*)?")))
    return rules


def in_context(relpath: str) -> bool:
    """Whether the build context holds `relpath` (the last matching rule decides)."""
    sent = True
    for excludes, pattern in dockerignore_rules():
        if pattern.fullmatch(relpath):
            sent = not excludes
    return sent


def values() -> dict:
    return yaml.safe_load((HELM / "values.yaml").read_text(encoding="utf-8"))


def get(tree: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def airflow_pin(name: str) -> str:
    pins = re.findall(r"^apache-airflow==([\w.]+)\s*$", (ROOT / name).read_text(encoding="utf-8"), flags=re.M)
    assert len(pins) == 1, f"{name}: one apache-airflow==X pin expected"
    return pins[0]


def conn_ids() -> set[str]:
    """Every `*_CONN_ID = "..."` the code names (the Connections the gateway opens)."""
    ids = set()
    for path in (ROOT / "jobs" / "common" / "settings.py", ROOT / "connectors" / "delivery.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                if any(isinstance(t, ast.Name) and t.id.endswith("_CONN_ID") for t in node.targets):
                    ids.add(node.value.value)
    return ids


def folder_env_names() -> set[str]:
    """The GATEWAY_* environment variables the product reads that name a folder."""
    names = set()
    for root in ("dags", "jobs", "connectors", "transforms", "tools"):
        for path in (ROOT / root).rglob("*.py"):
            names |= set(re.findall(r"environ\.get\(\s*[\"'](GATEWAY_\w+(?:_DIR|_INBOX))[\"']", path.read_text(encoding="utf-8")))
    return names


# --- the Dockerfile ----------------------------------------------------------------------------------

def test_the_image_is_the_official_airflow_image_at_the_pinned_version_on_the_projects_python():
    froms = [rest for word, rest in dockerfile() if word == "FROM"]
    assert len(froms) == 1
    match = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", froms[0])
    assert match, froms[0]
    assert match.group(1) == airflow_pin("requirements.in") == airflow_pin("requirements.txt")
    assert match.group(2) == "3.11"  # pyproject's target-version py311, the Makefile's python3.11


def test_the_pinned_install_holds_airflow_at_the_base_images_version():
    runs = " ".join(rest for word, rest in dockerfile() if word == "RUN")
    install = re.search(r"pip install [^&]*", runs)
    assert install and "-r " in install.group(0) and '"apache-airflow==${AIRFLOW_VERSION}"' in install.group(0)
    assert "airflow.__version__" in runs  # and checks it after the install


def test_every_copy_source_exists_and_reaches_the_builder():
    sources = [s for srcs, _ in copies() for s in srcs]
    assert "requirements.txt" in sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: not in the repository"
        files = [p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
        assert files and all(in_context(str(p.relative_to(ROOT))) for p in files), f"COPY {source}: left out by .dockerignore"


def test_what_the_runtime_imports_or_reads_is_in_the_image_and_nothing_else_reaches_it():
    copied = {s.rstrip("/").split("/")[0] for srcs, _ in copies() for s in srcs}
    imported = set()
    for root in RUNTIME_ROOTS:
        path = ROOT / root
        for file in [path] if path.is_file() else path.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
                imported |= {n.split(".")[0] for n in names if (ROOT / n.split(".")[0]).is_dir()}
    from connectors.ledger import MIGRATIONS
    from connectors.sqlfiles import SQL_DIR
    from jobs.common.reference import REFERENCE_DIR

    read = {p.relative_to(ROOT).parts[0] for p in (SQL_DIR, REFERENCE_DIR, MIGRATIONS)}
    assert imported | read <= copied, f"not in the image: {sorted((imported | read) - copied)}"
    assert "simulators" not in imported  # the demo's counterparts stay out of production
    for path in NOT_IN_IMAGE:
        assert not in_context(path), f"{path} would reach the builder"


def test_no_secret_is_baked_into_the_image_and_no_healthcheck():
    words = [word for word, _ in dockerfile()]
    assert "HEALTHCHECK" not in words and "ADD" not in words
    for word, rest in dockerfile():
        if word in ("ENV", "ARG", "LABEL"):
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                assert not re.search(r"PASS|SECRET|TOKEN|FERNET|_KEY$|^AIRFLOW_CONN_|^AIRFLOW__.*_CONN", key.upper()), item
                assert not re.search(r"://[^/\s]*:[^@/\s]*@", value), item
    for source in (s for srcs, _ in copies() for s in srcs):
        assert not re.search(r"\.(pem|key|p12)$|id_(rsa|ed25519)|known_hosts|\.env$|secret", source), source


def test_the_image_runs_as_airflow_with_the_code_importable_and_the_dags_folder_set():
    users = [rest for word, rest in dockerfile() if word == "USER"]
    assert users and users[-1] == "airflow"
    env = docker_env()
    dags_dest = next(dest for srcs, dest in copies() if srcs == ["dags/"])
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].rstrip("/") == dags_dest.rstrip("/")
    assert Path(env["PYTHONPATH"]) == Path(dags_dest).parent
    for srcs, dest in copies():
        if srcs != ["requirements.txt"]:
            assert Path(dest).is_relative_to(env["PYTHONPATH"]), dest


def test_the_images_environment_carries_airflow_cfg():
    """The chart mounts its own airflow.cfg: the repository's deviations travel as environment."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "airflow.cfg")
    env = docker_env()
    pairs = {f"AIRFLOW__{s.upper()}__{k.upper()}": v for s in cfg.sections() for k, v in cfg.items(s)}
    assert pairs and {k: env.get(k) for k in pairs} == pairs


# --- the Helm values -----------------------------------------------------------------------------------

def _leaves(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if path + "*" in CHART_KEYS:
            continue
        if isinstance(value, dict) and value and path not in CHART_KEYS:
            yield from _leaves(value, path + ".")
        else:
            yield path


def test_every_key_is_one_of_the_charts():
    unknown = sorted(p for p in _leaves(values()) if p not in CHART_KEYS)
    assert unknown == []


def test_the_airflow_config_set_through_the_chart_is_airflows_own(tmp_path):
    """config.<section>.<key>: each an option Airflow 3.3 (with its Celery provider) knows."""
    config = values()["config"]
    pairs = [(s, k) for s, keys in config.items() for k in keys]
    probe = f"from airflow.configuration import conf\nprint([p for p in {pairs!r} if not conf.has_option(*p)])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                         env={"PATH": os.environ.get("PATH", ""), "AIRFLOW_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_celery_workers_pgbouncer_and_an_external_database():
    v = values()
    assert v["executor"] == "CeleryExecutor" and v["redis"]["enabled"] is True
    assert v["workers"]["celery"]["replicas"] >= 2
    assert 1 <= int(v["config"]["celery"]["worker_concurrency"]) <= 8
    assert v["pgbouncer"]["enabled"] is True and v["postgresql"]["enabled"] is False
    assert v["flower"]["enabled"] is False


def test_the_values_run_the_gateway_image_at_the_dockerfiles_versions():
    v, env = values(), docker_env()
    base = next(rest for word, rest in dockerfile() if word == "FROM")
    assert f'{v["defaultAirflowRepository"]}:{v["defaultAirflowTag"]}' == base
    assert v["airflowVersion"] == airflow_pin("requirements.in")
    assert v["images"]["airflow"]["repository"] != "apache/airflow" and str(v["images"]["airflow"]["tag"]).startswith(v["airflowVersion"])
    assert v["images"]["useDefaultImageForMigration"] is False
    assert v["config"]["core"]["dags_folder"] == env["AIRFLOW__CORE__DAGS_FOLDER"]
    assert v["config"]["core"]["default_timezone"] == env["AIRFLOW__CORE__DEFAULT_TIMEZONE"]


def test_every_secret_is_a_kubernetes_secret_named_not_written():
    v = values()
    for name in ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName", "data.metadataSecretName", "data.brokerUrlSecretName",
                 "pgbouncer.configSecretName", "pgbouncer.metricsExporterSidecar.statsSecretName", "redis.passwordSecretName"):
        assert isinstance(get(v, name), str) and get(v, name), name
    assert [name for name in INLINE_SECRETS if get(v, name) is not None] == []
    assert v["createUserJob"]["enabled"] is False  # its default user has a password in values
    text = (HELM / "values.yaml").read_text(encoding="utf-8")
    assert not re.search(r"://[^/\s]*:[^@/\s<$]+@", text), "a URL with a password in values.yaml"


def test_every_connection_the_code_opens_comes_from_a_secret():
    v = values()
    from_secret = {e["envName"]: e for e in v["secret"]}
    expected = {f"AIRFLOW_CONN_{cid.upper()}" for cid in conn_ids()}
    assert {"AIRFLOW_CONN_GATEWAY_LEDGER", "AIRFLOW_CONN_GATEWAY_PLATFORM", "AIRFLOW_CONN_GATEWAY_SFTP"} <= expected
    assert expected <= set(from_secret), f"missing: {sorted(expected - set(from_secret))}"
    assert all(e["secretName"] and e["secretKey"] for e in from_secret.values())
    assert not [e for e in v.get("env", []) if e["name"].startswith("AIRFLOW_CONN_")]


def test_the_ledger_is_reached_directly_not_through_transaction_pooling():
    """Session-level advisory locks need a session of their own: the README's ledger connection
    (the one operators copy) does not go to the chart's PgBouncer."""
    readme = (HELM / "README.md").read_text(encoding="utf-8")
    ledger = re.findall(r"AIRFLOW_CONN_GATEWAY_LEDGER=\"([^\"]+)\"", readme)
    assert ledger and all("pgbouncer" not in u and ":6543" not in u for u in ledger)
    metadata = re.findall(r"connection=\"(postgresql://[^\"]+/airflow-metadata)\"", readme)
    assert metadata and all(":6543" in u for u in metadata)  # while Airflow's own database is pooled


def test_the_shared_folders_are_on_the_read_write_many_volume_every_worker_mounts():
    v, env = values(), docker_env()
    claim = yaml.safe_load((HELM / "shared-volume.yaml").read_text(encoding="utf-8"))
    assert claim["kind"] == "PersistentVolumeClaim" and "ReadWriteMany" in claim["spec"]["accessModes"]
    celery = v["workers"]["celery"]
    claims = {vol["name"]: vol["persistentVolumeClaim"]["claimName"] for vol in celery["extraVolumes"] if "persistentVolumeClaim" in vol}
    mounts = {m["mountPath"]: m["name"] for m in celery["extraVolumeMounts"] if claims.get(m["name"]) == claim["metadata"]["name"]}
    assert mounts, "no worker mount of the shared claim"
    folders = {e["name"]: e["value"] for e in v["env"] if e["name"].startswith("GATEWAY_")}
    names = folder_env_names()
    assert {"GATEWAY_OUTPUT_DIR", "GATEWAY_REPORT_DIR", "GATEWAY_REGISTRY_INBOX", "GATEWAY_CHECKLIST_INBOX"} <= names
    assert names <= set(folders), f"not set: {sorted(names - set(folders))}"
    for name in names:
        assert any(Path(folders[name]).is_relative_to(m) for m in mounts), f"{name}={folders[name]} is not on the shared volume"
        assert env.get(name) == folders[name]  # the image's default is the same place


def test_migrations_run_once_per_release_in_the_charts_job_ledger_first():
    v = values()
    from jobs.common.settings import LEDGER_CONN_ID

    job = v["migrateDatabaseJob"]
    script = " ".join(job["args"])
    steps = [s.strip() for s in re.split(r"&&", script.split("-c", 1)[1])]
    assert steps[0].endswith(f"python -m tools.cli db upgrade --conn-id {LEDGER_CONN_ID}")
    assert steps[1] == "airflow db migrate"
    pools = re.fullmatch(r"exec airflow pools import (\S+)", steps[2])
    assert pools, steps
    configmaps = {vol["name"] for vol in job["extraVolumes"] if "configMap" in vol}
    assert any(m["name"] in configmaps and Path(pools.group(1)).parent == Path(m["mountPath"]) for m in job["extraVolumeMounts"])


def test_the_pools_file_is_what_airflow_pools_import_reads():
    path = ROOT / "deploy" / "pools.json"
    if not path.exists():
        pytest.skip("deploy/pools.json is written by the dags part of issue 19")
    pools = json.loads(path.read_text(encoding="utf-8"))
    assert pools and all(isinstance(p, dict) and isinstance(p["slots"], int) and p["slots"] > 0 and isinstance(p["description"], str)
                         for p in pools.values())

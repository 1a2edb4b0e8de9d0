"""Where the field encryption keys come from (docs/security.md): the Airflow Connection `gateway_field_keys` (secrets
backend in production; `AIRFLOW_CONN_GATEWAY_FIELD_KEYS` in development and tests) — its password (preferred: Airflow
masks it) or its extra holds
`{"active": id, "keys": {id: {"sm4": base64 16 bytes, "index": base64 32 bytes}}}` — else the file
$GATEWAY_FIELD_KEYS_FILE (same JSON; a secret mounted read-only), else, for development only, a throwaway file under
var/keys/ made on first use. Never from the repository. A configured file that is missing or wrong fails, naming it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from transforms.common.fieldcrypt import Keyring, new_key

log = logging.getLogger(__name__)


def _from_connection(conn_id: str) -> Keyring | None:
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:  # no Airflow here (a bare tool): the file is next
        return None
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    extra = conn.extra_dejson or {}
    if conn.password:
        try:
            doc = json.loads(conn.password)
        except ValueError:
            raise ValueError(f"Connection {conn_id}: its password is not the keys' JSON") from None
    elif "keys" in extra:
        doc = extra
    else:
        raise ValueError(f"Connection {conn_id}: neither its extra nor its password holds the field keys (docs/security.md)")
    try:
        return Keyring.from_json(doc)
    except ValueError as exc:
        raise ValueError(f"Connection {conn_id}: {exc}") from None


def read_keys_file(path: Path) -> Keyring:
    try:
        return Keyring.from_json(json.loads(path.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def write_keys_file(path: Path, keyring: Keyring) -> Path:
    """`keyring` as the keys' JSON at `path`, readable by its owner only, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(keyring.to_json(), out, indent=1)
    tmp.replace(path)
    return path


def load_keyring(conn_id: str | None = None, *, throwaway: bool = True) -> Keyring:
    """The keyring: the Connection first, then $GATEWAY_FIELD_KEYS_FILE, then (development, unless `throwaway` is False:
    a rotation never encrypts under a key that lives only in var/) the throwaway file."""
    from jobs.common.settings import FIELD_KEYS_CONN_ID, field_keys_file

    keyring = _from_connection(conn_id or FIELD_KEYS_CONN_ID)
    if keyring is not None:
        return keyring
    path, configured = field_keys_file()
    if configured:
        if not path.exists():
            raise FileNotFoundError(f"GATEWAY_FIELD_KEYS_FILE={path}: no such file (the field encryption keys; docs/security.md)")
        return read_keys_file(path)
    if not throwaway:
        raise LookupError(f"no field keys configured: the Connection {conn_id or FIELD_KEYS_CONN_ID} or GATEWAY_FIELD_KEYS_FILE (docs/security.md)")
    if not path.exists() and _create_once(path, Keyring([new_key("dev1")], "dev1")):
        log.warning("no field keys configured: made a throwaway keyring %s — development only", path)
    return read_keys_file(path)


def _create_once(path: Path, keyring: Keyring) -> bool:
    """Write `keyring` at `path` unless a file is there already — atomically, so that of two processes (workers of one
    local deployment, tests) making the throwaway at once exactly one wins and both then read its keys: a key that
    lost the race would have encrypted values nobody could read again. True when this call made it."""
    part = path.with_name(f"{path.name}.{os.getpid()}.new")
    write_keys_file(part, keyring)
    try:
        os.link(part, path)  # fails if the file exists: the first link wins
        return True
    except FileExistsError:
        return False
    finally:
        part.unlink(missing_ok=True)


def add_active_key(path: Path, key_id: str) -> Keyring:
    """Step one of a rotation on a key file: a fresh key `key_id`, active from now on; the old keys stay readable."""
    return _written(path, read_keys_file(path).with_new_key(key_id))


def _written(path: Path, keyring: Keyring) -> Keyring:
    write_keys_file(path, keyring)
    return keyring

"""Seals of the audit chain and its offline check (docs/audit.md).

`seal` writes a signed checkpoint of the chain head — `{seq, hash, sealed_at, key_id, algorithm}` and an
Ed25519 signature over their canonical JSON (transforms/common/audit_chain.py `seal_payload`) — as a file
outside the ledger, after checking that the chain holds (a broken chain is never sealed). The seal itself
then goes into the audit log (`audit_sealed`). Anyone with the public key can check a seal: SM2 would be the
GB/T 39786 choice, but this machine's `cryptography` (OpenSSL) signs with no SM2, so seals use Ed25519 (RFC
8032); the chain itself is SM3.

`verify` recomputes the chain, names the first entry that was altered, removed or reordered, and checks each
seal: its signature, its key, and that the chain still holds the sealed entry (a chain truncated or rewritten
after a seal — even one whose hashes were recomputed — fails here).

Keys: `load_signing_key` reads a PEM private key from the Airflow Connection `gateway_audit_seal` (its password
field) or from the file `$GATEWAY_AUDIT_SEAL_KEY` (jobs/common/settings.py); never from the repository. `make_key`
writes a new pair (the private key readable by its owner only, the public key beside it as `<file>.pub`).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

ALGORITHM = "Ed25519"


class SealRefused(RuntimeError):
    """The chain does not hold: it is not sealed (the message names the first break)."""


def key_id(public_key) -> str:
    """A public key's id: the first 16 hex characters of SM3 over its raw 32 bytes."""
    from cryptography.hazmat.primitives import serialization

    from transforms.common.audit_chain import sm3

    return sm3(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))[:16]


def make_key(path: Path) -> tuple[Path, Path]:
    """A new Ed25519 pair: the private key at `path` (PEM, mode 0600), the public key at `path`.pub."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    public = path.with_name(path.name + ".pub")
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path, public


def read_private_key(pem: bytes):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the seal key is not an Ed25519 private key")
    return key


def read_public_key(pem: bytes):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def load_signing_key(conn_id: str | None = None):
    """The seal key from the Airflow Connection `conn_id` (PEM in its password), else from `$GATEWAY_AUDIT_SEAL_KEY`;
    None when neither is configured."""
    from jobs.common.settings import AUDIT_SEAL_CONN_ID, audit_seal_key_file

    try:
        from airflow.sdk import BaseHook

        pem = BaseHook.get_connection(conn_id or AUDIT_SEAL_CONN_ID).password
    except Exception:  # noqa: BLE001 - no Airflow here, or no such Connection: the file setting is next
        pem = None
    if pem:
        return read_private_key(pem.encode())
    path = audit_seal_key_file()
    return read_private_key(path.read_bytes()) if path else None


def seal(ledger, private_key, out_dir: Path, *, now: datetime | None = None, run_id: str | None = None) -> Path:
    """Check the chain, then write a signed seal of its head into `out_dir` and record it in the audit log; the file's path.
    Raises SealRefused, writing nothing, when the chain does not hold."""
    from transforms.common.audit_chain import check_chain, seal_payload, utc_text

    with ledger.audit_chain() as (rows, head):
        check = check_chain(rows, head=head, locate=ledger.audit_seq_of, keep=())
    if not check.ok:
        b = check.broken
        raise SealRefused(f"the audit chain does not hold at seq {b.seq} (audit_id {b.audit_id}, {b.action}): {b.kind} — {b.reason}")
    sealed_at = utc_text(now or datetime.now(UTC))
    body = {"seq": check.head_seq, "hash": check.head_hash, "sealed_at": sealed_at, "key_id": key_id(private_key.public_key()),
            "algorithm": ALGORITHM}
    body["signature"] = base64.b64encode(private_key.sign(seal_payload(body))).decode()
    body["ledger"] = ledger.address  # for people; not signed (a ledger moved keeps its seals)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"seal_{check.head_seq:012d}_{sealed_at[:19].replace(':', '').replace('-', '')}Z.json"
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    ledger.audit(run_id=run_id, actor="audit", action="audit_sealed", object_type="audit_seal", object_id=path.name,
                 detail={k: body[k] for k in ("seq", "hash", "sealed_at", "key_id")})
    log.info("audit chain sealed at seq %s into %s", check.head_seq, path)
    return path


def seal_daily(ledger, *, run_id: str | None = None) -> str | None:
    """The daily DAG's seal: into $GATEWAY_AUDIT_SEAL_DIR with the configured key; None (a warning) when no key is configured.
    Raises SealRefused — the task fails, the run ends red — when the chain does not hold."""
    from jobs.common.settings import audit_seal_dir

    key = load_signing_key()
    if key is None:
        log.warning("audit chain not sealed: no seal key (Connection gateway_audit_seal or $GATEWAY_AUDIT_SEAL_KEY); docs/audit.md")
        return None
    return str(seal(ledger, key, audit_seal_dir(), run_id=run_id))


@dataclass
class SealCheck:
    file: str
    seq: int | None
    sealed_at: str | None
    problem: str | None  # None: the seal is good and the chain holds what it sealed

    def as_dict(self) -> dict:
        return {"file": self.file, "seq": self.seq, "sealed_at": self.sealed_at, "ok": self.problem is None, "problem": self.problem}


@dataclass
class Verdict:
    entries: int
    head_seq: int
    head_hash: str
    broken: object  # transforms.common.audit_chain.Break | None
    seals: list[SealCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None and all(s.problem is None for s in self.seals)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "head": {"seq": self.head_seq, "hash": self.head_hash},
                "first_break": self.broken.as_dict() if self.broken else None, "seals": [s.as_dict() for s in self.seals]}


def verify(ledger, *, seals_dir: Path | None = None, public_key=None) -> Verdict:
    """Recompute the chain and check every seal in `seals_dir` (needs `public_key`)."""
    from transforms.common.audit_chain import check_chain

    paths = sorted(Path(seals_dir).glob("seal_*.json")) if seals_dir is not None else []
    sealed = {_sealed_seq(path) for path in paths}  # the hashes kept while the chain streams by: only the sealed places'
    with ledger.audit_chain() as (rows, head):
        check = check_chain(rows, head=head, locate=ledger.audit_seq_of, keep=sealed)
    verdict = Verdict(check.entries, check.head_seq, check.head_hash, check.broken)
    verdict.seals = [check_seal_file(path, public_key, check) for path in paths]
    return verdict


def _sealed_seq(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["seq"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # check_seal_file says what is wrong with it


def check_seal_file(path: Path, public_key, check) -> SealCheck:
    """One seal file: well formed, signed by `public_key`, and the chain (as checked) still holds its entry."""
    from cryptography.exceptions import InvalidSignature

    from transforms.common.audit_chain import check_seal, seal_payload

    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        seq, sealed_at = int(body["seq"]), body["sealed_at"]
        signature = base64.b64decode(body["signature"], validate=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return SealCheck(path.name, None, None, f"not a seal: {exc}")
    if body.get("algorithm") != ALGORITHM or body.get("key_id") != key_id(public_key):
        return SealCheck(path.name, seq, sealed_at, f"sealed with another key ({body.get('algorithm')} {body.get('key_id')}), not {key_id(public_key)}")
    try:
        public_key.verify(signature, seal_payload(body))
    except InvalidSignature:
        return SealCheck(path.name, seq, sealed_at, "the signature does not match the seal: the file was changed")
    if check.broken is not None and check.broken.seq is not None and seq >= check.broken.seq:
        return SealCheck(path.name, seq, sealed_at, f"cannot be confirmed: the chain breaks before it, at seq {check.broken.seq}")
    return SealCheck(path.name, seq, sealed_at, check_seal(body, check.hashes, last_seq=check.head_seq))

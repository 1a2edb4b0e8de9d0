"""The gateway's signing key, read from its secret (jobs/common/settings.signing_key_file): the configured file
($GATEWAY_SIGNING_KEY_FILE) must exist and hold an Ed25519 private key — a missing or wrong one fails the task that
signs, it is never replaced; without the setting, a throwaway key is made once under var/keys/ (development only: the
institutions cannot know its public key). The key is never logged; its public key's fingerprint is."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[tuple[str, float], object] = {}


def gateway_signing_key():
    """The Ed25519 private key the gateway signs manifests and receipts with."""
    from jobs.common.settings import signing_key_file

    path, configured = signing_key_file()
    if not path.exists():
        if configured:
            raise FileNotFoundError(f"GATEWAY_SIGNING_KEY_FILE={path}: no such file (the gateway's signing key; see docs/protocol/sftp-drop.md)")
        _make_throwaway(path)
    with _lock:
        key = (str(path), path.stat().st_mtime)
        if key not in _cache:
            _cache[key] = load_private_key(path.read_bytes(), where=str(path))
        return _cache[key]


def load_private_key(pem: bytes, *, where: str):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: not an unencrypted PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{where}: not an Ed25519 private key ({type(key).__name__})")
    return key


def private_pem(key) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _make_throwaway(path: Path) -> None:
    """A new key at `path`, made atomically (two processes at once: the first one's stays), readable by its owner only."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from transforms.common.signing import fingerprint

    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem(key))
    try:
        os.link(tmp, path)  # fails if another process made one first: keep that one
        log.warning("no GATEWAY_SIGNING_KEY_FILE: made a throwaway signing key %s (%s) — development only", path, fingerprint(key.public_key()))
    except FileExistsError:
        pass
    finally:
        tmp.unlink()

"""The gateway's signature on what it leaves in an institution's drop (docs/protocol/sftp-drop.md,
"Checking a batch"): every batch manifest (`<base>.manifest.json`) and every receipt gets a
detached **Ed25519** signature beside it, `<name>.sig` (the 64 raw bytes of RFC 8032, over the
file's bytes exactly as published), so any institution can check with stock tools that a batch
comes from the gateway and was not altered:

    openssl pkeyutl -verify -pubin -inkey gateway-signing.pub.pem -rawin -in XB….manifest.json -sigfile XB….manifest.json.sig
    sha256sum -c XB….sha256

Why Ed25519 and not SM2: the library the gateway signs with, pyca/cryptography (50.x here), has
no SM2 — its elliptic curves are the NIST, secp256k1 and Brainpool ones, and there is no SM3-with-ID
signing — so SM2 would mean a new dependency (a gmssl binding), which the project has not taken.
Ed25519 is in cryptography and in every stock OpenSSL 3 (`openssl pkeyutl -rawin` checks it),
and its signatures are deterministic: the same manifest gives the same signature, so a batch
rendered again (a retry, a replay) is byte-identical. Switching to SM2 later changes only this
module and the verification commands in the protocol (OpenSSL 3 also verifies SM2 with
`-rawin -digest sm3`).

Pure: bytes in, bytes or problems out. Keys are `cryptography` Ed25519 key objects; loading them
from the secret is jobs/common/signing_key.py.
"""

from __future__ import annotations

import hashlib
import json

SIG_SUFFIX = ".sig"
MANIFEST_SUFFIX = ".manifest.json"


def sign(private_key, data: bytes) -> bytes:
    """The detached Ed25519 signature of `data` (64 bytes; deterministic)."""
    return private_key.sign(data)


def fingerprint(public_key) -> str:
    """`SHA256:` and the first 32 hex digits of the SHA-256 of the raw public key: what an institution compares by phone."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return "SHA256:" + hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:32]


def public_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def load_public_key(pem: bytes):
    """An Ed25519 public key from PEM (`openssl pkey -pubout`); ValueError for anything else."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an Ed25519 public key ({type(key).__name__})")
    return key


def signature_ok(public_key, data: bytes, sig: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(sig, data)
    except InvalidSignature:
        return False
    return True


def with_signature(files: list, private_key) -> list:
    """A batch's files (manifest last) with `<manifest>.sig` placed just before the manifest: the manifest stays last
    (the ledger fixes its hash; it is published last), the signature is there whenever the manifest is."""
    manifest = files[-1]
    if not manifest.name.endswith(MANIFEST_SUFFIX):
        raise ValueError(f"the last file of a batch must be its manifest, not {manifest.name!r}")
    return [*files[:-1], type(manifest)(manifest.name + SIG_SUFFIX, sign(private_key, manifest.data)), manifest]


def check_batch(contents: dict[str, bytes], public_key) -> list[str]:
    """What is wrong with a batch directory (`contents`: file name -> bytes), empty when it verifies: exactly one
    manifest, its signature valid for `public_key` (origin), and every file it lists present with its size and SHA-256
    (content), the checksum file too, and no file it does not list."""
    manifests = sorted(n for n in contents if n.endswith(MANIFEST_SUFFIX))
    if len(manifests) != 1:
        return [f"expected one *{MANIFEST_SUFFIX}, found {len(manifests)}: {', '.join(manifests) or 'none'}"]
    name = manifests[0]
    sig = contents.get(name + SIG_SUFFIX)
    if sig is None:
        return [f"{name}{SIG_SUFFIX} missing: the manifest is not signed"]
    if not signature_ok(public_key, contents[name], sig):
        return [f"{name}: signature does not verify with key {fingerprint(public_key)} — not from the gateway, or altered"]
    try:
        manifest = json.loads(contents[name].decode("utf-8"))
        listed = [(f["name"], int(f["size"]), f["sha256"]) for f in manifest["files"]]
        if manifest.get("checksums"):
            checksums = manifest["checksums"]
            listed.append((checksums["name"], None, checksums["sha256"]))
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{name}: signed but not a manifest ({type(exc).__name__})"]
    problems = []
    for file_name, size, sha in listed:
        data = contents.get(file_name)
        if data is None:
            problems.append(f"{file_name}: listed in the manifest, missing")
        elif size is not None and len(data) != size:
            problems.append(f"{file_name}: {len(data)} bytes, the manifest says {size}")
        elif hashlib.sha256(data).hexdigest() != sha:
            problems.append(f"{file_name}: SHA-256 {hashlib.sha256(data).hexdigest()} differs from the manifest's {sha}")
    known = {n for n, _, _ in listed} | {name, name + SIG_SUFFIX}
    problems += [f"{extra}: not listed in the manifest" for extra in sorted(set(contents) - known)]
    return problems


def check_signed_file(name: str, data: bytes, sig: bytes | None, public_key) -> list[str]:
    """A single signed file (a receipt): its `.sig` present and valid."""
    if sig is None:
        return [f"{name}{SIG_SUFFIX} missing: the file is not signed"]
    if not signature_ok(public_key, data, sig):
        return [f"{name}: signature does not verify with key {fingerprint(public_key)} — not from the gateway, or altered"]
    return []

"""Field encryption at rest (issue 15; GB/T 39786-2021, PIPL): SM4-GCM tokens and keyed SM3 blind indexes over
columns of ID numbers, phones and names (docs/security.md).

A token is self-describing text, so one column may hold legacy clear values, tokens and purged values side by side:

    sm4g1:<key id>:<base64url, unpadded: nonce (12 bytes) || ciphertext || tag (16 bytes)>

The AAD binds a token to its key id and to the `<table>.<column>` it was written for: a token copied into another column
(or another table) fails to decrypt. NULL stays NULL and '' stays '' (neither is encrypted nor indexed); `PURGED` marks a
value erased on purpose (kept as such by every helper here).

A blind index is `<key id>:<hex HMAC-SM3(index key, normalised value)>`: equal values under one key give equal indexes,
so it answers equality (lookup, join, de-duplication) and nothing else — no ranges, prefixes or LIKE. Normalisation:
`id` strips spaces and upper-cases a final x (370102...123x = 370102...123X); `phone` keeps digits only and drops a
leading 86 country code of a mobile (+86 138-0000-0000 = 13800000000); `text` strips surrounding blanks.

The keys live in a `Keyring` (loaded by jobs/common/field_keys.py from an Airflow Connection or a file, never the repo):
one key id active for writing, every key readable. Errors name the column and the row position, never the value.

Pure apart from the random nonces (os.urandom); no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SCHEME = "sm4g1"
PREFIX = SCHEME + ":"
PURGED = "purged:"  # a value erased on purpose: neither clear nor decryptable, and says so
NONCE_BYTES, TAG_BYTES = 12, 16
SM4_KEY_BYTES, INDEX_KEY_BYTES = 16, 32
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


class FieldCryptError(ValueError):
    """A value that cannot be encrypted, decrypted or indexed: names the column and row position, never the value."""


@dataclass(frozen=True)
class FieldKey:
    """One named key: 16 bytes for SM4, 32 bytes for the blind index (HMAC-SM3)."""

    key_id: str
    sm4: bytes
    index: bytes

    def __post_init__(self) -> None:
        if not KEY_ID.fullmatch(self.key_id):
            raise ValueError(f"key id {self.key_id!r}: 1-32 of A-Z a-z 0-9 _ - expected")
        if len(self.sm4) != SM4_KEY_BYTES or len(self.index) != INDEX_KEY_BYTES:
            raise ValueError(f"key {self.key_id}: {SM4_KEY_BYTES} bytes of SM4 key and {INDEX_KEY_BYTES} of index key expected")

    def __repr__(self) -> str:  # never the key bytes
        return f"FieldKey({self.key_id!r})"


class Keyring:
    """Named keys, one of them active for writing; every one readable (rotation reads old tokens)."""

    def __init__(self, keys: Iterable[FieldKey], active: str) -> None:
        self.keys = {k.key_id: k for k in keys}
        if active not in self.keys:
            raise ValueError(f"active key {active!r} is not among the keys ({', '.join(sorted(self.keys)) or 'none'})")
        self.active = active
        self._sm4 = {k: algorithms.SM4(v.sm4) for k, v in self.keys.items()}  # built once, reused for every value
        self._bulk: dict = {}

    def bulk(self, key_id: str):
        """The key's column-at-a-time SM4-GCM (transforms/common/sm4gcm.py), built on first use."""
        gcm = self._bulk.get(key_id)
        if gcm is None:
            from transforms.common.sm4gcm import BulkGCM

            gcm = self._bulk[key_id] = BulkGCM(self.keys[key_id].sm4)
        return gcm

    def __repr__(self) -> str:
        return f"Keyring(active={self.active!r}, keys={sorted(self.keys)!r})"

    @classmethod
    def from_json(cls, doc: Mapping) -> Keyring:
        """`{"active": id, "keys": {id: {"sm4": base64, "index": base64}}}` (the Connection's / file's form)."""
        try:
            keys = [FieldKey(kid, base64.b64decode(v["sm4"], validate=True), base64.b64decode(v["index"], validate=True))
                    for kid, v in dict(doc["keys"]).items()]
            return cls(keys, str(doc["active"]))
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"field keys: {{'active': id, 'keys': {{id: {{'sm4': base64, 'index': base64}}}}}} expected ({type(exc).__name__})") from None

    def to_json(self) -> dict:
        return {"active": self.active, "keys": {k: {"sm4": base64.b64encode(v.sm4).decode(), "index": base64.b64encode(v.index).decode()}
                                                for k, v in self.keys.items()}}

    def with_new_key(self, key_id: str) -> Keyring:
        """This keyring plus a fresh random key `key_id`, made active (the first step of a rotation)."""
        if key_id in self.keys:
            raise ValueError(f"key id {key_id!r} is already in the keyring")
        return Keyring([*self.keys.values(), new_key(key_id)], key_id)


def new_key(key_id: str) -> FieldKey:
    return FieldKey(key_id, os.urandom(SM4_KEY_BYTES), os.urandom(INDEX_KEY_BYTES))


def aad(key_id: str, table: str, column: str) -> bytes:
    return f"{SCHEME}|{key_id}|{table}.{column}".encode()


def kind_of(value) -> str:
    """'null', 'empty', 'purged', 'token' or 'clear' (legacy, not yet encrypted)."""
    if value is None or (isinstance(value, float) and value != value):
        return "null"
    if value == "":
        return "empty"
    if isinstance(value, str) and value.startswith(PURGED):
        return "purged"
    return "token" if isinstance(value, str) and value.startswith(PREFIX) else "clear"


def key_id_of(token: str) -> str | None:
    """The key id a token was written under; None for anything that is not a token."""
    if not isinstance(token, str) or not token.startswith(PREFIX):
        return None
    return token[len(PREFIX):].partition(":")[0]


def _where(column: str, position: int) -> str:
    return f"column {column} row {position}"


def _values(values) -> tuple[list, Callable[[list], object]]:
    """A Series / pyarrow array / sequence as a list, and how to give the result back in the same shape."""
    import pandas as pd
    import pyarrow as pa

    if isinstance(values, pd.Series):
        return values.astype(object).where(values.notna(), None).tolist(), lambda out: pd.Series(out, index=values.index, name=values.name, dtype=object)
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.to_pylist(), lambda out: pa.array(out, type=pa.string())
    return list(values), list


BULK_FROM = 16  # values in a column from which one column-at-a-time pass (sm4gcm.py) beats a cipher context per value
BULK_UP_TO = 1024  # bytes: a longer value (a dead letter's payload) goes through a cipher context of its own — GHASH in
# numpy walks a length class block by block, which for a few long values of different lengths is far slower


def encrypt_column(values, keyring: Keyring, *, table: str, column: str, fresh: bool = False):
    """Clear values as tokens under the active key. NULL, '', purged values and tokens already under the active key are
    kept as they are; a token under another key is re-encrypted (decrypted, then encrypted again).

    `fresh`: the values come from outside (the platform, a form, a result file) and are all clear, whatever they look
    like — a value that merely starts with `sm4g1:` or `purged:` is encrypted like any other, never taken as a token."""
    items, back = _values(values)
    kid = keyring.active
    data, prefix = aad(kid, table, column), f"{PREFIX}{kid}:"
    out, rows, clear = list(items), [], []
    for i, v in enumerate(items):
        if v is None or v == "" or (not fresh and isinstance(v, str) and (v.startswith(prefix) or v.startswith(PURGED))):
            continue
        if not fresh and isinstance(v, str) and v.startswith(PREFIX):
            v = _decrypt_one(v, keyring, table, column, i)
        elif not isinstance(v, str):
            raise FieldCryptError(f"{_where(column, i)}: text expected, got {type(v).__name__}")
        rows.append(i)
        clear.append(v.encode())
    nonces = os.urandom(NONCE_BYTES * len(rows))  # one system call for the column, not one per value
    short = [n for n, v in enumerate(clear) if len(v) <= BULK_UP_TO] if len(rows) >= BULK_FROM else []
    sealed: list = [None] * len(rows)
    if len(short) >= BULK_FROM:
        for n, raw in zip(short, keyring.bulk(kid).seal([clear[n] for n in short], b"".join(nonces[n * NONCE_BYTES:(n + 1) * NONCE_BYTES] for n in short), data)):
            sealed[n] = raw
    for n, v in enumerate(clear):
        if sealed[n] is None:
            sealed[n] = _seal_one(keyring._sm4[kid], nonces[n * NONCE_BYTES:(n + 1) * NONCE_BYTES], v, data)
    b64 = base64.urlsafe_b64encode
    for i, raw in zip(rows, sealed):
        out[i] = prefix + b64(raw).rstrip(b"=").decode()
    return back(out)


def _seal_one(algorithm, nonce: bytes, clear: bytes, data: bytes) -> bytes:
    """nonce || ciphertext || tag for one value, through a cipher context of its own (the reference sm4gcm.py matches)."""
    enc = Cipher(algorithm, modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(data)
    body = enc.update(clear) + enc.finalize()
    return nonce + body + enc.tag


def _token_bytes(token: str, keyring: Keyring, column: str, position: int) -> tuple[str, bytes]:
    """A token's key id and its nonce || ciphertext || tag, or the FieldCryptError saying what is wrong with it."""
    kid, sep, body = token[len(PREFIX):].partition(":")
    if not sep:
        raise FieldCryptError(f"{_where(column, position)}: malformed {SCHEME} token (no key id)")
    if kid not in keyring._sm4:
        raise FieldCryptError(f"{_where(column, position)}: token under key {kid!r}, which the keyring does not hold")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise FieldCryptError(f"{_where(column, position)}: malformed {SCHEME} token (not base64)") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise FieldCryptError(f"{_where(column, position)}: malformed {SCHEME} token (too short)")
    return kid, raw


def _unauthentic(column: str, position: int, kid: str, table: str) -> FieldCryptError:
    return FieldCryptError(f"{_where(column, position)}: token does not authenticate under key {kid!r} for {table}.{column} "
                           "(altered, or written for another column)")


def _text(clear: bytes, column: str, position: int) -> str:
    try:
        return clear.decode()
    except UnicodeDecodeError:  # pragma: no cover - authenticated, so only a bug in the writer gets here
        raise FieldCryptError(f"{_where(column, position)}: decrypted value is not UTF-8") from None


def _decrypt_one(token: str, keyring: Keyring, table: str, column: str, position: int) -> str:
    kid, raw = _token_bytes(token, keyring, column, position)
    dec = Cipher(keyring._sm4[kid], modes.GCM(raw[:NONCE_BYTES], raw[-TAG_BYTES:])).decryptor()
    dec.authenticate_additional_data(aad(kid, table, column))
    try:
        clear = dec.update(raw[NONCE_BYTES:-TAG_BYTES]) + dec.finalize()
    except InvalidTag:
        raise _unauthentic(column, position, kid, table) from None
    return _text(clear, column, position)


def _decrypt_tokens(tokens: dict[int, str], keyring: Keyring, table: str, column: str) -> dict[int, str]:
    """position -> token, to position -> clear text: a column-at-a-time pass per key id (sm4gcm.py) when there are
    BULK_FROM or more. The first (lowest) position that fails raises, as one value at a time would."""
    if len(tokens) < BULK_FROM:
        return {i: _decrypt_one(t, keyring, table, column, i) for i, t in tokens.items()}
    errors: dict[int, FieldCryptError] = {}
    by_key: dict[str, tuple[list[int], list[bytes]]] = {}
    clear: dict[int, str] = {}
    for i, token in tokens.items():
        try:
            kid, raw = _token_bytes(token, keyring, column, i)
            if len(raw) > BULK_UP_TO + NONCE_BYTES + TAG_BYTES:
                clear[i] = _decrypt_one(token, keyring, table, column, i)
                continue
        except FieldCryptError as exc:
            errors[i] = exc
            continue
        positions, raws = by_key.setdefault(kid, ([], []))
        positions.append(i)
        raws.append(raw)
    for kid, (positions, raws) in by_key.items():
        opened, bad = keyring.bulk(kid).open_(raws, aad(kid, table, column))
        for n in bad:
            errors[positions[n]] = _unauthentic(column, positions[n], kid, table)
        clear |= {i: _text(value, column, i) for i, value in zip(positions, opened) if value is not None}
    if errors:
        raise errors[min(errors)]
    return clear


_PURGED_FORM = re.compile(r"(?:[A-Za-z0-9_-]{1,32}:[0-9a-f]{64})?:(.*)", re.DOTALL)


def purged_shown(value: str) -> str:
    """What a purged value shows (transforms/common/purge.py): its masked form — `purged:<index>:370102********123X`
    shows 370102********123X (masking it again keeps it so); a bare `purged:` shows ''."""
    match = _PURGED_FORM.fullmatch(value[len(PURGED):])
    return match.group(1) if match else ""


def decrypt_column(values, keyring: Keyring, *, table: str, column: str):
    """Tokens back to clear values; NULL, '' and legacy clear values as they are; a purged value as its masked form
    (`purged_shown`: the clear value is gone). Only the delivery to the receiver that needs the clear value calls this
    — reports and files mask (transforms/common/mask.py); a replay refuses purged records (jobs/common/replay.py)."""
    items, back = _values(values)
    tokens = {i: v for i, v in enumerate(items) if isinstance(v, str) and v.startswith(PREFIX)}
    clear = _decrypt_tokens(tokens, keyring, table, column) if tokens else {}
    return back([clear[i] if i in clear else purged_shown(v) if isinstance(v, str) and v.startswith(PURGED) else v
                 for i, v in enumerate(items)])


_NOT_DIGIT = re.compile(r"\D+")
_BLANKS = re.compile(r"\s+")


def normalise_id(value: str) -> str:
    """An ID number for its index: blanks removed, a final x upper-cased."""
    return _BLANKS.sub("", value).upper()


def normalise_phone(value: str) -> str:
    """A phone for its index: digits only, a mobile's leading 86 country code dropped."""
    digits = _NOT_DIGIT.sub("", value)
    return digits[2:] if len(digits) == 13 and digits.startswith("861") else digits


NORMALISERS: dict[str, Callable[[str], str]] = {"id": normalise_id, "phone": normalise_phone, "text": str.strip}


def blind_index_column(values, keyring: Keyring, *, kind: str, column: str, key_id: str | None = None, table: str | None = None):
    """Each value's blind index under the active key (or `key_id`): `<key id>:<64 hex>`. Tokens are decrypted first
    (give `table`); NULL, '', purged values and values empty once normalised have no index (NULL)."""
    normalise = NORMALISERS.get(kind)
    if normalise is None:
        raise ValueError(f"blind index kind {kind!r}: one of {', '.join(NORMALISERS)}")
    kid = key_id or keyring.active
    if kid not in keyring.keys:
        raise FieldCryptError(f"column {column}: index key {kid!r} is not in the keyring")
    base = hmac.HMAC(keyring.keys[kid].index, hashes.SM3())
    items, back = _values(values)
    out = []
    for i, v in enumerate(items):
        if v is None or v == "" or (isinstance(v, str) and v.startswith(PURGED)):
            out.append(None)
            continue
        if isinstance(v, str) and v.startswith(PREFIX):
            if table is None:
                raise FieldCryptError(f"{_where(column, i)}: a token needs its table to be indexed")
            v = _decrypt_one(v, keyring, table, column, i)
        elif not isinstance(v, str):
            raise FieldCryptError(f"{_where(column, i)}: text expected, got {type(v).__name__}")
        text = normalise(v)
        if not text:  # nothing left to compare ('-' as a phone): no index, rather than one shared by all such values
            out.append(None)
            continue
        h = base.copy()
        h.update(text.encode())
        out.append(f"{kid}:{h.finalize().hex()}")
    return back(out)


def lookup_indexes(value: str, keyring: Keyring, *, kind: str) -> list[str]:
    """The blind indexes of one value under every key of the keyring: what a lookup matches with `IN (...)`, so rows
    not yet rotated to the active key are found too."""
    return [blind_index_column([value], keyring, kind=kind, column="lookup", key_id=kid)[0] for kid in sorted(keyring.keys)]


BYTES_PREFIX = PREFIX.encode()


def encrypt_bytes_column(values, keyring: Keyring, *, table: str, column: str) -> list:
    """Byte strings (a dead letter's payload, a value's original bytes) as the ASCII bytes of a token over their base64
    form; None stays None. Every value is taken as clear (what comes in is never trusted to be a token)."""
    items = list(values)
    clear = [None if v is None else base64.b64encode(bytes(v)).decode() for v in items]
    return [None if t is None else t.encode() for t in encrypt_column(clear, keyring, table=table, column=column, fresh=True)]


def decrypt_bytes(value, keyring: Keyring, *, table: str, column: str, position: int = 0):
    """One value written by `encrypt_bytes_column` back to its bytes; bytes written before encryption (legacy) as they
    are; None as None."""
    if value is None:
        return None
    data = bytes(value)
    if not data.startswith(BYTES_PREFIX):
        return data
    return base64.b64decode(_decrypt_one(data.decode("ascii"), keyring, table, column, position))


def rotate_bytes_column(values, keyring: Keyring, *, table: str, column: str) -> list:
    """Byte values brought under the active key (key rotation): a token under another key is decrypted and encrypted
    again, legacy clear bytes are encrypted; None, purged values and tokens under the active key are kept as they are.
    A clear legacy value that starts like a token fails to decrypt: FieldCryptError names its row."""
    out = list(values)
    active, purged = f"{PREFIX}{keyring.active}:".encode(), PURGED.encode()
    todo = []
    for i, v in enumerate(out):
        if v is None or bytes(v).startswith((active, purged)):
            continue
        todo.append((i, decrypt_bytes(v, keyring, table=table, column=column, position=i)))
    for (i, _), token in zip(todo, encrypt_bytes_column([clear for _, clear in todo], keyring, table=table, column=column), strict=True):
        out[i] = token
    return out

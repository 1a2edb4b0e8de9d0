"""Benchmark: field encryption (transforms/common/fieldcrypt.py) over BENCH_VALUES (default 1,000,000) ID numbers, against
two references measured in the same run on the same values:

- `aes_gcm`: AES-128-GCM through `cryptography`'s AEAD class (one key object reused, 12-byte nonce, the same AAD, the
  token text built the same way) — what the cost would be with the cheapest cipher object `cryptography` offers;
  SM4 has no AEAD class there, so each SM4 value builds a Cipher + encryptor (a fresh OpenSSL context and key schedule);
- `copy_loop`: a plain Python loop building each output string from its input (the floor of any per-value work).

The three run interleaved, BENCH_CHUNK (default 50,000) values at a time, so the ratios hold on a shared machine.

The last line printed is a JSON object: values, the µs per value of each, and the ratios encrypt/aes_gcm,
decrypt/aes_gcm_decrypt, encrypt/copy_loop. There is no pass/fail here: the numbers go to docs/security.md.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def aes_gcm_tokens(values: list[str], key: bytes, data: bytes) -> list[str]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, b64, nonces, out = AESGCM(key), base64.urlsafe_b64encode, os.urandom(12 * len(values)), []
    for i, v in enumerate(values):
        nonce = nonces[i * 12:(i + 1) * 12]
        out.append("aesg1:k1:" + b64(nonce + aead.encrypt(nonce, v.encode(), data)).rstrip(b"=").decode())
    return out


def aes_gcm_clear(tokens: list[str], key: bytes, data: bytes) -> list[str]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, out = AESGCM(key), []
    for t in tokens:
        body = t[9:]
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        out.append(aead.decrypt(raw[:12], raw[12:], data).decode())
    return out


def main() -> None:
    from transforms.common.fieldcrypt import Keyring, blind_index_column, decrypt_column, encrypt_column, new_key

    n = int(os.environ.get("BENCH_VALUES", "1000000"))
    values = [f"37010219{i % 100:02d}0101{i % 10_000_000:07d}"[:17] + "X" for i in range(n)]
    ring = Keyring([new_key("k1")], "k1")
    key, data = os.urandom(16), b"sm4g1|k1|t.zjhm"
    encrypt_column(values[:1000], ring, table="t", column="zjhm")  # warm-up
    # Interleaved in slices of CHUNK values, so that a machine shared with other work loads both sides alike.
    enc_s = dec_s = idx_s = aes_s = aes_dec_s = copy_s = 0.0
    chunk = int(os.environ.get("BENCH_CHUNK", "50000"))
    for start in range(0, n, chunk):
        part = values[start:start + chunk]
        tokens, t = _timed(encrypt_column, part, ring, table="t", column="zjhm")
        enc_s += t
        clear, t = _timed(decrypt_column, tokens, ring, table="t", column="zjhm")
        dec_s += t
        assert clear == part
        idx_s += _timed(blind_index_column, part, ring, kind="id", column="zjhm")[1]
        aes, t = _timed(aes_gcm_tokens, part, key, data)
        aes_s += t
        aes_dec_s += _timed(aes_gcm_clear, aes, key, data)[1]
        copy_s += _timed(lambda vs: ["x" + v for v in vs], part)[1]
    us = 1e6 / n
    print(json.dumps({
        "values": n, "encrypt_us": round(enc_s * us, 2), "decrypt_us": round(dec_s * us, 2), "blind_index_us": round(idx_s * us, 2),
        "aes_gcm_encrypt_us": round(aes_s * us, 2), "aes_gcm_decrypt_us": round(aes_dec_s * us, 2), "copy_loop_us": round(copy_s * us, 3),
        "encrypt_over_aes_gcm": round(enc_s / aes_s, 2), "decrypt_over_aes_gcm": round(dec_s / aes_dec_s, 2),
        "encrypt_over_copy_loop": round(enc_s / copy_s, 1),
    }))


if __name__ == "__main__":
    main()

"""SM4-GCM over a column of values at once (issue 18): the same tokens, byte for byte, as `cryptography`'s SM4-GCM one
value at a time, at a fraction of the cost.

Why: `cryptography` has no AEAD class for SM4, so each value needs a cipher context of its own (≈ 18 µs, most of it
making the context: docs/security.md, "Cost"); six values a record made encryption the extraction's limit. GCM (NIST
SP 800-38D) is CTR encryption plus a GHASH tag; here

- the cipher is still OpenSSL's SM4 through `cryptography`: one ECB context per column encrypts every counter block of
  every value in one call (the counter blocks, J0 and the hash key H = E_K(0^128) are what GCM itself encrypts);
- GHASH (multiplication by H in GF(2^128), GCM's bit order) runs over all values of a length class in numpy, with
  per-key tables of the 16 × 256 products of H by each byte in each position (Shoup's 8-bit tables);
- the AAD, the same for a whole column, is hashed once.

tests/unit/transforms/common/test_sm4gcm.py holds every output equal to `cryptography`'s for random keys, nonces, AADs
and lengths 0–100 bytes (Hypothesis), and each side decrypting the other's tokens. Table lookups indexed by secret
data are a known cache-timing side channel on a machine shared with an attacker's code (they could learn H and forge
tags — not read values); the gateway's workers run only the gateway (docs/security.md).

Pure: no I/O; the nonces are given.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
_R = 0xE1 << 120  # GCM's reduction polynomial, in its reflected bit order
_MASK64 = (1 << 64) - 1


class BulkGCM:
    """One SM4 key's GCM over many values: `seal` and `open_` work on lists of equal-length-class values together."""

    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.SM4(key), modes.ECB())
        h = int.from_bytes(self._ecb(b"\0" * BLOCK), "big")
        basis, v = [], h  # H·x^i for i = 0..127: the product of H by each single bit of a block
        for _ in range(128):
            basis.append(v)
            v = (v >> 1) ^ _R if v & 1 else v >> 1
        hi, lo = np.zeros((BLOCK, 256), np.uint64), np.zeros((BLOCK, 256), np.uint64)
        values = np.arange(256)
        for j in range(BLOCK):  # byte j of a block: bits 8j..8j+7, its most significant bit first
            for k in range(8):
                e = basis[8 * j + k]
                has = (values >> (7 - k)) & 1 == 1
                hi[j, has] ^= np.uint64(e >> 64)
                lo[j, has] ^= np.uint64(e & _MASK64)
        self._hi, self._lo = hi, lo
        self._aad: dict[bytes, np.ndarray] = {}

    def _ecb(self, data: bytes) -> bytes:
        enc = self._cipher.encryptor()
        return enc.update(data) + enc.finalize()

    def _times_h(self, y: np.ndarray) -> np.ndarray:
        """Each row (a 16-byte block) times H in GF(2^128)."""
        hi = self._hi[0][y[:, 0]]
        lo = self._lo[0][y[:, 0]]
        for j in range(1, BLOCK):
            column = y[:, j]
            hi ^= self._hi[j][column]
            lo ^= self._lo[j][column]
        return np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8).reshape(len(y), BLOCK)

    def _aad_state(self, aad: bytes) -> np.ndarray:
        state = self._aad.get(aad)
        if state is None:
            padded = np.frombuffer(aad + b"\0" * (-len(aad) % BLOCK), np.uint8).reshape(-1, BLOCK)
            state = np.zeros((1, BLOCK), np.uint8)
            for block in padded:
                state = self._times_h(state ^ block)
            self._aad[aad] = state
        return state

    def _stream(self, nonces: np.ndarray, blocks: int) -> tuple[np.ndarray, np.ndarray]:
        """For n nonces: E_K(J0) (n, 16), which masks the tag, and the keystream (n, blocks*16) — one ECB call."""
        n = len(nonces)
        counters = np.zeros((n, blocks + 1, BLOCK), np.uint8)
        counters[:, :, :12] = nonces[:, None, :]
        counters[:, :, 12:] = np.arange(1, blocks + 2, dtype=">u4").view(np.uint8).reshape(blocks + 1, 4)
        stream = np.frombuffer(self._ecb(counters.tobytes()), np.uint8).reshape(n, blocks + 1, BLOCK)
        return stream[:, 0, :], stream[:, 1:, :].reshape(n, blocks * BLOCK)

    def _ghash(self, body: np.ndarray, lengths: np.ndarray, blocks: int, aad: bytes) -> np.ndarray:
        """GHASH_H(aad, ciphertext) of each row of `body` (n, blocks*16; zero past each length)."""
        n = len(body)
        y = np.repeat(self._aad_state(aad), n, axis=0)
        for k in range(blocks):
            y = self._times_h(y ^ body[:, k * BLOCK:(k + 1) * BLOCK])
        lengths_block = np.zeros((n, 2), ">u8")
        lengths_block[:, 0] = len(aad) * 8
        lengths_block[:, 1] = lengths * 8
        return self._times_h(y ^ lengths_block.view(np.uint8).reshape(n, BLOCK))

    def seal(self, clear: list[bytes], nonces: bytes, aad: bytes) -> list[bytes]:
        """nonce (12) || ciphertext || tag (16) for each value, the i-th nonce being nonces[12i:12i+12]."""
        out: list[bytes] = [b""] * len(clear)
        all_nonces = np.frombuffer(nonces, np.uint8).reshape(-1, 12)
        for rows, blocks, lengths, flat in _classes(clear):
            nonce = all_nonces[rows]
            mask, stream = self._stream(nonce, blocks)
            body = _padded(flat, lengths, blocks) ^ stream
            body[np.arange(blocks * BLOCK)[None, :] >= lengths[:, None]] = 0
            tags = self._ghash(body, lengths, blocks, aad) ^ mask
            width = 12 + blocks * BLOCK + BLOCK
            whole = np.concatenate([nonce, body, tags], axis=1).tobytes()
            for i, row in enumerate(rows):
                start = i * width
                out[row] = whole[start:start + 12 + int(lengths[i])] + whole[start + width - BLOCK:start + width]
        return out

    def open_(self, sealed: list[bytes], aad: bytes) -> tuple[list[bytes | None], list[int]]:
        """The clear bytes of each nonce || ciphertext || tag (at least 28 bytes each), and the positions whose tag does not
        authenticate (their clear value None)."""
        out: list[bytes | None] = [None] * len(sealed)
        bad: list[int] = []
        for rows, blocks, lengths, flat in _classes([s[12:-BLOCK] for s in sealed]):
            n = len(rows)
            nonces = np.frombuffer(b"".join(sealed[r][:12] for r in rows), np.uint8).reshape(n, 12)
            given = np.frombuffer(b"".join(sealed[r][-BLOCK:] for r in rows), np.uint8).reshape(n, BLOCK)
            body = _padded(flat, lengths, blocks)
            mask, stream = self._stream(nonces, blocks)
            ok = ((self._ghash(body, lengths, blocks, aad) ^ mask) == given).all(axis=1)
            clear = (body ^ stream).tobytes()
            width = blocks * BLOCK
            for i, row in enumerate(rows):
                if ok[i]:
                    out[row] = clear[i * width:i * width + int(lengths[i])]
                else:
                    bad.append(row)
        return out, sorted(bad)


def _classes(values: list[bytes]):
    """The values by block count: (positions, blocks, lengths, their bytes end to end) for each class."""
    lengths = np.fromiter((len(v) for v in values), np.int64, len(values))
    blocks = (lengths + BLOCK - 1) // BLOCK
    for b in np.unique(blocks):
        rows = np.flatnonzero(blocks == b)
        yield rows.tolist(), int(b), lengths[rows], b"".join(values[r] for r in rows)


def _padded(flat: bytes, lengths: np.ndarray, blocks: int) -> np.ndarray:
    """Values given end to end as rows of `blocks` blocks, zero-padded."""
    n = len(lengths)
    out = np.zeros((n, blocks * BLOCK), np.uint8)
    if blocks and len(flat):
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        row = np.repeat(np.arange(n), lengths)
        column = np.arange(len(flat)) - np.repeat(starts, lengths)
        out[row, column] = np.frombuffer(flat, np.uint8)
    return out

"""SM4-GCM a column at a time (transforms/common/sm4gcm.py) against `cryptography`'s SM4-GCM one value at a time: the same
bytes for any key, nonce, AAD and length; each opens the other's; a changed bit anywhere fails only its own value; and
fieldcrypt's columns (which take the bulk path from BULK_FROM values) give the same answers and errors as value by value."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.common import fieldcrypt
from transforms.common.fieldcrypt import BULK_FROM, FieldCryptError, FieldKey, Keyring, decrypt_column, encrypt_column
from transforms.common.sm4gcm import BulkGCM


def _reference_seal(key: bytes, nonce: bytes, clear: bytes, aad: bytes) -> bytes:
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    return nonce + enc.update(clear) + enc.finalize() + enc.tag


def _reference_open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    dec = Cipher(algorithms.SM4(key), modes.GCM(sealed[:12], sealed[-16:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(sealed[12:-16]) + dec.finalize()


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), aad=st.binary(max_size=70),
       values=st.lists(st.binary(max_size=100), min_size=1, max_size=40), data=st.data())
def test_the_same_bytes_as_one_value_at_a_time_and_each_opens_the_others(key, aad, values, data):
    nonces = data.draw(st.binary(min_size=12 * len(values), max_size=12 * len(values)))
    gcm = BulkGCM(key)
    sealed = gcm.seal(values, nonces, aad)
    assert sealed == [_reference_seal(key, nonces[12 * i:12 * i + 12], v, aad) for i, v in enumerate(values)]
    assert gcm.open_(sealed, aad) == (values, [])
    assert [_reference_open(key, s, aad) for s in sealed] == values


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.binary(max_size=60), min_size=2, max_size=20), data=st.data())
def test_a_changed_bit_fails_its_own_value_only(values, data):
    key, aad = os.urandom(16), b"sm4g1|k1|t.c"
    gcm = BulkGCM(key)
    sealed = gcm.seal(values, os.urandom(12 * len(values)), aad)
    victim = data.draw(st.integers(0, len(values) - 1))
    bit = data.draw(st.integers(0, len(sealed[victim]) * 8 - 1))
    altered = bytearray(sealed[victim])
    altered[bit // 8] ^= 1 << (bit % 8)
    opened, bad = gcm.open_([*sealed[:victim], bytes(altered), *sealed[victim + 1:]], aad)
    assert bad == [victim] and opened[victim] is None
    assert [v for i, v in enumerate(opened) if i != victim] == [v for i, v in enumerate(values) if i != victim]
    with pytest.raises(InvalidTag):
        _reference_open(key, bytes(altered), aad)
    assert gcm.open_(sealed, aad + b"x")[1] == list(range(len(values)))  # another AAD (another column): none opens


@pytest.fixture
def ring() -> Keyring:
    return Keyring([FieldKey("k1", b"\x01" * 16, b"\x02" * 32), FieldKey("k2", b"\x03" * 16, b"\x04" * 32)], "k2")


def test_a_column_takes_the_bulk_path_and_reads_as_value_by_value(ring, monkeypatch):
    values = [f"3701021990010{i:05d}" if i % 3 else "张三丰" if i % 2 else "" for i in range(3 * BULK_FROM)] + [None]
    used = []
    real = ring.bulk
    monkeypatch.setattr(ring, "bulk", lambda kid: used.append(kid) or real(kid))
    tokens = encrypt_column(values, ring, table="received_record", column="zrfzjhm")
    assert used == ["k2"]
    # each token is the reference's for its nonce: value by value decrypts it, and the bulk decrypts value-by-value tokens
    assert [fieldcrypt._decrypt_one(t, ring, "received_record", "zrfzjhm", i) if t else t for i, t in enumerate(tokens)] == values
    one_by_one = [fieldcrypt._seal_one(ring._sm4["k2"], os.urandom(12), v.encode(), fieldcrypt.aad("k2", "received_record", "zrfzjhm"))
                  if v else v for v in values]
    as_tokens = [f"sm4g1:k2:{base64.urlsafe_b64encode(s).rstrip(b'=').decode()}" if s else s for s in one_by_one]
    assert decrypt_column(as_tokens, ring, table="received_record", column="zrfzjhm") == values
    assert decrypt_column(tokens, ring, table="received_record", column="zrfzjhm") == values
    assert used.count("k2") == 3


def test_a_column_under_two_keys_and_its_errors_at_the_first_failing_row(ring):
    old = Keyring(list(ring.keys.values()), "k1")
    values = [f"1380000{i:04d}" for i in range(2 * BULK_FROM)]
    mixed = encrypt_column(values[:BULK_FROM], old, table="t", column="phone") + encrypt_column(values[BULK_FROM:], ring, table="t", column="phone")
    assert decrypt_column(mixed, ring, table="t", column="phone") == values
    assert encrypt_column(mixed, ring, table="t", column="phone")[BULK_FROM:] == mixed[BULK_FROM:]  # the active key's kept
    with pytest.raises(FieldCryptError, match="column other row 0: token does not authenticate"):
        decrypt_column(mixed, ring, table="t", column="other")
    broken = list(mixed)
    broken[BULK_FROM + 3] = broken[BULK_FROM + 3][:-2] + ("A" if broken[BULK_FROM + 3][-2] != "A" else "B") + broken[BULK_FROM + 3][-1]
    broken[BULK_FROM + 7] = "sm4g1:k9:AAAA"
    with pytest.raises(FieldCryptError, match=f"row {BULK_FROM + 3}: token does not authenticate") as caught:
        decrypt_column(broken, ring, table="t", column="phone")
    assert "1380000" not in str(caught.value)  # never the value
    broken[BULK_FROM + 1] = "sm4g1:k2"
    with pytest.raises(FieldCryptError, match=f"row {BULK_FROM + 1}: malformed sm4g1 token"):
        decrypt_column(broken, ring, table="t", column="phone")


def test_long_values_go_through_a_context_of_their_own(ring, monkeypatch):
    """A dead letter's payload can be a megabyte: GHASH a block at a time in numpy is slow for a few long values of
    different lengths, so values over BULK_UP_TO bytes take one cipher context each, in either direction."""
    from transforms.common.fieldcrypt import BULK_UP_TO

    values = [f"1380000{i:04d}" for i in range(BULK_FROM)] + ["长" * (BULK_UP_TO // 3 + n) for n in (1, 50, 3000)]
    lengths = []
    gcm = ring.bulk("k2")

    class Spy:
        def seal(self, clear, nonces, aad):
            lengths.extend(len(v) for v in clear)
            return gcm.seal(clear, nonces, aad)

        def open_(self, sealed, aad):
            lengths.extend(len(s) - 28 for s in sealed)
            return gcm.open_(sealed, aad)

    monkeypatch.setattr(ring, "bulk", lambda kid: Spy())
    tokens = encrypt_column(values, ring, table="dead_letter", column="payload")
    assert decrypt_column(tokens, ring, table="dead_letter", column="payload") == values
    assert len(lengths) == 2 * BULK_FROM and max(lengths) <= BULK_UP_TO

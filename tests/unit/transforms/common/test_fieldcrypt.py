"""SM4-GCM tokens and SM3 blind indexes (transforms/common/fieldcrypt.py): round trip, tampering, AAD, keys, NULL/''."""

from __future__ import annotations

import base64

import pandas as pd
import pyarrow as pa
import pytest

from transforms.common.fieldcrypt import (
    PURGED,
    FieldCryptError,
    FieldKey,
    Keyring,
    blind_index_column,
    decrypt_column,
    encrypt_column,
    key_id_of,
    kind_of,
    lookup_indexes,
    new_key,
)

ID = "370102199001011234"
ID_X = "37010219900101123X"
PHONE = "13800000000"


@pytest.fixture
def ring() -> Keyring:
    return Keyring([FieldKey("k1", b"\x01" * 16, b"\x02" * 32), FieldKey("k2", b"\x03" * 16, b"\x04" * 32)], "k2")


def test_round_trip_keeps_null_and_empty_and_types(ring):
    values = pd.Series([ID, PHONE, None, "", "张三"], index=[10, 11, 12, 13, 14], name="zrfzjhm")
    tokens = encrypt_column(values, ring, table="t", column="zrfzjhm")
    assert list(tokens.index) == [10, 11, 12, 13, 14] and tokens.name == "zrfzjhm"
    assert tokens[12] is None and tokens[13] == ""
    assert all(kind_of(t) == "token" and key_id_of(t) == "k2" for t in tokens[[10, 11, 14]])
    assert not any(ID in t or PHONE in t for t in tokens[[10, 11]])
    assert decrypt_column(tokens, ring, table="t", column="zrfzjhm").tolist() == [ID, PHONE, None, "", "张三"]


def test_pyarrow_arrays_round_trip(ring):
    tokens = encrypt_column(pa.array([ID, None, ""]), ring, table="t", column="c")
    assert isinstance(tokens, pa.Array) and tokens.null_count == 1
    assert decrypt_column(tokens, ring, table="t", column="c").to_pylist() == [ID, None, ""]


def test_the_same_value_encrypts_differently_each_time(ring):
    a, b = encrypt_column([ID, ID], ring, table="t", column="c")
    assert a != b


def test_a_tampered_token_fails_naming_column_and_row_not_the_value(ring):
    token = encrypt_column([ID], ring, table="t", column="zrfzjhm")[0]
    head, body = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[14] ^= 1  # a bit of the ciphertext
    bad = head + ":" + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(FieldCryptError, match=r"column zrfzjhm row 1: token does not authenticate") as err:
        decrypt_column([None, bad], ring, table="t", column="zrfzjhm")
    assert ID not in str(err.value) and body not in str(err.value)


def test_a_token_copied_into_another_column_or_table_fails(ring):
    token = encrypt_column([ID], ring, table="t", column="zrfzjhm")[0]
    with pytest.raises(FieldCryptError, match="column zcfzjhm row 0"):
        decrypt_column([token], ring, table="t", column="zcfzjhm")
    with pytest.raises(FieldCryptError, match="written for another column"):
        decrypt_column([token], ring, table="other", column="zrfzjhm")


def test_a_token_whose_key_id_was_swapped_fails(ring):
    token = encrypt_column([ID], ring, table="t", column="c")[0]
    with pytest.raises(FieldCryptError, match="under key 'k1'"):
        decrypt_column([token.replace(":k2:", ":k1:")], ring, table="t", column="c")


def test_an_unknown_key_id_is_named(ring):
    other = Keyring([new_key("k9")], "k9")
    token = encrypt_column([ID], other, table="t", column="c")[0]
    with pytest.raises(FieldCryptError, match=r"column c row 0: token under key 'k9', which the keyring does not hold"):
        decrypt_column([token], ring, table="t", column="c")


@pytest.mark.parametrize("bad", ["sm4g1:k2", "sm4g1:k2:!!!", "sm4g1:k2:AAAA"])
def test_malformed_tokens_fail_cleanly(ring, bad):
    with pytest.raises(FieldCryptError, match="column c row 0: malformed"):
        decrypt_column([bad], ring, table="t", column="c")


def test_legacy_clear_values_pass_decrypt_purged_ones_show_their_masked_form_and_purged_is_never_encrypted(ring):
    shown = PURGED + "k1:" + "0" * 64 + ":370102********123X"
    assert decrypt_column([ID, PURGED, shown, PURGED + ":张*"], ring, table="t", column="c") == [ID, "", "370102********123X", "张*"]
    assert encrypt_column([PURGED], ring, table="t", column="c") == [PURGED]
    assert [kind_of(v) for v in (None, "", PURGED, ID)] == ["null", "empty", "purged", "clear"]


def test_encrypt_keeps_active_tokens_and_re_encrypts_old_ones(ring):
    old = Keyring([ring.keys["k1"]], "k1")
    under_k1 = encrypt_column([ID], old, table="t", column="c")[0]
    under_k2 = encrypt_column([PHONE], ring, table="t", column="c")[0]
    again = encrypt_column([under_k1, under_k2], ring, table="t", column="c")
    assert key_id_of(again[0]) == "k2" and again[1] == under_k2
    assert decrypt_column(again, ring, table="t", column="c") == [ID, PHONE]


def test_encrypt_refuses_a_non_text_value_by_position(ring):
    with pytest.raises(FieldCryptError, match="column c row 1: text expected, got int"):
        encrypt_column([ID, 12345], ring, table="t", column="c")


def test_blind_index_is_stable_normalised_and_keyed(ring):
    ids = blind_index_column([ID_X, " 37010219900101123x ", ID, None, "", PURGED], ring, kind="id", column="c")
    assert ids[0] == ids[1] != ids[2] and ids[3:] == [None, None, None]
    assert ids[0].startswith("k2:") and len(ids[0]) == 3 + 64
    assert blind_index_column([ID_X], ring, kind="id", column="c") == ids[:1]  # stable
    under_k1 = blind_index_column([ID_X], ring, kind="id", column="c", key_id="k1")[0]
    assert under_k1.startswith("k1:") and under_k1[3:] != ids[0][3:]  # another key, another index
    same_bytes = Keyring([FieldKey("k2", b"\x03" * 16, b"\x05" * 32)], "k2")
    assert blind_index_column([ID_X], same_bytes, kind="id", column="c")[0] != ids[0]  # the index key is what counts


def test_phone_index_ignores_punctuation_and_country_code(ring):
    idx = blind_index_column(["+86 138-0000-0000", "8613800000000", PHONE, "0531-88888888"], ring, kind="phone", column="c")
    assert idx[0] == idx[1] == idx[2] != idx[3]
    assert blind_index_column(["-", " "], ring, kind="phone", column="c") == [None, None]  # nothing to compare: no shared index


def test_blind_index_of_a_token_is_that_of_its_clear_value(ring):
    token = encrypt_column([ID_X], ring, table="t", column="c")[0]
    assert blind_index_column([token], ring, kind="id", column="c", table="t") == blind_index_column([ID_X], ring, kind="id", column="c")
    with pytest.raises(FieldCryptError, match="needs its table"):
        blind_index_column([token], ring, kind="id", column="c")


def test_lookup_indexes_cover_every_key(ring):
    found = lookup_indexes(ID, ring, kind="id")
    assert found == [blind_index_column([ID], ring, kind="id", column="c", key_id=k)[0] for k in ("k1", "k2")]


def test_keyring_json_round_trip_and_refusals(ring):
    again = Keyring.from_json(ring.to_json())
    assert again.active == "k2" and again.keys == ring.keys
    assert "\\x01" not in repr(again) and "k1" in repr(again)
    with pytest.raises(ValueError, match="active key 'k3' is not among"):
        Keyring(ring.keys.values(), "k3")
    with pytest.raises(ValueError, match="expected"):
        Keyring.from_json({"active": "k1", "keys": {"k1": {"sm4": "not base64!"}}})
    with pytest.raises(ValueError, match="16 bytes"):
        FieldKey("k1", b"short", b"\x00" * 32)
    with pytest.raises(ValueError, match="key id"):
        FieldKey("k:1", b"\x00" * 16, b"\x00" * 32)
    rotated = ring.with_new_key("k3")
    assert rotated.active == "k3" and set(rotated.keys) == {"k1", "k2", "k3"}


def test_nan_and_chunked_arrays_are_nulls(ring):
    import numpy as np

    tokens = encrypt_column(pd.Series([ID, np.nan]), ring, table="t", column="c")
    assert tokens[1] is None and kind_of(np.nan) == "null"
    chunked = pa.chunked_array([[ID], [None, PHONE]])
    back = decrypt_column(encrypt_column(chunked, ring, table="t", column="c"), ring, table="t", column="c")
    assert back.to_pylist() == [ID, None, PHONE]


def test_an_index_key_the_keyring_does_not_hold_is_named(ring):
    with pytest.raises(FieldCryptError, match="column c: index key 'k7' is not in the keyring"):
        blind_index_column([ID], ring, kind="id", column="c", key_id="k7")
    with pytest.raises(ValueError, match="blind index kind 'email'"):
        blind_index_column([ID], ring, kind="email", column="c")
